/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena.h — a chunked bump allocator.
 *
 * Used for memtables, decoded metadata and per-page decode buffers: many
 * small allocations freed all at once. Pointers never move (new chunks are
 * added, old ones are kept), so a reader may keep a pointer for the arena's
 * lifetime. Not thread-safe for allocation: callers serialise allocators;
 * reading memory already handed out is safe from any thread.
 */
#ifndef MERU_UTIL_ARENA_H
#define MERU_UTIL_ARENA_H

#include <stddef.h>

typedef struct meru_arena meru_arena;

/* chunk_bytes: size of ordinary chunks (0 = 64 KiB). Larger requests get a
 * chunk of their own. Chunks of 2 MiB and more are 2 MiB-aligned and
 * advised (madvise MADV_HUGEPAGE) to be backed by transparent huge pages;
 * they are anonymous maps of their own, so freeing them returns their
 * memory to the system at once. */
int meru_arena_new(meru_arena **out, size_t chunk_bytes);
void meru_arena_free(meru_arena *a);
/* 8-byte aligned, uninitialised. NULL (error set) on failure/overflow. */
void *meru_arena_alloc(meru_arena *a, size_t n);
/* Aligned to `align` (a power of two <= 4096). */
void *meru_arena_alloc_aligned(meru_arena *a, size_t n, size_t align);
/* Zeroed. */
void *meru_arena_zalloc(meru_arena *a, size_t n);
/* Copies n bytes (and returns NULL for n == 0 only on error). */
void *meru_arena_dup(meru_arena *a, const void *p, size_t n);
/* NUL-terminated copy of n bytes. */
char *meru_arena_strndup(meru_arena *a, const char *s, size_t n);
/* Bytes obtained from the system (chunks), for memory accounting. */
size_t meru_arena_bytes(const meru_arena *a);
/* Frees every chunk but the first; the arena is empty again. */
void meru_arena_reset(meru_arena *a);

#endif
