/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_repair.c — meru_repair: the explicit, logged way out of damage that
 * an open refuses to work around (a damaged newest metadata version, an
 * unreadable data file, a WAL damaged in the middle).
 *
 * Nothing is deleted: what is given up is set aside and every action is
 * written to <table>/repair.log (appended, synced) and reported.
 *  1. Under the table's LOCK (no writer may run), the newest valid
 *     metadata version is opened; damaged newer versions are renamed to
 *     "v<N>.metadata.json.damaged" (the rollback: their commits are lost
 *     unless step 2 finds their files).
 *  2. Data files no version lists any more (a rolled-back flush's output,
 *     a crash's leftovers): a file that opens as an SST of this table and
 *     holds only rows newer than everything the kept version has (its
 *     smallest sequence above the last sequence) is put back into L0,
 *     where it shadows the older data as it did before; any other one is
 *     moved to <table>/lost/.
 *  3. Files the version lists that do not open, or contradict their entry
 *     (db_check.c), leave the table and go to lost/: their rows are lost,
 *     the rest of the table reads again.
 *  4. The WAL position is made to cover the segments that are there (live
 *     segments deleted since are skipped: their rows, if they were not in
 *     a file put back, are lost).
 *  5. One commit records 2-4; then the table is opened with wal_salvage,
 *     which drops damage in the middle of the log (counted) and flushes,
 *     and closed.
 * What was kept and dropped is in meru_repair_report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/options.h"
#include "util/clock.h"
#include "util/error.h"

typedef struct repair {
    meru_fs *fs;
    const char *dir;
    meru_file *log;
    meru_repair_report *rep;
    /* changelog files the commit drops from the feed: set aside after it */
    char **feed_aside;
    size_t nfeed_aside;
} repair;

/* One line of <table>/repair.log (synced), prefixed with the time. */
static void repair_log(repair *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void repair_log(repair *r, const char *fmt, ...)
{
    char line[1600];
    int64_t ms = meru_clock_unix_ms();
    int n = snprintf(line, sizeof line, "%lld.%03lld ", (long long)(ms / 1000),
                     (long long)(ms % 1000));
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (r->log) {
        meru_err_saved e;
        meru_err_save(&e);
        if (meru_file_append(r->log, line, (size_t)n) || meru_file_sync(r->log))
            r->rep->log_errors++;
        meru_err_restore(&e);
    }
}

static int open_log(repair *r)
{
    char path[MERU_DB_PATH_MAX];
    int exists = 0,
        rc = meru_path_join(path, sizeof path, r->dir, "repair.log");
    if (!rc)
        rc = meru_fs_exists(r->fs, path, &exists);
    if (!rc)
        rc = meru_fs_open(r->fs, path,
                          MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_APPEND,
                          &r->log);
    if (!rc && !exists)
        rc = meru_fs_sync_dir(r->fs, r->dir);
    return rc ? meru_err_wrap(rc, "repair: the repair log") : MERU_OK;
}

/* Moves a data file (relative path) to <table>/lost/. */
static int set_aside(repair *r, const char *rel)
{
    char from[MERU_DB_PATH_MAX], lost[MERU_DB_PATH_MAX], to[MERU_DB_PATH_MAX];
    char flat[MERU_CATALOG_MAX_PATH + 8];
    size_t i = 0;
    for (; rel[i] && i < sizeof flat - 1; i++)
        flat[i] = rel[i] == '/' ? '_' : rel[i];
    flat[i] = 0;
    int rc = meru_path_join(from, sizeof from, r->dir, rel);
    if (!rc)
        rc = meru_path_join(lost, sizeof lost, r->dir, "lost");
    if (!rc)
        rc = meru_fs_mkdir_p(r->fs, lost);
    if (!rc)
        rc = meru_path_join(to, sizeof to, lost, flat);
    if (!rc)
        rc = meru_fs_rename(r->fs, from, to);
    if (!rc)
        rc = meru_fs_sync_dir(r->fs, lost);
    char parent[MERU_DB_PATH_MAX];
    if (!rc && !(rc = meru_path_parent(parent, sizeof parent, from)))
        rc = meru_fs_sync_dir(r->fs, parent);
    if (!rc)
        repair_log(r, "moved %s to lost/%s", rel, flat);
    return rc;
}

/* Step 1: the newest valid version; damaged newer ones renamed aside. */
static int rollback(repair *r, meru_catalog **out)
{
    meru_catalog *cat = NULL;
    int rc = meru_catalog_open(r->fs, r->dir, NULL, &cat);
    if (rc != MERU_ECORRUPT) {
        *out = cat;
        return rc;
    }
    char why[512];
    snprintf(why, sizeof why, "%s", meru_errmsg());
    if ((rc = meru_catalog_open_rollback(r->fs, r->dir, NULL, &cat)))
        return rc;
    uint64_t keep = meru_catalog_version(cat);
    char meta[MERU_DB_PATH_MAX];
    char **names = NULL;
    size_t n = 0;
    rc = meru_path_join(meta, sizeof meta, r->dir, "metadata");
    if (!rc)
        rc = meru_fs_list_names(r->fs, meta, &names, &n);
    repair_log(r, "rolling back to metadata version %llu: %s",
               (unsigned long long)keep, why);
    for (size_t i = 0; rc == MERU_OK && i < n; i++) {
        unsigned long long v;
        char tail[32];
        if (sscanf(names[i], "v%llu%31s", &v, tail) != 2 ||
            strcmp(tail, ".metadata.json") || v <= keep)
            continue;
        char from[MERU_DB_PATH_MAX], to[MERU_DB_PATH_MAX + 16];
        if ((rc = meru_path_join(from, sizeof from, meta, names[i])))
            break;
        snprintf(to, sizeof to, "%s.damaged", from);
        if ((rc = meru_fs_rename(r->fs, from, to)))
            break;
        r->rep->versions_rolled_back++;
        repair_log(r, "set aside metadata/%s as %s.damaged", names[i],
                   names[i]);
    }
    meru_fs_names_free(names, n);
    if (rc == MERU_OK)
        rc = meru_fs_sync_dir(r->fs, meta);
    if (rc) {
        meru_catalog_free(cat);
        return rc;
    }
    *out = cat;
    return MERU_OK;
}

/* Opens data file `rel` as an SST of the table: its info in *meta (the
 * caller clears it). */
static int probe_file(repair *r, meru_catalog *cat, const char *rel,
                      meru_catalog_file *meta)
{
    char abs[MERU_DB_PATH_MAX];
    meru_sst *t = NULL;
    meru_sst_info in;
    int rc = meru_path_join(abs, sizeof abs, r->dir, rel);
    if (!rc)
        rc = meru_sst_open(&t, r->fs, abs, meru_catalog_schema(cat), NULL);
    if (rc)
        return rc;
    meru_sst_get_info(t, &in);
    memset(meta, 0, sizeof *meta);
    meta->level = 0;
    meta->path = strdup(rel);
    meta->file_size = in.file_size;
    meta->row_count = in.rows;
    meta->min_seq = in.min_seq;
    meta->max_seq = in.max_seq;
    meta->smallest = malloc(in.smallest_len ? in.smallest_len : 1);
    meta->largest = malloc(in.largest_len ? in.largest_len : 1);
    if (!meta->path || !meta->smallest || !meta->largest) {
        meru_catalog_file_clear(meta);
        meru_sst_close(t);
        return meru_err(MERU_ENOMEM, "out of memory (repair)");
    }
    memcpy(meta->smallest, in.smallest, in.smallest_len);
    meta->smallest_len = in.smallest_len;
    memcpy(meta->largest, in.largest, in.largest_len);
    meta->largest_len = in.largest_len;
    meru_sst_close(t);
    return MERU_OK;
}

/* Rows put back without their changelog: the feed's floor rises to
 * `floor` (their last sequence), and the listed changelog files, all
 * below it, leave the feed (set aside once committed). */
static int feed_forgets(repair *r, meru_catalog *cat, meru_catalog_edit *e,
                        uint64_t floor)
{
    size_t n = 0;
    const meru_catalog_changelog *ch = meru_catalog_changelogs(cat, &n);
    int rc = MERU_OK;
    if (n && !(r->feed_aside = calloc(n, sizeof *r->feed_aside)))
        return meru_err(MERU_ENOMEM, "out of memory (repair)");
    for (size_t i = 0; rc == MERU_OK && i < n; i++) {
        rc = meru_catalog_edit_remove_changelog(e, ch[i].path);
        if (rc == MERU_OK &&
            !(r->feed_aside[r->nfeed_aside++] = strdup(ch[i].path)))
            rc = meru_err(MERU_ENOMEM, "out of memory (repair)");
    }
    if (rc)
        return rc;
    meru_catalog_edit_set_changes_floor(e, floor);
    repair_log(r,
               "the change feed now starts after sequence %llu: the rows put "
               "back have no changelog (%zu older changelog file%s leave it)",
               (unsigned long long)floor, n, n == 1 ? "" : "s");
    return MERU_OK;
}

/* Steps 2-4 as one edit. */
static int fix_files(repair *r, meru_catalog *cat, meru_catalog_edit *e,
                     bool *changed)
{
    char **orph = NULL;
    size_t norph = 0;
    uint64_t last = meru_catalog_last_sequence(cat), new_last = last;
    int rc = meru_catalog_sweep_orphans(cat, 0, &orph, &norph);
    for (size_t i = 0; rc == MERU_OK && i < norph; i++) {
        if (!strncmp(orph[i], "changes/", 8)) {
            /* a rolled-back commit's changelog (see the top) */
            repair_log(r, "%s is the changelog file of a lost commit",
                       orph[i]);
            rc = set_aside(r, orph[i]);
            continue;
        }
        meru_catalog_file f;
        int prc = probe_file(r, cat, orph[i], &f);
        if (prc == MERU_ENOMEM) {
            rc = prc;
            break;
        }
        if (prc == MERU_OK && f.min_seq > last) {
            rc = meru_catalog_edit_add_file(e, &f);
            if (rc == MERU_OK) {
                r->rep->files_readded++;
                *changed = true;
                if (f.max_seq > new_last)
                    new_last = f.max_seq;
                repair_log(r,
                           "put %s back into L0 (%llu rows, sequences "
                           "%llu..%llu, all newer than the kept version)",
                           orph[i], (unsigned long long)f.row_count,
                           (unsigned long long)f.min_seq,
                           (unsigned long long)f.max_seq);
            }
            meru_catalog_file_clear(&f);
            continue;
        }
        if (prc == MERU_OK)
            meru_catalog_file_clear(&f);
        else
            meru_err_clear();
        rc = set_aside(r, orph[i]);
        r->rep->files_set_aside += rc == MERU_OK;
    }
    meru_catalog_paths_free(orph, norph);

    /* step 3: listed files that do not open or contradict their entry */
    size_t n = 0;
    const meru_catalog_file *files = meru_catalog_files(cat, &n);
    for (size_t i = 0; rc == MERU_OK && i < n; i++) {
        char abs[MERU_DB_PATH_MAX];
        meru_sst *t = NULL;
        int prc = meru_path_join(abs, sizeof abs, r->dir, files[i].path);
        if (!prc)
            prc = meru_sst_open(&t, r->fs, abs, meru_catalog_schema(cat), NULL);
        if (!prc)
            prc = meru_db_file_check(&files[i], t);
        meru_sst_close(t);
        if (prc == MERU_OK)
            continue;
        if (prc == MERU_ENOMEM || prc == MERU_EIO) {
            rc = prc;
            break;
        }
        char why[512];
        snprintf(why, sizeof why, "%s", meru_errmsg());
        repair_log(r, "dropping %s from the table (%llu row versions lost): %s",
                   files[i].path, (unsigned long long)files[i].row_count, why);
        if ((rc = meru_catalog_edit_remove_file(e, files[i].path)))
            break;
        *changed = true;
        r->rep->files_dropped++;
        r->rep->rows_dropped += files[i].row_count;
        if (prc != MERU_NOT_FOUND && prc != MERU_ECORRUPT)
            continue;
        int exists = 0;
        if (!meru_fs_exists(r->fs, abs, &exists) && exists &&
            (rc = set_aside(r, files[i].path)) == MERU_OK)
            r->rep->files_set_aside++;
    }
    if (rc)
        return rc;
    if (new_last > last) {
        meru_catalog_edit_set_last_sequence(e, new_last);
        rc = feed_forgets(r, cat, e, new_last);
        if (rc)
            return rc;
    }

    /* step 4: the live log as it is */
    char wal[MERU_DB_PATH_MAX];
    uint64_t oldest, next;
    meru_catalog_wal(cat, &oldest, &next);
    if ((rc = meru_path_join(wal, sizeof wal, r->dir, "wal")))
        return rc;
    if (meru_db_check_wal_segments(r->fs, wal, oldest, next)) {
        uint64_t *nums = NULL;
        size_t k = 0, i = 0;
        meru_err_clear();
        rc = meru_wal_list_segments(r->fs, wal, &nums, &k);
        if (rc == MERU_NOT_FOUND) {
            meru_err_clear();
            rc = MERU_OK;
        }
        while (i < k && nums[i] < oldest)
            i++;
        /* from the last gap on: the run that is whole */
        size_t start = i;
        for (size_t j = i + 1; j < k; j++)
            if (nums[j] != nums[j - 1] + 1)
                start = j;
        uint64_t no = start < k ? nums[start] : next,
                 nn = k && nums[k - 1] + 1 > next ? nums[k - 1] + 1 : next;
        if (no < oldest)
            no = oldest;
        if (no > nn)
            no = nn;
        free(nums);
        if (rc == MERU_OK) {
            meru_catalog_edit_set_wal(e, no, nn);
            *changed = true;
            r->rep->wal_segments_skipped += no - oldest;
            repair_log(r,
                       "WAL segments %llu..%llu were listed as live but are "
                       "not all there: the log now starts at segment %llu",
                       (unsigned long long)oldest,
                       (unsigned long long)(next ? next - 1 : 0),
                       (unsigned long long)no);
        }
    }
    return rc;
}

int meru_repair(const char *path, const meru_options *opts,
                meru_repair_report *out)
{
    meru_repair_report rep;
    meru_options o;
    repair r;
    meru_catalog *cat = NULL;
    meru_catalog_edit *e = NULL;
    meru_file *lock = NULL;
    char lock_path[MERU_DB_PATH_MAX];
    bool changed = false;
    int rc;

    memset(&rep, 0, sizeof rep);
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !*path)
        return meru_err(MERU_EINVAL, "meru_repair: empty path");
    if (opts) {
        if ((rc = meru_options_upgrade(opts, &o)))
            return rc;
    } else {
        meru_options_init(&o);
    }
    o.read_only = 0;
    o.create_if_missing = 0;
    o.error_if_exists = 0;
    o.wal_salvage = 1;
    if ((rc = meru_options_validate(&o)))
        return rc;
    memset(&r, 0, sizeof r);
    r.fs = meru_fs_posix();
    r.dir = path;
    r.rep = &rep;
    if ((rc = meru_path_join(lock_path, sizeof lock_path, path, "LOCK")))
        return rc;
    if ((rc = meru_fs_lock(r.fs, lock_path, &lock))) {
        if (rc == MERU_ELOCKED)
            rc = meru_err(MERU_ELOCKED,
                          "%s: the table is open for writing elsewhere: close "
                          "it before repairing",
                          path);
        return rc;
    }
    if ((rc = open_log(&r)))
        goto out;
    repair_log(&r, "repair of %s started", path);
    if ((rc = rollback(&r, &cat)))
        goto out;
    if ((rc = meru_catalog_edit_new(cat, &e)) ||
        (rc = fix_files(&r, cat, e, &changed)))
        goto out;
    if (changed || rep.versions_rolled_back) {
        if ((rc = meru_catalog_commit(cat, e)))
            goto out;
        repair_log(&r, "committed metadata version %llu",
                   (unsigned long long)meru_catalog_version(cat));
        for (size_t i = 0; rc == MERU_OK && i < r.nfeed_aside; i++)
            rc = set_aside(&r, r.feed_aside[i]);
        if (rc)
            goto out;
    }
    rep.metadata_version = meru_catalog_version(cat);
    meru_catalog_edit_free(e);
    e = NULL;
    meru_catalog_free(cat);
    cat = NULL;
    (void)meru_fs_unlock(lock);
    lock = NULL;

    /* step 5: the log, salvaged, flushed */
    meru_db *db = NULL;
    if ((rc = meru_open(path, &o, NULL, &db)))
        goto out;
    meru_stats st;
    if (meru_stats_get(db, &st) == MERU_OK) {
        rep.wal_salvaged_bytes = st.wal_salvaged_bytes;
        rep.wal_salvaged_regions = st.wal_salvaged_regions;
        rep.wal_tail_dropped_bytes = st.wal_tail_dropped_bytes;
        rep.metadata_version = st.metadata_version;
    }
    if (rep.wal_salvaged_bytes)
        repair_log(&r,
                   "dropped %llu bytes in %llu damaged regions of the WAL "
                   "(the writes they held are lost)",
                   (unsigned long long)rep.wal_salvaged_bytes,
                   (unsigned long long)rep.wal_salvaged_regions);
    rc = meru_close(db);
    meru_db_free(db);
    repair_log(&r, "repair finished: %s",
               rc ? meru_errmsg() : "the table opens");
out:
    if (rc) {
        meru_err_saved saved;
        meru_err_save(&saved);
        repair_log(&r, "repair failed: %s", saved.msg);
        meru_err_restore(&saved);
    }
    for (size_t i = 0; i < r.nfeed_aside; i++)
        free(r.feed_aside[i]);
    free(r.feed_aside);
    meru_catalog_edit_free(e);
    meru_catalog_free(cat);
    if (lock)
        (void)meru_fs_unlock(lock);
    if (r.log) {
        meru_err_saved saved;
        meru_err_save(&saved);
        (void)meru_file_close(r.log);
        meru_err_restore(&saved);
    }
    if (out)
        *out = rep;
    return rc;
}
