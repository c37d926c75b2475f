/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_put.c — `meru put DIR JSON...` and `meru put DIR -`.
 *
 * Rows given as arguments are written as one write batch: all of them or
 * none (a bad row is reported before anything is written). With `-` the
 * rows are JSON lines on stdin, written in batches like `meru load`.
 */
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

static int put_args(meru_db *db, char **rows, int n)
{
    const meru_schema *s = meru_db_schema(db);
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    int st = CLI_FAIL, rc;
    if ((rc = meru_row_new(&row, s)) || (rc = meru_write_batch_new(&b, s))) {
        st = cli_api_fail(rc, "allocation");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "row %d", i + 1);
        meru_row_clear(row);
        if ((rc = meru_row_from_json(row, rows[i], strlen(rows[i]))) ||
            (rc = meru_write_batch_put(b, row))) {
            st = cli_api_fail(rc, what);
            fprintf(stderr, "meru put: nothing was written\n");
            goto out;
        }
    }
    if ((rc = meru_write(db, b, NULL))) {
        st = cli_api_fail(rc, "write");
        goto out;
    }
    printf("%d row%s written\n", n, n == 1 ? "" : "s");
    st = CLI_OK;
out:
    meru_write_batch_free(b);
    meru_row_free(row);
    return st;
}

int meru_cmd_put(int argc, char **argv)
{
    static const cli_option none[] = {{NULL, 0, NULL, NULL}};
    cli_set_verb("put", meru_verb_usage("put"));
    int st = CLI_OK, o;
    meru_db *db = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, none))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        ;
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos == 0) {
        st = cli_usage("missing DIR");
        goto out;
    }
    if (p.npos == 1) {
        st = cli_usage("missing rows: give JSON objects or '-' for JSON "
                       "lines on stdin");
        goto out;
    }
    int from_stdin = !strcmp(p.pos[1], "-");
    if (from_stdin && p.npos != 2) {
        st = cli_usage("'-' reads rows from stdin and takes no other rows");
        goto out;
    }
    if ((st = cli_open(p.pos[0], 0, &db)))
        goto out;
    if (from_stdin) {
        uint64_t rows = 0;
        cli_progress pr;
        cli_progress_start(&pr, "put", 0);
        pr.on = 0; /* interactive stdin: no progress bar */
        st = cli_load_jsonl(db, stdin, "stdin", 1000, &pr, &rows);
        if (st == CLI_OK)
            printf("%llu row%s written\n", (unsigned long long)rows,
                   rows == 1 ? "" : "s");
    } else {
        st = put_args(db, (char **)p.pos + 1, p.npos - 1);
    }
out:
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
