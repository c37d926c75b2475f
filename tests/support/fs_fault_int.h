/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_fault_int.h — what fs_fault.c (the meru_fs calls, rules, control API)
 * and fs_fault_state.c (the durability bookkeeping and the crash) share:
 * the fault fs's structures and the bookkeeping's calls. Every call here
 * runs with fs->mu held. Not for tests: they use fs_fault.h.
 */
#ifndef MERU_TEST_FS_FAULT_INT_H
#define MERU_TEST_FS_FAULT_INT_H

#include <pthread.h>
#include <stdint.h>

#include "support/fs_fault.h"

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

/* ---- paths (fs_fault_state.c) ------------------------------------------- */

/* Absolute, lexically normalised copy of p (malloc'd), or NULL on ENOMEM. */
char *fault_norm_path(const char *p);
/* Parent directory of a normalised path (malloc'd). */
char *fault_parent_of(const char *np);
/* MERU_ENOMEM with a message naming what and path. */
int fault_nomem(const char *what, const char *path);
/* A fresh hidden name in directory `dir` (normalised) that does not exist. */
int fault_make_stash(fault_fs *fs, const char *dir, char **out);

/* ---- nodes -------------------------------------------------------------- */

/* The node of normalised path np, or NULL. */
fnode *fault_node_find(fault_fs *fs, const char *np);
/* A new node for np, durable up to durable_len; NULL on ENOMEM. */
fnode *fault_node_new(fault_fs *fs, const char *np, uint64_t durable_len);
/* Moves a node to path p (copied), or marks it gone (p NULL). */
int fault_node_set_path(fnode *n, const char *p);
/* Saves the durable image of n before its first destructive change since
 * its last sync. */
int fault_node_snapshot(fault_fs *fs, fnode *n);

/* ---- the pending directory-operation log -------------------------------- */

/* Frees the strings an op owns. */
void fault_nsop_free(nsop *o);
/* Appends an op; takes ownership of the strings (freed on failure too). */
int fault_log_push(fault_fs *fs, nsop *o);

/* Which pending ops a commit selects: those whose directory is arg, those
 * under arg, or all. */
typedef int (*fault_op_pred)(const nsop *o, const char *arg);
int fault_pred_in_dir(const nsop *o, const char *dir);
int fault_pred_under(const nsop *o, const char *dir);
int fault_pred_all(const nsop *o, const char *arg);
/* Makes durable the ops matching pred and the earlier ops related to them:
 * deletes the stashes they leave behind and drops them from the log. */
void fault_log_commit(fault_fs *fs, fault_op_pred pred, const char *arg);
/* Undoes one pending op on the real files (crash). */
int fault_log_revert(fault_fs *fs, nsop *o);

/* ---- what survives a crash ---------------------------------------------- */

/* Puts one file's contents back to what survives the crash (torn: a random
 * part of the unsynced tail too, drawn from *rng). */
int fault_restore_node(fault_fs *fs, fnode *n, int torn, uint64_t *rng);

#endif
