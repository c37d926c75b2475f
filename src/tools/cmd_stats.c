/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_stats.c — `meru stats DIR [--json]`: the table's meru_stats as a
 * readable table, or meru_stats_json() with --json. The table is opened
 * read-only, so the file and level figures are those of the last commit
 * and the counters start from this open (a read-only open replays the WAL
 * into memory: its rows show in the memtable lines).
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
    fprintf(f, "  compactions          %" PRIu64 " (read %s, wrote %s)\n",
            s->compactions, b2, b3);
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

int meru_cmd_stats(int argc, char **argv)
{
    cli_set_verb("stats", meru_verb_usage("stats"));
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            return cli_help();
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (cli_is_option(argv[i]))
            return cli_usage("unknown option '%s'", argv[i]);
        else if (dir)
            return cli_usage("unexpected argument '%s'", argv[i]);
        else
            dir = argv[i];
    }
    if (!dir)
        return cli_usage("missing DIR");
    meru_db *db = NULL;
    int st = cli_open(dir, 1, &db), rc;
    if (st)
        return st;
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
    int cst = cli_close(db);
    return st ? st : cst;
}
