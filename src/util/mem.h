/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.h — handing freed heap memory back to the system.
 */
#ifndef MERU_UTIL_MEM_H
#define MERU_UTIL_MEM_H

/* Returns the free pages of the C library's heaps to the system, where the
 * library can (glibc: malloc_trim); a no-op elsewhere. For the end of a
 * large job (a compaction) whose buffers would otherwise stay resident. */
void meru_mem_trim(void);

#endif
