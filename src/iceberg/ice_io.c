/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ice_io.c — create-write-sync-close with removal on failure, and bounded
 * reads (see ice_io.h).
 */
#include "iceberg/ice_io.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "merutable.h"
#include "util/error.h"

int meru_ice_discard(meru_fs *fs, meru_file *f, const char *path, int rc)
{
    char msg[MERU_ERRMSG_CAP];
    snprintf(msg, sizeof msg, "%s", meru_errmsg());
    meru_file_close(f);
    meru_fs_remove(fs, path); /* best effort: already failing */
    return meru_err(rc, "%s", msg);
}

int meru_ice_write_file(meru_fs *fs, const char *path, const void *data,
                        size_t n)
{
    meru_file *f = NULL;
    int rc = meru_fs_open(fs, path,
                          MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL, &f);
    if (rc)
        return rc; /* nothing created (or it existed: not ours to remove) */
    if ((rc = meru_file_append(f, data, n)) || (rc = meru_file_sync(f)))
        return meru_ice_discard(fs, f, path, rc);
    rc = meru_file_close(f);
    if (rc)
        return meru_ice_discard(fs, NULL, path, rc);
    return MERU_OK;
}

int meru_ice_read_file(meru_fs *fs, const char *path, size_t max, uint8_t **out,
                       size_t *len)
{
    int rc = meru_fs_read_all(fs, path, max, out, len);
    if (rc == MERU_ERANGE)
        meru_err(rc, "%s is larger than the %zu bytes allowed", path, max);
    return rc;
}

int meru_ice_read_range(meru_fs *fs, const char *path, uint64_t off,
                        uint64_t len, size_t max, uint8_t **out)
{
    meru_file *f = NULL;
    uint8_t *buf = NULL;
    int rc;
    *out = NULL;
    if (len > max)
        return meru_err(MERU_ERANGE,
                        "%s: range of %" PRIu64 " bytes at %" PRIu64
                        " is larger than the %zu bytes allowed",
                        path, len, off, max);
    if (off > UINT64_MAX - len)
        return meru_err(MERU_ECORRUPT, "%s: range at %" PRIu64 " overflows",
                        path, off);
    if ((rc = meru_fs_open(fs, path, MERU_FS_READ, &f)))
        return rc;
    if (!(buf = malloc(len ? (size_t)len : 1))) {
        rc = meru_err(MERU_ENOMEM, "%s: out of memory for %" PRIu64 " bytes",
                      path, len);
        goto done;
    }
    if ((rc = meru_file_read_exact(f, off, buf, (size_t)len)))
        goto done;
    *out = buf;
    buf = NULL;
done:
    free(buf);
    meru_file_close(f);
    return rc;
}
