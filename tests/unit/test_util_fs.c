/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_fs.c — the file-system interface: the posix implementation,
 * the helpers, fault injection, the power-loss model of the fault fs, and
 * durable_write under crashes at every step.
 *
 * MERU_TEST_CONCURRENT: runs threads (make test-tsan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "test.h"
#include "util/durable.h"
#include "util/error.h"
#include "util/fs.h"
#include "support/fs_fault.h"

static char dir[4096];

static const char *tmpdir(const char *name)
{
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir(name));
    return dir;
}

/* dir/name in a rotating static buffer (several live at once). */
static const char *P(const char *name)
{
    static char bufs[8][4200];
    static int i;
    char *b = bufs[i++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* Creates/replaces `path` with `s`, synced, without syncing the dir. */
static int put(meru_fs *fs, const char *path, const char *s)
{
    meru_file *f;
    int rc = meru_fs_open(fs, path,
                          MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_TRUNC, &f);
    if (rc)
        return rc;
    rc = meru_file_append(f, s, strlen(s));
    if (!rc)
        rc = meru_file_sync(f);
    int crc = meru_file_close(f);
    return rc ? rc : crc;
}

/* Contents of `path` as a string in a static buffer, "<missing>" if it
 * does not exist, "<error>" on other failures. */
static const char *get(meru_fs *fs, const char *path)
{
    static char out[8][1024];
    static int i;
    char *o = out[i++ % 8];
    uint8_t *data;
    size_t len;
    int rc = meru_fs_read_all(fs, path, sizeof out[0] - 1, &data, &len);
    if (rc == MERU_NOT_FOUND)
        return "<missing>";
    if (rc)
        return "<error>";
    memcpy(o, data, len + 1);
    free(data);
    return o;
}

/* ---- posix --------------------------------------------------------------- */

static void test_fs_posix_append_pread_size(void)
{
    meru_fs *fs = meru_fs_posix();
    meru_file *f;
    tmpdir("fs-basic");
    CHECK_OK(meru_fs_open(fs, P("a"),
                          MERU_FS_READ | MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_STR(meru_file_path(f), P("a"));
    CHECK_OK(meru_file_append(f, "hello", 5));
    CHECK_OK(meru_file_append(f, " world", 6));
    CHECK_OK(meru_file_append(f, "", 0));
    uint64_t size;
    CHECK_OK(meru_file_size(f, &size));
    CHECK_EQ_U64(size, 11);
    char buf[32];
    size_t got;
    CHECK_OK(meru_file_pread(f, 0, buf, 11, &got));
    CHECK_EQ_INT(got, 11);
    CHECK_MEM(buf, "hello world", 11);
    /* Short read at EOF is not an error; the count says so. */
    CHECK_OK(meru_file_pread(f, 6, buf, 20, &got));
    CHECK_EQ_INT(got, 5);
    CHECK_MEM(buf, "world", 5);
    CHECK_OK(meru_file_pread(f, 11, buf, 4, &got));
    CHECK_EQ_INT(got, 0);
    CHECK_OK(meru_file_pread(f, 1000, buf, 4, &got));
    CHECK_EQ_INT(got, 0);
    CHECK_RC(meru_file_read_exact(f, 6, buf, 6), MERU_ECORRUPT);
    CHECK_ERRMSG("unexpected end of file");
    CHECK_ERRMSG(P("a"));
    CHECK_OK(meru_file_read_exact(f, 6, buf, 5));
    CHECK_OK(meru_file_pwrite(f, 0, "J", 1));
    CHECK_OK(meru_file_pwrite(f, 13, "!", 1)); /* past the end: a hole */
    CHECK_OK(meru_file_append(f, "?", 1));     /* after the pwrite's end */
    CHECK_OK(meru_file_read_exact(f, 0, buf, 15));
    CHECK_MEM(buf, "Jello world\0\0!?", 15);
    CHECK_OK(meru_file_truncate(f, 5));
    CHECK_OK(meru_file_append(f, "y", 1)); /* append follows the truncate */
    CHECK_OK(meru_file_sync(f));
    CHECK_OK(meru_file_sync_full(f));
    CHECK_OK(meru_file_close(f));
    CHECK_STR(get(fs, P("a")), "Jelloy");

    /* Reopening appends at the existing end; TRUNC empties. */
    CHECK_OK(meru_fs_open(fs, P("a"), MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_append(f, "Z", 1));
    CHECK_OK(meru_file_close(f));
    CHECK_STR(get(fs, P("a")), "JelloyZ");
    CHECK_OK(meru_fs_open(fs, P("a"), MERU_FS_WRITE | MERU_FS_TRUNC, &f));
    CHECK_OK(meru_file_size(f, &size));
    CHECK_EQ_U64(size, 0);
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_file_close(NULL));
}

static void test_fs_posix_append_flag_appends_at_true_end(void)
{
    meru_fs *fs = meru_fs_posix();
    meru_file *a, *b;
    tmpdir("fs-appendflag");
    unsigned fl = MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_APPEND;
    CHECK_OK(meru_fs_open(fs, P("log"), fl, &a));
    CHECK_OK(meru_fs_open(fs, P("log"), fl, &b));
    CHECK_OK(meru_file_append(a, "111", 3));
    CHECK_OK(meru_file_append(b, "22", 2));
    CHECK_OK(meru_file_append(a, "3", 1));
    CHECK_RC(meru_file_pwrite(a, 0, "x", 1), MERU_EINVAL);
    CHECK_OK(meru_file_close(a));
    CHECK_OK(meru_file_close(b));
    CHECK_STR(get(fs, P("log")), "111223");
}

static void test_fs_posix_open_errors_name_the_path(void)
{
    meru_fs *fs = meru_fs_posix();
    meru_file *f;
    tmpdir("fs-errors");
    CHECK_RC(meru_fs_open(fs, P("missing"), MERU_FS_READ, &f), MERU_NOT_FOUND);
    CHECK_ERRMSG("open ");
    CHECK_ERRMSG(P("missing"));
    CHECK_ERRMSG("No such file");
    CHECK_OK(put(fs, P("x"), "1"));
    CHECK_RC(meru_fs_open(fs, P("x"),
                          MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL, &f),
             MERU_EEXIST);
    CHECK_ERRMSG(P("x"));
    CHECK_RC(meru_fs_open(fs, dir, MERU_FS_READ, &f), MERU_EIO);
    CHECK_ERRMSG("Is a directory");
    CHECK_RC(meru_fs_open(fs, P("x"), 0, &f), MERU_EINVAL);
    CHECK_RC(meru_fs_remove(fs, P("nope")), MERU_NOT_FOUND);
    CHECK_ERRMSG("remove ");
    CHECK_ERRMSG(P("nope"));
    CHECK_RC(meru_fs_rename(fs, P("nope"), P("x")), MERU_NOT_FOUND);
    CHECK_ERRMSG("rename ");
    CHECK_ERRMSG(P("nope"));
    CHECK_RC(meru_fs_sync_dir(fs, P("nodir")), MERU_NOT_FOUND);
    CHECK_ERRMSG(P("nodir"));
    CHECK_RC(meru_fs_mkdir(fs, P("x")), MERU_EEXIST);
    CHECK_ERRMSG("mkdir ");
    CHECK_RC(meru_fs_list(fs, P("nodir"), NULL, NULL), MERU_NOT_FOUND);
    CHECK_ERRMSG(P("nodir"));
    meru_fs_info st;
    CHECK_RC(meru_fs_stat(fs, P("nope"), &st), MERU_NOT_FOUND);
}

static int stop_at_b(void *arg, const char *name)
{
    (*(int *)arg)++;
    return strcmp(name, "b") == 0 ? 42 : 0;
}

static void test_fs_posix_names_rename_remove_mkdir(void)
{
    meru_fs *fs = meru_fs_posix();
    tmpdir("fs-names");
    CHECK_OK(put(fs, P("b"), "bee"));
    CHECK_OK(put(fs, P("a"), "ay"));
    CHECK_OK(meru_fs_mkdir_p(fs, P("d1/d2/d3")));
    CHECK_OK(meru_fs_mkdir_p(fs, P("d1/d2/d3"))); /* existing is fine */
    CHECK_OK(meru_fs_mkdir_p(fs, P("d1//d4/")));
    CHECK_RC(meru_fs_mkdir_p(fs, P("a/sub")), MERU_EEXIST);
    CHECK_ERRMSG("not a directory");
    char **names;
    size_t n;
    CHECK_OK(meru_fs_list_names(fs, dir, &names, &n));
    CHECK_EQ_INT(n, 3);
    CHECK_STR(names[0], "a");
    CHECK_STR(names[1], "b");
    CHECK_STR(names[2], "d1");
    meru_fs_names_free(names, n);
    CHECK_OK(meru_fs_list_names(fs, P("d1"), &names, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_STR(names[0], "d2");
    CHECK_STR(names[1], "d4");
    meru_fs_names_free(names, n);
    int calls = 0;
    int rc = meru_fs_list(fs, dir, stop_at_b, &calls);
    CHECK_EQ_INT(rc, 42);
    CHECK(calls >= 1 && calls <= 3);

    meru_fs_info st;
    CHECK_OK(meru_fs_stat(fs, P("b"), &st));
    CHECK_EQ_U64(st.size, 3);
    CHECK_EQ_INT(st.is_dir, 0);
    CHECK_OK(meru_fs_stat(fs, P("d1"), &st));
    CHECK_EQ_INT(st.is_dir, 1);
    int ex;
    CHECK_OK(meru_fs_exists(fs, P("b"), &ex));
    CHECK_EQ_INT(ex, 1);
    CHECK_OK(meru_fs_exists(fs, P("zz"), &ex));
    CHECK_EQ_INT(ex, 0);

    /* Rename replaces the target atomically. */
    CHECK_OK(meru_fs_rename(fs, P("b"), P("a")));
    CHECK_STR(get(fs, P("a")), "bee");
    CHECK_STR(get(fs, P("b")), "<missing>");
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_remove(fs, P("a")));
    CHECK_STR(get(fs, P("a")), "<missing>");
    CHECK_RC(meru_fs_remove(fs, P("d1/d2")), MERU_EIO); /* not empty */
    CHECK_ERRMSG(P("d1/d2"));
    CHECK_OK(meru_fs_remove(fs, P("d1/d2/d3")));
    CHECK_OK(meru_fs_remove(fs, P("d1/d2")));
    CHECK_OK(meru_fs_exists(fs, P("d1/d2"), &ex));
    CHECK_EQ_INT(ex, 0);
}

static void test_fs_read_all_respects_the_cap(void)
{
    meru_fs *fs = meru_fs_posix();
    tmpdir("fs-readall");
    CHECK_OK(put(fs, P("j"), "{\"a\":1}"));
    uint8_t *d;
    size_t len;
    CHECK_OK(meru_fs_read_all(fs, P("j"), 7, &d, &len));
    CHECK_EQ_INT(len, 7);
    CHECK_STR((char *)d, "{\"a\":1}");
    free(d);
    CHECK_RC(meru_fs_read_all(fs, P("j"), 6, &d, &len), MERU_ERANGE);
    CHECK_ERRMSG(P("j"));
    CHECK_OK(put(fs, P("empty"), ""));
    CHECK_OK(meru_fs_read_all(fs, P("empty"), 0, &d, &len));
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(d[0], 0);
    free(d);
    CHECK_RC(meru_fs_read_all(fs, P("none"), 100, &d, &len), MERU_NOT_FOUND);
}

static void test_fs_lock_is_exclusive_per_open(void)
{
    meru_fs *fs = meru_fs_posix();
    tmpdir("fs-lock");
    meru_file *l1, *l2;
    CHECK_OK(meru_fs_lock(fs, P("LOCK"), &l1));
    /* flock locks belong to the open file description: a second open in
     * the same process conflicts like another process would. */
    CHECK_RC(meru_fs_lock(fs, P("LOCK"), &l2), MERU_ELOCKED);
    CHECK_ERRMSG(P("LOCK"));
    CHECK_ERRMSG("already locked");
    CHECK_OK(meru_fs_unlock(l1));
    CHECK_OK(meru_fs_lock(fs, P("LOCK"), &l2));
    CHECK_OK(meru_fs_unlock(l2));
}

static void test_fs_path_join_and_parent(void)
{
    char b[16];
    CHECK_OK(meru_path_join(b, sizeof b, "a/b", "c"));
    CHECK_STR(b, "a/b/c");
    CHECK_OK(meru_path_join(b, sizeof b, "a/", "c"));
    CHECK_STR(b, "a/c");
    CHECK_OK(meru_path_join(b, sizeof b, "", "c"));
    CHECK_STR(b, "c");
    CHECK_OK(meru_path_join(b, sizeof b, "/", "c"));
    CHECK_STR(b, "/c");
    CHECK_OK(meru_path_join(b, 6, "ab", "cd"));
    CHECK_RC(meru_path_join(b, 5, "ab", "cd"), MERU_ERANGE);
    static const char *cases[][2] = {
        {"a/b/c", "a/b"}, {"a", "."},    {"", "."},     {"/x", "/"},
        {"/", "/"},       {"a//b", "a"}, {"a/b/", "a"}, {"/a/b//", "/a"},
        {"./x", "."},     {"//x", "/"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_OK(meru_path_parent(b, sizeof b, cases[i][0]));
        CHECK_STR(b, cases[i][1]);
    }
    CHECK_RC(meru_path_parent(b, 3, "abc/def"), MERU_ERANGE);
}

/* ---- fault injection ----------------------------------------------------- */

static void test_fault_injected_fsync_eio_propagates(void)
{
    meru_fs *fs;
    meru_file *f;
    tmpdir("fault-eio");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_mkdir(fs, P("wal")));
    CHECK_OK(meru_fs_open(fs, P("wal/000012.log"),
                          MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_OK(meru_file_append(f, "rec", 3));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, "000012", 2, EIO));
    CHECK_OK(meru_file_sync(f)); /* 1st matching call passes */
    CHECK_RC(meru_file_sync(f), MERU_EIO);
    CHECK_ERRMSG("fdatasync ");
    CHECK_ERRMSG("wal/000012.log: Input/output error");
    CHECK_ERRMSG("(injected)");
    CHECK_OK(meru_file_sync(f)); /* nth rules fire once */
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_FULL, NULL, 0, EIO));
    CHECK_RC(meru_file_sync_full(f), MERU_EIO);
    CHECK_RC(meru_file_sync_full(f), MERU_EIO);
    CHECK_OK(meru_file_sync(f)); /* other ops are unaffected */
    meru_fs_fault_clear(fs);
    CHECK_OK(meru_file_sync_full(f));
    /* A path filter that does not match never fires. */
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, "other", 0, EIO));
    CHECK_OK(meru_file_sync(f));
    CHECK_OK(meru_file_close(f));
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC), 5);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC_FULL), 3);
    meru_fs_free(fs);
}

static void test_fault_injected_enospc_and_open_failures(void)
{
    meru_fs *fs;
    meru_file *f;
    tmpdir("fault-enospc");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_OPEN, "sst", 1, EACCES));
    CHECK_RC(meru_fs_open(fs, P("a.sst"), MERU_FS_WRITE | MERU_FS_CREATE, &f),
             MERU_EIO);
    CHECK_ERRMSG("open ");
    CHECK_ERRMSG("a.sst");
    CHECK_ERRMSG("Permission denied");
    CHECK_STR(get(fs, P("a.sst")), "<missing>"); /* nothing was done */
    CHECK_OK(meru_fs_open(fs, P("a.sst"), MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_APPEND, NULL, 1, ENOSPC));
    CHECK_RC(meru_file_append(f, "abcdef", 6), MERU_ENOSPC);
    CHECK_ERRMSG("No space left on device");
    uint64_t size;
    CHECK_OK(meru_file_size(f, &size));
    CHECK_EQ_U64(size, 0);
    CHECK_OK(meru_file_append(f, "abcdef", 6));
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_RENAME, "b.sst", 0, EIO));
    CHECK_RC(meru_fs_rename(fs, P("a.sst"), P("b.sst")), MERU_EIO);
    CHECK_STR(get(fs, P("a.sst")), "abcdef");
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_DIR, NULL, 1, EIO));
    CHECK_RC(meru_fs_sync_dir(fs, dir), MERU_EIO);
    CHECK_ERRMSG("fsync dir ");
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    meru_fs_free(fs);
}

static void test_fault_short_write_writes_half_then_enospc(void)
{
    meru_fs *fs;
    meru_file *f;
    tmpdir("fault-short");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_open(fs, P("w.log"),
                          MERU_FS_READ | MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_OK(meru_fs_fault_inject_short_write(fs, "w.log", 1));
    CHECK_RC(meru_file_append(f, "0123456789", 10), MERU_ENOSPC);
    CHECK_ERRMSG("short write: 5 of 10 bytes");
    CHECK_ERRMSG("w.log");
    uint64_t size;
    CHECK_OK(meru_file_size(f, &size));
    CHECK_EQ_U64(size, 5);
    CHECK_OK(meru_file_append(f, "abc", 3)); /* the rule fired once */
    CHECK_STR(get(fs, P("w.log")), "01234abc");
    /* pwrite short write too. */
    CHECK_OK(meru_fs_fault_inject_short_write(fs, NULL, 0));
    CHECK_RC(meru_file_pwrite(f, 0, "XXXX", 4), MERU_ENOSPC);
    CHECK_STR(get(fs, P("w.log")), "XX234abc");
    CHECK_RC(meru_file_append(f, "Z", 1), MERU_ENOSPC); /* 0 of 1 */
    CHECK_STR(get(fs, P("w.log")), "XX234abc");
    CHECK_OK(meru_file_close(f));
    meru_fs_free(fs);
}

static void test_fault_counts_calls_per_op(void)
{
    meru_fs *fs;
    tmpdir("fault-count");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_durable_write(fs, P("CURRENT"), "v1", 2));
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_OPEN), 1);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_APPEND), 1);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC_FULL), 1);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_CLOSE), 1);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_RENAME), 1);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC_DIR), 1);
    CHECK_EQ_U64(meru_fs_fault_total(fs), 6);
    CHECK_STR(meru_fs_op_name(MERU_FS_OP_SYNC_DIR), "sync_dir");
    meru_fs_fault_reset_counts(fs);
    CHECK_EQ_U64(meru_fs_fault_total(fs), 0);
    /* Stash entries of the fault fs never show in listings. */
    CHECK_OK(meru_durable_write(fs, P("CURRENT"), "v2", 2));
    CHECK_OK(meru_fs_remove(fs, P("CURRENT")));
    char **names;
    size_t n;
    CHECK_OK(meru_fs_list_names(fs, dir, &names, &n));
    CHECK_EQ_INT(n, 0);
    meru_fs_names_free(names, n);
    meru_fs_free(fs);
    /* Freeing the fault fs made the removal final: no stash left. */
    CHECK_OK(meru_fs_list_names(meru_fs_posix(), dir, &names, &n));
    CHECK_EQ_INT(n, 0);
    meru_fs_names_free(names, n);
}

typedef struct sweep {
    meru_fs *fs;
    int removed;
} sweep;

static int remove_tmp(void *arg, const char *name)
{
    sweep *sw = arg;
    size_t n = strlen(name);
    if (n < 4 || strcmp(name + n - 4, ".tmp") != 0)
        return 0;
    int rc = meru_fs_remove(sw->fs, P(name));
    sw->removed += rc == 0;
    return rc;
}

static void test_fault_list_callback_may_use_the_fs(void)
{
    /* An orphan sweep removes entries from inside the listing callback. */
    meru_fs *fs;
    tmpdir("fault-sweep");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(put(fs, P("a.tmp"), "1"));
    CHECK_OK(put(fs, P("b.tmp"), "2"));
    CHECK_OK(put(fs, P("keep"), "3"));
    sweep sw = {fs, 0};
    CHECK_OK(meru_fs_list(fs, dir, remove_tmp, &sw));
    CHECK_EQ_INT(sw.removed, 2);
    char **names;
    size_t n;
    CHECK_OK(meru_fs_list_names(fs, dir, &names, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_STR(names[0], "keep");
    meru_fs_names_free(names, n);
    meru_fs_free(fs);
}

/* ---- power loss ---------------------------------------------------------- */

static void test_crash_keeps_synced_data_and_drops_unsynced(void)
{
    meru_fs *fs;
    meru_file *f;
    tmpdir("crash-data");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_open(fs, P("log"), MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_OK(meru_file_append(f, "synced|", 7));
    CHECK_OK(meru_file_sync(f));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_file_append(f, "lost", 4));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, NULL, 1, EIO));
    CHECK_RC(meru_file_sync(f), MERU_EIO); /* a failed sync saves nothing */
    CHECK_STR(get(fs, P("log")), "synced|lost");
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("log")), "synced|");
    /* The old handle died with the process. */
    CHECK_RC(meru_file_append(f, "x", 1), MERU_EIO);
    CHECK_ERRMSG("simulated crash");
    CHECK_OK(meru_file_close(f));
    /* Reopen and continue; sync_full also makes data durable. */
    CHECK_OK(meru_fs_open(fs, P("log"), MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_append(f, "more", 4));
    CHECK_OK(meru_file_sync_full(f));
    CHECK_OK(meru_file_append(f, "gone", 4));
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("log")), "synced|more");
    meru_fs_free(fs);
}

static void test_crash_restores_overwritten_and_truncated_bytes(void)
{
    meru_fs *fs;
    meru_file *f;
    tmpdir("crash-overwrite");
    CHECK_OK(put(meru_fs_posix(), P("m"), "0123456789"));
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_open(fs, P("m"), MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_pwrite(f, 2, "AB", 2));
    CHECK_OK(meru_file_truncate(f, 4));
    CHECK_OK(meru_file_append(f, "xyz", 3));
    CHECK_STR(get(fs, P("m")), "01ABxyz");
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("m")), "0123456789");
    CHECK_OK(meru_file_close(f));
    /* After a sync the new image is the durable one. */
    CHECK_OK(meru_fs_open(fs, P("m"), MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_pwrite(f, 0, "ZZ", 2));
    CHECK_OK(meru_file_sync(f));
    CHECK_OK(meru_file_pwrite(f, 8, "QQQQ", 4));
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("m")), "ZZ23456789");
    /* Opening with TRUNC is undone too. */
    CHECK_OK(meru_fs_open(fs, P("m"), MERU_FS_WRITE | MERU_FS_TRUNC, &f));
    CHECK_OK(meru_file_append(f, "new", 3));
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("m")), "ZZ23456789");
    meru_fs_free(fs);
}

static void test_crash_removes_files_created_without_dir_sync(void)
{
    meru_fs *fs;
    tmpdir("crash-create");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(put(fs, P("kept"), "k"));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(put(fs, P("new"), "data synced, entry not")); /* file synced */
    CHECK_OK(meru_fs_mkdir(fs, P("sub")));
    CHECK_OK(put(fs, P("sub/inner"), "x"));
    CHECK_OK(meru_fs_sync_dir(fs, P("sub"))); /* inner durable in sub... */
    CHECK_STR(get(fs, P("new")), "data synced, entry not");
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("kept")), "k");
    CHECK_STR(get(fs, P("new")), "<missing>");
    /* ...but sub itself was never made durable in its parent. */
    int ex;
    CHECK_OK(meru_fs_exists(fs, P("sub"), &ex));
    CHECK_EQ_INT(ex, 0);
    /* With the directory synced the create survives. */
    CHECK_OK(put(fs, P("new"), "v"));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("new")), "v");
    /* Relative and unnormalised spellings name the same directory. */
    CHECK_OK(meru_fs_mkdir(fs, P("d")));
    CHECK_OK(put(fs, P("d/f"), "f"));
    CHECK_OK(meru_fs_sync_dir(fs, P("./d/")));
    CHECK_OK(meru_fs_sync_dir(fs, P("d/../")));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("d/f")), "f");
    meru_fs_free(fs);
}

static void test_crash_reverts_rename_and_remove_without_dir_sync(void)
{
    meru_fs *fs;
    tmpdir("crash-rename");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(put(fs, P("a"), "old"));
    CHECK_OK(put(fs, P("b"), "new"));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_rename(fs, P("b"), P("a")));
    CHECK_STR(get(fs, P("a")), "new");
    CHECK_STR(get(fs, P("b")), "<missing>");
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("a")), "old");
    CHECK_STR(get(fs, P("b")), "new");
    /* Remove, un-synced: the file comes back with its synced content. */
    meru_file *f;
    CHECK_OK(meru_fs_open(fs, P("a"), MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_append(f, "+unsynced", 9));
    CHECK_OK(meru_file_close(f));
    CHECK_OK(meru_fs_remove(fs, P("a")));
    CHECK_STR(get(fs, P("a")), "<missing>");
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("a")), "old");
    /* Durable once the directory is synced. */
    CHECK_OK(meru_fs_rename(fs, P("b"), P("a")));
    CHECK_OK(meru_fs_remove(fs, P("a")));
    CHECK_OK(put(fs, P("c"), "c"));
    CHECK_OK(meru_fs_rename(fs, P("c"), P("b")));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("a")), "<missing>");
    CHECK_STR(get(fs, P("b")), "c");
    CHECK_STR(get(fs, P("c")), "<missing>");
    meru_fs_free(fs);
}

static void test_crash_cross_directory_rename_is_never_split(void)
{
    meru_fs *fs;
    tmpdir("crash-xdir");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_mkdir(fs, P("x")));
    CHECK_OK(meru_fs_mkdir(fs, P("y")));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(put(fs, P("x/f"), "payload"));
    /* Moving x/f to y/g and syncing only y also makes f's creation in x
     * durable (it must have existed to be renamed). */
    CHECK_OK(meru_fs_rename(fs, P("x/f"), P("y/g")));
    CHECK_OK(meru_fs_sync_dir(fs, P("y")));
    CHECK_OK(meru_fs_fault_crash(fs));
    CHECK_STR(get(fs, P("y/g")), "payload");
    CHECK_STR(get(fs, P("x/f")), "<missing>");
    meru_fs_free(fs);
}

static void test_crash_releases_locks_and_torn_mode_keeps_a_prefix(void)
{
    meru_fs *fs;
    meru_file *l, *f;
    tmpdir("crash-lock");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_lock(fs, P("LOCK"), &l));
    meru_file *l2;
    CHECK_RC(meru_fs_lock(fs, P("LOCK"), &l2), MERU_ELOCKED);
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_open(fs, P("wal"), MERU_FS_WRITE | MERU_FS_CREATE, &f));
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_file_append(f, "AAAA", 4));
    CHECK_OK(meru_file_sync(f));
    CHECK_OK(meru_file_append(f, "BBBBBBBBBBBBBBBBBBBB", 20));
    CHECK_OK(meru_fs_fault_crash_torn(fs, meru_test_rand()));
    CHECK_OK(meru_fs_lock(fs, P("LOCK"), &l2)); /* the dead process's lock */
    CHECK_OK(meru_fs_unlock(l2));
    CHECK_OK(meru_fs_unlock(l));
    CHECK_OK(meru_file_close(f));
    const char *s = get(fs, P("wal"));
    size_t len = strlen(s);
    CHECK(len >= 4 && len <= 24);
    CHECK(strncmp(s, "AAAABBBBBBBBBBBBBBBBBBBB", len) == 0);
    /* Over many seeds both extremes and the middle occur. */
    int seen_none = 0, seen_all = 0, seen_mid = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        CHECK_OK(meru_fs_open(fs, P("wal"), MERU_FS_WRITE | MERU_FS_TRUNC, &f));
        CHECK_OK(meru_file_append(f, "AAAA", 4));
        CHECK_OK(meru_file_sync(f));
        CHECK_OK(meru_file_append(f, "BBBB", 4));
        CHECK_OK(meru_file_close(f));
        CHECK_OK(meru_fs_fault_crash_torn(fs, seed));
        len = strlen(get(fs, P("wal")));
        seen_none |= len == 4;
        seen_all |= len == 8;
        seen_mid |= len > 4 && len < 8;
    }
    CHECK(seen_none && seen_all && seen_mid);
    meru_fs_free(fs);
}

typedef struct worker {
    meru_fs *fs;
    char path[4200];
    uint64_t synced; /* bytes known durable */
    int rc;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    meru_file *f;
    char rec[64];
    w->rc = meru_fs_open(w->fs, w->path,
                         MERU_FS_READ | MERU_FS_WRITE | MERU_FS_CREATE, &f);
    if (w->rc)
        return NULL;
    uint64_t written = 0;
    for (int i = 0; i < 300 && !w->rc; i++) {
        int n = snprintf(rec, sizeof rec, "record %d;", i);
        w->rc = meru_file_append(f, rec, (size_t)n);
        written += (uint64_t)n;
        if (!w->rc && i % 50 == 49 && !(w->rc = meru_file_sync(f)))
            w->synced = written;
        if (!w->rc && i % 10 == 0) {
            size_t got;
            meru_fs_info st;
            w->rc = meru_file_pread(f, 0, rec, 7, &got);
            if (!w->rc)
                w->rc = meru_fs_stat(w->fs, w->path, &st);
        }
    }
    meru_file_close(f);
    return NULL;
}

static void test_fault_fs_is_safe_across_threads(void)
{
    enum { NT = 4 };
    meru_fs *fs;
    worker w[NT];
    pthread_t th[NT];
    tmpdir("fault-threads");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    for (int i = 0; i < NT; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].fs = fs;
        snprintf(w[i].path, sizeof w[i].path, "%s/t%d.log", dir, i);
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NT; i++)
        CHECK_OK(w[i].rc);
    CHECK_OK(meru_fs_sync_dir(fs, dir));
    CHECK_OK(meru_fs_fault_crash(fs));
    for (int i = 0; i < NT; i++) {
        meru_fs_info st;
        CHECK_OK(meru_fs_stat(fs, w[i].path, &st));
        CHECK_EQ_U64(st.size, w[i].synced);
    }
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_APPEND), NT * 300);
    meru_fs_free(fs);
}

static void test_durable_write_survives_a_crash_at_every_step(void)
{
    meru_fs *fs;
    tmpdir("crash-durable");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    /* First version, with no previous file: missing or complete. */
    for (uint64_t k = 0;; k++) {
        meru_fs_fault_die_after(fs, k);
        int rc = meru_durable_write(fs, P("CURRENT"), "version-1", 9);
        CHECK_OK(meru_fs_fault_crash(fs));
        const char *got = get(fs, P("CURRENT"));
        CHECK_MSG(!strcmp(got, "<missing>") || !strcmp(got, "version-1"),
                  "crash after %llu ops: CURRENT is \"%s\"",
                  (unsigned long long)k, got);
        if (rc == MERU_OK) {
            CHECK_STR(got, "version-1");
            CHECK(k >= 6); /* open, append, sync, close, rename, sync dir */
            break;
        }
        CHECK(k < 100);
    }
    int saw_old_after_rename = 0;
    for (uint64_t k = 0;; k++) {
        meru_fs_fault_die_after(fs, k);
        int rc =
            meru_durable_write(fs, P("CURRENT"), "version-2 is longer", 19);
        /* The live view right before the power cut. */
        const char *live = get(meru_fs_posix(), P("CURRENT"));
        CHECK_OK(meru_fs_fault_crash(fs));
        const char *got = get(fs, P("CURRENT"));
        CHECK_MSG(!strcmp(got, "version-1") ||
                      !strcmp(got, "version-2 is longer"),
                  "crash after %llu ops: CURRENT is \"%s\"",
                  (unsigned long long)k, got);
        if (!strcmp(live, "version-2 is longer") && !strcmp(got, "version-1"))
            saw_old_after_rename = 1; /* renamed, dir not synced */
        if (rc == MERU_OK) {
            CHECK_STR(got, "version-2 is longer");
            break;
        }
        CHECK(k < 100);
    }
    CHECK(saw_old_after_rename); /* the model really reverted a rename */
    meru_fs_free(fs);
}

static void test_durable_write_failure_leaves_target_and_no_temp(void)
{
    static const meru_fs_op ops[] = {MERU_FS_OP_OPEN, MERU_FS_OP_APPEND,
                                     MERU_FS_OP_SYNC_FULL, MERU_FS_OP_RENAME};
    meru_fs *fs;
    tmpdir("durable-fail");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_durable_write(fs, P("meta"), "old", 3));
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        CHECK_OK(meru_fs_fault_inject(fs, ops[i], NULL, 1, EIO));
        CHECK_RC(meru_durable_write(fs, P("meta"), "NEW!", 4), MERU_EIO);
        CHECK_ERRMSG("meta.tmp"); /* the failing step's own message */
        CHECK_ERRMSG("(injected)");
        meru_fs_fault_clear(fs);
        CHECK_STR(get(fs, P("meta")), "old");
        CHECK_STR(get(fs, P("meta.tmp")), "<missing>");
    }
    CHECK_OK(meru_fs_fault_inject_short_write(fs, NULL, 1));
    CHECK_RC(meru_durable_write(fs, P("meta"), "NEW!", 4), MERU_ENOSPC);
    CHECK_STR(get(fs, P("meta")), "old");
    CHECK_STR(get(fs, P("meta.tmp")), "<missing>");
    /* A failed directory sync comes after the rename: reported. */
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_DIR, NULL, 1, EIO));
    CHECK_RC(meru_durable_write(fs, P("meta"), "NEW!", 4), MERU_EIO);
    CHECK_OK(meru_durable_write(fs, P("meta"), "NEW!", 4));
    CHECK_STR(get(fs, P("meta")), "NEW!");
    meru_fs_free(fs);
}

/*
 * A random single-directory workload against a model: the durable state is
 * the namespace at the last sync_dir and, per file, the content at its last
 * sync. After a crash the directory must match it exactly.
 */
#define NF    4
#define NNODE 64

typedef struct model_file {
    char cur[256], dur[256];
    size_t cur_len, dur_len;
} model_file;

static void test_crash_matches_model_on_random_workloads(void)
{
    static model_file node[NNODE];
    int name_cur[NF], name_dur[NF];
    meru_fs *fs;
    char names[NF][8];
    tmpdir("crash-model");
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    int rounds = (int)(60 * meru_test_scale()) + 1;
    for (int r = 0; r < rounds; r++) {
        int nnodes = 0;
        for (int i = 0; i < NF; i++) {
            snprintf(names[i], sizeof names[i], "f%d", i);
            meru_fs_remove(fs, P(names[i]));
            name_cur[i] = name_dur[i] = -1;
        }
        CHECK_OK(meru_fs_sync_dir(fs, dir));
        for (int step = 0; step < 40; step++) {
            int i = (int)(meru_test_rand() % NF);
            int j = (int)(meru_test_rand() % NF);
            int what = (int)(meru_test_rand() % 7);
            const char *pi = P(names[i]);
            meru_file *f;
            if (what == 0 && nnodes < NNODE) { /* create (replace) */
                if (name_cur[i] >= 0)
                    continue;
                CHECK_OK(
                    meru_fs_open(fs, pi, MERU_FS_WRITE | MERU_FS_CREATE, &f));
                CHECK_OK(meru_file_close(f));
                memset(&node[nnodes], 0, sizeof node[0]);
                name_cur[i] = nnodes++;
            } else if (what <= 2 && name_cur[i] >= 0) { /* append (+sync) */
                model_file *m = &node[name_cur[i]];
                char chunk[8];
                size_t n = 1 + meru_test_rand() % 7;
                if (m->cur_len + n >= sizeof m->cur)
                    continue;
                for (size_t k = 0; k < n; k++)
                    chunk[k] = (char)('a' + meru_test_rand() % 26);
                CHECK_OK(meru_fs_open(fs, pi, MERU_FS_WRITE, &f));
                CHECK_OK(meru_file_append(f, chunk, n));
                memcpy(m->cur + m->cur_len, chunk, n);
                m->cur_len += n;
                if (what == 2) {
                    CHECK_OK(meru_file_sync(f));
                    memcpy(m->dur, m->cur, m->cur_len);
                    m->dur_len = m->cur_len;
                }
                CHECK_OK(meru_file_close(f));
            } else if (what == 3 && name_cur[i] >= 0 && i != j) {
                CHECK_OK(meru_fs_rename(fs, pi, P(names[j])));
                name_cur[j] = name_cur[i];
                name_cur[i] = -1;
            } else if (what == 4 && name_cur[i] >= 0) {
                CHECK_OK(meru_fs_remove(fs, pi));
                name_cur[i] = -1;
            } else if (what == 5) {
                CHECK_OK(meru_fs_sync_dir(fs, dir));
                memcpy(name_dur, name_cur, sizeof name_dur);
            }
        }
        CHECK_OK(meru_fs_fault_crash(fs));
        for (int i = 0; i < NF; i++) {
            const char *got = get(fs, P(names[i]));
            if (name_dur[i] < 0) {
                CHECK_MSG(!strcmp(got, "<missing>"),
                          "round %d: %s should be missing, holds \"%s\"", r,
                          names[i], got);
            } else {
                model_file *m = &node[name_dur[i]];
                m->dur[m->dur_len] = '\0';
                CHECK_MSG(!strcmp(got, m->dur),
                          "round %d: %s holds \"%s\", want \"%s\"", r, names[i],
                          got, m->dur);
            }
        }
        char **ls;
        size_t n;
        CHECK_OK(meru_fs_list_names(meru_fs_posix(), dir, &ls, &n));
        meru_fs_names_free(ls, n);
        int live = 0;
        for (int i = 0; i < NF; i++)
            live += name_dur[i] >= 0;
        CHECK_EQ_INT(n, live); /* no stash left behind after the crash */
    }
    meru_fs_free(fs);
}

int main(void)
{
    MERU_TEST_RUN(test_fs_posix_append_pread_size);
    MERU_TEST_RUN(test_fs_posix_append_flag_appends_at_true_end);
    MERU_TEST_RUN(test_fs_posix_open_errors_name_the_path);
    MERU_TEST_RUN(test_fs_posix_names_rename_remove_mkdir);
    MERU_TEST_RUN(test_fs_read_all_respects_the_cap);
    MERU_TEST_RUN(test_fs_lock_is_exclusive_per_open);
    MERU_TEST_RUN(test_fs_path_join_and_parent);
    MERU_TEST_RUN(test_fault_injected_fsync_eio_propagates);
    MERU_TEST_RUN(test_fault_injected_enospc_and_open_failures);
    MERU_TEST_RUN(test_fault_short_write_writes_half_then_enospc);
    MERU_TEST_RUN(test_fault_counts_calls_per_op);
    MERU_TEST_RUN(test_fault_list_callback_may_use_the_fs);
    MERU_TEST_RUN(test_crash_keeps_synced_data_and_drops_unsynced);
    MERU_TEST_RUN(test_crash_restores_overwritten_and_truncated_bytes);
    MERU_TEST_RUN(test_crash_removes_files_created_without_dir_sync);
    MERU_TEST_RUN(test_crash_reverts_rename_and_remove_without_dir_sync);
    MERU_TEST_RUN(test_crash_cross_directory_rename_is_never_split);
    MERU_TEST_RUN(test_crash_releases_locks_and_torn_mode_keeps_a_prefix);
    MERU_TEST_RUN(test_fault_fs_is_safe_across_threads);
    MERU_TEST_RUN(test_durable_write_survives_a_crash_at_every_step);
    MERU_TEST_RUN(test_durable_write_failure_leaves_target_and_no_temp);
    MERU_TEST_RUN(test_crash_matches_model_on_random_workloads);
    return meru_test_finish();
}
