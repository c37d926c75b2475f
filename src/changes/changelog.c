/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changelog.c — changes of a flushed memtable and the changelog file
 * (format and kinds in changelog.h).
 *
 * Collecting: the memtable is walked once in internal-key order (user key
 * ascending, newest version first), remembering each entry's position,
 * key index, whether the next entry is its key's older version, and its
 * slot in sequence order. No change record is made: the write derives
 * each change when it reaches it (kind and pre-image from the entry's
 * older version in the memtable, else from the files' pre-image of its
 * key), so memory is 16 bytes an entry plus the keys.
 *
 * Writing: once the pre-images are known, one pass in key order scatters
 * what each change needs (its position, where its state before is) into a
 * table in sequence order (meru_changelog_set_pre), which then replaces
 * the entries (and the caller's per-key pre-image table) until the commit;
 * the write reads it front to back, asking a few changes ahead for the
 * memory they will read (reading the key-order arrays in sequence order
 * cost a cache miss or two per change).
 * Per change, the key and both rows are decoded without copies
 * (meru_row_decode_view) into one value array of the changelog schema,
 * handed to the SST writer as values (key = _seq, trailer seq = the
 * change's sequence; no rowcodec round trip). Reading does the reverse and
 * copies values into the caller's rows, checking what a damaged file could
 * break: the op, the order of sequences, NOT NULL columns.
 */
#include "changes/changelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/keycodec.h"
#include "types/row.h"
#include "types/rowcodec.h"
#include "types/schema.h"
#include "util/error.h"
#include "util/mem.h"

static const char *const op_names[] = {NULL, "insert", "update", "delete"};

/* ------------------------------------------------------------- schema */

/* `base` or base + "_"... until no column of `s` or `t` has the name. */
static int free_name(const meru_schema *s, const meru_schema *t,
                     const char *base, char *out, size_t cap)
{
    size_t len = strlen(base);
    if (len + 8 >= cap)
        return meru_err(MERU_ENOTSUP, "change feed: column name too long");
    memcpy(out, base, len + 1);
    for (int tries = 0; tries < 8; tries++) {
        bool taken = false;
        for (size_t i = 0; !taken && i < s->ncols; i++)
            taken = !strcmp(s->cols[i].name, out);
        for (size_t i = 0; t && !taken && i < t->ncols; i++)
            taken = !strcmp(t->cols[i].name, out);
        if (!taken)
            return MERU_OK;
        out[len++] = '_';
        out[len] = 0;
    }
    return meru_err(MERU_ENOTSUP, "change feed: no free column name for %s",
                    base);
}

static int add_col(meru_schema *cl, const meru_column *c, const char *name,
                   int32_t id)
{
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = name;
    d.type = c->type;
    d.nullable = 1;
    d.field_id = id;
    d.fixed_length = c->fixed_length;
    d.precision = c->precision;
    d.scale = c->scale;
    d.initial_default = c->initial_default_json;
    return meru_schema_add_column_def(cl, &d);
}

int meru_changelog_schema(const meru_schema *table, meru_schema **out)
{
    meru_schema *cl = NULL;
    char name[1100], tname[300];
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    int rc;

    *out = NULL;
    snprintf(tname, sizeof tname, "%.200s_changes", table->table_name);
    if ((rc = meru_schema_new(&cl, tname)))
        return rc;
    d.type = MERU_TYPE_INT64;
    d.nullable = 0;
    d.field_id = MERU_CHANGELOG_FIELD_ID_SEQ;
    d.name = name;
    if ((rc = free_name(table, NULL, "_seq", name, sizeof name)) ||
        (rc = meru_schema_add_column_def(cl, &d)))
        goto fail;
    d.type = MERU_TYPE_STRING;
    d.field_id = MERU_CHANGELOG_FIELD_ID_OP;
    if ((rc = free_name(table, cl, "_op", name, sizeof name)) ||
        (rc = meru_schema_add_column_def(cl, &d)))
        goto fail;
    for (size_t i = 0; i < table->ncols; i++)
        if ((rc = add_col(cl, &table->cols[i], table->cols[i].name,
                          table->cols[i].field_id)))
            goto fail;
    for (size_t i = 0; i < table->ncols; i++) {
        const meru_column *c = &table->cols[i];
        char base[1100];
        if (c->key_position >= 0)
            continue;
        if (c->field_id >= MERU_CHANGELOG_BEFORE_ID_OFFSET) {
            rc = meru_err(MERU_ENOTSUP,
                          "change feed: column %s has field id %d; the "
                          "feed needs ids below %d",
                          c->name, (int)c->field_id,
                          MERU_CHANGELOG_BEFORE_ID_OFFSET);
            goto fail;
        }
        snprintf(base, sizeof base, "before_%.1000s", c->name);
        if ((rc = free_name(table, cl, base, name, sizeof name)) ||
            (rc = add_col(cl, c, name,
                          c->field_id + MERU_CHANGELOG_BEFORE_ID_OFFSET)))
            goto fail;
    }
    {
        const char *key = cl->cols[0].name;
        if ((rc = meru_schema_set_primary_key(cl, &key, 1)) ||
            (rc = meru_schema_validate(cl)))
            goto fail;
    }
    *out = cl;
    return MERU_OK;
fail:
    meru_schema_free(cl);
    return meru_err_wrap(rc, "change feed schema");
}

/* ------------------------------------------------------------ collect */

/* One memtable entry, in the set's key-order array. */
typedef struct entry {
    const void *pos; /* memtable position (meru_memtable_iter_pos) */
    uint32_t key;    /* index of its user key; top bit: OLDER */
    uint32_t slot;   /* its place in sequence order (see order_by_seq) */
} entry;

/* entry.key's top bit: the next entry is its key's older version. */
#define OLDER 0x80000000u

struct meru_changelog_set {
    meru_memtable *mem; /* referenced */
    entry *ents;        /* key order: user key ascending, newest first;
                         * NULL once the slots are made */
    size_t n;
    size_t nslots; /* slots of sequence order; some may hold no entry */
    struct slotrec *slots; /* meru_changelog_set_pre: what the write reads */
    meru_sst_ukey *keys;
    size_t nkeys;
    meru_buf keybytes;
};

void meru_changelog_set_free(meru_changelog_set *s)
{
    if (!s)
        return;
    meru_memtable_unref(s->mem);
    meru_mem_big_free(s->ents);
    meru_mem_big_free(s->slots);
    meru_mem_big_free(s->keys);
    meru_buf_free(&s->keybytes);
    free(s);
}

const meru_sst_ukey *meru_changelog_keys(const meru_changelog_set *s,
                                         size_t *n)
{
    *n = s->nkeys;
    return s->keys;
}

typedef struct seq_ix {
    uint64_t seq;
    uint32_t ix;
} seq_ix;

static int seq_ix_cmp(const void *pa, const void *pb)
{
    const seq_ix *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Gives each entry its slot in sequence order. A memtable's sequences are
 * nearly all of one range (one per entry), so the slot is seq - lo (no
 * comparison; a sequence no entry has leaves its slot empty); a sparse
 * range, or a sequence twice (not from a memtable), falls back to a sort
 * of (seq, index): the slot is the rank. */
static int order_by_seq(meru_changelog_set *s, const uint64_t *seqs)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t n = s->n;
    if (!n)
        return MERU_OK;
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] < lo)
            lo = seqs[i];
        if (seqs[i] > hi)
            hi = seqs[i];
    }
    uint64_t range = hi - lo + 1;
    uint8_t *seen = range <= 4 * (uint64_t)n && range <= UINT32_MAX
                        ? calloc(range, 1)
                        : NULL;
    if (seen) {
        bool dup = false;
        for (size_t i = 0; !dup && i < n; i++) {
            dup = seen[seqs[i] - lo] != 0;
            seen[seqs[i] - lo] = 1;
            s->ents[i].slot = (uint32_t)(seqs[i] - lo);
        }
        free(seen);
        if (!dup) {
            s->nslots = range;
            return MERU_OK;
        }
    }
    seq_ix *t = malloc(n * sizeof *t);
    if (!t)
        return meru_err(MERU_ENOMEM, "out of memory (changes)");
    for (size_t i = 0; i < n; i++) {
        t[i].seq = seqs[i];
        t[i].ix = (uint32_t)i;
    }
    qsort(t, n, sizeof *t, seq_ix_cmp);
    for (size_t i = 0; i < n; i++)
        s->ents[t[i].ix].slot = (uint32_t)i;
    s->nslots = n;
    free(t);
    return MERU_OK;
}

/* Makes room for up to cap keys: a map of its own (util/mem.h), sized
 * once (a memtable has at most as many keys as entries), so only the pages
 * written are resident, none is copied by a growth, and they go back to
 * the system at free. */
static int keys_alloc(meru_changelog_set *s, size_t cap)
{
    s->nkeys = 0;
    meru_buf_reset(&s->keybytes);
    if (cap && !(s->keys = meru_mem_big_calloc(cap, sizeof *s->keys)))
        return meru_err(MERU_ENOMEM, "out of memory (changes)");
    return MERU_OK;
}

/* Appends user key (uk, ul) after the previous one. */
static int key_add(meru_changelog_set *s, const uint8_t *uk, size_t ul)
{
    s->keys[s->nkeys++].len = ul;
    return meru_buf_append(&s->keybytes, uk, ul);
}

/* The keys were appended one after the other: each starts where the
 * previous one ends (the buffer may have moved while growing). */
static void keys_finish(meru_changelog_set *s)
{
    size_t off = 0;
    for (size_t i = 0; i < s->nkeys; i++) {
        s->keys[i].ptr = s->keybytes.data + off;
        off += s->keys[i].len;
    }
}

int meru_changelog_collect(meru_memtable *mem, meru_changelog_set **out)
{
    meru_changelog_set *s = calloc(1, sizeof *s);
    meru_memtable_iter it;
    uint64_t *seqs = NULL;
    size_t cap;
    const uint8_t *prev = NULL;
    size_t plen = 0;
    int rc = MERU_OK;

    *out = NULL;
    if (!s)
        return meru_err(MERU_ENOMEM, "out of memory (changes)");
    meru_memtable_ref(mem);
    s->mem = mem;
    cap = (size_t)meru_memtable_count(mem);
    if (cap >= OLDER - 2) {
        rc = meru_err(MERU_ENOTSUP, "changes: too many entries in one "
                                    "memtable");
        goto out;
    }
    /* Sized once (the memtable is immutable), as maps of their own; the
     * sequences only until the order is made. */
    if ((rc = keys_alloc(s, cap)))
        goto out;
    if (cap && (!(s->ents = meru_mem_big_calloc(cap, sizeof *s->ents)) ||
                !(seqs = meru_mem_big_calloc(cap, sizeof *seqs)))) {
        rc = meru_err(MERU_ENOMEM, "out of memory (changes)");
        goto out;
    }
    meru_memtable_iter_init(&it, mem);
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it)) {
        size_t ul;
        const uint8_t *uk = meru_memtable_iter_user_key(&it, &ul);
        if (s->n == cap) {
            rc = meru_err(MERU_EINVAL, "changes: the memtable grew while "
                                       "flushed");
            goto out;
        }
        if (prev && ul == plen && !memcmp(uk, prev, ul))
            s->ents[s->n - 1].key |= OLDER;
        else if ((rc = key_add(s, uk, ul)))
            goto out;
        prev = uk;
        plen = ul;
        s->ents[s->n].pos = meru_memtable_iter_pos(&it);
        s->ents[s->n].key = (uint32_t)(s->nkeys - 1);
        s->ents[s->n].slot = 0;
        seqs[s->n++] = meru_memtable_iter_seq(&it);
    }
    keys_finish(s);
    rc = order_by_seq(s, seqs);
out:
    meru_mem_big_free(seqs);
    if (rc) {
        meru_changelog_set_free(s);
        return rc;
    }
    *out = s;
    return MERU_OK;
}

size_t meru_changelog_nkeys(const meru_changelog_set *s)
{
    return s->nkeys;
}

void meru_changelog_drop_keys(meru_changelog_set *s)
{
    meru_mem_big_free(s->keys);
    s->keys = NULL;
    meru_buf_free(&s->keybytes);
}

int meru_changelog_keys_again(meru_changelog_set *s)
{
    meru_memtable_iter it;
    const uint8_t *prev = NULL;
    size_t plen = 0, n = s->nkeys;
    int rc;
    if (s->keys || !n)
        return MERU_OK;
    if ((rc = keys_alloc(s, n)))
        return rc;
    meru_memtable_iter_init(&it, s->mem);
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it)) {
        size_t ul;
        const uint8_t *uk = meru_memtable_iter_user_key(&it, &ul);
        if (prev && ul == plen && !memcmp(uk, prev, ul))
            continue;
        if (s->nkeys == n) {
            rc = meru_err(MERU_EINVAL, "changes: the memtable grew while "
                                       "flushed");
            break;
        }
        if ((rc = key_add(s, uk, ul)))
            break;
        prev = uk;
        plen = ul;
    }
    if (rc == MERU_OK && s->nkeys != n)
        rc = meru_err(MERU_EINVAL, "changes: the memtable changed while "
                                   "flushed");
    if (rc) {
        meru_changelog_drop_keys(s);
        s->nkeys = n;
        return rc;
    }
    keys_finish(s);
    return MERU_OK;
}

/* -------------------------------------------------------------- write */

/* What the write needs of one entry, at its slot in sequence order: the
 * pass that fills these reads the entries and the pre-images in key order
 * (one after the other), and the write then reads them in sequence order
 * (one after the other too). Reading the key-order arrays in sequence
 * order instead cost a cache miss or two per change (the entries and the
 * pre-images of a flush are megabytes, visited at random): a third of the
 * feed job's time in a profile of bench_kv overwrite. */
typedef struct slotrec {
    const void *pos;    /* the entry's memtable position; NULL: no entry */
    const void *before; /* SR_OLDER: the older version's memtable position;
                         * else the pre-image's value (SR_LIVE) */
    uint32_t blen;      /* the pre-image's length */
    uint32_t flags;
} slotrec;

#define SR_OLDER 1u /* the state before is the memtable's older version */
#define SR_LIVE  2u /* the pre-image from the files is a live row */

int meru_changelog_set_pre(meru_changelog_set *s,
                           const meru_changelog_pre *pre)
{
    slotrec *r;
    if (s->slots)
        return meru_err(MERU_EINVAL, "changelog: pre-images given twice");
    /* Written nearly whole (a memtable leaves few sequences without an
     * entry): huge pages where the system has them (util/mem.h). */
    if (!(r = meru_mem_big_calloc_dense(s->nslots + 1, sizeof *r)))
        return meru_err(MERU_ENOMEM, "out of memory (changelog)");
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->ents[i];
        slotrec *x = &r[e->slot];
        x->pos = e->pos;
        if (e->key & OLDER) {
            x->before = s->ents[i + 1].pos;
            x->flags = SR_OLDER;
        } else if (pre && pre[e->key].live) {
            if (pre[e->key].vlen > UINT32_MAX) {
                meru_mem_big_free(r);
                return meru_err(MERU_ERANGE, "a pre-image of %zu bytes",
                                pre[e->key].vlen);
            }
            x->before = pre[e->key].value;
            x->blen = (uint32_t)pre[e->key].vlen;
            x->flags = SR_LIVE;
        }
    }
    /* From here on the slots say all the write needs: the entries in key
     * order go (16 bytes an entry, live until the commit before). */
    s->slots = r;
    meru_mem_big_free(s->ents);
    s->ents = NULL;
    return MERU_OK;
}

/* Asks for the memory slot record x will read (no effect on results). */
static inline void slot_prefetch(const slotrec *x)
{
#if defined(__GNUC__)
    if (x->pos)
        __builtin_prefetch(x->pos);
    if (x->before)
        __builtin_prefetch(x->before);
#else
    (void)x;
#endif
}

/* How far ahead of the write the slot records' memory is asked for: a few
 * changes' worth of work covers a miss to memory. */
#define PREFETCH_AHEAD 8

/* The change of slot record x, if it is one: *kind 0 when it changes
 * nothing (a delete of an absent key). */
static void slot_change(const slotrec *x, meru_memtable_iter *it, int *kind,
                        uint64_t *seq, const uint8_t **ukey, size_t *klen,
                        const uint8_t **value, size_t *vlen,
                        const uint8_t **before, size_t *blen)
{
    int live;
    meru_memtable_iter_set_pos(it, x->pos);
    *seq = meru_memtable_iter_seq(it);
    *ukey = meru_memtable_iter_user_key(it, klen);
    int op = meru_memtable_iter_op(it);
    *value = op == MERU_OP_PUT ? meru_memtable_iter_value(it, vlen) : NULL;
    if (!*value)
        *vlen = 0;
    /* The state before it: its key's older version in the memtable, or
     * the pre-image from the files. */
    if (x->flags & SR_OLDER) {
        meru_memtable_iter_set_pos(it, x->before);
        live = meru_memtable_iter_op(it) == MERU_OP_PUT;
        *before = live ? meru_memtable_iter_value(it, blen) : NULL;
    } else {
        live = (x->flags & SR_LIVE) != 0;
        *before = live ? x->before : NULL;
        *blen = live ? x->blen : 0;
    }
    if (!live) {
        *before = NULL;
        *blen = 0;
    }
    if (op == MERU_OP_PUT)
        *kind = live ? MERU_CHANGE_UPDATE : MERU_CHANGE_INSERT;
    else
        *kind = live ? MERU_CHANGE_DELETE : 0;
}

int meru_changelog_write(meru_fs *fs, const char *path,
                         const meru_schema *table, const meru_schema *cl,
                         const meru_changelog_set *s, uint64_t trim,
                         const meru_sst_options *so, meru_changelog_meta *out)
{
    size_t nt = table->ncols, ncl = cl->ncols;
    meru_value *tv = calloc(2 * nt + 1, sizeof *tv), *bv = tv + nt;
    meru_value *cv = calloc(ncl + 1, sizeof *cv);
    meru_buf ikey = {0}, scratch = {0}, bscratch = {0};
    meru_sst_writer *w = NULL;
    meru_memtable_iter it;
    meru_sst_meta meta;
    const slotrec *slots = s->slots;
    int rc = MERU_OK;

    memset(&meta, 0, sizeof meta);
    memset(out, 0, sizeof *out);
    if (!tv || !cv) {
        rc = meru_err(MERU_ENOMEM, "out of memory (changelog)");
        goto out;
    }
    if (!slots && s->n) {
        rc = meru_err(MERU_EINVAL, "changelog: written before its "
                                   "pre-images were given");
        goto out;
    }
    meru_memtable_iter_init(&it, s->mem);
    for (size_t o = 0; o < s->nslots; o++) {
        const uint8_t *ukey, *value, *before;
        size_t klen, vlen, blen, c = 0;
        uint64_t seq;
        int kind;
        if (o + PREFETCH_AHEAD < s->nslots)
            slot_prefetch(&slots[o + PREFETCH_AHEAD]);
        if (!slots[o].pos)
            continue;
        slot_change(&slots[o], &it, &kind, &seq, &ukey, &klen, &value, &vlen,
                    &before, &blen);
        if (!kind || seq <= trim)
            continue;
        /* The file is made at the first change: none, no file. */
        if (!w && (rc = meru_sst_writer_open(&w, fs, path, cl, so)))
            break;
        scratch.len = bscratch.len = 0;
        /* The new row, or for a delete the key alone. */
        if (value)
            rc = meru_row_decode_view(table, ukey, klen, value, vlen, NULL,
                                      tv, &scratch);
        else
            rc = meru_row_decode_view(table, ukey, klen, before, blen, NULL,
                                      tv, &scratch);
        if (rc == MERU_OK && before)
            rc = meru_row_decode_view(table, ukey, klen, before, blen, NULL,
                                      bv, &bscratch);
        if (rc)
            break;
        cv[c].state = MERU_VALUE_PRESENT;
        cv[c++].u.i64 = (int64_t)seq;
        cv[c].state = MERU_VALUE_PRESENT;
        cv[c].u.bytes.ptr = (const uint8_t *)op_names[kind];
        cv[c++].u.bytes.len = (uint32_t)strlen(op_names[kind]);
        for (size_t j = 0; j < nt; j++, c++) {
            cv[c] = tv[j];
            if (!value && table->cols[j].key_position < 0)
                cv[c].state = MERU_VALUE_NULL;
        }
        for (size_t j = 0; j < nt; j++) {
            if (table->cols[j].key_position >= 0)
                continue;
            cv[c] = bv[j];
            if (!before)
                cv[c].state = MERU_VALUE_NULL;
            c++;
        }
        ikey.len = 0;
        if ((rc = meru_key_encode(cl, cv, 1, &ikey)) ||
            (rc = meru_ikey_append_trailer(&ikey, seq, MERU_OP_PUT)) ||
            (rc = meru_sst_writer_add_values(w, ikey.data, ikey.len, cv)))
            break;
    }
    if (!w)
        goto out; /* nothing changed (or a failure before the file) */
    if (rc) {
        meru_sst_writer_abort(w);
        goto out;
    }
    if ((rc = meru_sst_writer_finish(w, &meta)))
        goto out;
    out->file_size = meta.file_size;
    out->rows = meta.row_count;
    out->min_seq = meta.min_seq;
    out->max_seq = meta.max_seq;
    meru_sst_meta_free(&meta);
out:
    free(tv);
    free(cv);
    meru_buf_free(&ikey);
    meru_buf_free(&scratch);
    meru_buf_free(&bscratch);
    return rc ? meru_err_wrap(rc, "changelog %s", path) : MERU_OK;
}

/* --------------------------------------------------------------- read */

struct meru_changelog_reader {
    const meru_schema *table, *cl;
    meru_sst *sst;
    meru_iiter *it;
    meru_value *cv;
    meru_buf scratch;
    uint64_t last;
    char path[512];
};

void meru_changelog_close(meru_changelog_reader *r)
{
    if (!r)
        return;
    meru_iiter_destroy(r->it);
    meru_sst_close(r->sst);
    free(r->cv);
    meru_buf_free(&r->scratch);
    free(r);
}

int meru_changelog_open(meru_changelog_reader **out, meru_fs *fs,
                        const char *path, const meru_schema *table,
                        const meru_schema *cl, uint64_t since)
{
    meru_changelog_reader *r = calloc(1, sizeof *r);
    meru_sst_read_options ro = {false};
    meru_buf k = {0};
    meru_value v;
    int rc;

    *out = NULL;
    if (!r || !(r->cv = calloc(cl->ncols + 1, sizeof *r->cv))) {
        free(r);
        return meru_err(MERU_ENOMEM, "out of memory (changelog)");
    }
    r->table = table;
    r->cl = cl;
    r->last = since;
    snprintf(r->path, sizeof r->path, "%s", path);
    if ((rc = meru_sst_open_ex(&r->sst, fs, path, cl, NULL, &ro)) ||
        (rc = meru_sst_iter_new(r->sst, NULL, &r->it)))
        goto fail;
    if (since >= MERU_SEQ_MAX) {
        r->it->ops->seek_to_last(r->it);
        if (r->it->ops->valid(r->it))
            r->it->ops->next(r->it);
    } else {
        memset(&v, 0, sizeof v);
        v.state = MERU_VALUE_PRESENT;
        v.u.i64 = (int64_t)(since + 1);
        if ((rc = meru_key_encode(cl, &v, 1, &k)) ||
            (rc = meru_ikey_append_seek_trailer(&k, MERU_SEQ_MAX)))
            goto fail;
        r->it->ops->seek(r->it, k.data, k.len);
    }
    if ((rc = r->it->ops->status(r->it)))
        goto fail;
    meru_buf_free(&k);
    *out = r;
    return MERU_OK;
fail:
    meru_buf_free(&k);
    meru_changelog_close(r);
    if (rc == MERU_NOT_FOUND)
        return rc;
    return meru_err_wrap(rc, "changelog %s", path);
}

static int corrupt(meru_changelog_reader *r, const char *what)
{
    return meru_err(MERU_ECORRUPT, "changelog %s: %s after sequence %llu",
                    r->path, what, (unsigned long long)r->last);
}

/* Copies table column j's value v into `row`, refusing a null where the
 * table says NOT NULL. */
static int put(meru_changelog_reader *r, meru_row *row, size_t j,
               const meru_value *v)
{
    meru_value null;
    if (v->state != MERU_VALUE_PRESENT) {
        if (!r->table->cols[j].nullable)
            return corrupt(r, "a null in a NOT NULL column");
        memset(&null, 0, sizeof null);
        null.state = MERU_VALUE_NULL;
        v = &null;
    }
    return meru_row_put_value(row, j, v);
}

int meru_changelog_next(meru_changelog_reader *r, uint64_t *seq, int *kind,
                        meru_row *row, meru_row *before)
{
    const meru_iiter_ops *ops = r->it->ops;
    const meru_schema *t = r->table;
    const uint8_t *ik, *val;
    size_t ilen, vlen, ulen, c;
    uint64_t s;
    int op, rc, k = 0;

    if (!ops->valid(r->it)) {
        if ((rc = ops->status(r->it)))
            return meru_err_wrap(rc, "changelog %s", r->path);
        return MERU_NOT_FOUND;
    }
    ik = ops->key(r->it, &ilen);
    val = ops->value(r->it, &vlen);
    if ((rc = meru_ikey_parse(ik, ilen, &ulen, &s, &op)) || op != MERU_OP_PUT)
        return corrupt(r, "an entry that is not a change");
    r->scratch.len = 0;
    if ((rc = meru_row_decode_view(r->cl, ik, ulen, val, vlen, NULL, r->cv,
                                   &r->scratch)))
        return rc == MERU_ENOMEM ? rc : corrupt(r, "an undecodable change");
    if (r->cv[0].state != MERU_VALUE_PRESENT || (uint64_t)r->cv[0].u.i64 != s ||
        s <= r->last)
        return corrupt(r, "a sequence out of order");
    if (r->cv[1].state == MERU_VALUE_PRESENT)
        for (int i = 1; i <= 3; i++)
            if (r->cv[1].u.bytes.len == strlen(op_names[i]) &&
                !memcmp(r->cv[1].u.bytes.ptr, op_names[i],
                        r->cv[1].u.bytes.len))
                k = i;
    if (!k)
        return corrupt(r, "an unknown operation");
    meru_row_clear(row);
    meru_row_clear(before);
    for (size_t j = 0; j < t->ncols; j++) {
        const meru_value *v = &r->cv[2 + j];
        bool key = t->cols[j].key_position >= 0;
        if (k != MERU_CHANGE_DELETE && (rc = put(r, row, j, v)))
            return rc;
        if (k != MERU_CHANGE_INSERT && key && (rc = put(r, before, j, v)))
            return rc;
    }
    c = 2 + t->ncols;
    for (size_t j = 0; j < t->ncols; j++) {
        if (t->cols[j].key_position >= 0)
            continue;
        if (k != MERU_CHANGE_INSERT && (rc = put(r, before, j, &r->cv[c])))
            return rc;
        c++;
    }
    r->last = s;
    *seq = s;
    *kind = k;
    ops->next(r->it);
    return MERU_OK;
}
