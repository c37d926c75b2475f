/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_check.c — cross-checks between the table metadata and what is on disk,
 * made where a wrong answer would otherwise follow (issue 16):
 *
 *  - a data file, when it is opened, against its metadata entry: its size,
 *    row count, sequence range and key range, and the id its footer
 *    carries against the name the metadata gives it. The metadata's key
 *    range decides which file a get reads; a file that is not what the
 *    entry says (swapped, truncated, restored from elsewhere) would answer
 *    "not found" or return another table's rows. Any difference is
 *    MERU_ECORRUPT naming the file and the field.
 *  - the WAL segments the metadata says are live, at open: each must be
 *    there, and no segment may be missing between them and the newest one.
 *    Replay reads whatever segments it finds, so a deleted live segment
 *    would otherwise drop acknowledged writes without a word.
 *
 * Not here: the checksums of the files themselves (page CRCs, the bloom
 * filter CRCs, the metadata file's CRC), which their readers verify.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "util/error.h"

/* The file id a data file of this path must carry: its name without the
 * directory and ".parquet". */
static void expected_id(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 8 && !strcmp(base + n - 8, ".parquet"))
        n -= 8;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, base, n);
    out[n] = 0;
}

static bool same_key(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int meru_db_file_check(const meru_catalog_file *m, const meru_sst *t)
{
    meru_sst_info in;
    char id[256];
    meru_sst_get_info(t, &in);
    expected_id(m->path, id, sizeof id);
    if (in.file_id && strcmp(in.file_id, id))
        return meru_err(MERU_ECORRUPT,
                        "data file %s is not the file the table lists there: "
                        "its footer says it is %s",
                        m->path, in.file_id);
    if (in.file_size != m->file_size)
        return meru_err(MERU_ECORRUPT,
                        "data file %s: %llu bytes on disk, the metadata says "
                        "%llu",
                        m->path, (unsigned long long)in.file_size,
                        (unsigned long long)m->file_size);
    if (in.rows != m->row_count)
        return meru_err(MERU_ECORRUPT,
                        "data file %s: %llu rows, the metadata says %llu",
                        m->path, (unsigned long long)in.rows,
                        (unsigned long long)m->row_count);
    if (in.min_seq != m->min_seq || in.max_seq != m->max_seq)
        return meru_err(MERU_ECORRUPT,
                        "data file %s: sequence range [%llu, %llu], the "
                        "metadata says [%llu, %llu]",
                        m->path, (unsigned long long)in.min_seq,
                        (unsigned long long)in.max_seq,
                        (unsigned long long)m->min_seq,
                        (unsigned long long)m->max_seq);
    if (!same_key(in.smallest, in.smallest_len, m->smallest, m->smallest_len) ||
        !same_key(in.largest, in.largest_len, m->largest, m->largest_len))
        return meru_err(MERU_ECORRUPT,
                        "data file %s: its key range differs from the one "
                        "the metadata gives it",
                        m->path);
    return MERU_OK;
}

int meru_db_check_wal_segments(meru_fs *fs, const char *wal_dir,
                               uint64_t oldest, uint64_t next)
{
    uint64_t *nums = NULL;
    size_t n = 0, i = 0;
    int rc = meru_wal_list_segments(fs, wal_dir, &nums, &n);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        rc = MERU_OK;
        n = 0;
    }
    if (rc)
        return rc;
    while (i < n && nums[i] < oldest)
        i++;
    /* From `oldest` on: every number up to the newest segment present,
     * and at least up to next - 1 (the segments the metadata lists).
     * Segments are numbered in order, so a gap means one went. With no
     * live segment listed, the first one present (a segment created after
     * the last commit; the very first is 1, not 0) starts the run. */
    uint64_t want = oldest == next && i < n ? nums[i] : oldest;
    for (; i < n; i++, want++) {
        if (nums[i] != want)
            break;
    }
    uint64_t top = n ? nums[n - 1] : 0;
    if (want < next || (n && top >= oldest && want <= top)) {
        char path[MERU_DB_PATH_MAX];
        if (meru_wal_segment_path(path, sizeof path, wal_dir, want))
            snprintf(path, sizeof path, "segment %llu",
                     (unsigned long long)want);
        rc = meru_err(MERU_ECORRUPT,
                      "WAL segment %s is missing: the metadata lists "
                      "segments %llu..%llu as live%s",
                      path, (unsigned long long)oldest,
                      (unsigned long long)(next ? next - 1 : 0),
                      want <= top ? " and later segments exist" : "");
    }
    free(nums);
    return rc;
}
