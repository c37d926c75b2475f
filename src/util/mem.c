/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.c — handing freed heap memory back to the system (mem.h).
 *
 * Why: glibc's malloc raises its mmap threshold each time a mapped block is
 * freed (up to 32 MiB), so after the first large buffers most allocations
 * come from its heaps, and a heap gives memory back only from its top.
 * A background job (a compaction: decoded pages, merge buffers, a row
 * group) frees tens of MiB that then stay resident below younger blocks,
 * and in a long-lived process that is most of the anonymous memory above
 * the budgets (bench/RESULTS.md, "Row groups and memory"). malloc_trim(0)
 * releases the free pages of every heap (madvise), whatever sits above.
 * It does so only when called, though: between two trims the heap keeps
 * what was freed, and a large buffer allocated meanwhile lands above it.
 * meru_mem_big_calloc keeps a job's large tables out of the heaps instead.
 */
#include "util/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#include <sys/mman.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void meru_mem_trim(void)
{
#if defined(__GLIBC__)
    (void)malloc_trim(0);
#endif
}

/* Before each big buffer: its size and how it was made. 16 bytes, so the
 * buffer keeps malloc's alignment. */
typedef struct big_head {
    size_t bytes; /* of the whole allocation, header included */
    size_t mapped;
} big_head;

void *meru_mem_huge_map(size_t bytes)
{
#ifdef MAP_ANONYMOUS
    if (!bytes || bytes % MERU_MEM_HUGE || bytes > SIZE_MAX - MERU_MEM_HUGE)
        return NULL;
    /* Over-map by one huge page and cut the ends, so that the kernel can
     * back the buffer with whole huge pages. */
    size_t span = bytes + MERU_MEM_HUGE;
    uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)m + MERU_MEM_HUGE - 1) &
                             ~(uintptr_t)(MERU_MEM_HUGE - 1));
    if (p > m)
        munmap(m, (size_t)(p - m));
    if (p + bytes < m + span)
        munmap(p + bytes, (size_t)(m + span - (p + bytes)));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: failure is harmless */
#endif
    return p;
#else
    (void)bytes;
    return NULL;
#endif
}

static void *big_calloc(size_t n, size_t size, bool huge)
{
    if (size && n > (SIZE_MAX - sizeof(big_head)) / size)
        return NULL;
    size_t bytes = n * size + sizeof(big_head);
    big_head *h = NULL;
#ifdef MAP_ANONYMOUS
    if (bytes >= MERU_MEM_MAP_MIN) {
        void *m;
        if (huge && bytes >= MERU_MEM_HUGE) {
            /* Whole huge pages: the map is cut at a page boundary, and
             * its last huge page can be backed whole too. */
            if (bytes > SIZE_MAX - MERU_MEM_HUGE)
                return NULL;
            bytes = (bytes + MERU_MEM_HUGE - 1) & ~(MERU_MEM_HUGE - 1);
            m = meru_mem_huge_map(bytes);
        } else {
            m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            m = m == MAP_FAILED ? NULL : m;
        }
        if (!(h = m))
            return NULL;
        h->mapped = 1;
    }
#endif
    if (!h) {
        if (!(h = calloc(1, bytes)))
            return NULL;
        h->mapped = 0;
    }
    h->bytes = bytes;
    return h + 1;
}

void *meru_mem_big_calloc(size_t n, size_t size)
{
    return big_calloc(n, size, false);
}

void *meru_mem_big_calloc_dense(size_t n, size_t size)
{
    return big_calloc(n, size, true);
}

void meru_mem_big_free(void *p)
{
    if (!p)
        return;
    big_head *h = (big_head *)p - 1;
#ifdef MAP_ANONYMOUS
    if (h->mapped) {
        munmap(h, h->bytes);
        return;
    }
#endif
    free(h);
}
