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
    cli_set_verb("put", meru_verb_usage("put"));
    const char *dir = NULL;
    int first = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            return cli_help();
        if (cli_is_option(argv[i]))
            return cli_usage("unknown option '%s'", argv[i]);
        if (!dir) {
            dir = argv[i];
        } else {
            first = i;
            break;
        }
    }
    if (!dir)
        return cli_usage("missing DIR");
    if (!first)
        return cli_usage("missing rows: give JSON objects or '-' for JSON "
                         "lines on stdin");
    int from_stdin = !strcmp(argv[first], "-");
    if (from_stdin && first != argc - 1)
        return cli_usage("'-' reads rows from stdin and takes no other rows");

    meru_db *db = NULL;
    int st = cli_open(dir, 0, &db);
    if (st)
        return st;
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
        st = put_args(db, argv + first, argc - first);
    }
    int cst = cli_close(db);
    return st ? st : cst;
}
