/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_interop_data.h — typed test columns for the Parquet interop test:
 * every column type the writer supports as a "kind" (physical type +
 * annotation), deterministic generators (meru_test_rand) that favour the
 * edges (type MIN/MAX, NaN, ±inf, -0, empty and multi-byte strings,
 * pre-1970 dates, negative decimals), and the canonical row text of a set
 * of columns (pq_canon.h). Values are held dense over all rows, typed as
 * pq_column_data takes them, so the same arrays feed the writer and the
 * expected text. Functions are static inline (one includer each).
 */
#ifndef MERU_TESTS_PQ_INTEROP_DATA_H
#define MERU_TESTS_PQ_INTEROP_DATA_H

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "pq_canon.h"
#include "test.h"

typedef enum kind {
    K_BOOL,
    K_I8,
    K_I16,
    K_I32,
    K_U32,
    K_I64,
    K_U64,
    K_F32,
    K_F64,
    K_STR,
    K_BIN,
    K_FLBA,
    K_UUID,
    K_DATE,
    K_TS_US_UTC,
    K_TS_US,
    K_TS_MS_UTC,
    K_TS_NS,
    K_TIME_US,
    K_DEC32,
    K_DEC64,
    K_DEC_FLBA,
    K_DEC_BA,
    K_INT96,
    K_COUNT
} kind;

typedef struct kind_def {
    const char *name;
    pq_type type;
    int32_t len; /* FLBA width */
    pq_logical_type lt;
} kind_def;

#define LT_INT(w, s)                                                           \
    {                                                                          \
        .kind = PQ_LT_INTEGER, .int_bit_width = w, .int_is_signed = s          \
    }
#define LT_TS(u, utc)                                                          \
    {                                                                          \
        .kind = PQ_LT_TIMESTAMP, .unit = u, .is_adjusted_to_utc = utc          \
    }
#define LT_DEC(p, s)                                                           \
    {                                                                          \
        .kind = PQ_LT_DECIMAL, .decimal_precision = p, .decimal_scale = s      \
    }

static const kind_def KINDS[K_COUNT] = {
    [K_BOOL] = {"b", PQ_BOOLEAN, 0, {0}},
    [K_I8] = {"i8", PQ_INT32, 0, LT_INT(8, true)},
    [K_I16] = {"i16", PQ_INT32, 0, LT_INT(16, true)},
    [K_I32] = {"i32", PQ_INT32, 0, {0}},
    [K_U32] = {"u32", PQ_INT32, 0, LT_INT(32, false)},
    [K_I64] = {"i64", PQ_INT64, 0, {0}},
    [K_U64] = {"u64", PQ_INT64, 0, LT_INT(64, false)},
    [K_F32] = {"f", PQ_FLOAT, 0, {0}},
    [K_F64] = {"d", PQ_DOUBLE, 0, {0}},
    [K_STR] = {"s", PQ_BYTE_ARRAY, 0, {.kind = PQ_LT_STRING}},
    [K_BIN] = {"bin", PQ_BYTE_ARRAY, 0, {0}},
    [K_FLBA] = {"fl", PQ_FIXED_LEN_BYTE_ARRAY, 5, {0}},
    [K_UUID] = {"uuid", PQ_FIXED_LEN_BYTE_ARRAY, 16, {.kind = PQ_LT_UUID}},
    [K_DATE] = {"date", PQ_INT32, 0, {.kind = PQ_LT_DATE}},
    [K_TS_US_UTC] = {"ts_utc", PQ_INT64, 0, LT_TS(PQ_UNIT_MICROS, true)},
    [K_TS_US] = {"ts_local", PQ_INT64, 0, LT_TS(PQ_UNIT_MICROS, false)},
    [K_TS_MS_UTC] = {"ts_ms", PQ_INT64, 0, LT_TS(PQ_UNIT_MILLIS, true)},
    [K_TS_NS] = {"ts_ns", PQ_INT64, 0, LT_TS(PQ_UNIT_NANOS, false)},
    [K_TIME_US] = {"time_us",
                   PQ_INT64,
                   0,
                   {.kind = PQ_LT_TIME, .unit = PQ_UNIT_MICROS}},
    [K_DEC32] = {"dec32", PQ_INT32, 0, LT_DEC(9, 2)},
    [K_DEC64] = {"dec64", PQ_INT64, 0, LT_DEC(18, 4)},
    [K_DEC_FLBA] = {"dec_fl", PQ_FIXED_LEN_BYTE_ARRAY, 9, LT_DEC(20, 3)},
    [K_DEC_BA] = {"dec_ba", PQ_BYTE_ARRAY, 0, LT_DEC(38, 10)},
    [K_INT96] = {"ts96", PQ_INT96, 0, {0}},
};

static inline bool is_bytes(kind k)
{
    pq_type t = KINDS[k].type;
    return t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY;
}

static inline bool is_int(kind k)
{
    pq_type t = KINDS[k].type;
    return t == PQ_INT32 || t == PQ_INT64;
}

/* How values are drawn. */
typedef enum data_mode {
    DATA_MIXED,   /* edge values + random, strings from a 200-entry pool */
    DATA_LOWCARD, /* 16 distinct values per column: dictionaries pay */
    DATA_EXTREME, /* integers alternate their type's MIN and MAX */
    DATA_FALLBACK /* 1000 rows of 10 values, then unique long values */
} data_mode;

typedef struct column {
    kind k;
    int null_rate; /* percent; 0 for required columns */
    char name[16];
    pq_column_spec spec;
    void *vals;     /* dense over all rows, typed as pq_column_data */
    uint8_t *valid; /* NULL: no nulls */
    uint8_t *heap;  /* bytes behind pq_bytes values */
    size_t heap_len;
} column;

static inline uint64_t rnd(uint64_t n)
{
    return n ? meru_test_rand() % n : 0;
}

/* --------------------------------------------------------- generators */

/* Strings: escapes, empty, multi-byte UTF-8 (2, 3 and 4 bytes), U+2028,
 * DEL, long ones; no NUL (VARCHAR readers differ on it). */
static const char *const FIXED_STRINGS[] = {
    "",
    "a",
    "h\xc3\xa9llo \"x\"\n",
    "tab\there\r\n",
    "back\\slash/",
    "\xe4\xb8\xad\xe6\x96\x87",
    "emoji \xf0\x9f\x98\x80!",
    "\x01\x1f ctrl \x7f",
    "line\xe2\x80\xa8sep",
    "\xce\xa9mega \xc3\x9f",
    "zzzz",
    "{\"json\":[1,2]}",
};

#define POOL 200
static char g_pool[POOL][160];

static inline void build_pool(void)
{
    static const char *const glyphs[] = {"a",
                                         "b",
                                         "Z",
                                         "0",
                                         " ",
                                         "\xc3\xa9",
                                         "\xe4\xb8\xad",
                                         "\xf0\x9f\x98\x80",
                                         "\"",
                                         "\\",
                                         "\n",
                                         "-"};
    size_t nf = sizeof FIXED_STRINGS / sizeof FIXED_STRINGS[0];
    for (size_t i = 0; i < POOL; i++) {
        char *p = g_pool[i];
        if (i < nf) {
            snprintf(p, sizeof g_pool[i], "%s", FIXED_STRINGS[i]);
            continue;
        }
        if (i % 3 == 0) { /* plain alphanumeric: usable as a bloom probe */
            int len = 1 + (int)rnd(30);
            for (int j = 0; j < len; j++)
                p[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd(36)];
            p[len] = 0;
            continue;
        }
        size_t at = 0, want = i % 17 == 0 ? 140 : 1 + rnd(25);
        while (at < want) {
            const char *g = glyphs[rnd(sizeof glyphs / sizeof glyphs[0])];
            size_t gl = strlen(g);
            if (at + gl >= sizeof g_pool[i])
                break;
            memcpy(p + at, g, gl);
            at += gl;
        }
        p[at] = 0;
    }
}

static inline pq_bytes heap_put(column *c, const void *p, size_t n)
{
    uint8_t *dst = c->heap + c->heap_len;
    if (n)
        memcpy(dst, p, n);
    c->heap_len += n;
    return (pq_bytes){dst, (uint32_t)n};
}

/* A random decimal of 1..prec digits as big-endian two's complement in
 * `out` (17 bytes, enough for 38 digits). */
static inline void random_decimal_be(int prec, uint8_t out[17])
{
    uint8_t mag[17] = {0};
    int nd = 1 + (int)rnd((uint64_t)prec);
    if (rnd(8) == 0)
        nd = prec; /* the widest values */
    for (int i = 0; i < nd; i++) {
        int d = (int)rnd(10);
        if (i == 0 && nd > 1 && d == 0)
            d = 1;
        int carry = d;
        for (int j = 16; j >= 0; j--) {
            int v = mag[j] * 10 + carry;
            mag[j] = (uint8_t)(v & 0xff);
            carry = v >> 8;
        }
    }
    if (rnd(2)) { /* negate */
        int carry = 1;
        for (int j = 16; j >= 0; j--) {
            int v = (uint8_t)~mag[j] + carry;
            mag[j] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    memcpy(out, mag, 17);
}

static inline float random_float(void)
{
    static const float special[] = {NAN,     INFINITY, -INFINITY,  -0.0f,
                                    0.0f,    1.0f,     -1.5f,      0.1f,
                                    FLT_MAX, -FLT_MAX, FLT_MIN,    1e-45f,
                                    1e-7f,   1e21f,    123456.79f, 3.4e38f};
    switch (rnd(3)) {
    case 0:
        return special[rnd(sizeof special / sizeof special[0])];
    case 1:
        return (float)((int)rnd(20000) - 10000) / 4.0f;
    default:
        for (;;) {
            uint32_t b = (uint32_t)meru_test_rand();
            float f;
            memcpy(&f, &b, 4);
            if (!isnan(f))
                return f;
        }
    }
}

static inline double random_double(void)
{
    static const double special[] = {
        NAN,    INFINITY, -INFINITY, -0.0,    0.0,
        1.0,    -2.5,     0.1,       1e21,    1e-7,
        5e-324, DBL_MAX,  -DBL_MIN,  123.456, 9007199254740993.0,
        1e300};
    switch (rnd(3)) {
    case 0:
        return special[rnd(sizeof special / sizeof special[0])];
    case 1:
        return (double)((int64_t)rnd(2000000) - 1000000) / 8.0;
    default:
        for (;;) {
            uint64_t b = meru_test_rand();
            double d;
            memcpy(&d, &b, 8);
            if (!isnan(d))
                return d;
        }
    }
}

static inline int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    return (int64_t)((uint64_t)lo + rnd(span));
}

/* Integers of kind k at the ends of their range, alternating (for
 * DELTA_BINARY_PACKED: deltas that overflow the type's width). */
static inline int64_t extreme_int(kind k, size_t r)
{
    bool hi = r < 300 ? (r & 1) : ((r * 2654435761u) >> 9) & 1;
    switch (k) {
    case K_I8:
        return hi ? 127 : -128;
    case K_I16:
        return hi ? 32767 : -32768;
    case K_I32:
    case K_U32: /* bit patterns INT32_MIN/INT32_MAX */
        return hi ? INT32_MAX : INT32_MIN;
    case K_DATE:
        return hi ? 2932896 : -719162; /* 9999-12-31, 0001-01-01 */
    case K_DEC32:
        return hi ? 999999999 : -999999999;
    case K_DEC64:
        return hi ? 999999999999999999 : -999999999999999999;
    case K_TIME_US:
        return hi ? 86399999999 : 0;
    case K_TS_NS:
        return hi ? 9000000000000000000 : -9000000000000000000;
    case K_TS_US:
    case K_TS_US_UTC:
        return hi ? 200000000000000000 : -200000000000000000;
    case K_TS_MS_UTC: /* DuckDB reads millis as micros: keep x1000 in range */
        return hi ? 9000000000000000 : -9000000000000000;
    default:
        return hi ? INT64_MAX : INT64_MIN;
    }
}

static inline int64_t mixed_int(kind k, const column *c, size_t r)
{
    int64_t prev = 0;
    if (r > 0)
        prev = KINDS[k].type == PQ_INT32 ? ((const int32_t *)c->vals)[r - 1]
                                         : ((const int64_t *)c->vals)[r - 1];
    uint64_t pick = rnd(6);
    switch (k) {
    case K_I8:
        return pick < 2 ? extreme_int(k, rnd(2)) : rnd_range(-128, 127);
    case K_I16:
        return pick < 2 ? extreme_int(k, rnd(2)) : rnd_range(-32768, 32767);
    case K_I32:
    case K_U32:
        if (pick == 0)
            return extreme_int(k, r);
        if (pick == 1)
            return rnd(2) ? -1 : 0;
        if (pick == 2)
            return (int32_t)(prev + (int64_t)rnd(10));
        if (pick == 3)
            return rnd_range(-1000, 1000);
        return (int32_t)(uint32_t)meru_test_rand();
    case K_I64:
    case K_U64:
        if (pick == 0)
            return extreme_int(k, r);
        if (pick == 1)
            return rnd(2) ? -1 : 0;
        if (pick == 2)
            return (int64_t)((uint64_t)prev + rnd(10));
        if (pick == 3)
            return rnd_range(-100000, 100000);
        return (int64_t)meru_test_rand();
    case K_DATE:
        if (pick == 0)
            return (int64_t[]){-1, 0, -25567, -719162, 2932896, 10957}[rnd(6)];
        return rnd_range(-719162, 2932896);
    case K_TS_US_UTC:
    case K_TS_US:
        if (pick == 0)
            return rnd_range(-1, 1);
        return rnd_range(-60000000000000000, 60000000000000000);
    case K_TS_MS_UTC:
        if (pick == 0)
            return rnd_range(-1, 1);
        return rnd_range(-60000000000000, 60000000000000);
    case K_TS_NS:
        if (pick == 0)
            return rnd_range(-1, 1);
        return rnd_range(-9000000000000000000, 9000000000000000000);
    case K_TIME_US:
        return rnd_range(0, 86399999999);
    case K_DEC32:
        return pick == 0 ? extreme_int(k, rnd(2))
                         : rnd_range(-999999999, 999999999);
    case K_DEC64:
        if (pick == 0)
            return extreme_int(k, rnd(2));
        return rnd_range(-999999999999999999, 999999999999999999);
    default:
        return 0;
    }
}

static inline void gen_value(column *c, size_t r, data_mode mode)
{
    kind k = c->k;
    const kind_def *kd = &KINDS[k];
    if (is_int(k)) {
        int64_t v =
            mode == DATA_EXTREME ? extreme_int(k, r) : mixed_int(k, c, r);
        if (kd->type == PQ_INT32)
            ((int32_t *)c->vals)[r] = (int32_t)v;
        else
            ((int64_t *)c->vals)[r] = v;
        return;
    }
    uint8_t tmp[32];
    pq_bytes *bv = (pq_bytes *)c->vals + r;
    switch (k) {
    case K_BOOL: {
        uint8_t *b = (uint8_t *)c->vals + r;
        *b = r > 0 && rnd(10) < 7 ? b[-1] : (uint8_t)rnd(2);
        break;
    }
    case K_F32:
        ((float *)c->vals)[r] = random_float();
        break;
    case K_F64:
        ((double *)c->vals)[r] = random_double();
        break;
    case K_STR:
        if (mode == DATA_FALLBACK) { /* unique and long */
            char s[48];
            int len = snprintf(s, sizeof s, "unique-%06zu-", r);
            while (len < 40)
                s[len++] = "abcdefghijklmnopqrstuvwxyz"[rnd(26)];
            *bv = heap_put(c, s, (size_t)len);
        } else {
            const char *s = g_pool[rnd(POOL)];
            *bv = heap_put(c, s, strlen(s));
        }
        break;
    case K_BIN: {
        size_t len = rnd(25);
        for (size_t i = 0; i < len; i++)
            tmp[i] = (uint8_t)meru_test_rand();
        if (len && rnd(4) == 0)
            tmp[0] = 0;
        *bv = heap_put(c, tmp, len);
        break;
    }
    case K_FLBA:
    case K_UUID: {
        size_t len = (size_t)kd->len;
        uint64_t pick = rnd(10);
        for (size_t i = 0; i < len; i++)
            tmp[i] = pick == 0   ? 0
                     : pick == 1 ? 0xff
                                 : (uint8_t)meru_test_rand();
        *bv = heap_put(c, tmp, len);
        break;
    }
    case K_DEC_FLBA:
    case K_DEC_BA: {
        uint8_t be[17];
        random_decimal_be(kd->lt.decimal_precision, be);
        if (k == K_DEC_FLBA) {
            *bv = heap_put(c, be + 17 - kd->len, (size_t)kd->len);
        } else { /* minimal two's complement length */
            size_t at = 0;
            while (at < 16 && ((be[at] == 0 && !(be[at + 1] & 0x80)) ||
                               (be[at] == 0xff && (be[at + 1] & 0x80))))
                at++;
            *bv = heap_put(c, be + at, 17 - at);
        }
        break;
    }
    case K_INT96: { /* whole microseconds: DuckDB reads INT96 to micros */
        uint8_t *p = (uint8_t *)c->vals + r * 12;
        uint64_t nanos = rnd(86400000000ull) * 1000;
        uint32_t jd = (uint32_t)rnd_range(2415021, 2488070); /* 1900..2100 */
        memcpy(p, &nanos, 8);
        memcpy(p + 8, &jd, 4);
        break;
    }
    default:
        break;
    }
}

static inline void copy_value(column *c, size_t dst, size_t src)
{
    size_t w = pq_value_width(KINDS[c->k].type);
    memcpy((uint8_t *)c->vals + dst * w, (uint8_t *)c->vals + src * w, w);
}

/* A column as the formatter sees it: values typed as pq_column_data. */
typedef struct col_view {
    kind k;
    const char *name;
    const void *vals;
    const uint8_t *valid; /* NULL: all present */
} col_view;

static inline void put_cell(meru_buf *o, const col_view *v, size_t i)
{
    const kind_def *kd = &KINDS[v->k];
    int32_t i32 = 0;
    int64_t i64 = 0;
    if (kd->type == PQ_INT32)
        i32 = ((const int32_t *)v->vals)[i];
    else if (kd->type == PQ_INT64)
        i64 = ((const int64_t *)v->vals)[i];
    const pq_bytes *b = (const pq_bytes *)v->vals + i;
    switch (v->k) {
    case K_BOOL:
        put(o, ((const uint8_t *)v->vals)[i] ? "true" : "false");
        break;
    case K_I8:
    case K_I16:
    case K_I32:
        putf(o, "%d", i32);
        break;
    case K_U32:
        putf(o, "%u", (uint32_t)i32);
        break;
    case K_I64:
        putf(o, "\"%lld\"", (long long)i64);
        break;
    case K_U64:
        putf(o, "\"%llu\"", (unsigned long long)(uint64_t)i64);
        break;
    case K_F32:
        put_number(o, ((const float *)v->vals)[i], true);
        break;
    case K_F64:
        put_number(o, ((const double *)v->vals)[i], false);
        break;
    case K_STR:
        put_json_string(o, b->ptr, b->len);
        break;
    case K_BIN:
    case K_FLBA:
    case K_UUID:
        put_hex(o, b->ptr, b->len);
        break;
    case K_DATE:
        put(o, "\"");
        put_ymd(o, i32);
        put(o, "\"");
        break;
    case K_TS_US_UTC:
    case K_TS_US:
        put_clock(o, i64, 1000000, true, v->k == K_TS_US_UTC);
        break;
    case K_TS_MS_UTC:
        put_clock(o, i64, 1000, true, true);
        break;
    case K_TS_NS:
        put_clock(o, i64, 1000000000, true, false);
        break;
    case K_TIME_US:
        put_clock(o, i64, 1000000, false, false);
        break;
    case K_DEC32:
        put_decimal_i64(o, i32, kd->lt.decimal_scale);
        break;
    case K_DEC64:
        put_decimal_i64(o, i64, kd->lt.decimal_scale);
        break;
    case K_DEC_FLBA:
    case K_DEC_BA:
        put_decimal_be(o, b->ptr, b->len, kd->lt.decimal_scale);
        break;
    case K_INT96: {
        const uint8_t *p = (const uint8_t *)v->vals + i * 12;
        int64_t nanos;
        uint32_t jd;
        memcpy(&nanos, p, 8);
        memcpy(&jd, p + 8, 4);
        int64_t t = ((int64_t)jd - 2440588) * 86400000000000 + nanos;
        put_clock(o, t, 1000000000, true, false);
        break;
    }
    default:
        put(o, "?");
    }
}

static inline void format_rows(meru_buf *o, const col_view *cv, int ncols,
                               size_t n)
{
    for (size_t r = 0; r < n; r++) {
        put(o, "{");
        for (int c = 0; c < ncols; c++) {
            putf(o, "%s\"%s\":", c ? "," : "", cv[c].name);
            if (cv[c].valid && !cv[c].valid[r])
                put(o, "null");
            else
                put_cell(o, &cv[c], r);
        }
        put(o, "}\n");
    }
}

#endif
