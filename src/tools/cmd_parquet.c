/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_parquet.c — `meru parquet inspect FILE` and
 * `meru parquet cat FILE [--columns a,b] [--limit N]`.
 *
 * inspect prints the footer in readable form: schema (physical, logical,
 * converted, repetition, field id), row groups, every column chunk
 * (encodings, page counts, codec, sizes, values, statistics decoded to
 * values, page index and bloom filter presence), key/value metadata with
 * non-printable bytes escaped, created_by.
 *
 * cat prints rows as JSON lines, one object per row with the columns in
 * file (or --columns) order, in the canonical row format of
 * tests/interop/README.md, so its output diffs byte for byte against the
 * independent readers there:
 *   - INT32 (and 8/16/32-bit INTEGER, unsigned read as unsigned) as JSON
 *     numbers; INT64 as decimal strings (unsigned 64-bit unsigned);
 *   - DOUBLE in ECMAScript's shortest round-trip form; FLOAT (and FLOAT16)
 *     as the shortest decimal that reads back to the same float32, in that
 *     form; NaN, Infinity, -Infinity and -0 as strings;
 *   - STRING/ENUM/JSON as JSON strings (JSON.stringify escaping; bytes that
 *     are not valid UTF-8 become U+FFFD, where the harness would fail);
 *   - other BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY (BSON, UUID too) as
 *     "hex:<lowercase hex>";
 *   - DECIMAL as a string with exactly `scale` fraction digits;
 *   - DATE "YYYY-MM-DD" (-YYYY before year 0, +YYYYY after 9999);
 *     TIMESTAMP MILLIS/MICROS with 6 fraction digits, NANOS and INT96 with
 *     9, "Z" when adjusted to UTC (INT96 never); TIME "HH:MM:SS.ffffff";
 *   - null as null.
 * Errors go to stderr as "meru parquet: FILE: message" with exit 3; usage
 * errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merutable.h"
#include "parquet/pq.h"
#include "parquet/stats.h"
#include "tools/commands.h"
#include "util/endian.h"

/* ----------------------------------------------------------- formatting */

static void json_string(FILE *o, const uint8_t *p, size_t n)
{
    fputc('"', o);
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"':
                fputs("\\\"", o);
                break;
            case '\\':
                fputs("\\\\", o);
                break;
            case '\n':
                fputs("\\n", o);
                break;
            case '\r':
                fputs("\\r", o);
                break;
            case '\t':
                fputs("\\t", o);
                break;
            case '\b':
                fputs("\\b", o);
                break;
            case '\f':
                fputs("\\f", o);
                break;
            default:
                if (c < 0x20)
                    fprintf(o, "\\u%04x", c);
                else
                    fputc(c, o);
            }
            i++;
            continue;
        }
        /* validate one UTF-8 sequence (no overlongs, no surrogates) */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        bool ok = len && c <= 0xf4 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 3)
            ok = !(c == 0xe0 && p[i + 1] < 0xa0) &&
                 !(c == 0xed && p[i + 1] >= 0xa0);
        if (ok && len == 4)
            ok = !(c == 0xf0 && p[i + 1] < 0x90) &&
                 !(c == 0xf4 && p[i + 1] >= 0x90);
        if (ok) {
            fwrite(p + i, 1, len, o);
            i += len;
        } else {
            fputs("\\ufffd", o);
            i++;
        }
    }
    fputc('"', o);
}

static void hex_string(FILE *o, const uint8_t *p, size_t n)
{
    fputs("\"hex:", o);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%02x", p[i]);
    fputc('"', o);
}

/* ECMAScript Number::toString of a finite double: the shortest digits
 * that read back, plain notation for 1e-7 < |d| < 1e21, else d.ddde+N. */
static void print_es_number(FILE *o, double d)
{
    if (d == 0) {
        fputc('0', o);
        return;
    }
    if (d < 0) {
        fputc('-', o);
        d = -d;
    }
    char buf[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* buf: D[.DDD]e[+-]XX */
    char digits[24];
    int k = 0;
    const char *q = buf;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && k < 20)
            digits[k++] = *q;
    int e = atoi(q + 1);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int n = e + 1; /* decimal point after n digits */
    if (k <= n && n <= 21) {
        fwrite(digits, 1, (size_t)k, o);
        for (int i = k; i < n; i++)
            fputc('0', o);
    } else if (0 < n && n <= 21) {
        fwrite(digits, 1, (size_t)n, o);
        fputc('.', o);
        fwrite(digits + n, 1, (size_t)(k - n), o);
    } else if (-6 < n && n <= 0) {
        fputs("0.", o);
        for (int i = 0; i < -n; i++)
            fputc('0', o);
        fwrite(digits, 1, (size_t)k, o);
    } else {
        fputc(digits[0], o);
        if (k > 1) {
            fputc('.', o);
            fwrite(digits + 1, 1, (size_t)(k - 1), o);
        }
        fprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
}

static void print_double(FILE *o, double d, bool is_float)
{
    if (isnan(d)) {
        fputs("\"NaN\"", o);
        return;
    }
    if (isinf(d)) {
        fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", o);
        return;
    }
    if (d == 0 && signbit(d)) {
        fputs("\"-0\"", o);
        return;
    }
    if (is_float) {
        /* shortest decimal reading back to the same float32, then printed
         * as the double it parses to */
        char buf[40];
        for (int p = 1; p <= 9; p++) {
            snprintf(buf, sizeof buf, "%.*e", p - 1, d);
            double back = strtod(buf, NULL);
            if ((float)back == (float)d) {
                d = back;
                break;
            }
        }
    }
    print_es_number(o, d);
}

/* days since 1970-01-01 -> y, m, d (proleptic Gregorian) */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void print_date(FILE *o, int64_t days)
{
    int64_t y;
    int m, d;
    civil(days, &y, &m, &d);
    if (y < 0)
        fprintf(o, "-%04" PRId64, -y);
    else if (y > 9999)
        fprintf(o, "+%" PRId64, y);
    else
        fprintf(o, "%04" PRId64, y);
    fprintf(o, "-%02d-%02d", m, d);
}

/* Timestamp of `v` units (per second `per_sec`, fraction `digits`). */
static void print_ts(FILE *o, int64_t v, int64_t per_sec, int digits, bool utc)
{
    int64_t secs = floordiv(v, per_sec);
    int64_t frac = v - secs * per_sec;
    int64_t days = floordiv(secs, 86400);
    int64_t sod = secs - days * 86400;
    fputc('"', o);
    print_date(o, days);
    fprintf(o, "T%02d:%02d:%02d", (int)(sod / 3600), (int)(sod / 60 % 60),
            (int)(sod % 60));
    if (per_sec == 1000) /* millis print as micros */
        frac *= 1000, digits = 6;
    if (digits)
        fprintf(o, ".%0*" PRId64, digits, frac);
    if (utc)
        fputc('Z', o);
    fputc('"', o);
}

/* Unscaled two's complement big-endian integer of up to 16 bytes (or a
 * native int) as a decimal with `scale` fraction digits. */
static void print_decimal_be(FILE *o, const uint8_t *p, size_t n, int scale)
{
    /* magnitude in base 1e9 limbs from the big-endian bytes */
    bool neg = n && (p[0] & 0x80);
    uint8_t mag[64];
    if (n > sizeof mag) {
        hex_string(o, p, n);
        return;
    }
    memcpy(mag, p, n);
    if (neg) { /* two's complement negate */
        for (size_t i = 0; i < n; i++)
            mag[i] = (uint8_t)~mag[i];
        for (size_t i = n; i-- > 0;)
            if (++mag[i] != 0)
                break;
    }
    char digits[200];
    size_t nd = 0;
    /* repeated division by 10 of the big-endian magnitude */
    bool zero = false;
    while (!zero && nd < sizeof digits - 1) {
        unsigned rem = 0;
        zero = true;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (mag[i])
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
    }
    while ((int)nd <= scale)
        digits[nd++] = '0';
    fputc('"', o);
    if (neg)
        fputc('-', o);
    for (size_t i = nd; i-- > 0;) {
        fputc(digits[i], o);
        if (scale > 0 && i == (size_t)scale)
            fputc('.', o);
    }
    fputc('"', o);
}

static float half_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15);
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float f;
    if (exp == 0)
        f = ldexpf((float)mant, -24);
    else if (exp == 31)
        f = mant ? NAN : INFINITY;
    else
        f = ldexpf((float)(mant | 0x400), (int)exp - 25);
    return sign ? -f : f;
}

static bool is_text(const pq_column_info *c)
{
    pq_logical_kind k = c->logical.kind;
    return k == PQ_LT_STRING || k == PQ_LT_JSON || k == PQ_LT_ENUM;
}

/* One value given as its PLAIN bytes (no length prefix). */
static void print_value(FILE *o, const pq_column_info *c, const uint8_t *p,
                        size_t n)
{
    const pq_logical_type *l = &c->logical;
    switch (c->type) {
    case PQ_BOOLEAN:
        fputs(n && p[0] ? "true" : "false", o);
        return;
    case PQ_INT32:
    case PQ_INT64: {
        if (n != (c->type == PQ_INT32 ? 4u : 8u)) {
            hex_string(o, p, n);
            return;
        }
        int64_t v = c->type == PQ_INT32 ? (int32_t)meru_load_le32(p)
                                        : (int64_t)meru_load_le64(p);
        if (l->kind == PQ_LT_DATE) {
            fputc('"', o);
            print_date(o, v);
            fputc('"', o);
        } else if (l->kind == PQ_LT_TIMESTAMP) {
            int64_t per = l->unit == PQ_UNIT_MILLIS   ? 1000
                          : l->unit == PQ_UNIT_MICROS ? 1000000
                                                      : 1000000000;
            int dg = l->unit == PQ_UNIT_MILLIS   ? 3
                     : l->unit == PQ_UNIT_MICROS ? 6
                                                 : 9;
            print_ts(o, v, per, dg, l->is_adjusted_to_utc);
        } else if (l->kind == PQ_LT_TIME) {
            int64_t per = l->unit == PQ_UNIT_MILLIS   ? 1000
                          : l->unit == PQ_UNIT_MICROS ? 1000000
                                                      : 1000000000;
            int dg = l->unit == PQ_UNIT_NANOS ? 9 : 6;
            int64_t s = floordiv(v, per), frac = v - s * per;
            if (per == 1000)
                frac *= 1000;
            fprintf(o, "\"%02d:%02d:%02d.%0*" PRId64 "\"", (int)(s / 3600),
                    (int)(s / 60 % 60), (int)(s % 60), dg, frac);
        } else if (l->kind == PQ_LT_DECIMAL) {
            uint8_t be[8];
            meru_store_be64(be, (uint64_t)v);
            print_decimal_be(o, be, 8, l->decimal_scale);
        } else if (c->order == PQ_ORDER_UINT32) {
            fprintf(o, "%" PRIu32, meru_load_le32(p));
        } else if (c->order == PQ_ORDER_UINT64) {
            fprintf(o, "\"%" PRIu64 "\"", meru_load_le64(p));
        } else if (c->type == PQ_INT64) {
            fprintf(o, "\"%" PRId64 "\"", v);
        } else {
            fprintf(o, "%" PRId64, v);
        }
        return;
    }
    case PQ_INT96: {
        if (n != 12) {
            hex_string(o, p, n);
            return;
        }
        /* nanoseconds of the day, then the Julian day */
        int64_t nanos = (int64_t)meru_load_le64(p);
        int64_t jd = (int32_t)meru_load_le32(p + 8);
        int64_t days = jd - 2440588;
        int64_t s = floordiv(nanos, 1000000000);
        int64_t secs = days * 86400 + s;
        /* print from seconds to avoid 64-bit nanosecond overflow */
        int64_t d2 = floordiv(secs, 86400), sod = secs - d2 * 86400;
        fputc('"', o);
        print_date(o, d2);
        fprintf(o, "T%02d:%02d:%02d.%09" PRId64 "\"", (int)(sod / 3600),
                (int)(sod / 60 % 60), (int)(sod % 60), nanos - s * 1000000000);
        return;
    }
    case PQ_FLOAT: {
        float f;
        if (n != 4) {
            hex_string(o, p, n);
            return;
        }
        memcpy(&f, p, 4);
        print_double(o, f, true);
        return;
    }
    case PQ_DOUBLE: {
        double d;
        if (n != 8) {
            hex_string(o, p, n);
            return;
        }
        memcpy(&d, p, 8);
        print_double(o, d, false);
        return;
    }
    default:
        if (is_text(c)) {
            json_string(o, p, n);
        } else if (l->kind == PQ_LT_DECIMAL) {
            print_decimal_be(o, p, n, l->decimal_scale);
        } else if (l->kind == PQ_LT_FLOAT16 && n == 2) {
            print_double(o, half_float(meru_load_le16(p)), true);
        } else {
            hex_string(o, p, n);
        }
    }
}

/* Key/value text: printable ASCII as is, the rest escaped. */
static void print_escaped(FILE *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\\')
            fputs("\\\\", o);
        else if (c == '\n')
            fputs("\\n", o);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, o);
        else
            fprintf(o, "\\x%02x", c);
    }
}

/* --------------------------------------------------------------- inspect */

static const char *logical_name(const pq_logical_type *l, char *buf, size_t cap)
{
    static const char *const unit[] = {"?", "MILLIS", "MICROS", "NANOS"};
    const char *u = (unsigned)l->unit <= 3 ? unit[l->unit] : "?";
    switch (l->kind) {
    case PQ_LT_NONE:
        return "-";
    case PQ_LT_STRING:
        return "STRING";
    case PQ_LT_MAP:
        return "MAP";
    case PQ_LT_LIST:
        return "LIST";
    case PQ_LT_ENUM:
        return "ENUM";
    case PQ_LT_DECIMAL:
        snprintf(buf, cap, "DECIMAL(%d,%d)", l->decimal_precision,
                 l->decimal_scale);
        return buf;
    case PQ_LT_DATE:
        return "DATE";
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        snprintf(buf, cap, "%s(%s,%s)",
                 l->kind == PQ_LT_TIME ? "TIME" : "TIMESTAMP", u,
                 l->is_adjusted_to_utc ? "UTC" : "local");
        return buf;
    case PQ_LT_INTEGER:
        snprintf(buf, cap, "INTEGER(%d,%s)", l->int_bit_width,
                 l->int_is_signed ? "signed" : "unsigned");
        return buf;
    case PQ_LT_UNKNOWN:
        return "UNKNOWN";
    case PQ_LT_JSON:
        return "JSON";
    case PQ_LT_BSON:
        return "BSON";
    case PQ_LT_UUID:
        return "UUID";
    case PQ_LT_FLOAT16:
        return "FLOAT16";
    default:
        return "OTHER";
    }
}

static const char *rep_name(pq_repetition r)
{
    return r == PQ_REQUIRED   ? "REQUIRED"
           : r == PQ_OPTIONAL ? "OPTIONAL"
                              : "REPEATED";
}

static void print_stat_value(FILE *o, const pq_column_info *c, pq_bytes v)
{
    if (c->order == PQ_ORDER_NONE) {
        hex_string(o, v.ptr, v.len);
        return;
    }
    print_value(o, c, v.ptr, v.len);
}

static void inspect_chunk(FILE *o, pq_reader *r, uint32_t g, uint32_t ci)
{
    const pq_column_info *c = pq_reader_column(r, ci);
    const pq_column_meta *m = pq_reader_chunk(r, g, ci);
    const pq_column_chunk *cc = &pq_reader_meta(r)->row_groups[g].columns[ci];
    fprintf(o, "  column %s: %s, codec %s, %" PRId64 " values\n", c->name,
            pq_type_name(m->type), pq_codec_name(m->codec), m->num_values);
    fprintf(o, "    encodings:");
    for (uint32_t i = 0; i < m->n_encodings; i++)
        fprintf(o, " %s", pq_encoding_name(m->encodings[i]));
    fputc('\n', o);
    if (m->n_encoding_stats) {
        fprintf(o, "    pages:");
        for (uint32_t i = 0; i < m->n_encoding_stats; i++)
            fprintf(o, "%s %d %s %s", i ? "," : "", m->encoding_stats[i].count,
                    pq_page_type_name(m->encoding_stats[i].page_type),
                    pq_encoding_name(m->encoding_stats[i].encoding));
        fputc('\n', o);
    }
    fprintf(o,
            "    size: %" PRId64 " compressed, %" PRId64
            " uncompressed; data page at %" PRId64,
            m->total_compressed_size, m->total_uncompressed_size,
            m->data_page_offset);
    if (m->has_dictionary_page_offset)
        fprintf(o, ", dictionary page at %" PRId64, m->dictionary_page_offset);
    fputc('\n', o);
    if (m->has_statistics) {
        const pq_statistics *s = &m->statistics;
        fprintf(o, "    statistics:");
        if (s->has_null_count)
            fprintf(o, " nulls %" PRId64, s->null_count);
        if (s->has_distinct_count)
            fprintf(o, ", distinct %" PRId64, s->distinct_count);
        pq_bytes lo, hi;
        bool have = false;
        if (s->has_min_value && s->has_max_value) {
            lo = s->min_value;
            hi = s->max_value;
            have = true;
        } else if (s->has_min && s->has_max) {
            lo = s->min;
            hi = s->max;
            have = true;
            fprintf(o, ", legacy");
        }
        if (have) {
            fprintf(o, ", min ");
            print_stat_value(o, c, lo);
            if (s->has_is_min_value_exact && !s->is_min_value_exact)
                fprintf(o, " (inexact)");
            fprintf(o, ", max ");
            print_stat_value(o, c, hi);
            if (s->has_is_max_value_exact && !s->is_max_value_exact)
                fprintf(o, " (inexact)");
        }
        fputc('\n', o);
    }
    fprintf(o, "    page index:");
    if (cc->has_column_index) {
        const pq_column_index *ix = NULL;
        if (pq_reader_column_index(r, g, ci, &ix) == 0 && ix)
            fprintf(o, " column index (%u pages, %s)", ix->n_pages,
                    ix->boundary_order == PQ_BOUNDARY_ASCENDING ? "ascending"
                    : ix->boundary_order == PQ_BOUNDARY_DESCENDING
                        ? "descending"
                        : "unordered");
        else
            fprintf(o, " column index (unreadable: %s)", meru_errmsg());
    } else {
        fprintf(o, " no column index");
    }
    if (cc->has_offset_index) {
        const pq_offset_index *ox = NULL;
        if (pq_reader_offset_index(r, g, ci, &ox) == 0 && ox)
            fprintf(o, ", offset index (%u pages)", ox->n_pages);
        else
            fprintf(o, ", offset index (unreadable: %s)", meru_errmsg());
    } else {
        fprintf(o, ", no offset index");
    }
    fputc('\n', o);
    if (m->has_bloom_filter_offset)
        fprintf(o, "    bloom filter: at %" PRId64 "%s\n",
                m->bloom_filter_offset,
                m->has_bloom_filter_length ? "" : " (length not recorded)");
    for (uint32_t i = 0; i < m->n_key_value_metadata; i++) {
        fprintf(o, "    metadata %s = ", m->key_value_metadata[i].key);
        if (m->key_value_metadata[i].has_value)
            print_escaped(o, m->key_value_metadata[i].value.ptr,
                          m->key_value_metadata[i].value.len);
        else
            fprintf(o, "(no value)");
        fputc('\n', o);
    }
}

static void inspect(FILE *o, const char *path, pq_reader *r, uint64_t size)
{
    const pq_file_meta *fm = pq_reader_meta(r);
    fprintf(o, "file: %s\n", path);
    fprintf(o, "size: %" PRIu64 " bytes\n", size);
    fprintf(o, "created_by: ");
    if (fm->created_by)
        print_escaped(o, (const uint8_t *)fm->created_by,
                      strlen(fm->created_by));
    else
        fprintf(o, "(none)");
    fprintf(o, "\nformat version: %d\n", fm->version);
    fprintf(o, "rows: %" PRId64 " (footer says %" PRId64 ")\n",
            pq_reader_num_rows(r), fm->num_rows);
    fprintf(o, "row groups: %u\n", pq_reader_num_row_groups(r));
    fprintf(o, "schema: %u columns (root \"%s\")\n", pq_reader_num_columns(r),
            fm->schema[0].name ? fm->schema[0].name : "");
    for (uint32_t i = 0; i < pq_reader_num_columns(r); i++) {
        const pq_column_info *c = pq_reader_column(r, i);
        char lb[64];
        fprintf(o, "  %u %s: %s", i, c->name, pq_type_name(c->type));
        if (c->type == PQ_FIXED_LEN_BYTE_ARRAY)
            fprintf(o, "(%d)", c->type_length);
        fprintf(o, " %s logical=%s", rep_name(c->repetition),
                logical_name(&c->logical, lb, sizeof lb));
        if (c->has_converted)
            fprintf(o, " converted=%s", pq_converted_type_name(c->converted));
        if (c->has_field_id)
            fprintf(o, " field_id=%d", c->field_id);
        fputc('\n', o);
    }
    if (fm->n_key_value_metadata) {
        fprintf(o, "key/value metadata:\n");
        for (uint32_t i = 0; i < fm->n_key_value_metadata; i++) {
            const pq_key_value *kv = &fm->key_value_metadata[i];
            fprintf(o, "  ");
            print_escaped(o, (const uint8_t *)kv->key, strlen(kv->key));
            fprintf(o, " = ");
            if (kv->has_value)
                print_escaped(o, kv->value.ptr, kv->value.len);
            else
                fprintf(o, "(no value)");
            fputc('\n', o);
        }
    }
    for (uint32_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        const pq_row_group *rg = &fm->row_groups[g];
        fprintf(o, "row group %u: %" PRId64 " rows, %" PRId64 " bytes\n", g,
                rg->num_rows, rg->total_byte_size);
        for (uint32_t c = 0; c < pq_reader_num_columns(r); c++)
            inspect_chunk(o, r, g, c);
    }
}

/* ------------------------------------------------------------------- cat */

static int cat(FILE *o, pq_reader *r, const int *proj, int nproj, int64_t limit)
{
    pq_cursor **cur = calloc((size_t)nproj + 1, sizeof *cur);
    pq_batch *b = calloc((size_t)nproj + 1, sizeof *b);
    if (!cur || !b) {
        free(cur);
        free(b);
        return MERU_ENOMEM;
    }
    int rc = 0;
    int64_t printed = 0;
    for (uint32_t g = 0; !rc && g < pq_reader_num_row_groups(r) &&
                         (limit < 0 || printed < limit);
         g++) {
        for (int i = 0; !rc && i < nproj; i++)
            rc = pq_cursor_open(r, g, (uint32_t)proj[i], &cur[i]);
        while (!rc && (limit < 0 || printed < limit)) {
            size_t want = 1024;
            if (limit >= 0 && (int64_t)want > limit - printed)
                want = (size_t)(limit - printed);
            size_t n = 0;
            for (int i = 0; !rc && i < nproj; i++) {
                rc = pq_cursor_next(cur[i], want, &b[i]);
                n = b[i].n;
            }
            if (rc || n == 0)
                break;
            for (size_t k = 0; k < n; k++) {
                fputc('{', o);
                for (int i = 0; i < nproj; i++) {
                    const pq_column_info *c =
                        pq_reader_column(r, (uint32_t)proj[i]);
                    if (i)
                        fputc(',', o);
                    json_string(o, (const uint8_t *)c->name, strlen(c->name));
                    fputc(':', o);
                    if (!b[i].valid[k]) {
                        fputs("null", o);
                        continue;
                    }
                    if (c->type == PQ_BYTE_ARRAY ||
                        c->type == PQ_FIXED_LEN_BYTE_ARRAY) {
                        const pq_bytes *x = (const pq_bytes *)b[i].values + k;
                        print_value(o, c, x->ptr, x->len);
                    } else {
                        size_t w = c->type == PQ_BOOLEAN ? 1
                                   : c->type == PQ_INT96 ? 12
                                   : c->type == PQ_INT32 || c->type == PQ_FLOAT
                                       ? 4
                                       : 8;
                        print_value(o, c, (const uint8_t *)b[i].values + k * w,
                                    w);
                    }
                }
                fputs("}\n", o);
            }
            printed += (int64_t)n;
        }
        for (int i = 0; i < nproj; i++) {
            pq_cursor_close(cur[i]);
            cur[i] = NULL;
        }
    }
    free(cur);
    free(b);
    return rc;
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
    fprintf(stderr, "usage: meru parquet inspect FILE\n"
                    "       meru parquet cat FILE [--columns a,b] "
                    "[--limit N]\n");
    return 2;
}

static int fail(const char *path, int rc)
{
    fprintf(stderr, "meru parquet: %s: %s\n", path,
            rc ? meru_errmsg() : "failed");
    return 3;
}

int meru_cmd_parquet(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *verb = argv[1], *path = argv[2];
    bool is_cat = !strcmp(verb, "cat");
    if (!is_cat && strcmp(verb, "inspect"))
        return usage();
    const char *columns = NULL;
    int64_t limit = -1;
    for (int i = 3; i < argc; i++) {
        if (is_cat && !strcmp(argv[i], "--columns") && i + 1 < argc) {
            columns = argv[++i];
        } else if (is_cat && !strcmp(argv[i], "--limit") && i + 1 < argc) {
            char *end;
            errno = 0;
            long long v = strtoll(argv[++i], &end, 10);
            if (errno || *end || v < 0)
                return usage();
            limit = v;
        } else {
            return usage();
        }
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "meru parquet: %s: %s\n", path, strerror(errno));
        return 3;
    }
    pq_source src;
    pq_reader *r = NULL;
    int rc = pq_source_fd(&src, fd);
    if (!rc)
        rc = pq_reader_open(&r, &src, NULL);
    if (rc) {
        close(fd);
        return fail(path, rc);
    }
    int status = 0;
    if (!is_cat) {
        inspect(stdout, path, r, src.size);
    } else {
        uint32_t nc = pq_reader_num_columns(r);
        int *proj = calloc(nc + 1, sizeof *proj);
        int nproj = 0;
        if (!proj) {
            status = 3;
        } else if (!columns) {
            for (uint32_t i = 0; i < nc; i++)
                proj[nproj++] = (int)i;
        } else {
            char *list = strdup(columns);
            for (char *tok = strtok(list, ","); tok && !status;
                 tok = strtok(NULL, ",")) {
                int c = pq_reader_find_column(r, tok);
                if (c < 0) {
                    fprintf(stderr, "meru parquet: %s: no column \"%s\"\n",
                            path, tok);
                    status = 2;
                } else if (nproj < (int)nc) {
                    proj[nproj++] = c;
                }
            }
            free(list);
        }
        if (!status) {
            rc = cat(stdout, r, proj, nproj, limit);
            if (rc)
                status = fail(path, rc);
        }
        free(proj);
    }
    if (fflush(stdout) != 0 && !status) {
        fprintf(stderr, "meru parquet: writing output: %s\n", strerror(errno));
        status = 3;
    }
    pq_reader_close(r);
    close(fd);
    return status;
}
