/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_output.c — how the `meru` verbs print rows (see cli_util.h): the
 * row printer in its three formats (JSON lines, CSV, an aligned table),
 * the table printer the report verbs use, and a key as text.
 *
 * Row values reach the CSV and table printers through meru_row_to_json():
 * the library already knows how to write every type, so the printers only
 * split that object into its members (one per column, in column order)
 * and undo the JSON string quoting. That keeps the tool on the public API
 * and makes all three formats agree on how a value looks.
 */
#include "tools/cli_util.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------- splitting row JSON */

/* One member of a row's JSON object: the raw value text and whether it is
 * a JSON string (then `text` holds it unescaped). */
typedef struct cell {
    const char *raw;
    size_t rawlen;
    int is_null, is_string;
    char *text; /* unescaped (strings) or a copy of raw; malloc'd */
    size_t textlen;
} cell;

static size_t put_utf8(char *p, unsigned cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | (cp >> 6));
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | (cp >> 12));
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (cp >> 18));
    p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

/* Unescapes the JSON string body p[0..n) into a malloc'd buffer. */
static char *json_unescape(const char *p, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1), *q = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\' || i + 1 >= n) {
            *q++ = p[i];
            continue;
        }
        char c = p[++i];
        switch (c) {
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'n':
            *q++ = '\n';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 't':
            *q++ = '\t';
            break;
        case 'u':
            if (i + 4 < n) {
                unsigned cp = hex4(p + i + 1);
                i += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n &&
                    p[i + 1] == '\\' && p[i + 2] == 'u') {
                    unsigned lo = hex4(p + i + 3);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                q += put_utf8(q, cp);
            }
            break;
        default:
            *q++ = c;
            break;
        }
    }
    *q = '\0';
    *outlen = (size_t)(q - o);
    return o;
}

/* Splits the flat object written by meru_row_to_json into `n` cells (one
 * per column, in order). Returns 0, or -1 if the text is not such an
 * object. */
static int split_row_json(const char *j, cell *cells, size_t n)
{
    const char *p = j;
    if (*p++ != '{')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && *p++ != ',')
            return -1;
        if (*p++ != '"')
            return -1;
        while (*p && *p != '"')
            p += (*p == '\\' && p[1]) ? 2 : 1;
        if (*p++ != '"' || *p++ != ':')
            return -1;
        cell *c = &cells[i];
        c->raw = p;
        c->is_null = 0; /* cells are reused row after row */
        if (*p == '"') {
            p++;
            const char *b = p;
            while (*p && *p != '"')
                p += (*p == '\\' && p[1]) ? 2 : 1;
            if (*p != '"')
                return -1;
            c->is_string = 1;
            c->text = json_unescape(b, (size_t)(p - b), &c->textlen);
            p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                p++;
            c->is_string = 0;
            c->textlen = (size_t)(p - c->raw);
            c->text = strndup(c->raw, c->textlen);
            c->is_null = c->textlen == 4 && !memcmp(c->raw, "null", 4);
        }
        if (!c->text)
            return -1;
        c->rawlen = (size_t)(p - c->raw);
    }
    return *p == '}' ? 0 : -1;
}

static void free_cells(cell *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cells[i].text);
        cells[i].text = NULL;
    }
}

void cli_key_text(const meru_row *row, char *buf, size_t cap)
{
    const meru_schema *s = meru_row_schema(row);
    size_t ncols = meru_schema_column_count(s), nkey = meru_schema_key_count(s);
    char *json = NULL;
    cell *cells = calloc(ncols, sizeof *cells);
    size_t used = 0;
    if (!cap)
        return;
    buf[0] = '\0';
    if (!cells || meru_row_to_json(row, &json) ||
        split_row_json(json, cells, ncols))
        goto out;
    used += (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < nkey && used < cap; i++) {
        const cell *c = &cells[meru_schema_key_column(s, i)];
        used += (size_t)snprintf(buf + used, cap - used, "%s%.*s", i ? "," : "",
                                 (int)c->rawlen, c->raw);
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
out:
    if (cells)
        free_cells(cells, ncols);
    free(cells);
    meru_free(json);
}

/* --------------------------------------------------------------- output */

int cli_parse_format(const char *text)
{
    if (!strcmp(text, "jsonl") || !strcmp(text, "json"))
        return CLI_FMT_JSONL;
    if (!strcmp(text, "csv"))
        return CLI_FMT_CSV;
    if (!strcmp(text, "table"))
        return CLI_FMT_TABLE;
    return -1;
}

struct cli_writer {
    const meru_schema *schema;
    cli_format fmt;
    size_t ncols; /* columns of the schema */
    size_t *sel;  /* printed columns (indexes) */
    size_t nsel;
    int all;         /* every column, in schema order */
    int header_done; /* CSV header written */
    cell *cells;
    /* table format: buffered cell texts, nsel per row */
    char **tbuf;
    size_t trows, tcap;
};

int cli_writer_new(cli_writer **out, const meru_schema *schema, cli_format fmt,
                   const char *const *columns, size_t ncolumns)
{
    cli_writer *w = calloc(1, sizeof *w);
    size_t ncols = meru_schema_column_count(schema);
    *out = NULL;
    if (!w)
        return cli_fail("out of memory");
    w->schema = schema;
    w->fmt = fmt;
    w->ncols = ncols;
    w->all = columns == NULL;
    w->nsel = columns ? ncolumns : ncols;
    w->sel = calloc(w->nsel ? w->nsel : 1, sizeof *w->sel);
    w->cells = calloc(ncols ? ncols : 1, sizeof *w->cells);
    if (!w->sel || !w->cells) {
        cli_writer_free(w);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < w->nsel; i++) {
        if (!columns) {
            w->sel[i] = i;
            continue;
        }
        int c = meru_schema_column_index(schema, columns[i]);
        if (c < 0) {
            cli_writer_free(w);
            return cli_usage("unknown column '%s' in --columns", columns[i]);
        }
        w->sel[i] = (size_t)c;
    }
    *out = w;
    return CLI_OK;
}

/* The CSV header goes out with the first row (or at finish), so that a
 * command failing before any row leaves stdout empty. */
static void csv_header(cli_writer *w)
{
    if (w->header_done)
        return;
    w->header_done = 1;
    for (size_t i = 0; i < w->nsel; i++) {
        fputs(i ? "," : "", stdout);
        fputs(meru_schema_column_name(w->schema, w->sel[i]), stdout);
    }
    fputc('\n', stdout);
}

static void csv_put(const cell *c)
{
    if (c->is_null)
        return;
    if (!c->is_string) {
        fwrite(c->text, 1, c->textlen, stdout);
        return;
    }
    int need = c->textlen == 0;
    for (size_t i = 0; !need && i < c->textlen; i++)
        need = strchr(",\"\r\n", c->text[i]) != NULL && c->text[i];
    if (!need) {
        fwrite(c->text, 1, c->textlen, stdout);
        return;
    }
    fputc('"', stdout);
    for (size_t i = 0; i < c->textlen; i++) {
        if (c->text[i] == '"')
            fputc('"', stdout);
        fputc(c->text[i], stdout);
    }
    fputc('"', stdout);
}

int cli_writer_row(cli_writer *w, const meru_row *row)
{
    char *json = NULL;
    int rc = meru_row_to_json(row, &json);
    if (rc)
        return cli_api_fail(rc, "formatting a row");
    if (w->fmt == CLI_FMT_JSONL && w->all) {
        puts(json);
        meru_free(json);
        return CLI_OK;
    }
    int st = CLI_OK;
    if (split_row_json(json, w->cells, w->ncols)) {
        st = cli_fail("cannot split row JSON: %s", json);
        goto out;
    }
    switch (w->fmt) {
    case CLI_FMT_JSONL:
        fputc('{', stdout);
        for (size_t i = 0; i < w->nsel; i++) {
            const cell *c = &w->cells[w->sel[i]];
            char *q = cli_json_quote(
                meru_schema_column_name(w->schema, w->sel[i]),
                strlen(meru_schema_column_name(w->schema, w->sel[i])));
            printf("%s%s:%.*s", i ? "," : "", q ? q : "\"?\"", (int)c->rawlen,
                   c->raw);
            free(q);
        }
        fputs("}\n", stdout);
        break;
    case CLI_FMT_CSV:
        csv_header(w);
        for (size_t i = 0; i < w->nsel; i++) {
            if (i)
                fputc(',', stdout);
            csv_put(&w->cells[w->sel[i]]);
        }
        fputc('\n', stdout);
        break;
    case CLI_FMT_TABLE:
        if (w->trows == w->tcap) {
            size_t ncap = w->tcap ? w->tcap * 2 : 64;
            char **nb = realloc(w->tbuf, ncap * w->nsel * sizeof *nb);
            if (!nb) {
                st = cli_fail("out of memory buffering the table");
                goto out;
            }
            w->tbuf = nb;
            w->tcap = ncap;
        }
        for (size_t i = 0; i < w->nsel; i++) {
            cell *c = &w->cells[w->sel[i]];
            char **slot = &w->tbuf[w->trows * w->nsel + i];
            if (c->is_null) {
                *slot = strdup("NULL");
            } else {
                *slot = c->text;
                c->text = NULL;
            }
        }
        w->trows++;
        break;
    }
out:
    free_cells(w->cells, w->ncols);
    meru_free(json);
    return st;
}

#define TABLE_MAX_WIDTH 48

/* Prints `s` in a cell of `width` terminal columns (display width, so CJK
 * and combining characters line up), cut with "..." if wider; line breaks
 * and tabs show as spaces so the grid stays intact. The last cell of a
 * line is not padded on the right (no trailing blanks). */
static void table_cell(FILE *f, const char *s, size_t width, int right,
                       int last)
{
    s = s ? s : "";
    size_t w = cli_display_width(s);
    int cut = w > width;
    size_t keep = cut ? cli_prefix_for_width(s, width - 3) : strlen(s);
    size_t shown = cut ? cli_display_width_n(s, keep) : w;
    if (right)
        for (size_t i = shown + (cut ? 3 : 0); i < width; i++)
            fputc(' ', f);
    for (size_t i = 0; i < keep; i++)
        fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], f);
    if (cut)
        fputs("...", f);
    if (!right && !last)
        for (size_t i = shown + (cut ? 3 : 0); i < width; i++)
            fputc(' ', f);
}

static int is_numeric(meru_type t)
{
    return t == MERU_TYPE_INT32 || t == MERU_TYPE_INT64 ||
           t == MERU_TYPE_FLOAT || t == MERU_TYPE_DOUBLE ||
           t == MERU_TYPE_DECIMAL;
}

static void table_rule(FILE *f, const size_t *wid, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "-+-" : "", f);
        for (size_t k = 0; k < wid[i]; k++)
            fputc('-', f);
    }
    fputc('\n', f);
}

int cli_table_print(FILE *f, const char *const *headers, char *const *cells,
                    size_t nrows, size_t ncols, const int *right)
{
    size_t *wid = calloc(ncols ? ncols : 1, sizeof *wid);
    if (!wid)
        return cli_fail("out of memory");
    for (size_t i = 0; i < ncols; i++) {
        wid[i] = cli_display_width(headers[i]);
        for (size_t r = 0; r < nrows; r++) {
            size_t d = cli_display_width(cells[r * ncols + i]);
            if (d > wid[i])
                wid[i] = d;
        }
        if (wid[i] > TABLE_MAX_WIDTH)
            wid[i] = TABLE_MAX_WIDTH;
    }
    for (size_t i = 0; i < ncols; i++) {
        fputs(i ? " | " : "", f);
        table_cell(f, headers[i], wid[i], 0, i + 1 == ncols);
    }
    fputc('\n', f);
    table_rule(f, wid, ncols);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t i = 0; i < ncols; i++) {
            fputs(i ? " | " : "", f);
            table_cell(f, cells[r * ncols + i], wid[i], right && right[i],
                       i + 1 == ncols);
        }
        fputc('\n', f);
    }
    free(wid);
    return CLI_OK;
}

int cli_writer_finish(cli_writer *w)
{
    if (w && w->fmt == CLI_FMT_CSV)
        csv_header(w);
    if (!w || w->fmt != CLI_FMT_TABLE)
        return CLI_OK;
    const char **hdr = calloc(w->nsel ? w->nsel : 1, sizeof *hdr);
    int *right = calloc(w->nsel ? w->nsel : 1, sizeof *right);
    int st = CLI_OK;
    if (!hdr || !right) {
        st = cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < w->nsel; i++) {
        hdr[i] = meru_schema_column_name(w->schema, w->sel[i]);
        right[i] = is_numeric(meru_schema_column_type(w->schema, w->sel[i]));
    }
    st = cli_table_print(stdout, hdr, w->tbuf, w->trows, w->nsel, right);
    if (!st)
        printf("(%zu row%s)\n", w->trows, w->trows == 1 ? "" : "s");
out:
    free(hdr);
    free(right);
    return st;
}

void cli_writer_free(cli_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->trows * w->nsel; i++)
        free(w->tbuf[i]);
    free(w->tbuf);
    if (w->cells)
        free_cells(w->cells, w->ncols);
    free(w->cells);
    free(w->sel);
    free(w);
}
