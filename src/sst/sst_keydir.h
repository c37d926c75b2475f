/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_keydir.h — the key directory of an L1+ SST (not an API: only the
 * src/sst files include it; the budget is in sst.h).
 *
 * One entry per row, in row order (so the row position is the index):
 * the projection of the row's user key — the first `width` bytes (8, or
 * 4 when every key of the file has at most 4) after the prefix every key
 * of the file shares (big-endian, zero-padded) and a length class —, its
 * sequence and its op. The projection is monotone: a <= b as keys implies
 * proj(a) <= proj(b), so a binary search over projections finds the first
 * row that can hold a key. It is exact (equal projections mean equal
 * keys) when the key has at most `width` bytes after the shared prefix
 * (class 0..width is that length); class width + 1 (more bytes) only says
 * "maybe equal", and the caller reads the row's internal key from its
 * page.
 *
 * Built once per open file from one pass over the key, _merutable_seq and
 * _merutable_op columns when the key is one integer column, else over
 * _merutable_ikey (sst_keydir.c), published
 * through an atomic pointer, immutable after: readers share it without
 * locks, and it lives as long as the meru_sst.
 *
 * An integer key's directory is built row group by row group, each on
 * its own (its width is known before the pass): allocated first and
 * published as t->kd_part, each row group claimed by whichever thread
 * comes first (the builder, or a get that needs that row group) and
 * readable once its state says ready; the thread that finishes the last
 * one checks the row groups' order against each other and publishes the
 * whole as t->kd. A get then waits only for the row group it needs, and
 * builds it itself when nobody has started it.
 */
#ifndef MERU_SST_SST_KEYDIR_H
#define MERU_SST_SST_KEYDIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sst/sst_internal.h"

#define SST_KD_PREFIX 8
#define SST_KD_PUT    16 /* meta bit: the row is a put */

/* A user key's projection. */
typedef struct sst_kdkey {
    uint64_t p;
    uint8_t c;
} sst_kdkey;

typedef struct sst_keydir {
    uint64_t rows;
    size_t lcp;        /* bytes every user key of the file starts with */
    const uint8_t *prefix; /* those bytes (the footer's smallest key) */
    unsigned width;    /* 8 (pfx) or 4 (pfx32) */
    uint64_t *pfx;     /* per row, width 8 */
    uint32_t *pfx32;   /* per row, width 4 */
    uint8_t *meta;     /* per row: class (low 4 bits) | SST_KD_PUT */
    uint32_t *seq32;   /* per row: seq - seq_base, when the span fits */
    uint64_t *seq64;   /* else the sequences */
    uint64_t seq_base;
    uint8_t max_class; /* while building */
    uint64_t bytes;    /* charged to the budget */
    meru_cache *charge_to;      /* the budget's, or NULL */
    uint64_t charge_id;         /* the tokens' cache id */
    size_t ntokens;
    meru_cache_handle **tokens; /* the charge in the page cache */
    /* Built by row group (integer keys), else NULL: */
    atomic_int *rg_state;  /* per row group: SST_KD_RG_* */
    atomic_uint rg_left;   /* row groups not yet finished */
    atomic_bool failed;    /* a row group's pass found damage */
} sst_keydir;

enum { SST_KD_RG_NONE, SST_KD_RG_BUILDING, SST_KD_RG_READY, SST_KD_RG_FAILED };

/* The file's whole directory when it has one, building it first when the
 * file is at level >= 1, has a budget with room and nobody built or is
 * building it (the build's page decodes are added to *pages); for an
 * integer key it builds the row groups nobody has claimed and waits for
 * the others. NULL: use the pages (no directory, another thread building
 * it, no room, or the build found the file damaged: then the page path
 * reports what it finds). */
const sst_keydir *sst_keydir_get(meru_sst *t, uint64_t *pages);
/* What a get of a key in row group rg uses: the directory when there is
 * one; else one whose rows of rg are in (it builds them, or waits for
 * the thread building them: counted in the budget's waits; a whole-file
 * build for keys other than one integer column). The caller reads rows
 * of other row groups only after sst_keydir_rg_ready says they are in.
 * NULL when the file can have none (L0, no budget; no room or a failed
 * build: counted in page_gets). */
const sst_keydir *sst_keydir_for_get(meru_sst *t, uint32_t rg,
                                     uint64_t *pages);
/* Whether row group rg of d (from sst_keydir_for_get) can be read,
 * building it or waiting for it first. False: the pages decide. */
bool sst_keydir_rg_ready(meru_sst *t, const sst_keydir *d, uint32_t rg,
                         uint64_t *pages);
/* Tests only (NULL otherwise): called by every build before it reads
 * the file (rg UINT32_MAX: the whole file), or a row group of it, in the
 * building thread. */
extern void (*sst_keydir_test_hook)(meru_sst *t, uint32_t rg);
/* Frees the directory of t and returns its charge (meru_sst_close). */
void sst_keydir_drop(meru_sst *t);

/* The projection of `ukey` under d, false when the key does not start
 * with the shared prefix (then the file cannot hold it). */
bool sst_keydir_project(const sst_keydir *d, const uint8_t *ukey, size_t len,
                        sst_kdkey *out);

static inline int sst_kd_cmp(const sst_keydir *d, uint64_t row, sst_kdkey k)
{
    uint64_t p = d->pfx32 ? d->pfx32[row] : d->pfx[row];
    if (p != k.p)
        return p < k.p ? -1 : 1;
    uint8_t c = d->meta[row] & 15;
    return c < k.c ? -1 : c > k.c;
}

/* Whether k is longer than the directory tells apart (then a matching
 * row must be read to know whether it is k). */
static inline bool sst_kd_long(const sst_keydir *d, sst_kdkey k)
{
    return k.c > d->width;
}

static inline uint64_t sst_kd_seq(const sst_keydir *d, uint64_t row)
{
    return d->seq32 ? d->seq_base + d->seq32[row] : d->seq64[row];
}

static inline int sst_kd_op(const sst_keydir *d, uint64_t row)
{
    return d->meta[row] & SST_KD_PUT ? 1 : 0;
}

/* The first row in [lo, hi) whose projection is >= k (hi when none);
 * rows below lo are < k. */
uint64_t sst_keydir_lower_in(const sst_keydir *d, uint64_t lo, uint64_t hi,
                             sst_kdkey k);
/* The first row >= from whose projection is >= k, or d->rows (galloping
 * from `from`: sorted keys probe nearby rows). */
uint64_t sst_keydir_lower(const sst_keydir *d, uint64_t from, sst_kdkey k);
/* The same from row 0 by binary search (one key). */
uint64_t sst_keydir_search(const sst_keydir *d, sst_kdkey k);

#endif
