/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admit.c — the doorkeeper of admit.h: a table of 32-bit tags in buckets
 * of four (16 bytes, so a bucket never straddles a cache line).
 *
 * The hash's low bits pick the bucket and its high 32 bits are the tag
 * (with the lowest bit forced to 1, so an empty slot, 0, matches no key).
 * A key is admitted when its bucket holds its tag; a key that does not
 * find it enters at the bucket's front and the oldest of the four falls
 * out. With one tag per slot a mark was lost to the first later key
 * hashed to its slot (100 keys over 1024 slots: 84 found their mark on
 * the second use); with four per bucket it lasts until four later keys
 * fall into its bucket (test_cache_admit).
 *
 * The mark is left in place once admitted: the key is in the cache then
 * and will not be asked about again until it is evicted, when being
 * re-admitted at once is what a hot key deserves.
 *
 * Each check reads one bucket and writes it only when the key was not
 * there, so two threads checking different keys touch different lines of
 * the table almost always, and a hot key's bucket stays shared by the
 * cores. Two threads writing one bucket at once may leave a tag twice or
 * lose one: a key admitted one miss late or early, never wrong data.
 * Nothing is allocated after creation.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cache/admit.h"
#include "util/error.h"

#define ADMIT_MIN_SLOTS 64
#define ADMIT_WAYS 4

struct meru_admit {
    size_t mask; /* buckets - 1 */
    _Alignas(16) _Atomic uint32_t tags[]; /* buckets of ADMIT_WAYS */
};

size_t meru_admit_slots_for(size_t capacity, size_t entry_bytes)
{
    if (!entry_bytes)
        entry_bytes = 1;
    size_t entries = capacity / entry_bytes;
    return entries > SIZE_MAX / 4 ? SIZE_MAX / 4 : entries * 4;
}

int meru_admit_new(meru_admit **out, size_t slots)
{
    *out = NULL;
    size_t n = ADMIT_MIN_SLOTS;
    while (n < slots && n <= SIZE_MAX / 2 / sizeof(uint32_t))
        n *= 2;
    /* sizeof(meru_admit) is a multiple of 16 (the tags' alignment), so is n * 4 */
    size_t bytes = sizeof(meru_admit) + n * sizeof(uint32_t);
    meru_admit *a = aligned_alloc(16, bytes);
    if (!a)
        return meru_err(MERU_ENOMEM, "admission table of %zu slots", n);
    memset(a, 0, bytes); /* tag 0: no key's */
    a->mask = n / ADMIT_WAYS - 1;
    *out = a;
    return MERU_OK;
}

void meru_admit_free(meru_admit *a)
{
    free(a);
}

size_t meru_admit_bytes(const meru_admit *a)
{
    return sizeof *a + (a->mask + 1) * ADMIT_WAYS * sizeof(uint32_t);
}

bool meru_admit_check(meru_admit *a, uint64_t hash)
{
    _Atomic uint32_t *b = &a->tags[(hash & a->mask) * ADMIT_WAYS];
    uint32_t tag = (uint32_t)(hash >> 32) | 1u;
    uint32_t old[ADMIT_WAYS];
    for (int i = 0; i < ADMIT_WAYS; i++) {
        old[i] = atomic_load_explicit(&b[i], memory_order_relaxed);
        if (old[i] == tag)
            return true;
    }
    /* In at the front; the oldest (the last) falls out. */
    for (int i = ADMIT_WAYS - 1; i > 0; i--)
        atomic_store_explicit(&b[i], old[i - 1], memory_order_relaxed);
    atomic_store_explicit(&b[0], tag, memory_order_relaxed);
    return false;
}
