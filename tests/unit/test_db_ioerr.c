/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_ioerr.c — the Nth call failing, as SQLite's I/O-error loops do:
 * for each kind of call (append = write, sync, sync_full, sync_dir,
 * rename, remove = unlink) and N = 1, 2, 3, ..., a fresh table runs the
 * same workload (fault_workload.h) over the fault fs with the Nth such
 * call failing (EIO, or ENOSPC, alternately), until N is past the calls
 * the workload makes. Each time:
 *  - the engine returns the error (to the call that met it, or to the
 *    next write once a background job met it), and from then on refuses
 *    writes (sticky);
 *  - closing and freeing the handle leaks nothing (AddressSanitizer) and
 *    never crashes;
 *  - reopened on a healthy fs, the table holds every acknowledged write,
 *    the failed write all or nothing, and passes meru_verify.
 * N runs 1..12 x MERU_TEST_SCALE (at least 4), then grows by half each
 * step (doubles below scale 1).
 */
#include <errno.h>

#include "fault_workload.h"

static const struct {
    meru_fs_op op;
    const char *name;
} OPS[] = {
    {MERU_FS_OP_APPEND, "append"},       {MERU_FS_OP_SYNC, "sync"},
    {MERU_FS_OP_SYNC_FULL, "sync_full"}, {MERU_FS_OP_SYNC_DIR, "sync_dir"},
    {MERU_FS_OP_RENAME, "rename"},       {MERU_FS_OP_REMOVE, "remove"},
};

/* One run with the nth call of `op` failing with `err`; *fired: whether
 * the workload made that many calls. 0, or -1 on a broken rule. */
static int one_run(meru_fs_op op, uint64_t nth, int err, int *fired,
                   uint64_t *acked)
{
    static fw_model m;
    fw_run r;
    meru_schema *schema = NULL;
    int bad = 0;
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    r.dir = meru_test_tmpdir("ioerr");
    r.rng = 0x5DEECE66Dull; /* the same workload every run */
    if (meru_schema_parse(&schema, "e", FW_COLS, "id") ||
        meru_row_new(&r.row, schema) || meru_row_new(&r.out, schema) ||
        meru_write_batch_new(&r.batch, schema) ||
        meru_fs_fault_new(&r.fs, meru_fs_posix()))
        return -1;
    r.schema = schema;
    fw_options(&r.opts, 1);
    meru_fs_fault_inject(r.fs, op, NULL, nth, err);
    int rc = fw_open(&r, schema);
    if (rc == MERU_OK) {
        if (fw_workload(&r, &m, 150))
            bad = 1;
        rc = meru_close(r.db);
        if (!r.failed && rc) {
            /* the fault met in close: the handle is closed regardless;
             * whether writes from before are there is checked below */
            r.failed = 1;
        }
    }
    meru_db_free(r.db);
    r.db = NULL;
    *fired = meru_fs_fault_count(r.fs, op) >= nth;
    meru_fs_free(r.fs);
    *acked = m.acked_writes;

    /* a healthy fs: the table opens and holds what was acknowledged */
    meru_db *db = NULL;
    meru_options o;
    fw_options(&o, 0);
    o.create_if_missing = 0;
    rc = bad ? MERU_OK : meru_open(r.dir, &o, NULL, &db);
    if (rc == MERU_NOT_FOUND && m.acked_writes == 0) {
        /* the table was never created: nothing to hold */
    } else if (rc) {
        fprintf(stderr, "  reopen: %s\n", meru_errmsg());
        bad = 1;
    } else if (db) {
        if (fw_check(db, schema, &m))
            bad = 1;
        if (meru_close(db))
            bad = 1;
    }
    meru_db_free(db);
    meru_write_batch_free(r.batch);
    meru_row_free(r.row);
    meru_row_free(r.out);
    meru_schema_free(schema);
    meru_test_rmtree(r.dir);
    return bad ? -1 : 0;
}

static void test_ioerr_nth_call_fails(void)
{
    double scale = meru_test_scale();
    uint64_t runs = 0, acked_total = 0;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        uint64_t n = 1;
        for (int step = 0;; step++) {
            int fired = 0, err = step % 2 ? ENOSPC : EIO;
            uint64_t acked = 0;
            int rc = one_run(OPS[i].op, n, err, &fired, &acked);
            CHECK_MSG(rc == 0, "%s call %llu failing with %s broke a rule",
                      OPS[i].name, (unsigned long long)n, strerror(err));
            runs++;
            acked_total += acked;
            if (!fired)
                break;
            /* every call up to `dense`, then growing by half (doubling
             * below scale 1) */
            uint64_t dense = (uint64_t)(12 * scale);
            n = n < (dense < 4 ? 4 : dense) ? n + 1
                : scale < 1                 ? n * 2
                                            : n + n / 2;
        }
        printf("  %s: failures at calls 1..%llu\n", OPS[i].name,
               (unsigned long long)n);
    }
    printf("  %llu runs, %llu writes acknowledged in all\n",
           (unsigned long long)runs, (unsigned long long)acked_total);
}

int main(void)
{
    MERU_TEST_RUN(test_ioerr_nth_call_fails);
    return meru_test_finish();
}
