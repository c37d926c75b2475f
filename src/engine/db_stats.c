/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_stats.c — meru_stats_get and its JSON form.
 *
 * Counters are relaxed atomics bumped on the paths they count; the shape
 * of the tree (levels, files, memtables) is read from the current view,
 * so one call gives a consistent picture of the tree.
 *
 * The caller's struct may be of an older (smaller) layout: the whole
 * struct is filled in a local copy and only the caller's size copied out
 * (merutable.h, "ABI").
 *
 * A read-only handle has no memtable of its own and flushes nothing: the
 * rows it replayed from the WAL (written, not yet in files) are reported
 * as the mutable memtable, with no immutable one.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "util/buf.h"
#include "util/error.h"

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void stats_fill(meru_db *db, meru_stats *out)
{
    meru_wal_group_stats gs;
    meru_cache_stats cs;
    meru_view *v = NULL;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&db->mu);
    if (db->view) {
        v = db->view;
        atomic_fetch_add(&v->refs, 1);
    }
    /* In the same critical section as the view: the level counts and
     * "pending" describe one file set. */
    if (!db->closed && !db->read_only)
        out->compactions_pending =
            (uint64_t)meru_db_compactions_pending_locked(db);
    out->gc_pending_files = db->ngc;
    /* Jobs enter and leave the running count under mu, with the marks
     * "pending" looks at: the two agree. */
    out->compactions_running = LD(db->st_compacting);
    if (db->read_only) {
        for (size_t i = 0; i < db->nimm; i++) {
            out->memtable_bytes += meru_memtable_bytes(db->imm[i].mem);
            out->memtable_entries += meru_memtable_count(db->imm[i].mem);
        }
    } else {
        out->immutable_memtables = db->nimm;
        for (size_t i = 0; i < db->nimm; i++)
            out->immutable_bytes += meru_memtable_bytes(db->imm[i].mem);
    }
    if (db->mem) {
        out->memtable_bytes += meru_memtable_bytes(db->mem);
        out->memtable_entries += meru_memtable_count(db->mem);
    }
    out->snapshots = db->nsnapshots;
    out->closed = db->closed;
    out->wal_segment = db->read_only ? 0 : db->mem_segment;
    pthread_mutex_unlock(&db->mu);

    out->last_sequence = LD(db->visible_seq);
    out->read_only = db->read_only;
    out->wal_tail_dropped_bytes = LD(db->st_wal_tail_bytes);
    out->wal_salvaged_bytes = LD(db->st_wal_salvaged_bytes);
    out->wal_salvaged_regions = LD(db->st_wal_salvaged_regions);
    out->suspect_files = LD(db->nsuspect);
    out->metadata_version = LD(db->meta_version);
    if (v) {
        for (size_t i = 0; i < v->nfiles; i++) {
            const meru_catalog_file *m = &v->files[i]->meta;
            int l = m->level < MERU_STATS_MAX_LEVELS
                        ? m->level
                        : MERU_STATS_MAX_LEVELS - 1;
            out->level[l].files++;
            out->level[l].bytes += m->file_size;
            out->level[l].rows += m->row_count;
            out->total_files++;
            out->total_bytes += m->file_size;
            out->total_rows += m->row_count;
            if (l + 1 > out->levels)
                out->levels = l + 1;
        }
        meru_db_view_unref(v);
    }
    out->puts = LD(db->st_puts);
    out->deletes = LD(db->st_deletes);
    out->batches = LD(db->st_batches);
    if (db->group)
        meru_wal_group_stats_get(db->group, &gs);
    else
        gs = db->final_group_stats;
    out->wal_records = gs.records;
    out->wal_groups = gs.groups;
    out->wal_syncs = gs.syncs;
    if (!db->read_only) {
        uint64_t *nums = NULL;
        size_t n = 0;
        if (meru_wal_list_segments(db->fs, db->wal_dir, &nums, &n) == MERU_OK) {
            for (size_t i = 0; i < n; i++) {
                char p[MERU_DB_PATH_MAX];
                meru_fs_info info;
                if (meru_wal_segment_path(p, sizeof p, db->wal_dir, nums[i]) ==
                        MERU_OK &&
                    meru_fs_stat(db->fs, p, &info) == MERU_OK)
                    out->wal_bytes += info.size;
            }
        }
        free(nums);
    }
    out->stall_count = LD(db->st_stall_count);
    out->stall_micros = LD(db->st_stall_micros);
    out->slowdown_count = LD(db->st_slowdowns);
    out->flushes = LD(db->st_flushes);
    out->flush_bytes = LD(db->st_flush_bytes);
    out->compactions = LD(db->st_compactions);
    out->compaction_bytes_read = LD(db->st_compact_read);
    out->compaction_bytes_written = LD(db->st_compact_written);
    out->compaction_moves = LD(db->st_compact_moves);
    pthread_mutex_lock(&db->mu);
    out->background_errors = db->bg_error ? 1 : 0;
    pthread_mutex_unlock(&db->mu);
    out->gets = LD(db->st_gets);
    out->gets_found = LD(db->st_gets_found);
    out->row_cache_hits = LD(db->st_row_hits);
    out->row_cache_misses = LD(db->st_row_misses);
    out->bloom_checks = LD(db->st_bloom_checks);
    out->bloom_negatives = LD(db->st_bloom_negatives);
    for (int i = 0; i < MERU_DB_GET_STAT_SLOTS; i++) {
        const meru_db_get_stats *g = &db->get_stats[i];
        out->gets += LD(g->gets);
        out->gets_found += LD(g->gets_found);
        out->row_cache_hits += LD(g->row_hits);
        out->row_cache_misses += LD(g->row_misses);
        out->bloom_checks += LD(g->bloom_checks);
        out->bloom_negatives += LD(g->bloom_negatives);
    }
    out->scans = LD(db->st_scans);
    if (db->cache) {
        meru_cache_stats_get(db->cache, &cs);
        out->cache_capacity = cs.capacity;
        out->cache_bytes = cs.bytes;
        out->cache_hits = cs.hits;
        out->cache_misses = cs.misses;
    }
    out->open_files = LD(db->st_open_files);
    out->view_lookups = LD(db->st_view_lookups);
    out->view_lookup_micros = LD(db->st_view_lookup_us);
    out->view_lookup_pages = LD(db->st_view_lookup_pages);
    out->view_rows_hidden = LD(db->st_view_hidden);
    out->view_lookup_cpu_micros = LD(db->st_view_lookup_cpu_us);
}

/* The size of the first meru_stats layout (0.1, up to `closed`): every
 * later one starts with it. */
#define MERU_STATS_V1_SIZE offsetof(meru_stats, view_lookups)

int meru_stats_get_sized(meru_db *db, meru_stats *out, size_t size)
{
    meru_stats full;
    if (!db || !out)
        return meru_err(MERU_EINVAL, "meru_stats_get: NULL argument");
    if (size < MERU_STATS_V1_SIZE)
        return meru_err(MERU_EINVAL,
                        "meru_stats_get: a struct of %zu bytes is smaller "
                        "than any meru_stats (%zu)",
                        size, (size_t)MERU_STATS_V1_SIZE);
    stats_fill(db, &full);
    memcpy(out, &full, sizeof full < size ? sizeof full : size);
    if (size > sizeof full) /* a newer header: its fields are unknown here */
        memset((char *)out + sizeof full, 0, size - sizeof full);
    return MERU_OK;
}

/* The exported symbol for callers that cannot use the header's macro
 * (bindings through an FFI): this header's whole struct. */
int(meru_stats_get)(meru_db *db, meru_stats *out)
{
    return meru_stats_get_sized(db, out, sizeof *out);
}

static int put(meru_buf *b, const char *name, uint64_t v, int *first)
{
    char tmp[96];
    int n = snprintf(tmp, sizeof tmp, "%s\"%s\":%" PRIu64, *first ? "" : ",",
                     name, v);
    *first = 0;
    return meru_buf_append(b, tmp, (size_t)n);
}

int meru_stats_json(meru_db *db, char **out)
{
    meru_stats s;
    meru_buf b = {0};
    int rc, first = 1, bad = 0;
    if (!out)
        return meru_err(MERU_EINVAL, "meru_stats_json: NULL out");
    *out = NULL;
    if ((rc = meru_stats_get(db, &s)))
        return rc;
    bad |= meru_buf_append(&b, "{", 1);
#define F(name) bad |= put(&b, #name, (uint64_t)s.name, &first)
    F(last_sequence);
    F(metadata_version);
    F(levels);
    F(total_files);
    F(total_bytes);
    F(total_rows);
    F(memtable_bytes);
    F(memtable_entries);
    F(immutable_memtables);
    F(immutable_bytes);
    F(puts);
    F(deletes);
    F(batches);
    F(wal_records);
    F(wal_groups);
    F(wal_syncs);
    F(wal_segment);
    F(wal_bytes);
    F(stall_count);
    F(stall_micros);
    F(slowdown_count);
    F(flushes);
    F(flush_bytes);
    F(compactions);
    F(compaction_bytes_read);
    F(compaction_bytes_written);
    F(compactions_running);
    F(compactions_pending);
    F(gc_pending_files);
    F(background_errors);
    F(gets);
    F(gets_found);
    F(scans);
    F(cache_capacity);
    F(cache_bytes);
    F(cache_hits);
    F(cache_misses);
    F(row_cache_hits);
    F(row_cache_misses);
    F(bloom_checks);
    F(bloom_negatives);
    F(open_files);
    F(snapshots);
    F(read_only);
    F(closed);
    F(view_lookups);
    F(view_lookup_micros);
    F(view_lookup_pages);
    F(view_rows_hidden);
    F(view_lookup_cpu_micros);
    F(wal_tail_dropped_bytes);
    F(wal_salvaged_bytes);
    F(wal_salvaged_regions);
    F(suspect_files);
    F(compaction_moves);
#undef F
    bad |= meru_buf_append(&b, ",\"level\":[", 10);
    for (int l = 0; l < s.levels; l++) {
        char tmp[160];
        int n = snprintf(tmp, sizeof tmp,
                         "%s{\"level\":%d,\"files\":%" PRIu64
                         ",\"bytes\":%" PRIu64 ",\"rows\":%" PRIu64 "}",
                         l ? "," : "", l, s.level[l].files, s.level[l].bytes,
                         s.level[l].rows);
        bad |= meru_buf_append(&b, tmp, (size_t)n);
    }
    bad |= meru_buf_append(&b, "]}", 3); /* with the NUL */
    if (bad) {
        meru_buf_free(&b);
        return meru_err(MERU_ENOMEM, "out of memory (stats)");
    }
    *out = (char *)meru_buf_detach(&b, NULL);
    return MERU_OK;
}
