/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_flush.c — `meru flush DIR`: opens the table for writing (which
 * replays the WAL into the memtable), writes every memtable to an L0
 * Parquet file and commits. Afterwards the WAL holds nothing to replay.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int meru_cmd_flush(int argc, char **argv)
{
    cli_set_verb("flush", meru_verb_usage("flush"));
    const char *dir;
    int done = cli_only_dir(argc, argv, &dir);
    if (done >= 0)
        return done;
    meru_db *db = NULL;
    int st = cli_open(dir, 0, &db);
    if (st)
        return st;
    int rc = meru_flush(db);
    if (rc)
        st = cli_api_fail(rc, "flush");
    meru_stats s;
    if (!st && meru_stats_get(db, &s) == MERU_OK)
        printf("flushed %s: %" PRIu64 " file%s (%" PRIu64 " bytes) in L0..L%d"
               ", metadata v%" PRIu64 "\n",
               dir, s.total_files, s.total_files == 1 ? "" : "s", s.total_bytes,
               s.levels > 0 ? s.levels - 1 : 0, s.metadata_version);
    int cst = cli_close(db);
    return st ? st : cst;
}
