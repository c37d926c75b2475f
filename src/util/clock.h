/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.h — time sources.
 *
 * meru_clock_ns is monotonic (CLOCK_MONOTONIC): for durations, timeouts and
 * rate limiting; it never goes backwards and has no relation to the date.
 * The unix_* functions read the wall clock (CLOCK_REALTIME): for timestamps
 * that are stored or shown (Iceberg snapshot timestamp-ms); they can jump.
 */
#ifndef MERU_UTIL_CLOCK_H
#define MERU_UTIL_CLOCK_H

#include <stdint.h>

/* Monotonic nanoseconds since an arbitrary fixed point. */
uint64_t meru_clock_ns(void);
/* Wall-clock milliseconds / microseconds since 1970-01-01 UTC. */
int64_t meru_clock_unix_ms(void);
int64_t meru_clock_unix_us(void);
/* CPU nanoseconds the calling thread has run (CLOCK_THREAD_CPUTIME_ID):
 * what a piece of work cost, apart from the time it waited for a CPU. */
uint64_t meru_clock_thread_cpu_ns(void);
/* Sleeps at least `ns` nanoseconds (resumes after signal interruptions). */
void meru_sleep_ns(uint64_t ns);

#endif
