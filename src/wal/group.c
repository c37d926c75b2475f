/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.c — the group-commit queue (protocol in group.h).
 *
 * Locking: `mu` protects every field below it in struct meru_wal_group and
 * the `done`/`rc`/`taken`/`next` fields of queued waiters. One condition
 * variable `cv` serves every wait; every state change that can make a
 * predicate true is followed by a broadcast under `mu`, and every wait is a
 * loop over its predicate, so a wake-up cannot be lost (SPEC §8). The
 * leader drops `mu` only while `leader_active` is set; while it is set no
 * other thread writes, swaps the writer, or frees the queue.
 *
 * Waiters live on their threads' stacks; a waiter is only touched by others
 * while it is queued, and it stays queued until it is marked done.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "wal/group.h"

typedef struct waiter {
    const void *rec;
    size_t len;
    int sync;
    void *arg;
    int done;
    int taken; /* in a group being written by a leader */
    int rc;
    struct waiter *next;
} waiter;

struct meru_wal_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* -- protected by mu -- */
    meru_wal_writer *w;
    waiter *head, *tail;
    int leader_active;
    int swap_pending;
    int closed;
    int failed;
    unsigned inside; /* threads inside commit / swap */
    meru_wal_group_stats st;
    char failmsg[MERU_ERRMSG_CAP];
    /* -- fixed after new (prepare: before the first commit) -- */
    meru_sync_mode mode;
    size_t max_bytes;
    meru_wal_apply_fn apply;
    meru_wal_prepare_fn prepare;
    void *ctx;
    /* -- used only by the active leader -- */
    meru_wal_slice *slices;
    size_t slices_cap;
};

int meru_wal_group_new(meru_wal_group **out, meru_wal_writer *w,
                       meru_sync_mode mode, size_t max_group_bytes,
                       meru_wal_apply_fn apply, void *ctx)
{
    meru_wal_group *g;
    *out = NULL;
    if (mode != MERU_SYNC_NONE && mode != MERU_SYNC_GROUP &&
        mode != MERU_SYNC_EVERY)
        return meru_err(MERU_EINVAL, "wal group: unknown sync mode %d",
                        (int)mode);
    g = calloc(1, sizeof *g);
    if (!g)
        return meru_err(MERU_ENOMEM, "wal group: allocating the queue");
    if (pthread_mutex_init(&g->mu, NULL)) {
        free(g);
        return meru_err(MERU_ENOMEM, "wal group: creating a mutex");
    }
    if (pthread_cond_init(&g->cv, NULL)) {
        pthread_mutex_destroy(&g->mu);
        free(g);
        return meru_err(MERU_ENOMEM, "wal group: creating a condition");
    }
    g->w = w;
    g->mode = mode;
    g->max_bytes =
        max_group_bytes ? max_group_bytes : MERU_WAL_GROUP_DEFAULT_BYTES;
    g->apply = apply;
    g->ctx = ctx;
    *out = g;
    return 0;
}

void meru_wal_group_set_prepare(meru_wal_group *g, meru_wal_prepare_fn fn)
{
    pthread_mutex_lock(&g->mu);
    g->prepare = fn;
    pthread_mutex_unlock(&g->mu);
}

static int sticky_error(meru_wal_group *g)
{
    if (g->closed)
        return meru_err(MERU_ECLOSED, "wal group: the log is closed");
    return meru_err(MERU_EFAILED,
                    "wal group: writes stopped by an earlier "
                    "failure: %s",
                    g->failmsg);
}

/* Leader, without mu: writes, syncs and applies members first..last. */
static int write_group(meru_wal_group *g, meru_wal_writer *w, waiter *first,
                       waiter *last, size_t n, int sync)
{
    size_t i = 0;
    int rc;
    if (n > g->slices_cap) {
        size_t cap = n < 64 ? 64 : n * 2;
        meru_wal_slice *s = realloc(g->slices, cap * sizeof *s);
        if (!s)
            return meru_err(MERU_ENOMEM, "wal group: allocating a group");
        g->slices = s;
        g->slices_cap = cap;
    }
    for (waiter *m = first;; m = m->next) {
        if (g->prepare)
            g->prepare(g->ctx, m->rec, m->len, m->arg);
        g->slices[i].data = m->rec;
        g->slices[i].len = m->len;
        i++;
        if (m == last)
            break;
    }
    rc = meru_wal_writer_add_many(w, g->slices, n);
    if (!rc && sync)
        rc = meru_wal_writer_sync(w);
    if (rc || !g->apply)
        return rc;
    for (waiter *m = first;; m = m->next) {
        rc = g->apply(g->ctx, m->rec, m->len, m->arg);
        if (rc || m == last)
            break;
    }
    return rc;
}

int meru_wal_group_commit(meru_wal_group *g, const void *rec, size_t len,
                          int sync, void *arg)
{
    waiter me = {rec, len, sync, arg, 0, 0, 0, NULL};
    waiter *last;
    size_t n = 1, bytes = len;
    int need_sync, rc;
    meru_wal_writer *w;

    pthread_mutex_lock(&g->mu);
    if (g->closed || g->failed) {
        rc = sticky_error(g);
        pthread_mutex_unlock(&g->mu);
        return rc;
    }
    g->inside++;
    if (g->tail)
        g->tail->next = &me;
    else
        g->head = &me;
    g->tail = &me;
    while (!me.done &&
           !(g->head == &me && !g->leader_active && !g->swap_pending))
        pthread_cond_wait(&g->cv, &g->mu);
    if (me.done)
        goto finish;
    if (g->failed || g->closed) {
        /* Failed or closed while we waited at the head: not written. */
        me.rc = g->closed ? MERU_ECLOSED : MERU_EFAILED;
        g->head = me.next;
        if (!g->head)
            g->tail = NULL;
        pthread_cond_broadcast(&g->cv);
        goto finish;
    }

    /* Leader: take the group. */
    g->leader_active = 1;
    me.taken = 1;
    need_sync = g->mode != MERU_SYNC_NONE || sync;
    last = &me;
    if (g->mode != MERU_SYNC_EVERY) {
        while (last->next && bytes + last->next->len <= g->max_bytes) {
            last = last->next;
            last->taken = 1;
            bytes += last->len;
            need_sync |= last->sync;
            n++;
        }
    }
    w = g->w;
    pthread_mutex_unlock(&g->mu);

    rc = write_group(g, w, &me, last, n, need_sync);

    pthread_mutex_lock(&g->mu);
    g->st.records += n;
    g->st.groups++;
    if (need_sync)
        g->st.syncs++;
    if (n > g->st.max_group)
        g->st.max_group = n;
    if (rc && !g->failed) {
        g->failed = rc;
        snprintf(g->failmsg, sizeof g->failmsg, "%s", meru_errmsg());
    }
    g->head = last->next;
    if (!g->head)
        g->tail = NULL;
    for (waiter *m = &me;;) {
        waiter *next = m->next;
        m->rc = rc;
        m->done = 1;
        if (m == last)
            break;
        m = next;
    }
    g->leader_active = 0;
    pthread_cond_broadcast(&g->cv);

finish:
    rc = me.rc;
    if (rc == MERU_ECLOSED)
        meru_err(rc, "wal group: the log was closed before the write");
    else if (rc == MERU_EFAILED && !g->failed)
        rc = meru_err(MERU_EINTERNAL, "wal group: failed without a cause");
    else if (rc == MERU_EFAILED)
        sticky_error(g);
    else if (rc)
        /* A member of the failing group: the original error. */
        meru_err(rc, "%s", g->failmsg);
    g->inside--;
    if (g->inside == 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

typedef struct swap_args {
    meru_wal_writer *next, *old;
} swap_args;

static int swap_fn(void *ctx, meru_wal_writer *old, meru_wal_writer **nw)
{
    swap_args *a = ctx;
    a->old = old;
    *nw = a->next;
    return MERU_OK;
}

int meru_wal_group_swap_writer(meru_wal_group *g, meru_wal_writer *w,
                               meru_wal_writer **old)
{
    swap_args a = {w, NULL};
    int rc = meru_wal_group_rotate(g, swap_fn, &a);
    if (rc == MERU_OK)
        *old = a.old;
    return rc;
}

int meru_wal_group_rotate(meru_wal_group *g, meru_wal_rotate_fn fn, void *ctx)
{
    meru_wal_writer *nw = NULL;
    int rc = 0;
    pthread_mutex_lock(&g->mu);
    if (g->closed || g->failed || g->swap_pending) {
        rc = g->closed || g->failed
                 ? sticky_error(g)
                 : meru_err(MERU_EBUSY, "wal group: a swap is running");
        pthread_mutex_unlock(&g->mu);
        return rc;
    }
    g->swap_pending = 1;
    g->inside++;
    while (g->leader_active)
        pthread_cond_wait(&g->cv, &g->mu);
    /* No leader runs and none can start until swap_pending clears: fn
     * closes the old segment and opens the next one, and the engine
     * switches its memtable here, so every record of the old segment went
     * to the old memtable and every later one goes to the new one. */
    rc = fn(ctx, g->w, &nw);
    if (rc == 0) {
        g->w = nw;
    } else if (!g->failed) {
        g->failed = rc;
        snprintf(g->failmsg, sizeof g->failmsg, "%s", meru_errmsg());
    }
    g->swap_pending = 0;
    g->inside--;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

void meru_wal_group_stats_get(meru_wal_group *g, meru_wal_group_stats *out)
{
    pthread_mutex_lock(&g->mu);
    *out = g->st;
    pthread_mutex_unlock(&g->mu);
}

void meru_wal_group_close(meru_wal_group *g)
{
    waiter **pp;
    pthread_mutex_lock(&g->mu);
    g->closed = 1;
    /* Fail every waiter no leader has taken; keep the taken ones (the
     * running leader's group) queued until it marks them done. */
    pp = &g->head;
    g->tail = NULL;
    while (*pp) {
        waiter *m = *pp;
        if (m->taken) {
            g->tail = m;
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        m->next = NULL;
        m->rc = MERU_ECLOSED;
        m->done = 1;
    }
    pthread_cond_broadcast(&g->cv);
    while (g->leader_active || g->inside > 0)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

void meru_wal_group_free(meru_wal_group *g)
{
    if (!g)
        return;
    meru_wal_group_close(g);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g->slices);
    free(g);
}
