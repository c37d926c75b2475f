/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_repair.c — `meru repair DIR`: meru_repair, then what it did. The
 * explicit way out of damage an open refuses to paper over (a damaged
 * newest metadata version, an unreadable data file, a log damaged in the
 * middle); every action is also in DIR/repair.log. Exit 0 when the table
 * opens afterwards (even if something was given up: the report says what),
 * 1 when the repair failed.
 */
#include <inttypes.h>
#include <stdio.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int meru_cmd_repair(int argc, char **argv)
{
    cli_set_verb("repair", meru_verb_usage("repair"));
    const char *dir;
    int done = cli_only_dir(argc, argv, &dir);
    if (done >= 0)
        return done;
    meru_repair_report r;
    int rc = meru_repair(dir, NULL, &r), st = CLI_OK;
    if (rc)
        st = cli_api_fail(rc, dir);
    if (r.versions_rolled_back)
        printf("rolled back %" PRIu64 " damaged metadata version%s (renamed "
               "*.damaged)\n",
               r.versions_rolled_back, r.versions_rolled_back == 1 ? "" : "s");
    if (r.files_readded)
        printf("put %" PRIu64 " data file%s of lost commits back into L0\n",
               r.files_readded, r.files_readded == 1 ? "" : "s");
    if (r.files_dropped)
        printf("dropped %" PRIu64 " unreadable data file%s from the table "
               "(%" PRIu64 " row versions lost)\n",
               r.files_dropped, r.files_dropped == 1 ? "" : "s",
               r.rows_dropped);
    if (r.files_set_aside)
        printf("moved %" PRIu64 " data file%s to %s/lost/\n", r.files_set_aside,
               r.files_set_aside == 1 ? "" : "s", dir);
    if (r.wal_segments_skipped)
        printf("%" PRIu64 " live log segment%s missing (skipped)\n",
               r.wal_segments_skipped,
               r.wal_segments_skipped == 1 ? " was" : "s were");
    if (r.wal_salvaged_bytes)
        printf("dropped %" PRIu64 " bytes in %" PRIu64 " damaged region%s of "
               "the log (the writes they held are lost)\n",
               r.wal_salvaged_bytes, r.wal_salvaged_regions,
               r.wal_salvaged_regions == 1 ? "" : "s");
    if (r.wal_tail_dropped_bytes)
        printf("dropped a torn log tail of %" PRIu64 " bytes (a write cut "
               "by a crash, never acknowledged)\n",
               r.wal_tail_dropped_bytes);
    if (!rc)
        printf("%s: repaired: metadata version %" PRIu64
               "; the table opens (see %s/repair.log)\n",
               dir, r.metadata_version, dir);
    return st;
}
