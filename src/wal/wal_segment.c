/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal_segment.c — the WAL directory: listing segments, deleting old ones,
 * and replaying all of them in order at recovery (policy in wal.h: a torn
 * tail is accepted only at the end of the last segment).
 *
 * Not here: choosing which segments are obsolete (the engine knows which
 * memtables reached a committed SST) or creating segments (the writer).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "wal/wal.h"

/* 1 and *num if `name` is exactly 20 digits + ".log". */
static int parse_name(const char *name, uint64_t *num)
{
    uint64_t v = 0;
    if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0)
        return 0;
    for (int i = 0; i < 20; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (d > 9)
            return 0;
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *num = v;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int meru_wal_list_segments(meru_fs *fs, const char *dir, uint64_t **out,
                           size_t *count)
{
    char **names = NULL;
    size_t n = 0, k = 0;
    uint64_t *nums = NULL;
    int rc;

    *out = NULL;
    *count = 0;
    rc = meru_fs_list_names(fs, dir, &names, &n);
    if (rc)
        return rc;
    if (n) {
        nums = malloc(n * sizeof *nums);
        if (!nums) {
            rc = meru_err(MERU_ENOMEM, "wal %s: listing segments", dir);
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (parse_name(names[i], &nums[k]))
            k++;
    if (k > 1)
        qsort(nums, k, sizeof *nums, cmp_u64);
    if (k == 0) {
        free(nums);
        nums = NULL;
    }
    *out = nums;
    *count = k;
done:
    meru_fs_names_free(names, n);
    return rc;
}

int meru_wal_delete_below(meru_fs *fs, const char *dir, uint64_t number)
{
    uint64_t *nums;
    size_t n;
    int rc, removed = 0;
    char path[4096];

    rc = meru_wal_list_segments(fs, dir, &nums, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && nums[i] < number; i++) {
        rc = meru_wal_segment_path(path, sizeof path, dir, nums[i]);
        if (!rc)
            rc = meru_fs_remove(fs, path);
        if (rc)
            goto done;
        removed = 1;
    }
    if (removed)
        rc = meru_fs_sync_dir(fs, dir);
done:
    free(nums);
    return rc;
}

int meru_wal_replay(meru_fs *fs, const char *dir, uint64_t min_segment,
                    int salvage, meru_wal_replay_fn fn, void *ctx,
                    meru_wal_replay_stats *stats)
{
    meru_wal_replay_stats st;
    meru_wal_reader *r = NULL;
    uint64_t *nums = NULL;
    size_t n = 0;
    char path[4096];
    int rc;

    memset(&st, 0, sizeof st);
    rc = meru_wal_list_segments(fs, dir, &nums, &n);
    if (rc)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const meru_wal_read_stats *rs;
        const uint8_t *rec;
        size_t len;

        if (nums[i] < min_segment)
            continue;
        rc = meru_wal_segment_path(path, sizeof path, dir, nums[i]);
        if (!rc)
            rc = meru_wal_reader_open(&r, fs, path, salvage);
        if (rc)
            goto done;
        while ((rc = meru_wal_reader_next(r, &rec, &len)) == 0) {
            st.records++;
            rc = fn(ctx, nums[i], rec, len);
            if (rc)
                goto done;
        }
        if (rc != MERU_NOT_FOUND)
            goto done;
        rc = 0;
        rs = meru_wal_reader_stats(r);
        st.segments++;
        st.last_segment = nums[i];
        st.tail_dropped_bytes += rs->tail_dropped_bytes;
        st.corrupt_dropped_bytes += rs->corrupt_dropped_bytes;
        st.corrupt_regions += rs->corrupt_regions;
        if (rs->tail_dropped_bytes) {
            st.tail_segment = nums[i];
            st.tail_good_end = rs->good_end;
        }
        if (rs->tail_dropped_bytes && i + 1 < n && !salvage) {
            rc = meru_err(MERU_ECORRUPT,
                          "wal %s: torn tail after offset %" PRIu64 " (%" PRIu64
                          " bytes) but later segments exist",
                          path, rs->good_end, rs->tail_dropped_bytes);
            goto done;
        }
        meru_wal_reader_close(r);
        r = NULL;
    }
done:
    meru_wal_reader_close(r);
    free(nums);
    if (stats)
        *stats = st;
    return rc;
}
