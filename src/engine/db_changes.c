/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_changes.c — the change feed (SPEC §10): changelog files written at
 * flush, their retention, and the iterator over them and the memtables.
 *
 * Where the history is:
 *  - Flushed changes live in changelog files (changes/<uuid>.parquet,
 *    format in changes/changelog.h), one per flush, committed in the same
 *    catalog commit as the flush's L0 file. The flush's one lookup of the
 *    older versions of its keys (shared with the Iceberg view's deletion
 *    vectors, under cat_mu) gives the pre-images; the file is written and
 *    made durable without cat_mu (meru_db_changes_write), and only the
 *    commit that names it takes the lock again. A crash before the commit
 *    leaves an orphan that the sweep at open removes; WAL replay
 *    re-flushes those records and writes their changelog again.
 *  - Unflushed changes are the memtables' entries (a read-only handle
 *    replays the WAL into its own). Their kinds and pre-images are computed
 *    when read, by a get at seq - 1 over the iterator's pinned view: valid
 *    because memtables are never compacted, and compaction keeps the newest
 *    version of every key in the files (it drops a tombstone only where
 *    nothing older remains, which reads the same: no live row).
 *
 * The catalog's floor F says every change above F is available: changelog
 * files cover (F, last flushed sequence], memtables the rest. Retention
 * (changes_retention_seconds / _bytes) drops whole files at each flush
 * commit, at open, and from a worker when the oldest file leaves the
 * window (meru_db_changes_due_locked: idle tables too), raising F to the
 * newest sequence dropped; with the
 * feed off (0 seconds) nothing is written and F follows the last flushed
 * sequence. Dropped files leave like compacted data files: committed out,
 * then deleted once no view (no iterator) holds them.
 *
 * Consistency: an iterator takes, under cat_mu, the floor, the visible
 * sequence and a view (changelog files + memtables + data files). A flush
 * publishes its L0 file, its changelog file and the memtable's removal in
 * one step, so a view never sees a change twice or misses one, and a bound
 * at the visible sequence keeps batches whole.
 */
#include <stdlib.h>
#include <string.h>

#include "changes/changelog.h"
#include "engine/db_internal.h"
#include "engine/options.h"
#include "types/keycodec.h"
#include "util/clock.h"
#include "util/error.h"

bool meru_db_feed_on(const meru_options *o)
{
    return o->changes_retention_seconds > 0;
}

/* ------------------------------------------------------------- commit */

bool meru_db_changes_kept(meru_db *db, const meru_options *o)
{
    /* A changelog file holds the table's columns twice (rows and
     * pre-images): a table too wide for that (over ~2046 columns) keeps no
     * history, as with the feed off (the floor follows the flushes, so the
     * feed claims nothing it lacks), instead of failing every flush. */
    const meru_schema *ts = meru_db_cur_schema(db);
    return meru_db_feed_on(o) &&
           2 + 2 * ts->ncols - ts->nkey <= (size_t)MERU_MAX_COLUMNS;
}

int meru_db_changes_write(meru_db *db, const meru_options *o,
                          const meru_schema *table,
                          const meru_changelog_set *set, uint64_t trim,
                          meru_catalog_changelog *out, char **written)
{
    char uuid[MERU_UUID_TEXT], rel[128], abs[MERU_DB_PATH_MAX],
        dir[MERU_DB_PATH_MAX];
    meru_schema *cl = NULL;
    meru_changelog_meta meta;
    meru_sst_options so;
    bool made = false; /* the file exists: removed on failure */
    int rc;

    memset(out, 0, sizeof *out);
    *written = NULL;
    if ((rc = meru_catalog_new_uuid(uuid)))
        goto out;
    snprintf(rel, sizeof rel, "changes/%s.parquet", uuid);
    if ((rc = meru_path_join(abs, sizeof abs, db->path, rel)) ||
        (rc = meru_path_parent(dir, sizeof dir, abs)) ||
        (rc = meru_fs_mkdir_p(db->fs, dir)) ||
        (rc = meru_changelog_schema(table, &cl)))
        goto out;
    meru_sst_options_for_level(&so, 0, o);
    so.pq.row_group_bytes = meru_changelog_row_group_bytes(o->memtable_bytes,
                                                           so.pq.page_size);
    /* Changes at or below `trim` lie under the floor: left out. */
    if ((rc = meru_changelog_write(db->fs, abs, table, cl, set, trim,
                                   &so, &meta)))
        goto out;
    if (!meta.rows) /* nothing changed (deletes of absent keys only) */
        goto out;
    made = true;
    if (!(*written = strdup(abs)) || !(out->path = strdup(rel))) {
        rc = meru_err(MERU_ENOMEM, "out of memory (changelog)");
        goto out;
    }
    /* Durable before any commit names it: the file (synced by the writer)
     * and its directory entry. */
    if ((rc = meru_fs_sync_dir(db->fs, dir)))
        goto out;
    out->file_size = meta.file_size;
    out->row_count = meta.rows;
    out->min_seq = meta.min_seq;
    out->max_seq = meta.max_seq;
    out->created_ms = meru_clock_unix_ms();
out:
    if (rc) {
        meru_err_saved e;
        meru_err_save(&e);
        if (made)
            (void)meru_fs_remove(db->fs, abs);
        meru_err_restore(&e);
        free(*written);
        *written = NULL;
        free(out->path);
        memset(out, 0, sizeof *out);
    }
    meru_schema_free(cl);
    return rc ? meru_err_wrap(rc, "change feed") : MERU_OK;
}

void meru_db_changes_lost(meru_db *db, uint64_t seq)
{
    uint64_t cur = atomic_load(&db->changes_lost);
    while (cur < seq && !atomic_compare_exchange_weak(&db->changes_lost, &cur,
                                                      seq))
        ;
}

/* The feed's history up to `lost` is gone (recovery found records
 * missing): the floor rises to it, and every changelog file that reaches
 * down to it goes (a file straddling the gap would claim a history with a
 * hole: the floor then rises to its end). Returns that floor, 0 when no
 * records were lost above the floor or last_seq does not cover them yet
 * (the floor never passes the last sequence). cat_mu held. */
static uint64_t lost_floor(meru_db *db, uint64_t last_seq)
{
    size_t n;
    const meru_catalog_changelog *ch = meru_catalog_changelogs(db->cat, &n);
    uint64_t lost = atomic_load(&db->changes_lost);
    if (lost <= meru_catalog_changes_floor(db->cat) || last_seq < lost)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ch[i].min_seq <= lost && ch[i].max_seq > lost)
            lost = ch[i].max_seq;
    return lost;
}

uint64_t meru_db_changes_trim(meru_db *db, const meru_options *o,
                              uint64_t last_seq)
{
    return meru_db_changes_kept(db, o) ? lost_floor(db, last_seq) : 0;
}

int meru_db_changes_commit(meru_db *db, const meru_options *o,
                           const meru_catalog_changelog *add,
                           uint64_t last_seq, meru_catalog_edit *e,
                           bool *used)
{
    size_t n;
    const meru_catalog_changelog *ch = meru_catalog_changelogs(db->cat, &n);
    uint64_t floor = meru_catalog_changes_floor(db->cat), added = 0;
    uint64_t total = 0, new_floor = floor;
    int64_t now = meru_clock_unix_ms();
    bool on = meru_db_changes_kept(db, o);
    int rc;

    if (used)
        *used = false;
    if (on) {
        uint64_t lf = lost_floor(db, last_seq);
        if (lf) {
            /* The history up to lf goes; this commit's changelog was
             * written without the changes at or below it
             * (meru_db_changes_trim); retention at the next commit, over
             * what is left. */
            for (size_t i = 0; i < n; i++)
                if (ch[i].min_seq <= lf &&
                    (rc = meru_catalog_edit_remove_changelog(e, ch[i].path)))
                    return rc;
            meru_catalog_edit_set_changes_floor(e, lf);
            if (add && add->path) {
                if (add->min_seq <= lf)
                    return meru_err(MERU_EINVAL,
                                    "change feed: changelog %s reaches "
                                    "down to the lost sequence %llu",
                                    add->path, (unsigned long long)lf);
                if ((rc = meru_catalog_edit_add_changelog(e, add)))
                    return rc;
                if (used)
                    *used = true;
            }
            return MERU_OK;
        }
        if (add && add->path) {
            if ((rc = meru_catalog_edit_add_changelog(e, add)))
                return rc;
            if (used)
                *used = true;
            added = add->file_size;
        }
    } else {
        /* Off: no history is kept, only the memtables' changes. */
        for (size_t i = 0; i < n; i++)
            if ((rc = meru_catalog_edit_remove_changelog(e, ch[i].path)))
                return rc;
        if (last_seq > new_floor)
            new_floor = last_seq;
        if (new_floor > floor)
            meru_catalog_edit_set_changes_floor(e, new_floor);
        return MERU_OK;
    }
    for (size_t i = 0; i < n; i++)
        total += ch[i].file_size;
    total += added;
    /* Oldest first, while a file is too old or the total too big. */
    for (size_t i = 0; i < n; i++) {
        bool old = meru_db_changes_expired(o, ch[i].created_ms, now);
        /* By bytes only while a newer file stays: the newest history is
         * kept whatever its size. */
        bool big = o->changes_retention_bytes &&
                   total > o->changes_retention_bytes &&
                   (i + 1 < n || added > 0);
        if (!old && !big)
            break;
        if ((rc = meru_catalog_edit_remove_changelog(e, ch[i].path)))
            return rc;
        total -= ch[i].file_size;
        new_floor = ch[i].max_seq;
    }
    if (new_floor > floor)
        meru_catalog_edit_set_changes_floor(e, new_floor);
    return MERU_OK;
}

bool meru_db_changes_expired(const meru_options *o, int64_t created_ms,
                             int64_t now_ms)
{
    uint64_t age_ms = now_ms > created_ms ? (uint64_t)(now_ms - created_ms) : 0;
    return age_ms / 1000 >= o->changes_retention_seconds;
}

bool meru_db_changes_due_locked(meru_db *db, uint64_t now_ms,
                                uint64_t *due_ms)
{
    const meru_options *o = &db->opts;
    int64_t oldest = db->changes_oldest_ms, wall;
    uint64_t ret = o->changes_retention_seconds;
    *due_ms = UINT64_MAX;
    if (db->read_only || !db->nchanges || oldest == INT64_MAX)
        return false;
    if (!meru_db_changes_kept(db, o))
        return true; /* off: the history goes at once */
    wall = meru_clock_unix_ms();
    if (meru_db_changes_expired(o, oldest, wall))
        return true;
    /* Not yet: due when the oldest file reaches the window's age (on the
     * monotonic clock the workers wait by; a wall-clock jump moves it,
     * and the next look corrects it). */
    if (ret > (uint64_t)INT64_MAX / 1000 ||
        oldest > INT64_MAX - (int64_t)(ret * 1000))
        return false;
    *due_ms = now_ms + (uint64_t)(oldest + (int64_t)(ret * 1000) - wall);
    return false;
}

int meru_db_changes_expire(meru_db *db)
{
    meru_options o;
    size_t n;
    bool due;
    meru_db_options_copy(db, &o);
    pthread_mutex_lock(&db->cat_mu);
    const meru_catalog_changelog *ch = meru_catalog_changelogs(db->cat, &n);
    /* Looked at again under cat_mu: a flush or another worker may have
     * expired the files meanwhile. */
    due = n && (!meru_db_changes_kept(db, &o) ||
                meru_db_changes_expired(&o, ch[0].created_ms,
                                        meru_clock_unix_ms()));
    pthread_mutex_unlock(&db->cat_mu);
    if (!due)
        return MERU_OK;
    /* A commit with nothing else in it applies the retention. */
    int rc = meru_db_commit_l0(db, NULL, 0, false, 0, 0, NULL, NULL);
    return rc ? meru_err_wrap(rc, "change feed: expiry") : MERU_OK;
}

uint64_t meru_changes_oldest(meru_db *db)
{
    uint64_t f;
    if (!db || meru_db_check_open(db))
        return 0;
    pthread_mutex_lock(&db->cat_mu);
    f = meru_catalog_changes_floor(db->cat);
    if (f < atomic_load(&db->changes_lost)) /* recovery lost records */
        f = atomic_load(&db->changes_lost);
    pthread_mutex_unlock(&db->cat_mu);
    return f;
}

const char *meru_change_kind_name(int kind)
{
    switch (kind) {
    case MERU_CHANGE_INSERT:
        return "insert";
    case MERU_CHANGE_UPDATE:
        return "update";
    case MERU_CHANGE_DELETE:
        return "delete";
    default:
        return NULL;
    }
}

void meru_changes_options_init(meru_changes_options *o)
{
    static const meru_changes_options d = MERU_CHANGES_OPTIONS_INIT;
    *o = d;
}

/* ----------------------------------------------------------- iterator */

/* An unflushed entry of the pinned memtables (pointers into them). */
typedef struct tail_entry {
    uint64_t seq;
    int op;
    const uint8_t *ukey;
    size_t klen;
    const uint8_t *value;
    size_t vlen;
} tail_entry;

struct meru_changes_iter {
    meru_db *db;
    meru_view *view;
    meru_schema *cl;  /* changelog schema */
    uint64_t last;    /* sequence of the last change returned (or since) */
    uint64_t until;   /* last sequence of the pinned point */
    size_t next_file; /* next changelog file of the view to open */
    meru_changelog_reader *rd;
    tail_entry *tail; /* memtable entries, by sequence */
    size_t ntail, pos;
    bool tail_built;
    meru_row *row, *before;
    meru_buf pre;
    int failed; /* sticky error */
};

static int tail_cmp(const void *pa, const void *pb)
{
    const tail_entry *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int tail_add(meru_changes_iter *it, size_t *cap, const tail_entry *t)
{
    if (it->ntail == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        tail_entry *p = realloc(it->tail, c * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "out of memory (change feed)");
        it->tail = p;
        *cap = c;
    }
    it->tail[it->ntail++] = *t;
    return MERU_OK;
}

/* Collects the memtables' entries above the last sequence returned, up to
 * `until`, sorted by sequence. */
static int build_tail(meru_changes_iter *it)
{
    meru_view *v = it->view;
    size_t cap = 0;
    int rc;
    for (size_t m = 0; m <= v->nimm; m++) {
        meru_memtable *mem = m < v->nimm ? v->imm[m] : v->mem;
        meru_memtable_iter mi;
        if (!mem || meru_memtable_max_seq(mem) <= it->last ||
            meru_memtable_count(mem) == 0)
            continue;
        meru_memtable_iter_init(&mi, mem);
        for (meru_memtable_iter_seek_to_first(&mi);
             meru_memtable_iter_valid(&mi); meru_memtable_iter_next(&mi)) {
            tail_entry t;
            t.seq = meru_memtable_iter_seq(&mi);
            if (t.seq <= it->last || t.seq > it->until)
                continue;
            t.op = meru_memtable_iter_op(&mi);
            t.ukey = meru_memtable_iter_user_key(&mi, &t.klen);
            t.value = meru_memtable_iter_value(&mi, &t.vlen);
            if ((rc = tail_add(it, &cap, &t)))
                return rc;
        }
    }
    if (it->ntail > 1)
        qsort(it->tail, it->ntail, sizeof *it->tail, tail_cmp);
    it->tail_built = true;
    return MERU_OK;
}

int meru_changes(meru_db *db, uint64_t since_seq,
                 const meru_changes_options *opts, meru_changes_iter **out)
{
    meru_changes_iter *it;
    uint64_t floor, visible;
    int rc;

    if (!out)
        return meru_err(MERU_EINVAL, "meru_changes: NULL out");
    *out = NULL;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_changes: NULL handle");
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (opts &&
        (rc = meru_struct_version(opts->version, MERU_CHANGES_OPTIONS_VERSION,
                                  "meru_changes_options")))
        return rc;
    if (!(it = calloc(1, sizeof *it)))
        return meru_err(MERU_ENOMEM, "out of memory (change feed)");
    it->db = db;
    if ((rc = meru_changelog_schema(db->schema, &it->cl)) ||
        (rc = meru_row_new(&it->row, db->schema)) ||
        (rc = meru_row_new(&it->before, db->schema))) {
        meru_changes_free(it);
        return rc;
    }
    /* One consistent point: the floor, the visible sequence and the view
     * (every commit changes them under cat_mu). */
    pthread_mutex_lock(&db->cat_mu);
    floor = meru_catalog_changes_floor(db->cat);
    if (floor < atomic_load(&db->changes_lost)) /* recovery lost records */
        floor = atomic_load(&db->changes_lost);
    visible = atomic_load(&db->visible_seq);
    it->view = meru_db_view_get(db);
    pthread_mutex_unlock(&db->cat_mu);
    if (since_seq < floor) {
        meru_changes_free(it);
        return meru_err(MERU_EEXPIRED,
                        "meru_changes: the changes up to sequence %llu are "
                        "no longer kept (retention); the oldest since_seq "
                        "available is %llu",
                        (unsigned long long)floor, (unsigned long long)floor);
    }
    it->last = since_seq;
    it->until = visible;
    if (opts && opts->until_seq && opts->until_seq < it->until)
        it->until = opts->until_seq;
    *out = it;
    return MERU_OK;
}

void meru_changes_free(meru_changes_iter *it)
{
    if (!it)
        return;
    meru_changelog_close(it->rd);
    meru_db_view_unref(it->view);
    meru_schema_free(it->cl);
    meru_row_free(it->row);
    meru_row_free(it->before);
    free(it->tail);
    meru_buf_free(&it->pre);
    free(it);
}

/* The next change from the changelog files: MERU_NOT_FOUND when they hold
 * no more. */
static int next_from_files(meru_changes_iter *it, meru_change *c)
{
    meru_view *v = it->view;
    for (;;) {
        if (!it->rd) {
            char abs[MERU_DB_PATH_MAX];
            meru_db_file *f;
            int rc;
            while (it->next_file < v->nchanges &&
                   v->changes[it->next_file]->meta.max_seq <= it->last)
                it->next_file++;
            if (it->next_file == v->nchanges ||
                v->changes[it->next_file]->meta.min_seq > it->until)
                return MERU_NOT_FOUND;
            f = v->changes[it->next_file++];
            if ((rc = meru_path_join(abs, sizeof abs, it->db->path,
                                     f->meta.path)))
                return rc;
            rc = meru_changelog_open(&it->rd, it->db->fs, abs, it->db->schema,
                                     it->cl, it->last);
            if (rc == MERU_NOT_FOUND)
                /* Only another process deletes a file a view lists: the
                 * writer expired it after this handle's last refresh. */
                return meru_err(MERU_EEXPIRED,
                                "meru_change_next: changelog %s was expired "
                                "by the writer (refresh and start again from "
                                "meru_changes_oldest)",
                                f->meta.path);
            if (rc)
                return rc;
        }
        uint64_t seq;
        int kind;
        int rc = meru_changelog_next(it->rd, &seq, &kind, it->row, it->before);
        if (rc == MERU_NOT_FOUND) {
            meru_changelog_close(it->rd);
            it->rd = NULL;
            continue;
        }
        if (rc)
            return rc;
        if (seq > it->until)
            return MERU_NOT_FOUND;
        c->seq = seq;
        c->kind = (meru_change_kind)kind;
        c->row = kind != MERU_CHANGE_DELETE ? it->row : NULL;
        c->before = kind != MERU_CHANGE_INSERT ? it->before : NULL;
        return MERU_OK;
    }
}

/* The next change from the memtables: kinds and pre-images from a get at
 * seq - 1 over the pinned view. */
static int next_from_tail(meru_changes_iter *it, meru_change *c)
{
    meru_db *db = it->db;
    int rc;
    if (!it->tail_built && (rc = build_tail(it)))
        return rc;
    while (it->pos < it->ntail) {
        const tail_entry *t = &it->tail[it->pos++];
        bool live;
        rc = meru_db_lookup_value(db, it->view, t->ukey, t->klen, t->seq - 1,
                                  &it->pre);
        if (rc && rc != MERU_NOT_FOUND)
            return rc;
        live = rc == MERU_OK;
        if (t->op == MERU_OP_DELETE && !live)
            continue; /* a delete of an absent key changes nothing */
        meru_row_clear(it->row);
        meru_row_clear(it->before);
        if (live &&
            (rc = meru_row_decode(db->schema, t->ukey, t->klen, it->pre.data,
                                  it->pre.len, it->before)))
            return rc;
        if (t->op == MERU_OP_PUT &&
            (rc = meru_row_decode(db->schema, t->ukey, t->klen, t->value,
                                  t->vlen, it->row)))
            return rc;
        c->seq = t->seq;
        c->kind = t->op == MERU_OP_DELETE ? MERU_CHANGE_DELETE
                  : live                  ? MERU_CHANGE_UPDATE
                                          : MERU_CHANGE_INSERT;
        c->row = t->op == MERU_OP_PUT ? it->row : NULL;
        c->before = live ? it->before : NULL;
        return MERU_OK;
    }
    return MERU_NOT_FOUND;
}

int meru_change_next(meru_changes_iter *it, meru_change *change)
{
    int rc;
    if (!it || !change)
        return meru_err(MERU_EINVAL, "meru_change_next: NULL argument");
    if (it->failed)
        return meru_err(it->failed, "meru_change_next: the iterator failed "
                                    "earlier");
    memset(change, 0, sizeof *change);
    if (!it->tail_built) {
        rc = next_from_files(it, change);
        if (rc == MERU_OK) {
            it->last = change->seq;
            return MERU_OK;
        }
        if (rc != MERU_NOT_FOUND) {
            it->failed = rc;
            return rc;
        }
        meru_changelog_close(it->rd);
        it->rd = NULL;
    }
    rc = next_from_tail(it, change);
    if (rc == MERU_OK)
        it->last = change->seq;
    else if (rc != MERU_NOT_FOUND)
        it->failed = rc;
    return rc;
}
