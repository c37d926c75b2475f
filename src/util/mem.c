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
 */
#include "util/mem.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void meru_mem_trim(void)
{
#if defined(__GLIBC__)
    (void)malloc_trim(0);
#endif
}
