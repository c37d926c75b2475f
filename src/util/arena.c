/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena.c — chunk list bump allocator (see arena.h).
 *
 * Chunks form a singly linked list, newest first; allocation bumps in the
 * newest chunk. A request larger than a quarter of the chunk size gets a
 * dedicated chunk linked *behind* the current one, so the space left in the
 * current chunk is not wasted.
 */
#include "util/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/error.h"
#include "util/mem.h"

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    bool ordinary; /* made for a->chunk_bytes, not one large request */
    bool mapped;   /* its own anonymous map (munmap), not malloc (free) */
    _Alignas(16) unsigned char data[];
} chunk;

struct meru_arena {
    chunk *head;
    size_t chunk_bytes;
    size_t total;
};

/* Chunks of at least this size are aligned to it and asked to be backed by
 * transparent huge pages: a memtable's skiplist is walked at random over
 * tens of MiB, and with 4 KiB pages most steps are a TLB miss (and every
 * first touch a page fault). Where THP is off the advice is ignored.
 *
 * They are anonymous maps of their own, not malloc'd: freeing one (a
 * flushed memtable: 64 MiB by default) must give its pages back to the
 * system at once. From malloc they came out of glibc's heaps once its
 * dynamic mmap threshold had risen past 2 MiB, and a freed memtable then
 * stayed resident wherever younger blocks sat above it (bench_kv 1M rows:
 * peak RssAnon 429 MiB with malloc'd chunks, 272 MiB with a fixed
 * threshold, bench/RESULTS.md "Row groups and memory"). */
#define HUGE_CHUNK MERU_MEM_HUGE

static chunk *chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(chunk) - HUGE_CHUNK)
        return NULL;
    chunk *c = NULL;
    bool mapped = false;
    if (sizeof(chunk) + size >= HUGE_CHUNK) {
        size_t bytes = (sizeof(chunk) + size + HUGE_CHUNK - 1) &
                       ~(HUGE_CHUNK - 1);
        if ((c = meru_mem_huge_map(bytes)))
            mapped = true;
        else
            c = malloc(bytes); /* no maps here, or none left */
        size = bytes - sizeof(chunk);
    } else {
        c = malloc(sizeof(chunk) + size);
    }
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    c->mapped = mapped;
    return c;
}

static void chunk_free(chunk *c)
{
    if (c->mapped)
        munmap(c, sizeof(chunk) + c->size);
    else
        free(c);
}

int meru_arena_new(meru_arena **out, size_t chunk_bytes)
{
    meru_arena *a = calloc(1, sizeof *a);
    if (!a)
        return meru_err(MERU_ENOMEM, "arena: out of memory");
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
    *out = a;
    return MERU_OK;
}

void meru_arena_free(meru_arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *n = c->next;
        chunk_free(c);
        c = n;
    }
    free(a);
}

void *meru_arena_alloc_aligned(meru_arena *a, size_t n, size_t align)
{
    if (align == 0 || (align & (align - 1)) || align > 4096) {
        meru_err(MERU_EINVAL, "arena: bad alignment %zu", align);
        return NULL;
    }
    if (n == 0)
        n = 1;
    chunk *c = a->head;
    if (c) {
        uintptr_t base = (uintptr_t)c->data + c->used;
        size_t pad = (align - (base & (align - 1))) & (align - 1);
        if (pad <= c->size - c->used && n <= c->size - c->used - pad) {
            c->used += pad + n;
            return (void *)(base + pad);
        }
    }
    if (n > SIZE_MAX - align) {
        meru_err(MERU_ENOMEM, "arena: allocation of %zu bytes overflows", n);
        return NULL;
    }
    size_t need = n + align;
    int dedicated = need > a->chunk_bytes / 4;
    /* an ordinary huge chunk's header comes out of chunk_bytes: 2 MiB is
     * then one huge page, not two */
    size_t ord = a->chunk_bytes >= HUGE_CHUNK ? a->chunk_bytes - sizeof(chunk)
                                             : a->chunk_bytes;
    chunk *nc = chunk_new(dedicated ? need : ord);
    if (!nc) {
        meru_err(MERU_ENOMEM, "arena: cannot allocate %zu bytes", need);
        return NULL;
    }
    nc->ordinary = !dedicated;
    a->total += sizeof(chunk) + nc->size;
    if (dedicated && a->head) {
        nc->next = a->head->next;
        a->head->next = nc;
    } else {
        nc->next = a->head;
        a->head = nc;
    }
    uintptr_t base = (uintptr_t)nc->data;
    size_t pad = (align - (base & (align - 1))) & (align - 1);
    nc->used = pad + n;
    return (void *)(base + pad);
}

void *meru_arena_alloc(meru_arena *a, size_t n)
{
    return meru_arena_alloc_aligned(a, n, 8);
}

void *meru_arena_zalloc(meru_arena *a, size_t n)
{
    void *p = meru_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *meru_arena_dup(meru_arena *a, const void *p, size_t n)
{
    void *d = meru_arena_alloc(a, n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

char *meru_arena_strndup(meru_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) {
        meru_err(MERU_ENOMEM, "arena: string too long");
        return NULL;
    }
    char *d = meru_arena_alloc_aligned(a, n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

size_t meru_arena_bytes(const meru_arena *a) { return a->total; }

void meru_arena_reset(meru_arena *a)
{
    /* Keep one ordinary chunk for reuse; free the rest. */
    chunk *keep = NULL;
    for (chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        if (!keep && c->ordinary) {
            keep = c;
            continue;
        }
        a->total -= sizeof(chunk) + c->size;
        chunk_free(c);
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}
