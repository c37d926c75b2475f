/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_verify.c — `meru verify DIR [--quick]`: opens the table read-only
 * and runs meru_verify on it (the metadata file, the live log, every data
 * file against the metadata and read back in full, scans both ways and a
 * get of every row, the Iceberg view's deletion vectors against the data
 * and the view read back from its files against a scan; --quick: footers
 * and ~256 sampled gets). Prints what was read and OK, or the first
 * problem (exit 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int cli_verify_db(meru_db *db, uint64_t *rows, char *err, size_t errcap)
{
    meru_verify_report r;
    *rows = 0;
    if (meru_verify(db, MERU_VERIFY_QUICK, &r)) {
        snprintf(err, errcap, "%s", meru_errmsg());
        return CLI_FAIL;
    }
    *rows = r.rows;
    return CLI_OK;
}

static const cli_option verify_opts[] = {
    {"quick", 'q', NULL,
     "sample: file footers, scans and ~256 gets (not every row and file)"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_verify(int argc, char **argv)
{
    cli_set_verb("verify", meru_verb_usage("verify"));
    int quick = 0, o;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, verify_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        quick = 1;
    if (o != CLI_DONE || p.npos != 1) {
        int st = o == CLI_HELP   ? CLI_OK
                 : o != CLI_DONE ? CLI_USAGE
                 : p.npos        ? cli_usage("unexpected argument '%s'",
                                             p.pos[1])
                                 : cli_usage("missing DIR");
        cli_parser_free(&p);
        return st;
    }
    const char *dir = p.pos[0];
    meru_db *db = NULL;
    int st = cli_open(dir, 1, &db);
    if (st) {
        cli_parser_free(&p);
        return st;
    }
    meru_verify_report r;
    double t0 = cli_now();
    if (meru_verify(db, quick ? MERU_VERIFY_QUICK : 0, &r)) {
        st = cli_fail("%s: FAILED: %s", dir, meru_errmsg());
    } else if (quick) {
        printf("%s: %" PRIu64 " row%s, %" PRIu64 " file%s (footers), keys "
               "strictly increasing, scans and %" PRIu64
               " sampled gets agree: OK (quick, %.2f s)\n",
               dir, r.rows, r.rows == 1 ? "" : "s", r.files,
               r.files == 1 ? "" : "s", r.gets, cli_now() - t0);
    } else {
        printf("%s: %" PRIu64 " row%s, %" PRIu64 " file%s (%" PRIu64
               " row versions, %" PRIu64 " key lookups), %" PRIu64
               " log records, keys strictly increasing, scans and gets of "
               "every row agree: OK (%.2f s)\n",
               dir, r.rows, r.rows == 1 ? "" : "s", r.files,
               r.files == 1 ? "" : "s", r.file_entries, r.file_lookups,
               r.wal_records, cli_now() - t0);
        if (r.iceberg_view)
            printf("%s: Iceberg view: %" PRIu64 " live row%s, equal to the "
                   "scan at the last commit: OK\n",
                   dir, r.iceberg_rows, r.iceberg_rows == 1 ? "" : "s");
        else
            printf("%s: Iceberg view: none (the table keeps no view)\n", dir);
    }
    int cst = cli_close(db);
    cli_parser_free(&p);
    return st ? st : cst;
}
