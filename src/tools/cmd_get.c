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

static const cli_option get_opts[] = {
    {"format", 'f', "FMT", "jsonl (default), csv or table"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_get(int argc, char **argv)
{
    cli_set_verb("get", meru_verb_usage("get"));
    cli_format fmt = CLI_FMT_JSONL;
    int st = CLI_OK, rc, o, missing = 0;
    meru_db *db = NULL;
    meru_row *key = NULL, *out = NULL;
    cli_writer *w = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, get_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        int f = cli_parse_format(v);
        if (f < 0) {
            st = cli_usage("--format wants jsonl, csv or table");
            goto out;
        }
        fmt = (cli_format)f;
    }
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos < 2) {
        st = cli_usage("missing %s", p.npos ? "KEY" : "DIR");
        goto out;
    }
    char *const *vals = (char *const *)p.pos + 1;
    size_t nvals = (size_t)p.npos - 1;
    if ((st = cli_open(p.pos[0], 1, &db)))
        goto out;
    const meru_schema *s = meru_db_schema(db);
    size_t nkey = meru_schema_key_count(s);
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
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
