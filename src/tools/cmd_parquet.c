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
 * file (or --columns) order, with the tool's one number format: integers
 * of every width as JSON integers, floating point as the shortest text
 * that reads back (ECMAScript's form: 100, 0.1, 1e+21; meru_fmt_double),
 * NaN and the infinities as strings, -0 as -0. With --canonical it prints
 * the canonical row format of tests/interop/README.md instead, so the
 * output diffs byte for byte against the independent readers there: the
 * same except 64-bit integers as decimal strings and -0 as "-0". Both:
 *   - INT32 (and 8/16/32-bit INTEGER, unsigned read as unsigned) as JSON
 *     numbers; unsigned 64-bit as unsigned;
 *   - FLOAT (and FLOAT16) as the shortest decimal that reads back to the
 *     same float32;
 *   - STRING/ENUM/JSON as JSON strings (JSON.stringify escaping; bytes that
 *     are not valid UTF-8 become U+FFFD, where the harness would fail);
 *   - other BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY (BSON, UUID too) as
 *     "hex:<lowercase hex>";
 *   - DECIMAL as a string with exactly `scale` fraction digits;
 *   - DATE "YYYY-MM-DD" (-YYYY before year 0, +YYYYY after 9999);
 *     TIMESTAMP MILLIS/MICROS with 6 fraction digits, NANOS and INT96 with
 *     9, "Z" when adjusted to UTC (INT96 never); TIME "HH:MM:SS.ffffff";
 *   - null as null.
 * Errors go to stderr as "meru parquet: FILE: message" with exit 1; usage
 * errors exit 2 (as every verb).
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
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "types/jtext.h"
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

/* --canonical: the interop harness's row format (64-bit integers as
 * strings, -0 as "-0"); else the tool's one number format. */
static bool g_canonical;

static void print_double(FILE *o, double d, bool is_float)
{
    char buf[MERU_FLOAT_TEXT_MAX];
    if (!isfinite(d)) {
        fprintf(o, "\"%s\"", isnan(d) ? "NaN" : d > 0 ? "Infinity"
                                                      : "-Infinity");
        return;
    }
    if (d == 0 && signbit(d)) {
        fputs(g_canonical ? "\"-0\"" : "-0", o);
        return;
    }
    if (is_float)
        meru_fmt_float((float)d, buf);
    else
        meru_fmt_double(d, buf);
    fputs(buf, o);
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
            fprintf(o, g_canonical ? "\"%" PRIu64 "\"" : "%" PRIu64,
                    meru_load_le64(p));
        } else if (c->type == PQ_INT64) {
            fprintf(o, g_canonical ? "\"%" PRId64 "\"" : "%" PRId64, v);
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

static const cli_option parquet_opts[] = {
    {"columns", 'c', "a,b", "cat: print only these columns, in this order"},
    {"limit", 'n', "N", "cat: print at most N rows"},
    {"canonical", 0, NULL,
     "cat: the interop harness's row format (64-bit integers as strings)"},
    {NULL, 0, NULL, NULL}};

static int fail(const char *path, int rc)
{
    fprintf(stderr, "meru parquet: %s: %s\n", path,
            rc ? meru_errmsg() : "failed");
    return CLI_FAIL;
}

/* The columns of --columns as file column indexes; CLI_USAGE for an
 * unknown name (message printed). */
static int projection(pq_reader *r, const char *path, const char *columns,
                      int *proj, int *nproj)
{
    uint32_t nc = pq_reader_num_columns(r);
    *nproj = 0;
    if (!columns) {
        for (uint32_t i = 0; i < nc; i++)
            proj[(*nproj)++] = (int)i;
        return CLI_OK;
    }
    char **names = NULL;
    size_t n = 0;
    if (cli_split_list(columns, &names, &n))
        return cli_usage("--columns wants names separated by commas, got "
                         "'%s'",
                         columns);
    int st = CLI_OK;
    for (size_t i = 0; i < n && !st; i++) {
        int c = pq_reader_find_column(r, names[i]);
        if (c < 0)
            st = cli_usage("%s has no column \"%s\"", path, names[i]);
        else if (*nproj < (int)nc)
            proj[(*nproj)++] = c;
    }
    cli_free_list(names, n);
    return st;
}

int meru_cmd_parquet(int argc, char **argv)
{
    cli_set_verb("parquet", meru_verb_usage("parquet"));
    const char *columns = NULL;
    int64_t limit = -1;
    int st = CLI_OK, o, fd = -1;
    pq_reader *r = NULL;
    cli_parser p;
    const char *v;
    g_canonical = false;
    if (cli_parser_init(&p, argc, argv, parquet_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        const char *name = parquet_opts[o].name;
        if (!strcmp(name, "columns")) {
            columns = v;
        } else if (!strcmp(name, "limit")) {
            uint64_t n;
            if (!cli_parse_u64("--limit", v, &n) || n > INT64_MAX) {
                st = CLI_USAGE;
                goto out;
            }
            limit = (int64_t)n;
        } else {
            g_canonical = true;
        }
    }
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos < 1) {
        st = cli_usage("missing inspect or cat");
        goto out;
    }
    bool is_cat = !strcmp(p.pos[0], "cat");
    if (!is_cat && strcmp(p.pos[0], "inspect")) {
        st = cli_usage("unknown subcommand '%s' (inspect or cat)", p.pos[0]);
        goto out;
    }
    if (p.npos != 2) {
        st = p.npos < 2 ? cli_usage("missing FILE")
                        : cli_usage("unexpected argument '%s'", p.pos[2]);
        goto out;
    }
    if (!is_cat && (columns || limit >= 0 || g_canonical)) {
        st = cli_usage("--columns, --limit and --canonical are for cat");
        goto out;
    }
    const char *path = p.pos[1];
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "meru parquet: %s: %s\n", path, strerror(errno));
        st = CLI_FAIL;
        goto out;
    }
    pq_source src;
    int rc = pq_source_fd(&src, fd);
    if (!rc)
        rc = pq_reader_open(&r, &src, NULL);
    if (rc) {
        st = fail(path, rc);
        goto out;
    }
    if (!is_cat) {
        inspect(stdout, path, r, src.size);
    } else {
        int *proj = calloc(pq_reader_num_columns(r) + 1, sizeof *proj);
        int nproj = 0;
        if (!proj)
            st = cli_fail("out of memory");
        else if (!(st = projection(r, path, columns, proj, &nproj)) &&
                 (rc = cat(stdout, r, proj, nproj, limit)))
            st = fail(path, rc);
        free(proj);
    }
    if (fflush(stdout) != 0 && !st) {
        fprintf(stderr, "meru parquet: writing output: %s\n", strerror(errno));
        st = CLI_FAIL;
    }
out:
    pq_reader_close(r);
    if (fd >= 0)
        close(fd);
    cli_parser_free(&p);
    return st;
}
