/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs.c — helpers built only on the meru_fs ops (see fs.h), so they behave
 * identically over the posix and the fault-injecting implementations.
 */
#include "util/fs.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

int meru_file_read_exact(meru_file *f, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    int rc = meru_file_pread(f, off, buf, n, &got);
    if (rc)
        return rc;
    if (got != n)
        return meru_err(MERU_ECORRUPT,
                        "read %s at %llu: unexpected end of file (%zu of %zu "
                        "bytes)",
                        f->path, (unsigned long long)off, got, n);
    return MERU_OK;
}

int meru_file_map(meru_file *f, uint64_t size, const void **out)
{
    *out = NULL;
    if (!f->fs->ops->map || !f->fs->ops->unmap)
        return MERU_ENOTSUP;
    if (size == 0)
        return meru_err(MERU_EINVAL, "map %s: empty range", f->path);
    return f->fs->ops->map(f, size, out);
}

void meru_fs_unmap(meru_fs *fs, const void *p, uint64_t size)
{
    if (p)
        fs->ops->unmap(fs, p, size);
}

void meru_fs_release_map(meru_fs *fs, const void *p, uint64_t off,
                         uint64_t len)
{
    if (p && len && fs->ops->release)
        fs->ops->release(fs, p, off, len);
}

int meru_fs_exists(meru_fs *fs, const char *path, int *out)
{
    meru_fs_info st;
    int rc = meru_fs_stat(fs, path, &st);
    if (rc == MERU_NOT_FOUND) {
        *out = 0;
        return MERU_OK;
    }
    if (rc)
        return rc;
    *out = 1;
    return MERU_OK;
}

/* mkdir of one component; an existing directory is success. A directory
 * made here is made durable: its parent is synced, or a power cut could
 * take it away with every file later created (and synced) in it. */
static int mkdir_one(meru_fs *fs, const char *path)
{
    meru_fs_info st;
    int rc = meru_fs_stat(fs, path, &st);
    if (rc == MERU_OK) {
        if (!st.is_dir)
            return meru_err(MERU_EEXIST,
                            "mkdir %s: exists and is not a directory", path);
        return MERU_OK;
    }
    if (rc != MERU_NOT_FOUND)
        return rc;
    rc = meru_fs_mkdir(fs, path);
    if (rc == MERU_EEXIST) /* created concurrently */
        return MERU_OK;
    if (rc == MERU_OK) {
        char parent[4096];
        rc = meru_path_parent(parent, sizeof parent, path);
        if (rc == MERU_OK)
            rc = meru_fs_sync_dir(fs, parent);
    }
    return rc;
}

int meru_fs_mkdir_p(meru_fs *fs, const char *path)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 1);
    if (!tmp)
        return meru_err(MERU_ENOMEM, "mkdir %s: out of memory", path);
    memcpy(tmp, path, len + 1);
    int rc = MERU_OK;
    for (size_t i = 1; i < len; i++) {
        if (tmp[i] != '/' || tmp[i - 1] == '/')
            continue;
        tmp[i] = '\0';
        rc = mkdir_one(fs, tmp);
        tmp[i] = '/';
        if (rc)
            goto out;
    }
    rc = mkdir_one(fs, tmp);
out:
    free(tmp);
    return rc;
}

typedef struct name_list {
    char **names;
    size_t n, cap;
} name_list;

static int collect_name(void *arg, const char *name)
{
    name_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **nn = realloc(l->names, cap * sizeof *nn);
        if (!nn)
            return meru_err(MERU_ENOMEM, "list: out of memory");
        l->names = nn;
        l->cap = cap;
    }
    char *s = strdup(name);
    if (!s)
        return meru_err(MERU_ENOMEM, "list: out of memory");
    l->names[l->n++] = s;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int meru_fs_list_names(meru_fs *fs, const char *dir, char ***out, size_t *count)
{
    name_list l = {0};
    int rc = meru_fs_list(fs, dir, collect_name, &l);
    if (rc) {
        meru_fs_names_free(l.names, l.n);
        return rc;
    }
    if (l.n > 1)
        qsort(l.names, l.n, sizeof *l.names, cmp_names);
    *out = l.names;
    *count = l.n;
    return MERU_OK;
}

void meru_fs_names_free(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int meru_fs_read_all(meru_fs *fs, const char *path, size_t cap, uint8_t **out,
                     size_t *len)
{
    meru_file *f = NULL;
    uint8_t *buf = NULL;
    uint64_t size;
    size_t got = 0;
    int rc = meru_fs_open(fs, path, MERU_FS_READ, &f);
    if (rc)
        return rc;
    rc = meru_file_size(f, &size);
    if (rc)
        goto fail;
    if (size > cap || size >= SIZE_MAX) {
        rc = meru_err(MERU_ERANGE,
                      "read %s: file is %llu bytes, over the limit of %zu",
                      path, (unsigned long long)size, cap);
        goto fail;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        rc = meru_err(MERU_ENOMEM, "read %s: cannot allocate %llu bytes", path,
                      (unsigned long long)size);
        goto fail;
    }
    /* A file that shrank since the size call just yields fewer bytes. */
    rc = meru_file_pread(f, 0, buf, (size_t)size, &got);
    if (rc)
        goto fail;
    buf[got] = '\0';
    rc = meru_file_close(f);
    f = NULL;
    if (rc)
        goto fail;
    *out = buf;
    *len = got;
    return MERU_OK;
fail:
    free(buf);
    meru_file_close(f);
    return rc;
}

int meru_fs_lock(meru_fs *fs, const char *path, meru_file **out)
{
    meru_file *f;
    int rc = meru_fs_open(fs, path,
                          MERU_FS_READ | MERU_FS_WRITE | MERU_FS_CREATE, &f);
    if (rc)
        return rc;
    rc = meru_file_lock(f);
    if (rc) {
        meru_file_close(f); /* keeps the lock error's message unless it
                               fails itself, which it does not for posix */
        return rc;
    }
    *out = f;
    return MERU_OK;
}

int meru_fs_unlock(meru_file *lock)
{
    return meru_file_close(lock);
}

int meru_path_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    if (dl + (size_t)slash + nl + 1 > cap)
        return meru_err(MERU_ERANGE, "path %s/%s: longer than %zu bytes", dir,
                        name, cap);
    memcpy(out, dir, dl);
    if (slash)
        out[dl] = '/';
    memcpy(out + dl + (size_t)slash, name, nl + 1);
    return MERU_OK;
}

int meru_path_parent(char *out, size_t cap, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') /* "a/b/" is "a/b" */
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    const char *res = path;
    if (n == 0) {
        res = ".";
        n = 1;
    } else {
        while (n > 1 && path[n - 1] == '/')
            n--;
    }
    if (n + 1 > cap)
        return meru_err(MERU_ERANGE, "parent of %s: longer than %zu bytes",
                        path, cap);
    memcpy(out, res, n);
    out[n] = '\0';
    return MERU_OK;
}

int meru_fs_link(meru_fs *fs, const char *from, const char *to)
{
    if (!fs->ops->link)
        return MERU_ENOTSUP;
    return fs->ops->link(fs, from, to);
}
