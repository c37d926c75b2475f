/*
 * sst_cache.c — file bytes of an SST through the block cache (SPEC §7:
 * "a cache of decoded pages and footers").
 *
 * The file is cut into fixed SST_CACHE_BLOCK-byte blocks; a read gathers
 * the blocks covering its range, each looked up under the key
 * (file's cache id, block number) and read from the file on a miss. The
 * footer, page indexes, bloom filters and hot data pages all end up
 * cached without the Parquet reader knowing: it only sees a pq_source.
 * Blocks are immutable (SSTs never change), so a racing double insert of
 * the same block is harmless.
 */
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "util/endian.h"
#include "util/error.h"

#define SST_CACHE_BLOCK (32u * 1024u)

int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n);
void sst_cache_attach(meru_sst *t);

void sst_cache_attach(meru_sst *t)
{
    if (t->cache)
        t->cache_id = meru_cache_new_id(t->cache);
}

static void block_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n)
{
    if (off > t->file_size || n > t->file_size - off)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: read of %zu bytes at %llu past the end",
                        t->path, n, (unsigned long long)off);
    uint8_t *dst = buf;
    while (n > 0) {
        uint64_t blk = off / SST_CACHE_BLOCK;
        uint64_t bstart = blk * SST_CACHE_BLOCK;
        size_t blen = t->file_size - bstart < SST_CACHE_BLOCK
                          ? (size_t)(t->file_size - bstart)
                          : SST_CACHE_BLOCK;
        size_t in = (size_t)(off - bstart);
        size_t k = blen - in < n ? blen - in : n;
        uint8_t key[16];
        meru_store_le64(key, t->cache_id);
        meru_store_le64(key + 8, blk);
        meru_cache_handle *h = meru_cache_lookup(t->cache, key, sizeof key);
        if (!h) {
            uint8_t *b = malloc(blen);
            if (!b)
                return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
            int rc = meru_file_read_exact(t->file, bstart, b, blen);
            if (!rc)
                rc = meru_cache_insert(t->cache, key, sizeof key, b, blen,
                                       block_free, &h);
            if (rc) {
                free(b);
                return rc;
            }
        }
        const uint8_t *src = meru_cache_value(h);
        memcpy(dst, src + in, k);
        meru_cache_release(t->cache, h);
        dst += k;
        off += k;
        n -= k;
    }
    return MERU_OK;
}
