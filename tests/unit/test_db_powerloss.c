/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_powerloss.c — power cuts at random points of a randomized
 * workload, the whole engine running over the fault-injecting fs
 * (tests/support/fs_fault.h, through meru_db_open_fs).
 *
 * Each round opens the table, runs the workload of fault_workload.h
 * (puts, overwrites, deletes of keys whose old versions sit in deeper
 * levels, batches, flushes, compactions, clean reopens) and cuts the power
 * after a random number of file-system calls: from that call on nothing
 * reaches the disk (meru_fs_fault_die_after), then everything not synced
 * is dropped (meru_fs_fault_crash, or crash_torn: a random part of what
 * was appended since the last sync survives, the source of torn log
 * tails). The table must then open; hold every acknowledged write
 * (MERU_SYNC_EVERY and _GROUP acknowledge only what is synced); hold no
 * deleted key; hold the cut write all or nothing; and pass meru_verify.
 * The table carries over from one round to the next, so later rounds cut
 * recoveries, flushes of recovered logs and compactions of old files.
 *
 * Rounds: 60 x MERU_TEST_SCALE (at least 8); MERU_TEST_SEED varies the
 * cut points.
 */
#include "fault_workload.h"

static void test_powerloss_random_cuts_lose_nothing_acknowledged(void)
{
    static fw_model m;
    fw_run r;
    meru_schema *schema = NULL;
    int rounds = (int)(60 * meru_test_scale());
    if (rounds < 8)
        rounds = 8;
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    r.dir = meru_test_tmpdir("powerloss");
    r.rng = meru_test_rand() | 1;
    CHECK_OK(meru_schema_parse(&schema, "p", FW_COLS, "id"));
    r.schema = schema;
    CHECK_OK(meru_row_new(&r.row, schema));
    CHECK_OK(meru_row_new(&r.out, schema));
    CHECK_OK(meru_write_batch_new(&r.batch, schema));
    uint64_t completed = 0, cut_calls = 0;
    for (int round = 0; round < rounds; round++) {
        CHECK_OK(meru_fs_fault_new(&r.fs, meru_fs_posix()));
        fw_options(&r.opts, fw_rand(&r));
        r.failed = 0;
        /* the cut: after 0..9999 more calls (a workload makes ~5000) */
        uint64_t cut = fw_rand(&r) % 10000;
        meru_fs_fault_die_after(r.fs, cut);
        int rc = fw_open(&r, round == 0 ? schema : NULL);
        if (rc == MERU_OK) {
            CHECK_MSG(fw_workload(&r, &m, 400) == 0,
                      "round %d: the workload broke a rule", round);
            completed += !r.failed;
        } else {
            /* cut during the open (recovery) */
            m.npending = 0;
        }
        cut_calls += meru_fs_fault_total(r.fs);
        /* the process dies: nothing more reaches the disk */
        meru_fs_fault_die_after(r.fs, 0);
        meru_db_free(r.db);
        r.db = NULL;
        if (fw_rand(&r) % 3 == 0)
            CHECK_OK(meru_fs_fault_crash_torn(r.fs, fw_rand(&r)));
        else
            CHECK_OK(meru_fs_fault_crash(r.fs));
        meru_fs_free(r.fs);
        r.fs = NULL;

        /* power back: the table opens and holds what was acknowledged */
        meru_db *db = NULL;
        meru_options o;
        fw_options(&o, 0);
        rc = meru_open(r.dir, &o, NULL, &db);
        CHECK_MSG(rc == MERU_OK, "round %d: open after the cut at call %llu: %s",
                  round, (unsigned long long)cut, meru_errmsg());
        CHECK_MSG(fw_check(db, schema, &m) == 0,
                  "round %d: the table after a cut at call %llu is wrong",
                  round, (unsigned long long)cut);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    printf("  %d power cuts, %llu rounds ran their whole workload, "
           "%llu acknowledged writes (%llu operations), %llu fs calls\n",
           rounds, (unsigned long long)completed,
           (unsigned long long)m.acked_writes,
           (unsigned long long)m.acked_ops, (unsigned long long)cut_calls);
    meru_write_batch_free(r.batch);
    meru_row_free(r.row);
    meru_row_free(r.out);
    meru_schema_free(schema);
    meru_test_rmtree(r.dir);
}

int main(void)
{
    MERU_TEST_RUN(test_powerloss_random_cuts_lose_nothing_acknowledged);
    return meru_test_finish();
}
