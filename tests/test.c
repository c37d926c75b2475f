/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test.c — harness implementation: run/report, temp dirs, seeded PRNG.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int meru_test_failed_current;
static int n_run, n_failed;
static const char *current_name = "?";
static uint64_t rng_state, rng_seed;
static int rng_ready;

void meru_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s at %s:%d: ", current_name, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    meru_test_failed_current = 1;
}

void meru_test_run(const char *name, void (*fn)(void))
{
    struct timespec a, b;
    /* MERU_TEST_ONLY=<substring>: run only the tests whose name has it. */
    const char *only = getenv("MERU_TEST_ONLY");
    if (only && *only && !strstr(name, only))
        return;
    current_name = name;
    meru_test_failed_current = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    fn();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
                (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    n_run++;
    if (meru_test_failed_current)
        n_failed++;
    printf("%s %s (%.1f ms)\n", meru_test_failed_current ? "FAIL" : "ok  ",
           name, ms);
    fflush(stdout);
}

int meru_test_finish(void)
{
    printf("%d passed, %d failed\n", n_run - n_failed, n_failed);
    return n_failed ? 1 : 0;
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[4096];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

void meru_test_rmtree(const char *path)
{
    rm_rf(path);
}

static void mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

const char *meru_test_tmpdir(const char *name)
{
    static char path[4096];
    const char *base = getenv("MERU_TEST_TMP");
    if (!base || !*base)
        base = "/tmp/meru-test";
    snprintf(path, sizeof path, "%s/%s-%ld", base, name, (long)getpid());
    rm_rf(path);
    mkdir_p(path);
    return path;
}

static void rng_init(void)
{
    const char *s = getenv("MERU_TEST_SEED");
    rng_seed = s ? strtoull(s, NULL, 0) : 0x9E3779B97F4A7C15ull;
    if (rng_seed == 0)
        rng_seed = 1;
    rng_state = rng_seed;
    rng_ready = 1;
    printf("seed %llu (set MERU_TEST_SEED to replay)\n",
           (unsigned long long)rng_seed);
}

uint64_t meru_test_rand(void)
{
    if (!rng_ready)
        rng_init();
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

uint64_t meru_test_seed(void)
{
    if (!rng_ready)
        rng_init();
    return rng_seed;
}

double meru_test_scale(void)
{
    const char *s = getenv("MERU_TEST_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

uint8_t *meru_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *p = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0)
        p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

/* One "Rss:" line per mapping of the path; summed (a file may be mapped
 * more than once). */
long meru_test_map_rss_kib(const char *path)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[2048];
    long rss = -1;
    int in = 0;
    size_t pl = strlen(path);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
            line[--n] = 0;
        const char *dash = strchr(line, '-'), *sp = strchr(line, ' ');
        if (dash && sp && dash < sp) {
            /* a mapping's header: "lo-hi perms off dev inode path" */
            in = n >= pl && !strcmp(line + n - pl, path);
            continue;
        }
        long kib;
        if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
            rss = (rss < 0 ? 0 : rss) + kib;
    }
    fclose(f);
    return rss;
}
