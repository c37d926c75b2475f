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
 */
#include "support/fs_fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

#define STASH_PREFIX ".meru-fault-"

typedef struct fnode {
    char *path; /* NULL once the file is gone for good */
    uint64_t durable_len;
    uint8_t *snap; /* durable image [0, durable_len), or NULL */
    struct fnode *next;
} fnode;

typedef enum ns_kind {
    NS_CREATE,
    NS_MKDIR,
    NS_RENAME,
    NS_REMOVE,
    NS_RMDIR
} ns_kind;

typedef struct nsop {
    ns_kind kind;
    char *path;        /* the entry; for rename the destination */
    char *from;        /* rename: the source */
    char *stash;       /* remove: the entry's hidden name; rename: where the
                          replaced destination went (or NULL) */
    fnode *node;       /* the file created/renamed/removed, if known */
    fnode *stash_node; /* rename: the replaced file, if known */
    char *dir1, *dir2; /* syncing either makes it durable (dir2 may be NULL) */
} nsop;

typedef struct rule {
    int op;
    int short_write;
    int err;
    char *substr;
    uint64_t nth, seen;
    struct rule *next;
} rule;

typedef struct ffile {
    meru_file base;
    meru_file *inner; /* NULL once a crash invalidated the handle */
    fnode *node;      /* set for writable or created files */
    struct ffile *prev, *next;
} ffile;

typedef struct fault_fs {
    meru_fs base;
    meru_fs *under;
    pthread_mutex_t mu;
    fnode *nodes;
    nsop *log;
    size_t nlog, caplog;
    rule *rules;
    ffile *files; /* open handles, to invalidate at a crash */
    uint64_t counts[MERU_FS_OP_COUNT];
    uint64_t total;
    int die_armed;
    uint64_t die_left;
    uint64_t stash_seq;
} fault_fs;

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

/* ---- paths --------------------------------------------------------------- */

/* Absolute, lexically normalised copy of p (malloc'd), or NULL on ENOMEM. */
static char *norm_path(const char *p)
{
    char cwd[4096];
    size_t plen = strlen(p), clen = 0;
    if (p[0] != '/') {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        clen = strlen(cwd);
    }
    char *src = malloc(clen + plen + 2);
    char *out = malloc(clen + plen + 2);
    if (!src || !out) {
        free(src);
        free(out);
        return NULL;
    }
    memcpy(src, cwd, clen);
    src[clen] = '/';
    memcpy(src + clen + 1, p, plen + 1);
    size_t o = 0;
    char *s = src;
    while (*s) {
        while (*s == '/')
            s++;
        char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* nothing */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the slash too */
        } else {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(src);
    return out;
}

/* Parent directory of a normalised path (malloc'd). */
static char *parent_of(const char *np)
{
    const char *slash = strrchr(np, '/');
    size_t n = slash && slash != np ? (size_t)(slash - np) : 1;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, np, n);
        d[n] = '\0';
    }
    return d;
}

static int is_under(const char *p, const char *dir)
{
    size_t n = strlen(dir);
    return p && strncmp(p, dir, n) == 0 && (p[n] == '/' || dir[n - 1] == '/');
}

static int nomem(const char *what, const char *path)
{
    return meru_err(MERU_ENOMEM, "%s %s: out of memory", what, path);
}

/* A fresh hidden name in directory `dir` (normalised) that does not exist. */
static int make_stash(fault_fs *fs, const char *dir, char **out)
{
    for (;;) {
        size_t n = strlen(dir) + sizeof(STASH_PREFIX) + 48;
        char *s = malloc(n);
        if (!s)
            return nomem("stash in", dir);
        snprintf(s, n, "%s/%s%ld-%llu", strcmp(dir, "/") ? dir : "",
                 STASH_PREFIX, (long)getpid(),
                 (unsigned long long)++fs->stash_seq);
        meru_fs_info st;
        int rc = meru_fs_stat(fs->under, s, &st);
        if (rc == MERU_NOT_FOUND) {
            meru_err_clear(); /* the answer wanted, not a failure */
            *out = s;
            return MERU_OK;
        }
        free(s);
        if (rc)
            return rc;
    }
}

/* ---- nodes --------------------------------------------------------------- */

static fnode *node_find(fault_fs *fs, const char *np)
{
    for (fnode *n = fs->nodes; n; n = n->next)
        if (n->path && !strcmp(n->path, np))
            return n;
    return NULL;
}

static fnode *node_new(fault_fs *fs, const char *np, uint64_t durable_len)
{
    fnode *n = calloc(1, sizeof *n);
    if (!n || !(n->path = strdup(np))) {
        free(n);
        return NULL;
    }
    n->durable_len = durable_len;
    n->next = fs->nodes;
    fs->nodes = n;
    return n;
}

/* Moves a node to path p (copied), or marks it gone (p NULL). */
static int node_set_path(fnode *n, const char *p)
{
    char *c = NULL;
    if (!n)
        return MERU_OK;
    if (p && !(c = strdup(p)))
        return nomem("rename", p);
    free(n->path);
    n->path = c;
    return MERU_OK;
}

static void nodes_gone_under(fault_fs *fs, const char *dir)
{
    for (fnode *n = fs->nodes; n; n = n->next)
        if (is_under(n->path, dir))
            node_set_path(n, NULL);
}

/* Saves the durable image of n before its first destructive change since
 * its last sync. */
static int node_snapshot(fault_fs *fs, fnode *n)
{
    if (n->snap || n->durable_len == 0)
        return MERU_OK;
    if (n->durable_len > SIZE_MAX)
        return meru_err(MERU_ENOMEM, "fault fs: %s too large to snapshot",
                        n->path);
    uint8_t *img = calloc(1, (size_t)n->durable_len);
    if (!img)
        return nomem("snapshot", n->path);
    meru_file *f;
    size_t got;
    int rc = meru_fs_open(fs->under, n->path, MERU_FS_READ, &f);
    if (rc == MERU_OK) {
        rc = meru_file_pread(f, 0, img, (size_t)n->durable_len, &got);
        meru_file_close(f);
    }
    if (rc) {
        free(img);
        return rc;
    }
    n->snap = img;
    return MERU_OK;
}

/* ---- the pending directory-operation log --------------------------------- */

static void nsop_free(nsop *o)
{
    free(o->path);
    free(o->from);
    free(o->stash);
    free(o->dir1);
    free(o->dir2);
}

/* Appends an op; takes ownership of the strings (freed on failure too). */
static int log_push(fault_fs *fs, nsop *o)
{
    if (!o->dir1 || (o->kind == NS_RENAME && !o->dir2)) {
        nsop_free(o);
        return nomem("fault fs", "log");
    }
    if (fs->nlog == fs->caplog) {
        size_t cap = fs->caplog ? fs->caplog * 2 : 16;
        nsop *nl = realloc(fs->log, cap * sizeof *nl);
        if (!nl) {
            nsop_free(o);
            return nomem("fault fs", "log");
        }
        fs->log = nl;
        fs->caplog = cap;
    }
    fs->log[fs->nlog++] = *o;
    return MERU_OK;
}

typedef struct taint {
    const fnode *nodes[64];
    const char *paths[96];
    size_t nn, np;
    int overflow; /* too many keys: treat everything as related */
} taint;

static int taint_has_node(const taint *t, const fnode *n)
{
    for (size_t i = 0; n && i < t->nn; i++)
        if (t->nodes[i] == n)
            return 1;
    return 0;
}

static int taint_has_path(const taint *t, const char *p)
{
    for (size_t i = 0; p && i < t->np; i++)
        if (!strcmp(t->paths[i], p))
            return 1;
    return 0;
}

static int op_related(const taint *t, const nsop *o)
{
    return t->overflow || taint_has_node(t, o->node) ||
           taint_has_node(t, o->stash_node) || taint_has_path(t, o->path) ||
           taint_has_path(t, o->from) || taint_has_path(t, o->stash);
}

static void taint_add(taint *t, const nsop *o)
{
    const fnode *ns[2] = {o->node, o->stash_node};
    const char *ps[3] = {o->path, o->from, o->stash};
    for (int i = 0; i < 2; i++) {
        if (!ns[i] || taint_has_node(t, ns[i]))
            continue;
        if (t->nn == sizeof t->nodes / sizeof t->nodes[0])
            t->overflow = 1;
        else
            t->nodes[t->nn++] = ns[i];
    }
    for (int i = 0; i < 3; i++) {
        if (!ps[i] || taint_has_path(t, ps[i]))
            continue;
        if (t->np == sizeof t->paths / sizeof t->paths[0])
            t->overflow = 1;
        else
            t->paths[t->np++] = ps[i];
    }
}

typedef int (*op_pred)(const nsop *o, const char *arg);

static int pred_in_dir(const nsop *o, const char *dir)
{
    return !strcmp(o->dir1, dir) || (o->dir2 && !strcmp(o->dir2, dir));
}

static int pred_under(const nsop *o, const char *dir)
{
    return is_under(o->path, dir) || is_under(o->from, dir) ||
           is_under(o->stash, dir);
}

static int pred_all(const nsop *o, const char *arg)
{
    return 1;
}

/* Makes durable the ops matching pred and the earlier ops related to them:
 * deletes the stashes they leave behind and drops them from the log. */
static void log_commit(fault_fs *fs, op_pred pred, const char *arg)
{
    if (fs->nlog == 0)
        return;
    taint t;
    t.nn = t.np = 0;
    t.overflow = 0;
    unsigned char *sel = calloc(fs->nlog, 1);
    for (size_t i = fs->nlog; i-- > 0;) {
        nsop *o = &fs->log[i];
        /* Without memory for the mark array, commit everything: still a
         * state a real file system could reach. */
        if (!sel || pred(o, arg) || op_related(&t, o)) {
            if (sel)
                sel[i] = 1;
            taint_add(&t, o);
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < fs->nlog; i++) {
        nsop *o = &fs->log[i];
        if (sel && !sel[i]) {
            fs->log[keep++] = *o;
            continue;
        }
        if (o->kind == NS_REMOVE) {
            meru_fs_remove(fs->under, o->stash);
            node_set_path(o->node, NULL);
        } else if (o->kind == NS_RENAME && o->stash) {
            meru_fs_remove(fs->under, o->stash);
            node_set_path(o->stash_node, NULL);
        }
        nsop_free(o);
    }
    fs->nlog = keep;
    free(sel);
}

/* rm -rf on the underlying fs. */
static int rm_rf(meru_fs *under, const char *path)
{
    meru_fs_info st;
    int rc = meru_fs_stat(under, path, &st);
    if (rc)
        return rc == MERU_NOT_FOUND ? MERU_OK : rc;
    if (st.is_dir) {
        char **names = NULL;
        size_t n = 0;
        rc = meru_fs_list_names(under, path, &names, &n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !rc; i++) {
            size_t len = strlen(path) + strlen(names[i]) + 2;
            char *sub = malloc(len);
            if (!sub) {
                rc = nomem("remove", path);
                break;
            }
            snprintf(sub, len, "%s/%s", path, names[i]);
            rc = rm_rf(under, sub);
            free(sub);
        }
        meru_fs_names_free(names, n);
        if (rc)
            return rc;
    }
    return meru_fs_remove(under, path);
}

/* Undoes one pending op on the real files (crash). */
static int log_revert(fault_fs *fs, nsop *o)
{
    int rc = MERU_OK;
    switch (o->kind) {
    case NS_CREATE:
        rc = meru_fs_remove(fs->under, o->path);
        if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
        node_set_path(o->node, NULL);
        break;
    case NS_MKDIR:
        rc = rm_rf(fs->under, o->path);
        nodes_gone_under(fs, o->path);
        break;
    case NS_RENAME:
        rc = meru_fs_rename(fs->under, o->path, o->from);
        if (!rc)
            rc = node_set_path(o->node, o->from);
        if (!rc && o->stash) {
            rc = meru_fs_rename(fs->under, o->stash, o->path);
            if (!rc)
                rc = node_set_path(o->stash_node, o->path);
        }
        break;
    case NS_REMOVE:
        rc = meru_fs_rename(fs->under, o->stash, o->path);
        if (!rc)
            rc = node_set_path(o->node, o->path);
        break;
    case NS_RMDIR:
        rc = meru_fs_mkdir(fs->under, o->path);
        break;
    }
    return rc;
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
    if (!(np = norm_path(path))) {
        rc = nomem("open", path);
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
        rc = nomem("open", path);
        goto fail;
    }
    f->base.fs = mfs;
    f->inner = inner;
    if (created || (flags & MERU_FS_WRITE)) {
        fnode *n = node_find(fs, np);
        if (n && created) { /* deleted behind our back: a new file */
            node_set_path(n, NULL);
            n = NULL;
        }
        if (!n) {
            uint64_t size = 0;
            if (!created && (rc = meru_file_size(inner, &size)))
                goto fail;
            if (!(n = node_new(fs, np, size))) {
                rc = nomem("open", path);
                goto fail;
            }
        }
        f->node = n;
    }
    if (created) {
        nsop o = {.kind = NS_CREATE, .node = f->node};
        o.path = strdup(np);
        o.dir1 = parent_of(np);
        if (!o.path) {
            free(o.dir1);
            o.dir1 = NULL;
        }
        if ((rc = log_push(fs, &o)))
            goto fail;
    }
    if ((flags & MERU_FS_TRUNC) && (flags & MERU_FS_WRITE) && f->node) {
        if ((rc = node_snapshot(fs, f->node)) ||
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
        (rc = node_snapshot(fs, f->node)))
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
        rc = node_snapshot(fs, f->node);
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
    if (!rc && !(nd = norm_path(dir)))
        rc = nomem("fsync dir", dir);
    if (!rc)
        rc = meru_fs_sync_dir(fs->under, dir);
    if (!rc)
        log_commit(fs, pred_in_dir, nd);
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
    nf = norm_path(from);
    nt = norm_path(to);
    if (!nf || !nt) {
        rc = nomem("rename", from);
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
        char *dir = parent_of(nt);
        rc = dir ? make_stash(fs, dir, &stash) : nomem("rename", to);
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
    fnode *moved = node_find(fs, nf), *replaced = node_find(fs, nt);
    nsop o = {.kind = NS_RENAME, .node = moved, .stash_node = replaced};
    o.path = nt;
    o.from = nf;
    o.stash = stash;
    o.dir1 = parent_of(nf);
    o.dir2 = parent_of(nt);
    nt = nf = stash = NULL; /* owned by the log entry now */
    if ((rc = node_set_path(replaced, o.stash)) ||
        (rc = node_set_path(moved, o.path))) {
        nsop_free(&o);
        goto out;
    }
    rc = log_push(fs, &o);
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
    if (!(np = norm_path(path)) || !(dir = parent_of(np))) {
        rc = nomem("remove", path);
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
        log_commit(fs, pred_under, np); /* deletes the stashes inside */
        if ((rc = meru_fs_remove(fs->under, path)))
            goto out;
        nsop o = {.kind = NS_RMDIR, .path = np, .dir1 = dir};
        np = dir = NULL;
        rc = log_push(fs, &o);
        goto out;
    }
    if ((rc = make_stash(fs, dir, &stash)) ||
        (rc = meru_fs_rename(fs->under, path, stash)))
        goto out;
    fnode *n = node_find(fs, np);
    if ((rc = node_set_path(n, stash))) {
        meru_fs_rename(fs->under, stash, path);
        goto out;
    }
    nsop o = {
        .kind = NS_REMOVE, .path = np, .stash = stash, .node = n, .dir1 = dir};
    np = stash = dir = NULL;
    rc = log_push(fs, &o);
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
    if (!rc && !(np = norm_path(path)))
        rc = nomem("mkdir", path);
    if (!rc)
        rc = meru_fs_mkdir(fs->under, path);
    if (!rc) {
        nsop o = {.kind = NS_MKDIR, .path = np, .dir1 = parent_of(np)};
        np = NULL;
        rc = log_push(fs, &o);
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
    log_commit(fs, pred_all, NULL);
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

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Puts one file's contents back to what survives the crash. */
static int restore_node(fault_fs *fs, fnode *n, int torn, uint64_t *rng)
{
    meru_file *f = NULL;
    meru_fs_info st;
    int rc;
    if (n->snap) {
        rc =
            meru_fs_open(fs->under, n->path, MERU_FS_WRITE | MERU_FS_TRUNC, &f);
        if (!rc)
            rc = meru_file_append(f, n->snap, (size_t)n->durable_len);
        free(n->snap);
        n->snap = NULL;
        goto out;
    }
    rc = meru_fs_stat(fs->under, n->path, &st);
    if (rc || st.size == n->durable_len)
        goto out;
    uint64_t keep = n->durable_len;
    if (torn && st.size > keep)
        keep += next_rand(rng) % (st.size - keep + 1);
    rc = meru_fs_open(fs->under, n->path, MERU_FS_WRITE, &f);
    if (!rc)
        rc = meru_file_truncate(f, keep);
    n->durable_len = keep;
out:
    if (f) {
        int crc = meru_file_close(f);
        if (!rc)
            rc = crc;
    }
    return rc;
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
        int r = restore_node(fs, n, torn, &rng);
        if (r && !rc)
            rc = r;
    }
    for (size_t i = fs->nlog; i-- > 0;) {
        int r = log_revert(fs, &fs->log[i]);
        if (r && !rc)
            rc = r;
        nsop_free(&fs->log[i]);
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
