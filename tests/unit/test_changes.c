/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_changes.c — the change feed (SPEC §10, issue 12) through the public
 * API, against a model.
 *
 * The model replays every write on a map of live rows and derives the log
 * the feed must give: INSERT / UPDATE / DELETE with pre-images, nothing for
 * a delete of an absent key. Each change is compared as one canonical line
 * (seq, kind, key, new row, old row), so the order, the kinds, the rows and
 * the pre-images are all checked, from 0 and from random points (the
 * suffix). Around it: flushes (automatic, with small memtables, and
 * manual), compactions, reopens, a writer killed with SIGKILL mid-stream
 * (the feed after recovery equals the model of what the table holds), a
 * follower in another process (every change exactly once, in order),
 * retention by bytes, by age and off, the expiry error, and damage.
 * (Forking tests cannot run under ThreadSanitizer: the threaded follower
 * is test_changes_concurrent.c.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "changes/changelog.h"
#include "engine/db_internal.h"
#include "sst/sst.h"
#include "test.h"

#include "changes_model.h"

/* ----------------------------------------------------------- the model */

/* The model run; batch: keys per batch of each flush's lookup of older
 * versions (0: the engine's). */
static void run_feed_model(const char *name, size_t batch)
{
    const char *dir = meru_test_tmpdir(name);
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    model m;
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    int nops = (int)(6000 * meru_test_scale());
    int checks = 0, reopens = 0, compactions = 0;
    uint64_t flushes = 0;

    memset(&m, 0, sizeof m);
    CHECK(s);
    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    db->test_flush_lookup_batch = batch;
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    for (int op = 0; op < nops; op++) {
        uint64_t r = xs(&rs) % 1000;
        int rc = MERU_OK;
        if (r < 6) {
            rc = meru_flush(db);
        } else if (r < 9) {
            rc = meru_compact(db);
            compactions++;
        } else if (r < 11) {
            meru_stats st;
            if (meru_stats_get(db, &st) == MERU_OK)
                flushes += st.flushes;
            rc = meru_close(db);
            meru_db_free(db);
            db = NULL;
            if (rc == MERU_OK && (rc = meru_open(dir, &o, s, &db)) == MERU_OK)
                db->test_flush_lookup_batch = batch;
            reopens++;
        } else if (r < 25) {
            uint64_t since = m.nlog ? m.seq[xs(&rs) % m.nlog] : 0;
            check_feed(db, &m, xs(&rs) % 4 ? since : 0, "model");
            if (meru_test_failed_current)
                break;
            checks++;
        } else {
            rc = random_write(db, &m, &rs, row, b);
        }
        CHECK_MSG(rc == MERU_OK, "op %d: %s", op, meru_errmsg());
    }
    if (!meru_test_failed_current)
        check_feed(db, &m, 0, "final");
    {
        meru_stats st;
        CHECK_OK(meru_stats_get(db, &st));
        fprintf(stderr,
                "  %zu changes, %d checks, %d reopens, %d compactions, "
                "%llu flushes\n",
                m.nlog, checks, reopens, compactions,
                (unsigned long long)(flushes + st.flushes));
        CHECK(flushes + st.flushes > 10);
        CHECK(reopens >= 1 && checks >= 10);
    }
    CHECK_EQ_U64(meru_changes_oldest(db), 0);
    /* After a last reopen too, with everything flushed. */
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, s, &db));
    check_feed(db, &m, 0, "reopened");
    check_feed(db, &m, m.nlog ? m.seq[m.nlog / 2] : 0, "reopened, half");
    meru_db_free(db);
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
    model_free(&m);
}

static void test_feed_equals_model_across_flush_compaction_reopen(void)
{
    run_feed_model("changes_model", 0);
}

/* Each flush's lookup of older versions in batches of 3 keys (the engine
 * takes 64k at a time, more than these flushes have): every batch's
 * pre-images land on their own keys, and a batch whose range no older file
 * overlaps is skipped, not mistaken for one with nothing found. */
static void test_feed_equals_model_with_lookup_batches_of_3_keys(void)
{
    run_feed_model("changes_model_b3", 3);
}

/* Since beyond the last sequence: empty, not an error; until_seq bounds. */
static void test_since_beyond_last_is_empty_and_until_bounds(void)
{
    const char *dir = meru_test_tmpdir("changes_bounds");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_changes_iter *it = NULL;
    meru_changes_options co;
    meru_change c;
    mrow r;
    uint64_t rs = 7, seq = 0;

    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    for (int k = 0; k < 10; k++) {
        gen_row(&rs, &r);
        CHECK_OK(set_row(row, k, &r));
        CHECK_OK(meru_put(db, row, &seq));
        if (k == 4)
            CHECK_OK(meru_flush(db));
    }
    CHECK_OK(meru_changes(db, seq, NULL, &it));
    CHECK_RC(meru_change_next(it, &c), MERU_NOT_FOUND);
    meru_changes_free(it);
    CHECK_OK(meru_changes(db, seq + 1000, NULL, &it));
    CHECK_RC(meru_change_next(it, &c), MERU_NOT_FOUND);
    meru_changes_free(it);
    /* until_seq: 3..7 from a file and the memtable. */
    meru_changes_options_init(&co);
    co.until_seq = 7;
    CHECK_OK(meru_changes(db, 2, &co, &it));
    for (uint64_t want = 3; want <= 7; want++) {
        CHECK_OK(meru_change_next(it, &c));
        CHECK_EQ_U64(c.seq, want);
        CHECK(c.kind == MERU_CHANGE_INSERT && c.row && !c.before);
    }
    CHECK_RC(meru_change_next(it, &c), MERU_NOT_FOUND);
    meru_changes_free(it);
    /* Bad arguments. */
    CHECK_RC(meru_changes(NULL, 0, NULL, &it), MERU_EINVAL);
    CHECK_RC(meru_changes(db, 0, NULL, NULL), MERU_EINVAL);
    co.version = 99;
    CHECK_RC(meru_changes(db, 0, &co, &it), MERU_EINVAL);
    CHECK(it == NULL);
    CHECK(meru_change_kind_name(9) == NULL);
    meru_changes_free(NULL);
    CHECK_OK(meru_close(db));
    CHECK_RC(meru_changes(db, 0, NULL, &it), MERU_ECLOSED);
    CHECK_EQ_U64(meru_changes_oldest(db), 0);
    meru_db_free(db);
    meru_row_free(row);
    meru_schema_free(s);
}

/* ----------------------------------------------------------- retention */

static int count_changelogs_now(const char *dir)
{
    char p[4300];
    int n = 0;
    snprintf(p, sizeof p, "%s/changes", dir);
    DIR *d = opendir(p);
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".parquet") != NULL;
    closedir(d);
    return n;
}

/* The changelog files on disk, once it is `want`: a file committed out is
 * deleted by a background thread once no view holds it, so this waits for
 * that work (at most ~20 s) before counting. */
static int wait_changelogs(const char *dir, int want)
{
    int n = count_changelogs_now(dir);
    for (int i = 0; i < 2000 && n != want; i++) {
        usleep(10000);
        n = count_changelogs_now(dir);
    }
    return n;
}

/* Writes n inserts of new keys from `first`; returns the last sequence. */
static uint64_t insert_run(meru_db *db, meru_row *row, int first, int n)
{
    uint64_t seq = 0, rs = (uint64_t)first + 1;
    mrow r;
    for (int k = first; k < first + n; k++) {
        gen_row(&rs, &r);
        if (set_row(row, k, &r) || meru_put(db, row, &seq))
            return 0;
    }
    return seq;
}

static void test_retention_by_bytes_drops_old_files_and_names_the_floor(void)
{
    const char *dir = meru_test_tmpdir("changes_bytes");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_changes_iter *it = NULL;
    meru_change c;
    uint64_t s1, s2, s3, n = 0;
    char want[64];

    small_options(&o);
    o.changes_retention_bytes = 1; /* only the newest file stays */
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK((s1 = insert_run(db, row, 0, 100)) == 100);
    CHECK_OK(meru_flush(db));
    CHECK((s2 = insert_run(db, row, 100, 100)) == 200);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_U64(meru_changes_oldest(db), s1);
    CHECK((s3 = insert_run(db, row, 200, 100)) == 300);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_U64(meru_changes_oldest(db), s2);
    CHECK_RC(meru_changes(db, 0, NULL, &it), MERU_EEXPIRED);
    snprintf(want, sizeof want, "%llu", (unsigned long long)s2);
    CHECK_MSG(strstr(meru_errmsg(), want), "message '%s' lacks %s",
              meru_errmsg(), want);
    CHECK_RC(meru_changes(db, s2 - 1, NULL, &it), MERU_EEXPIRED);
    CHECK(strcmp(meru_strerror(MERU_EEXPIRED), "unknown error"));
    /* The window survives compaction and reopen. */
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_EQ_U64(meru_changes_oldest(db), s2);
    CHECK_OK(meru_changes(db, s2, NULL, &it));
    while (meru_change_next(it, &c) == MERU_OK) {
        CHECK_EQ_U64(c.seq, s2 + 1 + n);
        CHECK(c.kind == MERU_CHANGE_INSERT);
        n++;
    }
    CHECK_EQ_U64(n, s3 - s2);
    meru_changes_free(it);
    /* Obsolete files are deleted (no reader holds them now). */
    CHECK_EQ_INT(wait_changelogs(dir, 1), 1);
    meru_db_free(db);
    meru_row_free(row);
    meru_schema_free(s);
}

static void test_retention_by_age(void)
{
    const char *dir = meru_test_tmpdir("changes_age");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    uint64_t s1;

    small_options(&o);
    o.changes_retention_seconds = 1;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK((s1 = insert_run(db, row, 0, 50)) == 50);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_U64(meru_changes_oldest(db), 0);
    usleep(1200 * 1000); /* the first file is now older than the window */
    CHECK(insert_run(db, row, 50, 50) == 100);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_U64(meru_changes_oldest(db), s1);
    CHECK_EQ_INT(wait_changelogs(dir, 1), 1);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_row_free(row);
    meru_schema_free(s);
}

/* 0 seconds: the feed is off; flushes write no history and the floor
 * follows them; the memtable's changes are still there. Switching it off
 * on a table with history drops the history. */
static void test_retention_zero_turns_the_feed_off(void)
{
    const char *dir = meru_test_tmpdir("changes_off");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_changes_iter *it = NULL;
    meru_change c;
    char *val = NULL;

    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK(insert_run(db, row, 0, 50) == 50);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(wait_changelogs(dir, 1), 1);
    CHECK_OK(meru_set_property(db, "merutable.changes.retention-seconds", "0"));
    CHECK_OK(
        meru_get_property(db, "merutable.changes.retention-seconds", &val));
    CHECK_STR(val, "0");
    meru_free(val);
    CHECK(insert_run(db, row, 50, 50) == 100);
    /* Still in the memtable: readable from the old floor. */
    CHECK_OK(meru_changes(db, 60, NULL, &it));
    CHECK_OK(meru_change_next(it, &c));
    CHECK_EQ_U64(c.seq, 61);
    meru_changes_free(it);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_U64(meru_changes_oldest(db), 100);
    CHECK_EQ_INT(wait_changelogs(dir, 0), 0);
    CHECK_RC(meru_changes(db, 99, NULL, &it), MERU_EEXPIRED);
    CHECK(insert_run(db, row, 100, 5) == 105);
    CHECK_OK(meru_changes(db, 100, NULL, &it));
    for (uint64_t want = 101; want <= 105; want++) {
        CHECK_OK(meru_change_next(it, &c));
        CHECK_EQ_U64(c.seq, want);
    }
    CHECK_RC(meru_change_next(it, &c), MERU_NOT_FOUND);
    meru_changes_free(it);
    CHECK_RC(meru_set_property(db, "merutable.changes.retention-seconds", "-1"),
             MERU_EINVAL);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    /* Created off: never a changelog file. */
    dir = meru_test_tmpdir("changes_off_create");
    o.changes_retention_seconds = 0;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK(insert_run(db, row, 0, 20) == 20);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(wait_changelogs(dir, 0), 0);
    CHECK_EQ_U64(meru_changes_oldest(db), 20);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_row_free(row);
    meru_schema_free(s);
}

/* Turns the feed on from inside a flush (the flush's hook, between its
 * L0 write and its commit): the flush began with the feed off. */
static int feed_on_rc = -1;
static void turn_feed_on(meru_db *db, void *arg)
{
    (void)arg;
    feed_on_rc = meru_set_property(db, "merutable.changes.retention-seconds",
                                   "3600");
}

/* A feed turned on while a flush runs: that flush wrote no changelog (the
 * feed was off as it began), so its changes leave the memtables without a
 * record. The feed must say so (the floor rises over them: asking from
 * below is MERU_EEXPIRED) rather than hand out a history without them;
 * the changes after it are kept. Before the fix the floor stayed at 0 and
 * meru_changes(db, 0) returned nothing for sequences 1..20. */
static void test_feed_turned_on_during_a_flush_claims_no_lost_change(void)
{
    const char *dir = meru_test_tmpdir("changes_on_midflush");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_changes_iter *it = NULL;
    meru_change c;

    small_options(&o);
    o.memtable_bytes = 4 << 20; /* no flush but the one asked for */
    o.changes_retention_seconds = 0;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK(insert_run(db, row, 0, 20) == 20);
    /* Off, unflushed: the memtable's changes are readable from 0. */
    CHECK_EQ_U64(meru_changes_oldest(db), 0);
    CHECK_OK(meru_changes(db, 0, NULL, &it));
    CHECK_OK(meru_change_next(it, &c));
    CHECK_EQ_U64(c.seq, 1);
    meru_changes_free(it);
    it = NULL;
    db->test_before_flush_commit = turn_feed_on;
    CHECK_OK(meru_flush(db));
    db->test_before_flush_commit = NULL;
    CHECK_OK(feed_on_rc);
    /* Sequences 1..20 are nowhere now: below the floor, not a silent gap. */
    CHECK_EQ_U64(meru_changes_oldest(db), 20);
    CHECK_RC(meru_changes(db, 0, NULL, &it), MERU_EEXPIRED);
    CHECK_EQ_INT(count_changelogs_now(dir), 0);
    /* The feed is on from there: the next flush's changes are kept. */
    CHECK(insert_run(db, row, 20, 5) == 25);
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(wait_changelogs(dir, 1), 1);
    CHECK_OK(meru_changes(db, 20, NULL, &it));
    for (uint64_t want = 21; want <= 25; want++) {
        CHECK_OK(meru_change_next(it, &c));
        CHECK_EQ_U64(c.seq, want);
        CHECK_EQ_INT(c.kind, MERU_CHANGE_INSERT);
    }
    CHECK_RC(meru_change_next(it, &c), MERU_NOT_FOUND);
    meru_changes_free(it);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_row_free(row);
    meru_schema_free(s);
}

/* ------------------------------------------------------------- damage */

static int first_changelog(const char *dir, char *out, size_t cap)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/changes", dir);
    DIR *d = opendir(p);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (!found && strstr(e->d_name, ".parquet")) {
            int n = snprintf(out, cap, "%s/%s", p, e->d_name);
            found = n > 0 && (size_t)n < cap;
        }
    if (d)
        closedir(d);
    return found;
}

/* A flush's changelog is cut into row groups of an eighth of a memtable
 * (meru_changelog_row_group_bytes: the writer holds one row group in
 * memory): the file has several, and the feed read from 0 and from
 * sequences inside later row groups (a seek by the page index of each)
 * equals the model. */
static void test_changelog_of_several_row_groups_reads_from_any_sequence(void)
{
    const char *dir = meru_test_tmpdir("changes_rowgroups");
    meru_schema *s = make_schema(), *cl = NULL;
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    meru_sst *t = NULL;
    meru_sst_info info;
    char path[4400];
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    model m;

    memset(&m, 0, sizeof m);
    CHECK(s);
    small_options(&o);
    o.memtable_bytes = 1 << 20; /* row groups of 128 KiB */
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    for (int i = 0; i < 4000; i++)
        CHECK_OK(random_write(db, &m, &rs, row, b));
    CHECK_OK(meru_flush(db));
    CHECK(first_changelog(dir, path, sizeof path));
    CHECK_OK(meru_changelog_schema(s, &cl));
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, cl, NULL));
    meru_sst_get_info(t, &info);
    CHECK_MSG(info.row_groups > 1,
              "a changelog of %llu changes in %u row group(s)",
              (unsigned long long)info.rows, info.row_groups);
    meru_sst_close(t);
    for (int k = 0; k < 4; k++)
        check_feed(db, &m, k ? m.seq[m.nlog * (size_t)k / 4] : 0,
                   "several row groups");
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(cl);
    model_free(&m);
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
}

static void test_corrupt_changelog_is_ecorrupt(void)
{
    const char *dir = meru_test_tmpdir("changes_corrupt");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_changes_iter *it = NULL;
    meru_change c;
    char path[4400];
    struct stat stt;
    int rc = MERU_OK;

    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK(insert_run(db, row, 0, 200) == 200);
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    CHECK(first_changelog(dir, path, sizeof path));
    CHECK(stat(path, &stt) == 0 && stt.st_size > 200);
    for (int round = 0; round < 2; round++) {
        int fd = open(path, O_RDWR);
        CHECK(fd >= 0);
        if (round == 0) {
            /* a flipped byte inside the data pages (page CRC) */
            unsigned char x;
            CHECK(pread(fd, &x, 1, 100) == 1);
            x ^= 0x5a;
            CHECK(pwrite(fd, &x, 1, 100) == 1);
        } else {
            CHECK(ftruncate(fd, stt.st_size / 2) == 0); /* no footer */
        }
        close(fd);
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(meru_changes(db, 0, NULL, &it));
        while ((rc = meru_change_next(it, &c)) == MERU_OK)
            ;
        CHECK_MSG(rc == MERU_ECORRUPT, "round %d: %d %s", round, rc,
                  meru_errmsg());
        /* sticky */
        CHECK_RC(meru_change_next(it, &c), MERU_ECORRUPT);
        meru_changes_free(it);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    meru_row_free(row);
    meru_schema_free(s);
}

/* ------------------------------------------------------- kill -9 */

/* The child: writes ops from stream `seed` with sync on, reporting each
 * acknowledged op on `fd`, until killed. */
static void crash_child(const char *dir, uint64_t seed, int fd)
{
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    model m;
    memset(&m, 0, sizeof m);
    small_options(&o);
    o.sync_mode = MERU_SYNC_EVERY;
    if (!s || meru_open(dir, &o, s, &db) || meru_row_new(&row, s) ||
        meru_write_batch_new(&b, s))
        _exit(3);
    for (uint32_t op = 1;; op++) {
        if (random_write(db, &m, &seed, row, b))
            _exit(4);
        if (op % 97 == 0 && meru_flush(db))
            _exit(5);
        if (write(fd, &op, sizeof op) != (ssize_t)sizeof op)
            _exit(6);
    }
}

static void test_feed_after_kill9_equals_model_of_recovered_table(void)
{
    meru_schema *s = make_schema();
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    for (int round = 0; round < 3 && !meru_test_failed_current; round++) {
        char name[64];
        snprintf(name, sizeof name, "changes_kill_%d", round);
        const char *dir = meru_test_tmpdir(name);
        uint64_t seed = 0x1234567ull * (uint64_t)(round + 3);
        uint32_t target = 150 + 170 * (uint32_t)round, acked = 0, op;
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            crash_child(dir, seed, p[1]);
        }
        close(p[1]);
        while (acked < target && read(p[0], &op, sizeof op) == sizeof op)
            acked = op;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(p[0]);
        CHECK_MSG(acked >= target, "child stopped after %u ops", acked);

        /* Replay the op stream in a model up to what the table holds: the
         * write ops the recovered table has (its last sequence). */
        meru_options o;
        meru_db *db = NULL;
        meru_stats st;
        model m;
        uint64_t rs = seed;
        memset(&m, 0, sizeof m);
        small_options(&o);
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(meru_stats_get(db, &st));
        /* A scratch table reproduces the sequence numbers. */
        char sname[64];
        snprintf(sname, sizeof sname, "changes_kill_model_%d", round);
        meru_db *mdb = NULL;
        meru_options mo;
        small_options(&mo);
        mo.changes_retention_seconds = 0;
        CHECK_OK(meru_open(meru_test_tmpdir(sname), &mo, s, &mdb));
        uint32_t ops = 0;
        for (;;) {
            meru_stats ms;
            CHECK_OK(meru_stats_get(mdb, &ms));
            if (ms.last_sequence >= st.last_sequence)
                break;
            CHECK_OK(random_write(mdb, &m, &rs, row, b));
            ops++;
        }
        CHECK_OK(meru_stats_get(mdb, &st));
        CHECK_MSG(ops >= acked, "recovered %u ops, %u acknowledged", ops,
                  acked);
        meru_db_free(mdb);
        check_feed(db, &m, 0, "after kill -9");
        /* The recovered table keeps writing and flushing. */
        for (int i = 0; i < 200; i++)
            CHECK_OK(random_write(db, &m, &rs, row, b));
        CHECK_OK(meru_flush(db));
        check_feed(db, &m, 0, "after kill -9, more writes");
        meru_db_free(db);
        model_free(&m);
    }
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
}

/* ---------------------------------------------------- cross-process */

static void test_follower_in_another_process_sees_each_change_once(void)
{
    const char *dir = meru_test_tmpdir("changes_follow");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    const uint64_t seed = 0xabcdef12345ull;
    const int nops = (int)(3000 * meru_test_scale()) + 100;

    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db)); /* create it */
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        meru_row *row = NULL;
        meru_write_batch *b = NULL;
        model m;
        uint64_t rs = seed;
        memset(&m, 0, sizeof m);
        if (meru_open(dir, &o, s, &db) || meru_row_new(&row, s) ||
            meru_write_batch_new(&b, s))
            _exit(3);
        for (int op = 0; op < nops; op++) {
            if (random_write(db, &m, &rs, row, b))
                _exit(4);
            if (op % 300 == 299 && meru_flush(db))
                _exit(5);
            if (op % 50 == 0)
                usleep(1000);
        }
        _exit(meru_close(db) ? 6 : 0);
    }
    /* The follower: a read-only handle, refresh, read from the last
     * sequence seen, until the writer is gone and nothing is left. */
    meru_options ro;
    small_options(&ro);
    ro.read_only = 1;
    ro.create_if_missing = 0;
    CHECK_OK(meru_open(dir, &ro, s, &db));
    char **seen = calloc(MAXLOG, sizeof *seen);
    size_t nseen = 0;
    uint64_t last = 0;
    int done = 0, status = 0, polls = 0;
    while (!meru_test_failed_current) {
        meru_changes_iter *it = NULL;
        meru_change c;
        int rc;
        if (!done && waitpid(pid, &status, WNOHANG) == pid)
            done = 1; /* one more round reads the rest */
        rc = meru_refresh(db);
        if (rc && !done) {
            usleep(2000); /* the writer moved the log under us: again */
            continue;
        }
        CHECK_MSG(rc == MERU_OK, "refresh: %s", meru_errmsg());
        CHECK_MSG(meru_changes(db, last, NULL, &it) == MERU_OK, "%s",
                  meru_errmsg());
        while ((rc = meru_change_next(it, &c)) == MERU_OK) {
            char line[200];
            CHECK(c.seq > last);
            CHECK(change_line(&c, line, sizeof line) == MERU_OK);
            if (nseen < MAXLOG)
                seen[nseen++] = strdup(line);
            last = c.seq;
        }
        meru_changes_free(it);
        CHECK_MSG(rc == MERU_NOT_FOUND, "follow: %s", meru_errmsg());
        polls++;
        if (done)
            break;
        usleep(3000);
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The model of what the writer wrote. */
    {
        meru_db *mdb = NULL;
        meru_row *row = NULL;
        meru_write_batch *b = NULL;
        model m;
        uint64_t rs = seed;
        meru_options mo;
        memset(&m, 0, sizeof m);
        small_options(&mo);
        CHECK_OK(
            meru_open(meru_test_tmpdir("changes_follow_model"), &mo, s, &mdb));
        CHECK_OK(meru_row_new(&row, s));
        CHECK_OK(meru_write_batch_new(&b, s));
        for (int op = 0; op < nops; op++)
            CHECK_OK(random_write(mdb, &m, &rs, row, b));
        fprintf(stderr, "  follower: %zu changes in %d polls\n", nseen, polls);
        for (size_t i = 0; i < nseen && i < m.nlog; i++)
            CHECK_MSG(!strcmp(seen[i], m.log[i]), "change %zu: '%s' vs '%s'", i,
                      seen[i], m.log[i]);
        CHECK_EQ_U64(nseen, m.nlog);
        meru_db_free(mdb);
        meru_row_free(row);
        meru_write_batch_free(b);
        model_free(&m);
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_feed_equals_model_across_flush_compaction_reopen);
    MERU_TEST_RUN(test_feed_equals_model_with_lookup_batches_of_3_keys);
    MERU_TEST_RUN(test_since_beyond_last_is_empty_and_until_bounds);
    MERU_TEST_RUN(test_retention_by_bytes_drops_old_files_and_names_the_floor);
    MERU_TEST_RUN(test_retention_by_age);
    MERU_TEST_RUN(test_retention_zero_turns_the_feed_off);
    MERU_TEST_RUN(test_feed_turned_on_during_a_flush_claims_no_lost_change);
    MERU_TEST_RUN(test_changelog_of_several_row_groups_reads_from_any_sequence);
    MERU_TEST_RUN(test_corrupt_changelog_is_ecorrupt);
    MERU_TEST_RUN(test_feed_after_kill9_equals_model_of_recovered_table);
    MERU_TEST_RUN(test_follower_in_another_process_sees_each_change_once);
    return meru_test_finish();
}
