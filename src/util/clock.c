/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.c — clock_gettime / nanosleep wrappers (see clock.h).
 *
 * clock_gettime cannot fail for these clock ids on any supported system, so
 * the functions return plain values rather than a status.
 */
#include "util/clock.h"

#include <errno.h>
#include <time.h>

uint64_t meru_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t meru_clock_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t meru_clock_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t meru_clock_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void meru_sleep_ns(uint64_t ns)
{
    struct timespec req, rem;
    req.tv_sec = (time_t)(ns / 1000000000u);
    req.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}
