/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_clock.c — monotonic and wall clocks, sleep.
 */
#include <time.h>

#include "test.h"
#include "util/clock.h"

static void test_clock_monotonic_never_goes_back(void)
{
    uint64_t prev = meru_clock_ns();
    CHECK(prev > 0);
    for (int i = 0; i < 10000; i++) {
        uint64_t now = meru_clock_ns();
        CHECK(now >= prev);
        prev = now;
    }
}

static void test_clock_sleep_waits_at_least_the_duration(void)
{
    uint64_t t0 = meru_clock_ns();
    meru_sleep_ns(20 * 1000000u);
    uint64_t dt = meru_clock_ns() - t0;
    CHECK_MSG(dt >= 20 * 1000000u, "slept %" PRIu64 " ns", dt);
    CHECK_MSG(dt < 5000 * 1000000ull, "slept %" PRIu64 " ns", dt);
    meru_sleep_ns(0);
}

static void test_clock_unix_time_agrees_with_time(void)
{
    int64_t before = (int64_t)time(NULL);
    int64_t ms = meru_clock_unix_ms();
    int64_t us = meru_clock_unix_us();
    int64_t after = (int64_t)time(NULL);
    /* After 2020-01-01 and consistent with time(2) to the second. */
    CHECK(ms > 1577836800000LL);
    CHECK(ms / 1000 >= before && ms / 1000 <= after);
    CHECK(us / 1000000 >= before && us / 1000000 <= after + 1);
    CHECK(us / 1000 >= ms);
}

int main(void)
{
    MERU_TEST_RUN(test_clock_monotonic_never_goes_back);
    MERU_TEST_RUN(test_clock_sleep_waits_at_least_the_duration);
    MERU_TEST_RUN(test_clock_unix_time_agrees_with_time);
    return meru_test_finish();
}
