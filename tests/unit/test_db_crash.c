/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_crash.c — crash safety through the public API: a forked child
 * writes and is SIGKILLed at a random moment; the parent reopens and checks
 * what survived (SPEC §5, §12).
 *
 * The child logs to a side file (O_APPEND; a SIGKILL does not lose what
 * write() handed to the kernel) an "attempt" record before each write and
 * an "ack" record after it returns OK. Each writer thread writes its own
 * ascending key sequence, one put or one batch (k fresh rows plus an update
 * of the thread's counter row) at a time, so after recovery each thread's
 * rows must be exactly a prefix 0..M-1 of its sequence with
 *   acked <= M <= attempted, M on a batch boundary,
 *   the counter row naming the last batch below M,
 * and every row's content exact. Runs with MERU_SYNC_EVERY (one thread),
 * MERU_SYNC_GROUP (several threads) and MERU_SYNC_NONE (a kill -9 does not
 * lose what write() handed to the kernel), with a small memtable and large
 * rows so kills land during flushes and commits; the table carries over
 * from one kill to the next.
 *
 * WAL recovery: a killed child leaves its writes only in the WAL (large
 * memtable). Truncating the newest segment at random lengths must open with
 * a prefix of the writes (monotonic in the length, all of them at full
 * length); damaging a byte in the middle of the log (valid records
 * following) must fail with MERU_ECORRUPT (src/wal/wal.h), every time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "test_db_common.h"

#define COLS "id int64 not null, batch int64 not null, val string not null, " \
             "pad binary"
#define THREAD_SPAN 1000000000LL
#define MAX_THREADS 4

/* ------------------------------------------------------- row contents */

static size_t pad_len(int t, int64_t n)
{
    return 300 + (size_t)((n * 37 + t * 11) % 1700);
}

static void pad_fill(uint8_t *p, int t, int64_t n)
{
    size_t len = pad_len(t, n);
    for (size_t j = 0; j < len; j++)
        p[j] = (uint8_t)(n * 13 + (int64_t)j + t);
}

static int fill_row(meru_row *r, int t, int64_t n, int64_t batch)
{
    uint8_t pad[2048];
    char val[64];
    int len = snprintf(val, sizeof val, "t%dn%lld", t, (long long)n);
    pad_fill(pad, t, n);
    int rc = meru_row_set_int64(r, 0, t * THREAD_SPAN + n);
    if (!rc)
        rc = meru_row_set_int64(r, 1, batch);
    if (!rc)
        rc = meru_row_set_string(r, 2, val, (size_t)len);
    if (!rc)
        rc = meru_row_set_binary(r, 3, pad, pad_len(t, n));
    return rc;
}

/* The counter row of thread t: key -(t+1), batch = start of the batch. */
static int fill_counter(meru_row *r, int t, int64_t batch)
{
    int rc = meru_row_set_int64(r, 0, -(int64_t)(t + 1));
    if (!rc)
        rc = meru_row_set_int64(r, 1, batch);
    if (!rc)
        rc = meru_row_set_string(r, 2, "c", 1);
    if (!rc)
        rc = meru_row_set_null(r, 3);
    return rc;
}

/* --------------------------------------------------------- side log */

enum { REC_ATTEMPT = 'A', REC_ACK = 'K', REC_ERROR = 'E', REC_OPEN = 'O' };

typedef struct logrec {
    uint8_t kind;
    uint8_t thread;
    uint16_t k;    /* rows of the write (1: a single put) */
    int32_t code;  /* REC_ERROR: the status */
    int64_t n;     /* first sequence number of the write */
} logrec;

static int g_logfd = -1;
static int g_openfd = -1; /* child: says "opened" on this pipe */

static void log_rec(int kind, int t, int64_t n, int k, int code)
{
    logrec r;
    memset(&r, 0, sizeof r);
    r.kind = (uint8_t)kind;
    r.thread = (uint8_t)t;
    r.k = (uint16_t)k;
    r.code = code;
    r.n = n;
    if (write(g_logfd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(20);
}

/* ------------------------------------------------------------ child */

typedef struct child_thread {
    meru_db *db;
    const meru_schema *schema;
    int t;
    int64_t next;
    uint64_t rng;
} child_thread;

static uint64_t xrand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void *child_writer(void *arg)
{
    child_thread *c = arg;
    meru_row *r = NULL;
    meru_write_batch *b = NULL;
    if (meru_row_new(&r, c->schema) || meru_write_batch_new(&b, c->schema)) {
        log_rec(REC_ERROR, c->t, c->next, 0, -1000);
        _exit(11);
    }
    for (;;) {
        int64_t n = c->next;
        int k = xrand(&c->rng) % 3 == 0 ? 2 + (int)(xrand(&c->rng) % 5) : 1;
        log_rec(REC_ATTEMPT, c->t, n, k, 0);
        int rc;
        if (k == 1) {
            rc = fill_row(r, c->t, n, -1);
            if (!rc)
                rc = meru_put(c->db, r, NULL);
        } else {
            meru_write_batch_clear(b);
            rc = 0;
            for (int i = 0; i < k && !rc; i++) {
                rc = fill_row(r, c->t, n + i, n);
                if (!rc)
                    rc = meru_write_batch_put(b, r);
            }
            /* The counter row goes in the middle of the batch sometimes. */
            meru_row_clear(r);
            if (!rc)
                rc = fill_counter(r, c->t, n);
            if (!rc)
                rc = meru_write_batch_put(b, r);
            if (!rc)
                rc = meru_write(c->db, b, NULL);
        }
        if (rc) {
            log_rec(REC_ERROR, c->t, n, k, rc);
            _exit(12);
        }
        log_rec(REC_ACK, c->t, n, k, 0);
        c->next = n + k;
    }
    return NULL;
}

static void child_main(const char *dir, meru_sync_mode mode, int nthreads,
                       const int64_t *next, size_t memtable, uint64_t seed)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "crash", COLS, "id"))
        _exit(13);
    meru_options o;
    tdb_small_options(&o);
    o.sync_mode = mode;
    o.memtable_bytes = memtable;
    meru_db *db = NULL;
    int rc = meru_open(dir, &o, s, &db);
    if (rc) {
        log_rec(REC_ERROR, 0, 0, 0, rc);
        _exit(14);
    }
    log_rec(REC_OPEN, 0, 0, 0, 0);
    if (g_openfd >= 0) {
        /* The parent may not listen (it kills on its own clock). */
        signal(SIGPIPE, SIG_IGN);
        (void)!write(g_openfd, "o", 1);
        close(g_openfd);
    }
    child_thread ct[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        ct[t].db = db;
        ct[t].schema = s;
        ct[t].t = t;
        ct[t].next = next[t];
        ct[t].rng = seed * 2654435761u + (uint64_t)t + 1;
    }
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&th[t], NULL, child_writer, &ct[t]))
            _exit(15);
    child_writer(&ct[0]);
    _exit(16);
}

/* ------------------------------------------------------ verification */

typedef struct tstate {
    int64_t m;        /* rows present after the last verification */
    int64_t *bstart;  /* bstart[n]: start of the batch holding n, or -1 */
    size_t cap;
    int64_t last_batch; /* start of the last batch below m, or -1 */
} tstate;

static int tstate_grow(tstate *ts, int64_t need)
{
    if ((size_t)need <= ts->cap)
        return 0;
    size_t cap = ts->cap ? ts->cap : 1024;
    while (cap < (size_t)need)
        cap *= 2;
    int64_t *p = realloc(ts->bstart, cap * sizeof *p);
    if (!p)
        return -1;
    ts->bstart = p;
    ts->cap = cap;
    return 0;
}

static logrec *read_log(const char *path, size_t *n)
{
    size_t len = 0;
    uint8_t *data = meru_test_read_file(path, &len);
    *n = data ? len / sizeof(logrec) : 0;
    return (logrec *)data;
}

#define VFAIL(...)                                                             \
    do {                                                                       \
        meru_test_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
        goto fail;                                                             \
    } while (0)

/*
 * Opens the table, checks it against the log of the last child and the
 * state of earlier rounds, and advances the per-thread state.
 */
static int verify_round(const char *dir, const char *logpath, int nthreads,
                        tstate *ts, int round)
{
    size_t nrec = 0;
    logrec *log = read_log(logpath, &nrec);
    int64_t acked[MAX_THREADS], attempted[MAX_THREADS];
    meru_db *db = NULL;
    meru_iter *it = NULL;
    uint8_t pad[2048];
    int64_t count[MAX_THREADS] = {0};
    int64_t counter[MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        acked[t] = attempted[t] = ts[t].m;
        counter[t] = -2;
    }
    for (size_t i = 0; i < nrec; i++) {
        const logrec *r = &log[i];
        if (r->kind == REC_ERROR)
            VFAIL("round %d: child write failed: thread %d n %lld status %d "
                  "(%s)",
                  round, r->thread, (long long)r->n, r->code,
                  meru_strerror(r->code));
        if (r->kind != REC_ATTEMPT && r->kind != REC_ACK)
            continue;
        int t = r->thread;
        if (t >= nthreads)
            VFAIL("bad log record");
        int64_t end = r->n + r->k;
        if (r->kind == REC_ATTEMPT) {
            if (r->n != attempted[t])
                VFAIL("log: thread %d attempt at %lld after %lld", t,
                      (long long)r->n, (long long)attempted[t]);
            attempted[t] = end;
            if (tstate_grow(&ts[t], end))
                VFAIL("out of memory");
            for (int64_t x = r->n; x < end; x++)
                ts[t].bstart[x] = r->k > 1 ? r->n : -1;
        } else if (end > acked[t]) {
            acked[t] = end;
        }
    }

    meru_options o;
    tdb_small_options(&o);
    o.create_if_missing = 0;
    int rc = meru_open(dir, &o, NULL, &db);
    if (rc == MERU_NOT_FOUND) {
        /* Killed while creating the table: acceptable only if the child
         * never finished opening it and nothing was written before. */
        int opened = 0;
        int64_t had = 0;
        for (size_t i = 0; i < nrec; i++)
            opened |= log[i].kind == REC_OPEN;
        for (int t = 0; t < nthreads; t++)
            had += ts[t].m;
        if (!opened && had == 0) {
            free(log);
            return 0;
        }
    }
    if (rc)
        VFAIL("round %d: reopen after kill -> %d (%s): %s", round, rc,
              meru_strerror(rc), meru_errmsg());
    rc = meru_scan(db, NULL, &it);
    if (rc)
        VFAIL("scan -> %d %s", rc, meru_errmsg());
    const meru_row *row;
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        int64_t id, batch;
        const char *val;
        size_t vlen;
        if (meru_row_get_int64(row, 0, &id) ||
            meru_row_get_int64(row, 1, &batch) ||
            meru_row_get_string(row, 2, &val, &vlen))
            VFAIL("round %d: row without its columns: %s", round,
                  tdb_row_str(row));
        if (id < 0) {
            int t = (int)(-id - 1);
            if (t >= nthreads || vlen != 1 || val[0] != 'c')
                VFAIL("round %d: bad counter row %s", round,
                      tdb_row_str(row));
            counter[t] = batch;
            continue;
        }
        int t = (int)(id / THREAD_SPAN);
        int64_t n = id % THREAD_SPAN;
        if (t >= nthreads)
            VFAIL("round %d: unexpected key %lld", round, (long long)id);
        if (n != count[t])
            VFAIL("round %d: thread %d: key n=%lld present but n=%lld "
                  "missing (acked %lld, attempted %lld)",
                  round, t, (long long)n, (long long)count[t],
                  (long long)acked[t], (long long)attempted[t]);
        if (n >= attempted[t])
            VFAIL("round %d: thread %d: key n=%lld beyond the last attempted "
                  "%lld",
                  round, t, (long long)n, (long long)attempted[t]);
        char want[64];
        int wl = snprintf(want, sizeof want, "t%dn%lld", t, (long long)n);
        const void *p;
        size_t plen;
        pad_fill(pad, t, n);
        if (vlen != (size_t)wl || memcmp(val, want, vlen) ||
            batch != ts[t].bstart[n] ||
            meru_row_get_binary(row, 3, &p, &plen) ||
            plen != pad_len(t, n) || memcmp(p, pad, plen))
            VFAIL("round %d: thread %d n=%lld: wrong content (batch %lld, "
                  "expected %lld)",
                  round, t, (long long)n, (long long)batch,
                  (long long)ts[t].bstart[n]);
        count[t]++;
    }
    if (rc != MERU_NOT_FOUND)
        VFAIL("round %d: scan ended with %d (%s): %s", round, rc,
              meru_strerror(rc), meru_errmsg());
    for (int t = 0; t < nthreads; t++) {
        int64_t m = count[t];
        if (m < acked[t])
            VFAIL("round %d: thread %d: acknowledged writes lost: %lld rows "
                  "present, %lld acknowledged",
                  round, t, (long long)m, (long long)acked[t]);
        if (m < attempted[t] && ts[t].bstart[m] >= 0 &&
            ts[t].bstart[m] != m)
            VFAIL("round %d: thread %d: batch starting at %lld torn at %lld",
                  round, t, (long long)ts[t].bstart[m], (long long)m);
        /* The start of the last batch below m (wholly below it, since m
         * is on a batch boundary). */
        int64_t last = -1;
        for (int64_t x = m - 1; x >= 0; x--) {
            if (ts[t].bstart[x] >= 0) {
                last = ts[t].bstart[x];
                break;
            }
        }
        if (counter[t] != last && !(last < 0 && counter[t] == -2))
            VFAIL("round %d: thread %d: counter row says batch %lld, rows "
                  "say %lld",
                  round, t, (long long)counter[t], (long long)last);
        ts[t].m = m;
        ts[t].last_batch = last;
    }
    meru_iter_free(it);
    it = NULL;
    rc = meru_close(db);
    if (rc)
        VFAIL("close -> %d %s", rc, meru_errmsg());
    meru_db_free(db);
    free(log);
    return 0;
fail:
    meru_iter_free(it);
    meru_db_free(db);
    free(log);
    return -1;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void crash_loop(const char *name, meru_sync_mode mode, int nthreads,
                       unsigned max_ms)
{
    const char *d = meru_test_tmpdir(name);
    char dir[4200], logpath[4300];
    snprintf(dir, sizeof dir, "%s/t", d);
    snprintf(logpath, sizeof logpath, "%s/ack.log", d);
    tstate ts[MAX_THREADS];
    memset(ts, 0, sizeof ts);
    int rounds = (int)(30 * meru_test_scale());
    if (rounds < 6)
        rounds = 6;
    int failed = 0;
    for (int round = 0; round < rounds && !failed; round++) {
        g_logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        CHECK(g_logfd >= 0);
        int64_t next[MAX_THREADS];
        for (int t = 0; t < nthreads; t++)
            next[t] = ts[t].m;
        uint64_t seed = meru_test_rand();
        /* Mostly the minimum memtable (flushes during the run); sometimes a
         * large one so recovery replays a long WAL. */
        size_t mt = meru_test_rand() % 4 ? TDB_MEMTABLE_BYTES : (size_t)8 << 20;
        unsigned ms = 5 + (unsigned)(meru_test_rand() % (max_ms - 4));
        /* Mostly kill a while after the child has opened the table (so
         * kills land in writes, flushes and commits); sometimes from the
         * fork on (so they land in recovery too). */
        int after_open = meru_test_rand() % 5 != 0;
        int op[2];
        CHECK(pipe(op) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(op[0]);
            g_openfd = op[1];
            child_main(dir, mode, nthreads, next, mt, seed);
        }
        close(op[1]);
        close(g_logfd);
        if (after_open) {
            char c;
            (void)!read(op[0], &c, 1); /* EOF if the child died first */
        }
        sleep_ms(ms);
        kill(pid, SIGKILL);
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid);
        /* Closed only now: a child that opens the table after the sleep
         * would otherwise die of SIGPIPE writing its "opened" byte. */
        close(op[0]);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
            /* The child stopped by itself: the log says why. */
            verify_round(dir, logpath, nthreads, ts, round);
            CHECK_MSG(0, "round %d: child exited with status %d / signal "
                         "%d (%s)",
                      round, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                      WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                      WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "-");
        }
        failed = verify_round(dir, logpath, nthreads, ts, round);
    }
    int64_t total = 0;
    for (int t = 0; t < nthreads; t++) {
        total += ts[t].m;
        free(ts[t].bstart);
    }
    fprintf(stderr, "  %s: %d rounds, %lld rows survived\n", name, rounds,
            (long long)total);
}

static void test_db_crash_sync_every(void)
{
    crash_loop("crash_every", MERU_SYNC_EVERY, 1, 200);
}

static void test_db_crash_group_commit_threads(void)
{
    crash_loop("crash_group", MERU_SYNC_GROUP, 4, 200);
}

/* Without fsync an acknowledged write is in the kernel's page cache, which
 * a killed process does not lose: the same guarantees hold for kill -9. */
static void test_db_crash_sync_none_threads(void)
{
    crash_loop("crash_none", MERU_SYNC_NONE, 2, 30);
}

/* ------------------------------------------------------- WAL damage */

static int copy_tree(const char *src, const char *dst)
{
    if (mkdir(dst, 0755) && errno != EEXIST)
        return -1;
    DIR *d = opendir(src);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char s[4096], t[4096];
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        struct stat st;
        if (lstat(s, &st)) {
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = copy_tree(s, t);
        } else if (S_ISREG(st.st_mode)) {
            size_t len = 0;
            uint8_t *data = meru_test_read_file(s, &len);
            int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (!data || fd < 0 ||
                (len && write(fd, data, len) != (ssize_t)len))
                rc = -1;
            if (fd >= 0)
                close(fd);
            free(data);
        }
    }
    closedir(d);
    return rc;
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -1;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char s[4096];
            snprintf(s, sizeof s, "%s/%s", path, e->d_name);
            rm_tree(s);
        }
        closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

/* The WAL segment names in dir/wal, sorted ascending (20-digit numbers). */
static int list_wal(const char *dir, char names[][64], int max)
{
    char w[4200];
    snprintf(w, sizeof w, "%s/wal", dir);
    DIR *d = opendir(w);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len < 64 && !strcmp(e->d_name + len - 4, ".log"))
            memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char tmp[64];
            memcpy(tmp, names[j], 64);
            memcpy(names[j], names[j - 1], 64);
            memcpy(names[j - 1], tmp, 64);
        }
    return n;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : st.st_size;
}

/* Rows present as a prefix 0..M-1 of thread 0's sequence: M, or -1 if the
 * rows are not a prefix (or wrong), or -2 - status if open fails. */
static long prefix_rows(const char *dir, int *open_rc)
{
    meru_options o;
    tdb_small_options(&o);
    o.create_if_missing = 0;
    meru_db *db = NULL;
    int rc = meru_open(dir, &o, NULL, &db);
    *open_rc = rc;
    if (rc)
        return -2;
    meru_iter *it = NULL;
    long m = 0;
    if (meru_scan(db, NULL, &it) == MERU_OK) {
        const meru_row *row;
        while (meru_iter_next(it, &row) == MERU_OK) {
            int64_t id;
            const char *val;
            size_t vlen;
            char want[64];
            if (meru_row_get_int64(row, 0, &id) || id != m ||
                meru_row_get_string(row, 2, &val, &vlen) ||
                vlen != (size_t)snprintf(want, sizeof want, "t0n%ld", m) ||
                memcmp(val, want, vlen)) {
                m = -1;
                break;
            }
            m++;
        }
    } else {
        m = -1;
    }
    meru_iter_free(it);
    meru_db_free(db);
    return m;
}

/* A child writes n single puts with SYNC_EVERY and a large memtable, says
 * so, and is killed: the table's data is only in the WAL. */
static int make_wal_only_table(const char *dir, int n)
{
    int p[2];
    if (pipe(p))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(p[0]);
        meru_schema *s = NULL;
        meru_options o;
        tdb_small_options(&o);
        o.sync_mode = MERU_SYNC_EVERY;
        o.memtable_bytes = (size_t)64 << 20;
        meru_db *db = NULL;
        meru_row *r = NULL;
        if (meru_schema_parse(&s, "crash", COLS, "id") ||
            meru_open(dir, &o, s, &db) || meru_row_new(&r, s))
            _exit(1);
        for (int i = 0; i < n; i++)
            if (fill_row(r, 0, i, -1) || meru_put(db, r, NULL))
                _exit(2);
        if (write(p[1], "d", 1) != 1)
            _exit(3);
        pause();
        _exit(4);
    }
    close(p[1]);
    char c;
    ssize_t got = read(p[0], &c, 1);
    close(p[0]);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    return got == 1 ? 0 : -1;
}

static void test_db_wal_torn_tail(void)
{
    const char *d = meru_test_tmpdir("wal_torn");
    char base[4200], work[4200];
    snprintf(base, sizeof base, "%s/base", d);
    snprintf(work, sizeof work, "%s/work", d);
    const int n = 150;
    CHECK(make_wal_only_table(base, n) == 0);
    char names[16][64];
    int nseg = list_wal(base, names, 16);
    CHECK_MSG(nseg >= 1, "no WAL segment after a kill");
    char seg[4300];
    snprintf(seg, sizeof seg, "%s/wal/%s", work, names[nseg - 1]);
    char bseg[4300];
    snprintf(bseg, sizeof bseg, "%s/wal/%s", base, names[nseg - 1]);
    off_t size = file_size(bseg);
    CHECK(size > 0);

    /* Lengths: the full file, one byte short, zero, and random ones. */
    int trials = (int)(24 * meru_test_scale());
    if (trials < 6)
        trials = 6;
    off_t *lens = calloc((size_t)trials, sizeof *lens);
    long *rows = calloc((size_t)trials, sizeof *rows);
    CHECK(lens && rows);
    for (int i = 0; i < trials; i++) {
        if (i == 0)
            lens[i] = size;
        else if (i == 1)
            lens[i] = size - 1;
        else if (i == 2)
            lens[i] = 0;
        else
            lens[i] = (off_t)(meru_test_rand() % (uint64_t)size);
    }
    int failed = 0;
    for (int i = 0; i < trials && !failed; i++) {
        rm_tree(work);
        if (copy_tree(base, work) || truncate(seg, lens[i])) {
            failed = 1;
            break;
        }
        int orc = 0;
        rows[i] = prefix_rows(work, &orc);
        if (rows[i] < 0) {
            meru_test_fail(__FILE__, __LINE__,
                           "WAL cut at %lld of %lld bytes: open -> %d (%s) "
                           "%s; rows %ld (-1: not a prefix)",
                           (long long)lens[i], (long long)size, orc,
                           meru_strerror(orc), meru_errmsg(), rows[i]);
            failed = 1;
            break;
        }
        /* Reopening again (after recovery wrote its state) agrees. */
        long again = prefix_rows(work, &orc);
        if (again != rows[i]) {
            meru_test_fail(__FILE__, __LINE__,
                           "WAL cut at %lld: %ld rows, %ld on the second open",
                           (long long)lens[i], rows[i], again);
            failed = 1;
        }
    }
    for (int i = 0; i < trials && !failed; i++) {
        if (lens[i] == size && rows[i] != n) {
            meru_test_fail(__FILE__, __LINE__,
                           "intact WAL: %ld rows of %d acknowledged", rows[i],
                           n);
            failed = 1;
        }
        if (nseg == 1 && lens[i] == size - 1 && rows[i] != n - 1) {
            meru_test_fail(__FILE__, __LINE__,
                           "WAL one byte short: %ld rows, expected %d",
                           rows[i], n - 1);
            failed = 1;
        }
        for (int j = 0; j < trials && !failed; j++)
            if (lens[i] < lens[j] && rows[i] > rows[j]) {
                meru_test_fail(__FILE__, __LINE__,
                               "WAL cut at %lld gives %ld rows, at %lld only "
                               "%ld",
                               (long long)lens[i], rows[i],
                               (long long)lens[j], rows[j]);
                failed = 1;
            }
    }
    free(lens);
    free(rows);
    CHECK(!failed);
}

static void test_db_wal_mid_log_corruption(void)
{
    const char *d = meru_test_tmpdir("wal_corrupt");
    char base[4200], work[4200];
    snprintf(base, sizeof base, "%s/base", d);
    snprintf(work, sizeof work, "%s/work", d);
    const int n = 300; /* ~350 KB of WAL: many 32 KiB blocks */
    CHECK(make_wal_only_table(base, n) == 0);
    char names[16][64];
    int nseg = list_wal(base, names, 16);
    CHECK(nseg >= 1);
    char bseg[4300];
    snprintf(bseg, sizeof bseg, "%s/wal/%s", base, names[nseg - 1]);
    off_t size = file_size(bseg);
    CHECK_MSG(size >= 4 * 32768, "WAL only %lld bytes", (long long)size);

    int trials = (int)(12 * meru_test_scale());
    if (trials < 3)
        trials = 3;
    for (int i = 0; i < trials; i++) {
        /* A byte well inside a block (not its last 7 bytes, which may be
         * padding), with at least two full blocks after it. */
        int64_t blocks = size / 32768;
        int64_t blk = (int64_t)(meru_test_rand() % (uint64_t)(blocks - 2));
        off_t off = (off_t)(blk * 32768 + 16 +
                            (int64_t)(meru_test_rand() % (32768 - 64)));
        rm_tree(work);
        CHECK(copy_tree(base, work) == 0);
        char seg[4300];
        snprintf(seg, sizeof seg, "%s/wal/%s", work, names[nseg - 1]);
        int fd = open(seg, O_RDWR);
        CHECK(fd >= 0);
        uint8_t byte;
        CHECK(pread(fd, &byte, 1, off) == 1);
        byte ^= (uint8_t)(1u << (meru_test_rand() % 8));
        CHECK(pwrite(fd, &byte, 1, off) == 1);
        close(fd);
        int orc = 0;
        long m = prefix_rows(work, &orc);
        CHECK_MSG(orc == MERU_ECORRUPT,
                  "WAL byte %lld of %lld flipped: open -> %d (%s), %ld rows",
                  (long long)off, (long long)size, orc, meru_strerror(orc),
                  m);
        CHECK(meru_errmsg()[0] != 0);
        /* The failed open changed nothing: it fails again. */
        prefix_rows(work, &orc);
        CHECK_RC(orc, MERU_ECORRUPT);
    }

    /* An older segment, when the kill left several: damage or a cut in it
     * is corruption too (only the last segment may have a torn tail). */
    if (nseg >= 2) {
        char seg[4300];
        snprintf(seg, sizeof seg, "%s/wal/%s", work, names[0]);
        rm_tree(work);
        CHECK(copy_tree(base, work) == 0);
        off_t osize = file_size(seg);
        CHECK(osize > 8);
        CHECK(truncate(seg, osize / 2) == 0);
        int orc = 0;
        prefix_rows(work, &orc);
        CHECK_RC(orc, MERU_ECORRUPT);
    } else {
        fprintf(stderr, "  (one WAL segment: older-segment case not run)\n");
    }
}

int main(void)
{
    MERU_TEST_RUN(test_db_crash_sync_every);
    MERU_TEST_RUN(test_db_crash_group_commit_threads);
    MERU_TEST_RUN(test_db_crash_sync_none_threads);
    MERU_TEST_RUN(test_db_wal_torn_tail);
    MERU_TEST_RUN(test_db_wal_mid_log_corruption);
    return meru_test_finish();
}
