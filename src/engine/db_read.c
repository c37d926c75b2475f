/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_read.c — point lookups and scans (SPEC §7).
 *
 * Both pin the current view (memtables + files) for their whole duration,
 * and read at one sequence number: the snapshot's, or the visible one when
 * the read starts. A get stops at the first source holding a version of
 * the key (memtable, immutable memtables newest first, L0 newest first,
 * then one file per deeper level); each file is skipped by key range and
 * bloom filter before any data page is read.
 *
 * Schemas: a read returns rows of its view's schema (db_schema.c); `out`
 * rows and bounds may be of an older schema of the table. Values are
 * decoded with MERU_ROWCODEC_SKIP_UNKNOWN, so a read under an older schema
 * than a concurrent writer's gets the columns it knows.
 *
 * A scan merges iterators over every source (merge.h) and keeps the newest
 * visible version per key (dbiter.h); the projection is pushed down into
 * the SST iterators so unread columns are never decoded. Each level >= 1
 * is one source (its files concatenated, opened as the scan reaches them,
 * so an error opening one shows at meru_iter_next), empty memtables are no
 * source, and a merge of one source is that source: a compacted table is
 * read without a heap. Rows from an SST reach the meru_row as values
 * straight from its column batches, without the rowcodec round trip.
 *
 * The row cache holds a file's newest version of a key (its answer for
 * reads at or above the file's newest sequence), keyed by the file's
 * cache id and the key, so a newer write, in a memtable or a newer file,
 * is found before it. Once the row cache is full an answer is stored on
 * the key's second miss only (cache/admit.h): one-off keys cost a 4-byte
 * mark, not an entry.
 *
 * Per-read options (meru_read_options, and the same two fields of
 * meru_scan_options) become the SST layer's read flags: fill_cache = 0 is
 * MERU_SST_NO_FILL_CACHE (nothing added to the page/block cache or the row
 * cache), verify_checksums = 0 is MERU_SST_SKIP_CRC (and adds nothing to
 * the row cache, as the SST layer keeps such pages out of its cache).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/dbiter.h"
#include "engine/merge.h"
#include "engine/options.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "types/rowcodec.h"
#include "util/error.h"

static uint64_t read_seq(meru_db *db, const meru_snapshot *snap)
{
    if (snap)
        return snap->seq;
    return atomic_load_explicit(&db->visible_seq, memory_order_acquire);
}

static int check_snapshot(meru_db *db, const meru_snapshot *snap)
{
    if (snap && snap->db != db)
        return meru_err(MERU_EINVAL, "the snapshot belongs to another table "
                                     "handle");
    return MERU_OK;
}

/* -------------------------------------------------------------------- get */

/* Threads take slots 1, 2, ... in the order of their first get; slot % N
 * picks their counter block, so two threads share one only past N. */
static atomic_uint next_get_slot;
static _Thread_local unsigned my_get_slot;

unsigned meru_db_thread_slot(void)
{
    if (!my_get_slot)
        my_get_slot = atomic_fetch_add_explicit(&next_get_slot, 1,
                                                memory_order_relaxed) + 1;
    return my_get_slot;
}

meru_db_get_stats *meru_db_my_get_stats(meru_db *db)
{
    return &db->get_stats[meru_db_thread_slot() % MERU_DB_GET_STAT_SLOTS];
}

/* Files of level >= 1 do not overlap and are sorted by smallest key: the
 * only candidate is the first whose largest key is >= key. */
static meru_db_file *level_candidate(meru_view *v, int level,
                                     const uint8_t *key, size_t klen)
{
    size_t lo = v->level_start[level], hi = v->level_start[level + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const meru_catalog_file *m = &v->files[mid]->meta;
        if (meru_ikey_cmp(m->largest, m->largest_len, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == v->level_start[level + 1])
        return NULL;
    return v->files[lo];
}

static bool in_range(const meru_catalog_file *m, const uint8_t *key,
                     size_t klen)
{
    return meru_ikey_cmp(m->smallest, m->smallest_len, key, klen) <= 0 &&
           meru_ikey_cmp(m->largest, m->largest_len, key, klen) >= 0;
}

/* Row cache entry: the newest version of a key in one (immutable) file. */
typedef struct row_entry {
    int state;
    size_t vlen;
    uint8_t value[];
} row_entry;

/* Charged per row cache entry beside its key and value bytes: the
 * cache's own entry (links, hash, refs) and two allocations' headers. */
#define ROW_ENTRY_OVERHEAD 96

static void row_entry_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

/* What a row cache entry of bench_kv's shape (a ~130-byte value, a
 * 17-byte key) is charged: sizes the doorkeeper, four marks per entry. */
#define ROW_ENTRY_TYPICAL 256

int meru_db_row_cache_open(meru_db *db, size_t bytes)
{
    int rc;
    db->row_cache = NULL;
    db->row_admit = NULL;
    if (!bytes)
        return MERU_OK;
    if ((rc = meru_admit_new(&db->row_admit,
                             meru_admit_slots_for(bytes, ROW_ENTRY_TYPICAL))))
        return rc;
    /* The marks are part of the row cache's budget (4 bytes a mark, 1/16
     * of it), unless the budget is smaller than the smallest table. */
    size_t marks = meru_admit_bytes(db->row_admit);
    if ((rc = meru_cache_new(&db->row_cache,
                             bytes > 2 * marks ? bytes - marks : bytes))) {
        meru_admit_free(db->row_admit);
        db->row_admit = NULL;
    }
    return rc;
}

/* Cache key: the file's id, then the user key; in `stack` when it fits
 * (a get allocates nothing for it), else in `heap`. */
#define ROW_KEY_STACK 128
static int row_cache_key(const meru_db_file *f, const uint8_t *key, size_t klen,
                         uint8_t stack[ROW_KEY_STACK], meru_buf *heap,
                         const uint8_t **ck, size_t *cklen)
{
    *cklen = sizeof f->cache_id + klen;
    if (*cklen <= ROW_KEY_STACK) {
        memcpy(stack, &f->cache_id, sizeof f->cache_id);
        memcpy(stack + sizeof f->cache_id, key, klen);
        *ck = stack;
        return MERU_OK;
    }
    heap->len = 0;
    if (meru_buf_append(heap, &f->cache_id, sizeof f->cache_id) ||
        meru_buf_append(heap, key, klen))
        return meru_err(MERU_ENOMEM, "out of memory (row cache)");
    *ck = heap->data;
    return MERU_OK;
}

/* Whether a row read from a file is stored in the row cache: always while
 * the key's shard has room, then on the key's second miss. */
static bool admit_row(meru_db *db, const uint8_t *ck, size_t cklen)
{
    uint64_t h = meru_cache_hash(ck, cklen);
    if (!meru_cache_filled(db->row_cache, h))
        return true;
    return meru_admit_check(db->row_admit, h);
}

/* Looks key up in one file: *state as meru_sst_get's. The row cache
 * serves and stores answers only for reads at or above the file's newest
 * sequence, where "the newest version in this file" is the exact answer
 * whatever the read sequence. */
static int get_file(meru_db *db, meru_db_file *f, meru_sst_key *sk,
                    uint64_t seq, meru_sst_state *state, meru_buf *value)
{
    const uint8_t *key = sk->ukey;
    size_t klen = sk->klen;
    meru_sst *t;
    meru_sst_read_stats st = {0, 0, 0};
    meru_buf ck_heap = {0};
    uint8_t ck_stack[ROW_KEY_STACK];
    const uint8_t *ck = NULL;
    size_t cklen = 0;
    bool use_rc = db->row_cache && seq >= f->meta.max_seq;
    /* As for pages: an answer read without its CRC checked is never
     * served to a later read that checks. */
    bool fill = !(sk->flags & (MERU_SST_NO_FILL_CACHE | MERU_SST_SKIP_CRC));
    int rc;
    *state = MERU_SST_NOT_FOUND;
    /* A suspect file's key range is unknown: it may hold any key. */
    if (meru_db_file_suspect(f))
        return meru_db_file_sst(f, &t);
    if (!in_range(&f->meta, key, klen) || f->meta.min_seq > seq)
        return MERU_OK;
    if (use_rc) {
        meru_cache_handle *h;
        if ((rc = row_cache_key(f, key, klen, ck_stack, &ck_heap, &ck,
                                &cklen)))
            return rc;
        if ((h = meru_cache_lookup(db->row_cache, ck, cklen))) {
            const row_entry *e = meru_cache_value(h);
            *state = (meru_sst_state)e->state;
            value->len = 0;
            rc = e->vlen ? meru_buf_append(value, e->value, e->vlen) : 0;
            meru_cache_release(db->row_cache, h);
            meru_buf_free(&ck_heap);
            atomic_fetch_add_explicit(&meru_db_my_get_stats(db)->row_hits, 1,
                                      memory_order_relaxed);
            return rc ? meru_err(MERU_ENOMEM, "out of memory") : MERU_OK;
        }
        atomic_fetch_add_explicit(&meru_db_my_get_stats(db)->row_misses, 1,
                                  memory_order_relaxed);
    }
    if ((rc = meru_db_file_sst(f, &t)) == MERU_OK)
        rc = meru_sst_get_key(t, sk, seq, state, NULL, value, &st);
    if (st.bloom_checks)
        atomic_fetch_add_explicit(&meru_db_my_get_stats(db)->bloom_checks,
                                  st.bloom_checks, memory_order_relaxed);
    if (st.bloom_negatives)
        atomic_fetch_add_explicit(&meru_db_my_get_stats(db)->bloom_negatives,
                                  st.bloom_negatives, memory_order_relaxed);
    /* Only what the file holds is stored: "not here" is what most probes
     * of a get answer (every file but one, and every file for an absent
     * key), the filters answer it for a cache line or two, and storing it
     * would cost each such probe an allocation and an insert and fill the
     * cache with entries that save nothing (readmissing ran at ~0.4x). */
    /* And, once the row cache is full, only on the key's second miss
     * (admit.h): with uniformly spread keys almost no answer is asked for
     * again before it is evicted, and storing each cost a malloc, the
     * shard's write lock, an eviction and a free (often of another
     * thread's entry) per get. Until it is full a row takes no other's
     * place, and a cold cache fills as fast as before (the first 40k
     * zipfian gets of bench_get cost ~2 % more when it did not). */
    if (rc == MERU_OK && use_rc && fill && *state != MERU_SST_NOT_FOUND &&
        admit_row(db, ck, cklen)) {
        size_t vlen = *state == MERU_SST_FOUND ? value->len : 0;
        row_entry *e = malloc(sizeof *e + vlen);
        meru_cache_handle *h = NULL;
        if (e) {
            e->state = (int)*state;
            e->vlen = vlen;
            if (vlen)
                memcpy(e->value, value->data, vlen);
            if (meru_cache_insert(db->row_cache, ck, cklen, e,
                                  ROW_ENTRY_OVERHEAD + sizeof *e + vlen + cklen,
                                  row_entry_free,
                                  &h) == MERU_OK)
                meru_cache_release(db->row_cache, h);
            else
                free(e);
        }
    }
    meru_buf_free(&ck_heap);
    return rc;
}

/* Decodes a stored value into `out`: under the view's schema when `out`
 * is a row of it, else under out's own (an older or newer schema of the
 * table: its columns are the view's first ones, or the view's are its). */
static int decode_into(const meru_schema *vs, const uint8_t *key, size_t klen,
                       const uint8_t *value, size_t vlen, meru_row *out)
{
    const meru_schema *s = out->ncols == vs->ncols ? vs : out->schema;
    return meru_row_decode_ex(s, key, klen, value, vlen, out,
                              MERU_ROWCODEC_SKIP_UNKNOWN);
}

/* The newest version of sk's key at or below seq in v's files. */
static int files_lookup(meru_db *db, meru_view *v, meru_sst_key *sk,
                        uint64_t seq, meru_sst_state *state, meru_buf *value)
{
    int rc;
    *state = MERU_SST_NOT_FOUND;
    /* L0, newest first (overlapping), then one candidate per level. */
    for (size_t i = v->level_start[0]; i < v->level_start[1]; i++) {
        if ((rc = get_file(db, v->files[i], sk, seq, state, value)))
            return rc;
        if (*state != MERU_SST_NOT_FOUND)
            return MERU_OK;
    }
    for (int level = 1; level < MERU_CATALOG_MAX_LEVELS; level++) {
        meru_db_file *f;
        if (v->level_start[level] == v->nfiles)
            break;
        if (atomic_load_explicit(&db->nsuspect, memory_order_relaxed) &&
            meru_db_level_suspect(v, level)) {
            /* the level's key ranges cannot be trusted to pick the file */
            for (size_t i = v->level_start[level];
                 i < v->level_start[level + 1]; i++)
                if (meru_db_file_suspect(v->files[i])) {
                    meru_sst *t;
                    return meru_db_file_sst(v->files[i], &t);
                }
        }
        if (!(f = level_candidate(v, level, sk->ukey, sk->klen)))
            continue;
        if ((rc = get_file(db, f, sk, seq, state, value)))
            return rc;
        if (*state != MERU_SST_NOT_FOUND)
            return MERU_OK;
    }
    return MERU_OK;
}

int meru_db_lookup_value(meru_db *db, meru_view *v, const uint8_t *key,
                         size_t klen, uint64_t seq, meru_buf *value)
{
    meru_mt_result r;
    meru_sst_state state = MERU_SST_NOT_FOUND;
    meru_sst_key sk;
    int rc;
    r.state = MERU_MT_NOT_FOUND;
    if (v->mem)
        meru_memtable_get(v->mem, key, klen, seq, &r);
    for (size_t i = 0; r.state == MERU_MT_NOT_FOUND && i < v->nimm; i++)
        meru_memtable_get(v->imm[i], key, klen, seq, &r);
    if (r.state == MERU_MT_DELETED)
        return MERU_NOT_FOUND;
    if (r.state == MERU_MT_FOUND) {
        value->len = 0;
        return r.vlen && meru_buf_append(value, r.value, r.vlen)
                   ? meru_err(MERU_ENOMEM, "out of memory")
                   : MERU_OK;
    }
    meru_sst_key_init(&sk, key, klen);
    rc = files_lookup(db, v, &sk, seq, &state, value);
    meru_sst_key_free(&sk);
    if (rc)
        return rc;
    return state == MERU_SST_FOUND ? MERU_OK : MERU_NOT_FOUND;
}

static int lookup(meru_db *db, meru_view *v, const uint8_t *key, size_t klen,
                  uint64_t seq, unsigned flags, meru_row *out)
{
    meru_mt_result r;
    meru_buf value = {0};
    meru_sst_state state = MERU_SST_NOT_FOUND;
    int rc = MERU_OK;
    /* decoded and bloom-hashed once for all the files probed */
    meru_sst_key sk;
    meru_sst_key_init(&sk, key, klen);
    sk.flags = flags;

    /* Memtables, newest first. */
    if (v->mem) {
        meru_memtable_get(v->mem, key, klen, seq, &r);
        if (r.state != MERU_MT_NOT_FOUND)
            goto mem_found;
    }
    for (size_t i = 0; i < v->nimm; i++) {
        meru_memtable_get(v->imm[i], key, klen, seq, &r);
        if (r.state != MERU_MT_NOT_FOUND)
            goto mem_found;
    }
    if ((rc = files_lookup(db, v, &sk, seq, &state, &value)))
        goto out;
    if (state != MERU_SST_NOT_FOUND)
        goto file_found;
    rc = MERU_NOT_FOUND;
    goto out;

mem_found:
    if (r.state == MERU_MT_DELETED) {
        rc = MERU_NOT_FOUND;
        goto out;
    }
    rc = decode_into(v->schema, key, klen, r.value, r.vlen, out);
    goto out;
file_found:
    if (state == MERU_SST_DELETED) {
        rc = MERU_NOT_FOUND;
        goto out;
    }
    rc = decode_into(v->schema, key, klen, value.data, value.len, out);
out:
    meru_buf_free(&value);
    meru_sst_key_free(&sk);
    return rc;
}

/* The SST read flags of per-call read options. */
static unsigned read_flags(int fill_cache, int verify_checksums)
{
    return (fill_cache ? 0u : MERU_SST_NO_FILL_CACHE) |
           (verify_checksums ? 0u : MERU_SST_SKIP_CRC);
}

static int get_common(meru_db *db, const meru_snapshot *snap, unsigned flags,
                      const meru_row *key, meru_row *out)
{
    meru_buf k = {0};
    meru_view *v;
    meru_db_pin pin;
    const meru_schema *cur;
    uint64_t seq;
    int rc;
    if (!db || !key || !out)
        return meru_err(MERU_EINVAL, "meru_get: NULL argument");
    if ((rc = meru_db_check_open(db)) || (rc = check_snapshot(db, snap)))
        return rc;
    cur = meru_db_cur_schema(db);
    if ((rc = meru_db_row_fits(cur, key, "meru_get key")) ||
        (rc = meru_db_row_fits(cur, out, "meru_get out")))
        return rc;
    if ((rc = meru_key_encode_row(cur, key, &k)))
        return rc;
    /* The sequence before the view: every version at or below it is in
     * the view's memtables or files, encoded under its schema or older. */
    seq = read_seq(db, snap);
    /* Pinned, not referenced: no lock and no shared count (db_view.c). */
    if (snap && snap->view)
        v = meru_db_read_view(db, snap);
    else
        v = meru_db_view_pin(db, &pin);
    meru_row_clear(out);
    rc = lookup(db, v, k.data, k.len, seq, flags, out);
    if (snap && snap->view)
        meru_db_view_unref(v);
    else
        meru_db_view_unpin(db, &pin);
    meru_buf_free(&k);
    meru_db_get_stats *gs = meru_db_my_get_stats(db);
    atomic_fetch_add_explicit(&gs->gets, 1, memory_order_relaxed);
    if (rc == MERU_OK)
        atomic_fetch_add_explicit(&gs->gets_found, 1, memory_order_relaxed);
    else if (rc == MERU_NOT_FOUND)
        meru_row_clear(out);
    return rc;
}

int meru_get(meru_db *db, const meru_snapshot *snap, const meru_row *key,
             meru_row *out)
{
    return get_common(db, snap, 0, key, out);
}

int meru_get_ex(meru_db *db, const meru_read_options *ro, const meru_row *key,
                meru_row *out)
{
    if (!ro)
        return get_common(db, NULL, 0, key, out);
    int rc = meru_struct_version(ro->version, MERU_READ_OPTIONS_VERSION,
                                 "meru_read_options");
    if (rc)
        return rc;
    return get_common(db, ro->snapshot,
                      read_flags(ro->fill_cache, ro->verify_checksums), key,
                      out);
}

/* ------------------------------------------------------------------- scan */

struct meru_iter {
    meru_db *db;
    meru_view *view;
    meru_dbiter *it;
    meru_row *row;
    meru_colset proj;
    bool has_proj;
    unsigned flags; /* SST read flags (fill_cache, verify_checksums) */
    meru_buf scratch;
    uint64_t limit, returned; /* returned: rows since the scan or a seek */
    bool done;
    bool empty; /* the scan's own range holds no key: seeks change nothing */
};

void meru_scan_options_init(meru_scan_options *o)
{
    static const meru_scan_options d = MERU_SCAN_OPTIONS_INIT;
    if (o)
        *o = d;
}

/* The encoded key given by the leading set key columns of `row`; *full is
 * whether every key column was set. */
int meru_db_bound_key(meru_db *db, const meru_row *row, const char *what,
                      meru_buf *out, bool *full)
{
    const meru_schema *s = meru_db_cur_schema(db);
    meru_value vals[MERU_MAX_KEY_COLUMNS];
    size_t k = 0;
    int rc;
    if ((rc = meru_db_row_fits(s, row, what)))
        return rc;
    while (k < s->nkey && meru_row_is_set(row, (size_t)s->key_cols[k]) &&
           !meru_row_is_null(row, (size_t)s->key_cols[k])) {
        vals[k] = row->vals[s->key_cols[k]];
        k++;
    }
    for (size_t j = k; j < s->nkey; j++)
        if (meru_row_is_set(row, (size_t)s->key_cols[j]))
            return meru_err(MERU_EINVAL,
                            "%s: key column \"%s\" is set but \"%s\" before "
                            "it is not (a bound sets a leading run of key "
                            "columns)",
                            what, s->cols[s->key_cols[j]].name,
                            s->cols[s->key_cols[k]].name);
    if (k == 0)
        return meru_err(MERU_EINVAL, "%s: no key column is set", what);
    *full = k == s->nkey;
    return meru_key_encode(s, vals, k, out);
}

/* Keeps the larger lower bound (a) or the smaller upper bound. */
static int tighten(meru_buf *cur, bool *has, bool *incl, const meru_buf *nb,
                   bool nincl, bool lower)
{
    if (*has) {
        int c = meru_ikey_cmp(nb->data, nb->len, cur->data, cur->len);
        if (lower ? c < 0 : c > 0)
            return MERU_OK;
        if (c == 0) {
            *incl = *incl && nincl;
            return MERU_OK;
        }
    }
    cur->len = 0;
    if (meru_buf_append(cur, nb->data, nb->len))
        return meru_err(MERU_ENOMEM, "out of memory (scan bound)");
    *has = true;
    *incl = nincl;
    return MERU_OK;
}

/* Turns the scan options into byte bounds for dbiter (merutable.h). */
static int scan_bounds(meru_db *db, const meru_scan_options *o, meru_buf *lo,
                       bool *has_lo, bool *lo_incl, meru_buf *hi, bool *has_hi,
                       bool *hi_incl, bool *empty)
{
    meru_buf k = {0};
    bool full;
    int rc = MERU_OK;
    *has_lo = *has_hi = false;
    *lo_incl = *hi_incl = false;
    if (o->lower) {
        if ((rc = meru_db_bound_key(db, o->lower, "scan lower bound", &k,
                                    &full)))
            goto out;
        if (!full && !o->lower_inclusive &&
            (rc = meru_key_prefix_successor(&k))) {
            /* No key sorts after every key with this prefix. */
            if (rc == MERU_NOT_FOUND) {
                *empty = true;
                rc = MERU_OK;
            }
            goto out;
        }
        if ((rc = tighten(lo, has_lo, lo_incl, &k,
                          full ? o->lower_inclusive : true, true)))
            goto out;
        k.len = 0;
    }
    if (o->upper) {
        bool incl;
        if ((rc = meru_db_bound_key(db, o->upper, "scan upper bound", &k,
                                    &full)))
            goto out;
        incl = o->upper_inclusive != 0;
        if (!full && incl) {
            rc = meru_key_prefix_successor(&k);
            if (rc == MERU_NOT_FOUND) { /* no successor: no upper bound */
                rc = MERU_OK;
                k.len = 0;
                goto prefix;
            }
            if (rc)
                goto out;
            incl = false;
        } else if (!full) {
            incl = false;
        }
        if ((rc = tighten(hi, has_hi, hi_incl, &k, incl, false)))
            goto out;
        k.len = 0;
    }
prefix:
    if (o->prefix) {
        if ((rc = meru_db_bound_key(db, o->prefix, "scan prefix", &k, &full)) ||
            (rc = tighten(lo, has_lo, lo_incl, &k, true, true)))
            goto out;
        rc = meru_key_prefix_successor(&k);
        if (rc == MERU_OK)
            rc = tighten(hi, has_hi, hi_incl, &k, false, false);
        else if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
    }
out:
    meru_buf_free(&k);
    return rc;
}

static int scan_projection(const meru_scan_options *o, meru_iter *it)
{
    const meru_schema *s = it->view->schema;
    memset(&it->proj, 0, sizeof it->proj);
    it->has_proj = o->columns != NULL;
    if (!it->has_proj)
        return MERU_OK;
    for (size_t i = 0; i < s->nkey; i++)
        meru_colset_add(&it->proj, (size_t)s->key_cols[i]);
    for (size_t i = 0; i < o->ncolumns; i++) {
        int c = o->columns[i] ? meru_schema_column_index(s, o->columns[i]) : -1;
        if (c < 0)
            return meru_err(MERU_ENOCOLUMN, "scan: unknown column \"%s\"",
                            o->columns[i] ? o->columns[i] : "(null)");
        meru_colset_add(&it->proj, (size_t)c);
    }
    return MERU_OK;
}

/* A level's files for the concatenating iterator (merge.h). */
typedef struct level_src {
    meru_db_file **files; /* the view's, pinned by the scan */
    const meru_schema *schema; /* the view's */
    const meru_colset *proj;
    unsigned flags;
    meru_concat_part parts[];
} level_src;

/* An iterator over one file's entries under the view's schema (its
 * values fill rows of it), with the scan's projection and read flags. */
static int file_source(meru_db_file *f, const meru_schema *schema,
                       const meru_colset *proj, unsigned flags,
                       meru_iiter **out)
{
    meru_sst *t;
    int rc = meru_db_file_sst_for(f, schema, &t);
    return rc ? rc : meru_sst_iter_new_ex(t, proj, flags, out);
}

static int level_open(void *ctx, size_t i, meru_iiter **out)
{
    level_src *ls = ctx;
    return file_source(ls->files[i], ls->schema, ls->proj, ls->flags, out);
}

/* One source for files[beg, end) of a level >= 1 (they do not overlap):
 * the file's own iterator, or a concatenation of them. */
static int level_source(meru_view *v, const meru_colset *proj, unsigned flags,
                        size_t beg, size_t end, meru_iiter **out)
{
    size_t n = end - beg;
    if (n == 1)
        return file_source(v->files[beg], v->schema, proj, flags, out);
    level_src *ls = malloc(sizeof *ls + n * sizeof ls->parts[0]);
    if (!ls)
        return meru_err(MERU_ENOMEM, "out of memory (scan)");
    ls->files = &v->files[beg];
    ls->schema = v->schema;
    ls->proj = proj;
    ls->flags = flags;
    for (size_t i = 0; i < n; i++) {
        const meru_catalog_file *m = &v->files[beg + i]->meta;
        ls->parts[i].smallest = m->smallest;
        ls->parts[i].smallest_len = m->smallest_len;
        ls->parts[i].largest = m->largest;
        ls->parts[i].largest_len = m->largest_len;
    }
    return meru_concat_iter_new(ls->parts, n, level_open, ls, free, out);
}

/*
 * The scan's sources: the memtables, each L0 file (they overlap), one
 * source per deeper level. A memtable empty now is left out: every entry
 * with seq <= the scan's read sequence was in it before the read sequence
 * was taken, so what it gains later is invisible to this scan.
 *
 * Decode-ahead (a worker thread per file iterator reading on in sequence,
 * sst_iter.c) is left to the deeper levels: a level's concatenation has
 * one file open at a time, so a scan runs at most one worker per level.
 * The L0 files are all open at once, up to l0_stop_trigger of them: a
 * worker each would be that many threads and page rings for files that
 * hold a small part of the rows.
 */
static int build_sources(meru_iter *it, meru_iiter **merged)
{
    meru_view *v = it->view;
    const meru_colset *proj = it->has_proj ? &it->proj : NULL;
    size_t n = 0, cap = 1 + v->nimm + v->nfiles;
    meru_iiter **kids = calloc(cap, sizeof *kids);
    int rc = MERU_OK;
    if (!kids)
        return meru_err(MERU_ENOMEM, "out of memory (scan)");
    if (v->mem && meru_memtable_count(v->mem) &&
        (rc = meru_memtable_iiter_new(v->mem, &kids[n])) == MERU_OK)
        n++;
    for (size_t i = 0; rc == MERU_OK && i < v->nimm; i++)
        if (meru_memtable_count(v->imm[i]) &&
            (rc = meru_memtable_iiter_new(v->imm[i], &kids[n])) == MERU_OK)
            n++;
    for (size_t i = v->level_start[0]; rc == MERU_OK && i < v->level_start[1];
         i++)
        if ((rc = file_source(v->files[i], v->schema, proj,
                              it->flags | MERU_SST_NO_READAHEAD, &kids[n])) ==
            MERU_OK)
            n++;
    for (int l = 1; rc == MERU_OK && l < MERU_CATALOG_MAX_LEVELS; l++) {
        size_t beg = v->level_start[l], end = v->level_start[l + 1];
        if (beg < end &&
            (rc = level_source(v, proj, it->flags, beg, end, &kids[n])) ==
                MERU_OK)
            n++;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            meru_iiter_destroy(kids[i]);
        free(kids);
        return rc;
    }
    rc = meru_merge_iter_new(kids, n, merged);
    free(kids);
    return rc;
}

int meru_scan(meru_db *db, const meru_scan_options *opts, meru_iter **out)
{
    meru_scan_options defaults;
    meru_dbiter_options dbo;
    meru_buf lo = {0}, hi = {0};
    bool has_lo, lo_incl, has_hi, hi_incl, empty = false;
    meru_iiter *merged = NULL;
    meru_iter *it;
    int rc;

    if (!db || !out)
        return meru_err(MERU_EINVAL, "meru_scan: NULL argument");
    *out = NULL;
    if (!opts) {
        meru_scan_options_init(&defaults);
        opts = &defaults;
    }
    if ((rc = meru_struct_version(opts->version, MERU_SCAN_OPTIONS_VERSION,
                                  "meru_scan_options")) ||
        (rc = meru_db_check_open(db)) ||
        (rc = check_snapshot(db, opts->snapshot)))
        return rc;
    if (!(it = calloc(1, sizeof *it)))
        return meru_err(MERU_ENOMEM, "out of memory (iterator)");
    it->db = db;
    it->limit = opts->limit;
    it->flags = read_flags(opts->fill_cache, opts->verify_checksums);
    memset(&dbo, 0, sizeof dbo);
    /* The sequence before the view (see meru_get); rows are of the view's
     * schema. */
    dbo.read_seq = read_seq(db, opts->snapshot);
    it->view = meru_db_read_view(db, opts->snapshot);
    if ((rc = scan_projection(opts, it)) ||
        (rc = scan_bounds(db, opts, &lo, &has_lo, &lo_incl, &hi, &has_hi,
                          &hi_incl, &empty)) ||
        (rc = meru_row_new(&it->row, it->view->schema)))
        goto fail;
    if ((rc = build_sources(it, &merged)))
        goto fail;
    dbo.has_lower = has_lo;
    dbo.lower = lo.data;
    dbo.lower_len = lo.len;
    dbo.lower_inclusive = lo_incl;
    dbo.has_upper = has_hi;
    dbo.upper = hi.data;
    dbo.upper_len = hi.len;
    dbo.upper_inclusive = hi_incl;
    dbo.reverse = opts->reverse != 0;
    if ((rc = meru_dbiter_new(merged, &dbo, &it->it)))
        goto fail;
    /* An empty range (lower above upper) yields nothing. */
    it->empty = empty;
    if (has_lo && has_hi) {
        int c = meru_ikey_cmp(lo.data, lo.len, hi.data, hi.len);
        if (c > 0 || (c == 0 && !(lo_incl && hi_incl)))
            it->empty = true;
    }
    it->done = it->empty;
    meru_buf_free(&lo);
    meru_buf_free(&hi);
    atomic_fetch_add_explicit(&db->st_scans, 1, memory_order_relaxed);
    *out = it;
    return MERU_OK;
fail:
    meru_buf_free(&lo);
    meru_buf_free(&hi);
    meru_iter_free(it);
    return rc;
}

/* The key columns of the row (all of them are always wanted) into vals. */
static int decode_key(meru_iter *it, const uint8_t *k, size_t klen,
                      meru_value *vals)
{
    const meru_schema *s = it->view->schema;
    meru_value kv[MERU_MAX_KEY_COLUMNS];
    size_t nk = 0;
    if (s->nkey == 1) { /* straight into its slot */
        int rc = meru_key_decode(s, k, klen, &vals[s->key_cols[0]], &nk,
                                 &it->scratch);
        if (rc == MERU_OK && nk != 1)
            rc = meru_err(MERU_ECORRUPT, "scan: empty key");
        return rc;
    }
    if (s->nkey > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_EINVAL, "scan: %zu key columns", s->nkey);
    int rc = meru_key_decode(s, k, klen, kv, &nk, &it->scratch);
    if (rc)
        return rc;
    if (nk != s->nkey)
        return meru_err(MERU_ECORRUPT, "scan: key has %zu of %zu columns",
                        nk, s->nkey);
    for (size_t i = 0; i < nk; i++)
        vals[s->key_cols[i]] = kv[i];
    return MERU_OK;
}

int meru_iter_next(meru_iter *it, const meru_row **row)
{
    const uint8_t *k, *v;
    size_t klen, vlen;
    int rc;
    if (!it || !row)
        return meru_err(MERU_EINVAL, "meru_iter_next: NULL argument");
    *row = NULL;
    if (it->done || (it->limit && it->returned >= it->limit))
        return MERU_NOT_FOUND;
    rc = meru_dbiter_next(it->it, &k, &klen, NULL, NULL);
    if (rc) {
        if (rc == MERU_NOT_FOUND)
            it->done = true;
        return rc;
    }
    it->scratch.len = 0;
    /* Zero-copy: the row's values point into the source's current entry
     * (valid until the next call, as documented). A source that holds
     * columns (an SST) hands them over directly; otherwise the rowcodec
     * value is decoded. */
    rc = meru_dbiter_values(it->it, it->row->vals);
    if (rc == MERU_OK) {
        rc = decode_key(it, k, klen, it->row->vals);
    } else if (rc == MERU_NOT_FOUND) {
        meru_dbiter_value(it->it, &v, &vlen);
        rc = meru_row_decode_view_ex(it->view->schema, k, klen, v, vlen,
                                     it->has_proj ? &it->proj : NULL,
                                     it->row->vals, &it->scratch,
                                     MERU_ROWCODEC_SKIP_UNKNOWN);
    }
    if (rc)
        return rc;
    it->returned++;
    *row = it->row;
    return MERU_OK;
}

/* meru_iter_seek and meru_iter_seek_for_prev: the key (or a leading run
 * of its columns) as a lower bound (first row >= it) or an inclusive upper
 * bound (last row <= it), with scan_bounds' partial-key rules. */
static int iter_seek(meru_iter *it, const meru_row *key, bool for_prev,
                     const char *fn)
{
    meru_buf k = {0};
    bool full = false, has = true, incl = true;
    int rc;
    if (!it || !key)
        return meru_err(MERU_EINVAL, "%s: NULL argument", fn);
    if ((rc = meru_db_bound_key(it->db, key, fn, &k, &full)))
        return rc;
    if (for_prev && !full) {
        /* Every key starting with the prefix is <= it: stop before the
         * prefix's successor (none: no key is above the prefix). */
        rc = meru_key_prefix_successor(&k);
        if (rc == MERU_NOT_FOUND)
            has = false, rc = MERU_OK;
        incl = false;
    }
    if (rc == MERU_OK)
        rc = meru_dbiter_seek(it->it, has, k.data, k.len, incl, for_prev);
    meru_buf_free(&k);
    if (rc)
        return rc;
    it->returned = 0;
    it->done = it->empty;
    return MERU_OK;
}

int meru_iter_seek(meru_iter *it, const meru_row *key)
{
    return iter_seek(it, key, false, "meru_iter_seek");
}

int meru_iter_seek_for_prev(meru_iter *it, const meru_row *key)
{
    return iter_seek(it, key, true, "meru_iter_seek_for_prev");
}

void meru_iter_free(meru_iter *it)
{
    if (!it)
        return;
    meru_dbiter_free(it->it);
    meru_db_view_unref(it->view);
    meru_row_free(it->row);
    meru_buf_free(&it->scratch);
    free(it);
}
