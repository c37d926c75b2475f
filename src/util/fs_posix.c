/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_posix.c — the real meru_fs: thin wrappers over POSIX calls.
 *
 * Each call that fails reports errno through meru_err_errno with the
 * operation and the path as the caller gave it. EINTR is retried; partial
 * reads/writes are continued; nothing else is retried.
 *
 * Append position: a handle opened with MERU_FS_APPEND uses O_APPEND and
 * write(2), so the kernel places each write at the true end of file.
 * Otherwise the handle remembers the end of file (fstat at open, then
 * advanced by its own appends, pwrites past the end and truncates) and
 * appends with pwrite(2) there — no lseek, and pwrite stays usable.
 *
 * Maps are plain mmap(PROT_READ, MAP_SHARED) of the descriptor; the map
 * keeps the file's pages reachable after the descriptor is closed.
 * Releasing part of a map is madvise(MADV_DONTNEED): for a shared map of a
 * file it only unhooks the pages from this process (RssFile falls), the
 * page cache keeps them and a later touch maps them again.
 *
 * Not here: O_DIRECT, posix_fadvise, F_FULLFSYNC tuning.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"

typedef struct pfile {
    meru_file base;
    int fd;
    unsigned flags;
    uint64_t end; /* append position when !(flags & MERU_FS_APPEND) */
} pfile;

/* The largest single read/write request: Linux transfers at most
 * 0x7ffff000 bytes per call anyway, and this keeps ssize_t casts safe. */
#define IO_CHUNK ((size_t)1 << 30)

static int off_ok(uint64_t off, size_t n)
{
    return off <= (uint64_t)INT64_MAX && n <= (uint64_t)INT64_MAX - off;
}

static int px_open(meru_fs *fs, const char *path, unsigned flags,
                   meru_file **out)
{
    int oflags = O_CLOEXEC;
    int rw = flags & (MERU_FS_READ | MERU_FS_WRITE);
    if (rw == (MERU_FS_READ | MERU_FS_WRITE))
        oflags |= O_RDWR;
    else if (rw == MERU_FS_WRITE)
        oflags |= O_WRONLY;
    else if (rw == MERU_FS_READ)
        oflags |= O_RDONLY;
    else
        return meru_err(MERU_EINVAL, "open %s: neither read nor write asked",
                        path);
    if (flags & MERU_FS_CREATE)
        oflags |= O_CREAT;
    if (flags & MERU_FS_EXCL)
        oflags |= O_EXCL;
    if (flags & MERU_FS_TRUNC)
        oflags |= O_TRUNC;
    if (flags & MERU_FS_APPEND)
        oflags |= O_APPEND;

    pfile *f = calloc(1, sizeof *f);
    char *p = strdup(path);
    if (!f || !p) {
        free(f);
        free(p);
        return meru_err(MERU_ENOMEM, "open %s: out of memory", path);
    }
    int fd;
    do
        fd = open(path, oflags, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        free(f);
        free(p);
        return meru_err_errno(e, "open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        free(f);
        free(p);
        return meru_err_errno(e, "stat %s", path);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        free(f);
        free(p);
        return meru_err_errno(EISDIR, "open %s", path);
    }
    f->base.fs = fs;
    f->base.path = p;
    f->fd = fd;
    f->flags = flags;
    f->end = (uint64_t)st.st_size;
    *out = &f->base;
    return MERU_OK;
}

static int px_close(meru_file *mf)
{
    pfile *f = (pfile *)mf;
    int rc = MERU_OK;
    /* Linux closes the descriptor even when close reports an error, so
     * it is never retried (a retry could close someone else's fd). */
    if (close(f->fd) != 0 && errno != EINTR)
        rc = meru_err_errno(errno, "close %s", mf->path);
    free(mf->path);
    free(f);
    return rc;
}

static int px_pread(meru_file *mf, uint64_t off, void *buf, size_t n,
                    size_t *nread)
{
    pfile *f = (pfile *)mf;
    size_t done = 0;
    *nread = 0;
    if (!off_ok(off, n))
        return meru_err(MERU_EINVAL, "read %s: offset %llu + %zu too large",
                        mf->path, (unsigned long long)off, n);
    while (done < n) {
        size_t want = n - done < IO_CHUNK ? n - done : IO_CHUNK;
        ssize_t r = pread(f->fd, (char *)buf + done, want, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *nread = done;
            return meru_err_errno(errno, "read %s at %llu", mf->path,
                                  (unsigned long long)(off + done));
        }
        if (r == 0)
            break; /* end of file */
        done += (size_t)r;
    }
    *nread = done;
    return MERU_OK;
}

/* Writes n bytes at `off` (or at the end with O_APPEND), continuing partial
 * writes. *written is what reached the file, also on error. */
static int write_loop(pfile *f, const char *what, int at_end, uint64_t off,
                      const void *buf, size_t n, size_t *written)
{
    size_t done = 0;
    int rc = MERU_OK;
    while (done < n) {
        size_t want = n - done < IO_CHUNK ? n - done : IO_CHUNK;
        ssize_t w = at_end ? write(f->fd, (const char *)buf + done, want)
                           : pwrite(f->fd, (const char *)buf + done, want,
                                    (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = meru_err_errno(errno, "%s %s (%zu of %zu bytes written)", what,
                                f->base.path, done, n);
            break;
        }
        if (w == 0) {
            rc = meru_err(MERU_EIO,
                          "%s %s: write made no progress (%zu of %zu bytes "
                          "written)",
                          what, f->base.path, done, n);
            break;
        }
        done += (size_t)w;
    }
    *written = done;
    return rc;
}

static int px_append(meru_file *mf, const void *buf, size_t n)
{
    pfile *f = (pfile *)mf;
    size_t written = 0;
    if (!(f->flags & MERU_FS_APPEND) && !off_ok(f->end, n))
        return meru_err(MERU_EINVAL, "append %s: file would be too large",
                        mf->path);
    int rc = write_loop(f, "append", (f->flags & MERU_FS_APPEND) != 0, f->end,
                        buf, n, &written);
    f->end += written;
    return rc;
}

static int px_pwrite(meru_file *mf, uint64_t off, const void *buf, size_t n)
{
    pfile *f = (pfile *)mf;
    size_t written = 0;
    if (f->flags & MERU_FS_APPEND)
        return meru_err(MERU_EINVAL,
                        "write %s: handle was opened for append only",
                        mf->path);
    if (!off_ok(off, n))
        return meru_err(MERU_EINVAL, "write %s: offset %llu + %zu too large",
                        mf->path, (unsigned long long)off, n);
    int rc = write_loop(f, "write", 0, off, buf, n, &written);
    if (written && off + written > f->end)
        f->end = off + written;
    return rc;
}

static int px_size(meru_file *mf, uint64_t *out)
{
    pfile *f = (pfile *)mf;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return meru_err_errno(errno, "stat %s", mf->path);
    *out = (uint64_t)st.st_size;
    return MERU_OK;
}

static int px_sync(meru_file *mf)
{
    pfile *f = (pfile *)mf;
    int r;
#if defined(__APPLE__)
    do
        r = fsync(f->fd);
    while (r != 0 && errno == EINTR);
#else
    do
        r = fdatasync(f->fd);
    while (r != 0 && errno == EINTR);
#endif
    if (r != 0)
        return meru_err_errno(errno, "fdatasync %s", mf->path);
    return MERU_OK;
}

static int px_sync_full(meru_file *mf)
{
    pfile *f = (pfile *)mf;
    int r;
    do
        r = fsync(f->fd);
    while (r != 0 && errno == EINTR);
    if (r != 0)
        return meru_err_errno(errno, "fsync %s", mf->path);
    return MERU_OK;
}

static int px_truncate(meru_file *mf, uint64_t size)
{
    pfile *f = (pfile *)mf;
    if (size > (uint64_t)INT64_MAX)
        return meru_err(MERU_EINVAL, "truncate %s: size too large", mf->path);
    int r;
    do
        r = ftruncate(f->fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    if (r != 0)
        return meru_err_errno(errno, "truncate %s to %llu", mf->path,
                              (unsigned long long)size);
    f->end = size;
    return MERU_OK;
}

static int px_lock(meru_file *mf)
{
    pfile *f = (pfile *)mf;
    int r;
    do
        r = flock(f->fd, LOCK_EX | LOCK_NB);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        if (errno == EWOULDBLOCK)
            return meru_err(MERU_ELOCKED,
                            "lock %s: already locked by another process or "
                            "handle",
                            mf->path);
        return meru_err_errno(errno, "lock %s", mf->path);
    }
    return MERU_OK;
}

static int px_sync_dir(meru_fs *fs, const char *dir)
{
    int fd;
    do
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return meru_err_errno(errno, "open dir %s", dir);
    int r;
    do
        r = fsync(fd);
    while (r != 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r != 0)
        return meru_err_errno(e, "fsync dir %s", dir);
    return MERU_OK;
}

static int px_rename(meru_fs *fs, const char *from, const char *to)
{
    if (rename(from, to) != 0)
        return meru_err_errno(errno, "rename %s -> %s", from, to);
    return MERU_OK;
}

static int px_remove(meru_fs *fs, const char *path)
{
    if (unlink(path) == 0)
        return MERU_OK;
    int e = errno;
    /* unlink of a directory is EISDIR on Linux, EPERM per POSIX. */
    if (e == EISDIR || e == EPERM) {
        if (rmdir(path) == 0)
            return MERU_OK;
        e = errno;
    }
    return meru_err_errno(e, "remove %s", path);
}

static int px_mkdir(meru_fs *fs, const char *path)
{
    if (mkdir(path, 0755) != 0)
        return meru_err_errno(errno, "mkdir %s", path);
    return MERU_OK;
}

static int px_list(meru_fs *fs, const char *dir, meru_fs_list_fn fn, void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return meru_err_errno(errno, "list %s", dir);
    int rc = MERU_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                rc = meru_err_errno(errno, "list %s", dir);
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        rc = fn(arg, e->d_name);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

static int px_stat(meru_fs *fs, const char *path, meru_fs_info *out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return meru_err_errno(errno, "stat %s", path);
    out->size = (uint64_t)st.st_size;
    out->is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    return MERU_OK;
}

static void px_destroy(meru_fs *fs) {}

static int px_map(meru_file *mf, uint64_t size, const void **out)
{
    pfile *f = (pfile *)mf;
    *out = NULL;
    if (size > (uint64_t)SIZE_MAX || size > (uint64_t)INT64_MAX)
        return meru_err(MERU_EINVAL, "map %s: %llu bytes is too large",
                        mf->path, (unsigned long long)size);
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, f->fd, 0);
    if (p == MAP_FAILED)
        return meru_err_errno(errno, "map %s", mf->path);
    *out = p;
    return MERU_OK;
}

static void px_unmap(meru_fs *fs, const void *p, uint64_t size)
{
    (void)fs;
    munmap((void *)(uintptr_t)p, (size_t)size);
}

static void px_release(meru_fs *fs, const void *p, uint64_t off,
                       uint64_t len)
{
    (void)fs;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t pg = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t lo = (uintptr_t)p + (uintptr_t)off;
    uintptr_t hi = lo + (uintptr_t)len;
    lo = (lo + pg - 1) & ~(pg - 1); /* inward: whole pages only */
    hi &= ~(pg - 1);
    if (hi > lo) /* advice: a failure leaves the pages resident, no more */
        (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
}

static int px_link(meru_fs *fs, const char *from, const char *to)
{
    (void)fs;
    if (link(from, to) == 0)
        return MERU_OK;
    int e = errno;
    if (e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP)
        return MERU_ENOTSUP; /* the caller copies instead */
    return meru_err_errno(e, "link %s -> %s", from, to);
}

static const meru_fs_ops posix_ops = {
    .open = px_open,
    .close = px_close,
    .pread = px_pread,
    .append = px_append,
    .pwrite = px_pwrite,
    .size = px_size,
    .sync = px_sync,
    .sync_full = px_sync_full,
    .truncate = px_truncate,
    .lock = px_lock,
    .sync_dir = px_sync_dir,
    .rename = px_rename,
    .remove = px_remove,
    .mkdir = px_mkdir,
    .list = px_list,
    .stat = px_stat,
    .destroy = px_destroy,
    .map = px_map,
    .unmap = px_unmap,
    .link = px_link,
    .release = px_release,
};

static meru_fs posix_fs = {&posix_ops};

meru_fs *meru_fs_posix(void)
{
    return &posix_fs;
}
