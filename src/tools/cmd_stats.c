/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_stats.c — `meru stats DIR [--json]`: the table's meru_stats as a
 * readable table, or meru_stats_json() with --json. The table is opened
 * read-only (it works beside a writer), so the file and level figures are
 * those of the last commit, plus what the WAL holds that no file does
 * yet; the per-process counters (writes, background work, caches) are not
 * printed for a read-only handle, whose counters are all its own zeros.
 * cli_print_stats also serves the demo, which has the table open for
 * writing and prints everything.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

static void human_bytes(uint64_t b, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, cap, "%" PRIu64 " B", b);
    else
        snprintf(out, cap, "%.1f %s", v, u[i]);
}

void cli_print_stats(FILE *f, const meru_stats *s)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "table\n");
    fprintf(f, "  last sequence        %" PRIu64 "\n", s->last_sequence);
    fprintf(f, "  metadata version     v%" PRIu64 "\n", s->metadata_version);
    fprintf(f, "  mode                 %s%s\n",
            s->read_only ? "read-only" : "read-write",
            s->closed ? " (closed)" : "");
    fprintf(f, "levels\n  %-6s %8s %12s %14s\n", "level", "files", "size",
            "row versions");
    int nl =
        s->levels < MERU_STATS_MAX_LEVELS ? s->levels : MERU_STATS_MAX_LEVELS;
    for (int i = 0; i < nl; i++) {
        human_bytes(s->level[i].bytes, b1, sizeof b1);
        fprintf(f, "  L%-5d %8" PRIu64 " %12s %14" PRIu64 "\n", i,
                s->level[i].files, b1, s->level[i].rows);
    }
    human_bytes(s->total_bytes, b1, sizeof b1);
    fprintf(f, "  %-6s %8" PRIu64 " %12s %14" PRIu64 "\n", "total",
            s->total_files, b1, s->total_rows);
    human_bytes(s->memtable_bytes, b1, sizeof b1);
    if (s->read_only) {
        /* This process only read the table: its own counters (writes,
         * background work, reads) are all zero and say nothing about the
         * table. What is true of the table: the files above, and what the
         * WAL holds that no file does yet. */
        fprintf(f, "not yet in files\n");
        if (s->memtable_entries)
            fprintf(f, "  in the WAL           %" PRIu64 " entries (a writer "
                       "flushes them to L0)\n",
                    s->memtable_entries);
        else
            fprintf(f, "  in the WAL           nothing: every write is in a "
                       "file\n");
        fprintf(f, "(opened read-only: write, compaction and cache counters "
                   "belong to the process\n writing the table; see its "
                   "meru_stats)\n");
        return;
    }
    human_bytes(s->immutable_bytes, b2, sizeof b2);
    fprintf(f, "memtables\n");
    fprintf(f, "  mutable              %s, %" PRIu64 " entries\n", b1,
            s->memtable_entries);
    fprintf(f, "  immutable            %" PRIu64 " (%s) waiting for flush\n",
            s->immutable_memtables, b2);
    human_bytes(s->wal_bytes, b1, sizeof b1);
    fprintf(f, "writes\n");
    fprintf(f, "  puts / deletes       %" PRIu64 " / %" PRIu64 "\n", s->puts,
            s->deletes);
    fprintf(f, "  batches              %" PRIu64 "\n", s->batches);
    fprintf(f,
            "  wal                  segment %" PRIu64 ", %s live, %" PRIu64
            " records, %" PRIu64 " groups, %" PRIu64 " syncs\n",
            s->wal_segment, b1, s->wal_records, s->wal_groups, s->wal_syncs);
    fprintf(f,
            "  stalls               %" PRIu64 " (%.3f s), %" PRIu64
            " slowdowns\n",
            s->stall_count, (double)s->stall_micros / 1e6, s->slowdown_count);
    human_bytes(s->flush_bytes, b1, sizeof b1);
    human_bytes(s->compaction_bytes_read, b2, sizeof b2);
    human_bytes(s->compaction_bytes_written, b3, sizeof b3);
    fprintf(f, "background\n");
    fprintf(f, "  flushes              %" PRIu64 " (%s)\n", s->flushes, b1);
    fprintf(f,
            "  compactions          %" PRIu64 " (read %s, wrote %s), %" PRIu64
            " moves\n",
            s->compactions, b2, b3, s->compaction_moves);
    fprintf(f, "  errors               %" PRIu64 "\n", s->background_errors);
    human_bytes(s->cache_bytes, b1, sizeof b1);
    human_bytes(s->cache_capacity, b2, sizeof b2);
    fprintf(f, "reads\n");
    fprintf(f, "  gets                 %" PRIu64 " (%" PRIu64 " found)\n",
            s->gets, s->gets_found);
    fprintf(f, "  scans                %" PRIu64 "\n", s->scans);
    fprintf(f,
            "  cache                %s of %s, %" PRIu64 " hits, %" PRIu64
            " misses\n",
            b1, b2, s->cache_hits, s->cache_misses);
    fprintf(f, "  row cache            %" PRIu64 " hits, %" PRIu64 " misses\n",
            s->row_cache_hits, s->row_cache_misses);
    fprintf(
        f, "  bloom filters        %" PRIu64 " checks, %" PRIu64 " negatives\n",
        s->bloom_checks, s->bloom_negatives);
    fprintf(f, "  open files           %" PRIu64 ", snapshots %" PRIu64 "\n",
            s->open_files, s->snapshots);
}

static const cli_option stats_opts[] = {
    {"json", 'j', NULL, "print meru_stats_json() instead of the table"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_stats(int argc, char **argv)
{
    cli_set_verb("stats", meru_verb_usage("stats"));
    int json = 0, st = CLI_OK, rc, o;
    meru_db *db = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, stats_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        json = 1;
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos != 1) {
        st = p.npos ? cli_usage("unexpected argument '%s'", p.pos[1])
                    : cli_usage("missing DIR");
        goto out;
    }
    const char *dir = p.pos[0];
    if ((st = cli_open(dir, 1, &db)))
        goto out;
    if (json) {
        char *text = NULL;
        if ((rc = meru_stats_json(db, &text)))
            st = cli_api_fail(rc, "stats");
        else
            puts(text);
        meru_free(text);
    } else {
        meru_stats s;
        if ((rc = meru_stats_get(db, &s))) {
            st = cli_api_fail(rc, "stats");
        } else {
            printf("%s (table '%s')\n", dir,
                   meru_schema_table_name(meru_db_schema(db)));
            cli_print_stats(stdout, &s);
        }
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
