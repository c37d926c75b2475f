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

int cli_range_take(cli_range *r, const char *name, const char *value)
{
    const char **slot = !strcmp(name, "from")     ? &r->from
                        : !strcmp(name, "to")     ? &r->to
                        : !strcmp(name, "prefix") ? &r->prefix
                                                  : NULL;
    if (!slot)
        return 0;
    *slot = value;
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

static const cli_option scan_opts[] = {
    CLI_RANGE_OPTIONS,
    {"reverse", 'r', NULL, "descending key order"},
    {"limit", 'n', "N", "print at most N rows"},
    {"columns", 'c', "a,b", "read and print only these columns"},
    {"format", 'f', "FMT", "jsonl (default), csv or table"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_scan(int argc, char **argv)
{
    cli_set_verb("scan", meru_verb_usage("scan"));
    const char *dir = NULL, *columns = NULL;
    cli_range range = {0};
    cli_format fmt = CLI_FMT_JSONL;
    uint64_t limit = 0;
    int reverse = 0, st = CLI_OK, rc, o;
    char **cols = NULL;
    size_t ncols = 0;
    meru_db *db = NULL;
    meru_iter *it = NULL;
    cli_writer *w = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, scan_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        const char *name = scan_opts[o].name;
        if (cli_range_take(&range, name, v))
            continue;
        if (!strcmp(name, "reverse")) {
            reverse = 1;
        } else if (!strcmp(name, "limit")) {
            if (!cli_parse_u64("--limit", v, &limit)) {
                st = CLI_USAGE;
                goto out;
            }
        } else if (!strcmp(name, "columns")) {
            columns = v;
        } else {
            int f = cli_parse_format(v);
            if (f < 0) {
                st = cli_usage("--format wants jsonl, csv or table");
                goto out;
            }
            fmt = (cli_format)f;
        }
    }
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos == 0) {
        st = cli_usage("missing DIR");
        goto out;
    }
    if (p.npos > 1) {
        st = cli_usage("unexpected argument '%s'", p.pos[1]);
        goto out;
    }
    dir = p.pos[0];
    if (columns && cli_split_list(columns, &cols, &ncols)) {
        st = cli_usage("--columns wants names separated by commas, got '%s'",
                       columns);
        goto out;
    }
    if ((st = cli_open(dir, 1, &db)))
        goto out;
    const meru_schema *s = meru_db_schema(db);
    meru_scan_options so;
    meru_scan_options_init(&so);
    const meru_row *row;
    so.reverse = reverse;
    so.limit = limit;
    if (cols) {
        so.columns = (const char *const *)cols;
        so.ncolumns = ncols;
    }
    if ((st = cli_range_apply(&range, s, &so)))
        goto out;
    if ((st = cli_writer_new(&w, s, fmt, (const char *const *)cols, ncols)))
        goto out;
    if ((rc = meru_scan(db, &so, &it))) {
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
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
