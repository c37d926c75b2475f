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
 *
 * Afterwards (unless --no-settle) it flushes and waits until background
 * work is idle, idle work included: the engine moves L0 files below the
 * compaction trigger into L1 once the table is quiet
 * (db_compact_pick.c), so a finished load leaves the table column-tuned
 * and compressed, near the size `meru compact` would give, instead of in
 * row-tuned L0 files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

static const cli_option load_opts[] = {
    {"format", 'f', "FMT", "csv or jsonl (default: from the file name)"},
    {"batch", 'b', "N", "rows per atomic write batch (default 1000)"},
    {"no-settle", 0, NULL,
     "return once the rows are written, leaving compaction for later"},
    {NULL, 0, NULL, NULL}};

/* After a load: flush, then wait until background work is idle, idle work
 * (L0 into L1) included, so the table is left compacted and compressed
 * rather than in row-tuned L0 files. Says so on a terminal. */
static int settle(meru_db *db, int tty)
{
    int rc = meru_flush(db);
    if (rc)
        return cli_api_fail(rc, "flush");
    if (tty)
        fprintf(stderr, "settling: compacting what the load left in L0...");
    for (;;) {
        meru_stats st;
        if ((rc = meru_stats_get(db, &st)))
            return cli_api_fail(rc, "stats");
        if (st.background_errors)
            return cli_fail("background work failed (see meru stats)");
        if (!st.immutable_memtables && !st.compactions_running &&
            !st.compactions_pending)
            break;
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (tty)
        fprintf(stderr, " done\n");
    return CLI_OK;
}

int meru_cmd_load(int argc, char **argv)
{
    cli_set_verb("load", meru_verb_usage("load"));
    const char *dir, *file, *fmt = NULL;
    uint64_t batch = LOAD_DEFAULT_BATCH;
    meru_db *db = NULL;
    FILE *f = NULL;
    int from_stdin = 0, is_csv, st = CLI_OK, o, no_settle = 0;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, load_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        if (!strcmp(load_opts[o].name, "no-settle")) {
            no_settle = 1;
        } else if (load_opts[o].short_name == 'f') {
            fmt = v;
        } else if (!cli_parse_u64("--batch", v, &batch)) {
            st = CLI_USAGE;
            goto out;
        }
    }
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos < 2) {
        st = cli_usage("missing %s", p.npos ? "FILE" : "DIR");
        goto out;
    }
    if (p.npos > 2) {
        st = cli_usage("unexpected argument '%s'", p.pos[2]);
        goto out;
    }
    dir = p.pos[0];
    file = p.pos[1];
    if (batch == 0 || batch > 10000000) {
        st = cli_usage("--batch wants 1..10000000");
        goto out;
    }
    if (fmt) {
        if (!strcmp(fmt, "csv")) {
            is_csv = 1;
        } else if (!strcmp(fmt, "jsonl") || !strcmp(fmt, "json")) {
            is_csv = 0;
        } else {
            st = cli_usage("--format wants csv or jsonl, got '%s'", fmt);
            goto out;
        }
    } else if (ends_with(file, ".csv") || ends_with(file, ".CSV")) {
        is_csv = 1;
    } else if (ends_with(file, ".jsonl") || ends_with(file, ".json") ||
               ends_with(file, ".ndjson")) {
        is_csv = 0;
    } else {
        st = cli_usage("cannot tell the format of '%s' from its name: "
                       "add --format csv or --format jsonl",
                       file);
        goto out;
    }

    from_stdin = !strcmp(file, "-");
    f = from_stdin ? stdin : fopen(file, "r");
    if (!f) {
        st = cli_fail("cannot open %s: %s", file, strerror(errno));
        goto out;
    }
    uint64_t total = 0;
    struct stat stt;
    if (!from_stdin && fstat(fileno(f), &stt) == 0 && S_ISREG(stt.st_mode))
        total = (uint64_t)stt.st_size;
    if ((st = cli_open(dir, 0, &db)))
        goto out;
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
    double el = cli_now() - t0;
    if (!st)
        printf("loaded %" PRIu64 " row%s from %s in %.2f s (%.0f rows/s)\n",
               rows, rows == 1 ? "" : "s", name, el,
               el > 0 ? (double)rows / el : 0.0);
    if (!st && !no_settle && !(st = settle(db, pr.on))) {
        meru_stats ms;
        if (meru_stats_get(db, &ms) == MERU_OK)
            printf("table: %" PRIu64 " file%s, %.1f MiB, L0 empty (settled "
                   "in %.2f s)\n",
                   ms.total_files, ms.total_files == 1 ? "" : "s",
                   (double)ms.total_bytes / 1048576.0, cli_now() - t0 - el);
    }
    int cst = cli_close(db);
    db = NULL;
    if (!st)
        st = cst;
out:
    if (f && !from_stdin)
        fclose(f);
    if (db)
        (void)cli_close(db);
    cli_parser_free(&p);
    return st;
}
