/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal_reader.c — reads the records of one WAL segment (wal.h; format in
 * wal_format.h), deciding at the first damage whether it is a torn tail or
 * mid-log corruption.
 *
 * Reading: whole blocks are read with one pread each into `block`; the
 * fragments of a record are assembled in `rec` (a FULL record is returned
 * straight from the block buffer, no copy). Every header field is checked
 * against the bytes actually present before use; record size is capped by
 * MERU_WAL_MAX_RECORD and by the file size.
 *
 * State: `boff` is the file offset of the block in `block`, `blen` its
 * valid length (< MERU_WAL_BLOCK_SIZE only for the last block of the file),
 * `pos` the next header in it. `in_rec`/`rec_start` describe a FIRST..LAST
 * run being assembled. `err` is sticky: after an end or an error every call
 * returns it again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/crc32c.h"
#include "util/endian.h"
#include "util/error.h"
#include "wal/wal.h"

struct meru_wal_reader {
    meru_file *file;
    int salvage;
    int err;
    int in_rec;
    uint64_t rec_start;
    uint64_t boff;
    uint32_t blen;
    uint32_t pos;
    uint8_t *block;
    uint8_t *scan; /* second block buffer for the look-ahead scan */
    /* Last look-ahead: from scan_from, the first valid block is scan_hit
     * (UINT64_MAX: none); reused so salvage over many damaged blocks stays
     * linear. scan_from == UINT64_MAX: no scan yet. */
    uint64_t scan_from, scan_hit;
    meru_buf rec;
    meru_wal_read_stats st;
};

/* One parsed fragment, or the reason the bytes at `off` are not one. */
typedef struct frag {
    uint64_t off;
    const uint8_t *data;
    uint32_t len;
    uint8_t type;
    const char *bad; /* NULL when valid */
} frag;

enum { FRAG_OK, FRAG_EOF, FRAG_BAD };

/* Parses the fragment at p[0..avail) (avail = bytes left in its block);
 * returns NULL if valid, else why not. *flen = header + payload size. */
static const char *parse_frag(const uint8_t *p, uint32_t avail, int short_blk,
                              uint8_t *type, uint32_t *len)
{
    uint32_t stored, crc;
    if (avail < MERU_WAL_HEADER_SIZE)
        return "header cut by the end of the file";
    *len = meru_load_le16(p + 4);
    *type = p[6];
    if (*type == MERU_WAL_ZERO || *type > MERU_WAL_LAST)
        return "invalid fragment type";
    if (*len > avail - MERU_WAL_HEADER_SIZE)
        return short_blk ? "fragment runs past the end of the file"
                         : "fragment runs past the end of its block";
    stored = meru_load_le32(p);
    crc = meru_crc32c_extend(meru_crc32c(type, 1), p + MERU_WAL_HEADER_SIZE,
                             *len);
    if (meru_crc32c_unmask(stored) != crc)
        return "checksum mismatch";
    return NULL;
}

static int load_block(meru_wal_reader *r, uint64_t off, uint8_t *buf,
                      uint32_t *len)
{
    size_t got = 0;
    int rc = meru_file_pread(r->file, off, buf, MERU_WAL_BLOCK_SIZE, &got);
    if (rc)
        return rc;
    *len = (uint32_t)got;
    return 0;
}

/* Next fragment (FRAG_OK / FRAG_EOF / FRAG_BAD) or a negative status. */
static int read_frag(meru_wal_reader *r, frag *f)
{
    for (;;) {
        uint32_t avail = r->blen - r->pos;
        int short_blk = r->blen < MERU_WAL_BLOCK_SIZE;
        if (avail < MERU_WAL_HEADER_SIZE && !short_blk) {
            /* Padding at a block tail (or a fully consumed block). */
            int rc;
            r->boff += MERU_WAL_BLOCK_SIZE;
            r->pos = 0;
            rc = load_block(r, r->boff, r->block, &r->blen);
            if (rc)
                return rc;
            continue;
        }
        if (avail == 0)
            return FRAG_EOF;
        f->off = r->boff + r->pos;
        f->bad =
            parse_frag(r->block + r->pos, avail, short_blk, &f->type, &f->len);
        if (f->bad) {
            /* The chain is lost: resynchronise at the next block. */
            r->pos = r->blen;
            return FRAG_BAD;
        }
        f->data = r->block + r->pos + MERU_WAL_HEADER_SIZE;
        r->pos += MERU_WAL_HEADER_SIZE + f->len;
        return FRAG_OK;
    }
}

/* Bytes from `off` to the end of the file as it was at open (0 if the file
 * has grown under us and `off` is beyond that). */
static uint64_t to_end(const meru_wal_reader *r, uint64_t off)
{
    return off < r->st.file_size ? r->st.file_size - off : 0;
}

/* *found = 1 if a valid fragment starts a chain in any block at or after
 * file offset `from` (a block boundary). */
static int valid_data_after(meru_wal_reader *r, uint64_t from, int *found)
{
    *found = 0;
    if (r->scan_from != UINT64_MAX && from >= r->scan_from &&
        (r->scan_hit == UINT64_MAX || from <= r->scan_hit)) {
        *found = r->scan_hit != UINT64_MAX;
        return 0;
    }
    r->scan_from = from;
    r->scan_hit = UINT64_MAX;
    if (!r->scan) {
        r->scan = malloc(MERU_WAL_BLOCK_SIZE);
        if (!r->scan)
            return meru_err(MERU_ENOMEM, "wal %s: allocating a block",
                            meru_file_path(r->file));
    }
    for (uint64_t off = from; off < r->st.file_size;
         off += MERU_WAL_BLOCK_SIZE) {
        uint32_t blen, len;
        uint8_t type;
        int rc = load_block(r, off, r->scan, &blen);
        if (rc)
            return rc;
        /* Only the first fragment of each block: it is the one place a
         * header is known to start. */
        if (!parse_frag(r->scan, blen, blen < MERU_WAL_BLOCK_SIZE, &type,
                        &len)) {
            r->scan_hit = off;
            *found = 1;
            return 0;
        }
    }
    return 0;
}

/* Handles damage that starts at `dstart` (reported at `at`). A bad
 * fragment (resume == 0) abandoned its block: reading resumes at the next
 * block, and it is a torn tail unless valid data follows. A sequence error
 * names where reading resumes (valid data follows by definition). Returns
 * MERU_NOT_FOUND for a torn tail, 0 to go on (salvage), or MERU_ECORRUPT. */
static int damage(meru_wal_reader *r, uint64_t dstart, uint64_t at,
                  const char *why, uint64_t resume)
{
    int later = 1, rc;
    if (!resume) {
        resume = r->boff + MERU_WAL_BLOCK_SIZE;
        rc = valid_data_after(r, resume, &later);
        if (rc)
            return rc;
    }
    if (!later) {
        r->st.tail_dropped_bytes += to_end(r, dstart);
        r->in_rec = 0;
        return MERU_NOT_FOUND;
    }
    if (!r->salvage)
        return meru_err(MERU_ECORRUPT,
                        "wal %s: %s at offset %" PRIu64
                        " with valid records after it (mid-log corruption)",
                        meru_file_path(r->file), why, at);
    if (resume > r->st.file_size)
        resume = r->st.file_size;
    if (resume < dstart)
        resume = dstart;
    r->st.corrupt_dropped_bytes += resume - dstart;
    r->st.corrupt_regions++;
    r->in_rec = 0;
    return 0;
}

int meru_wal_reader_open(meru_wal_reader **out, meru_fs *fs, const char *path,
                         int salvage)
{
    meru_wal_reader *r;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (!r || !(r->block = malloc(MERU_WAL_BLOCK_SIZE))) {
        free(r);
        return meru_err(MERU_ENOMEM, "wal %s: allocating a reader", path);
    }
    r->salvage = salvage;
    r->scan_from = UINT64_MAX;
    rc = meru_fs_open(fs, path, MERU_FS_READ, &r->file);
    if (rc)
        goto fail;
    rc = meru_file_size(r->file, &r->st.file_size);
    if (rc)
        goto fail;
    rc = load_block(r, 0, r->block, &r->blen);
    if (rc)
        goto fail;
    *out = r;
    return 0;
fail:
    meru_wal_reader_close(r);
    return rc;
}

int meru_wal_reader_next(meru_wal_reader *r, const uint8_t **rec, size_t *len)
{
    frag f;
    int rc;

    if (r->err)
        return r->err == MERU_NOT_FOUND
                   ? MERU_NOT_FOUND
                   : meru_err(r->err,
                              "wal %s: reader stopped by an earlier "
                              "error",
                              meru_file_path(r->file));
    for (;;) {
        rc = read_frag(r, &f);
        if (rc < 0)
            goto fail;
        if (rc == FRAG_EOF) {
            if (r->in_rec) /* a FIRST..LAST run cut by the end */
                r->st.tail_dropped_bytes += to_end(r, r->rec_start);
            rc = MERU_NOT_FOUND;
            goto fail;
        }
        if (rc == FRAG_BAD) {
            rc = damage(r, r->in_rec ? r->rec_start : f.off, f.off, f.bad, 0);
            if (rc)
                goto fail;
            continue;
        }
        switch (f.type) {
        case MERU_WAL_FULL:
        case MERU_WAL_FIRST:
            if (r->in_rec) {
                rc = damage(r, r->rec_start, f.off,
                            "record starts inside another record", f.off);
                if (rc)
                    goto fail;
            }
            if (f.type == MERU_WAL_FULL) {
                *rec = f.data;
                *len = f.len;
                goto got;
            }
            r->in_rec = 1;
            r->rec_start = f.off;
            meru_buf_reset(&r->rec);
            break;
        default: /* MIDDLE, LAST */
            if (!r->in_rec) {
                rc = damage(r, f.off, f.off,
                            "continuation fragment without a first",
                            r->boff + r->pos);
                if (rc)
                    goto fail;
                continue;
            }
            break;
        }
        if (r->rec.len + f.len > MERU_WAL_MAX_RECORD) {
            rc = damage(r, r->rec_start, f.off, "record larger than the limit",
                        r->boff + r->pos);
            if (rc)
                goto fail;
            continue;
        }
        rc = meru_buf_append(&r->rec, f.data, f.len);
        if (rc)
            goto fail;
        if (f.type == MERU_WAL_LAST) {
            r->in_rec = 0;
            *rec = r->rec.data ? r->rec.data : f.data;
            *len = r->rec.len;
            goto got;
        }
    }
got:
    r->st.records++;
    r->st.record_bytes += *len;
    r->st.good_end = r->boff + r->pos;
    return 0;
fail:
    r->err = rc;
    return rc;
}

const meru_wal_read_stats *meru_wal_reader_stats(const meru_wal_reader *r)
{
    return &r->st;
}

void meru_wal_reader_close(meru_wal_reader *r)
{
    if (!r)
        return;
    meru_file_close(r->file);
    meru_buf_free(&r->rec);
    free(r->block);
    free(r->scan);
    free(r);
}
