/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_wal.c — the WAL segment format, writer, reader and segment
 * directory: round trips across block boundaries, byte-exact framing,
 * torn tails at every cut, mid-log corruption (strict and salvage),
 * replay policy across segments, and power loss / injected I/O failures
 * through the fault fs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/crc32c.h"
#include "util/endian.h"
#include "util/fs.h"
#include "support/fs_fault.h"
#include "wal/wal.h"

#define BLOCK MERU_WAL_BLOCK_SIZE
#define HDR   MERU_WAL_HEADER_SIZE

/* Record i of length len: deterministic bytes, the index in the first 4. */
static void fill_rec(uint8_t *p, uint32_t i, size_t len)
{
    for (size_t j = 0; j < len; j++)
        p[j] = (uint8_t)(i * 131u + j * 17u + (j >> 8));
    if (len >= 4)
        meru_store_le32(p, i);
}

static uint8_t *g_buf; /* scratch of the largest record */

/* Writes records 0..n-1 of sizes[] to segment `num` of dir; ends[i] gets
 * the file offset after record i. */
static int write_seg(meru_fs *fs, const char *dir, uint64_t num,
                     const size_t *sizes, size_t n, uint64_t *ends, int sync)
{
    meru_wal_writer *w;
    int rc = meru_wal_writer_open(&w, fs, dir, num);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        fill_rec(g_buf, (uint32_t)i, sizes[i]);
        rc = meru_wal_writer_add(w, g_buf, sizes[i]);
        if (rc)
            break;
        if (ends)
            ends[i] = meru_wal_writer_bytes(w);
    }
    if (!rc && sync)
        rc = meru_wal_writer_sync(w);
    if (rc) {
        meru_wal_writer_close(w);
        return rc;
    }
    return meru_wal_writer_close(w);
}

/* Reads `path` and checks every record returned is record k (k = 0, 1...)
 * of sizes[] (or, with by_index, record <first 4 bytes>, strictly
 * increasing). *got = records read; returns the final status. */
static int read_seg(meru_fs *fs, const char *path, int salvage,
                    const size_t *sizes, size_t n, int by_index, size_t *got,
                    meru_wal_read_stats *st)
{
    meru_wal_reader *r;
    const uint8_t *rec;
    size_t len;
    long prev = -1;
    int rc = meru_wal_reader_open(&r, fs, path, salvage);
    *got = 0;
    if (rc)
        return rc;
    while ((rc = meru_wal_reader_next(r, &rec, &len)) == 0) {
        uint32_t i = (uint32_t)*got;
        if (by_index) {
            if (len < 4)
                return -100;
            i = meru_load_le32(rec);
            if ((long)i <= prev)
                return -101;
            prev = i;
        }
        if (i >= n || len != sizes[i]) {
            rc = -102;
            break;
        }
        fill_rec(g_buf, i, len);
        if (memcmp(rec, g_buf, len) != 0) {
            rc = -103;
            break;
        }
        (*got)++;
    }
    if (st)
        *st = *meru_wal_reader_stats(r);
    meru_wal_reader_close(r);
    return rc;
}

static void seg_path(char *out, const char *dir, uint64_t num)
{
    meru_wal_segment_path(out, 4096, dir, num);
}

static void test_wal_segment_names_are_20_digits(void)
{
    char p[4096];
    CHECK_OK(meru_wal_segment_path(p, sizeof p, "wal", 12));
    CHECK_STR(p, "wal/00000000000000000012.log");
    CHECK_OK(meru_wal_segment_path(p, sizeof p, "w", UINT64_MAX));
    CHECK_STR(p, "w/18446744073709551615.log");
    CHECK_RC(meru_wal_segment_path(p, 10, "wal", 1), MERU_ERANGE);
}

static void test_wal_frames_bytes_like_leveldb(void)
{
    const char *dir = meru_test_tmpdir("wal_frame");
    meru_fs *fs = meru_fs_posix();
    meru_wal_writer *w;
    char path[4096];
    uint8_t *data;
    size_t n;
    uint8_t tb = 1;

    CHECK_OK(meru_wal_writer_open(&w, fs, dir, 1));
    CHECK_OK(meru_wal_writer_add(w, "abc", 3));
    CHECK_OK(meru_wal_writer_add(w, "", 0));
    CHECK_EQ_U64(meru_wal_writer_bytes(w), 10 + 7);
    CHECK_EQ_U64(meru_wal_writer_number(w), 1);
    CHECK_OK(meru_wal_writer_close(w));
    seg_path(path, dir, 1);
    data = meru_test_read_file(path, &n);
    CHECK(data);
    CHECK_EQ_INT(n, 17);
    /* Independent CRC: the portable table path over type byte + payload. */
    uint32_t crc =
        meru_crc32c_portable(meru_crc32c_portable(0, &tb, 1), "abc", 3);
    CHECK_EQ_U64(meru_load_le32(data), meru_crc32c_mask(crc));
    CHECK_EQ_INT(meru_load_le16(data + 4), 3);
    CHECK_EQ_INT(data[6], MERU_WAL_FULL);
    CHECK_MEM(data + 7, "abc", 3);
    crc = meru_crc32c_portable(0, &tb, 1);
    CHECK_EQ_U64(meru_load_le32(data + 10), meru_crc32c_mask(crc));
    CHECK_EQ_INT(meru_load_le16(data + 14), 0);
    CHECK_EQ_INT(data[16], MERU_WAL_FULL);
    free(data);
}

static void test_wal_round_trips_sizes_across_blocks(void)
{
    const char *dir = meru_test_tmpdir("wal_rt");
    meru_fs *fs = meru_fs_posix();
    size_t sizes[64], n = 0, got;
    char path[4096];
    meru_wal_read_stats st;

    sizes[n++] = 0;
    sizes[n++] = 1;
    sizes[n++] = BLOCK - HDR - 8; /* leaves exactly HDR+1 bytes... */
    sizes[n++] = 1;               /* ...filled exactly by this one */
    sizes[n++] = BLOCK - HDR;     /* fills a whole block */
    sizes[n++] = BLOCK - HDR + 1; /* spans 2 blocks */
    sizes[n++] = 5 * BLOCK;       /* spans 6 */
    sizes[n++] = 3u << 20;        /* a few MiB */
    sizes[n++] = 0;
    while (n < 64)
        sizes[n++] = meru_test_rand() % (3 * BLOCK);
    CHECK_OK(write_seg(fs, dir, 3, sizes, n, NULL, 1));
    seg_path(path, dir, 3);
    CHECK_RC(read_seg(fs, path, 0, sizes, n, 0, &got, &st), MERU_NOT_FOUND);
    CHECK_EQ_INT(got, n);
    CHECK_EQ_U64(st.tail_dropped_bytes, 0);
    CHECK_EQ_U64(st.good_end, st.file_size);
    CHECK_EQ_U64(st.records, n);
}

static void test_wal_pads_short_block_tail_and_splits_at_7(void)
{
    const char *dir = meru_test_tmpdir("wal_pad");
    meru_fs *fs = meru_fs_posix();
    char path[4096];
    uint8_t *data;
    size_t n, got;
    /* 6 bytes left -> zero padding, next record FULL at the block start. */
    size_t s1[2] = {BLOCK - HDR - 6, 10};
    /* 7 bytes left -> an empty FIRST there, the payload in a LAST. */
    size_t s2[2] = {BLOCK - HDR - 7, 10};

    CHECK_OK(write_seg(fs, dir, 1, s1, 2, NULL, 0));
    seg_path(path, dir, 1);
    data = meru_test_read_file(path, &n);
    CHECK(data);
    CHECK_EQ_INT(n, BLOCK + HDR + 10);
    for (size_t i = BLOCK - 6; i < BLOCK; i++)
        CHECK_EQ_INT(data[i], 0);
    CHECK_EQ_INT(data[BLOCK + 6], MERU_WAL_FULL);
    free(data);
    CHECK_RC(read_seg(fs, path, 0, s1, 2, 0, &got, NULL), MERU_NOT_FOUND);
    CHECK_EQ_INT(got, 2);

    CHECK_OK(write_seg(fs, dir, 2, s2, 2, NULL, 0));
    seg_path(path, dir, 2);
    data = meru_test_read_file(path, &n);
    CHECK(data);
    CHECK_EQ_INT(n, BLOCK + HDR + 10);
    CHECK_EQ_INT(meru_load_le16(data + BLOCK - 7 + 4), 0);
    CHECK_EQ_INT(data[BLOCK - 1], MERU_WAL_FIRST);
    CHECK_EQ_INT(data[BLOCK + 6], MERU_WAL_LAST);
    free(data);
    CHECK_RC(read_seg(fs, path, 0, s2, 2, 0, &got, NULL), MERU_NOT_FOUND);
    CHECK_EQ_INT(got, 2);
}

static void test_wal_rejects_oversize_record(void)
{
    const char *dir = meru_test_tmpdir("wal_big");
    meru_wal_writer *w;
    CHECK_OK(meru_wal_writer_open(&w, meru_fs_posix(), dir, 1));
    CHECK_RC(meru_wal_writer_add(w, g_buf, (size_t)MERU_WAL_MAX_RECORD + 1),
             MERU_ERANGE);
    CHECK_OK(meru_wal_writer_add(w, "x", 1)); /* not a sticky failure */
    CHECK_OK(meru_wal_writer_close(w));
    CHECK_RC(meru_wal_writer_open(&w, meru_fs_posix(), dir, 1), MERU_EEXIST);
}

/* Truncating at every byte of the last records: exactly the records that
 * end at or before the cut come back, then a clean end. */
static void test_wal_torn_tail_at_every_cut(void)
{
    const char *dir = meru_test_tmpdir("wal_torn");
    meru_fs *fs = meru_fs_posix();
    /* record 1 fills its block exactly with a FIRST and ends in a LAST */
    size_t sizes[] = {20000, 13000, 90, 3, 0, 2000, 40, 0};
    size_t n = sizeof sizes / sizeof sizes[0];
    uint64_t ends[16], size;
    meru_file *f;
    char path[4096];

    CHECK_OK(write_seg(fs, dir, 1, sizes, n, ends, 0));
    seg_path(path, dir, 1);
    CHECK_OK(meru_fs_open(fs, path, MERU_FS_READ | MERU_FS_WRITE, &f));
    CHECK_OK(meru_file_size(f, &size));
    CHECK_EQ_U64(size, ends[n - 1]);
    for (uint64_t cut = size; cut >= ends[0]; cut--) {
        size_t want = 0, got;
        meru_wal_read_stats st;
        CHECK_OK(meru_file_truncate(f, cut));
        while (want < n && ends[want] <= cut)
            want++;
        int rc = read_seg(fs, path, 0, sizes, n, 0, &got, &st);
        CHECK_MSG(rc == MERU_NOT_FOUND && got == want,
                  "cut %llu: rc %d got %zu want %zu: %s",
                  (unsigned long long)cut, rc, got, want, meru_errmsg());
        CHECK_EQ_U64(st.good_end, want ? ends[want - 1] : 0);
        CHECK(st.good_end + st.tail_dropped_bytes <= cut);
        if (cut == ends[want - 1])
            CHECK_EQ_U64(st.tail_dropped_bytes, 0);
        else if (cut - ends[want - 1] >= HDR && (cut % BLOCK) != 0)
            CHECK(st.tail_dropped_bytes > 0);
        /* Salvage mode reads the same prefix. */
        if (cut % 5)
            continue;
        CHECK_RC(read_seg(fs, path, 1, sizes, n, 0, &got, &st), MERU_NOT_FOUND);
        CHECK_EQ_INT(got, want);
        CHECK_EQ_U64(st.corrupt_dropped_bytes, 0);
    }
    meru_file_close(f);
}

static void append_raw(const char *path, const uint8_t *p, size_t n)
{
    meru_file *f;
    if (meru_fs_open(meru_fs_posix(), path, MERU_FS_WRITE | MERU_FS_APPEND,
                     &f) == 0) {
        meru_file_append(f, p, n);
        meru_file_close(f);
    }
}

static void test_wal_zero_and_garbage_tails_end_cleanly(void)
{
    const char *dir = meru_test_tmpdir("wal_tails");
    meru_fs *fs = meru_fs_posix();
    size_t sizes[40], got;
    uint64_t ends[40];
    char path[4096];
    meru_wal_read_stats st;
    static uint8_t junk[3 * BLOCK];

    for (int i = 0; i < 40; i++)
        sizes[i] = 100 + meru_test_rand() % 3000;
    /* zeros: a few bytes, a block's worth, several whole blocks */
    const size_t zlens[] = {3, 7, 100, BLOCK, 3 * BLOCK};
    for (size_t z = 0; z < sizeof zlens / sizeof zlens[0]; z++) {
        memset(junk, 0, sizeof junk);
        CHECK_OK(write_seg(fs, dir, 10 + z, sizes, 40, ends, 0));
        seg_path(path, dir, 10 + z);
        append_raw(path, junk, zlens[z]);
        CHECK_RC(read_seg(fs, path, 0, sizes, 40, 0, &got, &st),
                 MERU_NOT_FOUND);
        CHECK_EQ_INT(got, 40);
        CHECK_EQ_U64(st.good_end, ends[39]);
        CHECK_EQ_U64(st.tail_dropped_bytes, zlens[z]);
    }
    for (int t = 0; t < 20; t++) {
        size_t glen = 1 + meru_test_rand() % sizeof junk;
        for (size_t i = 0; i < glen; i++)
            junk[i] = (uint8_t)meru_test_rand();
        CHECK_OK(write_seg(fs, dir, 100 + t, sizes, 40, ends, 0));
        seg_path(path, dir, 100 + t);
        append_raw(path, junk, glen);
        CHECK_RC(read_seg(fs, path, 0, sizes, 40, 0, &got, &st),
                 MERU_NOT_FOUND);
        CHECK_EQ_INT(got, 40);
        CHECK_EQ_U64(st.tail_dropped_bytes, glen);
    }
}

static void flip_byte(const char *path, uint64_t off)
{
    meru_file *f;
    uint8_t b;
    size_t nr;
    if (meru_fs_open(meru_fs_posix(), path, MERU_FS_READ | MERU_FS_WRITE, &f) ==
        0) {
        meru_file_pread(f, off, &b, 1, &nr);
        b ^= 0x40;
        meru_file_pwrite(f, off, &b, 1);
        meru_file_close(f);
    }
}

static void test_wal_mid_log_corruption_is_an_error_salvage_skips_it(void)
{
    const char *dir = meru_test_tmpdir("wal_corrupt");
    meru_fs *fs = meru_fs_posix();
    size_t sizes[200], got;
    uint64_t ends[200];
    char path[4096], want[64];
    meru_wal_read_stats st;

    for (int i = 0; i < 200; i++)
        sizes[i] = 1000;
    sizes[120] = 3 * BLOCK; /* a multi-block record */
    CHECK_OK(write_seg(fs, dir, 1, sizes, 200, ends, 0));
    seg_path(path, dir, 1);
    /* payload byte of record 100 */
    flip_byte(path, ends[99] + HDR + 10);
    CHECK_RC(read_seg(fs, path, 0, sizes, 200, 0, &got, &st), MERU_ECORRUPT);
    CHECK_EQ_INT(got, 100);
    CHECK_ERRMSG(path);
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)ends[99]);
    CHECK_ERRMSG(want);
    CHECK_ERRMSG("checksum mismatch");

    /* Salvage: drops the rest of that block, returns every other record. */
    CHECK_RC(read_seg(fs, path, 1, sizes, 200, 1, &got, &st), MERU_NOT_FOUND);
    uint64_t block_end = (ends[99] / BLOCK + 1) * BLOCK;
    size_t lost = 0;
    for (int i = 100; i < 200 && ends[i] <= block_end; i++)
        lost++;
    /* the record crossing block_end is lost too (its tail is an orphan) */
    lost++;
    CHECK_EQ_INT(got, 200 - lost);
    CHECK(st.corrupt_dropped_bytes >= block_end - ends[99]);
    CHECK(st.corrupt_regions >= 1);
    CHECK_EQ_U64(st.tail_dropped_bytes, 0);

    /* A MIDDLE fragment of the multi-block record. */
    CHECK_OK(write_seg(fs, dir, 2, sizes, 200, ends, 0));
    seg_path(path, dir, 2);
    uint64_t mid = (ends[119] / BLOCK + 1) * BLOCK; /* its 2nd fragment */
    flip_byte(path, mid + HDR + 5);
    CHECK_RC(read_seg(fs, path, 0, sizes, 200, 0, &got, &st), MERU_ECORRUPT);
    CHECK_EQ_INT(got, 120);
    CHECK_RC(read_seg(fs, path, 1, sizes, 200, 1, &got, &st), MERU_NOT_FOUND);
    CHECK(got >= 190 && got < 200);

    /* Damage in the very last record is a torn tail, not corruption. */
    CHECK_OK(write_seg(fs, dir, 3, sizes, 200, ends, 0));
    seg_path(path, dir, 3);
    flip_byte(path, ends[198] + HDR + 500);
    CHECK_RC(read_seg(fs, path, 0, sizes, 200, 0, &got, &st), MERU_NOT_FOUND);
    CHECK_EQ_INT(got, 199);
    CHECK_EQ_U64(st.tail_dropped_bytes, ends[199] - ends[198]);

    /* A bad type byte in the middle. */
    CHECK_OK(write_seg(fs, dir, 4, sizes, 200, ends, 0));
    seg_path(path, dir, 4);
    flip_byte(path, ends[9] + 6);
    CHECK_RC(read_seg(fs, path, 0, sizes, 200, 0, &got, &st), MERU_ECORRUPT);
    CHECK_EQ_INT(got, 10);
}

static void test_wal_salvage_skips_several_damaged_regions(void)
{
    const char *dir = meru_test_tmpdir("wal_multi");
    meru_fs *fs = meru_fs_posix();
    size_t sizes[300], got, strict_got;
    uint64_t ends[300];
    char path[4096];
    meru_wal_read_stats st;
    int damaged = 0;

    for (int i = 0; i < 300; i++)
        sizes[i] = 1000;
    CHECK_OK(write_seg(fs, dir, 1, sizes, 300, ends, 0));
    seg_path(path, dir, 1);
    /* damage one record in each of blocks 1, 3, 5 */
    for (int i = 1; i < 299; i++) {
        uint64_t blk = ends[i - 1] / BLOCK;
        if ((blk == 1 || blk == 3 || blk == 5) &&
            ends[i - 1] / BLOCK == ends[i] / BLOCK &&
            (damaged == 0 || ends[i - 2] / BLOCK != blk)) {
            flip_byte(path, ends[i - 1] + HDR + 1);
            damaged++;
            i += 40;
        }
    }
    CHECK_EQ_INT(damaged, 3);
    CHECK_RC(read_seg(fs, path, 0, sizes, 300, 1, &strict_got, &st),
             MERU_ECORRUPT);
    CHECK_RC(read_seg(fs, path, 1, sizes, 300, 1, &got, &st), MERU_NOT_FOUND);
    CHECK_EQ_U64(st.corrupt_regions, 6); /* 3 damaged + 3 orphan tails */
    CHECK(got > strict_got && got < 300 - 3 && got > 300 - 3 * 34);
    CHECK_EQ_U64(st.record_bytes + st.corrupt_dropped_bytes +
                         st.records * HDR <=
                     st.file_size,
                 1);
}

typedef struct replay_ctx {
    uint64_t segs[16];
    size_t idx[16];
    size_t n;
    size_t total;
    int fail_at;
} replay_ctx;

static int replay_cb(void *ctx, uint64_t seg, const uint8_t *rec, size_t len)
{
    replay_ctx *c = ctx;
    uint32_t i = len >= 4 ? meru_load_le32(rec) : 0;
    if (c->fail_at >= 0 && (size_t)c->fail_at == c->total)
        return MERU_EINVAL;
    if (c->n == 0 || c->segs[c->n - 1] != seg) {
        if (c->n == 16)
            return MERU_ERANGE;
        c->segs[c->n] = seg;
        c->idx[c->n++] = 0;
    }
    if (i != c->idx[c->n - 1])
        return MERU_EINTERNAL; /* out of order */
    c->idx[c->n - 1]++;
    c->total++;
    return 0;
}

static void test_wal_replay_orders_segments_and_rejects_torn_middle(void)
{
    const char *dir = meru_test_tmpdir("wal_replay");
    meru_fs *fs = meru_fs_posix();
    size_t sizes[30];
    uint64_t ends[30], *nums, cnt;
    size_t nn;
    char path[4096];
    meru_wal_replay_stats st;
    replay_ctx c;

    for (int i = 0; i < 30; i++)
        sizes[i] = 10 + (size_t)i * 700;
    CHECK_OK(write_seg(fs, dir, 5, sizes, 30, ends, 0));
    CHECK_OK(write_seg(fs, dir, 12, sizes, 30, ends, 0));
    CHECK_OK(write_seg(fs, dir, 7, sizes, 30, ends, 0));
    char other[4096];
    snprintf(other, sizeof other, "%s/junk.log", dir);
    append_raw(other, (const uint8_t *)"x", 0);
    meru_file *jf;
    CHECK_OK(meru_fs_open(fs, other, MERU_FS_WRITE | MERU_FS_CREATE, &jf));
    meru_file_close(jf);
    CHECK_OK(meru_wal_list_segments(fs, dir, &nums, &nn));
    CHECK_EQ_INT(nn, 3);
    CHECK_EQ_U64(nums[0], 5);
    CHECK_EQ_U64(nums[1], 7);
    CHECK_EQ_U64(nums[2], 12);
    free(nums);

    memset(&c, 0, sizeof c);
    c.fail_at = -1;
    CHECK_OK(meru_wal_replay(fs, dir, 6, 0, replay_cb, &c, &st));
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_U64(c.segs[0], 7);
    CHECK_EQ_U64(c.segs[1], 12);
    CHECK_EQ_INT(c.total, 60);
    CHECK_EQ_U64(st.segments, 2);
    CHECK_EQ_U64(st.last_segment, 12);

    /* The callback's error stops the replay and comes back. */
    memset(&c, 0, sizeof c);
    c.fail_at = 45;
    CHECK_RC(meru_wal_replay(fs, dir, 0, 0, replay_cb, &c, &st), MERU_EINVAL);
    CHECK_EQ_INT(c.total, 45);

    /* A torn tail at the end of the last segment is fine... */
    meru_file *f;
    seg_path(path, dir, 12);
    CHECK_OK(meru_fs_open(fs, path, MERU_FS_WRITE | MERU_FS_READ, &f));
    CHECK_OK(meru_file_truncate(f, ends[29] - 100));
    meru_file_close(f);
    memset(&c, 0, sizeof c);
    c.fail_at = -1;
    CHECK_OK(meru_wal_replay(fs, dir, 0, 0, replay_cb, &c, &st));
    CHECK_EQ_INT(c.total, 89);
    CHECK(st.tail_dropped_bytes > 0);

    /* ...in an earlier one it is corruption, unless salvage. */
    seg_path(path, dir, 7);
    CHECK_OK(meru_fs_open(fs, path, MERU_FS_WRITE | MERU_FS_READ, &f));
    CHECK_OK(meru_file_truncate(f, ends[29] - 100));
    meru_file_close(f);
    memset(&c, 0, sizeof c);
    c.fail_at = -1;
    CHECK_RC(meru_wal_replay(fs, dir, 0, 0, replay_cb, &c, &st), MERU_ECORRUPT);
    CHECK_ERRMSG("later segments exist");
    memset(&c, 0, sizeof c);
    c.fail_at = -1;
    CHECK_OK(meru_wal_replay(fs, dir, 0, 1, replay_cb, &c, &st));
    CHECK_EQ_INT(c.total, 88);

    /* delete_below removes only older segments. */
    CHECK_OK(meru_wal_delete_below(fs, dir, 12));
    CHECK_OK(meru_wal_list_segments(fs, dir, &nums, &nn));
    CHECK_EQ_INT(nn, 1);
    CHECK_EQ_U64(nums[0], 12);
    free(nums);
    int ex;
    CHECK_OK(meru_fs_exists(fs, other, &ex));
    CHECK_EQ_INT(ex, 1);
    cnt = 0;
    (void)cnt;
    /* An empty directory replays nothing. */
    const char *empty = meru_test_tmpdir("wal_replay_empty");
    memset(&c, 0, sizeof c);
    c.fail_at = -1;
    CHECK_OK(meru_wal_replay(fs, empty, 0, 0, replay_cb, &c, &st));
    CHECK_EQ_U64(st.segments, 0);
}

/* Synced records survive power loss; unsynced ones may vanish, but the log
 * still reads cleanly to a prefix. */
static void test_wal_synced_records_survive_crash(void)
{
    const char *dir = meru_test_tmpdir("wal_crash");
    meru_fs *fs;
    size_t sizes[300], got;
    char path[4096];
    meru_wal_read_stats st;

    for (int i = 0; i < 300; i++)
        sizes[i] = 4 + meru_test_rand() % 5000;
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    seg_path(path, dir, 1);
    for (uint64_t seed = 0; seed < 12; seed++) {
        meru_wal_writer *w;
        size_t synced = 50 + (size_t)(meru_test_rand() % 200);
        char p2[4096];
        seg_path(p2, dir, seed + 1);
        CHECK_OK(meru_wal_writer_open(&w, fs, dir, seed + 1));
        for (size_t i = 0; i < 300; i++) {
            fill_rec(g_buf, (uint32_t)i, sizes[i]);
            CHECK_OK(meru_wal_writer_add(w, g_buf, sizes[i]));
            if (i + 1 == synced)
                CHECK_OK(meru_wal_writer_sync(w));
        }
        if (seed % 2)
            CHECK_OK(meru_fs_fault_crash_torn(fs, seed));
        else
            CHECK_OK(meru_fs_fault_crash(fs));
        meru_wal_writer_close(w); /* fails: the process died */
        CHECK_RC(read_seg(fs, p2, 0, sizes, 300, 0, &got, &st), MERU_NOT_FOUND);
        CHECK_MSG(got >= synced, "seed %llu: got %zu < synced %zu",
                  (unsigned long long)seed, got, synced);
        if (seed % 2 == 0)
            CHECK_EQ_INT(got, synced);
    }
    meru_fs_free(fs);
}

static int count_cb(void *ctx, uint64_t seg, const uint8_t *rec, size_t len)
{
    (void)seg;
    (void)rec;
    (void)len;
    (*(size_t *)ctx)++;
    return 0;
}

/* The process dies after every possible number of fs calls of a writer
 * session (open, adds, syncs, rotation to a second segment), then power
 * fails: replay always succeeds and returns at least every record whose
 * sync was acknowledged, in order. */
static void test_wal_crash_at_every_step_keeps_acknowledged_records(void)
{
    const char *dir = meru_test_tmpdir("wal_steps");
    meru_fs *fs;
    size_t sizes[40];
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    for (int i = 0; i < 40; i++)
        sizes[i] = 4 + (size_t)i * 997;
    for (uint64_t step = 0; step < 80; step++) {
        meru_wal_writer *w = NULL;
        uint64_t seg = 1, *nums;
        size_t acked = 0, nn;
        int rc;
        char path[4096];

        /* fresh directory content for this step */
        CHECK_OK(meru_wal_list_segments(fs, dir, &nums, &nn));
        for (size_t k = 0; k < nn; k++) {
            seg_path(path, dir, nums[k]);
            CHECK_OK(meru_fs_remove(fs, path));
        }
        free(nums);
        CHECK_OK(meru_fs_sync_dir(fs, dir));

        meru_fs_fault_die_after(fs, step);
        rc = meru_wal_writer_open(&w, fs, dir, seg);
        for (int i = 0; i < 40 && !rc; i++) {
            fill_rec(g_buf, (uint32_t)i, sizes[i]);
            rc = meru_wal_writer_add(w, g_buf, sizes[i]);
            if (!rc && i % 3 == 2) {
                rc = meru_wal_writer_sync(w);
                if (!rc)
                    acked = (size_t)i + 1;
            }
            if (!rc && i == 20) { /* rotate */
                rc = meru_wal_writer_close(w);
                w = NULL;
                if (!rc)
                    rc = meru_wal_writer_open(&w, fs, dir, ++seg);
            }
        }
        meru_wal_writer_close(w);
        CHECK_OK(meru_fs_fault_crash(fs));

        /* Replay both segments: records are 0..k-1 in order. */
        size_t got = 0;
        CHECK_OK(meru_wal_list_segments(fs, dir, &nums, &nn));
        for (size_t k = 0; k < nn; k++) {
            meru_wal_reader *r;
            const uint8_t *rec;
            size_t len;
            seg_path(path, dir, nums[k]);
            CHECK_OK(meru_wal_reader_open(&r, fs, path, 0));
            while ((rc = meru_wal_reader_next(r, &rec, &len)) == 0) {
                if (len != sizes[got] || meru_load_le32(rec) != got)
                    break;
                got++;
            }
            meru_wal_reader_close(r);
            CHECK_MSG(rc == MERU_NOT_FOUND, "step %llu: %d %s",
                      (unsigned long long)step, rc, meru_errmsg());
        }
        free(nums);
        /* The replay policy agrees (no torn tail before the last segment,
         * since closing a segment syncs it). */
        size_t count = 0;
        CHECK_OK(meru_wal_replay(fs, dir, 0, 0, count_cb, &count, NULL));
        CHECK_EQ_INT(count, got);
        CHECK_MSG(got >= acked, "step %llu: %zu < acked %zu",
                  (unsigned long long)step, got, acked);
    }
    meru_fs_free(fs);
}

static void test_wal_new_segment_survives_crash(void)
{
    const char *dir = meru_test_tmpdir("wal_crash_dir");
    meru_fs *fs;
    meru_wal_writer *w;
    uint64_t *nums;
    size_t n;
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_wal_writer_open(&w, fs, dir, 9));
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC_DIR), 1);
    CHECK_OK(meru_fs_fault_crash(fs));
    meru_wal_writer_close(w);
    CHECK_OK(meru_wal_list_segments(fs, dir, &nums, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_U64(nums[0], 9);
    free(nums);
    meru_fs_free(fs);
}

static void test_wal_failed_append_or_sync_is_sticky(void)
{
    const char *dir = meru_test_tmpdir("wal_sticky");
    meru_fs *fs;
    meru_wal_writer *w;
    size_t sizes[3] = {100, 100, 100}, got;
    char path[4096];
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));

    /* EIO on append */
    CHECK_OK(meru_wal_writer_open(&w, fs, dir, 1));
    fill_rec(g_buf, 0, 100);
    CHECK_OK(meru_wal_writer_add(w, g_buf, 100));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_APPEND, ".log", 1, EIO));
    CHECK_RC(meru_wal_writer_add(w, g_buf, 100), MERU_EIO);
    CHECK_EQ_INT(meru_wal_writer_failed(w), MERU_EIO);
    uint64_t appends = meru_fs_fault_count(fs, MERU_FS_OP_APPEND);
    CHECK_RC(meru_wal_writer_add(w, g_buf, 100), MERU_EFAILED);
    CHECK_ERRMSG("injected");
    CHECK_RC(meru_wal_writer_sync(w), MERU_EFAILED);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_APPEND), appends);
    CHECK_EQ_U64(meru_fs_fault_count(fs, MERU_FS_OP_SYNC), 0);
    meru_wal_writer_close(w);

    /* ENOSPC on sync */
    CHECK_OK(meru_wal_writer_open(&w, fs, dir, 2));
    CHECK_OK(meru_wal_writer_add(w, g_buf, 100));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, ".log", 1, ENOSPC));
    CHECK_RC(meru_wal_writer_sync(w), MERU_ENOSPC);
    CHECK_RC(meru_wal_writer_add(w, g_buf, 100), MERU_EFAILED);
    CHECK_RC(meru_wal_writer_sync(w), MERU_EFAILED);
    meru_wal_writer_close(w);

    /* A short write leaves a torn frame: the reader ends cleanly. */
    CHECK_OK(meru_wal_writer_open(&w, fs, dir, 3));
    CHECK_OK(meru_wal_writer_add(w, g_buf, 100));
    CHECK_OK(meru_fs_fault_inject_short_write(fs, ".log", 1));
    fill_rec(g_buf, 1, 100);
    CHECK_RC(meru_wal_writer_add(w, g_buf, 100), MERU_ENOSPC);
    CHECK_RC(meru_wal_writer_add(w, g_buf, 100), MERU_EFAILED);
    meru_wal_writer_close(w);
    seg_path(path, dir, 3);
    CHECK_RC(read_seg(fs, path, 0, sizes, 3, 0, &got, NULL), MERU_NOT_FOUND);
    CHECK_EQ_INT(got, 1);
    meru_fs_free(fs);
}

int main(void)
{
    g_buf = malloc(4u << 20);
    if (!g_buf)
        return 1;
    MERU_TEST_RUN(test_wal_segment_names_are_20_digits);
    MERU_TEST_RUN(test_wal_frames_bytes_like_leveldb);
    MERU_TEST_RUN(test_wal_round_trips_sizes_across_blocks);
    MERU_TEST_RUN(test_wal_pads_short_block_tail_and_splits_at_7);
    MERU_TEST_RUN(test_wal_rejects_oversize_record);
    MERU_TEST_RUN(test_wal_torn_tail_at_every_cut);
    MERU_TEST_RUN(test_wal_zero_and_garbage_tails_end_cleanly);
    MERU_TEST_RUN(test_wal_mid_log_corruption_is_an_error_salvage_skips_it);
    MERU_TEST_RUN(test_wal_salvage_skips_several_damaged_regions);
    MERU_TEST_RUN(test_wal_replay_orders_segments_and_rejects_torn_middle);
    MERU_TEST_RUN(test_wal_synced_records_survive_crash);
    MERU_TEST_RUN(test_wal_crash_at_every_step_keeps_acknowledged_records);
    MERU_TEST_RUN(test_wal_new_segment_survives_crash);
    MERU_TEST_RUN(test_wal_failed_append_or_sync_is_sticky);
    free(g_buf);
    return meru_test_finish();
}
