/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem_fs.h — a read-only meru_fs holding one file: the fuzz input. Every
 * path opens the same bytes; writes, syncs and locks are refused. Shared by
 * the targets that feed a whole file to a reader (fuzz_sst, fuzz_changelog,
 * fuzz_wal). Header-only: each target is one program built from one .c.
 *
 *   mem_fs fs = MEM_FS(data, size);
 *   meru_sst_open(&t, &fs.base, "fuzz.parquet", ...);
 */
#ifndef MERU_FUZZ_MEM_FS_H
#define MERU_FUZZ_MEM_FS_H

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

typedef struct mem_fs {
    meru_fs base;
    const uint8_t *p;
    size_t n;
} mem_fs;

static int mem_fs_open(meru_fs *fs, const char *path, unsigned flags,
                       meru_file **out)
{
    if (flags != MERU_FS_READ)
        return meru_err(MERU_EINVAL, "mem fs is read-only");
    meru_file *f = calloc(1, sizeof *f);
    if (!f)
        return MERU_ENOMEM;
    f->fs = fs;
    f->path = strdup(path);
    if (!f->path) {
        free(f);
        return MERU_ENOMEM;
    }
    *out = f;
    return MERU_OK;
}

static int mem_fs_close(meru_file *f)
{
    free(f->path);
    free(f);
    return MERU_OK;
}

static int mem_fs_pread(meru_file *f, uint64_t off, void *buf, size_t n,
                        size_t *nread)
{
    mem_fs *m = (mem_fs *)f->fs;
    *nread = 0;
    if (off >= m->n)
        return MERU_OK;
    size_t k = m->n - off < n ? (size_t)(m->n - off) : n;
    memcpy(buf, m->p + off, k);
    *nread = k;
    return MERU_OK;
}

static int mem_fs_size(meru_file *f, uint64_t *out)
{
    *out = ((mem_fs *)f->fs)->n;
    return MERU_OK;
}

static int mem_fs_nope(meru_file *f)
{
    (void)f;
    return meru_err(MERU_EINVAL, "mem fs: not supported");
}

static const meru_fs_ops mem_fs_ops = {
    .open = mem_fs_open,
    .close = mem_fs_close,
    .pread = mem_fs_pread,
    .size = mem_fs_size,
    .sync = mem_fs_nope,
    .sync_full = mem_fs_nope,
    .lock = mem_fs_nope,
};

#define MEM_FS(data, size) ((mem_fs){{&mem_fs_ops}, (data), (size)})

#endif
