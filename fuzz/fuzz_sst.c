/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sst.c — libFuzzer target: the input is a whole SST file, served by
 * a tiny read-only in-memory meru_fs. Opens it under a fixed schema (the
 * one the seed corpus was written with), scans it both ways with and
 * without a projection, seeks to every key met, and looks up keys met and
 * a few made-up ones. Any status is fine; crashes, hangs, leaks and
 * sanitizer reports are the bugs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sst/sst.h"
#include "types/keycodec.h"
#include "util/error.h"
#include "mem_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the target -------------------------------------------------------- */

static meru_schema *the_schema(void)
{
    static meru_schema *s;
    if (!s &&
        meru_schema_parse(&s, "t",
                          "k string not null, n int64 not null, v string, "
                          "d double, dec decimal(30,3), nn int32 not null",
                          "k, n"))
        s = NULL;
    return s;
}

static void lookup(meru_sst *t, const uint8_t *k, size_t len, uint64_t seq,
                   meru_buf *val)
{
    meru_sst_state st;
    meru_sst_read_stats rs = {0};
    uint64_t got;
    meru_sst_get(t, k, len, seq, &st, &got, val, &rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meru_schema *s = the_schema();
    if (!s)
        return 0;
    mem_fs fs = MEM_FS(data, size);
    meru_sst *t;
    if (meru_sst_open(&t, &fs.base, "fuzz.parquet", s, NULL))
        return 0;
    meru_buf keys = {0}, val = {0};
    meru_colset proj;
    memset(&proj, 0, sizeof proj);
    meru_colset_add(&proj, 2);
    for (int pass = 0; pass < 2; pass++) {
        meru_iiter *it;
        if (meru_sst_iter_new(t, pass ? &proj : NULL, &it))
            break;
        size_t n = 0;
        for (it->ops->seek_to_first(it); it->ops->valid(it) && n < 5000;
             it->ops->next(it), n++) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            it->ops->value(it, &vl);
            if (pass == 0 && n % 3 == 0 && kl < 4096) {
                uint32_t l32 = (uint32_t)kl;
                meru_buf_append(&keys, &l32, sizeof l32);
                meru_buf_append(&keys, k, kl);
            }
        }
        for (it->ops->seek_to_last(it); it->ops->valid(it) && n > 0;
             it->ops->prev(it), n--) {
            size_t vl;
            it->ops->value(it, &vl);
        }
        for (size_t off = 0; off + 4 <= keys.len;) {
            uint32_t kl;
            memcpy(&kl, keys.data + off, 4);
            const uint8_t *k = keys.data + off + 4;
            it->ops->seek(it, k, kl);
            if (it->ops->valid(it))
                it->ops->prev(it);
            it->ops->seek_for_prev(it, k, kl);
            if (it->ops->valid(it))
                it->ops->next(it);
            if (pass == 0 && kl >= MERU_IKEY_TRAILER_LEN) {
                uint64_t seq = 0;
                meru_ikey_parse(k, kl, NULL, &seq, NULL);
                lookup(t, k, kl - MERU_IKEY_TRAILER_LEN, seq, &val);
                lookup(t, k, kl - MERU_IKEY_TRAILER_LEN, MERU_SEQ_MAX, &val);
                lookup(t, k, kl - MERU_IKEY_TRAILER_LEN, 0, &val);
            }
            off += 4 + kl;
        }
        meru_iiter_destroy(it);
    }
    /* made-up keys: the input's own bytes as a user key */
    lookup(t, data, size < 24 ? size : 24, MERU_SEQ_MAX, &val);
    meru_buf_free(&keys);
    meru_buf_free(&val);
    meru_sst_close(t);
    return 0;
}
