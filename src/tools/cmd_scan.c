/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_scan.c — `meru scan DIR [--from KEY] [--to KEY] [--prefix KEY]
 * [--reverse] [--limit N] [--columns a,b] [--format jsonl|csv|table]`.
 *
 * Range keys are one argument each, the values of the leading key columns
 * separated by commas (`--from 5`, `--from 5,abc`; a value holding a comma
 * is written as a JSON string: `--from '5,"a,b"'`). A partial key stands
 * for every key that starts with it, so `--from 5 --to 7` on a (user, ts)
 * key covers users 5, 6 and 7 entirely: --from and --to are both
 * inclusive. --prefix keeps only keys starting with the given values and
 * combines with the bounds. The scan streams: rows are printed as they are
 * read (except --format table, which sizes its columns first).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int cli_range_option(cli_range *r, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char **slot = !strcmp(a, "--from")     ? &r->from
                        : !strcmp(a, "--to")     ? &r->to
                        : !strcmp(a, "--prefix") ? &r->prefix
                                                 : NULL;
    if (!slot)
        return 0;
    if (*i + 1 >= argc) {
        cli_usage("%s needs a key value (comma-separated for several key "
                  "columns)",
                  a);
        return -1;
    }
    *slot = argv[++*i];
    return 1;
}

static int range_row(const char *opt, const char *text, const meru_schema *s,
                     meru_row **out)
{
    size_t n = 0;
    int rc = meru_row_new(out, s);
    if (rc)
        return cli_api_fail(rc, "allocation");
    if (cli_key_from_list(*out, text, &n)) {
        fprintf(stderr, "meru scan: (in %s %s)\n", opt, text);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_range_apply(cli_range *r, const meru_schema *s, meru_scan_options *o)
{
    int st;
    if (r->from) {
        if ((st = range_row("--from", r->from, s, &r->lo)))
            return st;
        o->lower = r->lo;
        o->lower_inclusive = 1;
    }
    if (r->to) {
        if ((st = range_row("--to", r->to, s, &r->hi)))
            return st;
        o->upper = r->hi;
        o->upper_inclusive = 1;
    }
    if (r->prefix) {
        if ((st = range_row("--prefix", r->prefix, s, &r->pre)))
            return st;
        o->prefix = r->pre;
    }
    return CLI_OK;
}

void cli_range_free(cli_range *r)
{
    meru_row_free(r->lo);
    meru_row_free(r->hi);
    meru_row_free(r->pre);
    r->lo = r->hi = r->pre = NULL;
}

int meru_cmd_scan(int argc, char **argv)
{
    cli_set_verb("scan", meru_verb_usage("scan"));
    const char *dir = NULL, *columns = NULL;
    cli_range range = {0};
    cli_format fmt = CLI_FMT_JSONL;
    uint64_t limit = 0;
    int reverse = 0, st, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took = cli_range_option(&range, argc, argv, &i);
        if (took < 0)
            return CLI_USAGE;
        if (took)
            continue;
        if (!strcmp(a, "--help")) {
            return cli_help();
        } else if (!strcmp(a, "--reverse")) {
            reverse = 1;
        } else if (!strcmp(a, "--limit")) {
            if (i + 1 >= argc)
                return cli_usage("--limit needs a number");
            if (!cli_parse_u64(a, argv[++i], &limit))
                return CLI_USAGE;
        } else if (!strcmp(a, "--columns")) {
            if (i + 1 >= argc)
                return cli_usage("--columns needs a list of names");
            columns = argv[++i];
        } else if (!strcmp(a, "--format")) {
            int f = i + 1 < argc ? cli_parse_format(argv[++i]) : -1;
            if (f < 0)
                return cli_usage("--format wants jsonl, csv or table");
            fmt = (cli_format)f;
        } else if (cli_is_option(a)) {
            return cli_usage("unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            return cli_usage("unexpected argument '%s'", a);
        }
    }
    if (!dir)
        return cli_usage("missing DIR");
    char **cols = NULL;
    size_t ncols = 0;
    if (columns && cli_split_list(columns, &cols, &ncols))
        return cli_usage("--columns wants names separated by commas, got "
                         "'%s'",
                         columns);

    meru_db *db = NULL;
    if ((st = cli_open(dir, 1, &db))) {
        cli_free_list(cols, ncols);
        return st;
    }
    const meru_schema *s = meru_db_schema(db);
    meru_scan_options o;
    meru_scan_options_init(&o);
    meru_iter *it = NULL;
    cli_writer *w = NULL;
    const meru_row *row;
    o.reverse = reverse;
    o.limit = limit;
    if (cols) {
        o.columns = (const char *const *)cols;
        o.ncolumns = ncols;
    }
    if ((st = cli_range_apply(&range, s, &o)))
        goto out;
    if ((st = cli_writer_new(&w, s, fmt, (const char *const *)cols, ncols)))
        goto out;
    if ((rc = meru_scan(db, &o, &it))) {
        st = cli_api_fail(rc, "scan");
        goto out;
    }
    while ((rc = meru_iter_next(it, &row)) == MERU_OK)
        if ((st = cli_writer_row(w, row)))
            goto out;
    if (rc != MERU_NOT_FOUND) {
        st = cli_api_fail(rc, "scan");
        goto out;
    }
    st = cli_writer_finish(w);
out:
    meru_iter_free(it);
    cli_writer_free(w);
    cli_range_free(&range);
    cli_free_list(cols, ncols);
    int cst = cli_close(db);
    return st ? st : cst;
}
