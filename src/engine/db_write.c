/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_write.c — the write path: puts, deletes and batches become one WAL
 * record each, committed through the group-commit queue; the queue's
 * leader stamps sequence numbers and applies records to the memtable in
 * log order; a full memtable is switched for a new one together with the
 * WAL segment (SPEC §5).
 *
 * Visibility: the leader publishes visible_seq only after a whole batch is
 * in the memtable, so a reader (which reads at visible_seq) never sees
 * part of a batch.
 *
 * Backpressure: before queueing, a writer waits while too many immutable
 * memtables wait for flush (max_immutable_memtables), or L0 holds
 * l0_stop_trigger files; past l0_slowdown_trigger it is delayed by 1 ms
 * once. Waits are on cv_done under mu, signalled by every flush or
 * compaction commit and by shutdown, so a stalled writer wakes as soon as
 * the condition clears.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/options.h"
#include "types/rowcodec.h"
#include "util/clock.h"
#include "util/error.h"

/* ============================================================ public batch */

struct meru_write_batch {
    meru_batch b;
    const meru_schema *schema;
    uint64_t puts, deletes; /* for the table's counters */
};

int meru_write_batch_new(meru_write_batch **out, const meru_schema *schema)
{
    meru_write_batch *wb;
    if (!out || !schema)
        return meru_err(MERU_EINVAL, "meru_write_batch_new: NULL argument");
    if (!(wb = calloc(1, sizeof *wb)))
        return meru_err(MERU_ENOMEM, "out of memory (write batch)");
    meru_batch_init(&wb->b);
    wb->schema = schema;
    *out = wb;
    return MERU_OK;
}

void meru_write_batch_free(meru_write_batch *wb)
{
    if (!wb)
        return;
    meru_batch_free(&wb->b);
    free(wb);
}

void meru_write_batch_clear(meru_write_batch *wb)
{
    if (wb) {
        meru_batch_clear(&wb->b);
        wb->puts = wb->deletes = 0;
    }
}

size_t meru_write_batch_count(const meru_write_batch *wb)
{
    return wb ? meru_batch_count(&wb->b) : 0;
}

/* The entry just added must be one the table can store and read back:
 * its encoded key within the catalog's key bounds, and the whole batch
 * within one WAL record (a record the log refuses would fail the write
 * queue for good after the row was accepted). Undo the add otherwise. */
static int check_last_entry(meru_batch *b, size_t rep_len, uint32_t count)
{
    int rc = MERU_OK;
    if (b->key.len > MERU_DB_MAX_KEY_BYTES)
        rc = meru_err(MERU_ERANGE,
                      "primary key encodes to %zu bytes; the limit is %u",
                      b->key.len, (unsigned)MERU_DB_MAX_KEY_BYTES);
    else if (b->rep.len > MERU_WAL_MAX_RECORD)
        rc = meru_err(MERU_ERANGE,
                      "the write would be a log record of %zu bytes; a write "
                      "(row or batch) holds at most %u",
                      b->rep.len, (unsigned)MERU_WAL_MAX_RECORD);
    if (rc) {
        b->rep.len = rep_len;
        b->count = count;
    }
    return rc;
}

int meru_write_batch_put(meru_write_batch *wb, const meru_row *row)
{
    size_t len;
    uint32_t count;
    int rc;
    if (!wb || !row)
        return meru_err(MERU_EINVAL, "meru_write_batch_put: NULL argument");
    if ((rc = meru_db_row_fits(wb->schema, row, "meru_write_batch_put")))
        return rc;
    len = wb->b.rep.len;
    count = wb->b.count;
    if ((rc = meru_batch_put(&wb->b, wb->schema, row)) ||
        (rc = check_last_entry(&wb->b, len, count)))
        return rc;
    wb->puts++;
    return MERU_OK;
}

int meru_write_batch_delete(meru_write_batch *wb, const meru_row *key)
{
    size_t len;
    uint32_t count;
    int rc;
    if (!wb || !key)
        return meru_err(MERU_EINVAL, "meru_write_batch_delete: NULL argument");
    if ((rc = meru_db_row_fits(wb->schema, key, "meru_write_batch_delete")))
        return rc;
    len = wb->b.rep.len;
    count = wb->b.count;
    if ((rc = meru_batch_delete_row(&wb->b, wb->schema, key)) ||
        (rc = check_last_entry(&wb->b, len, count)))
        return rc;
    wb->deletes++;
    return MERU_OK;
}

/* ================================================================= writes */

/* Applies one batch record to `mem`: every entry with its own sequence. */
int meru_db_apply_record(meru_db *db, meru_memtable *mem, const uint8_t *rec,
                         size_t len, uint64_t *last_seq)
{
    meru_batch_iter it;
    meru_batch_entry e;
    int rc;
    (void)db;
    if ((rc = meru_batch_iter_init(&it, rec, len)))
        return rc;
    while ((rc = meru_batch_iter_next(&it, &e)) == MERU_OK) {
        if ((rc = meru_memtable_add(mem, e.seq, e.op, e.key, e.klen, e.value,
                                    e.vlen)))
            return rc;
        if (last_seq)
            *last_seq = e.seq;
    }
    return rc == MERU_NOT_FOUND ? MERU_OK : rc;
}

/* Group-commit hooks: run by the leader, one leader at a time, in log
 * order. prepare stamps the first sequence into the batch header before
 * the append, so the log holds the numbers recovery restores. */
static void prepare_hook(void *ctx, const void *rec, size_t len, void *arg)
{
    meru_db *db = ctx;
    meru_batch *b = arg;
    (void)rec;
    (void)len;
    size_t n;
    /* Cannot fail: sequences are far from MERU_SEQ_MAX. */
    (void)meru_batch_set_sequence(b, db->next_seq);
    /* Writes the header into the record in place: same count, so the
     * same header length and the same bytes `rec` points at. */
    (void)meru_batch_data(b, &n);
    db->next_seq += meru_batch_count(b);
}

static int apply_hook(void *ctx, const void *rec, size_t len, void *arg)
{
    meru_db *db = ctx;
    uint64_t last = 0;
    int rc;
    (void)arg;
    if ((rc = meru_db_apply_record(db, db->mem, rec, len, &last)))
        return rc;
    if (last)
        atomic_store_explicit(&db->visible_seq, last, memory_order_release);
    return MERU_OK;
}

int meru_db_install_write_hooks(meru_db *db)
{
    int rc = meru_wal_group_new(&db->group, db->wal, db->opts.sync_mode, 0,
                                apply_hook, db);
    if (rc == MERU_OK)
        meru_wal_group_set_prepare(db->group, prepare_hook);
    return rc;
}

static size_t l0_files_locked(meru_db *db)
{
    size_t n = 0;
    while (n < db->nfiles && db->files[n]->meta.level == 0)
        n++;
    return n;
}

/* Backpressure (see the top comment), then entry into the write window
 * (db_schema.c): *schema is the schema to encode under until
 * leave_window. Waits while a schema change has the window closed. */
static int enter_window(meru_db *db, const meru_schema **schema)
{
    uint64_t t0 = 0;
    bool slowed = false;
    int rc = MERU_OK;
    pthread_mutex_lock(&db->mu);
    for (;;) {
        if (db->closed) {
            rc = meru_err(MERU_ECLOSED, "the table is closed");
            break;
        }
        if (db->bg_error) {
            rc = meru_db_bg_error_locked(db);
            break;
        }
        if (atomic_load(&db->schema_changing)) {
            pthread_cond_wait(&db->cv_done, &db->mu);
            continue;
        }
        size_t l0 = l0_files_locked(db);
        if (db->nimm >= (size_t)db->opts.max_immutable_memtables ||
            l0 >= (size_t)db->opts.l0_stop_trigger) {
            if (!t0)
                t0 = meru_clock_ns();
            meru_db_wake_workers_locked(db);
            pthread_cond_wait(&db->cv_done, &db->mu);
            continue;
        }
        if (!slowed && !t0 && l0 >= (size_t)db->opts.l0_slowdown_trigger) {
            slowed = true;
            atomic_fetch_add_explicit(&db->st_slowdowns, 1,
                                      memory_order_relaxed);
            pthread_mutex_unlock(&db->mu);
            meru_sleep_ns(1000000);
            pthread_mutex_lock(&db->mu);
            continue;
        }
        atomic_fetch_add(&db->writes_in_flight, 1);
        *schema = meru_db_cur_schema(db);
        break;
    }
    pthread_mutex_unlock(&db->mu);
    if (t0) {
        atomic_fetch_add_explicit(&db->st_stall_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_stall_micros,
                                  (meru_clock_ns() - t0) / 1000,
                                  memory_order_relaxed);
    }
    return rc;
}

/* Leaves the write window; the last write out wakes a schema change
 * waiting for it (it checks the count under mu, so the wake-up cannot be
 * lost: see close_window in db_schema.c). */
static void leave_window(meru_db *db)
{
    if (atomic_fetch_sub(&db->writes_in_flight, 1) == 1 &&
        atomic_load(&db->schema_changing)) {
        pthread_mutex_lock(&db->mu);
        pthread_cond_broadcast(&db->cv_done);
        pthread_mutex_unlock(&db->mu);
    }
}

/* The part of a write that depends on the schema: run inside the write
 * window, it returns in *out the batch to commit, encoded under `s`. */
typedef int (*encode_fn)(void *arg, const meru_schema *s, meru_batch **out);

/* Commits the batch encode() makes: backpressure, the window, the group
 * commit, then a memtable switch when the memtable is full. `sync`:
 * fdatasync before returning whatever the table's sync mode (the
 * group-commit queue syncs a group when any member asks). */
static int write_batch(meru_db *db, encode_fn encode, void *arg, int sync,
                       uint64_t *first_seq)
{
    const meru_schema *s = NULL;
    meru_batch *b = NULL;
    const uint8_t *rec;
    size_t len;
    int rc;
    if (first_seq)
        *first_seq = 0;
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (db->read_only)
        return meru_err(MERU_EREADONLY, "the table is open read-only");
    if ((rc = enter_window(db, &s)))
        return rc;
    if ((rc = encode(arg, s, &b)) || meru_batch_count(b) == 0) {
        leave_window(db);
        return rc;
    }
    /* Placeholder sequence: the leader stamps the real one (prepare). */
    if ((rc = meru_batch_set_sequence(b, 0))) {
        leave_window(db);
        return rc;
    }
    rec = meru_batch_data(b, &len);
    rc = meru_wal_group_commit(db->group, rec, len, sync, b);
    leave_window(db);
    if (rc) {
        if (rc != MERU_ECLOSED) {
            pthread_mutex_lock(&db->mu);
            meru_db_set_bg_error_locked(db, rc);
            pthread_mutex_unlock(&db->mu);
        } else {
            rc = meru_err(MERU_ECLOSED, "the table is closed");
        }
        return rc;
    }
    if (first_seq)
        *first_seq = b->first_seq;
    {
        bool full;
        pthread_mutex_lock(&db->mu);
        full =
            db->mem && meru_memtable_bytes(db->mem) >= db->opts.memtable_bytes;
        pthread_mutex_unlock(&db->mu);
        if (full && (rc = meru_db_switch_memtable(db, false)) &&
            rc != MERU_EBUSY)
            return rc;
    }
    return MERU_OK;
}

/* The sync flag of per-call options (NULL: the table's mode). */
static int write_sync(const meru_write_options *wo, const char *fn, int *sync)
{
    *sync = 0;
    if (!wo)
        return MERU_OK;
    int rc = meru_struct_version(wo->version, MERU_WRITE_OPTIONS_VERSION, fn);
    if (rc)
        return rc;
    *sync = wo->sync != 0;
    return MERU_OK;
}

/* A put or delete of one row. */
typedef struct one_ctx {
    const meru_row *row;
    int op;
    meru_batch b;
} one_ctx;

static int encode_one(void *arg, const meru_schema *s, meru_batch **out)
{
    one_ctx *c = arg;
    const char *what = c->op == MERU_OP_PUT ? "meru_put" : "meru_delete";
    int rc = meru_db_row_fits(s, c->row, what);
    if (rc == MERU_OK)
        rc = c->op == MERU_OP_PUT ? meru_batch_put(&c->b, s, c->row)
                                  : meru_batch_delete_row(&c->b, s, c->row);
    if (rc == MERU_OK)
        rc = check_last_entry(&c->b, c->b.rep.len, c->b.count);
    *out = &c->b;
    return rc;
}

static int write_one(meru_db *db, const meru_write_options *wo,
                     const meru_row *row, uint64_t *seq, int op)
{
    one_ctx c;
    int rc, sync;
    c.row = row;
    c.op = op;
    if (!db || !row)
        return meru_err(MERU_EINVAL, "%s: NULL argument",
                        op == MERU_OP_PUT ? "meru_put" : "meru_delete");
    if ((rc = write_sync(wo, "meru_write_options", &sync)))
        return rc;
    meru_batch_init(&c.b);
    rc = write_batch(db, encode_one, &c, sync, seq);
    meru_batch_free(&c.b);
    if (rc == MERU_OK)
        atomic_fetch_add_explicit(op == MERU_OP_PUT ? &db->st_puts
                                                    : &db->st_deletes,
                                  1, memory_order_relaxed);
    return rc;
}

int meru_put(meru_db *db, const meru_row *row, uint64_t *seq)
{
    return write_one(db, NULL, row, seq, MERU_OP_PUT);
}

int meru_delete(meru_db *db, const meru_row *key, uint64_t *seq)
{
    return write_one(db, NULL, key, seq, MERU_OP_DELETE);
}

int meru_put_ex(meru_db *db, const meru_write_options *wo, const meru_row *row,
                uint64_t *seq)
{
    return write_one(db, wo, row, seq, MERU_OP_PUT);
}

int meru_delete_ex(meru_db *db, const meru_write_options *wo,
                   const meru_row *key, uint64_t *seq)
{
    return write_one(db, wo, key, seq, MERU_OP_DELETE);
}

/* A write batch: committed as built when it was built under the current
 * schema; built under an older one (before a meru_add_column), its puts
 * are encoded again under the current one. */
typedef struct batch_ctx {
    meru_write_batch *wb;
    meru_batch again;
} batch_ctx;

static int encode_batch(void *arg, const meru_schema *s, meru_batch **out)
{
    batch_ctx *c = arg;
    const meru_schema *ws = c->wb->schema;
    *out = &c->wb->b;
    if (ws == s || (ws->ncols == s->ncols))
        return MERU_OK;
    meru_batch_clear(&c->again);
    *out = &c->again;
    int rc = meru_batch_reencode(&c->again, &c->wb->b, ws, s);
    /* the added columns' defaults may grow it past one log record */
    if (rc == MERU_OK && c->again.rep.len > MERU_WAL_MAX_RECORD)
        rc = meru_err(MERU_ERANGE,
                      "the write would be a log record of %zu bytes; a write "
                      "(row or batch) holds at most %u",
                      c->again.rep.len, (unsigned)MERU_WAL_MAX_RECORD);
    return rc;
}

int meru_write(meru_db *db, meru_write_batch *wb, uint64_t *first_seq)
{
    return meru_write_ex(db, NULL, wb, first_seq);
}

int meru_write_ex(meru_db *db, const meru_write_options *wo,
                  meru_write_batch *wb, uint64_t *first_seq)
{
    batch_ctx c;
    int rc, sync;
    c.wb = wb;
    if (!db || !wb)
        return meru_err(MERU_EINVAL, "meru_write: NULL argument");
    if (first_seq)
        *first_seq = 0;
    if ((rc = write_sync(wo, "meru_write_options", &sync)))
        return rc;
    if (meru_batch_count(&wb->b) == 0) {
        if ((rc = meru_db_check_open(db)))
            return rc;
        return db->read_only ? meru_err(MERU_EREADONLY,
                                        "the table is open read-only")
                             : MERU_OK;
    }
    /* Only the schema's columns matter here: a batch is made on a schema
     * of this table (rows of it fit) or an equal one. */
    meru_row probe = {.schema = wb->schema, .ncols = wb->schema->ncols};
    if ((rc = meru_db_row_fits(meru_db_cur_schema(db), &probe, "meru_write")))
        return rc;
    meru_batch_init(&c.again);
    rc = write_batch(db, encode_batch, &c, sync, first_seq);
    meru_batch_free(&c.again);
    if (rc)
        return rc;
    atomic_fetch_add_explicit(&db->st_puts, wb->puts, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_deletes, wb->deletes,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_batches, 1, memory_order_relaxed);
    return MERU_OK;
}

/* ======================================================= memtable switch */

typedef struct switch_ctx {
    meru_db *db;
    meru_memtable *fresh;
    meru_view *old_view;
    int rc;
} switch_ctx;

/* Runs inside meru_wal_group_rotate: no leader is active. */
static int rotate_fn(void *arg, meru_wal_writer *old, meru_wal_writer **nw)
{
    switch_ctx *c = arg;
    meru_db *db = c->db;
    uint64_t number = db->next_segment;
    int rc;
    /* Close (and sync) the old segment before the next one exists, so
     * every segment but the last is complete (wal.h). */
    if ((rc = meru_wal_writer_close(old))) {
        db->wal = NULL;
        return rc;
    }
    db->wal = NULL;
    if ((rc = meru_wal_writer_open(nw, db->fs, db->wal_dir, number)))
        return rc;
    db->wal = *nw;

    pthread_mutex_lock(&db->mu);
    db->next_segment = number + 1;
    db->imm[db->nimm].mem = db->mem;
    db->imm[db->nimm].segment = db->mem_segment;
    db->nimm++;
    db->switched++;
    meru_memtable_set_immutable(db->mem);
    db->mem = c->fresh;
    db->mem_segment = number;
    c->fresh = NULL;
    c->rc = meru_db_install_view_locked(db, &c->old_view);
    meru_db_wake_workers_locked(db);
    pthread_mutex_unlock(&db->mu);
    return MERU_OK;
}

int meru_db_switch_memtable(meru_db *db, bool force)
{
    switch_ctx c = {db, NULL, NULL, 0};
    int rc;
    pthread_mutex_lock(&db->switch_mu);
    pthread_mutex_lock(&db->mu);
    /* Re-check under the lock: another writer may have switched already. */
    bool need =
        db->mem && meru_memtable_count(db->mem) > 0 &&
        (force || meru_memtable_bytes(db->mem) >= db->opts.memtable_bytes);
    /* rotate_fn cannot grow the list once the old segment is closed. */
    rc = need ? meru_db_imm_reserve_locked(db, db->nimm + 1) : MERU_OK;
    pthread_mutex_unlock(&db->mu);
    if (!need || rc) {
        pthread_mutex_unlock(&db->switch_mu);
        return rc; /* ENOMEM: the memtable stays mutable; nothing lost */
    }
    if ((rc = meru_memtable_new(&c.fresh, meru_db_memtable_chunk(db)))) {
        pthread_mutex_unlock(&db->switch_mu);
        return rc;
    }
    rc = meru_wal_group_rotate(db->group, rotate_fn, &c);
    pthread_mutex_unlock(&db->switch_mu);
    meru_memtable_unref(c.fresh);
    meru_db_view_unref(c.old_view);
    if (rc == MERU_OK)
        rc = c.rc;
    if (rc && rc != MERU_ECLOSED) {
        pthread_mutex_lock(&db->mu);
        meru_db_set_bg_error_locked(db, rc);
        pthread_mutex_unlock(&db->mu);
    }
    return rc;
}
