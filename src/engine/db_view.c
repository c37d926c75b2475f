/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_view.c — reference-counted views (memtables + file list) and the file
 * entries they share, with deferred deletion of obsolete files.
 *
 * Why reference counts and not timers: a scan may run for minutes while
 * flushes and compactions replace files; the file it reads must exist
 * until it lets go, and must disappear soon after (SPEC §4, §7). A file
 * leaves the current version (obsolete = true) but stays on disk while any
 * view lists it; the last unref queues it for deletion after the grace
 * period (gc_grace_seconds) that protects external readers of the previous
 * metadata version.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "util/clock.h"
#include "util/error.h"

int meru_db_file_new(meru_db *db, const meru_catalog_file *meta,
                     meru_db_file **out)
{
    meru_db_file *f = calloc(1, sizeof *f);
    char path[MERU_DB_PATH_MAX];
    int rc;
    if (!f)
        return meru_err(MERU_ENOMEM, "out of memory (file entry)");
    if ((rc = meru_catalog_file_copy(&f->meta, meta))) {
        free(f);
        return rc;
    }
    if ((rc = meru_path_join(path, sizeof path, db->path, meta->path)) ||
        !(f->abs_path = strdup(path))) {
        meru_catalog_file_clear(&f->meta);
        free(f);
        return rc ? rc : meru_err(MERU_ENOMEM, "out of memory (file path)");
    }
    atomic_init(&f->refs, 1);
    atomic_init(&f->suspect, false);
    pthread_mutex_init(&f->open_mu, NULL);
    f->db = db;
    f->schema = meru_db_cur_schema(db);
    f->cache_id = db->row_cache ? meru_cache_new_id(db->row_cache) : 0;
    *out = f;
    return MERU_OK;
}

void meru_db_file_ref(meru_db_file *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

static void queue_delete(meru_db *db, char *abs_path)
{
    uint64_t due = meru_clock_ns() / 1000000u +
                   (uint64_t)db->opts.gc_grace_seconds * 1000u;
    pthread_mutex_lock(&db->mu);
    if (db->ngc == db->gc_cap) {
        size_t cap = db->gc_cap ? db->gc_cap * 2 : 16;
        meru_db_gc *g = realloc(db->gc, cap * sizeof *g);
        if (!g) {
            /* Cannot remember it: leave the file; the orphan sweep at the
             * next open removes it. */
            pthread_mutex_unlock(&db->mu);
            free(abs_path);
            return;
        }
        db->gc = g;
        db->gc_cap = cap;
    }
    db->gc[db->ngc].abs_path = abs_path;
    db->gc[db->ngc].due_ms = due;
    db->ngc++;
    meru_db_wake_workers_locked(db);
    pthread_mutex_unlock(&db->mu);
}

void meru_db_file_unref(meru_db_file *f)
{
    if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (f->sst) {
        meru_sst_close(f->sst);
        atomic_fetch_sub_explicit(&f->db->st_open_files, 1,
                                  memory_order_relaxed);
    }
    if (atomic_load(&f->suspect))
        atomic_fetch_sub(&f->db->nsuspect, 1);
    for (size_t i = 0; i < f->nalts; i++) {
        meru_sst_close(f->alts[i].sst);
        atomic_fetch_sub_explicit(&f->db->st_open_files, 1,
                                  memory_order_relaxed);
    }
    free(f->alts);
    meru_db_file *from = f->moved_from;
    if (f->obsolete && from) {
        /* The file itself goes with its last entry (our reference keeps
         * `from` alive until the unref below, ordered by its refs). */
        from->obsolete = true;
    } else if (f->obsolete && !f->db->read_only) {
        queue_delete(f->db, f->abs_path);
        f->abs_path = NULL;
    }
    free(f->abs_path);
    meru_catalog_file_clear(&f->meta);
    pthread_mutex_destroy(&f->open_mu);
    free(f);
    meru_db_file_unref(from);
}

/* The entry of a file that a trivial move gave another level (meta, its
 * catalog entry now): a new entry, since views made before keep listing
 * `old` at its old level. It reads through the file's first entry (its
 * readers, key directories and cached pages stay; no second open), under
 * the schema the file was read under, with the same row-cache keys (the
 * rows are the same). Pointing at the first entry, not at `old`, lets
 * the entries between go once no view lists them. */
static int file_moved(meru_db *db, meru_db_file *old,
                      const meru_catalog_file *meta, meru_db_file **out)
{
    meru_db_file *f, *owner = meru_db_file_owner(old);
    int rc = meru_db_file_new(db, meta, &f);
    if (rc)
        return rc;
    f->schema = owner->schema;
    f->cache_id = owner->cache_id;
    meru_db_file_ref(owner);
    f->moved_from = owner;
    *out = f;
    return MERU_OK;
}

/* Opens f's file under `schema` (open_mu held) and checks it against its
 * metadata entry: a file that contradicts it becomes suspect for good (its
 * reads fail with the check's message), one that cannot be opened is tried
 * again next time. */
static int open_sst(meru_db_file *f, const meru_schema *schema,
                    meru_sst **out)
{
    if (atomic_load_explicit(&f->suspect, memory_order_relaxed)) {
        *out = NULL;
        return meru_err(MERU_ECORRUPT, "%s", f->bad_msg);
    }
    meru_sst_read_options ro = {f->db->opts.mmap_reads != 0,
                                &f->db->keydir};
    int rc = meru_sst_open_ex(out, f->db->fs, f->abs_path, schema,
                              f->db->cache, &ro);
    if (rc == MERU_OK && (rc = meru_db_file_check(&f->meta, *out))) {
        meru_sst_close(*out);
        snprintf(f->bad_msg, sizeof f->bad_msg, "%s", meru_errmsg());
        atomic_store(&f->suspect, true);
        atomic_fetch_add(&f->db->nsuspect, 1);
    }
    if (rc == MERU_OK) {
        atomic_fetch_add_explicit(&f->db->st_open_files, 1,
                                  memory_order_relaxed);
    } else {
        *out = NULL;
        /* A file the table lists must exist: its absence is damage,
         * never "key not found". */
        if (rc == MERU_NOT_FOUND)
            rc = meru_err(MERU_ECORRUPT, "data file %s is missing",
                          f->meta.path);
    }
    return rc;
}

int meru_db_file_sst(meru_db_file *f, meru_sst **out)
{
    f = meru_db_file_owner(f); /* the readers are the first entry's */
    int rc = MERU_OK;
    /* Opened already (every get after the first): no lock, so gets from
     * several threads do not take turns on open_mu. */
    meru_sst *t = atomic_load_explicit(&f->sst, memory_order_acquire);
    if (t && !atomic_load_explicit(&f->suspect, memory_order_acquire)) {
        *out = t;
        return MERU_OK;
    }
    pthread_mutex_lock(&f->open_mu);
    t = atomic_load_explicit(&f->sst, memory_order_relaxed);
    if (atomic_load_explicit(&f->suspect, memory_order_relaxed))
        rc = meru_err(MERU_ECORRUPT, "%s", f->bad_msg);
    else if (!t && (rc = open_sst(f, f->schema, &t)) == MERU_OK)
        atomic_store_explicit(&f->sst, t, memory_order_release);
    *out = t;
    pthread_mutex_unlock(&f->open_mu);
    return rc;
}

int meru_db_file_sst_for(meru_db_file *f, const meru_schema *schema,
                         meru_sst **out)
{
    f = meru_db_file_owner(f);
    if (schema == f->schema)
        return meru_db_file_sst(f, out);
    int rc = MERU_OK;
    size_t i;
    pthread_mutex_lock(&f->open_mu);
    for (i = 0; i < f->nalts && f->alts[i].schema != schema; i++)
        ;
    if (i == f->nalts) {
        struct meru_db_file_alt *na =
            realloc(f->alts, (f->nalts + 1) * sizeof *na);
        if (!na) {
            rc = meru_err(MERU_ENOMEM, "out of memory (file entry)");
        } else {
            f->alts = na;
            na[i].schema = schema;
            if ((rc = open_sst(f, schema, &na[i].sst)) == MERU_OK)
                f->nalts++;
        }
    }
    *out = rc ? NULL : f->alts[i].sst;
    pthread_mutex_unlock(&f->open_mu);
    return rc;
}

void meru_db_open_all_files(meru_db *db)
{
    meru_view *v = meru_db_view_get(db);
    for (size_t i = 0; i < v->nfiles; i++) {
        meru_sst *t;
        if (meru_db_file_sst(v->files[i], &t) ||
            meru_db_file_sst_for(v->files[i], v->schema, &t))
            meru_err_clear(); /* reported by the reads that need it */
    }
    meru_db_view_unref(v);
}

bool meru_db_level_suspect(const meru_view *v, int level)
{
    for (size_t i = v->level_start[level]; i < v->level_start[level + 1]; i++)
        if (meru_db_file_suspect(v->files[i]))
            return true;
    return false;
}

/* ------------------------------------------------------------------ views */

static void view_free(meru_view *v)
{
    meru_memtable_unref(v->mem);
    for (size_t i = 0; i < v->nimm; i++)
        meru_memtable_unref(v->imm[i]);
    for (size_t i = 0; i < v->nfiles; i++)
        meru_db_file_unref(v->files[i]);
    for (size_t i = 0; i < v->nchanges; i++)
        meru_db_file_unref(v->changes[i]);
    free(v->imm);
    free(v->files);
    free(v->changes);
    free(v);
}

meru_view *meru_db_view_get(meru_db *db)
{
    meru_view *v;
    pthread_mutex_lock(&db->mu);
    v = db->view;
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&db->mu);
    return v;
}

/*
 * Pins (issue 11). meru_db_view_get takes db->mu and bumps the view's
 * count: with two threads doing gets, the mutex and the count's line went
 * back and forth between the cores on every get. A pin is a hazard
 * pointer: the get stores the view it read in its own slot, then checks
 * that the view is still current; from then on a replacement cannot free
 * it, because install_view sees the pin and keeps the view (one
 * reference) on db->retired. Whoever unpins a view sees nretired > 0 and
 * releases the retired views no pin holds.
 *
 * Why this is enough (every access below is sequentially consistent):
 *   - pin: store slot = v, then load db->view == v. install: store
 *     db->view = new, then load the slots. If the get's load saw v, it
 *     came before the install's store, so the install's loads come after
 *     the slot store and see the pin.
 *   - unpin: store slot = NULL, then load nretired. install (pinned
 *     case): nretired++, then load the slots, then (still under mu) push
 *     the view. Either the install saw the slot cleared (nothing kept),
 *     or the unpin's load sees the increment and its release, under mu,
 *     runs after the push.
 * A pin never waits for an install, nor an install for a get. An unpin
 * that finds nretired > 0 takes db->mu to release what no pin holds; that
 * happens only while an install is counting or a replaced view is pinned
 * (once per memtable switch or commit, not per get).
 */
static bool view_pinned(meru_db *db, const meru_view *v)
{
    for (size_t i = 0; i < MERU_DB_VIEW_PINS; i++)
        if (atomic_load(&db->view_pins[i].v) == v)
            return true;
    return false;
}

/* The view install_view_locked replaced (mu held): when pinned, the
 * retired list keeps it (a reference of its own). */
static void retire_view_locked(meru_db *db, meru_view *old)
{
    atomic_fetch_add(&db->nretired, 1); /* before the slot loads */
    if (!view_pinned(db, old)) {
        atomic_fetch_sub(&db->nretired, 1);
        return;
    }
    atomic_fetch_add_explicit(&old->refs, 1, memory_order_relaxed);
    old->retired_next = db->retired;
    db->retired = old;
}

void meru_db_view_release_retired(meru_db *db)
{
    meru_view *done = NULL;
    pthread_mutex_lock(&db->mu);
    for (meru_view **p = &db->retired; *p;) {
        meru_view *v = *p;
        if (view_pinned(db, v)) {
            p = &v->retired_next;
            continue;
        }
        *p = v->retired_next;
        v->retired_next = done;
        done = v;
        atomic_fetch_sub(&db->nretired, 1);
    }
    pthread_mutex_unlock(&db->mu);
    /* after unlocking: the last reference to a file takes mu */
    while (done) {
        meru_view *next = done->retired_next;
        meru_db_view_unref(done);
        done = next;
    }
}

static void unpin_slot(meru_db *db, _Atomic(meru_view *) *slot)
{
    atomic_store(slot, NULL);
    if (atomic_load(&db->nretired))
        meru_db_view_release_retired(db);
}

/* Stores v in a free pin slot, the thread's own first, then the next
 * ones (thread numbers only grow, so two live threads 16 apart share a
 * home slot while others are free); NULL when every slot is taken. */
static _Atomic(meru_view *) *claim_pin_slot(meru_db *db, meru_view *v)
{
    size_t home = meru_db_thread_slot();
    for (size_t k = 0; k < MERU_DB_VIEW_PINS; k++) {
        _Atomic(meru_view *) *slot =
            &db->view_pins[(home + k) % MERU_DB_VIEW_PINS].v;
        meru_view *none = NULL;
        if (atomic_compare_exchange_strong(slot, &none, v))
            return slot;
    }
    return NULL;
}

meru_view *meru_db_view_pin(meru_db *db, meru_db_pin *pin)
{
    /* A few tries: each failure is an install between two loads. */
    for (int tries = 0; tries < 4; tries++) {
        meru_view *v = atomic_load(&db->view);
        _Atomic(meru_view *) *slot = v ? claim_pin_slot(db, v) : NULL;
        if (!slot) /* every slot is in a get: a reference instead */
            break;
        if (atomic_load(&db->view) == v) {
            pin->v = v;
            pin->slot = slot;
            return v;
        }
        unpin_slot(db, slot);
    }
    pin->slot = NULL;
    pin->v = meru_db_view_get(db);
    return pin->v;
}

void meru_db_view_unpin(meru_db *db, meru_db_pin *pin)
{
    if (pin->slot)
        unpin_slot(db, pin->slot);
    else
        meru_db_view_unref(pin->v);
    pin->v = NULL;
    pin->slot = NULL;
}

meru_view *meru_db_read_view(meru_db *db, const meru_snapshot *snap)
{
    if (snap && snap->view) {
        atomic_fetch_add_explicit(&snap->view->refs, 1, memory_order_relaxed);
        return snap->view;
    }
    return meru_db_view_get(db);
}

size_t meru_db_memtable_chunk(const meru_db *db)
{
    size_t c = db->opts.memtable_bytes / 16;
    if (c < 4096)
        c = 4096;
    /* 2 MiB: from there on chunks are huge-page backed (util/arena.c). */
    if (c > ((size_t)2 << 20))
        c = (size_t)2 << 20;
    return c;
}

void meru_db_view_unref(meru_view *v)
{
    if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        view_free(v);
}

int meru_db_install_view_locked(meru_db *db, meru_view **old)
{
    meru_view *v = calloc(1, sizeof *v);
    size_t i;
    int level = 0;
    if (!v)
        return meru_err(MERU_ENOMEM, "out of memory (view)");
    v->imm = calloc(db->nimm ? db->nimm : 1, sizeof *v->imm);
    v->files = calloc(db->nfiles ? db->nfiles : 1, sizeof *v->files);
    v->changes = calloc(db->nchanges + 1, sizeof *v->changes);
    if (!v->imm || !v->files || !v->changes) {
        free(v->imm);
        free(v->files);
        free(v->changes);
        free(v);
        return meru_err(MERU_ENOMEM, "out of memory (view)");
    }
    atomic_init(&v->refs, 1);
    v->schema = meru_db_cur_schema(db);
    v->mem = db->mem;
    if (v->mem)
        meru_memtable_ref(v->mem);
    for (i = 0; i < db->nimm; i++) { /* db->imm is oldest first */
        v->imm[i] = db->imm[db->nimm - 1 - i].mem;
        meru_memtable_ref(v->imm[i]);
    }
    v->nimm = db->nimm;
    for (i = 0; i < db->nfiles; i++) {
        v->files[i] = db->files[i];
        meru_db_file_ref(v->files[i]);
    }
    v->nfiles = db->nfiles;
    for (i = 0; i < db->nchanges; i++) {
        v->changes[i] = db->changes[i];
        meru_db_file_ref(v->changes[i]);
    }
    v->nchanges = db->nchanges;
    /* level_start: files are sorted by level. */
    for (i = 0; i < v->nfiles; i++)
        while (level <= v->files[i]->meta.level)
            v->level_start[level++] = i;
    while (level <= MERU_CATALOG_MAX_LEVELS)
        v->level_start[level++] = v->nfiles;
    *old = db->view;
    db->view = v;
    /* After the store (see the pins above): a get that pinned the old
     * view keeps it alive past the caller's unref. */
    if (*old)
        retire_view_locked(db, *old);
    return MERU_OK;
}

/* What sync_list does with an entry of the old list. */
enum { ENTRY_GONE, ENTRY_KEPT, ENTRY_MOVED };

/* Rebuilds *list (n entries) as cf[0..n), reusing the entries that stay;
 * the others are appended to rem[*nrem], marked obsolete unless their
 * file stays at another level (file_moved: a new entry holds them). */
static int sync_list(meru_db *db, const meru_catalog_file *cf, size_t n,
                     meru_db_file ***list, size_t *nlist, meru_db_file **rem,
                     size_t *nrem)
{
    size_t i, j, old = *nlist;
    meru_db_file **nf = calloc(n ? n : 1, sizeof *nf);
    unsigned char *fate = calloc(old ? old : 1, 1);
    int rc = MERU_OK;
    if (!nf || !fate) {
        rc = meru_err(MERU_ENOMEM, "out of memory (file list)");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < old; j++) {
            meru_db_file *o = (*list)[j];
            if (fate[j] != ENTRY_GONE || strcmp(o->meta.path, cf[i].path))
                continue;
            if (o->meta.level == cf[i].level) {
                nf[i] = o;
                fate[j] = ENTRY_KEPT;
            } else if ((rc = file_moved(db, o, &cf[i], &nf[i])) == MERU_OK) {
                fate[j] = ENTRY_MOVED;
            } else {
                goto fail;
            }
            break;
        }
        if (!nf[i] && (rc = meru_db_file_new(db, &cf[i], &nf[i])))
            goto fail;
    }
    for (j = 0; j < old; j++) {
        if (fate[j] == ENTRY_KEPT)
            continue;
        if (fate[j] == ENTRY_GONE) /* no longer part of the table */
            (*list)[j]->obsolete = true;
        rem[(*nrem)++] = (*list)[j];
    }
    free(*list);
    free(fate);
    *list = nf;
    *nlist = n;
    return MERU_OK;
fail:
    if (nf) {
        /* Drop only the entries made here, not the ones carried over. */
        for (i = 0; i < n; i++) {
            bool carried = false;
            for (j = 0; nf[i] && j < old; j++)
                carried |= (*list)[j] == nf[i];
            if (nf[i] && !carried)
                meru_db_file_unref(nf[i]);
        }
    }
    free(nf);
    free(fate);
    return rc;
}

int meru_db_sync_files_locked(meru_db *db, meru_db_file ***removed,
                              size_t *nremoved)
{
    size_t n, nch, nrem = 0;
    const meru_catalog_file *cf = meru_catalog_files(db->cat, &n);
    const meru_catalog_changelog *ch = meru_catalog_changelogs(db->cat, &nch);
    meru_catalog_file *chf = calloc(nch + 1, sizeof *chf);
    meru_db_file **rem = calloc(db->nfiles + db->nchanges + 1, sizeof *rem);
    int rc = MERU_OK;
    if (!rem || !chf) {
        free(rem);
        free(chf);
        return meru_err(MERU_ENOMEM, "out of memory (file list)");
    }
    /* A changelog file as a file entry: refcounted and deleted like one
     * (its keys are empty: it is never probed for keys). */
    for (size_t i = 0; i < nch; i++) {
        chf[i].path = ch[i].path;
        chf[i].file_size = ch[i].file_size;
        chf[i].row_count = ch[i].row_count;
        chf[i].min_seq = ch[i].min_seq;
        chf[i].max_seq = ch[i].max_seq;
    }
    rc = sync_list(db, cf, n, &db->files, &db->nfiles, rem, &nrem);
    if (rc == MERU_OK)
        rc = sync_list(db, chf, nch, &db->changes, &db->nchanges, rem, &nrem);
    if (rc == MERU_OK) /* when the worker expires history (db_changes.c) */
        db->changes_oldest_ms = nch ? ch[0].created_ms : INT64_MAX;
    free(chf);
    /* Also after a failure: the entries already swapped out are the
     * caller's to release. */
    *removed = rem;
    *nremoved = nrem;
    return rc;
}

void meru_db_files_release(meru_db_file **files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        meru_db_file_unref(files[i]);
    free(files);
}

void meru_db_gc_run(meru_db *db, bool force)
{
    uint64_t now = meru_clock_ns() / 1000000u;
    for (;;) {
        char *path = NULL;
        pthread_mutex_lock(&db->mu);
        for (size_t i = 0; i < db->ngc; i++) {
            if (force || db->gc[i].due_ms <= now) {
                path = db->gc[i].abs_path;
                db->gc[i] = db->gc[--db->ngc];
                break;
            }
        }
        pthread_mutex_unlock(&db->mu);
        if (!path)
            return;
        /* A failed delete leaves an orphan the next open sweeps. */
        (void)meru_fs_remove(db->fs, path);
        free(path);
    }
}

int meru_db_publish(meru_db *db, void (*edit)(meru_db *db, void *arg),
                    void *arg)
{
    int rc;
    /* The catalog is read: hold its lock (order: cat_mu, mu). */
    pthread_mutex_lock(&db->cat_mu);
    rc = meru_db_publish_locked(db, edit, arg);
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

int meru_db_publish_locked(meru_db *db, void (*edit)(meru_db *db, void *arg),
                           void *arg)
{
    meru_db_file **removed = NULL;
    size_t nremoved = 0;
    meru_view *old = NULL;
    int rc;
    atomic_store_explicit(&db->meta_version, meru_catalog_version(db->cat),
                          memory_order_relaxed);
    pthread_mutex_lock(&db->mu);
    rc = meru_db_sync_files_locked(db, &removed, &nremoved);
    if (rc == MERU_OK && edit)
        edit(db, arg);
    if (rc == MERU_OK)
        rc = meru_db_install_view_locked(db, &old);
    if (rc)
        meru_db_set_bg_error_locked(db, rc);
    pthread_cond_broadcast(&db->cv_done);
    meru_db_wake_workers_locked(db);
    pthread_mutex_unlock(&db->mu);
    /* The last reference to a removed file queues its deletion (takes mu,
     * never cat_mu): fine with cat_mu held. */
    meru_db_view_unref(old);
    meru_db_files_release(removed, nremoved);
    return rc;
}

int meru_db_imm_reserve_locked(meru_db *db, size_t n)
{
    size_t cap = db->imm_cap ? db->imm_cap : 8;
    meru_db_imm *p;
    if (n <= db->imm_cap)
        return MERU_OK;
    while (cap < n)
        cap *= 2;
    if (!(p = realloc(db->imm, cap * sizeof *p)))
        return meru_err(MERU_ENOMEM, "out of memory (immutable memtables)");
    db->imm = p;
    db->imm_cap = cap;
    return MERU_OK;
}
