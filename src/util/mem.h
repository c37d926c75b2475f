/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.h — handing freed heap memory back to the system.
 */
#ifndef MERU_UTIL_MEM_H
#define MERU_UTIL_MEM_H

#include <stddef.h>

/* Returns the free pages of the C library's heaps to the system, where the
 * library can (glibc: malloc_trim); a no-op elsewhere. For the end of a
 * large job (a compaction) whose buffers would otherwise stay resident. */
void meru_mem_trim(void);

/*
 * A zeroed array of n * size bytes for a large, short-lived buffer (a
 * flush's per-key tables): from MERU_MEM_MAP_MIN bytes on it is an
 * anonymous map of its own, so its pages are touched only where written
 * (the rest read as zero without being resident) and go back to the system
 * at meru_mem_big_free whatever was allocated after it; below that,
 * calloc. Why: such buffers from malloc's heaps (a worker thread's arena)
 * left tens of MiB resident between flushes, and the next flush's were
 * placed above them (bench/RESULTS.md, "Memory budget, second pass").
 * NULL (no error set) when out of memory or n * size overflows.
 */
#define MERU_MEM_MAP_MIN ((size_t)1 << 20)
void *meru_mem_big_calloc(size_t n, size_t size);
/*
 * A MERU_MEM_HUGE-aligned anonymous map of `bytes` (a multiple of
 * MERU_MEM_HUGE) advised for transparent huge pages, for memory written
 * once nearly whole (arena chunks, writer blocks); NULL when out of memory,
 * `bytes` is not such a multiple, or the system has no anonymous maps.
 * Free with munmap(p, bytes).
 */
#define MERU_MEM_HUGE ((size_t)2 << 20)
void *meru_mem_huge_map(size_t bytes);
/*
 * As meru_mem_big_calloc, for a buffer the caller will write nearly all of
 * (a flush lookup's per-key result tables): from MERU_MEM_HUGE bytes on the
 * map is aligned to MERU_MEM_HUGE and advised for transparent huge pages
 * (MADV_HUGEPAGE), so filling it costs a page fault per 2 MiB instead of
 * one per 4 KiB (the feed's flush job faulted in tens of MiB of fresh
 * tables at every flush: bench/RESULTS.md, "issue 12, sixth pass"). Not
 * for sparse tables: a huge page is resident whole once any byte of it is
 * written. Where THP is off the advice is ignored.
 */
void *meru_mem_big_calloc_dense(size_t n, size_t size);
/* Frees what meru_mem_big_calloc or meru_mem_big_calloc_dense returned
 * (NULL is fine). */
void meru_mem_big_free(void *p);

#endif
