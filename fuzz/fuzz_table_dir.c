/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_table_dir.c — libFuzzer target for a whole table directory: the
 * input is an archive of files (metadata versions, the version hint, WAL
 * segments, data files), served by a read-only in-memory meru_fs, and the
 * table is opened read-only over it (meru_db_open_fs), scanned both ways,
 * looked up by the keys met, and verified (meru_verify). Everything the
 * engine reads at open and in reads goes through hostile bytes here: the
 * metadata JSON and its checksum, the cross-checks of files against it,
 * WAL replay, the Parquet footers, pages, indexes and bloom filters.
 *
 * Archive: entries of [u8 name length][name][u32 LE data length][data],
 * names relative to the table ("metadata/v2.metadata.json"); a short or
 * malformed entry ends the archive. Seeds are real tables packed by
 * fuzz/make_table_seeds.sh.
 *
 * Oracles: no crash, hang, leak or sanitizer report; an open that fails
 * returns a status; rows of a scan come in strictly increasing key order
 * as far as the scan gets.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "types/keycodec.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOT      "/t"
#define MAX_FILES 64

typedef struct mfile_data {
    char name[256]; /* relative to ROOT */
    const uint8_t *p;
    size_t n;
} mfile_data;

typedef struct mem_fs {
    meru_fs base;
    mfile_data files[MAX_FILES];
    size_t nfiles;
} mem_fs;

typedef struct mem_file {
    meru_file base;
    const mfile_data *d;
} mem_file;

/* The name of `path` relative to ROOT ("" for ROOT), or NULL. */
static const char *rel(const char *path)
{
    size_t n = strlen(ROOT);
    if (strncmp(path, ROOT, n))
        return NULL;
    if (!path[n])
        return "";
    return path[n] == '/' ? path + n + 1 : NULL;
}

static const mfile_data *find(mem_fs *m, const char *path)
{
    const char *r = rel(path);
    for (size_t i = 0; r && i < m->nfiles; i++)
        if (!strcmp(m->files[i].name, r))
            return &m->files[i];
    return NULL;
}

/* Whether some file lies under directory `path`. */
static int is_dir(mem_fs *m, const char *path)
{
    const char *r = rel(path);
    if (!r)
        return 0;
    size_t n = strlen(r);
    for (size_t i = 0; i < m->nfiles; i++)
        if (!n ||
            (!strncmp(m->files[i].name, r, n) && m->files[i].name[n] == '/'))
            return 1;
    return 0;
}

static int ro(const char *what, const char *path)
{
    return meru_err(MERU_EREADONLY, "%s %s: read-only fs", what, path);
}

static int m_open(meru_fs *fs, const char *path, unsigned flags,
                  meru_file **out)
{
    mem_fs *m = (mem_fs *)fs;
    if (flags & ~(unsigned)MERU_FS_READ)
        return ro("open", path);
    const mfile_data *d = find(m, path);
    if (!d)
        return meru_err(MERU_NOT_FOUND, "open %s: not found", path);
    mem_file *f = calloc(1, sizeof *f);
    if (!f || !(f->base.path = strdup(path))) {
        free(f);
        return meru_err(MERU_ENOMEM, "open %s: out of memory", path);
    }
    f->base.fs = fs;
    f->d = d;
    *out = &f->base;
    return MERU_OK;
}

static int m_close(meru_file *f)
{
    free(f->path);
    free(f);
    return MERU_OK;
}

static int m_pread(meru_file *f, uint64_t off, void *buf, size_t n,
                   size_t *nread)
{
    const mfile_data *d = ((mem_file *)f)->d;
    *nread = 0;
    if (off >= d->n)
        return MERU_OK;
    size_t k = d->n - off < n ? (size_t)(d->n - off) : n;
    memcpy(buf, d->p + off, k);
    *nread = k;
    return MERU_OK;
}

static int m_append(meru_file *f, const void *b, size_t n)
{
    (void)b;
    (void)n;
    return ro("append", f->path);
}

static int m_pwrite(meru_file *f, uint64_t o, const void *b, size_t n)
{
    (void)o;
    (void)b;
    (void)n;
    return ro("pwrite", f->path);
}

static int m_size(meru_file *f, uint64_t *out)
{
    *out = ((mem_file *)f)->d->n;
    return MERU_OK;
}

static int m_sync(meru_file *f)
{
    (void)f;
    return MERU_OK;
}

static int m_truncate(meru_file *f, uint64_t n)
{
    (void)n;
    return ro("truncate", f->path);
}

static int m_lock(meru_file *f)
{
    (void)f;
    return MERU_OK;
}

static int m_sync_dir(meru_fs *fs, const char *dir)
{
    (void)fs;
    (void)dir;
    return MERU_OK;
}

static int m_rename(meru_fs *fs, const char *a, const char *b)
{
    (void)fs;
    (void)b;
    return ro("rename", a);
}

static int m_remove(meru_fs *fs, const char *p)
{
    (void)fs;
    return ro("remove", p);
}

static int m_mkdir(meru_fs *fs, const char *p)
{
    (void)fs;
    return ro("mkdir", p);
}

static int m_list(meru_fs *fs, const char *dir, meru_fs_list_fn fn, void *arg)
{
    mem_fs *m = (mem_fs *)fs;
    const char *r = rel(dir);
    if (!r || !is_dir(m, dir))
        return meru_err(MERU_NOT_FOUND, "list %s: not found", dir);
    size_t n = strlen(r);
    char seen[MAX_FILES][256];
    size_t nseen = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        const char *name = m->files[i].name;
        if (n && (strncmp(name, r, n) || name[n] != '/'))
            continue;
        const char *child = n ? name + n + 1 : name;
        size_t cl = strcspn(child, "/");
        if (!cl || cl >= 256)
            continue;
        int dup = 0;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = strlen(seen[j]) == cl && !strncmp(seen[j], child, cl);
        if (dup)
            continue;
        memcpy(seen[nseen], child, cl);
        seen[nseen][cl] = 0;
        int rc = fn(arg, seen[nseen++]);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

static int m_stat(meru_fs *fs, const char *path, meru_fs_info *out)
{
    mem_fs *m = (mem_fs *)fs;
    const mfile_data *d = find(m, path);
    if (d) {
        out->size = d->n;
        out->is_dir = 0;
        return MERU_OK;
    }
    if (is_dir(m, path)) {
        out->size = 0;
        out->is_dir = 1;
        return MERU_OK;
    }
    return meru_err(MERU_NOT_FOUND, "stat %s: not found", path);
}

static void m_destroy(meru_fs *fs)
{
    (void)fs;
}

static const meru_fs_ops mem_ops = {
    .open = m_open,
    .close = m_close,
    .pread = m_pread,
    .append = m_append,
    .pwrite = m_pwrite,
    .size = m_size,
    .sync = m_sync,
    .sync_full = m_sync,
    .truncate = m_truncate,
    .lock = m_lock,
    .sync_dir = m_sync_dir,
    .rename = m_rename,
    .remove = m_remove,
    .mkdir = m_mkdir,
    .list = m_list,
    .stat = m_stat,
    .destroy = m_destroy,
};

/* Fills m from the archive (see the top comment). */
static void unpack(mem_fs *m, const uint8_t *p, size_t n)
{
    size_t at = 0;
    m->nfiles = 0;
    while (m->nfiles < MAX_FILES && at < n) {
        size_t nl = p[at++];
        if (nl == 0 || nl >= 256 || n - at < nl + 4)
            return;
        mfile_data *f = &m->files[m->nfiles];
        memcpy(f->name, p + at, nl);
        f->name[nl] = 0;
        at += nl;
        uint32_t dl = (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 |
                      (uint32_t)p[at + 2] << 16 | (uint32_t)p[at + 3] << 24;
        at += 4;
        if (dl > n - at || memchr(f->name, 0, nl) || f->name[0] == '/')
            return;
        f->p = p + at;
        f->n = dl;
        at += dl;
        m->nfiles++;
    }
}

static void scan(meru_db *db, int reverse)
{
    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    meru_iter *it = NULL;
    meru_row *key = NULL, *out = NULL;
    meru_buf prev = {0}, cur = {0};
    const meru_row *r;
    int n = 0;
    so.reverse = reverse;
    if (meru_scan(db, &so, &it))
        return;
    meru_row_new(&key, meru_db_schema(db));
    meru_row_new(&out, meru_db_schema(db));
    while (n < 2000 && meru_iter_next(it, &r) == MERU_OK) {
        cur.len = 0;
        if (meru_key_encode_row(meru_db_schema(db), r, &cur) == MERU_OK) {
            if (n && (reverse ? meru_ikey_cmp(cur.data, cur.len, prev.data,
                                              prev.len) >= 0
                              : meru_ikey_cmp(cur.data, cur.len, prev.data,
                                              prev.len) <= 0))
                abort(); /* out of order: a wrong answer */
            prev.len = 0;
            meru_buf_append(&prev, cur.data, cur.len);
            if (n % 7 == 0 && key && out)
                (void)meru_get(db, NULL, r, out);
        }
        n++;
    }
    meru_iter_free(it);
    meru_row_free(key);
    meru_row_free(out);
    meru_buf_free(&prev);
    meru_buf_free(&cur);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mem_fs m;
    m.base.ops = &mem_ops;
    unpack(&m, data, size);
    meru_options o;
    meru_options_init(&o);
    o.read_only = 1;
    o.cache_bytes = (size_t)1 << 20;
    o.mmap_reads = 0;
    meru_db *db = NULL;
    if (meru_db_open_fs(ROOT, &o, NULL, &m.base, &db) == MERU_OK) {
        scan(db, 0);
        scan(db, 1);
        meru_verify_report vr;
        (void)meru_verify(db, 0, &vr);
    }
    meru_db_free(db);
    return 0;
}
