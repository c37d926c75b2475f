/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_count.c — `meru count DIR [--from KEY] [--to KEY] [--prefix KEY]`.
 *
 * Counts live rows by scanning keys (a projection of the first key column,
 * so other columns are not decoded). Range options as in `meru scan`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

static const cli_option count_opts[] = {CLI_RANGE_OPTIONS,
                                        {NULL, 0, NULL, NULL}};

int meru_cmd_count(int argc, char **argv)
{
    cli_set_verb("count", meru_verb_usage("count"));
    cli_range range = {0};
    int st = CLI_OK, rc, o;
    meru_db *db = NULL;
    meru_iter *it = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, count_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        cli_range_take(&range, count_opts[o].name, v);
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos != 1) {
        st = p.npos ? cli_usage("unexpected argument '%s'", p.pos[1])
                    : cli_usage("missing DIR");
        goto out;
    }
    if ((st = cli_open(p.pos[0], 1, &db)))
        goto out;
    const meru_schema *s = meru_db_schema(db);
    const char *keycol =
        meru_schema_column_name(s, (size_t)meru_schema_key_column(s, 0));
    meru_scan_options so;
    meru_scan_options_init(&so);
    so.columns = &keycol;
    so.ncolumns = 1;
    const meru_row *row;
    uint64_t n = 0;
    if ((st = cli_range_apply(&range, s, &so)))
        goto out;
    if ((rc = meru_scan(db, &so, &it))) {
        st = cli_api_fail(rc, "scan");
        goto out;
    }
    while ((rc = meru_iter_next(it, &row)) == MERU_OK)
        n++;
    if (rc != MERU_NOT_FOUND) {
        st = cli_api_fail(rc, "scan");
        goto out;
    }
    printf("%" PRIu64 "\n", n);
out:
    meru_iter_free(it);
    cli_range_free(&range);
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
