/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enc_dict.c — the dictionary builder behind PLAIN_DICTIONARY /
 * RLE_DICTIONARY column chunks.
 *
 * Distinct values get indexes 0..count-1 in insertion order (the order of
 * the dictionary page). Values are compared by their bytes, so for FLOAT
 * and DOUBLE +0.0 and -0.0 are distinct entries and a NaN equals only the
 * same NaN bit pattern — exactly what a round trip through the page needs.
 *
 * Layout: every value's bytes are copied back to back into one growable
 * buffer (`data`, insertion order), described by `entries`; `slots` is an
 * open-addressing table (linear probing, load factor at most 1/2) holding
 * entry index + 1, 0 for empty. Each entry keeps a 32-bit fold of the value's
 * XXH3 hash so probes rarely touch the bytes and growth never rehashes
 * them. For fixed-width types `data` is therefore already the PLAIN
 * dictionary page body.
 *
 * Not here: deciding when a dictionary grows too large (the writer asks
 * pq_dict_plain_bytes() and pq_dict_count() and falls back to PLAIN).
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "parquet/encoding.h"
#include "util/endian.h"
#include "util/error.h"

#define DICT_INIT_SLOTS 64u
#define DICT_MAX_COUNT  (UINT32_MAX / 4)

typedef struct dict_entry {
    size_t off;
    uint32_t len;
    uint32_t hash;
} dict_entry;

struct pq_dict {
    pq_type type;
    uint32_t width; /* fixed value size; 0 for BYTE_ARRAY */
    uint32_t count;
    dict_entry *entries;
    uint32_t entries_cap;
    uint32_t *slots;
    uint32_t nslots; /* a power of two */
    meru_buf data;
    size_t plain_bytes;
};

int pq_dict_new(pq_dict **out, pq_type type, int32_t type_length)
{
    uint32_t width;
    switch (type) {
    case PQ_INT32:
    case PQ_FLOAT:
        width = 4;
        break;
    case PQ_INT64:
    case PQ_DOUBLE:
        width = 8;
        break;
    case PQ_INT96:
        width = 12;
        break;
    case PQ_BYTE_ARRAY:
        width = 0;
        break;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (type_length <= 0)
            return meru_err(MERU_EINVAL,
                            "dictionary: FIXED_LEN_BYTE_ARRAY length %d",
                            (int)type_length);
        width = (uint32_t)type_length;
        break;
    case PQ_BOOLEAN:
        return meru_err(MERU_EINVAL, "dictionary: BOOLEAN columns are never "
                                     "dictionary-encoded");
    default:
        return meru_err(MERU_EINVAL, "dictionary: unknown physical type %d",
                        (int)type);
    }
    pq_dict *d = calloc(1, sizeof *d);
    if (!d)
        return meru_err(MERU_ENOMEM, "dictionary: out of memory");
    d->slots = calloc(DICT_INIT_SLOTS, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return meru_err(MERU_ENOMEM, "dictionary: out of memory");
    }
    d->nslots = DICT_INIT_SLOTS;
    d->type = type;
    d->width = width;
    *out = d;
    return MERU_OK;
}

void pq_dict_free(pq_dict *d)
{
    if (!d)
        return;
    free(d->entries);
    free(d->slots);
    meru_buf_free(&d->data);
    free(d);
}

void pq_dict_reset(pq_dict *d)
{
    d->count = 0;
    d->data.len = 0;
    d->plain_bytes = 0;
    memset(d->slots, 0, (size_t)d->nslots * sizeof *d->slots);
}

uint32_t pq_dict_count(const pq_dict *d)
{
    return d->count;
}

size_t pq_dict_plain_bytes(const pq_dict *d)
{
    return d->plain_bytes;
}

static int dict_grow_slots(pq_dict *d)
{
    uint32_t n = d->nslots * 2;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return meru_err(MERU_ENOMEM,
                        "dictionary: cannot grow hash table to "
                        "%u slots",
                        n);
    uint32_t mask = n - 1;
    for (uint32_t e = 0; e < d->count; e++) {
        uint32_t i = d->entries[e].hash & mask;
        while (s[i])
            i = (i + 1) & mask;
        s[i] = e + 1;
    }
    free(d->slots);
    d->slots = s;
    d->nslots = n;
    return MERU_OK;
}

int pq_dict_insert(pq_dict *d, const void *value, uint32_t len, uint32_t *index)
{
    if (d->width && len != d->width)
        return meru_err(MERU_EINVAL,
                        "dictionary: value of %u bytes in a column of "
                        "%u-byte values",
                        len, d->width);
    if (!d->width && len > INT32_MAX)
        return meru_err(MERU_ERANGE,
                        "dictionary: value of %u bytes is too "
                        "long",
                        len);
    uint64_t h64 = XXH3_64bits(value, len);
    uint32_t h = (uint32_t)(h64 ^ (h64 >> 32));
    uint32_t mask = d->nslots - 1, i = h & mask;
    while (d->slots[i]) {
        const dict_entry *e = &d->entries[d->slots[i] - 1];
        if (e->hash == h && e->len == len &&
            (len == 0 || memcmp(d->data.data + e->off, value, len) == 0)) {
            *index = d->slots[i] - 1;
            return MERU_OK;
        }
        i = (i + 1) & mask;
    }

    /* A new value. */
    if (d->count >= DICT_MAX_COUNT)
        return meru_err(MERU_ERANGE, "dictionary: more than %u values",
                        (unsigned)DICT_MAX_COUNT);
    if (d->count == d->entries_cap) {
        uint32_t cap = d->entries_cap ? d->entries_cap * 2 : 64;
        dict_entry *e = realloc(d->entries, (size_t)cap * sizeof *e);
        if (!e)
            return meru_err(MERU_ENOMEM, "dictionary: out of memory");
        d->entries = e;
        d->entries_cap = cap;
    }
    size_t off = d->data.len;
    int rc = meru_buf_append(&d->data, value, len);
    if (rc)
        return rc;
    if ((d->count + 1) * 2 > d->nslots) {
        rc = dict_grow_slots(d);
        if (rc) {
            d->data.len = off;
            return rc;
        }
        mask = d->nslots - 1;
        i = h & mask;
        while (d->slots[i])
            i = (i + 1) & mask;
    }
    d->entries[d->count] = (dict_entry){off, len, h};
    d->slots[i] = d->count + 1;
    *index = d->count++;
    d->plain_bytes += (d->width ? 0 : 4) + (size_t)len;
    return MERU_OK;
}

int pq_dict_write_plain(const pq_dict *d, meru_buf *out)
{
    if (d->width)
        return meru_buf_append(out, d->data.data, d->data.len);
    int rc = meru_buf_reserve(out, d->plain_bytes);
    if (rc)
        return rc;
    uint8_t *o = out->data + out->len;
    for (uint32_t i = 0; i < d->count; i++) {
        const dict_entry *e = &d->entries[i];
        meru_store_le32(o, e->len);
        if (e->len)
            memcpy(o + 4, d->data.data + e->off, e->len);
        o += 4 + (size_t)e->len;
    }
    out->len += d->plain_bytes;
    return MERU_OK;
}
