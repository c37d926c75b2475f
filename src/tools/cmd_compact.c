/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_compact.c — `meru compact DIR`: meru_compact() on the table (flush,
 * then merge every level down into the deepest one, dropping overwritten
 * versions and deletes), with the files and bytes per level before and
 * after.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

static void levels_line(const char *when, const meru_stats *s)
{
    printf("%-7s", when);
    for (int i = 0; i < s->levels && i < MERU_STATS_MAX_LEVELS; i++)
        if (s->level[i].files)
            printf("  L%d: %" PRIu64 " file%s, %" PRIu64 " bytes, %" PRIu64
                   " row versions;",
                   i, s->level[i].files, s->level[i].files == 1 ? "" : "s",
                   s->level[i].bytes, s->level[i].rows);
    printf("  total %" PRIu64 " file%s\n", s->total_files,
           s->total_files == 1 ? "" : "s");
}

int meru_cmd_compact(int argc, char **argv)
{
    cli_set_verb("compact", meru_verb_usage("compact"));
    const char *dir;
    int done = cli_only_dir(argc, argv, &dir);
    if (done >= 0)
        return done;
    meru_db *db = NULL;
    int st = cli_open(dir, 0, &db), rc;
    if (st)
        return st;
    meru_stats before, after;
    int have = meru_stats_get(db, &before) == MERU_OK;
    double t0 = cli_now();
    if ((rc = meru_compact(db))) {
        st = cli_api_fail(rc, "compact");
    } else {
        if (have)
            levels_line("before:", &before);
        if (meru_stats_get(db, &after) == MERU_OK)
            levels_line("after:", &after);
        printf("compacted %s in %.2f s\n", dir, cli_now() - t0);
    }
    int cst = cli_close(db);
    return st ? st : cst;
}
