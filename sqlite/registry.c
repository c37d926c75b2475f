/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c — one meru_db per table directory and mode in this process.
 *
 * A table's writer takes its LOCK file, so a second meru_open for writing
 * in the same process would fail as "locked" although nobody else holds
 * it. Every virtual table of every connection that names the same
 * directory therefore shares one handle (meru_db is safe to share between
 * threads), found here by the directory's realpath and counted: the last
 * virtual table to go closes it. Read-only handles take no lock and are
 * shared the same way, separately from the writer's (a read-only virtual
 * table keeps calling meru_refresh, which a writer's handle does not
 * need).
 *
 * The list is guarded by `mu`; a handle's fields other than `refs` never
 * change after it is published. meru_open runs under the mutex, so two
 * connections opening the same table at once open it once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "msq.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static msq_handle *handles; /* guarded by mu */

msq_handle *msq_handle_acquire(const char *path, int read_only, char **errmsg)
{
    char real[PATH_MAX];
    msq_handle *h;
    if (!realpath(path, real)) {
        *errmsg = sqlite3_mprintf("merutable: no table at '%s': %s", path,
                                  strerror(errno));
        return NULL;
    }
    pthread_mutex_lock(&mu);
    for (h = handles; h; h = h->next) {
        if (h->read_only == read_only && strcmp(h->path, real) == 0) {
            h->refs++;
            pthread_mutex_unlock(&mu);
            return h;
        }
    }
    h = sqlite3_malloc(sizeof *h);
    char *copy = sqlite3_mprintf("%s", real);
    if (!h || !copy) {
        *errmsg = sqlite3_mprintf("out of memory");
        goto fail;
    }
    meru_options opts;
    meru_options_init(&opts);
    opts.create_if_missing = 0;
    opts.read_only = read_only;
    meru_db *db = NULL;
    int rc = meru_open(real, &opts, NULL, &db);
    if (rc) {
        /* The status first: "table is locked by another writer: ...". */
        *errmsg = sqlite3_mprintf("%s: %s", meru_strerror(rc), meru_errmsg());
        goto fail;
    }
    h->path = copy;
    h->read_only = read_only;
    h->db = db;
    h->refs = 1;
    h->next = handles;
    handles = h;
    pthread_mutex_unlock(&mu);
    return h;
fail:
    pthread_mutex_unlock(&mu);
    sqlite3_free(copy);
    sqlite3_free(h);
    return NULL;
}

void msq_handle_release(msq_handle *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&mu);
    if (--h->refs > 0) {
        pthread_mutex_unlock(&mu);
        return;
    }
    for (msq_handle **p = &handles; *p; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            break;
        }
    }
    /* Closed under the mutex: a connection reopening the table right away
     * must find LOCK released, not a half-closed handle. */
    meru_close(h->db); /* errors have nowhere to go: xDisconnect is void */
    meru_db_free(h->db);
    pthread_mutex_unlock(&mu);
    sqlite3_free(h->path);
    sqlite3_free(h);
}

msq_handle *msq_handle_acquire_reader(const char *path, char **errmsg)
{
    char real[PATH_MAX];
    if (realpath(path, real)) {
        pthread_mutex_lock(&mu);
        for (msq_handle *h = handles; h; h = h->next) {
            if (!h->read_only && strcmp(h->path, real) == 0) {
                h->refs++;
                pthread_mutex_unlock(&mu);
                return h;
            }
        }
        pthread_mutex_unlock(&mu);
    }
    /* No writer here (or it closed since): a read-only handle, shared. */
    return msq_handle_acquire(path, 1, errmsg);
}

int msq_handle_stats_json(const char *path, char **out)
{
    char real[PATH_MAX];
    msq_handle *found = NULL;
    if (!realpath(path, real))
        return MERU_NOT_FOUND;
    pthread_mutex_lock(&mu);
    for (msq_handle *h = handles; h; h = h->next)
        if (strcmp(h->path, real) == 0 && (!found || !h->read_only))
            found = h;
    int rc = found ? meru_stats_json(found->db, out) : MERU_NOT_FOUND;
    pthread_mutex_unlock(&mu);
    return rc;
}
