/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal_writer.c — appends framed records to a new WAL segment (wal.h,
 * format in wal_format.h).
 *
 * Invariant: `bytes` is the length of the file as this writer produced it;
 * `bytes % MERU_WAL_BLOCK_SIZE` is where the next fragment starts in its
 * block. Each add builds all fragments (and block-tail padding) of its
 * records in `scratch` and writes them with a single append, so the
 * framing never depends on how the OS splits writes. After any failed
 * append or sync `failed` holds the original status and `failmsg` its
 * message; nothing is written or synced again.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/crc32c.h"
#include "util/endian.h"
#include "util/error.h"
#include "wal/wal.h"

struct meru_wal_writer {
    meru_fs *fs;
    meru_file *file;
    uint64_t number;
    uint64_t bytes;
    int failed;
    meru_buf scratch;
    char path[4096];
    char failmsg[MERU_ERRMSG_CAP];
};

int meru_wal_segment_path(char *out, size_t cap, const char *dir,
                          uint64_t number)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRIu64 ".log", number);
    return meru_path_join(out, cap, dir, name);
}

static int fail_sticky(meru_wal_writer *w, int rc)
{
    w->failed = rc;
    snprintf(w->failmsg, sizeof w->failmsg, "%s", meru_errmsg());
    return rc;
}

static int check_failed(const meru_wal_writer *w)
{
    if (!w->failed)
        return 0;
    return meru_err(MERU_EFAILED,
                    "wal %s: writes stopped by an earlier "
                    "failure: %s",
                    w->path, w->failmsg);
}

int meru_wal_writer_open(meru_wal_writer **out, meru_fs *fs, const char *dir,
                         uint64_t number)
{
    meru_wal_writer *w;
    int rc;

    *out = NULL;
    w = calloc(1, sizeof *w);
    if (!w)
        return meru_err(MERU_ENOMEM, "wal: allocating a writer");
    w->fs = fs;
    w->number = number;
    rc = meru_wal_segment_path(w->path, sizeof w->path, dir, number);
    if (rc)
        goto fail;
    rc = meru_fs_open(fs, w->path,
                      MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL, &w->file);
    if (rc)
        goto fail;
    /* The new entry must survive a crash before any record in it counts. */
    rc = meru_fs_sync_dir(fs, dir);
    if (rc) {
        /* Keep the error of the sync; the empty file is harmless. */
        meru_file_close(w->file);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    meru_buf_free(&w->scratch);
    free(w);
    return rc;
}

/* Frames one record at block offset *boff into b (already reserved). */
static void frame_record(uint8_t *dst, size_t *pos, uint32_t *boff,
                         const uint8_t *p, size_t left)
{
    int begin = 1;
    do {
        uint32_t room = MERU_WAL_BLOCK_SIZE - *boff;
        if (room < MERU_WAL_HEADER_SIZE) {
            memset(dst + *pos, 0, room);
            *pos += room;
            *boff = 0;
            room = MERU_WAL_BLOCK_SIZE;
        }
        size_t avail = room - MERU_WAL_HEADER_SIZE;
        size_t n = left < avail ? left : avail;
        int end = n == left;
        uint8_t type = begin && end ? MERU_WAL_FULL
                       : begin      ? MERU_WAL_FIRST
                       : end        ? MERU_WAL_LAST
                                    : MERU_WAL_MIDDLE;
        uint8_t *h = dst + *pos;
        uint32_t crc = meru_crc32c_extend(meru_crc32c(&type, 1), p, n);
        meru_store_le32(h, meru_crc32c_mask(crc));
        meru_store_le16(h + 4, (uint16_t)n);
        h[6] = type;
        if (n)
            memcpy(h + MERU_WAL_HEADER_SIZE, p, n);
        *pos += MERU_WAL_HEADER_SIZE + n;
        *boff += (uint32_t)(MERU_WAL_HEADER_SIZE + n);
        p += n;
        left -= n;
        begin = 0;
    } while (left > 0);
}

/* Upper bound of the framed size of a record of len bytes. */
static size_t framed_bound(size_t len)
{
    return len + (len / MERU_WAL_MAX_FRAGMENT + 2) * MERU_WAL_HEADER_SIZE +
           MERU_WAL_HEADER_SIZE;
}

int meru_wal_writer_add_many(meru_wal_writer *w, const meru_wal_slice *recs,
                             size_t n)
{
    size_t need = 0, pos = 0;
    uint32_t boff;
    int rc;

    rc = check_failed(w);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].len > MERU_WAL_MAX_RECORD)
            return meru_err(MERU_ERANGE,
                            "wal %s: record of %zu bytes is "
                            "larger than the limit %u",
                            w->path, recs[i].len, MERU_WAL_MAX_RECORD);
        if (need > SIZE_MAX - framed_bound(recs[i].len))
            return meru_err(MERU_ERANGE, "wal %s: batch too large", w->path);
        need += framed_bound(recs[i].len);
    }
    if (n == 0)
        return 0;
    meru_buf_reset(&w->scratch);
    rc = meru_buf_reserve(&w->scratch, need);
    if (rc)
        return rc;
    boff = (uint32_t)(w->bytes % MERU_WAL_BLOCK_SIZE);
    for (size_t i = 0; i < n; i++)
        frame_record(w->scratch.data, &pos, &boff, recs[i].data, recs[i].len);
    rc = meru_file_append(w->file, w->scratch.data, pos);
    if (rc)
        return fail_sticky(w, rc);
    w->bytes += pos;
    /* Do not keep a multi-MiB buffer around after one huge record. */
    if (w->scratch.cap > 4u * 1024u * 1024u)
        meru_buf_free(&w->scratch);
    return 0;
}

int meru_wal_writer_add(meru_wal_writer *w, const void *rec, size_t len)
{
    meru_wal_slice s = {rec, len};
    return meru_wal_writer_add_many(w, &s, 1);
}

int meru_wal_writer_sync(meru_wal_writer *w)
{
    int rc = check_failed(w);
    if (rc)
        return rc;
    rc = meru_file_sync(w->file);
    if (rc)
        return fail_sticky(w, rc);
    return 0;
}

int meru_wal_writer_close(meru_wal_writer *w)
{
    int rc = 0, rc2;
    if (!w)
        return 0;
    /* A closed segment is complete and durable: only the last segment of
     * a log can have a torn tail (wal.h). */
    if (!w->failed)
        rc = meru_wal_writer_sync(w);
    rc2 = meru_file_close(w->file);
    if (!rc)
        rc = rc2;
    meru_buf_free(&w->scratch);
    free(w);
    return rc;
}

uint64_t meru_wal_writer_bytes(const meru_wal_writer *w)
{
    return w->bytes;
}
uint64_t meru_wal_writer_number(const meru_wal_writer *w)
{
    return w->number;
}
const char *meru_wal_writer_path(const meru_wal_writer *w)
{
    return w->path;
}
int meru_wal_writer_failed(const meru_wal_writer *w)
{
    return w->failed;
}
