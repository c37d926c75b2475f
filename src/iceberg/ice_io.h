/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ice_io.h — the file I/O every Iceberg writer and reader of this module
 * shares, on top of meru_fs (so the fault-injecting fs reaches it).
 *
 * Writers create a new file (it must not exist: MERU_EEXIST), write it,
 * fsync it and close it; on any failure the partial file is removed and
 * the first error is returned with its message. Making the new directory
 * entry durable (fsync of the directory) is the caller's job: a commit
 * writes several files and syncs their directory once.
 *
 * Readers read by path with a size limit, so a hostile or damaged file
 * cannot make them allocate more than the caller allows.
 */
#ifndef MERU_ICEBERG_ICE_IO_H
#define MERU_ICEBERG_ICE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "util/fs.h"

/* Creates `path` (exclusively), appends data[0..n), syncs and closes it. */
int meru_ice_write_file(meru_fs *fs, const char *path, const void *data,
                        size_t n);

/* Closes f (may be NULL) and removes `path`, keeping the thread's current
 * error message; returns rc. For writers cleaning up after a failure. */
int meru_ice_discard(meru_fs *fs, meru_file *f, const char *path, int rc);

/* Reads the whole file into a malloc'd buffer (free with free()).
 * MERU_ERANGE when it is larger than `max` bytes. */
int meru_ice_read_file(meru_fs *fs, const char *path, size_t max, uint8_t **out,
                       size_t *len);

/* Reads bytes [off, off + len) of `path` into a malloc'd buffer (free with
 * free()). MERU_ERANGE when len > max; MERU_ECORRUPT when the file is
 * shorter than off + len. */
int meru_ice_read_range(meru_fs *fs, const char *path, uint64_t off,
                        uint64_t len, size_t max, uint8_t **out);

#endif
