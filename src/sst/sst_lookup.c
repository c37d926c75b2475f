/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_lookup.c — batched lookups in one SST (sst.h): for many sorted user
 * keys at once, the newest version each has in the file and that row's
 * position (meru_sst_lookup_batch); and the internal keys stored at given
 * row positions (meru_sst_ikeys_at).
 *
 * Why not meru_sst_get per key: a flush asks this of every key of a
 * memtable (hundreds of thousands) in every older file, to find the rows
 * the new file supersedes. A get decodes the key, hashes it, and decodes a
 * whole page to read one row; keys that share a page would decode it again
 * (or churn it through the page cache). Here the work per key is a range
 * check, its bloom filters (hashes computed once per key for all files, in
 * the keyset), and a step through the page index; the pages of
 * _merutable_ikey that can hold a pending key are decoded in row order
 * through one cursor, each at most once, and the sorted keys are merged
 * against them. The page cache is left alone: a flush touches each page
 * once, and inserting them would evict what readers keep hot. A key whose
 * place lies in the page decoded last skips both the filters and the page
 * index, and the page index is walked forward from the last page rather
 * than searched per key. A lookup asking one key per DENSE_ROWS rows of
 * the file or more skips the filters altogether: it would decode nearly
 * every page anyway, and a page decode shared by many keys is cheaper than
 * a filter probe per key.
 *
 * Why it is exact: the seek key of K is K || trailer(MERU_SEQ_MAX), the
 * smallest internal key of K, so the first internal key >= it is K's
 * newest version when the file holds K, and some other key when it does
 * not. The row group is the first whose exact ikey maximum (chunk
 * statistics, checked at open) is >= the seek key: it holds that first
 * key, so its bloom filters decide whether K is there at all. The page is
 * the first whose (possibly truncated, rounded-up) maximum is >= the seek
 * key; a truncated bound can point one page early, so the search simply
 * continues into the next pages. Keys ascend, so each search starts where
 * the previous key's ended and the cursor never moves back.
 *
 * With a key directory (sst_keydir.c: L1+ files under a budget) the
 * per-key work is a galloping search in it from where the last key
 * stopped: no filter, no page index, no page. A key longer than 8 bytes
 * past the file's shared prefix whose 8 bytes match a row there goes to
 * the pages from that row on (the rows before it hold smaller keys).
 *
 * Values (the change feed's pre-images) are read after the key pass, only
 * for the found puts the caller wants: one cursor per value column per
 * row group, moving forward row by row, so each of their pages is decoded
 * at most once too. Such a lookup reads nearly every page of the file
 * once, so it lets go of the mapped pages it has passed (the file's after
 * the key pass, each row group's after its values): it holds about one
 * row group of the map, not the file.
 *
 * The file is treated as hostile like everywhere else: an internal key
 * that does not parse, or data that disagrees with the row-group bounds,
 * is MERU_ECORRUPT naming the file.
 */
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "sst/sst_keydir.h"
#include "types/keycodec.h"
#include "util/error.h"
#include "util/mem.h"

/* A window larger than this (no offset index: a whole row group) is cut
 * into chunks of WIN_CHUNK rows. */
#define WIN_MAX   (1 << 16)
#define WIN_CHUNK 4096

/* ------------------------------------------------------------- keyset */

int meru_sst_keyset_init(meru_sst_keyset *ks, const meru_schema *schema,
                         const meru_sst_ukey *keys, size_t n)
{
    memset(ks, 0, sizeof *ks);
    if (!schema || (!keys && n))
        return meru_err(MERU_EINVAL, "keyset: NULL argument");
    ks->schema = schema;
    ks->keys = keys;
    ks->n = n;
    ks->nk = schema->nkey;
    for (size_t i = 1; i < n; i++)
        if (meru_ikey_cmp(keys[i - 1].ptr, keys[i - 1].len, keys[i].ptr,
                          keys[i].len) >= 0)
            return meru_err(MERU_EINVAL,
                            "keyset: keys %zu and %zu are not ascending", i - 1,
                            i);
    if (n) {
        /* Per-key tables of a flush's lookup: out of malloc's heaps
         * (util/mem.h). */
        ks->hash = meru_mem_big_calloc(n * (ks->nk ? ks->nk : 1),
                                       sizeof *ks->hash);
        ks->hashed = meru_mem_big_calloc(n, 1);
        ks->hmask = meru_mem_big_calloc(n, sizeof *ks->hmask);
        if (!ks->hash || !ks->hashed || !ks->hmask)
            return meru_err(MERU_ENOMEM, "keyset of %zu keys: out of memory",
                            n);
    }
    return MERU_OK;
}

void meru_sst_keyset_free(meru_sst_keyset *ks)
{
    if (!ks)
        return;
    meru_mem_big_free(ks->hash);
    meru_mem_big_free(ks->hashed);
    meru_mem_big_free(ks->hmask);
    meru_buf_free(&ks->scratch);
    memset(ks, 0, sizeof *ks);
}

/* Whether the key columns of `t` have the types the keyset's hashes are
 * for (the first file asked sets them). */
static bool types_match(meru_sst *t, meru_sst_keyset *ks)
{
    const meru_schema *s = t->schema;
    if (!ks->typed) {
        for (size_t k = 0; k < ks->nk; k++) {
            const pq_column_info *fi = pq_reader_column(
                t->r, (uint32_t)t->pcol[s->key_cols[k]]);
            ks->htype[k] = (int)fi->type;
            ks->htlen[k] = fi->type_length;
        }
        ks->typed = true;
        return true;
    }
    for (size_t k = 0; k < ks->nk; k++) {
        const pq_column_info *fi =
            pq_reader_column(t->r, (uint32_t)t->pcol[s->key_cols[k]]);
        if ((int)fi->type != ks->htype[k] || fi->type_length != ks->htlen[k])
            return false;
    }
    return true;
}

/* The bloom hashes of key i, computed once (with t's column types, which
 * match the keyset's): the mask of its key columns that have one (a
 * column without a PLAIN form for the filter, a boolean, has none). */
static uint32_t key_hashes(meru_sst *t, meru_sst_keyset *ks, size_t i)
{
    if (ks->hashed[i])
        return ks->hmask[i];
    const meru_schema *s = t->schema;
    meru_value kv[MERU_MAX_KEY_COLUMNS];
    size_t nk = 0;
    uint32_t mask = 0;
    meru_buf_reset(&ks->scratch);
    if (meru_key_decode(ks->schema, ks->keys[i].ptr, ks->keys[i].len, kv, &nk,
                        &ks->scratch) == MERU_OK &&
        nk == ks->nk) {
        for (size_t k = 0; k < nk; k++) {
            const meru_column *c = &s->cols[s->key_cols[k]];
            uint32_t pc = (uint32_t)t->pcol[s->key_cols[k]];
            const pq_column_info *fi = pq_reader_column(t->r, pc);
            uint8_t b[16];
            const uint8_t *p;
            size_t len;
            if (sst_plain_key(c, fi, &kv[k], b, &p, &len) &&
                pq_reader_bloom_hash(t->r, pc, p, len,
                                     &ks->hash[i * ks->nk + k]))
                mask |= UINT32_C(1) << k;
        }
    }
    ks->hashed[i] = 1;
    ks->hmask[i] = mask;
    return mask;
}

/* Whether the bloom filters of row group rg prove key i absent. */
static int bloom_absent(meru_sst *t, meru_sst_keyset *ks, bool typed, size_t i,
                        uint32_t rg, bool *checked, bool *absent)
{
    const meru_schema *s = t->schema;
    *checked = *absent = false;
    uint32_t mask = typed ? key_hashes(t, ks, i) : 0;
    for (size_t k = 0; mask && k < ks->nk; k++) {
        uint32_t pc = (uint32_t)t->pcol[s->key_cols[k]];
        bool maybe = true;
        if (!(mask >> k & 1) || !pq_reader_has_bloom(t->r, rg, pc))
            continue;
        int rc = pq_reader_bloom_check_hash(t->r, rg, pc,
                                            ks->hash[i * ks->nk + k], &maybe);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        *checked = true;
        if (!maybe) {
            *absent = true;
            break;
        }
    }
    return MERU_OK;
}

/* ----------------------------------------------------- the ikey window */

/* Decoded rows [beg, end) of _merutable_ikey in row group rg, read through
 * one cursor that only moves forward in practice. */
typedef struct ikwin {
    meru_sst *t;
    uint32_t rg; /* UINT32_MAX: no cursor */
    pq_cursor *cur;
    int64_t beg, end;
    const pq_bytes *v;
    uint64_t pages;
} ikwin;

static void win_close(ikwin *w)
{
    if (w->cur) {
        pq_cursor_stats st;
        pq_cursor_get_stats(w->cur, &st);
        w->pages += st.pages_read;
        pq_cursor_close(w->cur);
    }
    w->cur = NULL;
    w->rg = UINT32_MAX;
    w->beg = w->end = 0;
    w->v = NULL;
}

/* Loads the page of row group rg holding local row `row`. */
static int win_load(ikwin *w, uint32_t rg, int64_t row)
{
    meru_sst *t = w->t;
    int64_t pbeg, pend;
    pq_batch b;
    int rc;
    if (rg != w->rg) {
        win_close(w);
        rc = pq_cursor_open(t->r, rg, (uint32_t)t->col_ikey, &w->cur);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        w->rg = rg;
    }
    w->beg = w->end = 0;
    w->v = NULL;
    if ((rc = sst_page_of_row(t, rg, row, &pbeg, &pend)))
        return rc;
    if (pend - pbeg > WIN_MAX) { /* no page index: a chunk, not the group */
        pbeg = row;
        pend = row + WIN_CHUNK < pend ? row + WIN_CHUNK : pend;
    }
    if (pq_cursor_row(w->cur) != pbeg)
        rc = pq_cursor_seek(w->cur, pbeg);
    if (!rc)
        rc = pq_cursor_next(w->cur, (size_t)(pend - pbeg), &b);
    if (!rc && b.n != (size_t)(pend - pbeg))
        rc = meru_err(MERU_ECORRUPT, "%s ends early in row group %u",
                      MERU_SST_COL_IKEY, rg);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    w->beg = pbeg;
    w->end = pend;
    w->v = b.values;
    return MERU_OK;
}

/* Whether the decoded page at hand (of row group rg) holds the first
 * internal key >= key at or after local row `from`: every row before
 * `from` is below key (keys ascend), so it does when the page starts at
 * or before `from` and ends at or past the key. Then the key is searched
 * there directly: no filter probe (a cache miss in a large filter), no
 * page index. Consecutive sorted keys mostly land in the page the last
 * one did when the lookup is dense (a flush of overwrites, or of many keys
 * against a file of similar size). */
static bool window_holds(const ikwin *w, uint32_t rg, int64_t from,
                         const meru_buf *key)
{
    if (w->rg != rg || !w->v || from < w->beg || from >= w->end)
        return false;
    const pq_bytes *last = &w->v[w->end - w->beg - 1];
    return meru_ikey_cmp(last->ptr, last->len, key->data, key->len) >= 0;
}

/* The first of v[0..n) that is >= key, or n. Galloping from v[0]: the
 * keys of a lookup ascend and each search starts where the last one
 * ended, so the answer is usually a few entries on, and walking there
 * touches the page in order where a binary search would jump about it. */
static size_t first_at_or_after(const pq_bytes *v, size_t n, const meru_buf *key)
{
    size_t lo = 0, hi = 1, step = 1;
    while (hi <= n &&
           meru_ikey_cmp(v[hi - 1].ptr, v[hi - 1].len, key->data, key->len) <
               0) {
        lo = hi;
        hi = step < n - hi ? hi + step : n + 1;
        step *= 2;
    }
    if (hi > n)
        hi = n;
    /* v[lo - 1] < key (or lo == 0), v[hi - 1] >= key (or hi == n). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(v[mid].ptr, v[mid].len, key->data, key->len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The page of _merutable_ikey where the search for each key starts, kept
 * from key to key: keys ascend, so it only moves forward (galloping from
 * where it was, not a binary search from scratch per key). */
typedef struct pgcur {
    uint32_t rg; /* UINT32_MAX: not loaded */
    const pq_column_index *ci; /* NULL: no usable page index */
    const pq_offset_index *oi;
    uint32_t pg;
} pgcur;

static bool page_below(const pq_column_index *ci, uint32_t pg,
                       const meru_buf *key)
{
    return !ci->null_pages[pg] &&
           meru_ikey_cmp(ci->max_values[pg].ptr, ci->max_values[pg].len,
                         key->data, key->len) < 0;
}

/* The first row of the first page of row group rg whose (possibly cut,
 * rounded-up) maximum is >= key: where the first internal key >= key is,
 * or an earlier page when a cut bound misleads (as sst_find_page). */
static int page_start(meru_sst *t, pgcur *p, uint32_t rg, const meru_buf *key,
                      int64_t *pbeg)
{
    if (p->rg != rg) {
        int rc = pq_reader_column_index(t->r, rg, (uint32_t)t->col_ikey,
                                        &p->ci);
        if (!rc)
            rc = pq_reader_offset_index(t->r, rg, (uint32_t)t->col_ikey,
                                        &p->oi);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        if (!p->ci || !p->oi || p->ci->n_pages != p->oi->n_pages ||
            p->oi->n_pages == 0)
            p->ci = NULL;
        p->rg = rg;
        p->pg = 0;
    }
    *pbeg = 0;
    if (!p->ci)
        return MERU_OK;
    uint32_t n = p->ci->n_pages, lo = p->pg, step = 1;
    if (page_below(p->ci, lo, key)) {
        /* Gallop to a page at or past the key, then binary search. */
        uint32_t hi = lo + 1;
        while (hi < n && page_below(p->ci, hi, key)) {
            lo = hi;
            hi = step < n - hi ? hi + step : n;
            step *= 2;
        }
        lo++;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (page_below(p->ci, mid, key))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n) /* bounds below the chunk's own: search from here */
            lo = n - 1;
        p->pg = lo;
    }
    *pbeg = p->oi->page_locations[p->pg].first_row_index;
    return MERU_OK;
}

/* ------------------------------------------------------------- values */

typedef struct valrd {
    meru_sst *t;
    uint32_t rg;     /* of the cursors, UINT32_MAX: none */
    pq_cursor **cur; /* per schema column */
    meru_value *vals;
    meru_buf enc;
    uint64_t pages;
} valrd;

static void valrd_close_cursors(valrd *v)
{
    size_t ncols = v->t->schema->ncols;
    for (size_t i = 0; v->cur && i < ncols; i++) {
        if (!v->cur[i])
            continue;
        pq_cursor_stats st;
        pq_cursor_get_stats(v->cur[i], &st);
        v->pages += st.pages_read;
        pq_cursor_close(v->cur[i]);
        v->cur[i] = NULL;
    }
    v->rg = UINT32_MAX;
}

/* Encodes the value of file row `pos` (a put) into v->enc. */
static int valrd_row(valrd *v, uint64_t pos)
{
    meru_sst *t = v->t;
    const meru_schema *s = t->schema;
    uint32_t rg = sst_rg_of(t, (int64_t)pos);
    int64_t local = (int64_t)pos - t->rg_start[rg];
    char lb[MERU_LABEL_MAX];
    int rc;
    if (rg != v->rg) {
        /* The rows ascend: the row groups passed are not read again by
         * this lookup, which reads nearly every page of a file (a dense
         * flush's pre-images). Their mapped pages leave the RSS now
         * rather than after the whole file, so a lookup holds about one
         * row group of the map (8 MiB at L0) instead of the file (a 45
         * MiB L0 file was resident at bench_kv's peak); pages another
         * reader touches again are minor faults from the page cache. */
        if (v->rg != UINT32_MAX)
            meru_sst_release_row_group(t, v->rg);
        valrd_close_cursors(v);
        v->rg = rg;
    }
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        meru_value *val = &v->vals[i];
        memset(val, 0, sizeof *val);
        if (c->key_position >= 0)
            continue;
        int pc = t->pcol[i];
        if (pc < 0) {
            if (c->initial_default.state == MERU_VALUE_PRESENT)
                *val = c->initial_default;
            else
                val->state = MERU_VALUE_NULL;
            continue;
        }
        pq_batch b;
        rc = MERU_OK;
        if (!v->cur[i])
            rc = pq_cursor_open(t->r, rg, (uint32_t)pc, &v->cur[i]);
        if (!rc && pq_cursor_row(v->cur[i]) != local)
            rc = pq_cursor_seek(v->cur[i], local);
        if (!rc)
            rc = pq_cursor_next(v->cur[i], 1, &b);
        if (!rc && b.n != 1)
            rc = meru_err(MERU_ECORRUPT, "column %s ends early",
                          meru_column_label(c, lb));
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        if (!b.valid[0]) {
            if (!c->nullable)
                return meru_err(MERU_ECORRUPT,
                                "SST %s: null in NOT NULL %s of a put at row "
                                "%llu",
                                t->path, meru_column_label(c, lb),
                                (unsigned long long)pos);
            val->state = MERU_VALUE_NULL;
        } else {
            sst_value_from_batch(c, pq_reader_column(t->r, (uint32_t)pc), &b,
                                 0, val);
        }
    }
    /* Every column's batch is still valid here: each has its own cursor. */
    meru_buf_reset(&v->enc);
    rc = meru_row_encode_values(s, v->vals, &v->enc);
    return rc == MERU_EINVAL ? meru_err_wrap(MERU_ECORRUPT, "SST %s", t->path)
                             : rc;
}

static int read_values(meru_sst *t, const meru_sst_lookup_opts *o,
                       const meru_sst_found *f, size_t nf, uint64_t *pages)
{
    size_t ncols = t->schema->ncols;
    valrd v = {t, UINT32_MAX, NULL, NULL, {0}, 0};
    int rc = MERU_OK;
    v.cur = calloc(ncols ? ncols : 1, sizeof *v.cur);
    v.vals = calloc(ncols ? ncols : 1, sizeof *v.vals);
    if (!v.cur || !v.vals)
        rc = meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    for (size_t i = 0; rc == MERU_OK && i < nf; i++) {
        if (f[i].op != MERU_OP_PUT || (o->want && !o->want[f[i].key]))
            continue;
        rc = valrd_row(&v, f[i].pos);
        if (rc == MERU_OK)
            rc = o->value_fn(o->arg, f[i].key, f[i].pos, v.enc.data,
                             v.enc.len);
    }
    valrd_close_cursors(&v);
    if (v.rg != UINT32_MAX) /* the last row group read, as the others */
        meru_sst_release_row_group(t, v.rg);
    *pages += v.pages;
    free(v.cur);
    free(v.vals);
    meru_buf_free(&v.enc);
    return rc;
}

/* ------------------------------------------------------------- lookup */

/* A lookup is dense in a file when it asks at least one key per
 * DENSE_ROWS rows of the file: then nearly every page of _merutable_ikey
 * would be decoded anyway (for the keys it holds, or for the filters'
 * false positives), and a filter probe per key (a cache miss in a filter
 * of up to 1 MiB, ~0.1 us) costs more than a share of a page decode (an
 * 8 KiB row-tuned page, ~400 keys, costs a few us). A dense lookup skips
 * the filters and merges the keys against the pages. */
#define DENSE_ROWS 16

/* The first i in idx[0..n) whose key is > the file's largest. */
static size_t first_past_range(const meru_sst *t, const meru_sst_keyset *ks,
                               const size_t *idx, size_t from, size_t n)
{
    size_t lo = from, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const meru_sst_ukey *k = &ks->keys[idx[mid]];
        if (meru_ikey_cmp(k->ptr, k->len, t->largest.data, t->largest.len) <=
            0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first i in idx[0..n) whose key is >= the file's smallest. */
static size_t first_in_range(const meru_sst *t, const meru_sst_keyset *ks,
                             const size_t *idx, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const meru_sst_ukey *k = &ks->keys[idx[mid]];
        if (meru_ikey_cmp(k->ptr, k->len, t->smallest.data, t->smallest.len) <
            0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int meru_sst_lookup_batch(meru_sst *t, meru_sst_keyset *ks, const size_t *idx,
                          size_t n, const meru_sst_lookup_opts *o,
                          meru_sst_found *found, size_t *nfound,
                          meru_sst_read_stats *stats)
{
    uint8_t trailer[MERU_IKEY_TRAILER_LEN];
    meru_buf seek = {0};
    ikwin w = {t, UINT32_MAX, NULL, 0, 0, NULL, 0};
    pgcur pc = {UINT32_MAX, NULL, NULL, 0};
    uint64_t checks = 0, negatives = 0;
    uint32_t rg = 0;
    int64_t from = 0; /* local row of rg where the next search may start */
    int rc = MERU_OK;
    size_t nf = 0;

    if (nfound)
        *nfound = 0;
    if (!t || !ks || (!idx && n) || (!found && n) || !nfound)
        return meru_err(MERU_EINVAL, "meru_sst_lookup_batch: NULL argument");
    if (ks->nk != t->schema->nkey)
        return meru_err(MERU_EINVAL,
                        "meru_sst_lookup_batch: the keyset is of another "
                        "schema");
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= ks->n || (i > 0 && idx[i] <= idx[i - 1]))
            return meru_err(MERU_EINVAL,
                            "meru_sst_lookup_batch: key indices must ascend "
                            "below %zu",
                            ks->n);
    bool typed = types_match(t, ks);
    size_t first = first_in_range(t, ks, idx, n);
    size_t end = first_past_range(t, ks, idx, first, n);
    bool dense = (uint64_t)(end - first) * DENSE_ROWS >= t->rows;
    const sst_keydir *kd = first < end ? sst_keydir_get(t, &w.pages) : NULL;
    uint64_t kdrow = 0; /* where the directory search starts */
    meru_ikey_trailer_encode(trailer, MERU_SEQ_MAX, MERU_OP_MAX);
    for (size_t i = first; i < end; i++) {
        const meru_sst_ukey *k = &ks->keys[idx[i]];
        int64_t direct = -1; /* a global row the key's rows start at */
        if (kd) {
            sst_kdkey kk;
            if (!sst_keydir_project(kd, k->ptr, k->len, &kk))
                continue;
            kdrow = sst_keydir_lower(kd, kdrow, kk);
            if (kdrow == kd->rows || sst_kd_cmp(kd, kdrow, kk) != 0)
                continue; /* absent */
            if (!sst_kd_long(kd, kk)) {
                found[nf].key = idx[i];
                found[nf].op = sst_kd_op(kd, kdrow);
                found[nf].seq = sst_kd_seq(kd, kdrow);
                found[nf].pos = kdrow;
                nf++;
                continue;
            }
            /* A long key matching 8 bytes: its page decides. */
            direct = (int64_t)kdrow;
        }
        meru_buf_reset(&seek);
        if ((rc = meru_buf_append(&seek, k->ptr, k->len)) ||
            (rc = meru_buf_append(&seek, trailer, sizeof trailer)))
            break;
        while (rg < t->nrg && meru_ikey_cmp(t->rg_max[rg].ptr, t->rg_max[rg].len,
                                            seek.data, seek.len) < 0) {
            rg++;
            from = 0;
        }
        if (rg == t->nrg)
            break;
        int64_t pbeg = from, hit = -1, rows = sst_rg_rows(t, rg);
        if (direct >= 0) {
            /* Every row before `direct` is below the key. */
            if (direct - t->rg_start[rg] > pbeg)
                pbeg = direct - t->rg_start[rg];
        } else if (!window_holds(&w, rg, from, &seek)) {
            /* Not in the page at hand: the filters first (a key absent
             * costs no page) unless the lookup is dense, then the page
             * index. */
            bool checked = false, absent = false;
            if (!dense && (rc = bloom_absent(t, ks, typed, idx[i], rg,
                                             &checked, &absent)))
                break;
            checks += checked;
            negatives += absent;
            if (absent)
                continue;
            if ((rc = page_start(t, &pc, rg, &seek, &pbeg)))
                break;
        }
        for (int64_t r = pbeg > from ? pbeg : from; r < rows;) {
            if (w.rg != rg || r < w.beg || r >= w.end)
                if ((rc = win_load(&w, rg, r)))
                    break;
            size_t at = (size_t)(r - w.beg), wn = (size_t)(w.end - w.beg);
            size_t lo = at + first_at_or_after(w.v + at, wn - at, &seek);
            if (lo < wn) {
                hit = w.beg + (int64_t)lo;
                break;
            }
            r = w.end;
        }
        if (rc)
            break;
        if (hit < 0) {
            rc = meru_err(MERU_ECORRUPT,
                          "SST %s: row group %u holds no key up to its "
                          "maximum",
                          t->path, rg);
            break;
        }
        from = hit;
        const pq_bytes *ik = &w.v[hit - w.beg];
        size_t ulen;
        uint64_t seq;
        int op;
        if (meru_ikey_parse(ik->ptr, ik->len, &ulen, &seq, &op)) {
            rc = meru_err(MERU_ECORRUPT, "SST %s: bad internal key at row %lld",
                          t->path, (long long)(t->rg_start[rg] + hit));
            break;
        }
        if (meru_ikey_cmp(ik->ptr, ulen, k->ptr, k->len) != 0)
            continue; /* a false positive of the filters */
        found[nf].key = idx[i];
        found[nf].op = op;
        found[nf].seq = seq;
        found[nf].pos = (uint64_t)(t->rg_start[rg] + hit);
        nf++;
    }
    win_close(&w);
    meru_buf_free(&seek);
    if (rc == MERU_OK && o && o->value_fn) {
        /* The key pass is done with the key column's pages (a dense
         * lookup read them all, in every row group): out of the RSS
         * before the values come in, as each row group's are after its
         * values (valrd_row). */
        meru_sst_release_pages(t);
        rc = read_values(t, o, found, nf, &w.pages);
    }
    if (stats) {
        stats->bloom_checks += checks;
        stats->bloom_negatives += negatives;
        stats->pages_read += w.pages;
    }
    *nfound = rc ? 0 : nf;
    return rc;
}

int meru_sst_ikeys_at(meru_sst *t, const uint64_t *pos, size_t n,
                      int (*fn)(void *arg, uint64_t pos, const uint8_t *ikey,
                                size_t ilen),
                      void *arg, meru_sst_read_stats *stats)
{
    ikwin w = {t, UINT32_MAX, NULL, 0, 0, NULL, 0};
    int rc = MERU_OK;
    if (!t || (!pos && n) || !fn)
        return meru_err(MERU_EINVAL, "meru_sst_ikeys_at: NULL argument");
    for (size_t i = 0; i < n && rc == MERU_OK; i++) {
        if (pos[i] >= t->rows || (i > 0 && pos[i] <= pos[i - 1])) {
            rc = meru_err(MERU_EINVAL,
                          "meru_sst_ikeys_at: positions must ascend below "
                          "the %llu rows of %s",
                          (unsigned long long)t->rows, t->path);
            break;
        }
        uint32_t rg = sst_rg_of(t, (int64_t)pos[i]);
        int64_t local = (int64_t)pos[i] - t->rg_start[rg];
        if (w.rg != rg || local < w.beg || local >= w.end)
            if ((rc = win_load(&w, rg, local)))
                break;
        const pq_bytes *ik = &w.v[local - w.beg];
        rc = fn(arg, pos[i], ik->ptr, ik->len);
    }
    win_close(&w);
    if (stats)
        stats->pages_read += w.pages;
    return rc;
}
