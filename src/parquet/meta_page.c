/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_page.c — decoders for the Parquet structs a reader meets page by
 * page rather than once per file: PageHeader (with a short path for the
 * data page v2 header our writer emits), ColumnIndex, OffsetIndex (with a
 * short path for PageLocation) and BloomFilterHeader. They use the driver
 * and helpers of meta.c through meta_dec.h and keep the rules written at
 * the top of meta.c. Each short path takes only inputs the generic decoder
 * decodes to the same values; anything else, every error included, goes
 * the generic way, so what is accepted and what is reported does not
 * depend on which path ran.
 */
#include "parquet/meta.h"

#include <string.h>

#include "parquet/meta_dec.h"
#include "parquet/thrift.h"
#include "util/error.h"
#include "util/varint.h"

/* --------------------------------------------------------- PageHeader */

static const md_fdesc DPH_F[] = {{0},
                                 {"num_values", TC_I32, true},
                                 {"encoding", TC_I32, true},
                                 {"definition_level_encoding", TC_I32, true},
                                 {"repetition_level_encoding", TC_I32, true},
                                 {"statistics", TC_STRUCT, false}};

static int dph_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_data_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return md_rd_i32_nonneg(d, &h->num_values);
    case 2:
        rc = md_rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    case 3:
        rc = md_rd_enum(d, &v);
        h->definition_level_encoding = (pq_encoding)v;
        return rc;
    case 4:
        rc = md_rd_enum(d, &v);
        h->repetition_level_encoding = (pq_encoding)v;
        return rc;
    default: /* 5 */
        h->has_statistics = true;
        return md_dec_statistics(d, &h->statistics);
    }
}

static const md_fdesc DICT_F[] = {{0},
                                  {"num_values", TC_I32, true},
                                  {"encoding", TC_I32, true},
                                  {"is_sorted", TC_TRUE, false}};

static int dict_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_dictionary_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return md_rd_i32_nonneg(d, &h->num_values);
    case 2:
        rc = md_rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    default: /* 3 */
        h->has_is_sorted = true;
        h->is_sorted = t == TC_TRUE;
        return MERU_OK;
    }
}

static const md_fdesc DPH2_F[] = {
    {0},
    {"num_values", TC_I32, true},
    {"num_nulls", TC_I32, true},
    {"num_rows", TC_I32, true},
    {"encoding", TC_I32, true},
    {"definition_levels_byte_length", TC_I32, true},
    {"repetition_levels_byte_length", TC_I32, true},
    {"is_compressed", TC_TRUE, false},
    {"statistics", TC_STRUCT, false}};

static int dph2_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_data_page_header_v2 *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return md_rd_i32_nonneg(d, &h->num_values);
    case 2:
        return md_rd_i32_nonneg(d, &h->num_nulls);
    case 3:
        return md_rd_i32_nonneg(d, &h->num_rows);
    case 4:
        rc = md_rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    case 5:
        return md_rd_i32_nonneg(d, &h->definition_levels_byte_length);
    case 6:
        return md_rd_i32_nonneg(d, &h->repetition_levels_byte_length);
    case 7:
        h->is_compressed = t == TC_TRUE;
        return MERU_OK;
    default: /* 8 */
        h->has_statistics = true;
        return md_dec_statistics(d, &h->statistics);
    }
}

static int dec_data_page_header_v2(md_dec *d, pq_data_page_header_v2 *h)
{
    h->is_compressed = true; /* the IDL default */
    int rc = md_dec_struct(d, "DataPageHeaderV2", DPH2_F, MD_NFIELDS(DPH2_F),
                           dph2_field, h);
    if (rc)
        return rc;
    /* Nulls are values, and every row has at least one value (a null or
     * an empty list still has a level). */
    if (h->num_nulls > h->num_values || h->num_rows > h->num_values)
        return meru_err(MERU_ECORRUPT,
                        "DataPageHeaderV2: num_nulls %d / num_rows %d exceed "
                        "num_values %d (offset %zu)",
                        (int)h->num_nulls, (int)h->num_rows, (int)h->num_values,
                        d->r.pos);
    return MERU_OK;
}

static const md_fdesc PH_F[] = {{0},
                                {"type", TC_I32, true},
                                {"uncompressed_page_size", TC_I32, true},
                                {"compressed_page_size", TC_I32, true},
                                {"crc", TC_I32, false},
                                {"data_page_header", TC_STRUCT, false},
                                {0}, /* 6: index_page_header, an empty struct */
                                {"dictionary_page_header", TC_STRUCT, false},
                                {"data_page_header_v2", TC_STRUCT, false}};

static int ph_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        rc = md_rd_enum(d, &v);
        h->type = (pq_page_type)v;
        return rc;
    case 2:
        return md_rd_i32_nonneg(d, &h->uncompressed_page_size);
    case 3:
        return md_rd_i32_nonneg(d, &h->compressed_page_size);
    case 4:
        h->has_crc = true;
        return tc_read_i32(&d->r, &h->crc);
    case 5:
        h->has_data_page_header = true;
        return md_dec_struct(d, "DataPageHeader", DPH_F, MD_NFIELDS(DPH_F),
                             dph_field, &h->data_page_header);
    case 7:
        h->has_dictionary_page_header = true;
        return md_dec_struct(d, "DictionaryPageHeader", DICT_F,
                             MD_NFIELDS(DICT_F), dict_field,
                             &h->dictionary_page_header);
    default: /* 8 */
        h->has_data_page_header_v2 = true;
        return dec_data_page_header_v2(d, &h->data_page_header_v2);
    }
}

/* One i32 field of the fast path: header byte `h` (delta 1, type i32
 * unless said), then a zigzag varint; false on anything else. */
static bool fast_i32(const uint8_t *p, size_t len, size_t *at, uint8_t h,
                     int32_t *out)
{
    if (*at >= len || p[*at] != h)
        return false;
    uint32_t v;
    size_t n = meru_varint_get32(p + *at + 1, len - *at - 1, &v);
    if (n == 0)
        return false;
    *out = meru_zigzag_dec32(v);
    *at += 1 + n;
    return true;
}

/* The data page v2 header every writer of ours emits: PageHeader fields
 * 1-3 (type DATA_PAGE_V2), 4 (crc) or not, 8 (DataPageHeaderV2: fields 1-6,
 * 7 (is_compressed) or not, 8 (Statistics holding only a null count) or
 * not), each field's header one byte, then the stops. A point read that
 * misses the page cache and a scan both decode one per page, and the
 * generic field loop cost ~2k instructions a header (bench/RESULTS.md,
 * "page decodes into their cache entries"); this shape is ~10 varints.
 * Any other shape or value the generic path would refuse (a negative
 * size, nulls over the values) goes to the generic path, which then
 * decodes or reports exactly as it always did: the fast path takes only
 * inputs the generic one decodes to the same values. */
static bool page_header_v2_fast(const uint8_t *p, size_t len,
                                pq_page_header *out, size_t *consumed)
{
    size_t at = 0;
    int32_t type, usize, csize;
    if (!fast_i32(p, len, &at, 0x15, &type) || type != PQ_PAGE_DATA_V2 ||
        !fast_i32(p, len, &at, 0x15, &usize) || usize < 0 ||
        !fast_i32(p, len, &at, 0x15, &csize) || csize < 0)
        return false;
    out->type = PQ_PAGE_DATA_V2;
    out->uncompressed_page_size = usize;
    out->compressed_page_size = csize;
    uint8_t v2hdr = 0x5C; /* field 8 after 3: delta 5, struct */
    if (at < len && p[at] == 0x15) {
        if (!fast_i32(p, len, &at, 0x15, &out->crc))
            return false;
        out->has_crc = true;
        v2hdr = 0x4C; /* after 4: delta 4 */
    }
    if (at >= len || p[at] != v2hdr)
        return false;
    at++;
    pq_data_page_header_v2 *h = &out->data_page_header_v2;
    int32_t f[6]; /* values, nulls, rows, encoding, dl, rl */
    for (int i = 0; i < 6; i++)
        if (!fast_i32(p, len, &at, 0x15, &f[i]) || (i != 3 && f[i] < 0))
            return false;
    if (f[1] > f[0] || f[2] > f[0])
        return false; /* the generic path says what is wrong */
    h->num_values = f[0];
    h->num_nulls = f[1];
    h->num_rows = f[2];
    h->encoding = (pq_encoding)f[3];
    h->definition_levels_byte_length = f[4];
    h->repetition_levels_byte_length = f[5];
    h->is_compressed = true; /* the IDL default */
    if (at < len && (p[at] == 0x11 || p[at] == 0x12)) {
        h->is_compressed = p[at] == 0x11;
        at++;
        if (at < len && p[at] == 0x1C) { /* statistics: field 8 after 7 */
            uint64_t nc;
            size_t n;
            if (at + 2 >= len || p[at + 1] != 0x36)
                return false; /* other statistics: the generic path */
            n = meru_varint_get64(p + at + 2, len - at - 2, &nc);
            if (n == 0 || at + 2 + n >= len || p[at + 2 + n] != 0)
                return false;
            int64_t v = meru_zigzag_dec64(nc);
            if (v < 0)
                return false;
            h->has_statistics = true;
            h->statistics.has_null_count = true;
            h->statistics.null_count = v;
            at += 2 + n + 1;
        }
    }
    if (at + 1 >= len || p[at] != 0 || p[at + 1] != 0)
        return false;
    out->has_data_page_header_v2 = true;
    *consumed = at + 2;
    return true;
}

int pq_decode_page_header(const uint8_t *p, size_t len, meru_arena *arena,
                          pq_page_header *out, size_t *consumed)
{
    size_t used = 0;
    memset(out, 0, sizeof *out);
    if (page_header_v2_fast(p, len, out, &used)) {
        /* the level bytes check below, as for the generic path */
        const pq_data_page_header_v2 *h = &out->data_page_header_v2;
        int64_t levels = (int64_t)h->definition_levels_byte_length +
                         h->repetition_levels_byte_length;
        if (levels <= out->compressed_page_size &&
            levels <= out->uncompressed_page_size) {
            if (consumed)
                *consumed = used;
            return MERU_OK;
        }
    }
    /* The fast path may have filled part of *out before it gave up (or
     * before the level check refused it): the generic decoder starts from
     * zero, so what it returns never depends on how far the fast path got. */
    memset(out, 0, sizeof *out);
    md_dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    int rc =
        md_dec_struct(&d, "PageHeader", PH_F, MD_NFIELDS(PH_F), ph_field, out);
    if (rc)
        return rc;
    /* The header that goes with the type must be there; other page types
     * (INDEX_PAGE, newer ones) are the reader's to skip by size. */
    if ((out->type == PQ_PAGE_DATA && !out->has_data_page_header) ||
        (out->type == PQ_PAGE_DICTIONARY && !out->has_dictionary_page_header) ||
        (out->type == PQ_PAGE_DATA_V2 && !out->has_data_page_header_v2))
        return meru_err(MERU_ECORRUPT,
                        "PageHeader: page of type %s lacks its header "
                        "(offset %zu)",
                        pq_page_type_name(out->type), d.r.pos);
    if (out->has_data_page_header_v2) {
        const pq_data_page_header_v2 *h = &out->data_page_header_v2;
        int64_t levels = (int64_t)h->definition_levels_byte_length +
                         h->repetition_levels_byte_length;
        if (levels > out->compressed_page_size ||
            levels > out->uncompressed_page_size)
            return meru_err(MERU_ECORRUPT,
                            "PageHeader: v2 level bytes (%lld) exceed the "
                            "page size (%d compressed, %d uncompressed)",
                            (long long)levels, (int)out->compressed_page_size,
                            (int)out->uncompressed_page_size);
    }
    if (consumed)
        *consumed = d.r.pos;
    return MERU_OK;
}

/* -------------------------------------------------------- ColumnIndex */

static const md_fdesc CI_F[] = {{0},
                                {"null_pages", TC_LIST, true},
                                {"min_values", TC_LIST, true},
                                {"max_values", TC_LIST, true},
                                {"boundary_order", TC_I32, true},
                                {"null_counts", TC_LIST, false}};

typedef struct ci_ctx {
    pq_column_index *ci;
    uint32_t n[6]; /* list lengths by field id */
} ci_ctx;

static int ci_field(md_dec *d, void *obj, int16_t id, int t)
{
    ci_ctx *x = obj;
    pq_column_index *ci = x->ci;
    void *arr;
    int v, rc;
    switch (id) {
    case 1:
        rc = md_rd_list(d, TC_TRUE, 1, sizeof(bool), &arr, &x->n[1]);
        ci->null_pages = arr;
        for (uint32_t i = 0; !rc && i < x->n[1]; i++) {
            d->idx = i;
            rc = tc_read_bool_elem(&d->r, &ci->null_pages[i]);
        }
        return rc;
    case 2:
    case 3: {
        rc = md_rd_list(d, TC_BINARY, 1, sizeof(pq_bytes), &arr, &x->n[id]);
        pq_bytes *vals = arr;
        if (id == 2)
            ci->min_values = vals;
        else
            ci->max_values = vals;
        for (uint32_t i = 0; !rc && i < x->n[id]; i++) {
            d->idx = i;
            rc = md_rd_bytes(d, &vals[i]);
        }
        return rc;
    }
    case 4:
        rc = md_rd_enum(d, &v);
        ci->boundary_order = (pq_boundary_order)v;
        return rc;
    default: /* 5 */
        rc = md_rd_list(d, TC_I64, 1, sizeof(int64_t), &arr, &x->n[5]);
        ci->null_counts = arr;
        for (uint32_t i = 0; !rc && i < x->n[5]; i++) {
            d->idx = i;
            rc = tc_read_i64(&d->r, &ci->null_counts[i]);
        }
        return rc;
    }
}

int pq_decode_column_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_column_index *out)
{
    md_dec d = {.a = arena, .idx = -1};
    ci_ctx x = {.ci = out};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc =
        md_dec_struct(&d, "ColumnIndex", CI_F, MD_NFIELDS(CI_F), ci_field, &x);
    if (rc)
        return rc;
    out->n_pages = x.n[1];
    for (int id = 2; id <= 5; id++) {
        if (id == 4 || (id == 5 && !out->null_counts && x.n[5] == 0))
            continue;
        if (x.n[id] != x.n[1])
            return meru_err(MERU_ECORRUPT,
                            "ColumnIndex.%s: %u entries for %u pages",
                            CI_F[id].name, x.n[id], x.n[1]);
    }
    /* -1 is parquet-mr's "unknown"; an absent list says exactly that. */
    for (uint32_t i = 0; out->null_counts && i < out->n_pages; i++) {
        if (out->null_counts[i] < 0)
            out->null_counts = NULL;
    }
    return MERU_OK;
}

/* -------------------------------------------------------- OffsetIndex */

static const md_fdesc PL_F[] = {{0},
                                {"offset", TC_I64, true},
                                {"compressed_page_size", TC_I32, true},
                                {"first_row_index", TC_I64, true}};

static int pl_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_page_location *l = obj;
    if (id == 1)
        return md_rd_i64_nonneg(d, &l->offset);
    if (id == 2)
        return md_rd_i32_nonneg(d, &l->compressed_page_size);
    return md_rd_i64_nonneg(d, &l->first_row_index);
}

/* The shape every writer emits: fields 1, 2, 3 in order as one-byte
 * headers (i64, i32, i64), then the stop byte. A chunk of small pages has
 * thousands of entries and a cold point read decodes them on its path, so
 * this shape skips the generic field loop (a fifth of the instructions).
 * Any other encoding, and every error, takes the generic path, which
 * accepts and reports exactly what it always did: the fast path takes
 * only inputs the generic one decodes to the same values. */
static bool page_location_fast(tc_reader *r, pq_page_location *l)
{
    static const uint8_t hdr[3] = {0x16, 0x15, 0x16};
    const uint8_t *p = r->p;
    size_t at = r->pos, len = r->len;
    uint64_t v[3];
    for (int f = 0; f < 3; f++) {
        if (at >= len || p[at] != hdr[f])
            return false;
        at++;
        size_t n;
        if (f == 1) {
            uint32_t v32;
            n = meru_varint_get32(p + at, len - at, &v32);
            v[f] = v32;
        } else {
            n = meru_varint_get64(p + at, len - at, &v[f]);
        }
        if (n == 0)
            return false;
        at += n;
    }
    if (at >= len || p[at] != 0)
        return false;
    int64_t off = meru_zigzag_dec64(v[0]), row = meru_zigzag_dec64(v[2]);
    int32_t size = meru_zigzag_dec32((uint32_t)v[1]);
    if (off < 0 || size < 0 || row < 0)
        return false;
    l->offset = off;
    l->compressed_page_size = size;
    l->first_row_index = row;
    r->pos = at + 1;
    return true;
}

static int dec_page_location(md_dec *d, void *l)
{
    if (page_location_fast(&d->r, l))
        return MERU_OK;
    return md_dec_struct(d, "PageLocation", PL_F, MD_NFIELDS(PL_F), pl_field,
                         l);
}

static const md_fdesc OI_F[] = {{0}, {"page_locations", TC_LIST, true}};

static int oi_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_offset_index *oi = obj;
    void *arr;
    /* three field headers with values + stop */
    int rc = md_rd_struct_list(d, 7, sizeof(pq_page_location),
                               dec_page_location, &arr, &oi->n_pages);
    oi->page_locations = arr;
    return rc;
}

int pq_decode_offset_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_offset_index *out)
{
    md_dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    return md_dec_struct(&d, "OffsetIndex", OI_F, MD_NFIELDS(OI_F), oi_field,
                         out);
}

/* --------------------------------------------------- BloomFilterHeader */

/* The algorithm, hash and compression unions each have one member so far,
 * number 1, an empty struct. Another member is a newer algorithm, hash or
 * compression: valid, but not something this code can use (MERU_ENOTSUP). */
static const md_fdesc BU_F[] = {{0}, {"1", TC_STRUCT, false}};

static int bu_field(md_dec *d, void *obj, int16_t id, int t)
{
    *(bool *)obj = true;
    return tc_skip(&d->r, t);
}

static int dec_bloom_union(md_dec *d, const char *st, const char *member)
{
    bool known = false;
    size_t start = d->r.pos;
    int rc = md_dec_struct(d, st, BU_F, MD_NFIELDS(BU_F), bu_field, &known);
    if (rc)
        return rc;
    if (d->r.pos - start == 1) /* just the stop byte */
        return meru_err(MERU_ECORRUPT, "%s: empty union (offset %zu)", st,
                        start);
    if (!known)
        return meru_err(MERU_ENOTSUP, "%s: only %s is supported (offset %zu)",
                        st, member, start);
    return MERU_OK;
}

static const md_fdesc BF_F[] = {{0},
                                {"numBytes", TC_I32, true},
                                {"algorithm", TC_STRUCT, true},
                                {"hash", TC_STRUCT, true},
                                {"compression", TC_STRUCT, true}};

static int bf_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_bloom_filter_header *h = obj;
    int rc;
    switch (id) {
    case 1:
        rc = tc_read_i32(&d->r, &h->num_bytes);
        /* The bitset is whole 32-byte blocks. */
        if (!rc && (h->num_bytes <= 0 || h->num_bytes % 32 != 0))
            rc = md_corrupt_value(d, "not a positive multiple of 32",
                                  h->num_bytes);
        return rc;
    case 2:
        return dec_bloom_union(d, "BloomFilterAlgorithm", "BLOCK");
    case 3:
        return dec_bloom_union(d, "BloomFilterHash", "XXHASH");
    default: /* 4 */
        return dec_bloom_union(d, "BloomFilterCompression", "UNCOMPRESSED");
    }
}

int pq_decode_bloom_header(const uint8_t *p, size_t len,
                           pq_bloom_filter_header *out, size_t *consumed)
{
    md_dec d = {.a = NULL, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc = md_dec_struct(&d, "BloomFilterHeader", BF_F, MD_NFIELDS(BF_F),
                           bf_field, out);
    if (!rc && consumed)
        *consumed = d.r.pos;
    return rc;
}
