/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_rss.c — bench_kv's memory probes: the RSS sampler a child runs beside
 * its workloads (peaks of anonymous and file-backed RSS, overall and per
 * phase, with what the engine said it held) and, with --rss-maps, the
 * split of each phase's peak by kind of mapping. kv_rss.h says what each
 * call does; bench_kv.c's top comment says how to read the figures.
 */
#include "kv_rss.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------- OS probes */

long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* --rss-maps: what the resident pages are, by kind of mapping, read from
 * /proc/self/smaps (KiB). The kinds tell the owners apart without asking
 * the engine: glibc's main heap ([heap]) and its per-thread arenas
 * (anonymous maps starting on a 64 MiB boundary, glibc's HEAP_MAX_SIZE);
 * anonymous maps advised for huge pages (VmFlags "hg": merutable's arena
 * chunks of 2 MiB and more, i.e. memtables and the flush's arenas, and
 * the Parquet writer's full 2 MiB chain blocks; neighbours of the same
 * kind merge into one map, so the kind and not the size tells them);
 * other anonymous maps (large mallocs, buffers mapped on their own, thread
 * stacks); data files (*.parquet, mapped by reads); other files (code,
 * libraries) and the kernel's special maps. */
enum { MK_HEAP, MK_ARENAS, MK_HUGE, MK_ANON, MK_DATA, MK_FILES, MK_COUNT };
static const char *const MK_NAME[MK_COUNT] = {
    "main heap",  "thread arenas", "huge-page maps", "other anonymous maps",
    "data files", "other files"};
typedef struct rss_maps {
    long kib[MK_COUNT];
} rss_maps;
int rss_maps_on; /* --rss-maps */

static int smaps_kind(unsigned long lo, const char *path)
{
    if (path[0] == '/') {
        size_t n = strlen(path);
        return n > 8 && !strcmp(path + n - 8, ".parquet") ? MK_DATA : MK_FILES;
    }
    if (!strcmp(path, "[heap]"))
        return MK_HEAP;
    if (path[0])
        return MK_FILES; /* [stack], [vdso], ...: not the engine's */
    return lo % (64ul << 20) == 0 ? MK_ARENAS : MK_ANON;
}

/* Each map's Rss is counted under its kind once its VmFlags line (the
 * last of its block) is read, or at the next map's header. */
static int read_smaps(rss_maps *out)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4200];
    int kind = MK_FILES;
    long rss = 0;
    memset(out, 0, sizeof *out);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char path[4096] = "";
        long v;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &lo, &hi, path) >=
                2 &&
            strchr(line, '-') < strchr(line, ' ')) {
            out->kib[kind] += rss;
            rss = 0;
            kind = smaps_kind(lo, path);
        } else if (sscanf(line, "Rss: %ld kB", &v) == 1) {
            rss = v;
        } else if (!strncmp(line, "VmFlags:", 8)) {
            if ((kind == MK_ANON || kind == MK_ARENAS) && strstr(line, " hg"))
                kind = MK_HUGE;
            out->kib[kind] += rss;
            rss = 0;
        }
    }
    out->kib[kind] += rss;
    fclose(f);
    return 0;
}

/* The peak anonymous and file-backed RSS of the child, sampled by a
 * thread; phase names the workload running (set by run_child). */
typedef struct rss_sampler {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    const char *phase;
    long anon0, file0; /* baselines, KiB */
    long anon, file;   /* peaks, KiB */
    const char *anon_phase, *file_phase;
    int nphase; /* per-phase peaks, in the order phases began */
    const char *pname[16];
    long panon[16], pfile[16];
    /* per phase, the peak of anonymous + file-backed taken in one sample:
     * the phase whose figure is largest is the one that set ru_maxrss */
    long ptotal[16];
    double pcpu[16]; /* process CPU seconds when each phase began */
    /* The open handle whose engine is asked for its budgeted parts at
     * each sample (rss_watch; NULL between tables), and what it said at
     * each anonymous peak (bytes; negative: not said). */
    const kv_driver *drv;
    void *h;
    kv_mem mem, pmem[16];
    /* --rss-maps: the kinds of mappings at the start and at each phase's
     * peak of both (read only when that peak rises) */
    rss_maps maps0, pmaps[16];
} rss_sampler;

/* The process's CPU time (user + system, every thread), seconds: what a
 * phase costs whatever the machine's load. */
double proc_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static rss_sampler rss_s = {.mu = PTHREAD_MUTEX_INITIALIZER,
                            .cv = PTHREAD_COND_INITIALIZER};

/* Starts the named phase. A sample is taken on each side of the switch,
 * so a phase shorter than the sampler's 10 ms still has its end (the
 * phase before) and its start in its figures rather than none. */
void rss_phase(const char *phase)
{
    rss_sample();
    pthread_mutex_lock(&rss_s.mu);
    rss_s.phase = phase;
    if (rss_s.nphase < 16) {
        rss_s.pname[rss_s.nphase] = phase;
        rss_s.panon[rss_s.nphase] = rss_s.pfile[rss_s.nphase] = 0;
        rss_s.ptotal[rss_s.nphase] = 0;
        memset(&rss_s.pmaps[rss_s.nphase], 0, sizeof rss_s.pmaps[0]);
        rss_s.pcpu[rss_s.nphase] = proc_cpu_s();
        rss_s.nphase++;
    }
    pthread_mutex_unlock(&rss_s.mu);
    rss_sample();
}

/* Sets the handle the sampler asks for its engine's memory (NULL: none);
 * once it returns no sample uses the previous one, so the caller may
 * close it. */
void rss_watch(const kv_driver *drv, void *h)
{
    pthread_mutex_lock(&rss_s.mu);
    rss_s.drv = h && drv->mem ? drv : NULL;
    rss_s.h = h;
    pthread_mutex_unlock(&rss_s.mu);
}

void rss_sample(void)
{
    long a = status_kib("RssAnon");
    long f = status_kib("RssFile"), sh = status_kib("RssShmem");
    if (f >= 0 && sh > 0)
        f += sh;
    pthread_mutex_lock(&rss_s.mu);
    kv_mem m = {-1, -1};
    if (rss_s.drv && rss_s.drv->mem(rss_s.h, &m))
        m.memtables = m.cache = -1;
    if (a > rss_s.anon) {
        rss_s.anon = a;
        rss_s.anon_phase = rss_s.phase;
        rss_s.mem = m;
    }
    if (f > rss_s.file) {
        rss_s.file = f;
        rss_s.file_phase = rss_s.phase;
    }
    if (rss_s.nphase) {
        int i = rss_s.nphase - 1;
        if (a > rss_s.panon[i]) {
            rss_s.panon[i] = a;
            rss_s.pmem[i] = m;
        }
        if (f > rss_s.pfile[i])
            rss_s.pfile[i] = f;
        if (a + f > rss_s.ptotal[i]) {
            rss_s.ptotal[i] = a + f;
            if (rss_maps_on)
                read_smaps(&rss_s.pmaps[i]);
        }
    }
    pthread_mutex_unlock(&rss_s.mu);
}

static void *rss_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&rss_s.mu);
    while (!rss_s.stop) {
        pthread_mutex_unlock(&rss_s.mu);
        rss_sample();
        pthread_mutex_lock(&rss_s.mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!rss_s.stop)
            pthread_cond_timedwait(&rss_s.cv, &rss_s.mu, &ts);
    }
    pthread_mutex_unlock(&rss_s.mu);
    return NULL;
}

int rss_start(void)
{
    rss_s.anon0 = rss_s.anon = status_kib("RssAnon");
    long sh = status_kib("RssShmem");
    rss_s.file0 = rss_s.file = status_kib("RssFile") + (sh > 0 ? sh : 0);
    rss_s.phase = rss_s.anon_phase = rss_s.file_phase = "start";
    if (rss_maps_on)
        read_smaps(&rss_s.maps0);
    rss_s.mem.memtables = rss_s.mem.cache = -1;
    return pthread_create(&rss_s.thread, NULL, rss_loop, NULL) ? -1 : 0;
}

/* ", memtables M MiB, cache C MiB" as the engine said at an anonymous
 * peak, or "" when it did not say. */
static const char *mem_split(const kv_mem *m, char *buf, size_t cap)
{
    if (m->memtables < 0)
        return "";
    snprintf(buf, cap, "; then memtables %.1f MiB, cache %.1f MiB",
             m->memtables / 1048576.0, m->cache / 1048576.0);
    return buf;
}

/* Stops the sampler; the peaks above the baselines, in KiB. */
void rss_stop(const char *engine, double *anon, double *file)
{
    pthread_mutex_lock(&rss_s.mu);
    rss_s.stop = 1;
    pthread_cond_signal(&rss_s.cv);
    pthread_mutex_unlock(&rss_s.mu);
    pthread_join(rss_s.thread, NULL);
    rss_sample();
    *anon = (double)(rss_s.anon - rss_s.anon0);
    *file = (double)(rss_s.file - rss_s.file0);
    char split[96];
    fprintf(stderr,
            "bench_kv: %s: peak RssAnon +%.1f MiB (in %s%s), peak "
            "RssFile+RssShmem +%.1f MiB (in %s)\n",
            engine, *anon / 1024.0, rss_s.anon_phase,
            mem_split(&rss_s.mem, split, sizeof split), *file / 1024.0,
            rss_s.file_phase);
    double cpu_end = proc_cpu_s();
    for (int i = 0; i < rss_s.nphase; i++)
        fprintf(stderr,
                "bench_kv: %s:   %-22s peak RssAnon +%6.1f MiB, "
                "RssFile+RssShmem +%6.1f MiB, both +%6.1f MiB%s, "
                "CPU %.2f s\n",
                engine, rss_s.pname[i],
                (double)(rss_s.panon[i] - rss_s.anon0) / 1024.0,
                (double)(rss_s.pfile[i] - rss_s.file0) / 1024.0,
                (double)(rss_s.ptotal[i] - rss_s.anon0 - rss_s.file0) / 1024.0,
                mem_split(&rss_s.pmem[i], split, sizeof split),
                (i + 1 < rss_s.nphase ? rss_s.pcpu[i + 1] : cpu_end) -
                    rss_s.pcpu[i]);
    for (int i = 0; rss_maps_on && i < rss_s.nphase; i++) {
        char line[512];
        size_t n = 0;
        for (int k = 0; k < MK_COUNT; k++)
            n += (size_t)snprintf(
                line + n, sizeof line - n, "%s%s %+.1f", k ? ", " : "",
                MK_NAME[k],
                (double)(rss_s.pmaps[i].kib[k] - rss_s.maps0.kib[k]) / 1024.0);
        fprintf(stderr, "bench_kv: %s:   %-22s at the peak of both, MiB: %s\n",
                engine, rss_s.pname[i], line);
    }
}
