/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_nomem.c — allocation failure on the engine's main paths (open,
 * create, put, batch, flush, get, scan, compaction, read-only open): for
 * N = 1, 2, 3, ... the Nth allocation made during the operation fails, as
 * SQLite's malloc-failure loops do, until N is past what the operation
 * allocates. Each time the operation returns MERU_OK or an error status
 * (never crashes), a get never answers "not found" for a key that is
 * there, a scan never ends early as if complete, nothing leaks
 * (AddressSanitizer), and the table, reopened, holds every acknowledged
 * write.
 *
 * How allocations fail without touching the library: the program is
 * linked with --wrap for every allocator the library calls
 * MERU_TEST_WRAP: malloc calloc realloc strdup strndup posix_memalign mmap
 * (calls from any thread count, the background workers' too). Only the
 * one Nth allocation fails. Allocations inside shared libraries (the
 * codecs, jansson) are not failed: jansson's parser cannot survive an
 * allocation failure (it continues with a truncated buffer and crashes or
 * asserts: upstream issue akheron/jansson#362, unfixed in Debian 12's
 * 2.14), so failing them would test jansson, not us. The same wrappers
 * work under AddressSanitizer: __real_malloc is its malloc.
 *
 * N runs 1..32, then grows by a quarter (by half below MERU_TEST_SCALE 1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/db_internal.h"
#include "support/fs_fault.h"
#include "test.h"
#include "test_db_common.h"

/* ---------------------------------------------------------- the wrappers */

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off);

static atomic_uint_fast64_t g_fail_at; /* 0: disarmed */
static atomic_uint_fast64_t g_count;
static atomic_int g_fired;

/* Whether this allocation is the one to fail. */
static int fail_now(void)
{
    uint64_t at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
    if (!at)
        return 0;
    if (atomic_fetch_add(&g_count, 1) + 1 != at)
        return 0;
    atomic_store(&g_fired, 1);
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b)
{
    return fail_now() ? NULL : __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return fail_now() ? ENOMEM : __real_posix_memalign(p, a, n);
}
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    /* anonymous maps are allocations; file maps (mmap_reads) too can fail
     * for lack of memory */
    return fail_now() ? MAP_FAILED
                      : __real_mmap(addr, len, prot, flags, fd, off);
}

static void arm(uint64_t n)
{
    atomic_store(&g_fired, 0);
    atomic_store(&g_count, 0);
    atomic_store(&g_fail_at, n);
}

/* Disarms; returns whether the armed allocation failed. */
static int disarm(void)
{
    atomic_store(&g_fail_at, 0);
    return atomic_load(&g_fired);
}

/* ------------------------------------------------------------- the table */

#define NKEYS 400
#define COLS  "id int64 not null, v int64, s string"

static meru_schema *g_schema;
static char g_base[4096]; /* the prepared table */
static char g_work[4096];
static int64_t g_val[NKEYS]; /* 0: absent */

static void opts(meru_options *o)
{
    tdb_small_options(o);
    o->l0_compaction_trigger = 12;
    o->background_threads = 1;
}

static int set_row(meru_row *r, int64_t k, int64_t v)
{
    char s[48];
    int n = snprintf(s, sizeof s, "k%lld-v%lld", (long long)k, (long long)v);
    meru_row_clear(r);
    int rc = meru_row_set_int64(r, 0, k);
    if (!rc)
        rc = meru_row_set_int64(r, 1, v);
    if (!rc)
        rc = meru_row_set_string(r, 2, s, (size_t)n);
    return rc;
}

static int row_ok(const meru_row *r, int64_t k, int64_t v)
{
    int64_t id = -1, val = -1;
    const char *s = NULL;
    size_t n = 0;
    char want[48];
    int wn = snprintf(want, sizeof want, "k%lld-v%lld", (long long)k,
                      (long long)v);
    return !meru_row_get_int64(r, 0, &id) && !meru_row_get_int64(r, 1, &val) &&
           !meru_row_get_string(r, 2, &s, &n) && id == k && val == v &&
           n == (size_t)wn && !memcmp(s, want, n);
}

static int copy_tree(const char *src, const char *dst)
{
    struct stat st;
    if (stat(src, &st))
        return -1;
    if (S_ISDIR(st.st_mode)) {
        mkdir(dst, 0755);
        DIR *d = opendir(src);
        struct dirent *e;
        int rc = 0;
        while (d && (e = readdir(d)) && !rc) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
                !strcmp(e->d_name, "LOCK"))
                continue;
            char a[4200], b[4200];
            snprintf(a, sizeof a, "%s/%s", src, e->d_name);
            snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
            rc = copy_tree(a, b);
        }
        if (d)
            closedir(d);
        return rc;
    }
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC,
                                            0644);
    char buf[65536];
    ssize_t n;
    int rc = in < 0 || out < 0 ? -1 : 0;
    while (!rc && (n = read(in, buf, sizeof buf)) > 0)
        rc = write(out, buf, (size_t)n) == n ? 0 : -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

/* The base table: rows in L1, L0 and the log (its last writes were cut
 * by a simulated crash, so an open replays them), some deleted. */
static int prepare(void)
{
    meru_db *db = NULL;
    meru_row *r = NULL;
    meru_fs *fs = NULL;
    meru_options o;
    opts(&o);
    snprintf(g_base, sizeof g_base, "%s", meru_test_tmpdir("nomem_base"));
    int rc = meru_open(g_base, &o, g_schema, &db);
    if (!rc)
        rc = meru_row_new(&r, g_schema);
    for (int64_t k = 0; !rc && k < NKEYS; k++) {
        g_val[k] = 1000 + k;
        rc = set_row(r, k, g_val[k]);
        if (!rc)
            rc = meru_put(db, r, NULL);
        if (!rc && k == 150)
            rc = meru_compact(db);
        if (!rc && k == 300)
            rc = meru_flush(db);
    }
    for (int64_t k = 0; !rc && k < NKEYS; k += 7) {
        g_val[k] = 0;
        rc = set_row(r, k, 0);
        if (!rc)
            rc = meru_delete(db, r, NULL);
    }
    if (db) {
        int rc2 = meru_close(db);
        meru_db_free(db);
        db = NULL;
        rc = rc ? rc : rc2;
    }
    /* writes only in the log */
    o.sync_mode = MERU_SYNC_EVERY;
    if (!rc)
        rc = meru_fs_fault_new(&fs, meru_fs_posix());
    if (!rc)
        rc = meru_db_open_fs(g_base, &o, NULL, fs, &db);
    for (int64_t k = 3; !rc && k < NKEYS; k += 9) {
        g_val[k] = 3000 + k;
        rc = set_row(r, k, g_val[k]);
        if (!rc)
            rc = meru_put(db, r, NULL);
    }
    if (fs) {
        meru_fs_fault_die_after(fs, 0);
        meru_db_free(db);
        if (meru_fs_fault_crash(fs) && !rc)
            rc = -1;
        meru_fs_free(fs);
    }
    meru_row_free(r);
    return rc;
}

static int fresh_copy(void)
{
    snprintf(g_work, sizeof g_work, "%s", meru_test_tmpdir("nomem_work"));
    return copy_tree(g_base, g_work);
}

/* Every key against g_val (after a clean reopen). */
static int check_table(const char *dir, const int64_t *val)
{
    meru_db *db = NULL;
    meru_row *k = NULL, *out = NULL;
    meru_options o;
    opts(&o);
    int bad = 0;
    if (meru_open(dir, &o, NULL, &db) || meru_row_new(&k, g_schema) ||
        meru_row_new(&out, g_schema)) {
        fprintf(stderr, "  reopen: %s\n", meru_errmsg());
        bad = 1;
    }
    for (int64_t i = 0; !bad && i < NKEYS; i++) {
        set_row(k, i, 0);
        int rc = meru_get(db, NULL, k, out);
        if (val[i] ? rc != MERU_OK || !row_ok(out, i, val[i])
                   : rc != MERU_NOT_FOUND) {
            fprintf(stderr, "  key %lld: %s, expected %s\n", (long long)i,
                    meru_strerror(rc), val[i] ? "a row" : "nothing");
            bad = 1;
        }
    }
    meru_row_free(k);
    meru_row_free(out);
    if (db && meru_close(db))
        bad = 1;
    meru_db_free(db);
    return bad;
}

/* ------------------------------------------------------------ the phases */

typedef enum phase {
    PH_OPEN,
    PH_CREATE,
    PH_OPEN_RO,
    PH_PUT,
    PH_BATCH,
    PH_FLUSH,
    PH_GET,
    PH_SCAN,
    PH_COMPACT,
    PH_COUNT
} phase;

static const char *const PHASE_NAMES[PH_COUNT] = {
    "open",  "create", "read-only open", "put",    "batch",
    "flush", "get",    "scan",           "compact"};

/* A failed allocation is MERU_ENOMEM, or MERU_EFAILED when a background
 * job met it first (writes stop): never "not found", never "corrupt"
 * (which could send someone to repair a sound table). */
static int acceptable(int rc)
{
    return rc == MERU_OK ||
           ((rc == MERU_ENOMEM || rc == MERU_EFAILED) && meru_errmsg()[0]);
}

/* Runs `ph` with the nth allocation failing; *fired says whether it did.
 * 0, or -1 when a rule broke (message printed). */
static int run_phase(phase ph, uint64_t nth, int *fired)
{
    static int64_t val[NKEYS];
    meru_db *db = NULL;
    meru_row *r = NULL, *out = NULL;
    meru_options o;
    int rc = MERU_OK, bad = 0;
    opts(&o);
    memcpy(val, g_val, sizeof val);
    if (fresh_copy() || meru_row_new(&r, g_schema) ||
        meru_row_new(&out, g_schema))
        return -1;
    *fired = 0;
    if (ph == PH_OPEN || ph == PH_CREATE || ph == PH_OPEN_RO) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s", g_work, ph == PH_CREATE ? "/new" : "");
        o.read_only = ph == PH_OPEN_RO;
        arm(nth);
        rc = meru_open(dir, &o, ph == PH_CREATE ? g_schema : NULL, &db);
        *fired = disarm();
        if (!acceptable(rc)) {
            fprintf(stderr, "  %s: status %d (%s)\n", PHASE_NAMES[ph], rc,
                    meru_errmsg());
            bad = 1;
        }
        if (db && ph != PH_CREATE) {
            /* what the open loaded answers right */
            for (int64_t i = 0; !bad && i < NKEYS; i += 13) {
                set_row(r, i, 0);
                int g = meru_get(db, NULL, r, out);
                if (val[i] ? g != MERU_OK || !row_ok(out, i, val[i])
                           : g != MERU_NOT_FOUND) {
                    fprintf(stderr, "  after %s: key %lld: %s\n",
                            PHASE_NAMES[ph], (long long)i, meru_strerror(g));
                    bad = 1;
                }
            }
        }
        meru_close(db);
        meru_db_free(db);
        db = NULL;
        if (ph == PH_CREATE && !bad) {
            /* created or not, it opens (creating it) afterwards */
            meru_options oc;
            opts(&oc);
            if (meru_open(dir, &oc, g_schema, &db)) {
                fprintf(stderr, "  create after a failed create: %s\n",
                        meru_errmsg());
                bad = 1;
            }
            meru_close(db);
            meru_db_free(db);
            db = NULL;
        }
        goto check;
    }
    if ((rc = meru_open(g_work, &o, NULL, &db))) {
        fprintf(stderr, "  open: %s\n", meru_errmsg());
        bad = 1;
        goto out;
    }
    switch (ph) {
    case PH_PUT:
        for (int64_t i = 1; i < NKEYS && rc == MERU_OK; i += 19) {
            set_row(r, i, 5000 + i);
            arm(nth);
            rc = meru_put(db, r, NULL);
            *fired |= disarm();
            if (rc == MERU_OK)
                val[i] = 5000 + i;
        }
        break;
    case PH_BATCH: {
        meru_write_batch *b = NULL;
        rc = meru_write_batch_new(&b, g_schema);
        int64_t nv[NKEYS];
        memcpy(nv, val, sizeof nv);
        arm(nth);
        for (int64_t i = 2; i < NKEYS && rc == MERU_OK; i += 23) {
            /* building the rows allocates too (and may fail) */
            rc = set_row(r, i, 7000 + i);
            if (rc == MERU_OK)
                rc = i % 3 ? meru_write_batch_put(b, r)
                           : meru_write_batch_delete(b, r);
            nv[i] = i % 3 ? 7000 + i : 0;
        }
        if (rc == MERU_OK)
            rc = meru_write(db, b, NULL);
        *fired = disarm();
        if (rc == MERU_OK)
            memcpy(val, nv, sizeof nv);
        meru_write_batch_free(b);
        break;
    }
    case PH_FLUSH:
        arm(nth);
        rc = meru_flush(db);
        *fired = disarm();
        break;
    case PH_COMPACT:
        arm(nth);
        rc = meru_compact(db);
        *fired = disarm();
        break;
    case PH_GET:
        for (int64_t i = 0; i < NKEYS && !bad; i += 11) {
            set_row(r, i, 0);
            arm(nth);
            int g = meru_get(db, NULL, r, out);
            *fired |= disarm();
            if (g == MERU_OK ? !val[i] || !row_ok(out, i, val[i])
                : g == MERU_NOT_FOUND ? val[i] != 0
                                      : !acceptable(g)) {
                fprintf(stderr, "  get of key %lld: %s (%s)\n", (long long)i,
                        meru_strerror(g), meru_errmsg());
                bad = 1;
            }
        }
        break;
    case PH_SCAN: {
        meru_iter *it = NULL;
        const meru_row *row;
        int64_t next = 0;
        arm(nth);
        rc = meru_scan(db, NULL, &it);
        while (rc == MERU_OK && (rc = meru_iter_next(it, &row)) == MERU_OK) {
            int64_t id = -1;
            meru_row_get_int64(row, 0, &id);
            while (next < NKEYS && !val[next])
                next++;
            if (id != next || !row_ok(row, id, val[id])) {
                fprintf(stderr, "  scan: row %lld where %lld was due\n",
                        (long long)id, (long long)next);
                bad = 1;
                break;
            }
            next++;
        }
        *fired = disarm();
        meru_iter_free(it);
        while (next < NKEYS && !val[next])
            next++;
        if (!bad && rc == MERU_NOT_FOUND && next < NKEYS) {
            fprintf(stderr, "  scan ended at key %lld as if complete\n",
                    (long long)next);
            bad = 1;
        }
        if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
        break;
    }
    default:
        break;
    }
    if (!bad && !acceptable(rc)) {
        fprintf(stderr, "  %s: status %d (%s)\n", PHASE_NAMES[ph], rc,
                meru_errmsg());
        bad = 1;
    }
    meru_close(db);
    meru_db_free(db);
check:
    if (!bad && check_table(g_work, val))
        bad = 1;
out:
    meru_row_free(r);
    meru_row_free(out);
    meru_test_rmtree(g_work);
    return bad ? -1 : 0;
}

static void test_nomem_every_allocation_of_the_main_paths(void)
{
    double scale = meru_test_scale();
    CHECK_OK(prepare());
    for (int ph = 0; ph < PH_COUNT; ph++) {
        uint64_t n = 1, runs = 0;
        for (;;) {
            int fired = 0;
            CHECK_MSG(run_phase((phase)ph, n, &fired) == 0,
                      "%s with allocation %llu failing broke a rule",
                      PHASE_NAMES[ph], (unsigned long long)n);
            runs++;
            if (!fired)
                break;
            n = n < 32 ? n + 1 : scale < 1 ? n + n / 2 : n + n / 4;
        }
        printf("  %s: %llu runs, allocations 1..%llu\n", PHASE_NAMES[ph],
               (unsigned long long)runs, (unsigned long long)n);
    }
    meru_test_rmtree(g_base);
}

int main(void)
{
    if (meru_schema_parse(&g_schema, "m", COLS, "id"))
        return 1;
    MERU_TEST_RUN(test_nomem_every_allocation_of_the_main_paths);
    meru_schema_free(g_schema);
    return meru_test_finish();
}
