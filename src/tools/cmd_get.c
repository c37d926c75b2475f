/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_get.c — `meru get DIR KEY... [--format jsonl|csv|table]`.
 *
 * A KEY is one value per primary-key column, in key order, each its own
 * argument; several keys may follow one another (2 keys of a 2-column key
 * = 4 arguments). Found rows are printed in the order asked; each missing
 * key is reported as "not found: [key]" on stderr and makes the exit
 * status 1. The table is opened read-only, so get works beside a writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int meru_cmd_get(int argc, char **argv)
{
    cli_set_verb("get", meru_verb_usage("get"));
    const char *dir = NULL;
    cli_format fmt = CLI_FMT_JSONL;
    char **vals = calloc((size_t)argc, sizeof *vals);
    size_t nvals = 0;
    int opts_done = 0, st;
    if (!vals)
        return cli_fail("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && !strcmp(a, "--")) {
            opts_done = 1;
        } else if (!opts_done && !strcmp(a, "--help")) {
            free(vals);
            return cli_help();
        } else if (!opts_done && !strcmp(a, "--format")) {
            int f = i + 1 < argc ? cli_parse_format(argv[i + 1]) : -1;
            if (f < 0) {
                free(vals);
                return cli_usage("--format wants jsonl, csv or table");
            }
            fmt = (cli_format)f;
            i++;
        } else if (!opts_done && cli_is_option(a)) {
            free(vals);
            return cli_usage("unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            vals[nvals++] = argv[i];
        }
    }
    if (!dir || !nvals) {
        free(vals);
        return cli_usage("missing %s", dir ? "KEY" : "DIR");
    }
    meru_db *db = NULL;
    if ((st = cli_open(dir, 1, &db))) {
        free(vals);
        return st;
    }
    const meru_schema *s = meru_db_schema(db);
    size_t nkey = meru_schema_key_count(s);
    meru_row *key = NULL, *out = NULL;
    cli_writer *w = NULL;
    int rc, missing = 0;
    if (nvals % nkey) {
        st = cli_usage("the key has %zu column%s: give %zu value%s per key, "
                       "got %zu",
                       nkey, nkey == 1 ? "" : "s", nkey, nkey == 1 ? "" : "s",
                       nvals);
        goto out;
    }
    if ((rc = meru_row_new(&key, s)) || (rc = meru_row_new(&out, s))) {
        st = cli_api_fail(rc, "allocation");
        goto out;
    }
    if ((st = cli_writer_new(&w, s, fmt, NULL, 0)))
        goto out;
    for (size_t k = 0; k < nvals; k += nkey) {
        meru_row_clear(key);
        if (cli_key_from_words(key, vals + k, nkey)) {
            st = CLI_FAIL;
            goto out;
        }
        rc = meru_get(db, NULL, key, out);
        if (rc == MERU_NOT_FOUND) {
            char kt[512];
            cli_key_text(key, kt, sizeof kt);
            fprintf(stderr, "not found: %s\n", kt);
            missing++;
            continue;
        }
        if (rc) {
            st = cli_api_fail(rc, "get");
            goto out;
        }
        if ((st = cli_writer_row(w, out)))
            goto out;
    }
    /* Nothing found: no header or empty table either, stdout stays
     * empty. */
    if (missing < (int)(nvals / nkey) && (st = cli_writer_finish(w)))
        goto out;
    st = missing ? CLI_FAIL : CLI_OK;
out:
    cli_writer_free(w);
    meru_row_free(key);
    meru_row_free(out);
    free(vals);
    int cst = cli_close(db);
    return st ? st : cst;
}
