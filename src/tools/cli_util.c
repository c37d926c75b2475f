/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_util.c — shared pieces of the `meru` verbs (see cli_util.h):
 * messages, opening tables, values and keys from words, lists, CSV input
 * and progress. How rows are printed is cli_output.c.
 */
#include "tools/cli_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ messages */

static const char *g_verb = "meru";
static const char *g_usage = "";

void cli_set_verb(const char *verb, const char *usage)
{
    g_verb = verb;
    g_usage = usage;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "meru %s: ", g_verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

/* The library's message without its leading "meru_function: " (the
 * user ran a command, not a function). */
static const char *api_msg(int rc)
{
    const char *m = meru_errmsg();
    if (!m || !*m)
        return meru_strerror(rc);
    if (!strncmp(m, "meru_", 5)) {
        const char *c = strstr(m, ": ");
        size_t n = strspn(m, "abcdefghijklmnopqrstuvwxyz_0123456789");
        if (c && (size_t)(c - m) == n)
            m = c + 2;
    }
    return m;
}

int cli_api_fail(int rc, const char *what)
{
    return cli_fail("%s: %s", what, api_msg(rc));
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "meru %s: ", g_verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: meru %s\n", g_usage);
    return CLI_USAGE;
}

int cli_parse_u64(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-')
        goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        goto bad;
    *out = (uint64_t)v;
    return 1;
bad:
    cli_usage("%s wants a non-negative number, got '%s'", opt,
              text ? text : "");
    return 0;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --------------------------------------------------------------- tables */

int cli_open(const char *dir, int read_only, meru_db **out)
{
    meru_options o;
    meru_options_init(&o);
    o.create_if_missing = 0;
    o.read_only = read_only;
    /* A verb opens the table for one command and closes it: warming the
     * page cache for gets that never come would only spend a core. */
    o.warm_cache_at_open = 0;
    *out = NULL;
    int rc = meru_open(dir, &o, NULL, out);
    if (rc == MERU_NOT_FOUND)
        return cli_fail("no table at %s (create one with 'meru create')", dir);
    if (rc == MERU_ELOCKED)
        return cli_fail("%s is locked by another process writing to it", dir);
    if (rc) {
        char what[4200];
        snprintf(what, sizeof what, "cannot open the table at %s", dir);
        return cli_api_fail(rc, what);
    }
    return CLI_OK;
}

int cli_close(meru_db *db)
{
    int rc = meru_close(db);
    int st = rc ? cli_api_fail(rc, "closing the table") : CLI_OK;
    meru_db_free(db);
    return st;
}

/* ------------------------------------------------------- values and keys */

/* (cli_util.h) */
char *cli_json_quote(const char *s, size_t n)
{
    char *q = malloc(n * 6 + 3), *p = q;
    if (!q)
        return NULL;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = '\0';
    return q;
}

static int wants_quotes(meru_type t)
{
    switch (t) {
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
    case MERU_TYPE_DATE:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
    case MERU_TYPE_DECIMAL:
        return 1;
    default:
        return 0;
    }
}

int cli_set_value(meru_row *row, size_t col, const char *word, const char *ctx)
{
    const meru_schema *s = meru_row_schema(row);
    meru_type t = meru_schema_column_type(s, col);
    int rc;
    if (t == MERU_TYPE_BOOLEAN) {
        /* Spreadsheets and shells write booleans many ways. */
        static const char *const yes[] = {"true", "t", "1", "yes", "y"};
        static const char *const no[] = {"false", "f", "0", "no", "n"};
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (!strcasecmp(word, yes[i]))
                return meru_row_set_bool(row, col, 1);
            if (!strcasecmp(word, no[i]))
                return meru_row_set_bool(row, col, 0);
        }
    }
    if (t == MERU_TYPE_STRING && word[0] != '"') {
        rc = meru_row_set_string(row, col, word, strlen(word));
    } else if (wants_quotes(t) && word[0] != '"' && strcmp(word, "null")) {
        char *q = cli_json_quote(word, strlen(word));
        if (!q)
            return MERU_ENOMEM;
        rc = meru_row_set_json(row, col, q);
        free(q);
    } else {
        rc = meru_row_set_json(row, col, word);
    }
    if (rc) {
        /* Keep the library's reason, add which column and what was given;
         * drop its own "column 'x': " since this line names the column. */
        char msg[1024], pre[300];
        snprintf(msg, sizeof msg, "%s", api_msg(rc));
        snprintf(pre, sizeof pre,
                 "column '%s': ", meru_schema_column_name(s, col));
        const char *reason =
            strncmp(msg, pre, strlen(pre)) ? msg : msg + strlen(pre);
        fprintf(stderr,
                "meru %s: %s%scannot use '%s' for column '%s' (%s): "
                "%s\n",
                g_verb, ctx ? ctx : "", ctx ? ": " : "", word,
                meru_schema_column_name(s, col),
                meru_type_name(t) ? meru_type_name(t) : "?", reason);
    }
    return rc;
}

int cli_key_from_words(meru_row *key, char *const *words, size_t n)
{
    const meru_schema *s = meru_row_schema(key);
    for (size_t i = 0; i < n; i++) {
        int rc = cli_set_value(key, (size_t)meru_schema_key_column(s, i),
                               words[i], NULL);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* Splits `text` at commas outside double-quoted JSON strings. Returns the
 * number of parts (malloc'd strings in *parts), or -1. */
static long split_top(const char *text, char ***parts)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    const char *p = text, *start = text;
    int inq = 0;
    for (;; p++) {
        if (inq) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                inq = 0;
            else if (!*p)
                break; /* unterminated: the literal parser will say so */
            continue;
        }
        if (*p == '"') {
            inq = 1;
            continue;
        }
        if (*p == ',' || !*p) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                char **nv = realloc(v, cap * sizeof *nv);
                if (!nv)
                    goto oom;
                v = nv;
            }
            /* trim spaces around the part */
            const char *a = start, *b = p;
            while (a < b && (*a == ' ' || *a == '\t'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                b--;
            v[n] = strndup(a, (size_t)(b - a));
            if (!v[n])
                goto oom;
            n++;
            if (!*p)
                break;
            start = p + 1;
        }
    }
    if (inq) {
        /* The final part runs to the end. */
        if (n == cap) {
            char **nv = realloc(v, (cap + 1) * sizeof *nv);
            if (!nv)
                goto oom;
            v = nv;
        }
        v[n] = strdup(start);
        if (!v[n])
            goto oom;
        n++;
    }
    *parts = v;
    return (long)n;
oom:
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return -1;
}

int cli_key_from_list(meru_row *key, const char *list, size_t *n)
{
    const meru_schema *s = meru_row_schema(key);
    char **parts = NULL;
    long np = split_top(list, &parts);
    if (np < 0)
        return MERU_ENOMEM;
    int rc = MERU_OK;
    size_t nkey = meru_schema_key_count(s);
    if ((size_t)np > nkey) {
        fprintf(stderr,
                "meru %s: '%s' has %ld values but the key has %zu column%s\n",
                g_verb, list, np, nkey, nkey == 1 ? "" : "s");
        rc = MERU_EINVAL;
    }
    for (long i = 0; !rc && i < np; i++)
        rc = cli_set_value(key, (size_t)meru_schema_key_column(s, (size_t)i),
                           parts[i], NULL);
    for (long i = 0; i < np; i++)
        free(parts[i]);
    free(parts);
    *n = rc ? 0 : (size_t)np;
    return rc;
}

int cli_key_from_json_array(meru_row *key, const char *text)
{
    const meru_schema *s = meru_row_schema(key);
    size_t nkey = meru_schema_key_count(s);
    const char *a = text;
    while (*a == ' ' || *a == '\t')
        a++;
    size_t len = strlen(a);
    while (len && (a[len - 1] == ' ' || a[len - 1] == '\t' ||
                   a[len - 1] == '\r' || a[len - 1] == '\n'))
        len--;
    if (len < 2 || a[0] != '[' || a[len - 1] != ']') {
        fprintf(stderr,
                "meru %s: expected a JSON array of key values, "
                "got '%s'\n",
                g_verb, text);
        return MERU_EINVAL;
    }
    char *inner = strndup(a + 1, len - 2);
    if (!inner)
        return MERU_ENOMEM;
    char **parts = NULL;
    long np = split_top(inner, &parts);
    free(inner);
    if (np < 0)
        return MERU_ENOMEM;
    int rc = MERU_OK;
    if ((size_t)np != nkey) {
        fprintf(stderr, "meru %s: '%s' has %ld values, the key has %zu\n",
                g_verb, text, np, nkey);
        rc = MERU_EINVAL;
    }
    for (long i = 0; !rc && i < np; i++) {
        size_t col = (size_t)meru_schema_key_column(s, (size_t)i);
        rc = meru_row_set_json(key, col, parts[i]);
        if (rc) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", api_msg(rc));
            fprintf(stderr, "meru %s: key column '%s': %s\n", g_verb,
                    meru_schema_column_name(s, col), msg);
        }
    }
    for (long i = 0; i < np; i++)
        free(parts[i]);
    free(parts);
    return rc;
}

static int cmp_bytes(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c < 0 ? -1 : 1;
    return (an > bn) - (an < bn);
}

#define CMP3(x, y) (((x) > (y)) - ((x) < (y)))

/* Compares one column of two rows; null sorts first. */
static int col_cmp(const meru_row *a, const meru_row *b, size_t col,
                   meru_type t)
{
    int na = meru_row_is_null(a, col), nb = meru_row_is_null(b, col);
    if (na || nb)
        return nb - na;
    switch (t) {
    case MERU_TYPE_BOOLEAN: {
        int x = 0, y = 0;
        meru_row_get_bool(a, col, &x);
        meru_row_get_bool(b, col, &y);
        return CMP3(x, y);
    }
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE: {
        int32_t x = 0, y = 0;
        if (t == MERU_TYPE_DATE) {
            meru_row_get_date(a, col, &x);
            meru_row_get_date(b, col, &y);
        } else {
            meru_row_get_int32(a, col, &x);
            meru_row_get_int32(b, col, &y);
        }
        return CMP3(x, y);
    }
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t x = 0, y = 0;
        if (t == MERU_TYPE_INT64) {
            meru_row_get_int64(a, col, &x);
            meru_row_get_int64(b, col, &y);
        } else {
            meru_row_get_timestamp(a, col, &x);
            meru_row_get_timestamp(b, col, &y);
        }
        return CMP3(x, y);
    }
    case MERU_TYPE_FLOAT: {
        float x = 0, y = 0;
        meru_row_get_float(a, col, &x);
        meru_row_get_float(b, col, &y);
        return CMP3(x, y);
    }
    case MERU_TYPE_DOUBLE: {
        double x = 0, y = 0;
        meru_row_get_double(a, col, &x);
        meru_row_get_double(b, col, &y);
        return CMP3(x, y);
    }
    case MERU_TYPE_STRING: {
        const char *x = "", *y = "";
        size_t xn = 0, yn = 0;
        meru_row_get_string(a, col, &x, &xn);
        meru_row_get_string(b, col, &y, &yn);
        return cmp_bytes(x, xn, y, yn);
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *x = "", *y = "";
        size_t xn = 0, yn = 0;
        meru_row_get_binary(a, col, &x, &xn);
        meru_row_get_binary(b, col, &y, &yn);
        return cmp_bytes(x, xn, y, yn);
    }
    case MERU_TYPE_DECIMAL: {
        int64_t xh = 0, yh = 0;
        uint64_t xl = 0, yl = 0;
        meru_row_get_decimal(a, col, &xh, &xl);
        meru_row_get_decimal(b, col, &yh, &yl);
        return xh != yh ? CMP3(xh, yh) : CMP3(xl, yl);
    }
    }
    return 0;
}

int cli_key_cmp(const meru_row *a, const meru_row *b)
{
    const meru_schema *s = meru_row_schema(a);
    size_t nkey = meru_schema_key_count(s);
    for (size_t i = 0; i < nkey; i++) {
        size_t col = (size_t)meru_schema_key_column(s, i);
        int c = col_cmp(a, b, col, meru_schema_column_type(s, col));
        if (c)
            return c;
    }
    return 0;
}

int cli_key_copy(meru_row *dst, const meru_row *src)
{
    const meru_schema *s = meru_row_schema(src);
    size_t nkey = meru_schema_key_count(s);
    int rc = MERU_OK;
    for (size_t i = 0; !rc && i < nkey; i++) {
        size_t col = (size_t)meru_schema_key_column(s, i);
        if (meru_row_is_null(src, col)) {
            rc = meru_row_set_null(dst, col);
            continue;
        }
        switch (meru_schema_column_type(s, col)) {
        case MERU_TYPE_BOOLEAN: {
            int v = 0;
            rc = meru_row_get_bool(src, col, &v);
            if (!rc)
                rc = meru_row_set_bool(dst, col, v);
            break;
        }
        case MERU_TYPE_INT32: {
            int32_t v = 0;
            rc = meru_row_get_int32(src, col, &v);
            if (!rc)
                rc = meru_row_set_int32(dst, col, v);
            break;
        }
        case MERU_TYPE_DATE: {
            int32_t v = 0;
            rc = meru_row_get_date(src, col, &v);
            if (!rc)
                rc = meru_row_set_date(dst, col, v);
            break;
        }
        case MERU_TYPE_INT64: {
            int64_t v = 0;
            rc = meru_row_get_int64(src, col, &v);
            if (!rc)
                rc = meru_row_set_int64(dst, col, v);
            break;
        }
        case MERU_TYPE_TIMESTAMP:
        case MERU_TYPE_TIMESTAMPTZ: {
            int64_t v = 0;
            rc = meru_row_get_timestamp(src, col, &v);
            if (!rc)
                rc = meru_row_set_timestamp(dst, col, v);
            break;
        }
        case MERU_TYPE_FLOAT: {
            float v = 0;
            rc = meru_row_get_float(src, col, &v);
            if (!rc)
                rc = meru_row_set_float(dst, col, v);
            break;
        }
        case MERU_TYPE_DOUBLE: {
            double v = 0;
            rc = meru_row_get_double(src, col, &v);
            if (!rc)
                rc = meru_row_set_double(dst, col, v);
            break;
        }
        case MERU_TYPE_STRING: {
            const char *v = NULL;
            size_t n = 0;
            rc = meru_row_get_string(src, col, &v, &n);
            if (!rc)
                rc = meru_row_set_string(dst, col, v, n);
            break;
        }
        case MERU_TYPE_BINARY:
        case MERU_TYPE_FIXED: {
            const void *v = NULL;
            size_t n = 0;
            rc = meru_row_get_binary(src, col, &v, &n);
            if (!rc)
                rc = meru_row_set_binary(dst, col, v, n);
            break;
        }
        case MERU_TYPE_DECIMAL: {
            int64_t hi = 0;
            uint64_t lo = 0;
            rc = meru_row_get_decimal(src, col, &hi, &lo);
            if (!rc)
                rc = meru_row_set_decimal(dst, col, hi, lo);
            break;
        }
        }
    }
    return rc;
}

int cli_split_list(const char *text, char ***out, size_t *n)
{
    char **v = NULL;
    size_t cnt = 0;
    const char *p = text;
    *out = NULL;
    *n = 0;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            goto bad;
        char **nv = realloc(v, (cnt + 1) * sizeof *nv);
        if (!nv)
            goto bad;
        v = nv;
        v[cnt] = strndup(p, len);
        if (!v[cnt])
            goto bad;
        cnt++;
        if (!e)
            break;
        p = e + 1;
    }
    *out = v;
    *n = cnt;
    return 0;
bad:
    cli_free_list(v, cnt);
    return -1;
}

void cli_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* ------------------------------------------------------------ CSV input */

static int csv_byte(cli_csv *c, char ch)
{
    if (c->len + 1 >= c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    c->buf[c->len++] = ch;
    return 0;
}

static int csv_field_start(cli_csv *c)
{
    if (c->nfields == c->fcap) {
        size_t ncap = c->fcap ? c->fcap * 2 : 32;
        size_t *no = realloc(c->off, ncap * sizeof *no);
        if (!no)
            return -1;
        c->off = no;
        unsigned char *nq = realloc(c->quoted, ncap);
        if (!nq)
            return -1;
        c->quoted = nq;
        c->fcap = ncap;
    }
    c->off[c->nfields] = c->len;
    c->quoted[c->nfields] = 0;
    c->nfields++;
    return 0;
}

int cli_csv_next(cli_csv *c)
{
    int ch;
    c->len = 0;
    c->nfields = 0;
    if (!c->next_line)
        c->next_line = 1;
    /* Skip blank lines between records. */
    do {
        ch = getc(c->f);
        if (ch == '\n')
            c->next_line++;
    } while (ch == '\n' || ch == '\r');
    if (ch == EOF)
        return 0;
    c->line = c->next_line;
    if (csv_field_start(c))
        goto oom;
    int inq = 0, after_q = 0;
    for (;; ch = getc(c->f)) {
        if (inq) {
            if (ch == EOF) {
                cli_fail("line %" PRIu64 ": a quoted field is not closed",
                         c->line);
                return -1;
            }
            if (ch == '"') {
                int nx = getc(c->f);
                if (nx == '"') {
                    if (csv_byte(c, '"'))
                        goto oom;
                    continue;
                }
                ungetc(nx, c->f);
                inq = 0;
                after_q = 1;
                continue;
            }
            if (ch == '\n')
                c->next_line++;
            if (csv_byte(c, (char)ch))
                goto oom;
            continue;
        }
        if (ch == EOF || ch == '\n' || ch == '\r') {
            if (ch == '\r') {
                int nx = getc(c->f);
                if (nx != '\n')
                    ungetc(nx, c->f);
            }
            if (ch != EOF)
                c->next_line++;
            if (csv_byte(c, '\0'))
                goto oom;
            return 1;
        }
        if (ch == ',') {
            if (csv_byte(c, '\0') || csv_field_start(c))
                goto oom;
            after_q = 0;
            continue;
        }
        if (ch == '"' && c->len == c->off[c->nfields - 1] && !after_q) {
            inq = 1;
            c->quoted[c->nfields - 1] = 1;
            continue;
        }
        if (after_q) {
            cli_fail("line %" PRIu64 ": text after a closing quote in field "
                     "%zu",
                     c->line, c->nfields);
            return -1;
        }
        if (csv_byte(c, (char)ch))
            goto oom;
    }
oom:
    cli_fail("out of memory reading CSV");
    return -1;
}

void cli_csv_free(cli_csv *c)
{
    free(c->buf);
    free(c->off);
    free(c->quoted);
    c->buf = NULL;
    c->off = NULL;
    c->quoted = NULL;
}

/* ------------------------------------------------------------- progress */

void cli_progress_start(cli_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    p->on = isatty(STDERR_FILENO);
    p->start = cli_now();
    p->last = 0;
}

static void progress_draw(cli_progress *p, uint64_t done, uint64_t rows,
                          double now)
{
    double el = now - p->start;
    double rate = el > 0 ? (double)rows / el : 0;
    fprintf(stderr, "\r%-8s ", p->label);
    if (p->total) {
        enum { W = 30 };
        double f = (double)done / (double)p->total;
        if (f > 1)
            f = 1;
        int fill = (int)(f * W);
        fputc('[', stderr);
        for (int i = 0; i < W; i++)
            fputc(i < fill ? '#' : ' ', stderr);
        fprintf(stderr, "] %3d%% ", (int)(f * 100));
    }
    fprintf(stderr, "%" PRIu64 " rows  %.0f rows/s  %.1f s\033[K", rows, rate,
            el);
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t rows)
{
    if (!p->on)
        return;
    double now = cli_now();
    if (now - p->last < 0.1)
        return;
    p->last = now;
    progress_draw(p, done, rows, now);
}

void cli_progress_end(cli_progress *p, uint64_t done, uint64_t rows)
{
    if (!p->on)
        return;
    progress_draw(p, p->total ? p->total : done, rows, cli_now());
    fputc('\n', stderr);
}

int cli_only_dir(int argc, char **argv, const char **dir)
{
    static const cli_option none[] = {{NULL, 0, NULL, NULL}};
    cli_parser p;
    const char *v;
    int o;
    *dir = NULL;
    if (cli_parser_init(&p, argc, argv, none))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        ;
    if (o != CLI_DONE)
        return cli_parser_exit(&p, o);
    int st = -1;
    if (p.npos == 0)
        st = cli_usage("missing DIR");
    else if (p.npos > 1)
        st = cli_usage("unexpected argument '%s'", p.pos[1]);
    else /* DIR never needs unprotecting: find argv's own word */
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], p.pos[0]))
                *dir = argv[i];
    cli_parser_free(&p);
    return st;
}
