/*
 * bench_util.h — small probes the benchmark programs share: a monotonic
 * clock in seconds and the bytes this process caused to be written to
 * disk (/proc/self/io write_bytes, 0 when unavailable).
 */
#ifndef MERU_BENCH_UTIL_H
#define MERU_BENCH_UTIL_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
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

#endif
