/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_fault.c — fault-injecting, crash-simulating meru_fs (see fs_fault.h
 * for the durability model it implements).
 *
 * Bookkeeping:
 *  - fnode: one per file the fault fs has seen written or created, with its
 *    current normalised path (NULL once the file is really gone), the
 *    length that is durable, and — only after an overwrite or shrink below
 *    that length since the last sync — a copy of the durable image. Pure
 *    appends, the common case, cost nothing: a crash just truncates.
 *    Nodes live until the fs is freed (handles and log entries point at
 *    them).
 *  - nsop: the log of directory operations not yet durable, oldest first.
 *    Each names the directories whose sync makes it durable. A removed or
 *    replaced entry is renamed to a hidden stash name beside it, so undoing
 *    the removal is a rename back; the stash is deleted when the removal
 *    becomes durable.
 *  - Paths in the bookkeeping are absolute and lexically normalised
 *    ("a//b/./c" == "$PWD/a/b/c"); symlinks are not resolved.
 * Invariant: undoing the pending log latest-first on the real files
 * reproduces the durable namespace. sync_dir keeps it by committing, along
 * with the operations in the synced directory, every earlier pending
 * operation that shares a file or a path with them.
 *
 * One mutex (mu) guards everything in fault_fs and the nodes; it is held
 * across the real I/O, which serialises the fs — fine for tests.
 *
 * The structures are in fs_fault_int.h; the paths, nodes, log and crash
 * restore in fs_fault_state.c; this file has the meru_fs calls over them,
 * the call accounting and fault rules, and the control API.
 */
#include "support/fs_fault_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

static const meru_fs_ops fault_ops;

static const char *const op_names[MERU_FS_OP_COUNT] = {
    "open",   "close",     "pread",    "append", "pwrite",   "size",
    "sync",   "sync_full", "truncate", "lock",   "sync_dir", "rename",
    "remove", "mkdir",     "list",     "stat"};

const char *meru_fs_op_name(meru_fs_op op)
{
    return (unsigned)op < MERU_FS_OP_COUNT ? op_names[op] : "?";
}

static fault_fs *as_fault(meru_fs *fs)
{
    return fs && fs->ops == &fault_ops ? (fault_fs *)fs : NULL;
}

/* ---- call accounting, death, rules --------------------------------------- */

static const char *op_verb(meru_fs_op op)
{
    switch (op) {
    case MERU_FS_OP_PREAD:
        return "read";
    case MERU_FS_OP_PWRITE:
        return "write";
    case MERU_FS_OP_SIZE:
        return "stat";
    case MERU_FS_OP_SYNC:
        return "fdatasync";
    case MERU_FS_OP_SYNC_FULL:
        return "fsync";
    case MERU_FS_OP_SYNC_DIR:
        return "fsync dir";
    default:
        return meru_fs_op_name(op);
    }
}

/*
 * Accounts for one call and decides whether it fails: process death, a
 * handle from before a crash, or a rule. *short_write (append/pwrite only)
 * is set when a short-write rule fires; the caller then writes half and
 * fails. Called with mu held.
 */
static int begin(fault_fs *fs, meru_fs_op op, const char *path,
                 const char *path2, const ffile *f, int *short_write)
{
    fs->counts[op]++;
    fs->total++;
    if (fs->die_armed) {
        if (fs->die_left == 0)
            return meru_err(MERU_EIO, "%s %s: process is dead (simulated)",
                            op_verb(op), path);
        fs->die_left--;
    }
    if (f && !f->inner)
        return meru_err(MERU_EIO,
                        "%s %s: handle invalidated by a simulated crash",
                        op_verb(op), path);
    for (rule *r = fs->rules; r; r = r->next) {
        int op_match = r->short_write ? (op == MERU_FS_OP_APPEND ||
                                         op == MERU_FS_OP_PWRITE)
                                      : r->op == (int)op;
        if (!op_match)
            continue;
        if (r->substr && !strstr(path, r->substr) &&
            !(path2 && strstr(path2, r->substr)))
            continue;
        r->seen++;
        if (r->nth != 0 && r->seen != r->nth)
            continue;
        if (r->short_write && short_write) {
            *short_write = 1;
            return MERU_OK;
        }
        return meru_err(meru_status_from_errno(r->err), "%s %s: %s (injected)",
                        op_verb(op), path, strerror(r->err));
    }
    return MERU_OK;
}

/* ---- file operations ----------------------------------------------------- */

static int ff_open(meru_fs *mfs, const char *path, unsigned flags,
                   meru_file **out)
{
    fault_fs *fs = (fault_fs *)mfs;
    meru_file *inner = NULL;
    ffile *f = NULL;
    char *np = NULL;
    int created = 0;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_OPEN, path, NULL, NULL, NULL);
    if (rc)
        goto fail;
    if (!(np = fault_norm_path(path))) {
        rc = fault_nomem("open", path);
        goto fail;
    }
    if (flags & MERU_FS_CREATE) {
        meru_fs_info st;
        rc = meru_fs_stat(fs->under, path, &st);
        if (rc && rc != MERU_NOT_FOUND)
            goto fail;
        created = rc == MERU_NOT_FOUND;
    }
    /* TRUNC is applied below through our truncate, which keeps the durable
     * image of an existing file. */
    rc =
        meru_fs_open(fs->under, path, flags & ~(unsigned)MERU_FS_TRUNC, &inner);
    if (rc)
        goto fail;
    f = calloc(1, sizeof *f);
    if (!f || !(f->base.path = strdup(path))) {
        rc = fault_nomem("open", path);
        goto fail;
    }
    f->base.fs = mfs;
    f->inner = inner;
    if (created || (flags & MERU_FS_WRITE)) {
        fnode *n = fault_node_find(fs, np);
        if (n && created) { /* deleted behind our back: a new file */
            fault_node_set_path(n, NULL);
            n = NULL;
        }
        if (!n) {
            uint64_t size = 0;
            if (!created && (rc = meru_file_size(inner, &size)))
                goto fail;
            if (!(n = fault_node_new(fs, np, size))) {
                rc = fault_nomem("open", path);
                goto fail;
            }
        }
        f->node = n;
    }
    if (created) {
        nsop o = {.kind = NS_CREATE, .node = f->node};
        o.path = strdup(np);
        o.dir1 = fault_parent_of(np);
        if (!o.path) {
            free(o.dir1);
            o.dir1 = NULL;
        }
        if ((rc = fault_log_push(fs, &o)))
            goto fail;
    }
    if ((flags & MERU_FS_TRUNC) && (flags & MERU_FS_WRITE) && f->node) {
        if ((rc = fault_node_snapshot(fs, f->node)) ||
            (rc = meru_file_truncate(inner, 0)))
            goto fail;
    }
    f->next = fs->files;
    if (fs->files)
        fs->files->prev = f;
    fs->files = f;
    pthread_mutex_unlock(&fs->mu);
    free(np);
    *out = &f->base;
    return MERU_OK;
fail:
    if (f)
        free(f->base.path);
    free(f);
    meru_file_close(inner);
    pthread_mutex_unlock(&fs->mu);
    free(np);
    return rc;
}

static int ff_close(meru_file *mf)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    int rc = MERU_OK;
    pthread_mutex_lock(&fs->mu);
    fs->counts[MERU_FS_OP_CLOSE]++;
    fs->total++;
    if (fs->die_armed && fs->die_left > 0) /* a step, but never fails */
        fs->die_left--;
    if (f->prev)
        f->prev->next = f->next;
    else
        fs->files = f->next;
    if (f->next)
        f->next->prev = f->prev;
    if (f->inner)
        rc = meru_file_close(f->inner);
    pthread_mutex_unlock(&fs->mu);
    free(mf->path);
    free(f);
    return rc;
}

static int ff_pread(meru_file *mf, uint64_t off, void *buf, size_t n,
                    size_t *nread)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    *nread = 0;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_PREAD, mf->path, NULL, f, NULL);
    if (!rc)
        rc = meru_file_pread(f->inner, off, buf, n, nread);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

/* append (off == UINT64_MAX) or pwrite, with the short-write rule. */
static int ff_write(meru_file *mf, meru_fs_op op, uint64_t off, const void *buf,
                    size_t n)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    int short_write = 0;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, op, mf->path, NULL, f, &short_write);
    if (rc)
        goto out;
    /* An append lands at or past the durable length (a shrink below it
     * snapshots first), so only pwrite can overwrite durable bytes. */
    if (op == MERU_FS_OP_PWRITE && f->node && off < f->node->durable_len &&
        (rc = fault_node_snapshot(fs, f->node)))
        goto out;
    size_t len = short_write ? n / 2 : n;
    if (len || !short_write)
        rc = op == MERU_FS_OP_APPEND
                 ? meru_file_append(f->inner, buf, len)
                 : meru_file_pwrite(f->inner, off, buf, len);
    if (!rc && short_write)
        rc = meru_err(MERU_ENOSPC,
                      "%s %s: %s (injected short write: %zu of %zu bytes "
                      "written)",
                      op_verb(op), mf->path, strerror(ENOSPC), len, n);
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_append(meru_file *mf, const void *buf, size_t n)
{
    return ff_write(mf, MERU_FS_OP_APPEND, 0, buf, n);
}

static int ff_pwrite(meru_file *mf, uint64_t off, const void *buf, size_t n)
{
    return ff_write(mf, MERU_FS_OP_PWRITE, off, buf, n);
}

static int ff_size(meru_file *mf, uint64_t *out)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_SIZE, mf->path, NULL, f, NULL);
    if (!rc)
        rc = meru_file_size(f->inner, out);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_sync_common(meru_file *mf, meru_fs_op op)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, op, mf->path, NULL, f, NULL);
    if (rc)
        goto out;
    rc = op == MERU_FS_OP_SYNC ? meru_file_sync(f->inner)
                               : meru_file_sync_full(f->inner);
    if (rc || !f->node)
        goto out;
    uint64_t size;
    if ((rc = meru_file_size(f->inner, &size)))
        goto out;
    f->node->durable_len = size;
    free(f->node->snap);
    f->node->snap = NULL;
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_sync(meru_file *mf)
{
    return ff_sync_common(mf, MERU_FS_OP_SYNC);
}

static int ff_sync_full(meru_file *mf)
{
    return ff_sync_common(mf, MERU_FS_OP_SYNC_FULL);
}

static int ff_truncate(meru_file *mf, uint64_t size)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_TRUNCATE, mf->path, NULL, f, NULL);
    if (!rc && f->node && size < f->node->durable_len)
        rc = fault_node_snapshot(fs, f->node);
    if (!rc)
        rc = meru_file_truncate(f->inner, size);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_lock(meru_file *mf)
{
    ffile *f = (ffile *)mf;
    fault_fs *fs = (fault_fs *)mf->fs;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_LOCK, mf->path, NULL, f, NULL);
    if (!rc)
        rc = meru_file_lock(f->inner);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

/* ---- namespace operations ------------------------------------------------ */

static int ff_sync_dir(meru_fs *mfs, const char *dir)
{
    fault_fs *fs = (fault_fs *)mfs;
    char *nd = NULL;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_SYNC_DIR, dir, NULL, NULL, NULL);
    if (!rc && !(nd = fault_norm_path(dir)))
        rc = fault_nomem("fsync dir", dir);
    if (!rc)
        rc = meru_fs_sync_dir(fs->under, dir);
    if (!rc)
        fault_log_commit(fs, fault_pred_in_dir, nd);
    pthread_mutex_unlock(&fs->mu);
    free(nd);
    return rc;
}

static int ff_rename(meru_fs *mfs, const char *from, const char *to)
{
    fault_fs *fs = (fault_fs *)mfs;
    char *nf = NULL, *nt = NULL, *stash = NULL;
    meru_fs_info st;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_RENAME, from, to, NULL, NULL);
    if (rc)
        goto out;
    nf = fault_norm_path(from);
    nt = fault_norm_path(to);
    if (!nf || !nt) {
        rc = fault_nomem("rename", from);
        goto out;
    }
    if (meru_fs_stat(fs->under, from, &st) != MERU_OK) {
        rc = meru_fs_rename(fs->under, from, to); /* fails, with its message */
        goto out;
    }
    if (st.is_dir) {
        rc = meru_err(MERU_ENOTSUP,
                      "rename %s -> %s: the fault fs does not model renaming "
                      "directories",
                      from, to);
        goto out;
    }
    if (!strcmp(nf, nt))
        goto out; /* rename(2) of a file onto itself does nothing */
    rc = meru_fs_stat(fs->under, to, &st);
    if (rc == MERU_OK && st.is_dir) {
        rc = meru_fs_rename(fs->under, from, to); /* EISDIR */
        goto out;
    }
    if (rc == MERU_OK) {
        char *dir = fault_parent_of(nt);
        rc =
            dir ? fault_make_stash(fs, dir, &stash) : fault_nomem("rename", to);
        free(dir);
        if (rc || (rc = meru_fs_rename(fs->under, to, stash)))
            goto out;
    } else if (rc != MERU_NOT_FOUND) {
        goto out;
    }
    rc = meru_fs_rename(fs->under, from, to);
    if (rc) {
        if (stash)
            meru_fs_rename(fs->under, stash, to);
        goto out;
    }
    fnode *moved = fault_node_find(fs, nf), *replaced = fault_node_find(fs, nt);
    nsop o = {.kind = NS_RENAME, .node = moved, .stash_node = replaced};
    o.path = nt;
    o.from = nf;
    o.stash = stash;
    o.dir1 = fault_parent_of(nf);
    o.dir2 = fault_parent_of(nt);
    nt = nf = stash = NULL; /* owned by the log entry now */
    if ((rc = fault_node_set_path(replaced, o.stash)) ||
        (rc = fault_node_set_path(moved, o.path))) {
        fault_nsop_free(&o);
        goto out;
    }
    rc = fault_log_push(fs, &o);
out:
    pthread_mutex_unlock(&fs->mu);
    free(nf);
    free(nt);
    free(stash);
    return rc;
}

static int count_visible(void *arg, const char *name)
{
    if (strncmp(name, STASH_PREFIX, sizeof(STASH_PREFIX) - 1) != 0)
        (*(size_t *)arg)++;
    return 0;
}

static int ff_remove(meru_fs *mfs, const char *path)
{
    fault_fs *fs = (fault_fs *)mfs;
    char *np = NULL, *stash = NULL, *dir = NULL;
    meru_fs_info st;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_REMOVE, path, NULL, NULL, NULL);
    if (rc)
        goto out;
    if (!(np = fault_norm_path(path)) || !(dir = fault_parent_of(np))) {
        rc = fault_nomem("remove", path);
        goto out;
    }
    if (meru_fs_stat(fs->under, path, &st) != MERU_OK) {
        rc = meru_fs_remove(fs->under, path); /* fails, with its message */
        goto out;
    }
    if (st.is_dir) {
        size_t visible = 0;
        if ((rc = meru_fs_list(fs->under, path, count_visible, &visible)))
            goto out;
        if (visible) {
            rc = meru_err_errno(ENOTEMPTY, "remove %s", path);
            goto out;
        }
        /* deletes the stashes inside */
        fault_log_commit(fs, fault_pred_under, np);
        if ((rc = meru_fs_remove(fs->under, path)))
            goto out;
        nsop o = {.kind = NS_RMDIR, .path = np, .dir1 = dir};
        np = dir = NULL;
        rc = fault_log_push(fs, &o);
        goto out;
    }
    if ((rc = fault_make_stash(fs, dir, &stash)) ||
        (rc = meru_fs_rename(fs->under, path, stash)))
        goto out;
    fnode *n = fault_node_find(fs, np);
    if ((rc = fault_node_set_path(n, stash))) {
        meru_fs_rename(fs->under, stash, path);
        goto out;
    }
    nsop o = {
        .kind = NS_REMOVE, .path = np, .stash = stash, .node = n, .dir1 = dir};
    np = stash = dir = NULL;
    rc = fault_log_push(fs, &o);
out:
    pthread_mutex_unlock(&fs->mu);
    free(np);
    free(stash);
    free(dir);
    return rc;
}

static int ff_mkdir(meru_fs *mfs, const char *path)
{
    fault_fs *fs = (fault_fs *)mfs;
    char *np = NULL;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_MKDIR, path, NULL, NULL, NULL);
    if (!rc && !(np = fault_norm_path(path)))
        rc = fault_nomem("mkdir", path);
    if (!rc)
        rc = meru_fs_mkdir(fs->under, path);
    if (!rc) {
        nsop o = {.kind = NS_MKDIR, .path = np, .dir1 = fault_parent_of(np)};
        np = NULL;
        rc = fault_log_push(fs, &o);
    }
    pthread_mutex_unlock(&fs->mu);
    free(np);
    return rc;
}

static int collect_visible(void *arg, const char *name)
{
    meru_buf *b = arg; /* NUL-separated names */
    if (strncmp(name, STASH_PREFIX, sizeof(STASH_PREFIX) - 1) == 0)
        return 0;
    return meru_buf_append(b, name, strlen(name) + 1);
}

static int ff_list(meru_fs *mfs, const char *dir, meru_fs_list_fn fn, void *arg)
{
    fault_fs *fs = (fault_fs *)mfs;
    meru_buf names = {0};
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_LIST, dir, NULL, NULL, NULL);
    if (!rc)
        rc = meru_fs_list(fs->under, dir, collect_visible, &names);
    pthread_mutex_unlock(&fs->mu);
    /* The callback runs unlocked, so it may use this fs (remove an entry). */
    for (size_t i = 0; !rc && i < names.len;) {
        const char *name = (const char *)names.data + i;
        i += strlen(name) + 1;
        rc = fn(arg, name);
    }
    meru_buf_free(&names);
    return rc;
}

static int ff_stat(meru_fs *mfs, const char *path, meru_fs_info *out)
{
    fault_fs *fs = (fault_fs *)mfs;
    pthread_mutex_lock(&fs->mu);
    int rc = begin(fs, MERU_FS_OP_STAT, path, NULL, NULL, NULL);
    if (!rc)
        rc = meru_fs_stat(fs->under, path, out);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static void ff_destroy(meru_fs *mfs)
{
    fault_fs *fs = (fault_fs *)mfs;
    fault_log_commit(fs, fault_pred_all, NULL);
    free(fs->log);
    for (fnode *n = fs->nodes, *next; n; n = next) {
        next = n->next;
        free(n->path);
        free(n->snap);
        free(n);
    }
    meru_fs_fault_clear(mfs);
    /* Every handle must be closed before this; one still open is leaked. */
    pthread_mutex_destroy(&fs->mu);
    free(fs);
}

static const meru_fs_ops fault_ops = {
    .open = ff_open,
    .close = ff_close,
    .pread = ff_pread,
    .append = ff_append,
    .pwrite = ff_pwrite,
    .size = ff_size,
    .sync = ff_sync,
    .sync_full = ff_sync_full,
    .truncate = ff_truncate,
    .lock = ff_lock,
    .sync_dir = ff_sync_dir,
    .rename = ff_rename,
    .remove = ff_remove,
    .mkdir = ff_mkdir,
    .list = ff_list,
    .stat = ff_stat,
    .destroy = ff_destroy,
};

/* ---- control API --------------------------------------------------------- */

int meru_fs_fault_new(meru_fs **out, meru_fs *base)
{
    fault_fs *fs = calloc(1, sizeof *fs);
    if (!fs)
        return meru_err(MERU_ENOMEM, "fault fs: out of memory");
    if (pthread_mutex_init(&fs->mu, NULL) != 0) {
        free(fs);
        return meru_err(MERU_ENOMEM, "fault fs: cannot create mutex");
    }
    fs->base.ops = &fault_ops;
    fs->under = base;
    *out = &fs->base;
    return MERU_OK;
}

static int add_rule(meru_fs *mfs, int op, int short_write, const char *substr,
                    uint64_t nth, int err)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs || op < 0 || op >= MERU_FS_OP_COUNT)
        return meru_err(MERU_EINVAL, "fault inject: not a fault fs or bad op");
    rule *r = calloc(1, sizeof *r);
    if (!r || (substr && !(r->substr = strdup(substr)))) {
        free(r);
        return meru_err(MERU_ENOMEM, "fault inject: out of memory");
    }
    r->op = op;
    r->short_write = short_write;
    r->nth = nth;
    r->err = err;
    pthread_mutex_lock(&fs->mu);
    rule **tail = &fs->rules; /* first-installed rules are checked first */
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    pthread_mutex_unlock(&fs->mu);
    return MERU_OK;
}

int meru_fs_fault_inject(meru_fs *fs, meru_fs_op op, const char *path_substr,
                         uint64_t nth, int err)
{
    return add_rule(fs, (int)op, 0, path_substr, nth, err ? err : EIO);
}

int meru_fs_fault_inject_short_write(meru_fs *fs, const char *path_substr,
                                     uint64_t nth)
{
    return add_rule(fs, MERU_FS_OP_APPEND, 1, path_substr, nth, ENOSPC);
}

void meru_fs_fault_clear(meru_fs *mfs)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs)
        return;
    pthread_mutex_lock(&fs->mu);
    for (rule *r = fs->rules, *n; r; r = n) {
        n = r->next;
        free(r->substr);
        free(r);
    }
    fs->rules = NULL;
    pthread_mutex_unlock(&fs->mu);
}

uint64_t meru_fs_fault_count(meru_fs *mfs, meru_fs_op op)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs || (unsigned)op >= MERU_FS_OP_COUNT)
        return 0;
    pthread_mutex_lock(&fs->mu);
    uint64_t v = fs->counts[op];
    pthread_mutex_unlock(&fs->mu);
    return v;
}

uint64_t meru_fs_fault_total(meru_fs *mfs)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs)
        return 0;
    pthread_mutex_lock(&fs->mu);
    uint64_t v = fs->total;
    pthread_mutex_unlock(&fs->mu);
    return v;
}

void meru_fs_fault_reset_counts(meru_fs *mfs)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs)
        return;
    pthread_mutex_lock(&fs->mu);
    memset(fs->counts, 0, sizeof fs->counts);
    fs->total = 0;
    pthread_mutex_unlock(&fs->mu);
}

void meru_fs_fault_die_after(meru_fs *mfs, uint64_t nops)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs)
        return;
    pthread_mutex_lock(&fs->mu);
    fs->die_armed = 1;
    fs->die_left = nops;
    pthread_mutex_unlock(&fs->mu);
}

static int crash(meru_fs *mfs, int torn, uint64_t seed)
{
    fault_fs *fs = as_fault(mfs);
    if (!fs)
        return meru_err(MERU_EINVAL, "fault crash: not a fault fs");
    uint64_t rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    int rc = MERU_OK;
    pthread_mutex_lock(&fs->mu);
    /* The process died: its descriptors (and flock locks) are gone. */
    for (ffile *f = fs->files; f; f = f->next) {
        meru_file_close(f->inner);
        f->inner = NULL;
    }
    for (fnode *n = fs->nodes; n; n = n->next) {
        if (!n->path)
            continue;
        int r = fault_restore_node(fs, n, torn, &rng);
        if (r && !rc)
            rc = r;
    }
    for (size_t i = fs->nlog; i-- > 0;) {
        int r = fault_log_revert(fs, &fs->log[i]);
        if (r && !rc)
            rc = r;
        fault_nsop_free(&fs->log[i]);
    }
    fs->nlog = 0;
    fs->die_armed = 0;
    pthread_mutex_unlock(&fs->mu);
    if (rc)
        return meru_err_wrap(rc, "fault crash");
    return MERU_OK;
}

int meru_fs_fault_crash(meru_fs *fs)
{
    return crash(fs, 0, 0);
}

int meru_fs_fault_crash_torn(meru_fs *fs, uint64_t seed)
{
    return crash(fs, 1, seed);
}
