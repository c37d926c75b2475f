/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_wal.c — libFuzzer target for the WAL segment reader
 * (src/wal/wal.h).
 *
 * The input is served as a segment file by a tiny read-only in-memory
 * meru_fs (no syscalls per run) and read in strict and in salvage mode.
 * Oracles: neither crashes or over-reads (ASan); strict mode ends with
 * MERU_NOT_FOUND or MERU_ECORRUPT only, salvage mode with MERU_NOT_FOUND
 * only; the strict records are a prefix of the salvage records (same
 * lengths and checksums); the stats never account for more bytes than the
 * file has.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merutable.h"
#include "util/crc32c.h"
#include "util/fs.h"
#include "wal/wal.h"
#include "mem_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXR 4096

static mem_fs g_fs = {{&mem_fs_ops}, NULL, 0};

static uint64_t sums[MAXR];
static size_t nsums; /* records of the strict pass */

static int read_all(const char *path, int salvage, size_t *n)
{
    meru_wal_reader *r;
    const uint8_t *rec;
    size_t len;
    int rc = meru_wal_reader_open(&r, &g_fs.base, path, salvage);
    *n = 0;
    if (rc)
        abort();
    while ((rc = meru_wal_reader_next(r, &rec, &len)) == 0) {
        uint64_t s = ((uint64_t)len << 32) | meru_crc32c(rec, len);
        if (!salvage && *n < MAXR)
            sums[*n] = s;
        else if (salvage && *n < nsums && *n < MAXR && sums[*n] != s)
            abort();
        (*n)++;
    }
    const meru_wal_read_stats *st = meru_wal_reader_stats(r);
    if (st->good_end > st->file_size ||
        st->tail_dropped_bytes > st->file_size ||
        st->corrupt_dropped_bytes > st->file_size || st->records != *n)
        abort();
    /* the end is sticky */
    if (meru_wal_reader_next(r, &rec, &len) != rc)
        abort();
    meru_wal_reader_close(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = "fuzz.log";
    size_t ns, nv;
    int rc;

    g_fs.p = data;
    g_fs.n = size;

    nsums = 0;
    rc = read_all(path, 0, &ns);
    nsums = ns;
    if (rc != MERU_NOT_FOUND && rc != MERU_ECORRUPT)
        abort();
    rc = read_all(path, 1, &nv);
    if (rc != MERU_NOT_FOUND)
        abort();
    /* strict records are a prefix of the salvage ones (checked in
     * read_all against sums[] filled by the strict pass) */
    if (nv < ns)
        abort();
    return 0;
}
