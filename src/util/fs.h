/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs.h — the file-system interface. ALL file I/O of the engine goes through
 * a meru_fs (the idea of SQLite's VFS and sophia's ss_vfs), so tests can swap
 * in the fault-injecting one (tests/support/fs_fault.h) to inject EIO,
 * ENOSPC, short writes and failed fsyncs, and to simulate power loss.
 *
 * Shape: `meru_fs` is an ops table; an implementation embeds `meru_fs` as the
 * first member of its own struct (its private data follows) and its file
 * handles likewise start with a `meru_file`. Callers use the inline wrappers
 * below (meru_file_append(f, ...) rather than f->fs->ops->append(f, ...)).
 *
 * Contract every implementation keeps:
 *  - Status codes from meru_status; every failure sets the thread's error
 *    message naming the operation and the path, e.g.
 *    "fsync wal/000012.log: Input/output error". errno values map through
 *    meru_status_from_errno: ENOENT -> MERU_NOT_FOUND, EEXIST -> MERU_EEXIST,
 *    ENOSPC -> MERU_ENOSPC, EWOULDBLOCK -> MERU_ELOCKED, most else MERU_EIO.
 *  - Paths are plain NUL-terminated strings, absolute or relative to the
 *    process's working directory, used as given (no normalisation).
 *  - Writes are never retried after a failure by this layer (beyond
 *    continuing a partial write that made progress); a failed sync means the
 *    data may be lost and the caller must treat the file as failed.
 *  - Durability is explicit: file data is durable after meru_file_sync (or
 *    sync_full) succeeds; a directory entry (create, rename, remove, mkdir)
 *    is durable after meru_fs_sync_dir of its directory succeeds.
 *
 * Threads: a meru_fs may be used from any number of threads. A meru_file may
 * be read (pread, size) from several threads at once; writes to one file
 * (append, pwrite, truncate) must be serialised by the caller, and at most
 * one handle per file should append unless it was opened with
 * MERU_FS_APPEND (see below).
 *
 * Memory maps: an implementation may offer read-only maps of a file (the
 * optional `map` op); callers must have a fallback through pread, since
 * the fault-injecting test fs and in-memory test file systems offer none.
 *
 * Not here: buffering (callers batch their own appends), async I/O.
 */
#ifndef MERU_UTIL_FS_H
#define MERU_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>

typedef struct meru_fs meru_fs;
typedef struct meru_file meru_file;
typedef struct meru_fs_ops meru_fs_ops;

/* meru_fs_open flags. */
enum {
    MERU_FS_READ = 1u << 0,
    MERU_FS_WRITE = 1u << 1,
    MERU_FS_CREATE = 1u << 2, /* create if missing (mode 0644) */
    MERU_FS_EXCL = 1u << 3,   /* with CREATE: MERU_EEXIST if it exists */
    MERU_FS_TRUNC = 1u << 4,  /* with WRITE: empty an existing file */
    /* Appends land at the true end of file even if another handle extended
     * it (O_APPEND). Such a handle cannot pwrite (MERU_EINVAL). Without it,
     * appends go to the end as this handle last knew it. */
    MERU_FS_APPEND = 1u << 5,
};

typedef struct meru_fs_info {
    uint64_t size;
    int is_dir;
} meru_fs_info;

/* Called once per entry name ("." and ".." excluded), in no particular
 * order. A non-zero return stops the listing and is returned by list. The
 * callback may call other operations of the same fs (e.g. remove the entry;
 * whether entries added or removed meanwhile are seen is unspecified). */
typedef int (*meru_fs_list_fn)(void *arg, const char *name);

struct meru_fs_ops {
    /* Opens `path`; *out is a new handle, freed by close. */
    int (*open)(meru_fs *fs, const char *path, unsigned flags, meru_file **out);
    /* Releases the handle (and a lock taken through it) even when it
     * returns an error. */
    int (*close)(meru_file *f);
    /* Reads up to n bytes at `off`; *nread < n only at end of file (reading
     * at or past the end gives *nread == 0 and MERU_OK). */
    int (*pread)(meru_file *f, uint64_t off, void *buf, size_t n,
                 size_t *nread);
    /* Writes all n bytes at the end of file (continuing partial writes);
     * on error some prefix may have been written. */
    int (*append)(meru_file *f, const void *buf, size_t n);
    /* Writes all n bytes at `off`, extending the file if needed. */
    int (*pwrite)(meru_file *f, uint64_t off, const void *buf, size_t n);
    int (*size)(meru_file *f, uint64_t *out);
    /* File data (and the size) durable: fdatasync. */
    int (*sync)(meru_file *f);
    /* Data and all metadata durable: fsync. */
    int (*sync_full)(meru_file *f);
    int (*truncate)(meru_file *f, uint64_t size);
    /* Exclusive advisory lock on the open file, non-blocking: MERU_ELOCKED
     * if another open of the file (this process or another) holds it.
     * Released by close. */
    int (*lock)(meru_file *f);

    /* Makes the entries of directory `dir` durable (open + fsync). */
    int (*sync_dir)(meru_fs *fs, const char *dir);
    /* Atomically replaces `to` (if it exists) with `from`. Files only. */
    int (*rename)(meru_fs *fs, const char *from, const char *to);
    /* Removes a file or an empty directory. */
    int (*remove)(meru_fs *fs, const char *path);
    /* Creates one directory (mode 0755); MERU_EEXIST if it exists. */
    int (*mkdir)(meru_fs *fs, const char *path);
    int (*list)(meru_fs *fs, const char *dir, meru_fs_list_fn fn, void *arg);
    /* MERU_NOT_FOUND if `path` does not exist. */
    int (*stat)(meru_fs *fs, const char *path, meru_fs_info *out);
    /* Frees the fs (no-op for the process-wide posix one). */
    void (*destroy)(meru_fs *fs);

    /* Optional (NULL: not offered). Maps the first `size` (> 0) bytes of a
     * file opened for reading, read-only and shared, into *out. The map
     * outlives the handle and stays valid until unmap; touching bytes the
     * file no longer has (it was truncated) is the caller's risk, so only
     * immutable files are mapped. */
    int (*map)(meru_file *f, uint64_t size, const void **out);
    /* Releases a map made by `map` of this fs (the same size). */
    void (*unmap)(meru_fs *fs, const void *p, uint64_t size);
    /* Optional (NULL: not offered). A new hard link `to` for the existing
     * file `from`; MERU_EEXIST if `to` exists, MERU_EXDEV-like failures
     * (another file system, links not allowed) as MERU_ENOTSUP, so callers
     * fall back to copying. */
    int (*link)(meru_fs *fs, const char *from, const char *to);
    /* Optional (NULL: not offered). A hint that the caller is done with
     * the pages of a map made by `map` for now: they leave the process's
     * resident set (the bytes stay readable; the next touch reads them
     * again, from the kernel's page cache while it still holds them).
     * `p` is the map's start, [off, off + len) the range, both within the
     * map; the implementation rounds inward to whole pages. */
    void (*release)(meru_fs *fs, const void *p, uint64_t off, uint64_t len);
};

struct meru_fs {
    const meru_fs_ops *ops;
};

/* The common head of every implementation's file handle. */
struct meru_file {
    meru_fs *fs;
    char *path; /* the path it was opened with, for messages; owned */
};

/* The process-wide real implementation (open(2), pread(2), fdatasync(2),
 * flock(2)...). Never freed; meru_fs_free on it does nothing. */
meru_fs *meru_fs_posix(void);

/* ---- wrappers ------------------------------------------------------------ */

static inline int meru_fs_open(meru_fs *fs, const char *path, unsigned flags,
                               meru_file **out)
{
    return fs->ops->open(fs, path, flags, out);
}
/* Accepts NULL. */
static inline int meru_file_close(meru_file *f)
{
    return f ? f->fs->ops->close(f) : 0;
}
static inline int meru_file_pread(meru_file *f, uint64_t off, void *buf,
                                  size_t n, size_t *nread)
{
    return f->fs->ops->pread(f, off, buf, n, nread);
}
static inline int meru_file_append(meru_file *f, const void *buf, size_t n)
{
    return f->fs->ops->append(f, buf, n);
}
static inline int meru_file_pwrite(meru_file *f, uint64_t off, const void *buf,
                                   size_t n)
{
    return f->fs->ops->pwrite(f, off, buf, n);
}
static inline int meru_file_size(meru_file *f, uint64_t *out)
{
    return f->fs->ops->size(f, out);
}
static inline int meru_file_sync(meru_file *f)
{
    return f->fs->ops->sync(f);
}
static inline int meru_file_sync_full(meru_file *f)
{
    return f->fs->ops->sync_full(f);
}
static inline int meru_file_truncate(meru_file *f, uint64_t size)
{
    return f->fs->ops->truncate(f, size);
}
static inline int meru_file_lock(meru_file *f)
{
    return f->fs->ops->lock(f);
}
static inline const char *meru_file_path(const meru_file *f)
{
    return f->path;
}
static inline int meru_fs_sync_dir(meru_fs *fs, const char *dir)
{
    return fs->ops->sync_dir(fs, dir);
}
static inline int meru_fs_rename(meru_fs *fs, const char *from, const char *to)
{
    return fs->ops->rename(fs, from, to);
}
static inline int meru_fs_remove(meru_fs *fs, const char *path)
{
    return fs->ops->remove(fs, path);
}
static inline int meru_fs_mkdir(meru_fs *fs, const char *path)
{
    return fs->ops->mkdir(fs, path);
}
static inline int meru_fs_list(meru_fs *fs, const char *dir, meru_fs_list_fn fn,
                               void *arg)
{
    return fs->ops->list(fs, dir, fn, arg);
}
static inline int meru_fs_stat(meru_fs *fs, const char *path, meru_fs_info *out)
{
    return fs->ops->stat(fs, path, out);
}
/* Accepts NULL. */
static inline void meru_fs_free(meru_fs *fs)
{
    if (fs)
        fs->ops->destroy(fs);
}

/* ---- helpers built on the ops (fs.c) ------------------------------------- */

/* Reads exactly n bytes at `off`; a short file is MERU_ECORRUPT ("read
 * <path> at <off>: unexpected end of file (<got> of <n> bytes)"). */
int meru_file_read_exact(meru_file *f, uint64_t off, void *buf, size_t n);
/* Maps the first `size` (> 0) bytes of `f` read-only (see the map op):
 * MERU_ENOTSUP (no message) when the fs offers no maps, so callers fall
 * back to pread. */
int meru_file_map(meru_file *f, uint64_t size, const void **out);
/* Releases a map of `fs` made by meru_file_map. Accepts NULL p. */
void meru_fs_unmap(meru_fs *fs, const void *p, uint64_t size);
/* Drops the resident pages of [off, off + len) of a map of `fs` (see the
 * release op; a no-op when the fs offers none). Accepts NULL p. */
void meru_fs_release_map(meru_fs *fs, const void *p, uint64_t off,
                         uint64_t len);
/* Hard-links `from` as `to` (see the link op): MERU_ENOTSUP (no message)
 * when the fs offers no links or they are impossible there. */
int meru_fs_link(meru_fs *fs, const char *from, const char *to);
/* *out = 1 if `path` exists (file or directory), else 0. */
int meru_fs_exists(meru_fs *fs, const char *path, int *out);
/* Creates `path` and its missing parents; existing directories are fine.
 * Each directory created is durable on return (its parent is synced). */
int meru_fs_mkdir_p(meru_fs *fs, const char *path);
/* The entry names of `dir`, sorted by strcmp; free with meru_fs_names_free. */
int meru_fs_list_names(meru_fs *fs, const char *dir, char ***out,
                       size_t *count);
void meru_fs_names_free(char **names, size_t count);
/* Reads a whole (small) file into a malloc'd buffer that is NUL-terminated
 * one byte past *len (free with free()). MERU_ERANGE if it is larger than
 * `cap` bytes. */
int meru_fs_read_all(meru_fs *fs, const char *path, size_t cap, uint8_t **out,
                     size_t *len);
/* Opens (creating) `path` and takes its exclusive lock: MERU_ELOCKED if held
 * elsewhere. Release with meru_fs_unlock (which closes the handle). */
int meru_fs_lock(meru_fs *fs, const char *path, meru_file **out);
int meru_fs_unlock(meru_file *lock);
/* "<dir>/<name>" into out[cap] (just name if dir is ""); MERU_ERANGE if it
 * does not fit. */
int meru_path_join(char *out, size_t cap, const char *dir, const char *name);
/* The directory part of `path` ("." for a bare name, "/" for "/x"). */
int meru_path_parent(char *out, size_t cap, const char *path);

#endif
