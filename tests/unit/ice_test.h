/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ice_test.h — helpers shared by the test_iceberg_* programs: a sweep of
 * corruptions over an encoded file (every truncation, bit flips) and a
 * fault-injection sweep over a writer.
 */
#ifndef MERU_ICE_TEST_H
#define MERU_ICE_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "test.h"
#include "util/fs.h"
#include "support/fs_fault.h"

/* A decoder under test: returns a status, frees what it made. */
typedef int (*ice_decode_fn)(const uint8_t *p, size_t n);

/* Feeds every proper prefix of data[0..n) to fn (a fresh malloc'd copy
 * each, so ASan sees any overread) and expects an error from each; then
 * flips one bit at `flips` pseudo-random places and requires only that fn
 * returns (any status) without a sanitizer report. Returns the number of
 * prefixes that wrongly decoded, and how many flipped inputs still
 * decoded in *flips_ok. */
static inline size_t ice_corruption_sweep(const uint8_t *data, size_t n,
                                          ice_decode_fn fn, size_t flips,
                                          size_t *flips_ok)
{
    size_t wrong = 0;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, data, cut);
        if (fn(p, cut) == MERU_OK)
            wrong++;
        free(p);
    }
    *flips_ok = 0;
    for (size_t i = 0; i < flips; i++) {
        uint8_t *p = malloc(n);
        memcpy(p, data, n);
        uint64_t r = meru_test_rand();
        p[r % n] ^= (uint8_t)(1u << ((r >> 32) % 8));
        if (fn(p, n) == MERU_OK)
            (*flips_ok)++;
        free(p);
    }
    return wrong;
}

/* A writer under test: writes `path` through fs. */
typedef int (*ice_write_fn)(meru_fs *fs, const char *path, void *arg);

/* Runs the writer once clean (counting its appends and syncs), then again
 * with an injected failure at each append (EIO and a short write), each
 * sync and the open: every failing run must return an error and leave no
 * file. Returns a description of the first broken case, or NULL. */
static inline const char *ice_fault_sweep(const char *dir, ice_write_fn fn,
                                          void *arg)
{
    static char why[256];
    char path[1100]; /* dir (< 1024) + the name */
    meru_fs *fs = NULL;
    int exists;
    snprintf(path, sizeof path, "%s/faulty.out", dir);
    if (meru_fs_fault_new(&fs, meru_fs_posix()))
        return "cannot make a fault fs";
    meru_fs_fault_reset_counts(fs);
    if (fn(fs, path, arg) != MERU_OK) {
        snprintf(why, sizeof why, "clean run failed: %s", meru_errmsg());
        goto out;
    }
    uint64_t appends = meru_fs_fault_count(fs, MERU_FS_OP_APPEND);
    uint64_t syncs = meru_fs_fault_count(fs, MERU_FS_OP_SYNC) +
                     meru_fs_fault_count(fs, MERU_FS_OP_SYNC_FULL);
    meru_fs_remove(fs, path);
    if (appends == 0 || syncs == 0) {
        snprintf(why, sizeof why, "writer made %llu appends, %llu syncs",
                 (unsigned long long)appends, (unsigned long long)syncs);
        goto out;
    }
    for (uint64_t k = 0; k < 2 * appends + syncs + 1; k++) {
        const char *kind;
        if (k < appends) {
            kind = "append EIO";
            meru_fs_fault_inject(fs, MERU_FS_OP_APPEND, "faulty.out", k + 1,
                                 EIO);
        } else if (k < 2 * appends) {
            kind = "short append";
            meru_fs_fault_inject_short_write(fs, "faulty.out", k - appends + 1);
        } else if (k < 2 * appends + syncs) {
            kind = "sync";
            meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, "faulty.out",
                                 k - 2 * appends + 1, EIO);
            meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_FULL, "faulty.out",
                                 k - 2 * appends + 1, EIO);
        } else {
            kind = "open";
            meru_fs_fault_inject(fs, MERU_FS_OP_OPEN, "faulty.out", 1, ENOSPC);
        }
        int rc = fn(fs, path, arg);
        bool injected = strstr(meru_errmsg(), "injected") != NULL;
        if (!injected && getenv("ICE_DEBUG"))
            fprintf(stderr, "rc %d msg %s\n", rc, meru_errmsg());
        meru_fs_fault_clear(fs);
        meru_fs_exists(fs, path, &exists);
        if (rc == MERU_OK || exists) {
            snprintf(why, sizeof why, "%s fault #%llu: rc %d, file %s", kind,
                     (unsigned long long)k, rc, exists ? "left" : "gone");
            meru_fs_remove(fs, path);
            goto out;
        }
        if (!injected) {
            snprintf(why, sizeof why, "%s fault #%llu: message lost", kind,
                     (unsigned long long)k);
            goto out;
        }
    }
    meru_fs_free(fs);
    return NULL;
out:
    meru_fs_free(fs);
    return why;
}

#endif
