/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_compact.h — a compaction job and how it is picked (not an API: only
 * db_compact.c and db_compact_pick.c include it).
 *
 * db_compact_pick.c chooses a job's inputs under mu (which level, which
 * files, whether anything older can lie below) and marks them taken;
 * db_compact.c runs the job, commits it, and drives manual compaction.
 */
#ifndef MERU_ENGINE_DB_COMPACT_H
#define MERU_ENGINE_DB_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/db_internal.h"

typedef struct compact_job {
    int level;     /* input level */
    int out_level; /* level + 1, or level itself (rewriting the bottom) */
    meru_db_file **in;
    size_t nin;
    bool bottommost;
    /* A trivial move: the one input overlaps nothing in out_level, so it
     * changes level in the metadata and is not rewritten. */
    bool move;
    uint64_t *snaps;
    size_t nsnaps;
    bool unmarked; /* inputs released and counted out (under mu) */
    /* The continuous Iceberg view: the inputs' deletion vectors as the job
     * starts (NULL entries: none), captured under cat_mu. */
    bool view;
    meru_dv **in_dv;
} compact_job;

/* A key range for manual compaction; NULL bounds are open. */
typedef struct krange {
    const uint8_t *lo, *hi;
    size_t lol, hil;
} krange;

#define JOB_READY 1
#define JOB_EMPTY 0    /* the level has no file */
#define JOB_BUSY  (-1) /* a file it needs is in another job */

/* Fills the job for `level` (mu held): JOB_READY, JOB_EMPTY or JOB_BUSY.
 * `manual` (meru_compact_range): every file of the level that overlaps the
 * range (all of L0). */
int compact_fill_job(meru_db *db, compact_job *j, int level,
                     const krange *manual);

/* The bottom level's files overlapping r, rewritten in place (a manual
 * compaction's last step; mu held): JOB_READY, JOB_EMPTY or JOB_BUSY. */
int compact_fill_bottom(meru_db *db, compact_job *j, int level,
                        const krange *r);

/* Picks the most urgent job (mu held); false when none is due. */
bool compact_pick_job(meru_db *db, compact_job *j);

/* The idle job (mu held): all free L0 files into L1, else a small run. */
bool compact_pick_settle_job(meru_db *db, compact_job *j);

/* Marks the job's inputs taken (on) or frees them, and registers the job
 * among those running (mu held); fails only for memory when on. */
int compact_mark(meru_db *db, compact_job *j, bool on);

#endif
