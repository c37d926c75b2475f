/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_cache.c — file bytes of an SST through the block cache, and decoded
 * pages for point lookups (SPEC §7: "a cache of decoded pages and
 * footers").
 *
 * The file is cut into fixed SST_CACHE_BLOCK-byte blocks; a read gathers
 * the blocks covering its range, each looked up under the key
 * (file's cache id, block number) and read from the file on a miss. The
 * footer, page indexes, bloom filters and hot data pages all end up
 * cached without the Parquet reader knowing: it only sees a pq_source.
 * Blocks are immutable (SSTs never change), so a racing double insert of
 * the same block is harmless.
 *
 * Decoded pages: a get needs one row of a page, and decoding the page
 * (CRC, decompression, value decoding) costs far more than finding the
 * row, so meru_sst_get keeps whole decoded pages in the same cache under
 * (id, row group, column, page index), charged their decoded bytes. The
 * key is longer than a block's, so the two never collide. A page is one
 * allocation (header, values, valid flags, then the bytes of byte-array
 * values unless they lie in the file's map) and immutable once inserted:
 * threads share it through handles. The bytes of a byte-array value
 * column's page that use at most 64 distinct byte values are packed into
 * 1..6-bit codes (sst_page_pack): bench_kv's 100-byte strings of letters
 * are charged 5/8 of their bytes, so ~1.5x as many of their pages stay
 * cached, and a get unpacks the one value it returns. Packing costs ~7
 * instructions a byte on a miss (~28k for a 4 KiB page, against ~52k for
 * its zstd decompression); the misses it saves pay for it when the table
 * is larger than the cache, so pages are packed only once the cache has
 * had to evict (measured in bench/RESULTS.md, "Uniform point reads,
 * page-cache misses").
 *
 * With a mapped file (t->map) no block is ever cached: the Parquet reader
 * reads the map in place.
 *
 * A read with MERU_SST_NO_FILL_CACHE (meru_read_options.fill_cache = 0)
 * takes what the cache has and inserts nothing: a missing block is read
 * straight into the caller's buffer, a missing page makes sst_page_get
 * answer "no page" (the get then reads through a cursor). The flag reaches
 * the block reads through a thread-local set by the get or iterator step.
 * A read that skips page CRCs (MERU_SST_SKIP_CRC) caches no decoded page
 * either.
 */
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "util/endian.h"
#include "util/error.h"

#define SST_CACHE_BLOCK (32u * 1024u)

/* ------------------------------------------- a column's shared codes */

/* A column's codes, taken from the first page of it that was packed, and
 * a table of them for every pair of bytes: later pages of the column
 * (whose alphabet is most often the same) pack two bytes a lookup, ~3
 * instructions a byte instead of ~7. Charged to the cache as an entry
 * held until the file is closed. */
#define PAIR_NEW 0x8000u
/* Bytes of the page whose codes become the column's, at least. */
#define TABLE_MIN_BYTES 1024u

struct sst_pack_table {
    meru_cache_handle *h; /* the entry charging it */
    unsigned bits;
    uint8_t sym[1u << SST_PAGE_MAX_BITS];
    uint16_t pair[65536]; /* bytes b0, b1 (b0 low) -> codes, or PAIR_NEW */
};

static void table_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

static void table_key(const meru_sst *t, uint32_t col, uint8_t key[13])
{
    key[0] = 'T';
    meru_store_le64(key + 1, t->cache_id);
    meru_store_le32(key + 9, col);
}

int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n);
void sst_cache_attach(meru_sst *t);
void sst_cache_detach(meru_sst *t);

void sst_cache_attach(meru_sst *t)
{
    if (t->cache) {
        t->cache_id = meru_cache_new_id(t->cache);
        /* A cache of capacity 0 keeps nothing: decoding whole pages to
         * drop them would cost more than reading the one row. */
        meru_cache_stats st;
        meru_cache_stats_get(t->cache, &st);
        t->page_cache = st.capacity > 0;
        /* columns' shared codes where a table is < 1/64 of the cache;
         * else pages pack on their own */
        t->pack_tables = st.capacity >= 64 * sizeof(sst_pack_table);
    }
}

/* The columns' table slots, allocated on first use; NULL without tables
 * or memory. */
static pack_table_slot *table_slots(meru_sst *t)
{
    pack_table_slot *slots = atomic_load(&t->pack_tabs);
    if (slots || !t->pack_tables)
        return slots;
    size_t nc = pq_reader_num_columns(t->r);
    pack_table_slot *mine = calloc(nc ? nc : 1, sizeof *mine);
    if (!mine)
        return NULL;
    for (size_t i = 0; i < nc; i++)
        atomic_init(&mine[i], NULL);
    if (atomic_compare_exchange_strong(&t->pack_tabs, &slots, mine))
        return mine;
    free(mine); /* another thread's won: slots is it */
    return slots;
}

/* Drops the columns' shared codes (the reader must still be open). */
void sst_cache_detach(meru_sst *t)
{
    pack_table_slot *slots = atomic_load(&t->pack_tabs);
    if (!slots)
        return;
    size_t nc = pq_reader_num_columns(t->r);
    for (size_t i = 0; i < nc; i++) {
        sst_pack_table *tb = atomic_load(&slots[i]);
        if (!tb)
            continue;
        uint8_t key[13];
        table_key(t, (uint32_t)i, key);
        meru_cache_handle *h = tb->h;
        meru_cache_erase(t->cache, key, sizeof key);
        meru_cache_release(t->cache, h); /* frees tb */
    }
    free(slots);
    atomic_store(&t->pack_tabs, NULL);
}

static void block_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

static _Thread_local unsigned tl_flags;

unsigned sst_read_flags_set(unsigned flags)
{
    unsigned old = tl_flags;
    tl_flags = flags;
    return old;
}

void sst_read_flags_restore(unsigned saved)
{
    tl_flags = saved;
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
        if (!h && (tl_flags & MERU_SST_NO_FILL_CACHE)) {
            int rc = meru_file_read_exact(t->file, off, dst, k);
            if (rc)
                return rc;
            dst += k;
            off += k;
            n -= k;
            continue;
        }
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

/* ------------------------------------------------------- decoded pages */

#define PAGE_KEY_LEN 21

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Decodes rows [first, end) of a column of fixed-width values (one page)
 * straight into the page's allocation: the cursor decodes (PLAIN values:
 * decompresses) into it, no copy follows. The allocation is sized for a
 * page without nulls, the common case, and grows by the valid flags when
 * the page has nulls. */
static int page_decode_fixed(meru_sst *t, uint32_t rg, uint32_t col,
                             int64_t first, int64_t end, unsigned flags,
                             sst_page **out, size_t *charge,
                             uint64_t *pages_read)
{
    const pq_column_info *fi = pq_reader_column(t->r, col);
    size_t n = (size_t)(end - first);
    /* the bounds come from the offset index: a lying one is refused
     * before it sizes an allocation */
    if (n > PQ_MAX_BATCH_ROWS)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: a page of %zu rows (offset index)", t->path,
                        n);
    size_t hdr = align8(sizeof(sst_page));
    size_t vals = align8(n * pq_value_width(fi->type));
    uint8_t *base = malloc(hdr + vals);
    if (!base)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    pq_cursor *cur;
    int rc = pq_cursor_open(t->r, rg, col, &cur);
    if (rc) {
        free(base);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    pq_cursor_set_skip_crc(cur, (flags & MERU_SST_SKIP_CRC) != 0);
    pq_batch b;
    rc = pq_cursor_read_page(cur, first, n, base + hdr, &b);
    pq_cursor_stats st;
    pq_cursor_get_stats(cur, &st);
    *pages_read += st.pages_read;
    if (rc) {
        pq_cursor_close(cur);
        free(base);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    size_t total = hdr + vals;
    bool nulls = b.null_count > 0;
    if (nulls) {
        uint8_t *grown = realloc(base, total + align8(n));
        if (!grown) {
            pq_cursor_close(cur);
            free(base);
            return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
        }
        base = grown;
        memcpy(base + total, b.valid, n);
        total += align8(n);
    }
    pq_cursor_close(cur);
    sst_page *p = (sst_page *)(void *)base;
    memset(p, 0, sizeof *p);
    p->first = first;
    p->n = n;
    p->values = base + hdr;
    p->valid = nulls ? base + hdr + vals : NULL;
    *out = p;
    *charge = total;
    return MERU_OK;
}

/* ------------------------------------------- packed byte-array pages */

/* Fewer bytes than this are not worth a packing pass. */
#define PACK_MIN_BYTES 64u

/* Code of byte b in a packing's map: NEW when b has none yet. */
#define PACK_NEW 0xFFu

/* Gives each of the n bytes at `in` without a code the next one; false
 * when more than `cap` codes would be needed. */
static bool pack_codes(const uint8_t *in, size_t n, uint8_t map[256],
                       unsigned *k, unsigned cap)
{
    for (size_t i = 0; i < n; i++)
        if (map[in[i]] == PACK_NEW) {
            if (*k == cap)
                return false;
            map[in[i]] = (uint8_t)(*k)++;
        }
    return true;
}

/* The `groups` groups of 8 bytes at p packed in place (sst_page_pack),
 * codes given to bytes without one as they come; false when more than
 * `cap` codes would be needed. Inlined with a constant width. */
static inline bool pack_groups(uint8_t *p, size_t groups, uint8_t map[256],
                               unsigned bits, unsigned *k, unsigned cap)
{
    size_t out = 0;
    for (size_t g = 0; g < groups; g++) {
        const uint8_t *in = p + g * 8;
        uint64_t w = 0;
        unsigned chk = 0;
        for (unsigned j = 0; j < 8; j++) {
            unsigned m = map[in[j]];
            chk |= m;
            w |= (uint64_t)m << (j * bits);
        }
        if (chk & 0x80u) { /* a byte without a code (codes are < 64) */
            if (!pack_codes(in, 8, map, k, cap))
                return false;
            w = 0;
            for (unsigned j = 0; j < 8; j++)
                w |= (uint64_t)map[in[j]] << (j * bits);
        }
        meru_store_le64(p + out, w);
        out += bits;
    }
    return true;
}

/* sst_page_pack (sst_internal.h). One pass: the first 256 bytes choose
 * the width (their symbols plus at least one spare code), and a byte
 * without a code met later takes a spare one; a page that needs more
 * gives up. Eight bytes make `bits` whole output bytes, written as one
 * 64-bit store at byte g * bits for group g: g * bits + 8 <= 8 * g + 8,
 * so a store never reaches input not yet read, and the region needs no
 * room past n. */
static unsigned pack_page(uint8_t *p, size_t n,
                          uint8_t sym[1u << SST_PAGE_MAX_BITS],
                          uint8_t map[256])
{
    const unsigned most = 1u << SST_PAGE_MAX_BITS;
    memset(map, PACK_NEW, 256);
    unsigned k = 0;
    if (!pack_codes(p, n < 256 ? n : 256, map, &k, most))
        return 0;
    unsigned bits = 1;
    while ((1u << bits) < (k < most ? k + 1 : k))
        bits++;
    unsigned cap = 1u << bits;
    size_t groups = n / 8, out = groups * bits;
    bool ok;
    /* one copy of the loop per width, its shifts constants (~8
     * instructions a byte, ~9 with shifts by a variable) */
    switch (bits) {
    case 1:
        ok = pack_groups(p, groups, map, 1, &k, cap);
        break;
    case 2:
        ok = pack_groups(p, groups, map, 2, &k, cap);
        break;
    case 3:
        ok = pack_groups(p, groups, map, 3, &k, cap);
        break;
    case 4:
        ok = pack_groups(p, groups, map, 4, &k, cap);
        break;
    case 5:
        ok = pack_groups(p, groups, map, 5, &k, cap);
        break;
    default:
        ok = pack_groups(p, groups, map, 6, &k, cap);
        break;
    }
    if (!ok)
        return 0;
    size_t rest = n % 8;
    const uint8_t *in = p + groups * 8;
    if (!pack_codes(in, rest, map, &k, cap))
        return 0;
    uint64_t w = 0;
    for (size_t j = 0; j < rest; j++)
        w |= (uint64_t)map[in[j]] << (j * bits);
    for (size_t j = 0; j * 8 < rest * bits; j++)
        p[out + j] = (uint8_t)(w >> (8 * j));
    memset(sym, 0, most);
    for (unsigned c = 0; c < 256; c++)
        if (map[c] != PACK_NEW)
            sym[map[c]] = (uint8_t)c;
    return bits;
}

unsigned sst_page_pack(uint8_t *p, size_t n,
                       uint8_t sym[1u << SST_PAGE_MAX_BITS])
{
    uint8_t map[256];
    return pack_page(p, n, sym, map);
}

/* Publishes column col's codes from a page's map, unless another thread
 * did first or memory is short (then pages keep packing on their own). */
static void table_publish(meru_sst *t, pack_table_slot *slots,
                          uint32_t col, unsigned bits, const uint8_t map[256],
                          const uint8_t sym[1u << SST_PAGE_MAX_BITS])
{
    sst_pack_table *tb = malloc(sizeof *tb);
    if (!tb)
        return;
    tb->bits = bits;
    memcpy(tb->sym, sym, sizeof tb->sym);
    for (unsigned x = 0; x < 65536; x++) {
        unsigned lo = map[x & 0xff], hi = map[x >> 8];
        tb->pair[x] = lo == PACK_NEW || hi == PACK_NEW
                          ? (uint16_t)PAIR_NEW
                          : (uint16_t)(lo | hi << bits);
    }
    uint8_t key[13];
    table_key(t, col, key);
    if (meru_cache_insert(t->cache, key, sizeof key, tb, sizeof *tb,
                          table_free, &tb->h)) {
        free(tb);
        return;
    }
    sst_pack_table *none = NULL;
    if (!atomic_compare_exchange_strong(&slots[col], &none, tb)) {
        /* another thread's is in: drop ours (the erase unlinks the
         * entry, the release frees it) */
        meru_cache_handle *h = tb->h;
        meru_cache_erase(t->cache, key, sizeof key);
        meru_cache_release(t->cache, h);
    }
}

/* pack_groups with a pair table: four lookups a group of 8 bytes. */
static inline bool pack_pairs(uint8_t *p, size_t groups,
                              const uint16_t *pair, unsigned bits)
{
    size_t out = 0;
    for (size_t g = 0; g < groups; g++) {
        const uint8_t *in = p + g * 8;
        uint64_t a = pair[meru_load_le16(in)];
        uint64_t b = pair[meru_load_le16(in + 2)];
        uint64_t c = pair[meru_load_le16(in + 4)];
        uint64_t d = pair[meru_load_le16(in + 6)];
        if ((a | b | c | d) & PAIR_NEW)
            return false;
        meru_store_le64(p + out, a | b << (2 * bits) | c << (4 * bits) |
                                     d << (6 * bits));
        out += bits;
    }
    return true;
}

/* Packs the n bytes at p in place with the column's codes (the layout of
 * sst_page_pack); false when a byte has no code (p's bytes are then
 * partly overwritten). */
static bool pack_with_table(uint8_t *p, size_t n, const sst_pack_table *tb)
{
    size_t groups = n / 8;
    unsigned bits = tb->bits;
    bool ok;
    switch (bits) {
    case 1:
        ok = pack_pairs(p, groups, tb->pair, 1);
        break;
    case 2:
        ok = pack_pairs(p, groups, tb->pair, 2);
        break;
    case 3:
        ok = pack_pairs(p, groups, tb->pair, 3);
        break;
    case 4:
        ok = pack_pairs(p, groups, tb->pair, 4);
        break;
    case 5:
        ok = pack_pairs(p, groups, tb->pair, 5);
        break;
    default:
        ok = pack_pairs(p, groups, tb->pair, 6);
        break;
    }
    if (!ok)
        return false;
    /* the last n % 8 bytes: a byte's code is the low bits of its pair
     * with itself */
    size_t rest = n % 8, out = groups * bits;
    const uint8_t *in = p + groups * 8;
    uint64_t w = 0, mask = ((uint64_t)1 << bits) - 1;
    for (size_t j = 0; j < rest; j++) {
        unsigned m = tb->pair[in[j] | (unsigned)in[j] << 8];
        if (m & PAIR_NEW)
            return false;
        w |= (uint64_t)(m & mask) << (j * bits);
    }
    for (size_t j = 0; j * 8 < rest * bits; j++)
        p[out + j] = (uint8_t)(w >> (8 * j));
    return true;
}

/* Packs a page's n bytes at d (sst_page_pack's layout, codes in sym):
 * with column col's shared codes when it has them and they cover the
 * page, else on its own (publishing its codes as the column's when the
 * column has none yet). The bytes come back from the page's values when
 * a try fails. Returns the width, or 0: d holds the bytes as they are. */
static unsigned pack_column_page(meru_sst *t, uint32_t col, uint8_t *d,
                                 size_t data, const pq_bytes *src,
                                 const uint32_t *offs, size_t n,
                                 uint8_t sym[1u << SST_PAGE_MAX_BITS])
{
    pack_table_slot *slots = table_slots(t);
    sst_pack_table *tb = slots ? atomic_load(&slots[col]) : NULL;
    if (tb) {
        if (pack_with_table(d, data, tb)) {
            memcpy(sym, tb->sym, sizeof tb->sym);
            return tb->bits;
        }
        for (size_t i = 0; i < n; i++)
            if (src[i].len)
                memcpy(d + offs[i], src[i].ptr, src[i].len);
    }
    uint8_t map[256];
    unsigned bits = pack_page(d, data, sym, map);
    /* a short page (a row group's last) may lack symbols the column
     * uses: the shared codes come from a page of some length */
    if (bits && !tb && slots && data >= TABLE_MIN_BYTES)
        table_publish(t, slots, col, bits, map, sym);
    if (!bits)
        for (size_t i = 0; i < n; i++)
            if (src[i].len)
                memcpy(d + offs[i], src[i].ptr, src[i].len);
    return bits;
}

/* len codes of `bits` bits from bit pos of `bytes` to dst through sym.
 * One 64-bit load gives 57 bits past the byte's start: 57 / bits codes.
 * Inlined with a constant width. */
static inline void unpack_codes(const uint8_t *bytes, uint64_t pos, size_t len,
                                const uint8_t *sym, unsigned bits,
                                uint8_t *dst)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    const size_t per = 57 / bits;
    for (size_t j = 0; j < len;) {
        /* the padding keeps the word of the last code inside the page */
        uint64_t w = meru_load_le64(bytes + (pos >> 3)) >> (pos & 7);
        size_t m = len - j < per ? len - j : per;
        for (size_t k = 0; k < m; k++, w >>= bits)
            dst[j + k] = sym[w & mask];
        j += m;
        pos += m * bits;
    }
}

void sst_page_unpack(const sst_page *p, size_t at, uint8_t *dst)
{
    uint64_t pos = (uint64_t)p->offs[at] * p->bits;
    size_t len = sst_page_len(p, at);
    switch (p->bits) {
    case 1:
        unpack_codes(p->bytes, pos, len, p->sym, 1, dst);
        break;
    case 2:
        unpack_codes(p->bytes, pos, len, p->sym, 2, dst);
        break;
    case 3:
        unpack_codes(p->bytes, pos, len, p->sym, 3, dst);
        break;
    case 4:
        unpack_codes(p->bytes, pos, len, p->sym, 4, dst);
        break;
    case 5:
        unpack_codes(p->bytes, pos, len, p->sym, 5, dst);
        break;
    default:
        unpack_codes(p->bytes, pos, len, p->sym, 6, dst);
        break;
    }
}

/* Decodes rows [first, end) of column `col` of row group `rg` (one page)
 * into one allocation: byte arrays through a batch of the cursor, copied
 * (or pointing into the map; packed when `pack` and their bytes allow),
 * numbers by page_decode_fixed. */
static int page_decode(meru_sst *t, uint32_t rg, uint32_t col, int64_t first,
                       int64_t end, unsigned flags, bool pack, sst_page **out,
                       size_t *charge, uint64_t *pages_read)
{
    const pq_column_info *fi = pq_reader_column(t->r, col);
    size_t w = pq_value_width(fi->type);
    bool bytes =
        fi->type == PQ_BYTE_ARRAY || fi->type == PQ_FIXED_LEN_BYTE_ARRAY;
    if (!bytes)
        return page_decode_fixed(t, rg, col, first, end, flags, out, charge,
                                 pages_read);
    size_t n = (size_t)(end - first);
    pq_cursor *cur;
    int rc = pq_cursor_open(t->r, rg, col, &cur);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    pq_cursor_set_skip_crc(cur, (flags & MERU_SST_SKIP_CRC) != 0);
    pq_batch b;
    rc = pq_cursor_seek(cur, first);
    if (!rc)
        rc = pq_cursor_next(cur, n, &b);
    if (!rc && b.n != n)
        rc = meru_err(MERU_ECORRUPT, "column %s ends early in row group %u",
                      fi->name ? fi->name : "?", rg);
    pq_cursor_stats st;
    pq_cursor_get_stats(cur, &st);
    *pages_read += st.pages_read;
    if (rc) {
        pq_cursor_close(cur);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    /* Byte-array values of an uncompressed page of a mapped file point
     * into the map, which outlives every use of the page (the page is only
     * found through this file's cache id): such bytes are not copied. */
    size_t data = 0;
    bool in_map = bytes && t->map;
    if (bytes) {
        const pq_bytes *v = b.values;
        /* (no arithmetic on a NULL map: undefined behaviour) */
        const uint8_t *lo = t->map, *hi = in_map ? t->map + t->file_size : NULL;
        for (size_t i = 0; i < n; i++) {
            data += v[i].len;
            if (in_map && v[i].len &&
                !(v[i].ptr >= lo && v[i].ptr <= hi &&
                  (size_t)(hi - v[i].ptr) >= v[i].len))
                in_map = false;
        }
        if (in_map)
            data = 0;
    }
    /* Copied bytes of a value column go compact (offsets + bytes); the
     * ikey column keeps pq_bytes (find_ikey searches them in place). A
     * page's bytes fit 32-bit offsets (a Parquet page is < 2 GiB
     * uncompressed); the guard only keeps a hostile sum from wrapping. */
    bool compact = bytes && !in_map && (int)col != t->col_ikey &&
                   data <= UINT32_MAX;
    bool nulls = n && memchr(b.valid, 0, n) != NULL;
    size_t hdr = align8(sizeof(sst_page));
    size_t vals = compact ? align8((n + 1) * sizeof(uint32_t)) : align8(n * w);
    size_t flags_bytes = nulls ? align8(n) : 0;
    /* a compact page that may be packed: room for its symbol table, and
     * padding after the bytes for sst_page_unpack's word loads */
    bool packable = pack && compact && data >= PACK_MIN_BYTES;
    size_t sym_bytes = packable ? (1u << SST_PAGE_MAX_BITS) : 0;
    size_t pad = packable ? SST_PAGE_PACK_PAD : 0;
    size_t total = hdr + vals + flags_bytes + sym_bytes + data + pad;
    uint8_t *base = malloc(total);
    if (!base) {
        pq_cursor_close(cur);
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    }
    sst_page *p = (sst_page *)(void *)base;
    memset(p, 0, sizeof *p);
    uint8_t *pv = base + hdr, *valid = pv + vals;
    uint8_t *sym = valid + flags_bytes, *d = sym + sym_bytes;
    if (nulls)
        memcpy(valid, b.valid, n);
    if (compact) {
        uint32_t *offs = (uint32_t *)(void *)pv;
        const pq_bytes *src = b.values;
        uint32_t at = 0;
        for (size_t i = 0; i < n; i++) {
            offs[i] = at;
            if (src[i].len)
                memcpy(d + at, src[i].ptr, src[i].len);
            at += src[i].len;
        }
        offs[n] = at;
        p->offs = offs;
        p->bytes = d;
        unsigned bits = packable ? pack_column_page(t, col, d, data, src,
                                                    offs, n, sym)
                                 : 0;
        if (bits) {
            size_t packed = (data * bits + 7) / 8;
            memset(d + packed, 0, pad);
            total = hdr + vals + flags_bytes + sym_bytes + packed + pad;
            /* shrinking keeps the block where it is (glibc splits it);
             * should it move, the pointers are set from the new base */
            uint8_t *shrunk = realloc(base, total);
            if (shrunk && shrunk != base) {
                base = shrunk;
                p = (sst_page *)(void *)base;
                pv = base + hdr;
                valid = pv + vals;
                sym = valid + flags_bytes;
                p->offs = (const uint32_t *)(void *)pv;
                p->bytes = sym + sym_bytes;
            } else if (!shrunk) {
                total = hdr + vals + flags_bytes + sym_bytes + data + pad;
            }
            p->sym = sym;
            p->bits = bits;
        } else if (packable) {
            memset(d + data, 0, pad);
        }
    } else if (in_map) {
        memcpy(pv, b.values, n * w);
    } else {
        pq_bytes *dst = (pq_bytes *)(void *)pv;
        const pq_bytes *src = b.values;
        for (size_t i = 0; i < n; i++) {
            dst[i].len = src[i].len;
            dst[i].ptr = d;
            if (src[i].len)
                memcpy(d, src[i].ptr, src[i].len);
            d += src[i].len;
        }
    }
    pq_cursor_close(cur);
    p->first = first;
    p->n = n;
    p->values = compact ? NULL : pv;
    p->valid = nulls ? valid : NULL;
    *out = p;
    *charge = total;
    return MERU_OK;
}

static void page_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

int sst_page_get(meru_sst *t, uint32_t rg, uint32_t col, int64_t row,
                 unsigned flags, const sst_page **page, meru_cache_handle **h,
                 uint64_t *pages_read)
{
    *page = NULL;
    *h = NULL;
    if (!t->page_cache)
        return MERU_OK;
    const pq_offset_index *oi;
    int rc = pq_reader_offset_index(t->r, rg, col, &oi);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    if (!oi || oi->n_pages == 0)
        return MERU_OK;
    int64_t rows = t->rg_start[rg + 1] - t->rg_start[rg];
    uint32_t lo = 0, hi = oi->n_pages; /* last page starting at or before */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (oi->page_locations[mid].first_row_index <= row)
            lo = mid;
        else
            hi = mid;
    }
    int64_t first = oi->page_locations[lo].first_row_index;
    int64_t end = lo + 1 < oi->n_pages
                      ? oi->page_locations[lo + 1].first_row_index
                      : rows;
    if (first < 0 || first > row || end <= row || end > rows)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: offset index of column %u does not cover "
                        "row %lld of row group %u",
                        t->path, col, (long long)row, rg);
    uint8_t key[PAGE_KEY_LEN];
    key[0] = 'P';
    meru_store_le64(key + 1, t->cache_id);
    meru_store_le32(key + 9, rg);
    meru_store_le32(key + 13, col);
    meru_store_le32(key + 17, lo);
    meru_cache_handle *ch = meru_cache_lookup(t->cache, key, sizeof key);
    /* Not cached, and not to be: read by cursor. A page decoded without
     * its CRC check is never cached either, so a later read that checks
     * CRCs cannot be served an unchecked page. */
    if (!ch && (flags & (MERU_SST_NO_FILL_CACHE | MERU_SST_SKIP_CRC)))
        return MERU_OK;
    if (!ch) {
        sst_page *p = NULL;
        size_t charge = 0;
        /* Packing a page pays only when it keeps another page cached:
         * not before the cache (the key's shard) first has to evict.
         * Gets on a cold cache, such as the first ones after an open,
         * store pages as they are and pay nothing for it. */
        bool pack = meru_cache_filled(t->cache,
                                      meru_cache_hash(key, sizeof key));
        rc = page_decode(t, rg, col, first, end, flags, pack, &p, &charge,
                         pages_read);
        if (rc)
            return rc;
        /* Two threads may decode the same page at once: the later insert
         * replaces an identical value, which is harmless. */
        rc = meru_cache_insert(t->cache, key, sizeof key, p, charge,
                               page_free, &ch);
        if (rc) {
            free(p);
            return rc;
        }
    }
    *page = meru_cache_value(ch);
    *h = ch;
    return MERU_OK;
}
