/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.c — write-batch builder and record iterator (format in batch.h).
 *
 * The entries live in `rep` after MERU_BATCH_HEADER_MAX reserved bytes; the
 * header (whose count varint changes length as entries are added) is
 * written right-aligned into that gap by meru_batch_data(), so the record is
 * contiguous without moving the entries. An add encodes key and value into
 * the reusable scratch buffers first, so a failure leaves `rep` untouched;
 * after warm-up an add does not allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/batch.h"
#include "types/rowcodec.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

void meru_batch_init(meru_batch *b)
{
    memset(b, 0, sizeof *b);
}

void meru_batch_free(meru_batch *b)
{
    if (!b)
        return;
    meru_buf_free(&b->rep);
    meru_buf_free(&b->key);
    meru_buf_free(&b->val);
    meru_buf_free(&b->dscratch);
    memset(b, 0, sizeof *b);
}

void meru_batch_clear(meru_batch *b)
{
    meru_buf_reset(&b->rep);
    b->count = 0;
    b->first_seq = 0;
}

/* Appends one entry from raw parts; on failure `rep` is as it was. */
static int append_entry(meru_batch *b, int op, const uint8_t *key,
                        size_t klen, const uint8_t *value, size_t vlen)
{
    if (op != MERU_OP_PUT && op != MERU_OP_DELETE)
        return meru_err(MERU_EINVAL, "batch: op %d is not put or delete", op);
    if (klen == 0 || klen > MERU_BATCH_MAX_KEY || !key)
        return meru_err(MERU_EINVAL, "batch: key of %zu bytes", klen);
    if (op == MERU_OP_PUT && (vlen > MERU_BATCH_MAX_VALUE || (!value && vlen)))
        return meru_err(MERU_EINVAL, "batch: value of %zu bytes", vlen);
    if (b->count == UINT32_MAX)
        return meru_err(MERU_ERANGE, "batch: too many entries");
    if (b->first_seq + b->count > MERU_SEQ_MAX)
        return meru_err(MERU_ERANGE,
                        "batch: entry %u would pass the last sequence number",
                        b->count);
    size_t need = 1 + meru_varint_len64(klen) + klen;
    if (op == MERU_OP_PUT)
        need += meru_varint_len64(vlen) + vlen;
    size_t hdr = b->rep.len ? 0 : MERU_BATCH_HEADER_MAX;
    int rc = meru_buf_reserve(&b->rep, hdr + need);
    if (rc)
        return rc;
    if (hdr) {
        memset(b->rep.data, 0, hdr);
        b->rep.len = hdr;
    }
    uint8_t *p = b->rep.data + b->rep.len;
    *p++ = (uint8_t)op;
    p += meru_varint_put64(p, klen);
    memcpy(p, key, klen);
    p += klen;
    if (op == MERU_OP_PUT) {
        p += meru_varint_put64(p, vlen);
        if (vlen)
            memcpy(p, value, vlen);
        p += vlen;
    }
    b->rep.len += need;
    b->count++;
    return MERU_OK;
}

int meru_batch_add_raw(meru_batch *b, int op, const uint8_t *key,
                       size_t klen, const uint8_t *value, size_t vlen)
{
    if (!b)
        return meru_err(MERU_EINVAL, "meru_batch_add_raw: NULL batch");
    return append_entry(b, op, key, klen, value, vlen);
}

/* A put's row lacks column `c` (added to the table after the row was
 * made): it is written as the write default, else null. */
static int missing_column(const meru_column *c)
{
    char lb[MERU_LABEL_MAX];
    if (c->nullable || c->write_default.state == MERU_VALUE_PRESENT)
        return MERU_OK;
    return meru_err(MERU_EINVAL,
                    "%s is NOT NULL and has no write default; the row was "
                    "made before it was added (make it on meru_db_schema())",
                    meru_column_label(c, lb));
}

int meru_batch_put(meru_batch *b, const meru_schema *s, const meru_row *row)
{
    if (!b || !s || !row)
        return meru_err(MERU_EINVAL, "meru_batch_put: NULL argument");
    int rc = meru_row_validate(row);
    if (rc)
        return rc;
    for (size_t i = row->ncols; i < s->ncols; i++)
        if ((rc = missing_column(&s->cols[i])))
            return rc;
    meru_buf_reset(&b->key);
    meru_buf_reset(&b->val);
    rc = meru_key_encode_row(s, row, &b->key);
    if (rc)
        return rc;
    rc = meru_row_encode(s, row, &b->val);
    if (rc)
        return rc;
    return append_entry(b, MERU_OP_PUT, b->key.data, b->key.len, b->val.data,
                        b->val.len);
}

int meru_batch_reencode(meru_batch *dst, meru_batch *src,
                        const meru_schema *from, const meru_schema *to)
{
    meru_batch_iter it;
    meru_batch_entry e;
    meru_buf scratch = {0};
    memset(&it, 0, sizeof it);
    memset(&e, 0, sizeof e);
    meru_value *vals = calloc(to->ncols, sizeof *vals);
    const uint8_t *rec;
    size_t len;
    int rc = vals ? MERU_OK : meru_err(MERU_ENOMEM, "out of memory (batch)");
    if (!rc && to->ncols < from->ncols)
        rc = meru_err(MERU_EINVAL, "meru_batch_reencode: fewer columns");
    for (size_t i = from->ncols; !rc && i < to->ncols; i++) {
        const meru_column *c = &to->cols[i];
        if ((rc = missing_column(c)))
            break;
        if (c->write_default.state == MERU_VALUE_PRESENT)
            vals[i] = c->write_default;
        else
            vals[i].state = MERU_VALUE_NULL;
    }
    if (!rc && (rc = meru_batch_set_sequence(src, src->first_seq)) == MERU_OK) {
        rec = meru_batch_data(src, &len);
        rc = meru_batch_iter_init(&it, rec, len);
    }
    while (!rc && (rc = meru_batch_iter_next(&it, &e)) == MERU_OK) {
        if (e.op != MERU_OP_PUT) {
            rc = meru_batch_add_raw(dst, e.op, e.key, e.klen, NULL, 0);
            continue;
        }
        scratch.len = 0;
        meru_buf_reset(&dst->val);
        rc = meru_row_decode_view(from, e.key, e.klen, e.value, e.vlen, NULL,
                                  vals, &scratch);
        if (!rc)
            rc = meru_row_encode_values(to, vals, &dst->val);
        if (!rc)
            rc = meru_batch_add_raw(dst, e.op, e.key, e.klen, dst->val.data,
                                    dst->val.len);
    }
    if (rc == MERU_NOT_FOUND)
        rc = MERU_OK;
    meru_buf_free(&scratch);
    free(vals);
    return rc;
}

int meru_batch_delete_row(meru_batch *b, const meru_schema *s,
                          const meru_row *row)
{
    if (!b || !s || !row)
        return meru_err(MERU_EINVAL, "meru_batch_delete_row: NULL argument");
    meru_buf_reset(&b->key);
    int rc = meru_key_encode_row(s, row, &b->key);
    if (rc)
        return rc;
    return append_entry(b, MERU_OP_DELETE, b->key.data, b->key.len, NULL, 0);
}

int meru_batch_delete_key(meru_batch *b, const meru_schema *s,
                          const uint8_t *key, size_t klen)
{
    if (!b || !s || (!key && klen))
        return meru_err(MERU_EINVAL, "meru_batch_delete_key: NULL argument");
    meru_value kv[MERU_MAX_KEY_COLUMNS];
    size_t nk = 0;
    if (s->nkey == 0 || s->nkey > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_EINVAL, "meru_batch_delete_key: schema has %zu "
                                     "key columns",
                        s->nkey);
    meru_buf_reset(&b->dscratch);
    int rc = meru_key_decode(s, key, klen, kv, &nk, &b->dscratch);
    if (rc)
        return meru_err(MERU_EINVAL, "meru_batch_delete_key: not a key of "
                                     "table '%s'",
                        s->table_name);
    if (nk != s->nkey)
        return meru_err(MERU_EINVAL,
                        "meru_batch_delete_key: key has %zu of %zu columns",
                        nk, s->nkey);
    return append_entry(b, MERU_OP_DELETE, key, klen, NULL, 0);
}

int meru_batch_append(meru_batch *dst, const meru_batch *src)
{
    if (!dst || !src || dst == src)
        return meru_err(MERU_EINVAL, "meru_batch_append: bad arguments");
    if (!src->count)
        return MERU_OK;
    if (src->count > UINT32_MAX - dst->count)
        return meru_err(MERU_ERANGE, "batch: too many entries");
    if (dst->first_seq + dst->count + src->count - 1 > MERU_SEQ_MAX)
        return meru_err(MERU_ERANGE,
                        "batch: appended entries would pass the last "
                        "sequence number");
    size_t body = src->rep.len - MERU_BATCH_HEADER_MAX;
    size_t hdr = dst->rep.len ? 0 : MERU_BATCH_HEADER_MAX;
    int rc = meru_buf_reserve(&dst->rep, hdr + body);
    if (rc)
        return rc;
    if (hdr) {
        memset(dst->rep.data, 0, hdr);
        dst->rep.len = hdr;
    }
    memcpy(dst->rep.data + dst->rep.len,
           src->rep.data + MERU_BATCH_HEADER_MAX, body);
    dst->rep.len += body;
    dst->count += src->count;
    return MERU_OK;
}

size_t meru_batch_byte_size(const meru_batch *b)
{
    size_t body = b->rep.len ? b->rep.len - MERU_BATCH_HEADER_MAX : 0;
    return 1 + 8 + meru_varint_len64(b->count) + body;
}

int meru_batch_set_sequence(meru_batch *b, uint64_t first_seq)
{
    if (first_seq > MERU_SEQ_MAX ||
        (b->count && b->count - 1 > MERU_SEQ_MAX - first_seq))
        return meru_err(MERU_ERANGE,
                        "batch: %u entries from sequence %llu pass the last "
                        "sequence number",
                        b->count, (unsigned long long)first_seq);
    b->first_seq = first_seq;
    return MERU_OK;
}

static size_t put_header(uint8_t *p, uint64_t seq, uint32_t count)
{
    p[0] = MERU_BATCH_MAGIC;
    meru_store_le64(p + 1, seq);
    return 9 + meru_varint_put64(p + 9, count);
}

const uint8_t *meru_batch_data(meru_batch *b, size_t *len)
{
    uint8_t tmp[MERU_BATCH_HEADER_MAX];
    size_t h = put_header(tmp, b->first_seq, b->count);
    if (!b->rep.len) {
        /* An empty batch may have no storage yet: its record is the
         * header alone, kept in the struct so this cannot fail. */
        memcpy(b->empty_rec, tmp, h);
        *len = h;
        return b->empty_rec;
    }
    uint8_t *start = b->rep.data + (MERU_BATCH_HEADER_MAX - h);
    memcpy(start, tmp, h);
    *len = b->rep.len - (MERU_BATCH_HEADER_MAX - h);
    return start;
}

/* ---------------------------------------------------------------- reading */

int meru_batch_iter_init(meru_batch_iter *it, const uint8_t *rec, size_t len)
{
    memset(it, 0, sizeof *it);
    if (!rec && len)
        return meru_err(MERU_EINVAL, "meru_batch_iter_init: NULL record");
    if (len < 10)
        return meru_err(MERU_ECORRUPT,
                        "batch record: %zu bytes, shorter than a header "
                        "(offset 0)",
                        len);
    if (rec[0] != MERU_BATCH_MAGIC)
        return meru_err(MERU_ECORRUPT,
                        "batch record: bad magic 0x%02x (offset 0)", rec[0]);
    uint64_t seq = meru_load_le64(rec + 1);
    uint32_t count;
    size_t h = meru_varint_get32(rec + 9, len - 9, &count);
    if (h == 0)
        return meru_err(MERU_ECORRUPT,
                        "batch record: bad entry count (offset 9)");
    size_t off = 9 + h;
    /* Each entry takes at least 3 bytes (op, key length, one key byte). */
    if (count > (len - off) / 3)
        return meru_err(MERU_ECORRUPT,
                        "batch record: %u entries cannot fit in %zu bytes "
                        "(offset 9)",
                        count, len - off);
    if (seq > MERU_SEQ_MAX || (count && count - 1 > MERU_SEQ_MAX - seq))
        return meru_err(MERU_ECORRUPT,
                        "batch record: %u entries from sequence %llu pass the "
                        "last sequence number (offset 1)",
                        count, (unsigned long long)seq);
    it->rec = rec;
    it->len = len;
    it->off = off;
    it->first_seq = seq;
    it->count = count;
    return MERU_OK;
}

static int bad_entry(const meru_batch_iter *it, size_t off, const char *what)
{
    return meru_err(MERU_ECORRUPT, "batch record: entry %u: %s (offset %zu)",
                    it->index, what, off);
}

int meru_batch_iter_next(meru_batch_iter *it, meru_batch_entry *e)
{
    const uint8_t *r = it->rec;
    size_t off = it->off, len = it->len;
    if (it->index >= it->count) {
        if (off != len)
            return meru_err(MERU_ECORRUPT,
                            "batch record: %zu bytes after the %u entries of "
                            "the header count (offset %zu)",
                            len - off, it->count, off);
        return MERU_NOT_FOUND;
    }
    if (off >= len)
        return bad_entry(it, off, "record ends before the header count");
    int op = r[off];
    if (op != MERU_OP_PUT && op != MERU_OP_DELETE)
        return bad_entry(it, off, "op is not put or delete");
    off++;
    uint32_t klen;
    size_t h = meru_varint_get32(r + off, len - off, &klen);
    if (h == 0)
        return bad_entry(it, off, "bad key length");
    if (klen == 0 || klen > MERU_BATCH_MAX_KEY)
        return bad_entry(it, off, "key length out of range");
    off += h;
    if (klen > len - off)
        return bad_entry(it, off, "key cut short");
    e->key = r + off;
    e->klen = klen;
    off += klen;
    e->value = NULL;
    e->vlen = 0;
    if (op == MERU_OP_PUT) {
        uint32_t vlen;
        h = meru_varint_get32(r + off, len - off, &vlen);
        if (h == 0)
            return bad_entry(it, off, "bad value length");
        if (vlen > MERU_BATCH_MAX_VALUE)
            return bad_entry(it, off, "value length out of range");
        off += h;
        if (vlen > len - off)
            return bad_entry(it, off, "value cut short");
        e->value = r + off;
        e->vlen = vlen;
        off += vlen;
    }
    e->op = op;
    e->seq = it->first_seq + it->index;
    it->off = off;
    it->index++;
    return MERU_OK;
}

int meru_batch_check(const uint8_t *rec, size_t len, uint32_t *count,
                     uint64_t *first_seq)
{
    meru_batch_iter it;
    meru_batch_entry e;
    int rc = meru_batch_iter_init(&it, rec, len);
    if (rc)
        return rc;
    while ((rc = meru_batch_iter_next(&it, &e)) == MERU_OK)
        ;
    if (rc != MERU_NOT_FOUND)
        return rc;
    if (count)
        *count = it.count;
    if (first_seq)
        *first_seq = it.first_seq;
    return MERU_OK;
}
