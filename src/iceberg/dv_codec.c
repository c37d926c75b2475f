/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dv_codec.c — the deletion-vector-v1 blob (Puffin spec) for a meru_dv,
 * and its place in a Puffin file (see dv.h for the layout).
 *
 * Why the validator: CRoaring 0.2.66's portable_deserialize_safe bounds
 * its reads but takes container contents on trust (an array container
 * out of order, a bitset whose popcount is not its cardinality, runs that
 * overlap), and a bitmap built from such bytes answers contains() and
 * cardinality wrongly or worse. So every bucket's 32-bit portable layout
 * (RoaringFormatSpec) is checked here first:
 *   cookie  12347 | (containers - 1) << 16 (with runs, then a run-flag
 *           bitset) or 12346 then a 32-bit container count (no runs)
 *   header  per container a 16-bit key (strictly ascending) and
 *           cardinality - 1
 *   offsets per container a 32-bit offset, present unless the bitmap has
 *           runs and fewer than 4 containers; each must point where the
 *           container really starts
 *   bodies  run: 16-bit run count >= 1, then (start, length - 1) pairs,
 *           ascending, non-overlapping, inside 0..65535, summing to the
 *           cardinality; array (cardinality <= 4096): strictly ascending
 *           16-bit values; bitset (cardinality > 4096): 8 KiB whose
 *           popcount is the cardinality.
 * Only then does CRoaring deserialise it.
 */
#include <inttypes.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iceberg/dv.h"
#include "iceberg/puffin.h"
#include "merutable.h"
#include "util/buf.h"
#include "util/endian.h"
#include "util/error.h"

static const uint8_t dv_magic[4] = {0xD1, 0xD3, 0x39, 0x64};

#define COOKIE_RUNS         12347u
#define COOKIE_NO_RUNS      12346u
#define NO_OFFSET_THRESHOLD 4u
#define ARRAY_MAX           4096u
#define BITSET_BYTES        8192u
/* Bytes of the blob around the vector: length, magic, CRC. */
#define FRAME_BYTES 12u

/* ---------------------------------------------------------- encoding --- */

int meru_dv_blob_encode(meru_buf *out, meru_dv *dv)
{
    size_t start = out->len, nb;
    uint8_t *p;
    int rc;
    meru_dv_optimize(dv);
    nb = meru_dv_bucket_count(dv);
    if (nb && meru_dv_bucket_key(dv, nb - 1) >= 0x80000000u)
        return meru_err(MERU_EINVAL, "deletion vector: positions must be "
                                     "below 2^63");
    /* length placeholder, magic, bucket count */
    if ((rc = meru_buf_extend(out, 4, &p)) ||
        (rc = meru_buf_append(out, dv_magic, 4)) ||
        (rc = meru_buf_extend(out, 8, &p)))
        goto fail;
    meru_store_le64(p, nb);
    for (size_t i = 0; i < nb; i++) {
        const roaring_bitmap_t *bm = meru_dv_bucket_bitmap(dv, i);
        size_t sz = roaring_bitmap_portable_size_in_bytes(bm);
        if ((rc = meru_buf_extend(out, 4 + sz, &p)))
            goto fail;
        meru_store_le32(p, meru_dv_bucket_key(dv, i));
        if (roaring_bitmap_portable_serialize(bm, (char *)p + 4) != sz) {
            rc = meru_err(MERU_EINTERNAL, "deletion vector: CRoaring wrote "
                                          "an unexpected size");
            goto fail;
        }
    }
    size_t body = out->len - start - 4; /* magic + vector */
    if (body > UINT32_MAX - 4) {
        rc = meru_err(MERU_EINVAL, "deletion vector: too large for a blob");
        goto fail;
    }
    uint32_t crc = (uint32_t)crc32(0L, out->data + start + 4, (uInt)body);
    meru_store_be32(out->data + start, (uint32_t)body);
    if ((rc = meru_buf_extend(out, 4, &p)))
        goto fail;
    meru_store_be32(p, crc);
    return MERU_OK;
fail:
    out->len = start;
    return rc;
}

/* ---------------------------------------------------------- validation --- */

static int bad_bitmap(const char *what, size_t at)
{
    return meru_err(MERU_ECORRUPT,
                    "deletion vector: roaring bitmap %s (at "
                    "byte %zu of the bitmap)",
                    what, at);
}

static int check_run(const uint8_t *p, size_t n, size_t at, uint32_t card,
                     size_t *end)
{
    if (n - at < 2)
        return bad_bitmap("truncated run count", at);
    uint32_t runs = meru_load_le16(p + at);
    if (runs == 0)
        return bad_bitmap("run container without runs", at);
    if ((n - at - 2) / 4 < runs)
        return bad_bitmap("truncated run container", at);
    uint64_t sum = 0;
    int64_t prev_end = -1;
    for (uint32_t r = 0; r < runs; r++) {
        uint32_t start = meru_load_le16(p + at + 2 + 4 * r);
        uint32_t len = meru_load_le16(p + at + 4 + 4 * r);
        if ((int64_t)start <= prev_end)
            return bad_bitmap("runs out of order or overlapping", at);
        if (start + len > 0xffff)
            return bad_bitmap("run past the end of its container", at);
        prev_end = start + len;
        sum += len + 1;
    }
    if (sum != card)
        return bad_bitmap("run lengths do not add up to the cardinality", at);
    *end = at + 2 + 4 * (size_t)runs;
    return MERU_OK;
}

static int check_array(const uint8_t *p, size_t n, size_t at, uint32_t card,
                       size_t *end)
{
    if ((n - at) / 2 < card)
        return bad_bitmap("truncated array container", at);
    for (uint32_t k = 1; k < card; k++)
        if (meru_load_le16(p + at + 2 * k) <=
            meru_load_le16(p + at + 2 * (k - 1)))
            return bad_bitmap("array container not strictly ascending", at);
    *end = at + 2 * (size_t)card;
    return MERU_OK;
}

static int check_bitset(const uint8_t *p, size_t n, size_t at, uint32_t card,
                        size_t *end)
{
    if (n - at < BITSET_BYTES)
        return bad_bitmap("truncated bitset container", at);
    uint64_t pop = 0;
    for (size_t k = 0; k < BITSET_BYTES; k += 8)
        pop += (uint64_t)__builtin_popcountll(meru_load_le64(p + at + k));
    if (pop != card)
        return bad_bitmap("bitset popcount differs from its cardinality", at);
    *end = at + BITSET_BYTES;
    return MERU_OK;
}

int meru_dv_roaring_check(const uint8_t *p, size_t n, size_t *size,
                          uint64_t *cardinality)
{
    size_t at = 4, runflags = 0;
    uint32_t count;
    bool runs;
    int rc;
    if (n < 4)
        return bad_bitmap("truncated cookie", 0);
    uint32_t cookie = meru_load_le32(p);
    if ((cookie & 0xffff) == COOKIE_RUNS) {
        runs = true;
        count = (cookie >> 16) + 1;
        runflags = at;
        at += (count + 7) / 8;
        if (at > n)
            return bad_bitmap("truncated run flags", runflags);
    } else if (cookie == COOKIE_NO_RUNS) {
        runs = false;
        if (n < 8)
            return bad_bitmap("truncated container count", at);
        count = meru_load_le32(p + at);
        at += 4;
        if (count > 65536)
            return bad_bitmap("more than 65536 containers", 4);
    } else {
        return bad_bitmap("has an unknown cookie", 0);
    }
    size_t header = at;
    if ((n - at) / 4 < count)
        return bad_bitmap("truncated key/cardinality header", at);
    at += 4 * (size_t)count;
    bool offsets = !runs || count >= NO_OFFSET_THRESHOLD;
    size_t offs = at;
    if (offsets) {
        if ((n - at) / 4 < count)
            return bad_bitmap("truncated offset header", at);
        at += 4 * (size_t)count;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t key = meru_load_le16(p + header + 4 * i);
        uint32_t card = (uint32_t)meru_load_le16(p + header + 4 * i + 2) + 1;
        if (i > 0 && key <= meru_load_le16(p + header + 4 * (i - 1)))
            return bad_bitmap("container keys not strictly ascending",
                              header + 4 * i);
        if (offsets && meru_load_le32(p + offs + 4 * i) != at)
            return bad_bitmap("offset header does not match the containers",
                              offs + 4 * i);
        bool is_run = runs && (p[runflags + i / 8] >> (i % 8)) & 1;
        if (is_run)
            rc = check_run(p, n, at, card, &at);
        else if (card > ARRAY_MAX)
            rc = check_bitset(p, n, at, card, &at);
        else
            rc = check_array(p, n, at, card, &at);
        if (rc)
            return rc;
        total += card;
    }
    *size = at;
    *cardinality = total;
    return MERU_OK;
}

/* ---------------------------------------------------------- decoding --- */

static int bad_blob(const char *what)
{
    return meru_err(MERU_ECORRUPT, "deletion vector blob: %s", what);
}

int meru_dv_blob_decode(meru_dv **out, const uint8_t *p, size_t n,
                        uint64_t expected_cardinality)
{
    meru_dv *dv = NULL;
    uint64_t total = 0;
    int rc;
    *out = NULL;
    if (n < FRAME_BYTES + 8)
        return bad_blob("shorter than its frame");
    if (meru_load_be32(p) != n - 8)
        return bad_blob("length field does not match the blob's size");
    if (memcmp(p + 4, dv_magic, 4) != 0)
        return bad_blob("bad magic");
    uint32_t want = meru_load_be32(p + n - 4);
    if ((uint32_t)crc32(0L, p + 4, (uInt)(n - 8)) != want)
        return bad_blob("CRC-32 mismatch");
    const uint8_t *v = p + 8;
    size_t vn = n - FRAME_BYTES, at = 8;
    uint64_t buckets = meru_load_le64(v);
    /* Each bucket takes a key and at least an 8-byte empty bitmap. */
    if (buckets > (vn - 8) / 12)
        return bad_blob("bucket count larger than the data");
    if ((rc = meru_dv_new(&dv)))
        return rc;
    int64_t prev = -1;
    for (uint64_t b = 0; b < buckets; b++) {
        size_t size;
        uint64_t card;
        if (vn - at < 4) {
            rc = bad_blob("truncated bucket key");
            goto fail;
        }
        uint32_t key = meru_load_le32(v + at);
        at += 4;
        if ((int64_t)key <= prev) {
            rc = bad_blob("bucket keys not strictly ascending");
            goto fail;
        }
        if (key >= 0x80000000u) {
            rc = bad_blob("position at or above 2^63");
            goto fail;
        }
        prev = key;
        if ((rc = meru_dv_roaring_check(v + at, vn - at, &size, &card)))
            goto fail;
        if (card) {
            roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(
                (const char *)v + at, size);
            if (!bm) {
                rc = bad_blob("CRoaring refused a validated bitmap");
                goto fail;
            }
            if ((rc = meru_dv_push_bucket(dv, key, bm)))
                goto fail;
        }
        total += card;
        at += size;
    }
    if (at != vn) {
        rc = bad_blob("bytes left over after the last bucket");
        goto fail;
    }
    if (expected_cardinality != UINT64_MAX && total != expected_cardinality) {
        rc = meru_err(MERU_ECORRUPT,
                      "deletion vector blob: %" PRIu64 " positions, the "
                      "metadata says %" PRIu64,
                      total, expected_cardinality);
        goto fail;
    }
    *out = dv;
    return MERU_OK;
fail:
    meru_dv_free(dv);
    return rc;
}

/* ------------------------------------------------------------ puffin --- */

int meru_dv_puffin_add(meru_puffin_writer *w, meru_dv *dv,
                       const char *referenced_data_file, uint64_t *offset,
                       uint64_t *length)
{
    meru_buf b = {0};
    char card[24];
    int32_t field = MERU_DV_POS_FIELD_ID;
    int rc = meru_dv_blob_encode(&b, dv);
    if (rc)
        return rc;
    snprintf(card, sizeof card, "%" PRIu64, meru_dv_cardinality(dv));
    meru_puffin_prop props[] = {
        {"referenced-data-file", referenced_data_file},
        {"cardinality", card},
    };
    meru_puffin_blob_meta meta = {
        .type = MERU_DV_BLOB_TYPE,
        .fields = &field,
        .n_fields = 1,
        .snapshot_id = -1,
        .sequence_number = -1,
        .props = props,
        .n_props = 2,
    };
    rc = meru_puffin_writer_add(w, &meta, b.data, b.len, offset, length);
    meru_buf_free(&b);
    return rc;
}

/* A decimal property value, strictly. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

int meru_dv_puffin_read(meru_puffin_reader *r, uint64_t offset, uint64_t length,
                        const char *referenced_data_file, uint64_t cardinality,
                        meru_dv **out)
{
    size_t i, len;
    uint8_t *data = NULL;
    uint64_t card;
    int rc;
    *out = NULL;
    if (meru_puffin_reader_find(r, offset, length, &i))
        return meru_err(MERU_ECORRUPT,
                        "deletion vector: the Puffin footer lists no blob at "
                        "offset %" PRIu64 " length %" PRIu64,
                        offset, length);
    const meru_puffin_blob_meta *b =
        meru_puffin_footer_blob(meru_puffin_reader_footer(r), i);
    const char *ref = meru_puffin_blob_prop(b, "referenced-data-file");
    if (strcmp(b->type, MERU_DV_BLOB_TYPE) != 0 || b->compression_codec)
        return meru_err(MERU_ECORRUPT,
                        "deletion vector: blob at %" PRIu64
                        " is not an uncompressed %s",
                        offset, MERU_DV_BLOB_TYPE);
    if (!ref || strcmp(ref, referenced_data_file) != 0)
        return meru_err(MERU_ECORRUPT,
                        "deletion vector: blob at %" PRIu64 " references "
                        "%s, not %s",
                        offset, ref ? ref : "no file", referenced_data_file);
    if (!parse_u64(meru_puffin_blob_prop(b, "cardinality"), &card) ||
        card != cardinality)
        return meru_err(MERU_ECORRUPT,
                        "deletion vector: blob at %" PRIu64 " has cardinality "
                        "%s, expected %" PRIu64,
                        offset,
                        meru_puffin_blob_prop(b, "cardinality")
                            ? meru_puffin_blob_prop(b, "cardinality")
                            : "(none)",
                        cardinality);
    if ((rc = meru_puffin_reader_read_blob(r, i, SIZE_MAX, &data, &len)))
        return rc;
    rc = meru_dv_blob_decode(out, data, len, cardinality);
    free(data);
    return rc;
}

int meru_dv_read_blob(meru_fs *fs, const char *path, uint64_t offset,
                      uint64_t length, const char *referenced_data_file,
                      uint64_t cardinality, meru_dv **out)
{
    meru_puffin_reader *r = NULL;
    int rc = meru_puffin_reader_open(&r, fs, path, 0);
    *out = NULL;
    if (!rc)
        rc = meru_dv_puffin_read(r, offset, length, referenced_data_file,
                                 cardinality, out);
    meru_puffin_reader_close(r);
    if (rc)
        meru_err_wrap(rc, "reading deletion vector in %s", path);
    return rc;
}
