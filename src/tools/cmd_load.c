/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_load.c — `meru load DIR FILE.csv|FILE.jsonl|- [--format F]
 * [--batch N]`.
 *
 * Rows are written in write batches of N (default 1000): each batch is
 * atomic, the load as a whole is not — after an error the rows of earlier
 * batches stay written, and the message says how many. The format comes
 * from the file name (.csv, .jsonl/.json/.ndjson) unless --format is given
 * (required for stdin).
 *
 * CSV: RFC 4180; the header row names the columns (any order, any subset:
 * absent columns take their write default or null). An unquoted empty
 * field is null; a quoted empty field ("") is the empty string. Values are
 * read by column type like command-line values (cli_set_value): strings
 * as they are, numbers and booleans as JSON literals, dates, timestamps
 * and decimals in their usual text forms.
 *
 * A progress bar (bytes read of the file, rows, rate) is drawn on stderr
 * when stderr is a terminal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

#define LOAD_DEFAULT_BATCH 1000

/* Writes the batch if it holds rows; adds them to *rows. */
static int flush_batch(meru_db *db, meru_write_batch *b, uint64_t *rows)
{
    size_t n = meru_write_batch_count(b);
    if (!n)
        return CLI_OK;
    int rc = meru_write(db, b, NULL);
    if (rc)
        return cli_api_fail(rc, "write");
    *rows += n;
    meru_write_batch_clear(b);
    return CLI_OK;
}

static off_t file_pos(FILE *f)
{
    off_t o = ftello(f);
    return o < 0 ? 0 : o;
}

static void report_partial(uint64_t rows)
{
    fprintf(stderr,
            "meru load: %" PRIu64 " row%s written before the "
            "error\n",
            rows, rows == 1 ? " was" : "s were");
}

int cli_load_jsonl(meru_db *db, FILE *f, const char *name, uint64_t batch,
                   cli_progress *p, uint64_t *rows)
{
    const meru_schema *s = meru_db_schema(db);
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int st = CLI_FAIL, rc;
    *rows = 0;
    if ((rc = meru_row_new(&row, s)) || (rc = meru_write_batch_new(&b, s))) {
        st = cli_api_fail(rc, "allocation");
        goto out;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == n)
            continue;
        char what[512];
        snprintf(what, sizeof what, "line %" PRIu64 " of %s", lineno, name);
        if (line[k] == '[') {
            st = cli_fail("%s starts with '[': JSON lines are one object a "
                          "line, not an array",
                          what);
            goto out;
        }
        meru_row_clear(row);
        if ((rc = meru_row_from_json(row, line + k, n - k)) ||
            (rc = meru_write_batch_put(b, row))) {
            st = cli_api_fail(rc, what);
            goto out;
        }
        if (meru_write_batch_count(b) >= batch && flush_batch(db, b, rows))
            goto out;
        cli_progress_update(p, (uint64_t)file_pos(f),
                            *rows + meru_write_batch_count(b));
    }
    if (ferror(f)) {
        st = cli_fail("reading %s failed", name);
        goto out;
    }
    if (flush_batch(db, b, rows))
        goto out;
    cli_progress_end(p, (uint64_t)file_pos(f), *rows);
    st = CLI_OK;
out:
    free(line);
    meru_write_batch_free(b);
    meru_row_free(row);
    return st;
}

static int load_csv(meru_db *db, FILE *f, const char *name, uint64_t batch,
                    cli_progress *p, uint64_t *rows)
{
    const meru_schema *s = meru_db_schema(db);
    size_t ncols = meru_schema_column_count(s);
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    cli_csv c = {.f = f};
    size_t *map = NULL, nhead = 0;
    unsigned char *seen = NULL;
    int st = CLI_FAIL, rc;
    *rows = 0;
    if ((rc = meru_row_new(&row, s)) || (rc = meru_write_batch_new(&b, s))) {
        st = cli_api_fail(rc, "allocation");
        goto out;
    }
    int got = cli_csv_next(&c);
    if (got < 0)
        goto out;
    if (got == 0) {
        st = cli_fail("%s is empty: a CSV file starts with a header row "
                      "naming the columns",
                      name);
        goto out;
    }
    nhead = c.nfields;
    map = calloc(nhead, sizeof *map);
    seen = calloc(ncols ? ncols : 1, 1);
    if (!map || !seen) {
        st = cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < nhead; i++) {
        const char *h = c.buf + c.off[i];
        if (i == 0 && !strncmp(h, "\xEF\xBB\xBF", 3))
            h += 3; /* a UTF-8 byte order mark, as spreadsheets write */
        int col = meru_schema_column_index(s, h);
        if (col < 0) {
            st = cli_fail("%s: the header names column '%s', which the "
                          "table does not have",
                          name, h);
            goto out;
        }
        if (seen[col]) {
            st = cli_fail("%s: the header names column '%s' twice", name, h);
            goto out;
        }
        seen[col] = 1;
        map[i] = (size_t)col;
    }
    while ((got = cli_csv_next(&c)) > 0) {
        char what[512];
        snprintf(what, sizeof what, "line %" PRIu64 " of %s", c.line, name);
        if (c.nfields != nhead) {
            st = cli_fail("%s: %zu field%s but the header has %zu", what,
                          c.nfields, c.nfields == 1 ? "" : "s", nhead);
            goto out;
        }
        meru_row_clear(row);
        for (size_t i = 0; i < nhead; i++) {
            const char *v = c.buf + c.off[i];
            size_t col = map[i];
            if (!*v && !c.quoted[i])
                rc = meru_row_set_null(row, col);
            else if (meru_schema_column_type(s, col) == MERU_TYPE_STRING)
                rc = meru_row_set_string(row, col, v, strlen(v));
            else if (cli_set_value(row, col, v, what))
                goto out; /* reported */
            if (rc) {
                st = cli_api_fail(rc, what);
                goto out;
            }
        }
        if ((rc = meru_write_batch_put(b, row))) {
            st = cli_api_fail(rc, what);
            goto out;
        }
        if (meru_write_batch_count(b) >= batch && flush_batch(db, b, rows))
            goto out;
        cli_progress_update(p, (uint64_t)file_pos(f),
                            *rows + meru_write_batch_count(b));
    }
    if (got < 0)
        goto out;
    if (ferror(f)) {
        st = cli_fail("reading %s failed", name);
        goto out;
    }
    if (flush_batch(db, b, rows))
        goto out;
    cli_progress_end(p, (uint64_t)file_pos(f), *rows);
    st = CLI_OK;
out:
    cli_csv_free(&c);
    free(map);
    free(seen);
    meru_write_batch_free(b);
    meru_row_free(row);
    return st;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int meru_cmd_load(int argc, char **argv)
{
    cli_set_verb("load", meru_verb_usage("load"));
    const char *dir = NULL, *file = NULL, *fmt = NULL;
    uint64_t batch = LOAD_DEFAULT_BATCH;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return cli_help();
        if (!strcmp(a, "--format") || !strcmp(a, "--batch")) {
            if (i + 1 >= argc)
                return cli_usage("%s needs a value", a);
            if (!strcmp(a, "--format"))
                fmt = argv[++i];
            else if (!cli_parse_u64(a, argv[++i], &batch))
                return CLI_USAGE;
        } else if (cli_is_option(a)) {
            return cli_usage("unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else if (!file) {
            file = a;
        } else {
            return cli_usage("unexpected argument '%s'", a);
        }
    }
    if (!dir || !file)
        return cli_usage("missing %s", dir ? "FILE" : "DIR");
    if (batch == 0 || batch > 10000000)
        return cli_usage("--batch wants 1..10000000");
    int is_csv;
    if (fmt) {
        if (!strcmp(fmt, "csv"))
            is_csv = 1;
        else if (!strcmp(fmt, "jsonl") || !strcmp(fmt, "json"))
            is_csv = 0;
        else
            return cli_usage("--format wants csv or jsonl, got '%s'", fmt);
    } else if (ends_with(file, ".csv") || ends_with(file, ".CSV")) {
        is_csv = 1;
    } else if (ends_with(file, ".jsonl") || ends_with(file, ".json") ||
               ends_with(file, ".ndjson")) {
        is_csv = 0;
    } else {
        return cli_usage("cannot tell the format of '%s' from its name: "
                         "add --format csv or --format jsonl",
                         file);
    }

    int from_stdin = !strcmp(file, "-");
    FILE *f = from_stdin ? stdin : fopen(file, "r");
    if (!f)
        return cli_fail("cannot open %s: %s", file, strerror(errno));
    uint64_t total = 0;
    struct stat stt;
    if (!from_stdin && fstat(fileno(f), &stt) == 0 && S_ISREG(stt.st_mode))
        total = (uint64_t)stt.st_size;

    meru_db *db = NULL;
    int st = cli_open(dir, 0, &db);
    if (st) {
        if (!from_stdin)
            fclose(f);
        return st;
    }
    cli_progress pr;
    uint64_t rows = 0;
    const char *name = from_stdin ? "stdin" : file;
    double t0 = cli_now();
    cli_progress_start(&pr, "load", total);
    st = is_csv ? load_csv(db, f, name, batch, &pr, &rows)
                : cli_load_jsonl(db, f, name, batch, &pr, &rows);
    if (st && pr.on)
        fputc('\n', stderr);
    if (st)
        report_partial(rows);
    if (!from_stdin)
        fclose(f);
    int cst = cli_close(db);
    double el = cli_now() - t0;
    if (!st && !cst)
        printf("loaded %" PRIu64 " row%s from %s in %.2f s (%.0f rows/s)\n",
               rows, rows == 1 ? "" : "s", name, el,
               el > 0 ? (double)rows / el : 0.0);
    return st ? st : cst;
}
