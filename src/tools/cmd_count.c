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

int meru_cmd_count(int argc, char **argv)
{
    cli_set_verb("count", meru_verb_usage("count"));
    const char *dir = NULL;
    cli_range range = {0};
    int st, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took = cli_range_option(&range, argc, argv, &i);
        if (took < 0)
            return CLI_USAGE;
        if (took)
            continue;
        if (!strcmp(a, "--help"))
            return cli_help();
        if (cli_is_option(a))
            return cli_usage("unknown option '%s'", a);
        if (dir)
            return cli_usage("unexpected argument '%s'", a);
        dir = a;
    }
    if (!dir)
        return cli_usage("missing DIR");
    meru_db *db = NULL;
    if ((st = cli_open(dir, 1, &db)))
        return st;
    const meru_schema *s = meru_db_schema(db);
    const char *keycol =
        meru_schema_column_name(s, (size_t)meru_schema_key_column(s, 0));
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.columns = &keycol;
    o.ncolumns = 1;
    meru_iter *it = NULL;
    const meru_row *row;
    uint64_t n = 0;
    if ((st = cli_range_apply(&range, s, &o)))
        goto out;
    if ((rc = meru_scan(db, &o, &it))) {
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
    int cst = cli_close(db);
    return st ? st : cst;
}
