/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_fault_state.c — the fault fs's durability bookkeeping (fs_fault.h
 * gives the model, fs_fault.c's top comment the data structures): path
 * normalisation, the per-file nodes and their durable images, the log of
 * directory operations not yet durable (what a sync_dir commits), and the
 * undoing of it all that a crash performs. fs_fault.c has the meru_fs
 * calls, the fault rules and the control API over them.
 */
#include "support/fs_fault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* ---- paths --------------------------------------------------------------- */

/* Absolute, lexically normalised copy of p (malloc'd), or NULL on ENOMEM. */
char *fault_norm_path(const char *p)
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
char *fault_parent_of(const char *np)
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

int fault_nomem(const char *what, const char *path)
{
    return meru_err(MERU_ENOMEM, "%s %s: out of memory", what, path);
}

/* A fresh hidden name in directory `dir` (normalised) that does not exist. */
int fault_make_stash(fault_fs *fs, const char *dir, char **out)
{
    for (;;) {
        size_t n = strlen(dir) + sizeof(STASH_PREFIX) + 48;
        char *s = malloc(n);
        if (!s)
            return fault_nomem("stash in", dir);
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

fnode *fault_node_find(fault_fs *fs, const char *np)
{
    for (fnode *n = fs->nodes; n; n = n->next)
        if (n->path && !strcmp(n->path, np))
            return n;
    return NULL;
}

fnode *fault_node_new(fault_fs *fs, const char *np, uint64_t durable_len)
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
int fault_node_set_path(fnode *n, const char *p)
{
    char *c = NULL;
    if (!n)
        return MERU_OK;
    if (p && !(c = strdup(p)))
        return fault_nomem("rename", p);
    free(n->path);
    n->path = c;
    return MERU_OK;
}

static void nodes_gone_under(fault_fs *fs, const char *dir)
{
    for (fnode *n = fs->nodes; n; n = n->next)
        if (is_under(n->path, dir))
            fault_node_set_path(n, NULL);
}

/* Saves the durable image of n before its first destructive change since
 * its last sync. */
int fault_node_snapshot(fault_fs *fs, fnode *n)
{
    if (n->snap || n->durable_len == 0)
        return MERU_OK;
    if (n->durable_len > SIZE_MAX)
        return meru_err(MERU_ENOMEM, "fault fs: %s too large to snapshot",
                        n->path);
    uint8_t *img = calloc(1, (size_t)n->durable_len);
    if (!img)
        return fault_nomem("snapshot", n->path);
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

void fault_nsop_free(nsop *o)
{
    free(o->path);
    free(o->from);
    free(o->stash);
    free(o->dir1);
    free(o->dir2);
}

/* Appends an op; takes ownership of the strings (freed on failure too). */
int fault_log_push(fault_fs *fs, nsop *o)
{
    if (!o->dir1 || (o->kind == NS_RENAME && !o->dir2)) {
        fault_nsop_free(o);
        return fault_nomem("fault fs", "log");
    }
    if (fs->nlog == fs->caplog) {
        size_t cap = fs->caplog ? fs->caplog * 2 : 16;
        nsop *nl = realloc(fs->log, cap * sizeof *nl);
        if (!nl) {
            fault_nsop_free(o);
            return fault_nomem("fault fs", "log");
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

/* Which pending ops a commit selects (fault_log_commit). */
int fault_pred_in_dir(const nsop *o, const char *dir)
{
    return !strcmp(o->dir1, dir) || (o->dir2 && !strcmp(o->dir2, dir));
}

int fault_pred_under(const nsop *o, const char *dir)
{
    return is_under(o->path, dir) || is_under(o->from, dir) ||
           is_under(o->stash, dir);
}

int fault_pred_all(const nsop *o, const char *arg)
{
    return 1;
}

/* Makes durable the ops matching pred and the earlier ops related to them:
 * deletes the stashes they leave behind and drops them from the log. */
void fault_log_commit(fault_fs *fs, fault_op_pred pred, const char *arg)
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
            fault_node_set_path(o->node, NULL);
        } else if (o->kind == NS_RENAME && o->stash) {
            meru_fs_remove(fs->under, o->stash);
            fault_node_set_path(o->stash_node, NULL);
        }
        fault_nsop_free(o);
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
                rc = fault_nomem("remove", path);
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
int fault_log_revert(fault_fs *fs, nsop *o)
{
    int rc = MERU_OK;
    switch (o->kind) {
    case NS_CREATE:
        rc = meru_fs_remove(fs->under, o->path);
        if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
        fault_node_set_path(o->node, NULL);
        break;
    case NS_MKDIR:
        rc = rm_rf(fs->under, o->path);
        nodes_gone_under(fs, o->path);
        break;
    case NS_RENAME:
        rc = meru_fs_rename(fs->under, o->path, o->from);
        if (!rc)
            rc = fault_node_set_path(o->node, o->from);
        if (!rc && o->stash) {
            rc = meru_fs_rename(fs->under, o->stash, o->path);
            if (!rc)
                rc = fault_node_set_path(o->stash_node, o->path);
        }
        break;
    case NS_REMOVE:
        rc = meru_fs_rename(fs->under, o->stash, o->path);
        if (!rc)
            rc = fault_node_set_path(o->node, o->path);
        break;
    case NS_RMDIR:
        rc = meru_fs_mkdir(fs->under, o->path);
        break;
    }
    return rc;
}

/* ---- what survives a crash ---------------------------------------------- */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Puts one file's contents back to what survives the crash. */
int fault_restore_node(fault_fs *fs, fnode *n, int torn, uint64_t *rng)
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
