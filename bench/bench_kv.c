/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_kv.c — key-value workloads on merutable and its peers (RocksDB,
 * LevelDB, SQLite, LMDB) in one run, side by side.
 *
 * Every engine stores the same N rows (k int64 key, i int32, d double,
 * s 100-byte string; see kv.h for how each engine holds them) and runs the
 * same workloads; each engine's whole workload set runs in a forked child
 * so its peak RSS (ru_maxrss) and its bytes written (/proc/self/io) are its
 * own. The set is repeated (3 times by default, engines interleaved) and
 * the report gives medians and the ratio merutable / best peer.
 *
 *   bench_kv [--rows N] [--quick] [--reps R] [--reads R]
 *            [--engines a,b,...] [--dir PATH] [--cache-mib M]
 *            [--sync|--no-sync] [--meru-property KEY=VALUE]...
 *            [--iceberg-view on|off] [--meru-max-immutable N]
 *            [--meru-mmap-reads 0|1] [--rss-maps]
 *
 * Memory: besides ru_maxrss (anonymous and file-backed pages together),
 * the child samples /proc/self/status every 10 ms and reports the peaks
 * of RssAnon (heap, arenas: what the user budgets for) and RssFile +
 * RssShmem (pages of mapped files: the kernel drops them under pressure),
 * each above its value after the workload arrays were built, and prints
 * to stderr the phase each peak was reached in, with what the engine said
 * it held in memtables and cache at each anonymous peak (merutable's
 * meru_stats, RocksDB's size-all-mem-tables and block cache usage).
 *
 * --meru-max-immutable: merutable's max_immutable_memtables (default: its
 * default), to measure the memtable budget against write rates;
 * --meru-mmap-reads: its mmap_reads (default: its default), mapped file
 * pages (RssFile) against pread through the cache.
 * --rss-maps: at each phase's peak of anonymous + file-backed RSS, also
 * read /proc/self/smaps and print what the resident pages were, by kind
 * of mapping (main heap, thread arenas, huge-page maps, other anonymous
 * maps, data files, other files; read_smaps), each above its value at the start:
 * the budget split without asking the engine. The reads cost the sampler
 * thread CPU while memory rises, so the phases' CPU seconds are not to be
 * compared with runs without it.
 * --iceberg-view: merutable's iceberg_view option (default: its default,
 * continuous), to measure what the view costs writes.
 *
 * --quick: 20k rows, no sync pass (a smoke run, well under a minute).
 * --meru-property: a table property merutable's table is created with
 * (merutable.h, meru_options: e.g. merutable.l0.compression-codec=
 * uncompressed to compare L0 codecs); repeatable.
 * Exit status 0 when every engine that ran passed its checks (right row
 * counts, values, key order), 1 otherwise, 2 on a usage error. Not a test
 * of speed: nothing about timing is asserted.
 */
/* nftw() is an X/Open extension. */
#define _XOPEN_SOURCE 700
#include "bench_util.h"
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"
#include "kv_rss.h"

/* ---------------------------------------------------------------- metrics */

enum {
    M_FILLSEQ,
    M_FILLRAND1,
    M_FILLRAND1000,
    M_OVERWRITE,
    M_SETTLE,
    M_READ_UNI,
    M_READ_ZIPF,
    M_READ_UNI_CPU,
    M_READ_ZIPF_CPU,
    M_READ_MISS,
    M_READ_UNI2,
    M_READ_UNI2_CPU,
    M_READ_COLD,
    M_SCAN_FULL,
    M_SCAN_RANGE,
    M_SCAN_PROJ,
    M_SIZE,
    M_HISTORY,
    M_WAMP,
    M_RSS,
    M_RSS_ANON,
    M_RSS_FILE,
    M_SYNC1000,
    M_SYNC1,
    M_COUNT
};

typedef struct metric_info {
    const char *name;
    const char *unit;
    int higher_better;
    double scale; /* printed value = raw / scale */
} metric_info;

static const metric_info METRICS[M_COUNT] = {
    [M_FILLSEQ] = {"fillseq (batch 1000)", "Kops/s", 1, 1e3},
    [M_FILLRAND1] = {"fillrandom (batch 1, fresh table)", "Kops/s", 1, 1e3},
    [M_FILLRAND1000] = {"fillrandom (batch 1000)", "Kops/s", 1, 1e3},
    [M_OVERWRITE] = {"overwrite random keys (batch 1000)", "Kops/s", 1, 1e3},
    [M_SETTLE] = {"settle: flush + compaction idle", "s", 0, 1},
    [M_READ_UNI] = {"readrandom uniform", "Kops/s", 1, 1e3},
    [M_READ_ZIPF] = {"readrandom zipfian 0.99", "Kops/s", 1, 1e3},
    /* Process CPU time (every thread) per get of the two workloads above:
     * on a shared machine wall-clock rates swing with the load, CPU time
     * much less, so engines run minutes apart still compare. */
    [M_READ_UNI_CPU] = {"readrandom uniform: process CPU per get", "us", 0,
                        1e-6},
    [M_READ_ZIPF_CPU] = {"readrandom zipfian 0.99: process CPU per get", "us",
                         0, 1e-6},
    [M_READ_MISS] = {"readmissing", "Kops/s", 1, 1e3},
    [M_READ_UNI2] = {"readrandom uniform, 2 threads", "Kops/s", 1, 1e3},
    /* The same for the two threads together: as the 1-thread line when
     * gets do not slow each other down (locks, shared cache lines); what
     * it costs above that line is contention (issue 11). */
    [M_READ_UNI2_CPU] = {"readrandom uniform, 2 threads: process CPU per get",
                         "us", 0, 1e-6},
    [M_READ_COLD] = {"cold reads: first gets after reopen", "Kops/s", 1, 1e3},
    [M_SCAN_FULL] = {"full scan, key order", "Mrows/s", 1, 1e6},
    [M_SCAN_RANGE] = {"range scans of 1%", "scans/s", 1, 1},
    [M_SCAN_PROJ] = {"projected scan of column i", "Mrows/s", 1, 1e6},
    /* The table's files, without merutable's change history (changes/):
     * the feed keeps history the peers do not have, reported on its own
     * line so this one still compares like with like. */
    [M_SIZE] = {"on-disk size after settle", "MiB", 0, 1048576.0},
    [M_HISTORY] = {"change history on disk after settle (changes/)", "MiB", 0,
                   1048576.0},
    [M_WAMP] = {"write amplification (write_bytes / user bytes)", "x", 0, 1},
    [M_RSS] = {"peak RSS above harness baseline", "MiB", 0, 1024.0},
    [M_RSS_ANON] = {"peak anonymous RSS above baseline (RssAnon)", "MiB", 0,
                    1024.0},
    [M_RSS_FILE] = {"peak file-backed RSS above baseline (RssFile+RssShmem)",
                    "MiB", 0, 1024.0},
    [M_SYNC1000] = {"sync pass: fillrandom batch 1000, fsync/batch", "Kops/s",
                    1, 1e3},
    [M_SYNC1] = {"sync pass: fillrandom batch 1, fsync/write", "ops/s", 1, 1},
};

/* ----------------------------------------------------------------- config */

typedef struct cfg {
    uint64_t rows;
    uint64_t reads;
    int reps;
    int sync_pass;
    int quick;
    size_t cache_bytes;
    int iceberg_view; /* merutable: -1 default, 0 off, 1 continuous */
    int max_imm;      /* merutable: max_immutable_memtables, 0 default */
    int mmap_reads;   /* merutable: mmap_reads, -1 default */
    char dir[3000];
    const char *props[2 * 16 + 1]; /* --meru-property: key, value, ..., NULL */
    char prop_text[16][512];
    int nprops;
} cfg;

static const kv_driver *const ALL[] = {
    &kv_driver_merutable,
#ifdef MERU_BENCH_HAVE_ROCKSDB
    &kv_driver_rocksdb,
#endif
#ifdef MERU_BENCH_HAVE_LEVELDB
    &kv_driver_leveldb,
#endif
#ifdef MERU_BENCH_HAVE_SQLITE
    &kv_driver_sqlite,
#endif
#ifdef MERU_BENCH_HAVE_LMDB
    &kv_driver_lmdb,
#endif
    NULL,
};

/* Engines this build knows of but could not build, named in the report. */
static const char *const MISSING[] = {
#ifndef MERU_BENCH_HAVE_ROCKSDB
    "rocksdb (librocksdb-dev not found)",
#endif
#ifndef MERU_BENCH_HAVE_LEVELDB
    "leveldb (libleveldb-dev not found)",
#endif
#ifndef MERU_BENCH_HAVE_SQLITE
    "sqlite (libsqlite3-dev not found)",
#endif
#ifndef MERU_BENCH_HAVE_LMDB
    "lmdb (liblmdb-dev not found)",
#endif
    NULL,
};

/* The cold-read workload: this many uniform gets right after a reopen. */
#define COLD_READS 1000

/*
 * Operations per workload. The single-put and the synced workloads use
 * fewer rows than N (as db_bench does for fillsync): at N = 1M, SQLite
 * alone would otherwise take ~8 minutes per repetition on this machine.
 */
static void op_counts(const cfg *g, uint64_t ops[M_COUNT])
{
    uint64_t n = g->rows;
    for (int m = 0; m < M_COUNT; m++)
        ops[m] = 0;
    ops[M_FILLSEQ] = ops[M_FILLRAND1000] = n;
    ops[M_FILLRAND1] = n < 100000 ? n : 100000;
    ops[M_OVERWRITE] = n / 2;
    ops[M_READ_UNI] = ops[M_READ_ZIPF] = ops[M_READ_MISS] = g->reads;
    ops[M_READ_UNI_CPU] = ops[M_READ_ZIPF_CPU] = g->reads;
    ops[M_READ_UNI2] = ops[M_READ_UNI2_CPU] = g->reads;
    ops[M_READ_COLD] = g->reads < COLD_READS ? g->reads : COLD_READS;
    ops[M_SCAN_FULL] = ops[M_SCAN_PROJ] = n;
    ops[M_SCAN_RANGE] = g->quick ? 20 : 100;
    ops[M_SYNC1000] = n / 10 < 1000 ? (n < 1000 ? n : 1000) : n / 10;
    ops[M_SYNC1] = n / 1000 < 100 ? 100 : n / 1000;
}

/* ------------------------------------------------------------------- data */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t rng_next(uint64_t *s)
{
    *s += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(*s);
}

/* Row idx is stored under key 2*idx; odd keys are never written. */
static int64_t key_of(uint64_t idx)
{
    return (int64_t)(idx * 2);
}

static int32_t i_of(int64_t k)
{
    return (int32_t)(mix64((uint64_t)k) % 1000);
}

/* The values depend on the key (i) and on the version (d, s), so a read can
 * check what it got. s: "user-" then 95 lower-case letters. */
static void make_row(int64_t k, uint64_t version, kv_row *r)
{
    uint64_t x = mix64((uint64_t)k * 31 + version);
    r->k = k;
    r->i = i_of(k);
    r->d = (double)(x % 1000000) / 100.0;
    r->slen = 100;
    memcpy(r->s, "user-", 5);
    for (int j = 5; j < 100; j++) {
        if (j % 10 == 5)
            x = mix64(x);
        r->s[j] = (char)('a' + (x >> (6 * (j % 10))) % 26);
    }
}

/* YCSB's scrambled zipfian (Gray et al.): ranks in [0, n), hot ranks
 * spread over the key space by a hash. */
typedef struct zipf {
    uint64_t n;
    double theta, alpha, zetan, eta;
} zipf;

static void zipf_init(zipf *z, uint64_t n, double theta)
{
    double zetan = 0;
    for (uint64_t i = 1; i <= n; i++)
        zetan += 1.0 / pow((double)i, theta);
    double zeta2 = 1.0 + 1.0 / pow(2.0, theta);
    z->n = n;
    z->theta = theta;
    z->alpha = 1.0 / (1.0 - theta);
    z->zetan = zetan;
    z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / zetan);
}

static uint64_t zipf_next(const zipf *z, uint64_t *s)
{
    double u = (double)(rng_next(s) >> 11) / 9007199254740992.0;
    double uz = u * z->zetan;
    uint64_t r;
    if (uz < 1.0)
        r = 0;
    else if (uz < 1.0 + pow(0.5, z->theta))
        r = 1;
    else
        r = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
    if (r >= z->n)
        r = z->n - 1;
    return mix64(r ^ UINT64_C(0x5bd1e995)) % z->n;
}

/* ------------------------------------------------------------ file system */

static uint64_t du_total;

static int du_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        du_total += (uint64_t)st->st_blocks * 512;
    return 0;
}

/* Allocated bytes under dir (st_blocks, so sparse files count as used). */
static uint64_t disk_usage(const char *dir)
{
    du_total = 0;
    nftw(dir, du_one, 16, FTW_PHYS);
    return du_total;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------ the child */

typedef struct plan {
    uint64_t n, reads, range_len, range_count;
    uint64_t ops[M_COUNT];
    uint64_t *perm; /* fillrandom order */
    uint64_t *over; /* overwrite targets */
    uint64_t *rd_uni, *rd_zipf, *rd_miss, *rd_uni2, *rd_cold;
    uint64_t *range_lo;
} plan;

static int check(int cond, const char *engine, const char *what)
{
    if (!cond)
        fprintf(stderr, "bench_kv: %s: check failed: %s\n", engine, what);
    return cond ? 0 : -1;
}

/* Writes rows idx[0..n) (or 0..n in order when idx is NULL) in batches. */
static int load(const kv_driver *drv, void *h, const uint64_t *idx, uint64_t n,
                size_t batch, uint64_t version, kv_row *buf)
{
    for (uint64_t at = 0; at < n; at += batch) {
        size_t b = n - at < batch ? (size_t)(n - at) : batch;
        for (size_t j = 0; j < b; j++)
            make_row(key_of(idx ? idx[at + j] : at + j), version, &buf[j]);
        if (drv->write(h, buf, b))
            return -1;
    }
    return 0;
}

/* One fresh table: open, load, time, close, delete. */
static int fill_once(const kv_driver *drv, const kv_conf *conf, const char *dir,
                     const uint64_t *idx, uint64_t n, size_t batch, kv_row *buf,
                     double *ops)
{
    void *h;
    rm_rf(dir);
    if (mkdir(dir, 0755) || drv->open(&h, dir, conf))
        return -1;
    rss_watch(drv, h);
    double t0 = kv_now();
    int rc = load(drv, h, idx, n, batch, 0, buf);
    double t1 = kv_now();
    rss_sample(); /* the memtables as the load left them, before close */
    rss_watch(drv, NULL);
    if (drv->close(h))
        rc = -1;
    rm_rf(dir);
    *ops = (double)n / (t1 - t0);
    return rc;
}

/* n gets of the keys idx[0..n): *ops = gets per second, and, when cpu is
 * not NULL, *cpu = process CPU seconds per get. */
static int read_workload(const kv_driver *drv, void *h, const uint64_t *idx,
                         uint64_t n, int missing, double *ops, double *cpu)
{
    kv_row r;
    uint64_t found = 0;
    int bad = 0;
    double c0 = proc_cpu_s();
    double t0 = kv_now();
    for (uint64_t j = 0; j < n; j++) {
        int64_t k = missing ? key_of(idx[j]) + 1 : key_of(idx[j]);
        int rc = drv->get(h, k, &r);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            found++;
            bad += r.i != i_of(k) || r.slen != 100;
        }
    }
    double t1 = kv_now();
    *ops = (double)n / (t1 - t0);
    if (cpu)
        *cpu = n ? (proc_cpu_s() - c0) / (double)n : NAN;
    if (check(!bad, drv->name, "values read back"))
        return -1;
    return check(found == (missing ? 0 : n), drv->name,
                 missing ? "readmissing found a key" : "readrandom missed");
}

/* One client thread of the threaded read workload: gets idx[0..n). */
typedef struct reader_job {
    const kv_driver *drv;
    void *r;
    const uint64_t *idx;
    uint64_t n, found;
    int bad, err;
} reader_job;

static void *reader_main(void *arg)
{
    reader_job *j = arg;
    kv_row row;
    for (uint64_t x = 0; x < j->n; x++) {
        int64_t k = key_of(j->idx[x]);
        int rc = j->drv->reader_get(j->r, k, &row);
        if (rc < 0) {
            j->err = 1;
            break;
        }
        if (rc == 1) {
            j->found++;
            j->bad += row.i != i_of(k) || row.slen != 100;
        }
    }
    return NULL;
}

/* n gets of idx split between READ_THREADS client threads, each with its
 * own reader; *ops counts the gets of all of them per second of wall
 * clock (from before the first thread starts to after the last ends),
 * *cpu the process CPU seconds per get over the same span. */
#define READ_THREADS 2
static int threaded_read_workload(const kv_driver *drv, void *h,
                                  const uint64_t *idx, uint64_t n, double *ops,
                                  double *cpu)
{
    reader_job jobs[READ_THREADS];
    pthread_t tid[READ_THREADS];
    int started = 0, rc = 0;
    memset(jobs, 0, sizeof jobs);
    if (!drv->reader_open)
        return 0; /* the engine cannot: n/a */
    for (int t = 0; t < READ_THREADS && !rc; t++) {
        jobs[t].drv = drv;
        jobs[t].idx = idx + n * (uint64_t)t / READ_THREADS;
        jobs[t].n = n * (uint64_t)(t + 1) / READ_THREADS -
                    n * (uint64_t)t / READ_THREADS;
        rc = drv->reader_open(h, &jobs[t].r);
        if (rc)
            jobs[t].r = NULL;
    }
    double c0 = proc_cpu_s();
    double t0 = kv_now();
    for (; !rc && started < READ_THREADS; started++)
        if (pthread_create(&tid[started], NULL, reader_main, &jobs[started]))
            rc = -1;
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    double t1 = kv_now();
    double c1 = proc_cpu_s();
    uint64_t found = 0;
    int bad = 0;
    for (int t = 0; t < READ_THREADS; t++) {
        if (jobs[t].r)
            drv->reader_close(jobs[t].r);
        found += jobs[t].found;
        bad += jobs[t].bad;
        rc |= jobs[t].err ? -1 : 0;
    }
    if (rc)
        return -1;
    *ops = (double)n / (t1 - t0);
    *cpu = n ? (c1 - c0) / (double)n : NAN;
    if (check(!bad, drv->name, "values read back (threads)"))
        return -1;
    return check(found == n, drv->name, "readrandom (threads) missed");
}

/* Closes and reopens the table, then times the first gets (the engine's
 * caches empty; the OS page cache keeps what the earlier phases read). */
static int cold_read_workload(const kv_driver *drv, void **h,
                              const kv_conf *conf, const char *dir,
                              const uint64_t *idx, uint64_t n, double *ops)
{
    rss_watch(drv, NULL);
    int rc = drv->close(*h);
    *h = NULL;
    if (rc || drv->open(h, dir, conf)) {
        *h = NULL;
        return -1;
    }
    rss_watch(drv, *h);
    return read_workload(drv, *h, idx, n, 0, ops, NULL);
}

static int run_child(const kv_driver *drv, const cfg *g, const plan *p,
                     double res[M_COUNT])
{
    char dir[3100];
    kv_conf conf = {g->cache_bytes, 64u << 20, 0, p->n,
                    g->nprops ? g->props : NULL, g->iceberg_view, g->max_imm,
                    g->mmap_reads};
    kv_row *buf = malloc(1000 * sizeof *buf);
    if (!buf)
        return -1;
    snprintf(dir, sizeof dir, "%s/%s", g->dir, drv->name);
    int rc = mkdir(g->dir, 0755) && errno != EEXIST ? -1 : 0;

    /* Writes into fresh tables. */
    rss_phase("fillseq");
    if (!rc)
        rc = fill_once(drv, &conf, dir, NULL, p->n, 1000, buf, &res[M_FILLSEQ]);
    rss_phase("fillrandom batch 1");
    if (!rc)
        rc = fill_once(drv, &conf, dir, p->perm, p->ops[M_FILLRAND1], 1, buf,
                       &res[M_FILLRAND1]);

    /* The table the reads run on: fillrandom, overwrite, settle. */
    void *h = NULL;
    if (!rc) {
        rm_rf(dir);
        rc = mkdir(dir, 0755) ? -1 : drv->open(&h, dir, &conf);
        if (!rc)
            rss_watch(drv, h);
    }
    uint64_t io0 = bench_io_write_bytes();
    rss_phase("fillrandom batch 1000");
    if (!rc) {
        double t0 = kv_now();
        rc = load(drv, h, p->perm, p->n, 1000, 0, buf);
        double t1 = kv_now();
        res[M_FILLRAND1000] = (double)p->n / (t1 - t0);
    }
    rss_phase("overwrite");
    if (!rc) {
        double t0 = kv_now();
        rc = load(drv, h, p->over, p->ops[M_OVERWRITE], 1000, 1, buf);
        double t1 = kv_now();
        res[M_OVERWRITE] = (double)p->ops[M_OVERWRITE] / (t1 - t0);
    }
    rss_phase("settle");
    if (!rc) {
        double idle_at = 0;
        double t0 = kv_now();
        rc = drv->settle ? drv->settle(h, &idle_at) : 0;
        double t1 = idle_at > 0 ? idle_at : kv_now();
        res[M_SETTLE] = t1 - t0;
    }
    if (!rc) {
        uint64_t io1 = bench_io_write_bytes();
        double user = (double)(p->n + p->ops[M_OVERWRITE]) * (8 + 4 + 8 + 100);
        res[M_WAMP] = io1 > io0 ? (double)(io1 - io0) / user : NAN;
        char hist[4200];
        struct stat hs;
        snprintf(hist, sizeof hist, "%s/changes", dir);
        double all = (double)disk_usage(dir);
        res[M_HISTORY] = stat(hist, &hs) == 0 ? (double)disk_usage(hist) : NAN;
        res[M_SIZE] = isnan(res[M_HISTORY]) ? all : all - res[M_HISTORY];
    }
    rss_phase("reads");
    if (!rc)
        rc = read_workload(drv, h, p->rd_uni, p->reads, 0, &res[M_READ_UNI],
                           &res[M_READ_UNI_CPU]);
    if (!rc)
        rc = read_workload(drv, h, p->rd_zipf, p->reads, 0, &res[M_READ_ZIPF],
                           &res[M_READ_ZIPF_CPU]);
    if (!rc)
        rc = read_workload(drv, h, p->rd_miss, p->reads, 1, &res[M_READ_MISS],
                           NULL);
    rss_phase("reads, 2 threads");
    if (!rc)
        rc = threaded_read_workload(drv, h, p->rd_uni2, p->reads,
                                    &res[M_READ_UNI2], &res[M_READ_UNI2_CPU]);
    uint64_t sum_i = 0;
    rss_phase("scans");
    if (!rc) {
        kv_scan_acc a = {0};
        double t0 = kv_now();
        rc = drv->scan(h, INT64_MIN, 0, 0, 0, &a);
        double t1 = kv_now();
        res[M_SCAN_FULL] = (double)a.rows / (t1 - t0);
        sum_i = a.sum_i;
        if (!rc)
            rc = check(a.rows == p->n && !a.order_errors, drv->name,
                       "full scan: row count and key order");
    }
    if (!rc) {
        double t0 = kv_now();
        for (uint64_t j = 0; j < p->range_count && !rc; j++) {
            kv_scan_acc a = {0};
            int64_t lo = key_of(p->range_lo[j]);
            rc = drv->scan(h, lo, lo + (int64_t)(2 * p->range_len), 1, 0, &a);
            if (!rc)
                rc = check(a.rows == p->range_len && !a.order_errors, drv->name,
                           "range scan: row count and order");
        }
        double t1 = kv_now();
        res[M_SCAN_RANGE] = (double)p->range_count / (t1 - t0);
    }
    if (!rc) {
        kv_scan_acc a = {0};
        double t0 = kv_now();
        rc = drv->scan(h, INT64_MIN, 0, 0, 1, &a);
        double t1 = kv_now();
        res[M_SCAN_PROJ] = (double)a.rows / (t1 - t0);
        if (!rc)
            rc = check(a.rows == p->n && a.sum_i == sum_i && !a.order_errors,
                       drv->name, "projected scan: rows and sum of i");
    }
    if (!rc)
        rc = cold_read_workload(drv, &h, &conf, dir, p->rd_cold,
                                p->ops[M_READ_COLD], &res[M_READ_COLD]);
    rss_watch(drv, NULL);
    if (h && drv->close(h))
        rc = -1;
    rm_rf(dir);

    /* Durable writes: a fresh table with an fsync per batch. */
    rss_phase("sync pass");
    if (!rc && g->sync_pass) {
        kv_conf sc = conf;
        sc.sync = 1;
        rc = fill_once(drv, &sc, dir, p->perm, p->ops[M_SYNC1000], 1000, buf,
                       &res[M_SYNC1000]);
        if (!rc)
            rc = fill_once(drv, &sc, dir, p->perm, p->ops[M_SYNC1], 1, buf,
                           &res[M_SYNC1]);
    }
    free(buf);
    return rc;
}

static int make_plan(const cfg *g, plan *p)
{
    uint64_t n = g->rows, s = 42;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->reads = g->reads;
    p->range_len = n / 100 ? n / 100 : 1;
    op_counts(g, p->ops);
    p->range_count = p->ops[M_SCAN_RANGE];
    p->perm = malloc(n * 8);
    p->over = malloc(n * 8);
    p->rd_uni = malloc(p->reads * 8);
    p->rd_zipf = malloc(p->reads * 8);
    p->rd_miss = malloc(p->reads * 8);
    p->rd_uni2 = malloc(p->reads * 8);
    p->rd_cold = malloc(p->reads * 8);
    p->range_lo = malloc(p->range_count * 8);
    if (!p->perm || !p->over || !p->rd_uni || !p->rd_zipf || !p->rd_miss ||
        !p->rd_uni2 || !p->rd_cold || !p->range_lo)
        return -1;
    for (uint64_t j = 0; j < n; j++)
        p->perm[j] = j;
    for (uint64_t j = n - 1; j > 0; j--) {
        uint64_t o = rng_next(&s) % (j + 1), t = p->perm[j];
        p->perm[j] = p->perm[o];
        p->perm[o] = t;
    }
    for (uint64_t j = 0; j < n; j++)
        p->over[j] = rng_next(&s) % n;
    zipf z;
    zipf_init(&z, n, 0.99);
    for (uint64_t j = 0; j < p->reads; j++) {
        p->rd_uni[j] = rng_next(&s) % n;
        p->rd_zipf[j] = zipf_next(&z, &s);
        p->rd_miss[j] = rng_next(&s) % n;
    }
    /* after the others, so their keys stay those of earlier runs */
    for (uint64_t j = 0; j < p->reads; j++) {
        p->rd_uni2[j] = rng_next(&s) % n;
        p->rd_cold[j] = rng_next(&s) % n;
    }
    for (uint64_t j = 0; j < p->range_count; j++)
        p->range_lo[j] = rng_next(&s) % (n - p->range_len + 1);
    return 0;
}

static void free_plan(plan *p)
{
    free(p->perm);
    free(p->over);
    free(p->rd_uni);
    free(p->rd_zipf);
    free(p->rd_miss);
    free(p->rd_uni2);
    free(p->rd_cold);
    free(p->range_lo);
}

/*
 * Runs one engine's workload set in a child. The child sends back M_COUNT
 * doubles; the parent adds the peak RSS from wait4 (minus the baseline the
 * child measured after building its workload arrays).
 */
static int run_forked(const kv_driver *drv, const cfg *g, double res[M_COUNT])
{
    int fds[2];
    for (int m = 0; m < M_COUNT; m++)
        res[m] = NAN;
    if (pipe(fds))
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        double r[M_COUNT + 1];
        for (int m = 0; m <= M_COUNT; m++)
            r[m] = NAN;
        plan p;
        int rc = make_plan(g, &p);
        r[M_COUNT] = (double)status_kib("VmRSS");
        if (!rc)
            rc = rss_start();
        if (!rc) {
            rc = run_child(drv, g, &p, r);
            rss_stop(drv->name, &r[M_RSS_ANON], &r[M_RSS_FILE]);
        }
        free_plan(&p);
        ssize_t w = write(fds[1], r, sizeof r);
        _exit(rc || w != (ssize_t)sizeof r ? 1 : 0);
    }
    close(fds[1]);
    double r[M_COUNT + 1];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = read(fds[0], (char *)r + got, sizeof r - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fds[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    if (got == sizeof r) {
        memcpy(res, r, M_COUNT * sizeof *res);
        res[M_RSS] = (double)ru.ru_maxrss - r[M_COUNT];
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ----------------------------------------------------------------- report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double t[64];
    int k = 0;
    for (int j = 0; j < n && k < 64; j++)
        if (!isnan(v[j]))
            t[k++] = v[j];
    if (!k)
        return NAN;
    qsort(t, (size_t)k, sizeof *t, cmp_double);
    return k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
}

static void fmt_value(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "n/a");
    else if (fabs(v) >= 100)
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(buf, cap, "%.1f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

static void machine(void)
{
    struct utsname u;
    char model[256] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
            }
            break;
        }
    if (f)
        fclose(f);
    uname(&u);
    long mem = sysconf(_SC_PHYS_PAGES) / 1024 * (sysconf(_SC_PAGESIZE) / 1024);
    double load[3] = {0};
    getloadavg(load, 3);
    printf("- machine: %ld cores (%s), %ld MiB RAM, %s %s; load average "
           "%.2f at start\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, mem, u.sysname, u.release,
           load[0]);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_kv [--rows N] [--quick] [--reps R] [--reads R]\n"
            "                [--engines a,b,...] [--dir PATH] [--cache-mib M]\n"
            "                [--sync | --no-sync] [--meru-property KEY=VALUE]...\n"
            "                [--iceberg-view on|off] [--meru-max-immutable N]\n"
            "                [--meru-mmap-reads 0|1] [--rss-maps]\n");
}

static int selected(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static cfg g = {1000000, 0, 3, -1, 0, (size_t)64 << 20, -1, 0, -1, "", {NULL},
                    {""}, 0};
    const char *engines = NULL;
    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(argv[a], "--quick"))
            g.quick = 1;
        else if (!strcmp(argv[a], "--sync"))
            g.sync_pass = 1;
        else if (!strcmp(argv[a], "--no-sync"))
            g.sync_pass = 0;
        else if (!strcmp(argv[a], "--rss-maps"))
            rss_maps_on = 1;
        else if (v && !strcmp(argv[a], "--rows") && (a++, 1))
            g.rows = strtoull(v, NULL, 10);
        else if (v && !strcmp(argv[a], "--reads") && (a++, 1))
            g.reads = strtoull(v, NULL, 10);
        else if (v && !strcmp(argv[a], "--reps") && (a++, 1))
            g.reps = atoi(v);
        else if (v && !strcmp(argv[a], "--engines") && (a++, 1))
            engines = v;
        else if (v && !strcmp(argv[a], "--dir") && (a++, 1))
            snprintf(g.dir, sizeof g.dir, "%s", v);
        else if (v && !strcmp(argv[a], "--cache-mib") && (a++, 1))
            g.cache_bytes = (size_t)strtoull(v, NULL, 10) << 20;
        else if (v && !strcmp(argv[a], "--iceberg-view") &&
                 (!strcmp(v, "on") || !strcmp(v, "off")) && (a++, 1))
            g.iceberg_view = !strcmp(v, "on");
        else if (v && !strcmp(argv[a], "--meru-max-immutable") &&
                 atoi(v) > 0 && (a++, 1))
            g.max_imm = atoi(v);
        else if (v && !strcmp(argv[a], "--meru-mmap-reads") &&
                 (!strcmp(v, "0") || !strcmp(v, "1")) && (a++, 1))
            g.mmap_reads = atoi(v);
        else if (v && !strcmp(argv[a], "--meru-property") && g.nprops < 16 &&
                 strchr(v, '=') && (a++, 1)) {
            char *t = g.prop_text[g.nprops];
            snprintf(t, sizeof g.prop_text[0], "%s", v);
            char *eq = strchr(t, '=');
            *eq = '\0';
            g.props[2 * g.nprops] = t;
            g.props[2 * g.nprops + 1] = eq + 1;
            g.nprops++;
        }
        else {
            usage();
            return 2;
        }
    }
    if (g.quick && g.rows == 1000000)
        g.rows = 20000;
    if (g.sync_pass < 0)
        g.sync_pass = !g.quick;
    /* N/20 reads per read workload (50k at 1M): merutable's point reads
     * decode whole pages and took ~13 minutes per repetition at N/2. */
    if (!g.reads)
        g.reads =
            g.rows / 20 < 1000 ? (g.rows < 1000 ? g.rows : 1000) : g.rows / 20;
    if (g.rows < 100 || g.reps < 1 || g.reps > 64 || !g.cache_bytes) {
        fprintf(stderr, "bench_kv: --rows must be >= 100, --reps 1..64\n");
        return 2;
    }
    if (!g.dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(g.dir, sizeof g.dir, "%s/bench_kv.%ld", t ? t : "/tmp",
                 (long)getpid());
    }

    const kv_driver *run[8];
    int ne = 0;
    for (int e = 0; ALL[e]; e++)
        if (selected(engines, ALL[e]->name))
            run[ne++] = ALL[e];
    if (!ne) {
        fprintf(stderr, "bench_kv: no engine selected or built\n");
        return 2;
    }

    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("# bench_kv: key-value workloads vs peers\n\n");
    printf("- date: %s\n", when);
    machine();
    printf("- rows: %lu (key int64, i int32, d double, s 100-byte string = "
           "120 user bytes/row); reads per read workload: %lu; range scans: "
           "%d of %lu rows; repetitions: %d (median shown)%s\n",
           (unsigned long)g.rows, (unsigned long)g.reads, g.quick ? 20 : 100,
           (unsigned long)(g.rows / 100 ? g.rows / 100 : 1), g.reps,
           g.quick ? "; --quick" : "");
    printf("- data directory: %s\n", g.dir);
    printf("- each engine's workloads run in a forked child, engines "
           "interleaved per repetition; single-threaded client except "
           "\"%s\" (%d client threads, each with its own reader, "
           "splitting the gets; its own random keys); \"%s\": the table is "
           "closed and reopened after the scans and the first %lu uniform "
           "gets are timed (engine caches empty, OS page cache warm)\n",
           METRICS[M_READ_UNI2].name, READ_THREADS, METRICS[M_READ_COLD].name,
           (unsigned long)(g.reads < COLD_READS ? g.reads : COLD_READS));
    printf("- settings (same cache budget, WAL on, no fsync per write except "
           "in the sync pass):\n");
    for (int e = 0; e < ne; e++) {
        char d[1024];
        kv_conf c = {g.cache_bytes, 64u << 20, 0, g.rows,
                     g.nprops ? g.props : NULL, g.iceberg_view, g.max_imm,
                     g.mmap_reads};
        run[e]->describe(&c, d, sizeof d);
        printf("  - %s\n", d);
    }
    for (int e = 0; MISSING[e]; e++)
        printf("  - not run: %s\n", MISSING[e]);
    printf("\n");

    static double res[8][64][M_COUNT];
    int failures = 0;
    for (int r = 0; r < g.reps; r++)
        for (int e = 0; e < ne; e++) {
            double t0 = kv_now();
            if (run_forked(run[e], &g, res[e][r])) {
                fprintf(stderr, "bench_kv: %s failed in repetition %d\n",
                        run[e]->name, r + 1);
                failures++;
            }
            fprintf(stderr, "bench_kv: rep %d/%d %-9s %.1f s\n", r + 1, g.reps,
                    run[e]->name, kv_now() - t0);
        }
    rm_rf(g.dir);

    /* merutable's column is first when it ran; ratios need it. */
    int meru = -1;
    for (int e = 0; e < ne; e++)
        if (!strcmp(run[e]->name, "merutable"))
            meru = e;

    uint64_t ops[M_COUNT];
    op_counts(&g, ops);
    printf("| workload | ops | unit |");
    for (int e = 0; e < ne; e++)
        printf(" %s |", run[e]->name);
    printf(" merutable / best peer |\n| --- | ---: | --- |");
    for (int e = 0; e < ne; e++)
        printf(" ---: |");
    printf(" ---: |\n");
    for (int m = 0; m < M_COUNT; m++) {
        if ((m == M_SYNC1000 || m == M_SYNC1) && !g.sync_pass)
            continue;
        const metric_info *mi = &METRICS[m];
        if (ops[m])
            printf("| %s | %lu | %s |", mi->name, (unsigned long)ops[m],
                   mi->unit);
        else
            printf("| %s | | %s |", mi->name, mi->unit);
        double best = NAN, mine = NAN;
        for (int e = 0; e < ne; e++) {
            double col[64];
            for (int r = 0; r < g.reps; r++)
                col[r] = res[e][r][m];
            double v = median(col, g.reps) / mi->scale;
            char b[32];
            fmt_value(b, sizeof b, v);
            printf(" %s |", b);
            if (e == meru)
                mine = v;
            else if (!isnan(v) &&
                     (isnan(best) || (mi->higher_better ? v > best : v < best)))
                best = v;
        }
        if (m == M_SETTLE)
            /* Peers with nothing buffered settle in ~0 s: no ratio. */
            printf(" %s |\n", meru < 0 ? "pending" : "(merutable's own)");
        else if (isnan(mine) || isnan(best) || best == 0)
            printf(" %s |\n", meru < 0 ? "pending" : "n/a");
        else
            printf(" %.2f%s |\n", mine / best,
                   mi->higher_better ? "" : " (lower is better)");
    }
    printf("\nEvery repetition (same units, in run order):\n\n| workload |");
    for (int e = 0; e < ne; e++)
        printf(" %s |", run[e]->name);
    printf("\n| --- |");
    for (int e = 0; e < ne; e++)
        printf(" ---: |");
    printf("\n");
    for (int m = 0; m < M_COUNT; m++) {
        if ((m == M_SYNC1000 || m == M_SYNC1) && !g.sync_pass)
            continue;
        printf("| %s |", METRICS[m].name);
        for (int e = 0; e < ne; e++) {
            printf(" ");
            for (int r = 0; r < g.reps; r++) {
                char b[32];
                fmt_value(b, sizeof b, res[e][r][m] / METRICS[m].scale);
                printf("%s%s", r ? " / " : "", b);
            }
            printf(" |");
        }
        printf("\n");
    }
    printf("\nNotes: write amplification is the child's /proc/self/io "
           "write_bytes (bytes it dirtied in the page cache, counted once "
           "per page until written back) over the fillrandom-batch-1000 + "
           "overwrite + settle phase, divided by the user bytes written in "
           "it (120 per row written). Peak RSS is ru_maxrss of the child minus "
           "its RSS after building the workload arrays; its anonymous and "
           "file-backed parts are peaks of RssAnon and RssFile+RssShmem "
           "(/proc/self/status, sampled every 10 ms) above their values "
           "then (the two peaks need not coincide). Settle is the time "
           "from the end of overwrite until the engine was seen idle "
           "(RocksDB: flush + no pending/running compaction; LevelDB: L0 < 4 "
           "files and stats unchanged; SQLite: WAL checkpoint; LMDB: "
           "mdb_env_sync; merutable: meru_flush + no memtable waiting, no "
           "compaction running or due, no compacted file waiting for "
           "deletion). On-disk size counts the table's files; merutable's "
           "change history (changes/, kept for the feed's retention window) "
           "is on its own line.\n");
    if (failures)
        fprintf(stderr, "bench_kv: %d engine run(s) failed\n", failures);
    return failures ? 1 : 0;
}
