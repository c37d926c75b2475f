/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_iceberg.c — `meru iceberg DIR` prints the table's Iceberg view as an
 * Iceberg reader finds it on disk (format version, snapshot, operation,
 * summary, data files with their rows and hidden rows, delete files, live
 * rows), read with this library's readers of each format and without
 * opening the table (no lock: it reads what an external engine would).
 * `meru export-iceberg DIR TARGET` writes a self-contained copy
 * (meru_export_iceberg).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_view.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "util/fs.h"

int meru_cmd_iceberg(int argc, char **argv)
{
    cli_set_verb("iceberg", meru_verb_usage("iceberg"));
    const char *dir;
    int done = cli_only_dir(argc, argv, &dir);
    if (done >= 0)
        return done;
    meru_catalog_view *v = NULL;
    int rc = meru_catalog_view_load(meru_fs_posix(), dir, &v);
    if (rc)
        return cli_api_fail(rc, "reading the Iceberg view");
    printf("table %s: Iceberg format version %d, metadata v%" PRIu64 "\n", dir,
           v->format_version, v->metadata_version);
    if (v->snapshot_id < 0) {
        printf("no snapshot (an empty table, or the view is off)\n");
        meru_catalog_view_free(v);
        return CLI_OK;
    }
    printf("snapshot %" PRId64 " (sequence %" PRId64 "), operation %s\n",
           v->snapshot_id, v->sequence_number,
           meru_catalog_view_summary(v, "operation"));
    printf("summary:");
    for (size_t i = 1; i < v->nsummary; i++)
        printf(" %s=%s", v->summary[i].key, v->summary[i].value);
    printf("\n%zu manifest%s, %zu data file%s:\n", v->nmanifests,
           v->nmanifests == 1 ? "" : "s", v->nfiles, v->nfiles == 1 ? "" : "s");
    for (size_t i = 0; i < v->nfiles; i++) {
        const meru_catalog_view_file *f = &v->files[i];
        uint64_t hidden = f->dv ? meru_dv_cardinality(f->dv) : 0;
        printf("  %s  %" PRId64 " rows, %" PRIu64 " deleted, %" PRId64
               " bytes\n",
               f->rel, f->record_count, hidden, f->file_size);
    }
    printf("%zu delete file%s:\n", v->ndelete_files,
           v->ndelete_files == 1 ? "" : "s");
    for (size_t i = 0; i < v->ndelete_files; i++)
        printf("  %s\n", v->delete_files[i]);
    printf("live rows: %" PRIu64 "\n", v->live_rows);
    meru_catalog_view_free(v);
    return CLI_OK;
}

int meru_cmd_export_iceberg(int argc, char **argv)
{
    static const cli_option none[] = {{NULL, 0, NULL, NULL}};
    cli_set_verb("export-iceberg", meru_verb_usage("export-iceberg"));
    cli_parser p;
    const char *v;
    meru_db *db = NULL;
    int o, st = CLI_OK, rc;
    if (cli_parser_init(&p, argc, argv, none))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        ;
    if (o != CLI_DONE)
        return cli_parser_exit(&p, o);
    if (p.npos != 2) {
        st = cli_usage(p.npos < 2 ? "missing %s"
                                  : "unexpected argument '%s'",
                       p.npos == 0   ? "DIR"
                       : p.npos == 1 ? "TARGET"
                                     : p.pos[2]);
        goto out;
    }
    const char *dir = p.pos[0], *target = p.pos[1];
    if ((st = cli_open(dir, 1, &db)))
        goto out;
    if ((rc = meru_export_iceberg(db, target)))
        st = cli_api_fail(rc, "export");
    else
        printf("exported %s to %s\n", dir, target);
    int cst = cli_close(db);
    if (!st)
        st = cst;
out:
    cli_parser_free(&p);
    return st;
}
