/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_changes.c — `meru changes DIR [--since N] [--follow] [--limit N]
 * [--format jsonl|csv|table]`: the change feed (meru_changes).
 *
 * JSON lines, one per change, in sequence order:
 *   {"seq": 42, "op": "insert"|"update"|"delete", "row": {...}|null,
 *    "before": {...}|null}
 * with rows in meru_row_to_json's form (the one `meru scan` prints). CSV
 * and table print one flat row per change: _seq, _op, the table's columns
 * (the new row; for a delete only the key), then before_<column> for each
 * non-key column: the columns of the changelog files (changes/changelog.h).
 *
 * The table is opened read-only, so it works beside a writer in another
 * process. --follow keeps going like `tail -f`: it refreshes the handle
 * every 200 ms and reads from the last sequence printed, so each change is
 * printed once, in order, until SIGINT or SIGTERM (exit 0) or --limit.
 * A table-format follow prints one table per poll that found changes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes/changelog.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "types/row.h"
#include "types/schema.h"

static const cli_option changes_opts[] = {
    {"since", 's', "N", "changes with a sequence above N (default 0)"},
    {"follow", 'F', NULL, "keep printing new changes until interrupted"},
    {"limit", 'n', "N", "print at most N changes"},
    {"format", 'f', "FMT", "jsonl (default), csv or table"},
    {NULL, 0, NULL, NULL}};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Sleeps about `ms` milliseconds unless a signal asks to stop. */
static void nap(int ms)
{
    struct timespec ts = {0, 10 * 1000000L};
    for (int i = 0; i < ms / 10 && !stop_flag; i++)
        nanosleep(&ts, NULL);
}

typedef struct out {
    cli_format fmt;
    const meru_schema *table;
    meru_schema *flat; /* CSV / table */
    meru_row *frow;
    cli_writer *w;
} out;

static int print_json(const meru_change *c)
{
    char *row = NULL, *before = NULL;
    int rc = MERU_OK;
    if (c->row)
        rc = meru_row_to_json(c->row, &row);
    if (rc == MERU_OK && c->before)
        rc = meru_row_to_json(c->before, &before);
    if (rc == MERU_OK)
        printf("{\"seq\":%llu,\"op\":\"%s\",\"row\":%s,\"before\":%s}\n",
               (unsigned long long)c->seq, meru_change_kind_name(c->kind),
               row ? row : "null", before ? before : "null");
    meru_free(row);
    meru_free(before);
    return rc ? cli_api_fail(rc, "formatting a change") : CLI_OK;
}

/* The change as one row of the changelog schema. */
static int print_flat(out *o, const meru_change *c)
{
    const meru_schema *t = o->table;
    const char *op = meru_change_kind_name(c->kind);
    size_t col = 2 + t->ncols;
    int rc;
    meru_row_clear(o->frow);
    rc = meru_row_set_int64(o->frow, 0, (int64_t)c->seq);
    if (rc == MERU_OK)
        rc = meru_row_set_string(o->frow, 1, op, strlen(op));
    for (size_t j = 0; rc == MERU_OK && j < t->ncols; j++) {
        bool key = t->cols[j].key_position >= 0;
        const meru_row *src = c->row ? c->row : key ? c->before : NULL;
        rc = src ? meru_row_put_value(o->frow, 2 + j, &src->vals[j])
                 : meru_row_set_null(o->frow, 2 + j);
        if (rc == MERU_OK && !key) {
            rc = c->before
                     ? meru_row_put_value(o->frow, col, &c->before->vals[j])
                     : meru_row_set_null(o->frow, col);
            col++;
        }
    }
    if (rc)
        return cli_api_fail(rc, "formatting a change");
    return cli_writer_row(o->w, o->frow);
}

/* Reads the changes after *last (up to *left of them when limited) and
 * prints them; *last and *left follow. */
static int drain(meru_db *db, out *o, uint64_t *last, uint64_t *left,
                 int limited, uint64_t *printed)
{
    meru_changes_iter *it = NULL;
    meru_change c;
    int rc, st = CLI_OK;
    if ((rc = meru_changes(db, *last, NULL, &it)))
        return cli_api_fail(rc, "reading changes");
    if (o->fmt != CLI_FMT_JSONL && !o->w &&
        (st = cli_writer_new(&o->w, o->flat, o->fmt, NULL, 0)))
        goto out;
    while ((!limited || *left) && (rc = meru_change_next(it, &c)) == MERU_OK) {
        st = o->fmt == CLI_FMT_JSONL ? print_json(&c) : print_flat(o, &c);
        if (st)
            goto out;
        *last = c.seq;
        (*printed)++;
        if (limited)
            (*left)--;
    }
    if ((!limited || *left) && rc != MERU_NOT_FOUND)
        st = cli_api_fail(rc, "reading changes");
out:
    meru_changes_free(it);
    fflush(stdout);
    return st;
}

int meru_cmd_changes(int argc, char **argv)
{
    cli_set_verb("changes", meru_verb_usage("changes"));
    uint64_t since = 0, left = 0;
    int follow = 0, limited = 0, st = CLI_OK, o;
    out w;
    meru_db *db = NULL;
    cli_parser p;
    const char *v;

    memset(&w, 0, sizeof w);
    w.fmt = CLI_FMT_JSONL;
    if (cli_parser_init(&p, argc, argv, changes_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        switch (changes_opts[o].short_name) {
        case 's':
            if (!cli_parse_u64("--since", v, &since)) {
                st = CLI_USAGE;
                goto out;
            }
            break;
        case 'F':
            follow = 1;
            break;
        case 'n':
            if (!cli_parse_u64("--limit", v, &left)) {
                st = CLI_USAGE;
                goto out;
            }
            limited = 1;
            break;
        default: {
            int f = cli_parse_format(v);
            if (f < 0) {
                st = cli_usage("--format wants jsonl, csv or table");
                goto out;
            }
            w.fmt = (cli_format)f;
        }
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
    if ((st = cli_open(p.pos[0], 1, &db)))
        goto out;
    w.table = meru_db_schema(db);
    if (w.fmt != CLI_FMT_JSONL) {
        int rc = meru_changelog_schema(w.table, &w.flat);
        if (rc == MERU_OK)
            rc = meru_row_new(&w.frow, w.flat);
        if (rc) {
            st = cli_api_fail(rc, "the change columns");
            goto out;
        }
    }
    if (follow) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    uint64_t printed = 0;
    st = drain(db, &w, &since, &left, limited, &printed);
    for (int fails = 0; follow && !st && !stop_flag && !(limited && !left);) {
        nap(200);
        if (stop_flag)
            break;
        int rc = meru_refresh(db);
        if (rc == MERU_NOT_FOUND || rc == MERU_EIO) {
            /* The writer moved its log while we read it: next poll. */
            if (++fails < 50)
                continue;
        }
        if (rc) {
            st = cli_api_fail(rc, "refreshing the table");
            break;
        }
        fails = 0;
        if (w.fmt == CLI_FMT_TABLE && w.w && printed) {
            /* One table per poll that found something. */
            st = cli_writer_finish(w.w);
            cli_writer_free(w.w);
            w.w = NULL;
            fflush(stdout);
        }
        printed = 0;
        if (!st)
            st = drain(db, &w, &since, &left, limited, &printed);
    }
    if (!st && w.w)
        st = cli_writer_finish(w.w);
out:
    cli_writer_free(w.w);
    meru_row_free(w.frow);
    meru_schema_free(w.flat);
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
