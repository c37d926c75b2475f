/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changelog.c — changes of a flushed memtable and the changelog file
 * (format and kinds in changelog.h).
 *
 * Collecting: the memtable is walked once in internal-key order (user key
 * ascending, newest version first); each key's versions are replayed
 * oldest first from the pre-image to derive kinds; the changes are then
 * sorted by sequence. Nothing is copied: changes point into the memtable
 * (which the flush holds) and the pre-image buffer.
 *
 * Writing: per change, the key and both rows are decoded without copies
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

typedef struct version {
    uint64_t seq;
    int op;
    const uint8_t *value;
    size_t vlen;
} version;

static int rec_cmp(const void *pa, const void *pb)
{
    const meru_changelog_rec *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Puts recs[0..n) in sequence order. A memtable's sequences are nearly
 * all of one range (one per entry, deletes of absent keys aside), so each
 * change goes straight to its place through a table indexed by seq - lo:
 * two passes instead of a comparison sort that copies 64-byte records
 * n log n times. A sparse range (or no memory for the table) falls back to
 * qsort. */
static void sort_by_seq(meru_changelog_rec **recs, size_t n)
{
    meru_changelog_rec *in = *recs, *out;
    uint64_t lo = UINT64_MAX, hi = 0;
    uint32_t *at;
    if (n < 2)
        return;
    for (size_t i = 0; i < n; i++) {
        if (in[i].seq < lo)
            lo = in[i].seq;
        if (in[i].seq > hi)
            hi = in[i].seq;
    }
    uint64_t range = hi - lo + 1;
    if (n > UINT32_MAX - 1 || range > 4 * (uint64_t)n ||
        !(at = calloc(range, sizeof *at))) {
        qsort(in, n, sizeof *in, rec_cmp);
        return;
    }
    if (!(out = malloc(n * sizeof *out))) {
        free(at);
        qsort(in, n, sizeof *in, rec_cmp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        at[in[i].seq - lo] = (uint32_t)i + 1;
    size_t j = 0;
    for (uint64_t k = 0; k < range; k++)
        if (at[k])
            out[j++] = in[at[k] - 1];
    free(at);
    if (j != n) { /* a sequence twice (not from a memtable): compare */
        free(out);
        qsort(in, n, sizeof *in, rec_cmp);
        return;
    }
    free(in);
    *recs = out;
}

/* Appends the changes of one key's versions vs[0..nv) (newest first). */
static int key_changes(const meru_changelog_pre *pre, const uint8_t *ukey,
                       size_t klen, const version *vs, size_t nv,
                       meru_changelog_rec **recs, size_t *n, size_t *cap)
{
    int live = pre->live;
    const uint8_t *cur = pre->value;
    size_t clen = pre->vlen;
    for (size_t k = nv; k-- > 0;) {
        const version *v = &vs[k];
        meru_changelog_rec r = {v->seq, 0, ukey, klen, NULL, 0, NULL, 0};
        if (v->op == MERU_OP_PUT) {
            r.kind = live ? MERU_CHANGE_UPDATE : MERU_CHANGE_INSERT;
            r.value = v->value;
            r.vlen = v->vlen;
            if (live) {
                r.before = cur;
                r.blen = clen;
            }
            live = 1;
            cur = v->value;
            clen = v->vlen;
        } else if (live) {
            r.kind = MERU_CHANGE_DELETE;
            r.before = cur;
            r.blen = clen;
            live = 0;
        } else {
            continue; /* a delete of an absent key changes nothing */
        }
        if (*n == *cap) {
            size_t c = *cap ? 2 * *cap : 1024;
            meru_changelog_rec *p = realloc(*recs, c * sizeof *p);
            if (!p)
                return meru_err(MERU_ENOMEM, "out of memory (changes)");
            *recs = p;
            *cap = c;
        }
        (*recs)[(*n)++] = r;
    }
    return MERU_OK;
}

int meru_changelog_collect(const meru_memtable *mem,
                           const meru_changelog_pre *pre, size_t nkeys,
                           meru_changelog_rec **out, size_t *n)
{
    meru_memtable_iter it;
    meru_changelog_rec *recs = NULL;
    version *vs = NULL;
    size_t nrec = 0, cap = 0, nv = 0, vcap = 0, key = 0;
    const uint8_t *ukey = NULL;
    size_t klen = 0;
    int rc = MERU_OK;

    *out = NULL;
    *n = 0;
    /* At most one change per entry: sized once (no copies as it grows). */
    cap = (size_t)meru_memtable_count(mem);
    if (cap && !(recs = malloc(cap * sizeof *recs)))
        return meru_err(MERU_ENOMEM, "out of memory (changes)");
    meru_memtable_iter_init(&it, mem);
    for (meru_memtable_iter_seek_to_first(&it);; meru_memtable_iter_next(&it)) {
        bool valid = meru_memtable_iter_valid(&it);
        size_t ul = 0;
        const uint8_t *uk =
            valid ? meru_memtable_iter_user_key(&it, &ul) : NULL;
        if (nv && (!valid || ul != klen || memcmp(uk, ukey, ul))) {
            /* the previous key's versions are complete */
            if (key >= nkeys) {
                rc = meru_err(MERU_EINVAL, "changes: more keys in the "
                                           "memtable than pre-images");
                break;
            }
            if ((rc = key_changes(&pre[key], ukey, klen, vs, nv, &recs, &nrec,
                                  &cap)))
                break;
            key++;
            nv = 0;
        }
        if (!valid)
            break;
        if (nv == vcap) {
            size_t c = vcap ? 2 * vcap : 16;
            version *p = realloc(vs, c * sizeof *p);
            if (!p) {
                rc = meru_err(MERU_ENOMEM, "out of memory (changes)");
                break;
            }
            vs = p;
            vcap = c;
        }
        ukey = uk;
        klen = ul;
        vs[nv].seq = meru_memtable_iter_seq(&it);
        vs[nv].op = meru_memtable_iter_op(&it);
        vs[nv].value = meru_memtable_iter_value(&it, &vs[nv].vlen);
        nv++;
    }
    free(vs);
    if (rc == MERU_OK && key != nkeys)
        rc = meru_err(MERU_EINVAL,
                      "changes: %zu keys in the memtable, %zu "
                      "pre-images",
                      key, nkeys);
    if (rc) {
        free(recs);
        return rc;
    }
    sort_by_seq(&recs, nrec);
    *out = recs;
    *n = nrec;
    return MERU_OK;
}

/* -------------------------------------------------------------- write */

int meru_changelog_write(meru_fs *fs, const char *path,
                         const meru_schema *table, const meru_schema *cl,
                         const meru_changelog_rec *recs, size_t n,
                         const meru_sst_options *so, meru_changelog_meta *out)
{
    size_t nt = table->ncols, ncl = cl->ncols;
    meru_value *tv = calloc(2 * nt + 1, sizeof *tv), *bv = tv + nt;
    meru_value *cv = calloc(ncl + 1, sizeof *cv);
    meru_buf ikey = {0}, scratch = {0}, bscratch = {0};
    meru_sst_writer *w = NULL;
    meru_sst_meta meta;
    int rc;

    memset(&meta, 0, sizeof meta);
    if (!tv || !cv) {
        rc = meru_err(MERU_ENOMEM, "out of memory (changelog)");
        goto out;
    }
    if ((rc = meru_sst_writer_open(&w, fs, path, cl, so)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const meru_changelog_rec *r = &recs[i];
        size_t c = 0;
        scratch.len = bscratch.len = 0;
        /* The new row, or for a delete the key alone. */
        if (r->value)
            rc = meru_row_decode_view(table, r->ukey, r->klen, r->value,
                                      r->vlen, NULL, tv, &scratch);
        else
            rc = meru_row_decode_view(table, r->ukey, r->klen, r->before,
                                      r->blen, NULL, tv, &scratch);
        if (rc == MERU_OK && r->before)
            rc = meru_row_decode_view(table, r->ukey, r->klen, r->before,
                                      r->blen, NULL, bv, &bscratch);
        if (rc)
            break;
        cv[c].state = MERU_VALUE_PRESENT;
        cv[c++].u.i64 = (int64_t)r->seq;
        cv[c].state = MERU_VALUE_PRESENT;
        cv[c].u.bytes.ptr = (const uint8_t *)op_names[r->kind];
        cv[c++].u.bytes.len = (uint32_t)strlen(op_names[r->kind]);
        for (size_t j = 0; j < nt; j++, c++) {
            cv[c] = tv[j];
            if (!r->value && table->cols[j].key_position < 0)
                cv[c].state = MERU_VALUE_NULL;
        }
        for (size_t j = 0; j < nt; j++) {
            if (table->cols[j].key_position >= 0)
                continue;
            cv[c] = bv[j];
            if (!r->before)
                cv[c].state = MERU_VALUE_NULL;
            c++;
        }
        ikey.len = 0;
        if ((rc = meru_key_encode(cl, cv, 1, &ikey)) ||
            (rc = meru_ikey_append_trailer(&ikey, r->seq, MERU_OP_PUT)) ||
            (rc = meru_sst_writer_add_values(w, ikey.data, ikey.len, cv)))
            break;
    }
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
