/* SPDX-License-Identifier: Apache-2.0 */
/*
 * durable.c — write-temp, fsync, rename, fsync-directory (see durable.h).
 *
 * Order matters: the temporary's data must be durable before the rename
 * can be (else a crash could leave `path` naming an empty or partial file),
 * and the directory sync is what makes the rename itself durable.
 */
#include "util/durable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define TMP_SUFFIX ".tmp"

int meru_durable_sync_parent(meru_fs *fs, const char *path)
{
    size_t cap = strlen(path) + 2;
    char *dir = malloc(cap);
    if (!dir)
        return meru_err(MERU_ENOMEM, "sync parent of %s: out of memory", path);
    int rc = meru_path_parent(dir, cap, path);
    if (!rc)
        rc = meru_fs_sync_dir(fs, dir);
    free(dir);
    return rc;
}

int meru_durable_write(meru_fs *fs, const char *path, const void *data,
                       size_t n)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof TMP_SUFFIX);
    if (!tmp)
        return meru_err(MERU_ENOMEM, "write %s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, TMP_SUFFIX, sizeof TMP_SUFFIX);

    meru_file *f = NULL;
    int rc = meru_fs_open(fs, tmp,
                          MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_TRUNC, &f);
    if (rc)
        goto fail; /* nothing created, or an old leftover: leave it */
    if ((rc = meru_file_append(f, data, n)) || (rc = meru_file_sync_full(f)))
        goto fail_remove;
    rc = meru_file_close(f);
    f = NULL;
    if (rc)
        goto fail_remove;
    if ((rc = meru_fs_rename(fs, tmp, path)))
        goto fail_remove;
    rc = meru_durable_sync_parent(fs, path);
    free(tmp);
    return rc;

fail_remove : {
    /* Keep the original failure as the thread's error message. */
    char msg[MERU_ERRMSG_CAP];
    snprintf(msg, sizeof msg, "%s", meru_errmsg());
    meru_file_close(f);
    meru_fs_remove(fs, tmp);
    meru_err(rc, "%s", msg);
}
fail:
    free(tmp);
    return rc;
}
