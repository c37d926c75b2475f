/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test.h — the project's small test harness.
 *
 * A test program defines functions `static void test_xxx(void)` and a main
 * that calls MERU_TEST_RUN(test_xxx) for each, then returns
 * meru_test_finish(). Checks never vanish under NDEBUG; a failing CHECK
 * prints file:line and the expression, marks the current test failed and
 * returns from it (so later checks do not run on a broken state).
 *
 * Test names say what behaviour they pin: test_wal_recovers_torn_tail.
 *
 * A test program that runs threads puts the word MERU_TEST_CONCURRENT in a
 * comment: CMake labels it `concurrent` and `make test-tsan` runs it under
 * ThreadSanitizer.
 */
#ifndef MERU_TEST_H
#define MERU_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "merutable.h"

extern int meru_test_failed_current;

void meru_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void meru_test_run(const char *name, void (*fn)(void));
int meru_test_finish(void);
/* A fresh empty directory for this test under $MERU_TEST_TMP (or /tmp);
 * the returned path is static storage valid until the next call. */
const char *meru_test_tmpdir(const char *name);
/* Resident KiB of this process's maps of `path` (the Rss: lines of its
 * /proc/self/smaps entries), -1 when it is not mapped. */
long meru_test_map_rss_kib(const char *path);
/* Removes a file or a directory tree (tests that write large tables clean
 * up after themselves). */
void meru_test_rmtree(const char *path);
/* Deterministic PRNG (xorshift64*) seeded from MERU_TEST_SEED or a default;
 * the seed is printed once so a failure can be replayed. */
uint64_t meru_test_rand(void);
uint64_t meru_test_seed(void);
/* Reads a whole file into a malloc'd, NUL-terminated buffer (free with
 * free()); NULL if it cannot be read. */
uint8_t *meru_test_read_file(const char *path, size_t *len);

#ifdef MERU_SHARED_DIR
/* A file of the public Parquet conformance corpus (parquet-testing/data). */
static inline uint8_t *meru_test_read_corpus(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/parquet-testing/data/%s", MERU_SHARED_DIR,
             name);
    return meru_test_read_file(path, len);
}
#endif

/* MERU_TEST_ONLY=<substring> runs only the tests whose name contains it. */

/* Milder scale for sanitizer / slow builds: MERU_TEST_SCALE (default 1). */
double meru_test_scale(void);

#define MERU_TEST_RUN(fn) meru_test_run(#fn, fn)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            meru_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);            \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            meru_test_fail(__FILE__, __LINE__, __VA_ARGS__);                   \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long _a = (long long)(a), _b = (long long)(b);                    \
        if (_a != _b) {                                                        \
            meru_test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a,  \
                           #b, _a, _b);                                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                     \
    do {                                                                       \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                       \
        if (_a != _b) {                                                        \
            meru_test_fail(__FILE__, __LINE__,                                 \
                           "%s == %s (%" PRIu64 " != %" PRIu64 ")", #a, #b,    \
                           _a, _b);                                            \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *_a = (a), *_b = (b);                                       \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                               \
            meru_test_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")",  \
                           #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");    \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_MEM(a, b, n)                                                     \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0) {                                      \
            meru_test_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s) != 0", #a,  \
                           #b, #n);                                            \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Expects status `code` from `expr`; prints meru_errmsg() when it differs. */
#define CHECK_RC(expr, code)                                                   \
    do {                                                                       \
        int _rc = (expr);                                                      \
        if (_rc != (code)) {                                                   \
            meru_test_fail(__FILE__, __LINE__,                                 \
                           "%s returned %d (%s), expected %d: %s", #expr, _rc, \
                           meru_strerror(_rc), (int)(code), meru_errmsg());    \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, MERU_OK)

/* The last error message contains `needle`. */
#define CHECK_ERRMSG(needle)                                                   \
    do {                                                                       \
        if (!strstr(meru_errmsg(), (needle))) {                                \
            meru_test_fail(__FILE__, __LINE__,                                 \
                           "error message \"%s\" lacks \"%s\"", meru_errmsg(), \
                           (needle));                                          \
            return;                                                            \
        }                                                                      \
    } while (0)

#endif
