/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ext.c — the entry point of merutable_sqlite.so.
 *
 *   .load ./merutable_sqlite            (sqlite3 shell; SQLite derives the
 *                                        entry point from the file name)
 *   sqlite3_load_extension(db, "merutable_sqlite", "sqlite3_merutable_init",
 *                          &err)
 *
 * registers, on that connection:
 *   - the `merutable` virtual-table module (vtab.c)
 *   - merutable_stats(path): the engine's counters (meru_stats_json) of the
 *     table this process has open at `path` through a virtual table, as
 *     JSON; an error when none is open. It shows what a statement cost in
 *     gets and scans, e.g.
 *       SELECT json_extract(merutable_stats('/data/t'), '$.gets');
 *
 *   - the `merutable_changes` module (changes.c): the change feed, as the
 *     table-valued function merutable_changes(path [, since]) and as
 *     CREATE VIRTUAL TABLE t USING merutable_changes(path)
 */
#define MSQ_EXT_MAIN
#include <pthread.h>

#include "msq.h"

SQLITE_EXTENSION_INIT1

/* sqlite3_api is set once, under a lock: connections of several threads
 * load the extension concurrently, every SQLite call of the module reads
 * the pointer, and all connections of a process get the same one. */
static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;
static int api_set; /* guarded by api_mu */

#define MSQ_EXPORT __attribute__((visibility("default")))

static void stats_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *path = (const char *)sqlite3_value_text(argv[0]);
    char *json = NULL;
    if (!path) {
        sqlite3_result_null(ctx);
        return;
    }
    int rc = msq_handle_stats_json(path, &json);
    if (rc == MERU_NOT_FOUND) {
        char *msg = sqlite3_mprintf("merutable_stats: no merutable virtual "
                                    "table of this process has '%s' open",
                                    path);
        sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
        sqlite3_free(msg);
        return;
    }
    if (rc) {
        sqlite3_result_error(ctx, meru_errmsg(), -1);
        return;
    }
    sqlite3_result_text(ctx, json, -1, SQLITE_TRANSIENT);
    meru_free(json);
}

MSQ_EXPORT int sqlite3_merutable_init(sqlite3 *db, char **err,
                                      const sqlite3_api_routines *api);

int sqlite3_merutable_init(sqlite3 *db, char **err,
                           const sqlite3_api_routines *api)
{
    pthread_mutex_lock(&api_mu);
    if (!api_set) {
        SQLITE_EXTENSION_INIT2(api);
        api_set = 1;
    }
    pthread_mutex_unlock(&api_mu);
    int rc = sqlite3_create_module_v2(db, "merutable", &msq_module, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_module_v2(db, "merutable_changes",
                                      &msq_changes_module, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "merutable_stats", 1,
                                        SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                        stats_func, NULL, NULL, NULL);
    if (rc != SQLITE_OK && err)
        *err =
            sqlite3_mprintf("merutable: registering: %s", sqlite3_errmsg(db));
    return rc;
}

/* The name SQLite tries for "merutable_sqlite.so" when .load is given no
 * entry point (sqlite3_ + the file name's letters + _init). */
MSQ_EXPORT int sqlite3_merutablesqlite_init(sqlite3 *db, char **err,
                                            const sqlite3_api_routines *api);

int sqlite3_merutablesqlite_init(sqlite3 *db, char **err,
                                 const sqlite3_api_routines *api)
{
    return sqlite3_merutable_init(db, err, api);
}
