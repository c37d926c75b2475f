/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_interop_footer.c — the footers of the Parquet files our writer
 * writes (the matrix of pq_interop_matrix.h, which test_pq_interop.c reads
 * back row by row), as DuckDB and hyparquet see them
 * (tests/interop/parquet_meta.mjs): schema and field ids, codecs (and the
 * per-chunk codec trial), each chunk's encodings against the writer's
 * documented rules, statistics (exact and deprecated fields, cut bounds),
 * bloom filters (probes of present and absent values), and the page index.
 *
 * parquet_meta.mjs (~0.6 s a process) runs on META_FILES, which cover
 * every codec, encoding, profile and page version. A machine without node
 * or tests/interop/node_modules FAILS (CI installs them with
 * scripts/install-deps.sh --npm).
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/meta.h"
#include "parquet/pq.h"
#include "parquet/stats.h"
#include "pq_canon.h"
#include "pq_interop_data.h"
#include "pq_interop_matrix.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"

/* ================================================== parquet_meta.mjs == */

/* The column profile's BYTE_STREAM_SPLIT for floats is a first choice:
 * each chunk keeps it only if its first page compresses smaller than
 * PLAIN, so either may be the chunk's value encoding. */
static bool float_split_trial(const file_cfg *f, const column *c)
{
    const pq_column_spec *s = &c->spec;
    return f->profile == PQ_PROFILE_COLUMN && !s->has_encoding &&
           (s->type == PQ_FLOAT || s->type == PQ_DOUBLE);
}

/* Files whose footer parquet_meta.mjs reports (one node process each,
 * ~0.6 s): every codec, every encoding, both profiles and page versions. */
static const char *const META_FILES[] = {
    "row_opt",  "col_req",   "col_brotli",  "col_lz4",
    "dict_v1",  "dict_v2",   "fallback_v1", "fallback_v2",
    "delta_v1", "delta_v2",  "bss_int_v2",  "extreme_v2",
    "empty",    "row_trial", "col_trial",   "dict_trial_v2"};

static bool wants_meta(const char *name)
{
    for (size_t i = 0; i < sizeof META_FILES / sizeof META_FILES[0]; i++)
        if (!strcmp(META_FILES[i], name))
            return true;
    return false;
}

/* Runs parquet_meta.mjs on META_FILES, one process a file, with the
 * file's bloom probes. */
static int run_node_tools(void)
{
    meru_buf cmd = {0};
    put(&cmd, "cd ");
    shell_quote(&cmd, g_dir);
    put(&cmd, " && mkdir -p meta && (");
    for (size_t f = 0; f < NFILES; f++) {
        const table *t = &g_tables[f];
        if (!wants_meta(FILES[f].name))
            continue;
        put(&cmd, "node ");
        shell_quote(&cmd, INTEROP_DIR "/parquet_meta.mjs");
        putf(&cmd, " %s.parquet --compact", FILES[f].name);
        for (int p = 0; p < t->nprobes; p++) {
            putf(&cmd, " --bloom-probe %s ", t->probes[p].col);
            shell_quote(&cmd, t->probes[p].value);
        }
        putf(&cmd, " >meta/%s.json 2>meta/%s.err; ", FILES[f].name,
             FILES[f].name);
    }
    /* a file's failure shows as its meta/<name>.err, which the test
     * reports, not as the status of the last node */
    put(&cmd, "true)");
    (void)meru_buf_push(&cmd, 0);
    int st = system((const char *)cmd.data);
    meru_buf_free(&cmd);
    return st == 0 ? 0 : 1;
}

/* ====================================================== footer checks == */

/* How DuckDB names what our annotations say (parquet_schema()). */
static const struct {
    const char *duckdb_type;
    const char *logical; /* NULL: no logical type */
} KIND_META[K_COUNT] = {
    [K_BOOL] = {"BOOLEAN", NULL},
    [K_I8] = {"TINYINT", "IntType(bitWidth=8, isSigned=1)"},
    [K_I16] = {"SMALLINT", "IntType(bitWidth=16, isSigned=1)"},
    [K_I32] = {"INTEGER", NULL},
    [K_U32] = {"UINTEGER", "IntType(bitWidth=32, isSigned=0)"},
    [K_I64] = {"BIGINT", NULL},
    [K_U64] = {"UBIGINT", "IntType(bitWidth=64, isSigned=0)"},
    [K_F32] = {"FLOAT", NULL},
    [K_F64] = {"DOUBLE", NULL},
    [K_STR] = {"VARCHAR", "StringType()"},
    [K_BIN] = {"BLOB", NULL},
    [K_FLBA] = {"BLOB", NULL},
    [K_UUID] = {"UUID", "UUIDType()"},
    [K_DATE] = {"DATE", "DateType()"},
    [K_TS_US_UTC] =
        {"TIMESTAMP WITH TIME ZONE",
         "TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, "
         "MICROS=MicroSeconds(), NANOS=<null>))"},
    [K_TS_US] =
        {"TIMESTAMP",
         "TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, "
         "MICROS=MicroSeconds(), NANOS=<null>))"},
    [K_TS_MS_UTC] = {"TIMESTAMP WITH TIME ZONE",
                     "TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS="
                     "MilliSeconds(), MICROS=<null>, NANOS=<null>))"},
    [K_TS_NS] =
        {"TIMESTAMP_NS",
         "TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, "
         "MICROS=<null>, NANOS=NanoSeconds()))"},
    [K_TIME_US] = {"TIME", "TimeType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS="
                           "<null>, MICROS=MicroSeconds(), NANOS=<null>))"},
    [K_DEC32] = {"DECIMAL(9,2)", "DecimalType(scale=2, precision=9)"},
    [K_DEC64] = {"DECIMAL(18,4)", "DecimalType(scale=4, precision=18)"},
    [K_DEC_FLBA] = {"DECIMAL(20,3)", "DecimalType(scale=3, precision=20)"},
    [K_DEC_BA] = {"DECIMAL(38,10)", "DecimalType(scale=10, precision=38)"},
    [K_INT96] = {"TIMESTAMP", NULL},
};

static const char *const TYPE_NAMES[] = {
    "BOOLEAN", "INT32",  "INT64",      "INT96",
    "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
static const char *const CODEC_NAMES[] = {"UNCOMPRESSED", "SNAPPY", "GZIP",
                                          "LZO",          "BROTLI", "LZ4",
                                          "ZSTD",         "LZ4_RAW"};
static const char *const ENC_NAMES[10] = {
    [PQ_ENC_PLAIN] = "PLAIN",
    [PQ_ENC_PLAIN_DICTIONARY] = "PLAIN_DICTIONARY",
    [PQ_ENC_RLE] = "RLE",
    [PQ_ENC_BIT_PACKED] = "BIT_PACKED",
    [PQ_ENC_DELTA_BINARY_PACKED] = "DELTA_BINARY_PACKED",
    [PQ_ENC_DELTA_LENGTH_BYTE_ARRAY] = "DELTA_LENGTH_BYTE_ARRAY",
    [PQ_ENC_DELTA_BYTE_ARRAY] = "DELTA_BYTE_ARRAY",
    [PQ_ENC_RLE_DICTIONARY] = "RLE_DICTIONARY",
    [PQ_ENC_BYTE_STREAM_SPLIT] = "BYTE_STREAM_SPLIT"};

#define ENC_BIT(e) (1u << (e))

static unsigned encodings_from_json(const json_t *arr)
{
    unsigned set = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        for (unsigned e = 0; e < 10; e++)
            if (ENC_NAMES[e] && json_is_string(v) &&
                !strcmp(json_string_value(v), ENC_NAMES[e]))
                set |= ENC_BIT(e);
    }
    return set;
}

static void encodings_text(unsigned set, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = 0;
    for (unsigned e = 0; e < 10; e++)
        if (set & ENC_BIT(e))
            at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? "," : "",
                                   ENC_NAMES[e] ? ENC_NAMES[e] : "?");
}

/* What the chunk's encoding list must be, from the writer's documented
 * rules: without a dictionary {RLE (levels), value encoding}; with one,
 * {dictionary page encoding, RLE, dictionary indices} plus the value
 * encoding after a fallback, or {RLE, value encoding} when the dictionary
 * did not pay on the first page. Where the data decide (low cardinality,
 * a dictionary outgrowing its cap, random bytes), the outcome is pinned. */
static const char *encodings_wrong(const table *t, const column *c,
                                   unsigned got)
{
    const file_cfg *f = t->cfg;
    pq_encoding e = value_encoding(f, c);
    unsigned plain = ENC_BIT(PQ_ENC_RLE) | ENC_BIT(e);
    if (float_split_trial(f, c) &&
        got == (ENC_BIT(PQ_ENC_RLE) | ENC_BIT(PQ_ENC_PLAIN)))
        return NULL;
    if (!dictionary_enabled(f, c))
        return got == plain ? NULL : "expected {RLE, value encoding}";
    bool v1 = f->page_v == 1;
    unsigned dict =
        ENC_BIT(v1 ? PQ_ENC_PLAIN_DICTIONARY : PQ_ENC_PLAIN) |
        ENC_BIT(PQ_ENC_RLE) |
        ENC_BIT(v1 ? PQ_ENC_PLAIN_DICTIONARY : PQ_ENC_RLE_DICTIONARY);
    unsigned fell = dict | ENC_BIT(e);
    if (got != plain && got != dict && got != fell)
        return "not a dictionary outcome the writer documents";
    if (c->null_rate > 50 || all_null(t, c))
        return NULL; /* too few values to decide */
    if (f->data == DATA_LOWCARD && got != dict)
        return "16 distinct values: the dictionary must be kept";
    if (f->data == DATA_FALLBACK &&
        (c->k == K_STR || c->k == K_BIN || c->k == K_I64) && got != fell)
        return "the dictionary passes its 4 KiB cap: it must fall back";
    if (f->data == DATA_MIXED && f->enc == ENC_DEFAULT && c->k == K_STR &&
        got == plain)
        return "strings from a 200-value pool: the dictionary pays";
    if (f->data == DATA_MIXED && f->enc == ENC_DEFAULT && c->k == K_BIN &&
        got != plain)
        return "random bytes: the dictionary does not pay";
    return NULL;
}

/* Statistics that DuckDB renders as text we can predict. */
static bool stats_checked(kind k)
{
    switch (k) {
    case K_I8:
    case K_I16:
    case K_I32:
    case K_U32:
    case K_I64:
    case K_U64:
    case K_STR:
    case K_DATE:
    case K_DEC32:
    case K_DEC64:
    case K_DEC_FLBA:
    case K_DEC_BA:
        return true;
    default:
        return false;
    }
}

/* The deprecated min/max fields (stats.h): written where the legacy
 * signed comparison is right (signed ints, FLOAT, DOUBLE, BOOLEAN), never
 * for unsigned ints, byte arrays or decimals on bytes. */
static bool legacy_stats(kind k)
{
    return k == K_I8 || k == K_I16 || k == K_I32 || k == K_I64 || k == K_DATE ||
           k == K_DEC32 || k == K_DEC64;
}

static bool legacy_forbidden(kind k)
{
    return k == K_U32 || k == K_U64 || k == K_STR || k == K_BIN ||
           k == K_FLBA || k == K_UUID || k == K_DEC_FLBA || k == K_DEC_BA;
}

static int sign_extend_cmp(const pq_bytes *a, const pq_bytes *b)
{
    uint8_t x[17], y[17];
    memset(x, a->len && (a->ptr[0] & 0x80) ? 0xff : 0, 17);
    memset(y, b->len && (b->ptr[0] & 0x80) ? 0xff : 0, 17);
    memcpy(x + 17 - a->len, a->ptr, a->len);
    memcpy(y + 17 - b->len, b->ptr, b->len);
    if ((x[0] ^ 0x80) != (y[0] ^ 0x80))
        return (x[0] ^ 0x80) < (y[0] ^ 0x80) ? -1 : 1;
    return memcmp(x + 1, y + 1, 16);
}

/* Column order of rows a and b (stats_checked kinds). */
static int cmp_rows(const column *c, size_t a, size_t b)
{
    const pq_bytes *ba = (const pq_bytes *)c->vals + a;
    const pq_bytes *bb = (const pq_bytes *)c->vals + b;
    switch (c->k) {
    case K_U32: {
        uint32_t x = (uint32_t)((const int32_t *)c->vals)[a];
        uint32_t y = (uint32_t)((const int32_t *)c->vals)[b];
        return x < y ? -1 : x > y;
    }
    case K_U64: {
        uint64_t x = (uint64_t)((const int64_t *)c->vals)[a];
        uint64_t y = (uint64_t)((const int64_t *)c->vals)[b];
        return x < y ? -1 : x > y;
    }
    case K_STR: {
        size_t m = ba->len < bb->len ? ba->len : bb->len;
        int r = m ? memcmp(ba->ptr, bb->ptr, m) : 0;
        return r ? r : ba->len < bb->len ? -1 : ba->len > bb->len;
    }
    case K_DEC_FLBA:
    case K_DEC_BA:
        return sign_extend_cmp(ba, bb);
    default:
        if (KINDS[c->k].type == PQ_INT32) {
            int32_t x = ((const int32_t *)c->vals)[a];
            int32_t y = ((const int32_t *)c->vals)[b];
            return x < y ? -1 : x > y;
        } else {
            int64_t x = ((const int64_t *)c->vals)[a];
            int64_t y = ((const int64_t *)c->vals)[b];
            return x < y ? -1 : x > y;
        }
    }
}

/* A value as DuckDB's statistics text: the canonical form unquoted, or
 * the raw bytes of a string. */
static void stat_text(const column *c, size_t r, meru_buf *o)
{
    meru_buf_reset(o);
    if (c->k == K_STR) {
        const pq_bytes *b = (const pq_bytes *)c->vals + r;
        (void)meru_buf_append(o, b->ptr, b->len);
        return;
    }
    col_view v = {c->k, c->name, c->vals, NULL};
    put_cell(o, &v, r);
    if (o->len >= 2 && o->data[0] == '"') {
        memmove(o->data, o->data + 1, o->len - 2);
        o->len -= 2;
    }
}

/* The statistics text of the bound the writer computes from row r's value:
 * a string longer than `cap` (statistics_truncate) is cut at a character
 * boundary, and for the max (upper) rounded up past it. */
static void stat_bound_text(const column *c, size_t r, bool upper, uint32_t cap,
                            meru_buf *o)
{
    if (c->k != K_STR) {
        stat_text(c, r, o);
        return;
    }
    pq_bytes b = ((const pq_bytes *)c->vals)[r];
    uint8_t up[256];
    uint32_t ul = 0;
    if (upper && cap < sizeof up &&
        pq_stats_cut_max(&b, cap, true, up, &ul) > 0) {
        b.ptr = up;
        b.len = ul;
    } else if (!upper) {
        (void)pq_stats_cut_min(&b, cap, true);
    }
    meru_buf_reset(o);
    (void)meru_buf_append(o, b.ptr, b.len);
}

/* The writers' statistics_truncate (both profiles). */
#define STATS_CUT 64

static bool json_text_is(const json_t *v, const meru_buf *want)
{
    return json_is_string(v) && json_string_length(v) == want->len &&
           (want->len == 0 ||
            memcmp(json_string_value(v), want->data, want->len) == 0);
}

#define META_BAD(...)                                                          \
    do {                                                                       \
        fprintf(stderr, "  %s: ", t->cfg->name);                               \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        (*bad)++;                                                              \
    } while (0)

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static void check_schema(const table *t, const json_t *m, size_t *bad)
{
    const json_t *schema = json_object_get(m, "schema");
    if (json_array_size(schema) != (size_t)t->ncols + 1) {
        META_BAD("schema has %zu elements", json_array_size(schema));
        return;
    }
    for (int c = 0; c < t->ncols; c++) {
        const column *col = &t->cols[c];
        const json_t *e = json_array_get(schema, (size_t)c + 1);
        const char *lt = jstr(e, "logical_type");
        const char *want_lt = KIND_META[col->k].logical;
        const char *rep = jstr(e, "repetition");
        if (!jstr(e, "name") || strcmp(jstr(e, "name"), col->name))
            META_BAD("schema %d: name", c);
        if (jint(e, "field_id") != col->spec.field_id)
            META_BAD("%s: field_id %lld", col->name, jint(e, "field_id"));
        if (!jstr(e, "physical_type") ||
            strcmp(jstr(e, "physical_type"), TYPE_NAMES[col->spec.type]))
            META_BAD("%s: physical type", col->name);
        if (!rep || strcmp(rep, col->valid ? "OPTIONAL" : "REQUIRED"))
            META_BAD("%s: repetition %s", col->name, rep ? rep : "null");
        if (col->spec.type == PQ_FIXED_LEN_BYTE_ARRAY &&
            jint(e, "type_length") != col->spec.type_length)
            META_BAD("%s: type_length", col->name);
        if (!jstr(e, "duckdb_type") ||
            strcmp(jstr(e, "duckdb_type"), KIND_META[col->k].duckdb_type))
            META_BAD("%s: DuckDB type %s, expected %s", col->name,
                     jstr(e, "duckdb_type") ? jstr(e, "duckdb_type") : "null",
                     KIND_META[col->k].duckdb_type);
        if ((lt == NULL) != (want_lt == NULL) || (lt && strcmp(lt, want_lt)))
            META_BAD("%s: logical type %s, expected %s", col->name,
                     lt ? lt : "null", want_lt ? want_lt : "null");
    }
}

static void check_chunk(const table *t, pq_reader *r, uint32_t g, size_t r0,
                        size_t nrows, int c, const json_t *jc, size_t *bad)
{
    const column *col = &t->cols[c];
    const char *codec = jstr(jc, "codec");
    pq_codec cw = t->cfg->codec;
    if (t->cfg->codec_trial) {
        /* the chunk's own codec, which the trial may only have dropped */
        cw = pq_reader_chunk(r, g, (uint32_t)c)->codec;
        if (cw != t->cfg->codec && cw != PQ_CODEC_UNCOMPRESSED)
            META_BAD("rg %u %s: our codec %s", g, col->name, CODEC_NAMES[cw]);
    }
    if (!codec || strcmp(codec, CODEC_NAMES[cw]))
        META_BAD("rg %u %s: codec %s", g, col->name, codec ? codec : "null");
    if (jint(jc, "num_values") != (long long)nrows)
        META_BAD("rg %u %s: num_values", g, col->name);

    /* encodings: what DuckDB reads == what our footer says == the rules */
    unsigned got = encodings_from_json(json_object_get(jc, "encodings"));
    const pq_column_meta *cm = pq_reader_chunk(r, g, (uint32_t)c);
    unsigned ours = 0;
    for (uint32_t i = 0; cm && i < cm->n_encodings; i++)
        if ((unsigned)cm->encodings[i] < 10)
            ours |= ENC_BIT(cm->encodings[i]);
    const char *why = encodings_wrong(t, col, got);
    if (got != ours || why) {
        char a[160], b[160];
        encodings_text(got, a, sizeof a);
        encodings_text(ours, b, sizeof b);
        META_BAD("rg %u %s: encodings {%s} (our footer {%s}): %s", g, col->name,
                 a, b, why ? why : "differ");
    }

    /* statistics */
    const json_t *st = json_object_get(jc, "statistics");
    size_t nulls = 0, lo = SIZE_MAX, hi = SIZE_MAX;
    for (size_t i = r0; i < r0 + nrows; i++) {
        if (!present(col, i)) {
            nulls++;
            continue;
        }
        if (!stats_checked(col->k))
            continue;
        if (lo == SIZE_MAX || cmp_rows(col, i, lo) < 0)
            lo = i;
        if (hi == SIZE_MAX || cmp_rows(col, i, hi) > 0)
            hi = i;
    }
    if (jint(st, "null_count") != (long long)nulls)
        META_BAD("rg %u %s: null_count %lld, expected %zu", g, col->name,
                 jint(st, "null_count"), nulls);
    if (stats_checked(col->k) && lo != SIZE_MAX) {
        meru_buf want = {0};
        stat_bound_text(col, lo, false, STATS_CUT, &want);
        if (!json_text_is(json_object_get(st, "min_value"), &want))
            META_BAD("rg %u %s: min_value %s, expected %.*s", g, col->name,
                     jstr(st, "min_value") ? jstr(st, "min_value") : "null",
                     (int)want.len, (const char *)want.data);
        if (legacy_stats(col->k) &&
            !json_text_is(json_object_get(st, "min"), &want))
            META_BAD("rg %u %s: deprecated min differs", g, col->name);
        stat_bound_text(col, hi, true, STATS_CUT, &want);
        if (!json_text_is(json_object_get(st, "max_value"), &want))
            META_BAD("rg %u %s: max_value %s, expected %.*s", g, col->name,
                     jstr(st, "max_value") ? jstr(st, "max_value") : "null",
                     (int)want.len, (const char *)want.data);
        if (legacy_stats(col->k) &&
            !json_text_is(json_object_get(st, "max"), &want))
            META_BAD("rg %u %s: deprecated max differs", g, col->name);
        meru_buf_free(&want);
    }
    if (legacy_forbidden(col->k) && (jstr(st, "min") || jstr(st, "max")))
        META_BAD("rg %u %s: deprecated min/max written for an order whose "
                 "legacy comparison is wrong",
                 g, col->name);
    if (lo == SIZE_MAX && stats_checked(col->k) && jstr(st, "min_value"))
        META_BAD("rg %u %s: min_value without values", g, col->name);

    /* bloom filter, page index */
    bool has_bloom = json_is_object(json_object_get(jc, "bloom_filter"));
    if (has_bloom != col->spec.bloom_filter)
        META_BAD("rg %u %s: bloom filter %s", g, col->name,
                 has_bloom ? "unexpected" : "missing");
    const pq_column_index *ci = NULL;
    const pq_offset_index *oi = NULL;
    if (pq_reader_column_index(r, g, (uint32_t)c, &ci) ||
        pq_reader_offset_index(r, g, (uint32_t)c, &oi) || !oi) {
        META_BAD("rg %u %s: our reader: no offset index: %s", g, col->name,
                 meru_errmsg());
        return;
    }
    bool want_ci = col->spec.type != PQ_INT96; /* INT96 has no order */
    if (json_is_true(json_object_get(jc, "column_index")) != want_ci ||
        (ci != NULL) != want_ci)
        META_BAD("rg %u %s: column index presence", g, col->name);
    if (!json_is_true(json_object_get(jc, "offset_index")) ||
        jint(jc, "pages") != (long long)oi->n_pages)
        META_BAD("rg %u %s: offset index: %lld pages, ours %u", g, col->name,
                 jint(jc, "pages"), oi->n_pages);
}

static void check_probes(const table *t, const json_t *m, size_t *bad)
{
    const json_t *probes = json_object_get(m, "bloom_probes");
    if (t->nprobes == 0)
        return;
    if (json_array_size(probes) != (size_t)t->nprobes) {
        META_BAD("%zu bloom probe answers for %d probes",
                 json_array_size(probes), t->nprobes);
        return;
    }
    size_t absent = 0, excluded = 0;
    for (int p = 0; p < t->nprobes; p++) {
        const json_t *rgs =
            json_object_get(json_array_get(probes, (size_t)p), "row_groups");
        size_t i;
        json_t *e;
        json_array_foreach(rgs, i, e)
        {
            bool ex = json_is_true(json_object_get(e, "excludes"));
            if (t->probes[p].rg < 0) {
                absent++;
                excluded += ex;
            } else if ((long long)t->probes[p].rg == jint(e, "row_group") &&
                       ex) {
                META_BAD("bloom filter of %s excludes %s in row group %d, "
                         "which holds it",
                         t->probes[p].col, t->probes[p].value, t->probes[p].rg);
            }
        }
    }
    /* fpp 1%: an absent value passes a filter about once in a hundred */
    if (excluded + 1 < absent)
        META_BAD("bloom filters excluded %zu of %zu absent-value probes",
                 excluded, absent);
}

/* v2 data pages stored as they are (is_compressed false) in chunks
 * that keep a codec: what dict_trial_v2 is for. */
static size_t raw_v2_pages(const char *path, pq_reader *r, size_t ng, int ncols)
{
    size_t len = 0, raw = 0;
    uint8_t *file = meru_test_read_file(path, &len);
    meru_arena *ar = NULL;
    if (!file || meru_arena_new(&ar, 4096)) {
        free(file);
        return 0;
    }
    for (uint32_t g = 0; g < ng; g++)
        for (int c = 0; c < ncols; c++) {
            const pq_column_meta *m = pq_reader_chunk(r, g, (uint32_t)c);
            if (m->codec == PQ_CODEC_UNCOMPRESSED)
                continue;
            int64_t off = m->has_dictionary_page_offset
                              ? m->dictionary_page_offset
                              : m->data_page_offset;
            int64_t end = off + m->total_compressed_size;
            while (off >= 0 && off < end && (size_t)end <= len) {
                pq_page_header h;
                size_t used;
                if (pq_decode_page_header(file + off, len - (size_t)off, ar, &h,
                                          &used))
                    break;
                raw += h.type == PQ_PAGE_DATA_V2 &&
                       !h.data_page_header_v2.is_compressed;
                off += (int64_t)used + h.compressed_page_size;
            }
        }
    meru_arena_free(ar);
    free(file);
    return raw;
}

static void check_meta(const table *t, const json_t *m, size_t *bad)
{
    const json_t *file = json_object_get(m, "file");
    size_t rows[8];
    size_t ng = expected_row_groups(t, rows, 8);
    const char *by = jstr(file, "created_by");
    if (jint(file, "num_rows") != (long long)t->n ||
        jint(file, "num_row_groups") != (long long)ng)
        META_BAD("rows or row groups differ");
    if (!by || strncmp(by, "merutable version ", 18))
        META_BAD("created_by %s", by ? by : "null");
    check_schema(t, m, bad);

    int fd = open(t->path, O_RDONLY);
    pq_source src;
    pq_reader *r = NULL;
    if (fd < 0 || pq_source_fd(&src, fd) || pq_reader_open(&r, &src, NULL)) {
        META_BAD("our reader cannot open the file: %s", meru_errmsg());
        if (fd >= 0)
            close(fd);
        return;
    }
    const json_t *groups = json_object_get(m, "row_groups");
    if (json_array_size(groups) != ng)
        META_BAD("%zu row groups reported", json_array_size(groups));
    size_t r0 = 0;
    for (size_t g = 0; g < ng && g < json_array_size(groups); r0 += rows[g++]) {
        const json_t *jg = json_array_get(groups, g);
        const json_t *cols = json_object_get(jg, "columns");
        if (jint(jg, "num_rows") != (long long)rows[g] ||
            json_array_size(cols) != (size_t)t->ncols) {
            META_BAD("row group %zu: rows or columns differ", g);
            continue;
        }
        for (int c = 0; c < t->ncols; c++)
            check_chunk(t, r, (uint32_t)g, r0, rows[g], c,
                        json_array_get(cols, (size_t)c), bad);
    }
    if (t->cfg->codec_trial && t->cfg->enc == ENC_DICT &&
        raw_v2_pages(t->path, r, ng, t->ncols) == 0)
        META_BAD("codec trial: no v2 page stored uncompressed");
    if (t->cfg->codec_trial && t->cfg->enc != ENC_DICT) {
        /* the file must mix codecs for readers to meet the mix (a
         * dictionary chunk keeps its codec: its mix is per page) */
        size_t kept = 0, dropped = 0;
        for (uint32_t g = 0; g < ng; g++)
            for (int c = 0; c < t->ncols; c++) {
                bool none = pq_reader_chunk(r, g, (uint32_t)c)->codec ==
                            PQ_CODEC_UNCOMPRESSED;
                dropped += none;
                kept += !none;
            }
        if (!kept || !dropped)
            META_BAD("codec trial: %zu chunks compressed, %zu not", kept,
                     dropped);
    }
    check_probes(t, m, bad);
    pq_reader_close(r);
    close(fd);
}

static void test_interop_footer_as_duckdb_and_hyparquet_see_it(void)
{
    CHECK(g_written);
    const char *why = node_missing();
    CHECK_MSG(!why, "%s", why);
    CHECK_MSG(run_node_tools() == 0, "running node failed (see %s/log-*)",
              g_dir);
    size_t bad = 0, checked = 0;
    for (size_t f = 0; f < NFILES; f++) {
        if (!wants_meta(FILES[f].name))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/meta/%s.json", g_dir, FILES[f].name);
        json_error_t err;
        json_t *m = json_load_file(path, 0, &err);
        if (!m) {
            snprintf(path, sizeof path, "%s/meta/%s.err", g_dir, FILES[f].name);
            size_t len;
            uint8_t *msg = meru_test_read_file(path, &len);
            fprintf(stderr, "  %s: parquet_meta failed: %s\n", FILES[f].name,
                    msg ? (const char *)msg : err.text);
            free(msg);
            bad++;
            continue;
        }
        check_meta(&g_tables[f], m, &bad);
        json_decref(m);
        checked++;
    }
    printf("  %zu footers checked\n", checked);
    CHECK_MSG(bad == 0, "%zu footer facts differ", bad);
}

int main(void)
{
    MERU_TEST_RUN(test_interop_matrix_is_written);
    MERU_TEST_RUN(test_interop_footer_as_duckdb_and_hyparquet_see_it);
    return interop_finish();
}
