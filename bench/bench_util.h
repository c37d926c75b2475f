/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.h — small probes the benchmark programs share: a monotonic
 * clock in seconds, the bytes this process caused to be written to
 * disk (/proc/self/io write_bytes, 0 when unavailable), and the way the
 * DuckDB benches find and start their node script (bench/<name>.mjs, run
 * with the packages of tests/interop/node_modules).
 */
#ifndef MERU_BENCH_UTIL_H
#define MERU_BENCH_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t bench_io_write_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    uint64_t v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %" SCNu64, &v) == 1)
            break;
    fclose(f);
    return v;
}

/*
 * Finds bench/<name> (a node script) through $MERU_SOURCE_DIR, ./bench
 * (make bench runs from the repository root) or the binary's ../../bench
 * (build/<type>/bench_x). False when none exists.
 */
static inline bool bench_find_script(const char *argv0, const char *name,
                                     char *out, size_t cap)
{
    struct stat st;
    const char *env = getenv("MERU_SOURCE_DIR");
    if (env && *env) {
        snprintf(out, cap, "%s/bench/%s", env, name);
        if (stat(out, &st) == 0)
            return true;
    }
    snprintf(out, cap, "bench/%s", name);
    if (stat(out, &st) == 0)
        return true;
    const char *slash = strrchr(argv0, '/');
    if (slash) {
        snprintf(out, cap, "%.*s/../../bench/%s", (int)(slash - argv0), argv0,
                 name);
        if (stat(out, &st) == 0)
            return true;
    }
    return false;
}

/*
 * Starts `node bench/<name> <args>` with its stdout readable from the
 * returned stream (stderr goes to ours). `args` is pasted into a shell
 * command: the caller quotes it. NULL with the reason in `why` when the
 * script or node is missing or popen fails; then the caller skips its
 * DuckDB half (a benchmark, not a test).
 */
static inline FILE *bench_node_start(const char *argv0, const char *name,
                                     const char *args, char *why, size_t cap)
{
    char script[1024], cmd[8192];
    if (!bench_find_script(argv0, name, script, sizeof script)) {
        snprintf(why, cap, "bench/%s not found (set MERU_SOURCE_DIR)", name);
        return NULL;
    }
    if (system("node --version >/dev/null 2>&1") != 0) {
        snprintf(why, cap,
                 "node is not on PATH (bash scripts/install-deps.sh --npm)");
        return NULL;
    }
    snprintf(cmd, sizeof cmd, "node '%s' %s", script, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        snprintf(why, cap, "popen: %s", strerror(errno));
    return p;
}

/*
 * Closes what bench_node_start opened: 0 when the script exited 0; 1 when
 * it exited 3, the scripts' "@duckdb/node-api is not installed" (a
 * missing prerequisite: skip); -1 when it failed otherwise. `why` says
 * what happened unless 0.
 */
static inline int bench_node_finish(FILE *p, const char *name, char *why,
                                    size_t cap)
{
    int st = pclose(p);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3) {
        snprintf(why, cap,
                 "tests/interop/node_modules is missing (bash "
                 "scripts/install-deps.sh --npm)");
        return 1;
    }
    snprintf(why, cap, "bench/%s failed (status %d; see its message above)",
             name, st);
    return -1;
}

#endif
