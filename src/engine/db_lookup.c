/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_lookup.c — the newest version of many keys across the table's files
 * (meru_db_lookup_older), and every file's deletion vector rebuilt from
 * the data (meru_db_rebuild_dvs). See db_lookup.h for what they return.
 *
 * The lookup walks the files in view order with the set of keys still
 * unresolved, which only shrinks: L0 files one by one (each gets the
 * pending keys in its key range, found by binary search), then each deeper
 * level once, its sorted non-overlapping files sharing out the sorted
 * pending keys by range in one merge-like pass. The per-file work is
 * meru_sst_lookup_batch (sst_lookup.c): filters, page index, each page
 * decoded at most once. A file is opened only when some key falls in its
 * range. The keyset keeps each key's bloom hashes, computed on the first
 * file and reused by every other: for a flush of new keys (the common
 * case for random inserts) the whole cost per key and file is a range
 * test and a filter probe.
 *
 * The reconcile (a compaction committing after flushes that hid rows of
 * its inputs) reads the keys of the newly hidden input rows back and looks
 * them up in the outputs: each is its key's first row there.
 *
 * The rebuild is the definition of the view turned into a merge: every
 * file's SST iterator reading the internal-key column only, one k-way
 * merge, and for each entry its file (the merge's current child) and row
 * position (the SST iterator's). Equal internal keys cannot occur in a
 * valid table (sequence numbers are unique), so the first entry of a user
 * key is its newest version.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_lookup.h"
#include "engine/merge.h"
#include "types/keycodec.h"
#include "util/error.h"
#include "util/mem.h"

static int key_cmp(const meru_sst_ukey *k, const uint8_t *b, size_t bl)
{
    return meru_ikey_cmp(k->ptr, k->len, b, bl);
}

/* First p in pend[0..np) whose key is >= (lo, lol). */
static size_t lower_bound(const meru_sst_ukey *keys, const size_t *pend,
                          size_t np, const uint8_t *lo, size_t lol)
{
    size_t a = 0, b = np;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (key_cmp(&keys[pend[mid]], lo, lol) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* First p in pend[from..np) whose key is > (hi, hil). */
static size_t upper_bound(const meru_sst_ukey *keys, const size_t *pend,
                          size_t from, size_t np, const uint8_t *hi,
                          size_t hil)
{
    size_t a = from, b = np;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (key_cmp(&keys[pend[mid]], hi, hil) <= 0)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

typedef struct lookup {
    meru_sst_keyset ks;
    const meru_sst_lookup_opts *o;
    meru_db_older *out;
    meru_sst_found *found; /* scratch, room for every key */
    meru_db_lookup_stats st;
} lookup;

/* Probes file fi with the pending keys pend[0..np) (all in its range). */
static int probe(lookup *L, meru_db_file *f, size_t fi, const size_t *pend,
                 size_t np)
{
    meru_sst *t;
    meru_sst_read_stats rs = {0, 0, 0};
    size_t nf = 0;
    int rc = meru_db_file_sst(f, &t);
    /* A lookup with values (the change feed's pre-images) touches most
     * pages of every older file it probes (bench_kv held three 45 MB L0
     * files resident at once, and at L1 the whole table in overwrite):
     * meru_sst_lookup_batch lets go of what it has passed. Key-only
     * lookups touch little: their pages stay. */
    if (rc == MERU_OK)
        rc = meru_sst_lookup_batch(t, &L->ks, pend, np, L->o, L->found, &nf,
                                   &rs);
    L->st.probes++;
    L->st.bloom_checks += rs.bloom_checks;
    L->st.bloom_negatives += rs.bloom_negatives;
    L->st.pages_read += rs.pages_read;
    if (rc)
        return rc;
    for (size_t i = 0; i < nf; i++) {
        meru_db_older *r = &L->out[L->found[i].key];
        r->state = L->found[i].op == MERU_OP_PUT ? MERU_SST_FOUND
                                                 : MERU_SST_DELETED;
        r->seq = L->found[i].seq;
        r->file = fi;
        r->pos = L->found[i].pos;
    }
    L->st.found += nf;
    return MERU_OK;
}

/* Drops the keys resolved so far from pend[0..*np). */
static void compact_pending(lookup *L, size_t *pend, size_t *np)
{
    size_t k = 0;
    for (size_t i = 0; i < *np; i++)
        if (L->out[pend[i]].state == MERU_SST_NOT_FOUND)
            pend[k++] = pend[i];
    *np = k;
}

int meru_db_lookup_older(meru_db_file *const *files, size_t nfiles,
                         const meru_schema *schema, const meru_sst_ukey *keys,
                         size_t n, const meru_sst_lookup_opts *o,
                         meru_db_older *out, meru_db_lookup_stats *st)
{
    lookup L;
    size_t *pend = NULL, np = n;
    int rc;
    memset(&L, 0, sizeof L);
    L.o = o;
    L.out = out;
    if ((rc = meru_sst_keyset_init(&L.ks, schema, keys, n)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        out[i].state = MERU_SST_NOT_FOUND;
        out[i].seq = out[i].pos = 0;
        out[i].file = 0;
    }
    L.st.keys = n;
    if (n == 0 || nfiles == 0)
        goto out;
    /* Per-key scratch of a flush's lookup: out of malloc's heaps
     * (util/mem.h). */
    pend = meru_mem_big_calloc_dense(n, sizeof *pend);
    L.found = meru_mem_big_calloc_dense(n, sizeof *L.found);
    if (!pend || !L.found) {
        rc = meru_err(MERU_ENOMEM, "lookup of %zu keys: out of memory", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        pend[i] = i;
    for (size_t i = 0; i < nfiles && np && rc == MERU_OK;) {
        const meru_catalog_file *m = &files[i]->meta;
        if (m->level == 0) {
            size_t a = lower_bound(keys, pend, np, m->smallest,
                                   m->smallest_len);
            size_t b = upper_bound(keys, pend, a, np, m->largest,
                                   m->largest_len);
            if (b > a && (rc = probe(&L, files[i], i, pend + a, b - a)) == 0)
                compact_pending(&L, pend, &np);
            i++;
            continue;
        }
        /* A deeper level: its files and the pending keys both ascend. */
        int level = m->level;
        size_t p = 0, probed = 0;
        for (; i < nfiles && files[i]->meta.level == level; i++) {
            const meru_catalog_file *f = &files[i]->meta;
            if (rc || p == np)
                continue;
            while (p < np &&
                   key_cmp(&keys[pend[p]], f->smallest, f->smallest_len) < 0)
                p++;
            size_t q = upper_bound(keys, pend, p, np, f->largest,
                                   f->largest_len);
            if (q > p) {
                rc = probe(&L, files[i], i, pend + p, q - p);
                probed++;
            }
            p = q;
        }
        if (rc == MERU_OK && probed)
            compact_pending(&L, pend, &np);
    }
out:
    if (st) {
        st->keys += L.st.keys;
        st->probes += L.st.probes;
        st->bloom_checks += L.st.bloom_checks;
        st->bloom_negatives += L.st.bloom_negatives;
        st->pages_read += L.st.pages_read;
        st->found += L.st.found;
    }
    meru_sst_keyset_free(&L.ks);
    meru_mem_big_free(pend);
    meru_mem_big_free(L.found);
    return rc;
}

/* ------------------------------------------------------------- rebuild */

int meru_db_rebuild_dvs(meru_db_file *const *files, size_t n, meru_dv **out)
{
    meru_iiter **kids = NULL, *merged = NULL;
    meru_colset none;
    meru_buf last = {0};
    bool have_last = false;
    size_t nk = 0;
    int rc = MERU_OK;

    memset(&none, 0, sizeof none);
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0)
        return MERU_OK;
    kids = calloc(n, sizeof *kids);
    if (!kids)
        return meru_err(MERU_ENOMEM, "rebuilding deletion vectors: out of "
                                     "memory");
    /* Every file is open at once here: no decode-ahead, which would
     * start a worker thread (and its page rings) per file. */
    for (; nk < n && rc == MERU_OK; nk++) {
        meru_sst *t;
        if ((rc = meru_db_file_sst(files[nk], &t)) ||
            (rc = meru_sst_iter_new_ex(t, &none, MERU_SST_NO_READAHEAD,
                                       &kids[nk])))
            break;
    }
    if (rc) {
        for (size_t i = 0; i < nk; i++)
            meru_iiter_destroy(kids[i]);
        free(kids);
        return rc;
    }
    /* The merge owns the children; kids[] keeps borrowed pointers to ask
     * them for their row positions. */
    if ((rc = meru_merge_iter_new(kids, n, &merged))) {
        free(kids);
        return rc;
    }
    for (merged->ops->seek_to_first(merged); merged->ops->valid(merged);
         merged->ops->next(merged)) {
        size_t kl, ul;
        int op;
        const uint8_t *k = merged->ops->key(merged, &kl);
        if ((rc = meru_ikey_parse(k, kl, &ul, NULL, &op)))
            break;
        bool first = !have_last || last.len != ul ||
                     (ul && memcmp(last.data, k, ul) != 0);
        if (first) {
            meru_buf_reset(&last);
            if ((rc = meru_buf_append(&last, k, ul)))
                break;
            have_last = true;
        }
        if (first && op == MERU_OP_PUT)
            continue; /* the one visible row of this key */
        size_t c = meru_merge_iter_current(merged);
        uint64_t pos = meru_sst_iter_pos(kids[c]);
        if (!out[c] && (rc = meru_dv_new(&out[c])))
            break;
        if ((rc = meru_dv_add(out[c], pos)))
            break;
    }
    if (rc == MERU_OK)
        rc = merged->ops->status(merged);
    meru_iiter_destroy(merged);
    free(kids);
    meru_buf_free(&last);
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            meru_dv_free(out[i]);
            out[i] = NULL;
        }
        return meru_err_wrap(rc, "rebuilding deletion vectors");
    }
    for (size_t i = 0; i < n; i++)
        if (out[i])
            meru_dv_optimize(out[i]);
    return MERU_OK;
}

/* ----------------------------------------------------------- reconcile */

/* User keys read back from input rows (reconcile). */
typedef struct keybag {
    meru_buf bytes;
    size_t *off, *len;
    size_t n, cap;
} keybag;

static int bag_add(void *arg, uint64_t pos, const uint8_t *ikey, size_t ilen)
{
    keybag *b = arg;
    size_t ulen;
    int rc;
    (void)pos;
    if ((rc = meru_ikey_parse(ikey, ilen, &ulen, NULL, NULL)))
        return rc;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        size_t *o = realloc(b->off, cap * sizeof *o);
        if (o)
            b->off = o;
        size_t *l = o ? realloc(b->len, cap * sizeof *l) : NULL;
        if (!o || !l)
            return meru_err(MERU_ENOMEM, "out of memory (reconcile)");
        b->len = l;
        b->cap = cap;
    }
    b->off[b->n] = b->bytes.len;
    b->len[b->n] = ulen;
    if ((rc = meru_buf_append(&b->bytes, ikey, ulen)))
        return rc;
    b->n++;
    return MERU_OK;
}

typedef struct poslist {
    uint64_t *p;
    size_t n, cap;
    const meru_dv *old;
} poslist;

/* Collects the positions of the current vector that the captured one
 * lacks. */
static int collect_new(uint64_t pos, void *arg)
{
    poslist *l = arg;
    if (l->old && meru_dv_contains(l->old, pos))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint64_t *p = realloc(l->p, cap * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "out of memory (reconcile)");
        l->p = p;
        l->cap = cap;
    }
    l->p[l->n++] = pos;
    return 0;
}

static const uint8_t *bag_key(const keybag *b, size_t i)
{
    return b->bytes.data + b->off[i];
}

static int ukey_sort_cmp(const void *x, const void *y)
{
    const meru_sst_ukey *a = x, *b = y;
    return meru_ikey_cmp(a->ptr, a->len, b->ptr, b->len);
}

int meru_db_reconcile_dvs(meru_db *db, meru_db_file *const *in,
                          meru_dv *const *in_dv, size_t nin,
                          const meru_catalog_file *out, meru_dv **out_dv,
                          size_t nout_files)
{
    keybag bag;
    meru_sst_ukey *keys = NULL;
    meru_db_file **outf = NULL;
    meru_db_older *res = NULL;
    size_t nk = 0, nout = 0;
    int rc = MERU_OK;

    memset(&bag, 0, sizeof bag);
    for (size_t i = 0; i < nin && rc == MERU_OK; i++) {
        meru_dv *cur = NULL;
        poslist l = {NULL, 0, 0, in_dv[i]};
        meru_sst *t;
        if ((rc = meru_catalog_file_dv(db->cat, in[i]->meta.path, &cur)) ||
            !cur) {
            meru_dv_free(cur);
            continue;
        }
        rc = meru_dv_foreach(cur, collect_new, &l);
        meru_dv_free(cur);
        if (rc == MERU_OK && l.n &&
            (rc = meru_db_file_sst(in[i], &t)) == MERU_OK)
            rc = meru_sst_ikeys_at(t, l.p, l.n, bag_add, &bag, NULL);
        free(l.p);
    }
    if (rc || bag.n == 0)
        goto out;
    keys = malloc(bag.n * sizeof *keys);
    res = malloc(bag.n * sizeof *res);
    outf = calloc(nout_files ? nout_files : 1, sizeof *outf);
    if (!keys || !res || !outf) {
        rc = meru_err(MERU_ENOMEM, "out of memory (reconcile)");
        goto out;
    }
    for (size_t i = 0; i < bag.n; i++) {
        keys[i].ptr = bag_key(&bag, i);
        keys[i].len = bag.len[i];
    }
    qsort(keys, bag.n, sizeof *keys, ukey_sort_cmp);
    for (size_t i = 0; i < bag.n; i++)
        if (nk == 0 || ukey_sort_cmp(&keys[nk - 1], &keys[i]) != 0)
            keys[nk++] = keys[i];
    for (; nout < nout_files; nout++)
        if ((rc = meru_db_file_new(db, &out[nout], &outf[nout])))
            goto out;
    if ((rc = meru_db_lookup_older(outf, nout, db->schema, keys, nk, NULL,
                                   res, NULL)))
        goto out;
    for (size_t i = 0; i < nk && rc == MERU_OK; i++) {
        if (res[i].state != MERU_SST_FOUND) {
            rc = meru_err(MERU_ECORRUPT,
                          "compaction: a row a flush hid meanwhile is not "
                          "a put in the outputs");
            break;
        }
        if (!out_dv[res[i].file])
            rc = meru_dv_new(&out_dv[res[i].file]);
        if (rc == MERU_OK)
            rc = meru_dv_add(out_dv[res[i].file], res[i].pos);
    }
    if (rc == MERU_OK)
        atomic_fetch_add_explicit(&db->st_view_reconciled, nk,
                                  memory_order_relaxed);
out:
    /* Temporary entries, not obsolete: unref closes, deletes nothing. */
    for (size_t i = 0; i < nout; i++)
        meru_db_file_unref(outf[i]);
    free(outf);
    free(keys);
    free(res);
    free(bag.off);
    free(bag.len);
    meru_buf_free(&bag.bytes);
    return rc;
}
