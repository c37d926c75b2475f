/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_mem.c — large short-lived buffers (mem.h): zeroed and writable
 * at every size, NULL on overflow, and a large one's pages leave the
 * process when it is freed even with younger heap blocks above it (where
 * a buffer from malloc's heap stays resident until a trim). The dense
 * variant likewise, with a large buffer's map aligned for huge pages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/mem.h"

/* The /proc/self/status field `name` ("RssAnon", "VmSize") in KiB, -1
 * when /proc is not there. */
static long status_kib(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t len = strlen(name);
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, name, len) && line[len] == ':') {
            kib = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static long rss_anon_kib(void)
{
    return status_kib("RssAnon");
}

static void test_big_calloc_zeroed_and_writable(void)
{
    size_t sizes[] = {0, 1, 100, 4096, MERU_MEM_MAP_MIN - 17,
                      MERU_MEM_MAP_MIN, 3 * MERU_MEM_MAP_MIN + 5};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *p = meru_mem_big_calloc(n, 1);
        CHECK_MSG(p != NULL, "big_calloc(%zu)", n);
        CHECK(((uintptr_t)p & 15) == 0);
        for (size_t j = 0; j < n; j += 511)
            CHECK_MSG(p[j] == 0, "byte %zu of %zu not zero", j, n);
        if (n) {
            memset(p, 0xa5, n);
            CHECK(p[n - 1] == 0xa5);
        }
        meru_mem_big_free(p);
    }
    uint64_t *q = meru_mem_big_calloc(1000, sizeof *q);
    CHECK(q != NULL);
    for (size_t j = 0; j < 1000; j++)
        CHECK(q[j] == 0);
    meru_mem_big_free(q);
    meru_mem_big_free(NULL);
}

static void test_big_calloc_refuses_overflow(void)
{
    CHECK(meru_mem_big_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(meru_mem_big_calloc(SIZE_MAX, 1) == NULL);
}

/* The reason for the helper: freed, a large buffer's pages go back at
 * once, with a younger block above it in the heap. malloc's dynamic
 * threshold is raised first (a freed 24 MiB block), so a plain calloc of
 * 8 MiB would come from the heap and stay resident after free. */
static void test_big_free_gives_pages_back(void)
{
    size_t big = (size_t)8 << 20;
    void *raise = malloc((size_t)24 << 20);
    CHECK(raise != NULL);
    memset(raise, 1, (size_t)24 << 20);
    free(raise);
    uint8_t *p = meru_mem_big_calloc(big, 1);
    CHECK(p != NULL);
    void *above = malloc(64);
    CHECK(above != NULL);
    memset(p, 7, big);
    long before = rss_anon_kib();
    meru_mem_big_free(p);
    long after = rss_anon_kib();
    free(above);
    if (before < 0)
        return; /* no /proc: nothing to measure */
    CHECK_MSG(before - after >= 7 * 1024,
              "RssAnon %ld KiB before the free, %ld after", before, after);
}

/* meru_mem_big_calloc_dense: zeroed, writable and freed as the plain one;
 * from MERU_MEM_HUGE bytes on its map (the 16-byte header before the
 * buffer) starts on a huge-page boundary, so that THP can back it with
 * whole huge pages (a plain map is aligned by chance 1 time in 512). */
static void test_big_calloc_dense(void)
{
    size_t sizes[] = {0, 100, MERU_MEM_MAP_MIN, MERU_MEM_HUGE,
                      5 * MERU_MEM_HUGE + 3};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *p = meru_mem_big_calloc_dense(n, 1);
        CHECK_MSG(p != NULL, "big_calloc_dense(%zu)", n);
        CHECK(((uintptr_t)p & 15) == 0);
        for (size_t j = 0; j < n; j += 509)
            CHECK_MSG(p[j] == 0, "byte %zu of %zu not zero", j, n);
        if (n >= MERU_MEM_HUGE)
            CHECK_MSG(((uintptr_t)p - 16) % MERU_MEM_HUGE == 0,
                      "a dense buffer of %zu bytes at %p: its map is not "
                      "on a huge-page boundary",
                      n, (void *)p);
        if (n) {
            memset(p, 0x5a, n);
            CHECK(p[n - 1] == 0x5a);
        }
        meru_mem_big_free(p);
    }
    CHECK(meru_mem_big_calloc_dense(SIZE_MAX / 2, 4) == NULL);
    /* A large one goes back at free, as the plain one does. */
    size_t big = (size_t)8 << 20;
    uint8_t *q = meru_mem_big_calloc_dense(big, 1);
    CHECK(q != NULL);
    memset(q, 3, big);
    long before = rss_anon_kib();
    meru_mem_big_free(q);
    long after = rss_anon_kib();
    if (before >= 0)
        CHECK_MSG(before - after >= 7 * 1024,
                  "RssAnon %ld KiB before the free, %ld after", before,
                  after);
}

/* A dense buffer of a length that is not a whole number of huge pages
 * leaves no part of its map behind at free: the address space is what it
 * was (the over-map's cut tail once failed to unmap, leaking up to 2 MiB
 * of address space per buffer). */
static void test_big_calloc_dense_unmaps_all(void)
{
    size_t n = 5 * MERU_MEM_HUGE + 3;
    long before = status_kib("VmSize");
    for (int i = 0; i < 4; i++) {
        uint8_t *p = meru_mem_big_calloc_dense(n, 1);
        CHECK(p != NULL);
        p[n - 1] = 1;
        meru_mem_big_free(p);
    }
    long after = status_kib("VmSize");
    if (before >= 0)
        CHECK_MSG(after <= before, "VmSize %ld KiB before, %ld after",
                  before, after);
}

int main(void)
{
    MERU_TEST_RUN(test_big_calloc_zeroed_and_writable);
    MERU_TEST_RUN(test_big_calloc_refuses_overflow);
    MERU_TEST_RUN(test_big_free_gives_pages_back);
    MERU_TEST_RUN(test_big_calloc_dense);
    MERU_TEST_RUN(test_big_calloc_dense_unmaps_all);
    return meru_test_finish();
}
