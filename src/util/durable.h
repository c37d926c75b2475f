/* SPDX-License-Identifier: Apache-2.0 */
/*
 * durable.h — crash-safe replacement of a small file, on top of meru_fs.
 *
 * meru_durable_write is the write-temp-then-rename protocol (Redis rdb.c,
 * LevelDB CURRENT): after a crash at any point, `path` holds either its
 * complete old content (or does not exist, if it did not before) or the
 * complete new content — never a mix, never a prefix. When it returns
 * MERU_OK the new content is durable.
 *
 * The temporary is "<path>.tmp" (fixed, so a leftover from a crash is simply
 * overwritten next time and is easy to sweep); callers serialise writers of
 * the same path (the table's writer lock does).
 */
#ifndef MERU_UTIL_DURABLE_H
#define MERU_UTIL_DURABLE_H

#include <stddef.h>

#include "util/fs.h"

/* Writes `<path>.tmp`, syncs it, closes it, renames it over `path` and syncs
 * the directory. On failure before the rename the temporary is removed and
 * `path` is untouched; a failure of the final directory sync leaves the new
 * content in place but not known durable (the error is returned). */
int meru_durable_write(meru_fs *fs, const char *path, const void *data,
                       size_t n);

/* Syncs the directory containing `path` (after creating, renaming or
 * removing `path`). */
int meru_durable_sync_parent(meru_fs *fs, const char *path);

#endif
