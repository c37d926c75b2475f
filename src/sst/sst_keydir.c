/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_keydir.c — building the key directory of an L1+ file, its memory
 * budget, and searching it (sst_keydir.h).
 *
 * Why: a point get and a flush's lookup of older versions both need "the
 * first row whose internal key is >= K". Through the pages that means
 * decompressing, CRC-checking and DELTA_BYTE_ARRAY-decoding a whole
 * _merutable_ikey page per key (or per page touched), ~33 MB decoded per
 * million keys when cached. The directory answers it from 9 or 13 bytes
 * per row held in memory: 4 or 8 bytes of the key after the file's shared
 * prefix (4 when every key fits in 4 there: integer keys of a file
 * spanning less than 2^32 values, short strings), a length class and op
 * (1), the sequence (4, as an offset from the file's smallest; 8 when the
 * file's span does not fit). Keys that fit are answered without any page;
 * longer ones (long strings, wide composite keys) are answered without a
 * page when absent and read one ikey page when their 8 bytes match.
 *
 * Budget: every directory is charged to the page cache (the meru_cache
 * the file reads through) as pinned entries of at most KD_TOKEN bytes, so
 * the directories and the pages together stay within cache_bytes; the
 * directories' total is capped by the budget (the engine gives them 3/4
 * of the cache, so pages keep at least a quarter). A file whose directory
 * does not fit is read through its pages, as are L0 files (short-lived:
 * a build costs about one pass over their pages, which a lookup of many
 * keys costs anyway). The charge is returned when the file is closed.
 *
 * Build: one cursor pass per row group over the key, sequence and op
 * columns when the key is a single integer column (a few bits a row to
 * decode: ~60 instructions a row for 1M int64 keys, against ~540 for the
 * ikey pass), else over _merutable_ikey; the file is hostile input, so
 * keys must parse, ascend strictly, share the prefix of the footer's key
 * range and carry sequences within the footer's range.
 * A failed build leaves the file on its pages for good (they report the
 * damage where a read meets it).
 *
 * An integer key's row groups are built independently, each claimed by
 * the first thread to need it (the engine's builder, a get of a key in
 * it, a batched lookup): a get then waits for its row group at most, not
 * the whole file (sst_keydir.h; the section "integer keys, by row
 * group" below).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sst/sst_keydir.h"
#include "types/keycodec.h"
#include "util/endian.h"
#include "util/error.h"

#define KD_TOKEN (64u << 10)
#define KD_BATCH 4096

/* kd_state: KD_PART once t->kd_part is published (integer keys) and its
 * row groups are under way. */
enum { KD_NONE, KD_BUILDING, KD_READY, KD_FAILED, KD_PART };

void meru_sst_keydir_budget_init(meru_sst_keydir_budget *b,
                                 meru_cache *charge_to, uint64_t capacity)
{
    b->charge_to = charge_to;
    b->capacity = capacity;
    atomic_init(&b->used, 0);
    atomic_init(&b->built, 0);
    atomic_init(&b->waits, 0);
    atomic_init(&b->page_gets, 0);
}

uint64_t meru_sst_keydir_budget_used(const meru_sst_keydir_budget *b)
{
    return atomic_load_explicit(&b->used, memory_order_relaxed);
}

static bool budget_take(meru_sst_keydir_budget *b, uint64_t n)
{
    uint64_t u = atomic_load_explicit(&b->used, memory_order_relaxed);
    do {
        if (n > b->capacity || u > b->capacity - n)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(
        &b->used, &u, u + n, memory_order_relaxed, memory_order_relaxed));
    return true;
}

/* Whether n bytes fit now (no reservation): lets a get with no room go
 * to the pages without claiming a build it would give up at once (the
 * claim and its release wake every waiter through one process-wide lock). */
static bool budget_room(const meru_sst_keydir_budget *b, uint64_t n)
{
    uint64_t u = atomic_load_explicit(&b->used, memory_order_relaxed);
    return n <= b->capacity && u <= b->capacity - n;
}

static void budget_give(meru_sst_keydir_budget *b, uint64_t n)
{
    atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
}

uint64_t meru_sst_keydir_bytes(const meru_sst *t)
{
    const sst_keydir *d =
        t ? atomic_load_explicit(&t->kd, memory_order_acquire) : NULL;
    return d ? d->bytes : 0;
}

/* Bytes of a directory of `rows` rows (0 when it cannot be allocated). */
static uint64_t kd_size(uint64_t rows, bool wide)
{
    uint64_t per = 8 + 1 + (wide ? 8 : 4);
    if (rows > (UINT64_MAX - sizeof(sst_keydir)) / per / 2)
        return 0;
    return sizeof(sst_keydir) + rows * per;
}

static void token_key(const sst_keydir *d, uint64_t i, uint8_t key[17])
{
    meru_store_le64(key, d->charge_id);
    key[8] = 'K';
    meru_store_le64(key + 9, i);
}

static void kd_free(sst_keydir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntokens; i++) {
        uint8_t key[17];
        token_key(d, i, key);
        meru_cache_erase(d->charge_to, key, sizeof key);
        meru_cache_release(d->charge_to, d->tokens[i]);
    }
    free(d->tokens);
    free(d->pfx);
    free(d->pfx32);
    free(d->meta);
    free(d->seq32);
    free(d->seq64);
    free(d->rg_state);
    free(d);
}

/* Pins d->bytes of the page cache as entries of at most KD_TOKEN bytes:
 * small enough to spread evenly over the cache's shards (each keeps at
 * least 512 KiB), so no shard is left without room for pages. */
static int kd_charge(meru_sst *t, sst_keydir *d)
{
    meru_cache *c = t->kd_budget->charge_to;
    if (!c)
        return MERU_OK;
    size_t n = (size_t)((d->bytes + KD_TOKEN - 1) / KD_TOKEN);
    d->tokens = calloc(n ? n : 1, sizeof *d->tokens);
    if (!d->tokens)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    d->charge_to = c;
    d->charge_id = meru_cache_new_id(c);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[17];
        uint64_t left = d->bytes - (uint64_t)i * KD_TOKEN;
        token_key(d, i, key);
        int rc = meru_cache_insert(c, key, sizeof key, NULL,
                                   left < KD_TOKEN ? left : KD_TOKEN, NULL,
                                   &d->tokens[i]);
        if (rc)
            return rc;
        d->ntokens++;
    }
    return MERU_OK;
}

static size_t common_prefix(const meru_buf *a, const meru_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    while (i < n && a->data[i] == b->data[i])
        i++;
    return i;
}

/* Projection of the n bytes r after the shared prefix, `width` wide. */
static sst_kdkey project_rest(const uint8_t *r, size_t n, unsigned width)
{
    sst_kdkey k;
    if (n >= SST_KD_PREFIX) {
        k.p = meru_load_be64(r);
    } else {
        uint8_t b[SST_KD_PREFIX] = {0};
        if (n)
            memcpy(b, r, n);
        k.p = meru_load_be64(b);
    }
    if (width < SST_KD_PREFIX)
        k.p >>= 8 * (SST_KD_PREFIX - width);
    k.c = (uint8_t)(n > width ? width + 1 : n);
    return k;
}

bool sst_keydir_project(const sst_keydir *d, const uint8_t *ukey, size_t len,
                        sst_kdkey *out)
{
    if (len < d->lcp || (d->lcp && memcmp(ukey, d->prefix, d->lcp) != 0))
        return false;
    *out = project_rest(ukey + d->lcp, len - d->lcp, d->width);
    return true;
}

/* The first row in [lo, hi) whose key is >= k (hi when none); rows below
 * lo are < k. */
uint64_t sst_keydir_lower_in(const sst_keydir *d, uint64_t lo, uint64_t hi,
                             sst_kdkey k)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (sst_kd_cmp(d, mid, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t sst_keydir_lower(const sst_keydir *d, uint64_t from, sst_kdkey k)
{
    uint64_t n = d->rows, lo = from, hi = from + 1, step = 1;
    /* Gallop: rows[lo - 1] < k (or lo == from), then binary search. */
    while (hi <= n && sst_kd_cmp(d, hi - 1, k) < 0) {
        lo = hi;
        hi = step < n - hi ? hi + step : n + 1;
        step *= 2;
    }
    return sst_keydir_lower_in(d, lo, hi > n ? n : hi, k);
}

uint64_t sst_keydir_search(const sst_keydir *d, sst_kdkey k)
{
    return sst_keydir_lower_in(d, 0, d->rows, k);
}

/* ------------------------------------------------------------ building */

static int kd_bad(const meru_sst *t, uint64_t row, const char *what)
{
    return meru_err(MERU_ECORRUPT, "SST %s: %s at row %llu", t->path, what,
                    (unsigned long long)row);
}

/* Enters row `row` with internal key ik (prev, plen: the row before's). */
static int kd_row(meru_sst *t, sst_keydir *d, uint64_t row, const pq_bytes *ik,
                  const uint8_t *prev, size_t plen)
{
    size_t ulen;
    uint64_t seq;
    int op;
    sst_kdkey k;
    if (meru_ikey_parse(ik->ptr, ik->len, &ulen, &seq, &op) ||
        (op != MERU_OP_PUT && op != MERU_OP_DELETE))
        return kd_bad(t, row, "bad internal key");
    if (row > 0 && meru_ikey_cmp(prev, plen, ik->ptr, ik->len) >= 0)
        return kd_bad(t, row, "internal keys out of order");
    if (seq < t->min_seq || seq > t->max_seq)
        return kd_bad(t, row, "sequence outside the footer's range");
    if (!sst_keydir_project(d, ik->ptr, ulen, &k))
        return kd_bad(t, row, "key outside the footer's range");
    d->pfx[row] = k.p;
    d->meta[row] = (uint8_t)(k.c | (op == MERU_OP_PUT ? SST_KD_PUT : 0));
    if (k.c > d->max_class)
        d->max_class = k.c;
    if (d->seq32)
        d->seq32[row] = (uint32_t)(seq - d->seq_base);
    else
        d->seq64[row] = seq;
    return MERU_OK;
}

/* Fills d from the rows of row group rg (rows d->rows-so-far on). */
static int kd_fill_rg(meru_sst *t, sst_keydir *d, uint32_t rg, meru_buf *prev,
                      uint64_t *pages)
{
    pq_cursor *cur = NULL;
    int64_t rows = sst_rg_rows(t, rg), done = 0;
    uint64_t row = (uint64_t)t->rg_start[rg];
    int rc = pq_cursor_open(t->r, rg, (uint32_t)t->col_ikey, &cur);
    while (rc == MERU_OK && done < rows) {
        pq_batch b;
        size_t want = rows - done < KD_BATCH ? (size_t)(rows - done) : KD_BATCH;
        rc = pq_cursor_next(cur, want, &b);
        if (rc)
            break;
        if (b.n == 0 || b.n > want) {
            rc = kd_bad(t, row, MERU_SST_COL_IKEY " ends early");
            break;
        }
        /* The batch's keys stay valid until the next batch: each row is
         * checked against the one before in place, and only a batch's
         * last key is copied, for the next batch's first. */
        const pq_bytes *v = b.values;
        for (size_t i = 0; rc == MERU_OK && i < b.n; i++, row++)
            rc = i ? kd_row(t, d, row, &v[i], v[i - 1].ptr, v[i - 1].len)
                   : kd_row(t, d, row, &v[i], prev->data, prev->len);
        if (rc == MERU_OK) {
            meru_buf_reset(prev);
            rc = meru_buf_append(prev, v[b.n - 1].ptr, v[b.n - 1].len);
        }
        done += (int64_t)b.n;
    }
    if (cur) {
        pq_cursor_stats st;
        pq_cursor_get_stats(cur, &st);
        *pages += st.pages_read;
        pq_cursor_close(cur);
    }
    meru_sst_release_row_group(t, rg); /* see kd_fill_rg_int */
    return rc ? meru_err_wrap(sst_read_rc(rc), "SST %s", t->path) : MERU_OK;
}

/* ------------------------------------------- building from a key column
 *
 * A table whose key is one integer column (INT32/DATE: 4 bytes; INT64 and
 * the timestamps: 8) stores that column beside _merutable_ikey, and with
 * _merutable_seq and _merutable_op it holds everything a directory entry
 * needs. Those three are DELTA_BINARY_PACKED integers of a few bits a row
 * in L1+ files, where the ikey column is ~17-byte keys under
 * DELTA_BYTE_ARRAY (about ten times the bytes to decompress, and a
 * prefix copy per key): a build from them costs a fraction of the ikey
 * pass. The encoded key is the integer's big-endian bytes with the sign
 * bit flipped (keycodec.h), so its projection is a shift. The checks are
 * those of the ikey pass on the same facts: keys (then sequences,
 * descending) strictly ascending, the shared prefix, sequences in the
 * footer's range, ops PUT or DELETE, no nulls, every column as long as
 * the row group. */

/* The file column of a single integer key and its encoded width (4 or
 * 8), or -1 when the key is anything else (the ikey pass builds). */
static int kd_int_key(const meru_sst *t, unsigned *width)
{
    const meru_schema *s = t->schema;
    if (s->nkey != 1)
        return -1;
    int col = s->key_cols[0];
    pq_type want;
    switch (s->cols[col].type) {
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        *width = 4;
        want = PQ_INT32;
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        *width = 8;
        want = PQ_INT64;
        break;
    default:
        return -1;
    }
    int pc = t->pcol[col];
    if (pc < 0 || pq_reader_column(t->r, (uint32_t)pc)->type != want ||
        t->smallest.len != *width || t->largest.len != *width)
        return -1;
    return pc;
}

typedef struct kd_int_state {
    bool any;     /* a row was entered */
    uint64_t key; /* the last row's encoded key */
    uint64_t seq; /* ... and sequence */
    uint64_t pfx; /* the shared prefix, as the key's high bytes */
    unsigned shift;  /* 8 * (width - lcp): bits of the key past it */
    unsigned kwidth; /* 4 or 8 */
} kd_int_state;

/* Enters rows [row, row + n) from one batch of each column, checking
 * each row in turn (kd_int_rows' slow path: it names the first bad row). */
static int kd_int_check(meru_sst *t, sst_keydir *d, kd_int_state *st,
                       uint64_t row, size_t n, const void *keys,
                       const int64_t *seqs, const int32_t *ops)
{
    const int64_t *k64 = keys;
    const int32_t *k32 = keys;
    uint8_t cls = (uint8_t)(st->kwidth - d->lcp);
    for (size_t i = 0; i < n; i++, row++) {
        uint64_t u = st->kwidth == 8
                         ? (uint64_t)k64[i] ^ UINT64_C(0x8000000000000000)
                         : (uint64_t)((uint32_t)k32[i] ^ UINT32_C(0x80000000));
        uint64_t seq = (uint64_t)seqs[i];
        int32_t op = ops[i];
        if (op != MERU_OP_PUT && op != MERU_OP_DELETE)
            return kd_bad(t, row, "bad op");
        if (seq < t->min_seq || seq > t->max_seq)
            return kd_bad(t, row, "sequence outside the footer's range");
        if (st->any && (u < st->key || (u == st->key && seq >= st->seq)))
            return kd_bad(t, row, "internal keys out of order");
        if (st->shift < 64 ? (u >> st->shift) != st->pfx : false)
            return kd_bad(t, row, "key outside the footer's range");
        st->any = true;
        st->key = u;
        st->seq = seq;
        /* The bytes past the prefix, left-aligned in 8 (zero-padded);
         * the high 4 of them when they fit there (kd_alloc_int). */
        uint64_t p = st->shift ? u << (64 - st->shift) : 0;
        if (d->pfx32)
            d->pfx32[row] = (uint32_t)(p >> 32);
        else
            d->pfx[row] = p;
        d->meta[row] = (uint8_t)(cls | (op == MERU_OP_PUT ? SST_KD_PUT : 0));
        if (d->seq32)
            d->seq32[row] = (uint32_t)(seq - d->seq_base);
        else
            d->seq64[row] = seq;
    }
    return MERU_OK;
}

#define KD_INLINE inline __attribute__((always_inline))

/* The rows of one batch, the checks of kd_int_check folded into one flag
 * (no branch a row) and the state and d's arrays in locals: stores through
 * the uint8_t meta array may alias anything, so otherwise the compiler
 * reloads every pointer and the state each row (~50 instructions a row,
 * against ~30 here). k8, p32, s32 are constants at each call (key width
 * 8, 4-byte projections, 32-bit sequences), so each form compiles to a
 * loop of its own. The shared prefix is checked on the batch's first and
 * last keys only: the order check makes the keys between them ascend, so
 * they share it too. Ops are entered as op << 4 (SST_KD_PUT: op 1 is a put, 0 a delete). Needs shift >= 1
 * (kd_int_rows). Returns nonzero when some row is bad (then the batch is
 * walked again by kd_int_check). */
static KD_INLINE uint64_t kd_int_fill(sst_keydir *d, kd_int_state *st,
                                      uint64_t row, size_t n, const void *keys,
                                      const int64_t *seqs, const int32_t *ops,
                                      uint64_t lo, uint64_t span, bool k8,
                                      bool p32, bool s32)
{
    const int64_t *k64 = keys;
    const int32_t *k32 = keys;
    uint64_t *pf = p32 ? NULL : d->pfx + row;
    uint32_t *pf32 = p32 ? d->pfx32 + row : NULL;
    uint8_t *meta = d->meta + row;
    uint32_t *sq32 = s32 ? d->seq32 + row : NULL;
    uint64_t *sq64 = s32 ? NULL : d->seq64 + row;
    /* lo is d->seq_base (t->min_seq): one subtraction for the range
     * check and the 32-bit entry. */
    const unsigned pl = 64 - st->shift; /* the prefix's bits, shifted out */
    const uint8_t cls = (uint8_t)(st->kwidth - d->lcp);
    /* Before the first row: a key below all and a sequence no row can
     * have (sequences are < 2^56), so the first row passes the order. */
    uint64_t key = st->any ? st->key : 0;
    uint64_t prev = st->any ? st->seq : UINT64_MAX;
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = k8 ? (uint64_t)k64[i] ^ UINT64_C(0x8000000000000000)
                        : (uint64_t)((uint32_t)k32[i] ^ UINT32_C(0x80000000));
        uint64_t seq = (uint64_t)seqs[i];
        uint32_t op = (uint32_t)ops[i];
        uint64_t rel = seq - lo;
        bad |= (uint64_t)(op & ~1u) | (uint64_t)(rel > span) |
               (uint64_t)(u < key) | (uint64_t)((u == key) & (seq >= prev));
        key = u;
        prev = seq;
        uint64_t p = u << pl;
        if (p32)
            pf32[i] = (uint32_t)(p >> 32);
        else
            pf[i] = p;
        meta[i] = (uint8_t)(op << 4 | cls);
        if (s32)
            sq32[i] = (uint32_t)rel;
        else
            sq64[i] = seq;
    }
    if (n == 0)
        return 0;
    uint64_t first = k8 ? (uint64_t)k64[0] ^ UINT64_C(0x8000000000000000)
                        : (uint64_t)((uint32_t)k32[0] ^ UINT32_C(0x80000000));
    if (st->shift < 64)
        bad |= ((first >> st->shift) ^ st->pfx) | ((key >> st->shift) ^ st->pfx);
    st->any = true;
    st->key = key;
    st->seq = prev;
    return bad;
}

/* Enters rows [row, row + n) from one batch of each column. Not inlined
 * into the pass: there its loops' invariants were spilled to the stack
 * (~10 reloads a row). */
static __attribute__((noinline)) int kd_int_rows(meru_sst *t, sst_keydir *d, kd_int_state *st,
                       uint64_t row, size_t n, const void *keys,
                       const int64_t *seqs, const int32_t *ops)
{
    if (st->shift == 0) /* every key is the prefix: rare, and slow */
        return kd_int_check(t, d, st, row, n, keys, seqs, ops);
    kd_int_state before = *st;
    uint64_t lo = t->min_seq, span = t->max_seq - t->min_seq, bad;
    bool k8 = st->kwidth == 8, p32 = d->pfx32 != NULL, s32 = d->seq32 != NULL;
#define KD_FILL(K8, P32, S32)                                                  \
    kd_int_fill(d, st, row, n, keys, seqs, ops, lo, span, K8, P32, S32)
    if (k8)
        bad = p32 ? (s32 ? KD_FILL(true, true, true)
                         : KD_FILL(true, true, false))
                  : (s32 ? KD_FILL(true, false, true)
                         : KD_FILL(true, false, false));
    else
        bad = p32 ? (s32 ? KD_FILL(false, true, true)
                         : KD_FILL(false, true, false))
                  : (s32 ? KD_FILL(false, false, true)
                         : KD_FILL(false, false, false));
#undef KD_FILL
    if (!bad)
        return MERU_OK;
    *st = before;
    return kd_int_check(t, d, st, row, n, keys, seqs, ops);
}

/* One batch of `want` rows of a cursor: exactly that many, no nulls. */
static int kd_int_next(meru_sst *t, pq_cursor *c, size_t want, uint64_t row,
                       const void **vals)
{
    pq_batch b;
    int rc = pq_cursor_next(c, want, &b);
    if (rc)
        return rc;
    if (b.n != want || b.null_count)
        return kd_bad(t, row, "key, sequence or op column too short or null");
    *vals = b.values;
    return MERU_OK;
}

/* Fills d from row group rg's key, sequence and op columns. */
static int kd_fill_rg_int(meru_sst *t, sst_keydir *d, kd_int_state *st,
                          int kcol, uint32_t rg, uint64_t *pages)
{
    pq_cursor *cur[3] = {NULL, NULL, NULL};
    const int cols[3] = {kcol, t->col_seq, t->col_op};
    int64_t rows = sst_rg_rows(t, rg), done = 0;
    uint64_t row = (uint64_t)t->rg_start[rg];
    int rc = MERU_OK;
    for (int i = 0; rc == MERU_OK && i < 3; i++)
        rc = pq_cursor_open(t->r, rg, (uint32_t)cols[i], &cur[i]);
    while (rc == MERU_OK && done < rows) {
        size_t want = rows - done < KD_BATCH ? (size_t)(rows - done) : KD_BATCH;
        const void *v[3];
        for (int i = 0; rc == MERU_OK && i < 3; i++)
            rc = kd_int_next(t, cur[i], want, row, &v[i]);
        if (rc == MERU_OK)
            rc = kd_int_rows(t, d, st, row, want, v[0], v[1], v[2]);
        row += want;
        done += (int64_t)want;
    }
    for (int i = 0; i < 3; i++) {
        if (!cur[i])
            continue;
        pq_cursor_stats cs;
        pq_cursor_get_stats(cur[i], &cs);
        *pages += cs.pages_read;
        pq_cursor_close(cur[i]);
    }
    /* The pass read the row group's key columns through the map (when
     * mapped): it needs them no more, and gets read pages through the
     * file (sst_cache.c), so left mapped they would only sit in the RSS
     * (test_sst_mmap's 1.6 MB file: ~190 KiB). One madvise a row group. */
    meru_sst_release_row_group(t, rg);
    return rc ? meru_err_wrap(sst_read_rc(rc), "SST %s", t->path) : MERU_OK;
}

/* Every key has at most 4 bytes past the shared prefix (integer keys of
 * a file spanning less than 2^32 values, short strings): 4-byte entries
 * tell them apart just as well. Classes stay (they are lengths <= 4). */
static void kd_narrow(sst_keydir *d)
{
    uint32_t *p32 = malloc((size_t)d->rows * sizeof *p32);
    if (!p32)
        return; /* keep the wide form */
    for (uint64_t i = 0; i < d->rows; i++)
        p32[i] = (uint32_t)(d->pfx[i] >> 32);
    free(d->pfx);
    d->pfx = NULL;
    d->pfx32 = p32;
    d->width = 4;
    d->bytes -= 4 * d->rows;
}

void (*sst_keydir_test_hook)(meru_sst *t, uint32_t rg);

static bool kd_cancel_set(const atomic_bool *cancel)
{
    return cancel && atomic_load_explicit(cancel, memory_order_relaxed);
}

/* Whether a canceller asks the build to stop (checked between row
 * groups: a few ms of work each). */
static int kd_cancelled(const meru_sst *t, const atomic_bool *cancel)
{
    if (kd_cancel_set(cancel))
        return meru_err(MERU_ECLOSED, "SST %s: key directory build cancelled",
                        t->path);
    return MERU_OK;
}

/* A directory of t's rows with none entered yet, `bytes` big: 64-bit
 * sequences when wide, 4-byte projections when narrow. On failure *out
 * is what was allocated (for kd_free). */
static int kd_new(meru_sst *t, sst_keydir **out, uint64_t bytes, bool wide,
                  bool narrow)
{
    sst_keydir *d = calloc(1, sizeof *d);
    *out = d;
    if (!d)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    d->rows = t->rows;
    d->bytes = bytes;
    d->width = narrow ? 4 : SST_KD_PREFIX;
    d->lcp = common_prefix(&t->smallest, &t->largest);
    d->prefix = t->smallest.data;
    d->seq_base = t->min_seq;
    size_t n = (size_t)t->rows;
    if (narrow)
        d->pfx32 = malloc(n * sizeof *d->pfx32);
    else
        d->pfx = malloc(n * sizeof *d->pfx);
    d->meta = malloc(n);
    if (wide)
        d->seq64 = malloc(n * sizeof *d->seq64);
    else
        d->seq32 = malloc(n * sizeof *d->seq32);
    if ((!d->pfx && !d->pfx32) || !d->meta || (!d->seq32 && !d->seq64))
        return meru_err(MERU_ENOMEM, "SST %s: out of memory (key directory)",
                        t->path);
    return MERU_OK;
}

/* The whole-file pass over _merutable_ikey (keys other than one integer
 * column: their width is known only at the end). */
static int kd_build_ikey(meru_sst *t, sst_keydir **out, uint64_t bytes,
                         bool wide, uint64_t *pages, const atomic_bool *cancel)
{
    if (sst_keydir_test_hook)
        sst_keydir_test_hook(t, UINT32_MAX);
    sst_keydir *d = NULL;
    meru_buf prev = {0};
    *out = NULL;
    int rc = kd_new(t, &d, bytes, wide, false);
    for (uint32_t g = 0; rc == MERU_OK && g < t->nrg; g++)
        if (!(rc = kd_cancelled(t, cancel)))
            rc = kd_fill_rg(t, d, g, &prev, pages);
    if (rc == MERU_OK && d->max_class <= 4)
        kd_narrow(d);
    if (rc == MERU_OK)
        rc = kd_charge(t, d);
    meru_buf_free(&prev);
    if (rc) {
        kd_free(d);
        return rc;
    }
    *out = d;
    return MERU_OK;
}

/* Builds finishing (any file or row group, any outcome) wake the gets
 * waiting for one (sst_keydir_for_get). Builds are rare: one lock for the
 * process. */
static pthread_mutex_t kd_done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kd_done_cv = PTHREAD_COND_INITIALIZER;

static void kd_wake(void)
{
    pthread_mutex_lock(&kd_done_mu);
    pthread_cond_broadcast(&kd_done_cv);
    pthread_mutex_unlock(&kd_done_mu);
}

/* Leaves the BUILDING state for `st` and wakes the waiters. */
static void kd_set_state(meru_sst *t, int st)
{
    atomic_store_explicit(&t->kd_state, st, memory_order_release);
    kd_wake();
}

/* Waits while *a == v. */
static void kd_wait_while(atomic_int *a, int v)
{
    pthread_mutex_lock(&kd_done_mu);
    while (atomic_load_explicit(a, memory_order_acquire) == v)
        pthread_cond_wait(&kd_done_cv, &kd_done_mu);
    pthread_mutex_unlock(&kd_done_mu);
}

/* ------------------------------------- integer keys, by row group
 *
 * The width of an integer key's directory is known before the pass (the
 * key's width less the shared prefix), so its arrays are allocated (and
 * charged) first and each row group fills its own rows: a get waits for
 * its row group only, and builds it itself when nobody has begun it
 * (on a 2-core machine the builder thread and the first gets then split
 * the file's pass instead of the gets idling). Each row group's pass
 * checks its rows as the whole-file pass did; the order across row
 * groups is checked by whoever finishes the last one, before the whole
 * directory is published as t->kd (the batched lookup's galloping search
 * spans row groups; a get searches within its row group, whose rows the
 * pass checked). */

static uint64_t kd_p(const sst_keydir *d, uint64_t row)
{
    return d->pfx32 ? d->pfx32[row] : d->pfx[row];
}

/* The key codec state of a row group's pass (its first row has no row
 * before it: the order across row groups is kd_finish's). */
static int kd_int_init(const meru_sst *t, const sst_keydir *d,
                       kd_int_state *st)
{
    unsigned kw = 0;
    int kcol = kd_int_key(t, &kw);
    memset(st, 0, sizeof *st);
    st->kwidth = kw;
    st->shift = 8 * (unsigned)(kw - d->lcp);
    st->pfx = st->shift < 64 ? (kw == 8 ? meru_load_be64(t->smallest.data)
                                        : meru_load_be32(t->smallest.data)) >>
                                   st->shift
                             : 0;
    return kcol;
}

/* Every row group is in (READY or FAILED): checks the rows across row
 * group boundaries ascend, then publishes the directory, or leaves the
 * file on its pages. */
static void kd_finish(meru_sst *t, sst_keydir *d)
{
    bool ok = !atomic_load_explicit(&d->failed, memory_order_acquire);
    for (uint32_t g = 1; ok && g < t->nrg; g++) {
        uint64_t b = (uint64_t)t->rg_start[g];
        if (b == 0 || b >= d->rows)
            continue;
        uint64_t pa = kd_p(d, b - 1), pb = kd_p(d, b);
        /* Integer projections are exact: equal means the same key, and
         * its versions run newest first. */
        ok = pa < pb || (pa == pb && sst_kd_seq(d, b - 1) > sst_kd_seq(d, b));
    }
    if (!ok) {
        atomic_store_explicit(&d->failed, true, memory_order_release);
        kd_set_state(t, KD_FAILED);
        return;
    }
    atomic_store_explicit(&t->kd, d, memory_order_release);
    atomic_fetch_add_explicit(&t->kd_budget->built, 1, memory_order_relaxed);
    kd_set_state(t, KD_READY);
}

/* Fills row group g of d, which the caller claimed (RG_NONE ->
 * RG_BUILDING), and marks it in. Keeps the caller's error state: a
 * damaged row group leaves it to the pages, which report what they meet. */
static void kd_rg_build(meru_sst *t, sst_keydir *d, uint32_t g,
                        uint64_t *pages)
{
    meru_err_saved es;
    meru_err_save(&es);
    if (sst_keydir_test_hook)
        sst_keydir_test_hook(t, g);
    int rc;
    if (atomic_load_explicit(&d->failed, memory_order_acquire)) {
        /* a damaged row group already keeps the whole directory from
         * being published: decoding this one would be for nothing */
        rc = MERU_ECORRUPT;
    } else {
        kd_int_state st;
        int kcol = kd_int_init(t, d, &st);
        rc = kcol < 0 ? kd_bad(t, 0, "key column missing")
                      : kd_fill_rg_int(t, d, &st, kcol, g, pages);
    }
    meru_err_restore(&es);
    if (rc)
        atomic_store_explicit(&d->failed, true, memory_order_release);
    atomic_store_explicit(&d->rg_state[g],
                          rc ? SST_KD_RG_FAILED : SST_KD_RG_READY,
                          memory_order_release);
    if (atomic_fetch_sub_explicit(&d->rg_left, 1, memory_order_acq_rel) == 1)
        kd_finish(t, d);
    kd_wake();
}

/* Builds row group g when nobody has claimed it: whether this thread did. */
static bool kd_rg_claim(meru_sst *t, sst_keydir *d, uint32_t g,
                        uint64_t *pages)
{
    int st = SST_KD_RG_NONE;
    if (!atomic_compare_exchange_strong_explicit(
            &d->rg_state[g], &st, SST_KD_RG_BUILDING, memory_order_acq_rel,
            memory_order_acquire))
        return false;
    kd_rg_build(t, d, g, pages);
    return true;
}

/* Allocates and charges t's directory, with no row group in yet, and
 * publishes it as t->kd_part (the caller moved kd_state NONE ->
 * BUILDING). NULL: cancelled, no room (both: to be tried again) or no
 * memory (for good). */
/* The bytes an integer key's directory takes (narrow: keys that differ
 * in at most 4 bytes keep 4 bytes a row less). */
static uint64_t kd_int_bytes(const meru_sst *t, bool *wide, bool *narrow)
{
    unsigned kw = 0;
    *wide = t->max_seq - t->min_seq > UINT32_MAX;
    (void)kd_int_key(t, &kw);
    *narrow = kw - common_prefix(&t->smallest, &t->largest) <= 4;
    uint64_t bytes = kd_size(t->rows, *wide);
    if (bytes && *narrow)
        bytes -= 4 * t->rows;
    return bytes;
}

static sst_keydir *kd_alloc_int(meru_sst *t, const atomic_bool *cancel)
{
    bool wide, narrow;
    uint64_t bytes = kd_int_bytes(t, &wide, &narrow);
    if (kd_cancel_set(cancel) || !bytes ||
        !budget_take(t->kd_budget, bytes)) {
        kd_set_state(t, KD_NONE);
        return NULL;
    }
    meru_err_saved es;
    meru_err_save(&es);
    sst_keydir *d = NULL;
    int rc = kd_new(t, &d, bytes, wide, narrow);
    if (rc == MERU_OK && !(d->rg_state = malloc(
                               (t->nrg ? t->nrg : 1) * sizeof *d->rg_state)))
        rc = meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    if (rc == MERU_OK) {
        for (uint32_t g = 0; g < t->nrg; g++)
            atomic_init(&d->rg_state[g], SST_KD_RG_NONE);
        atomic_init(&d->rg_left, t->nrg);
        atomic_init(&d->failed, false);
        rc = kd_charge(t, d);
    }
    meru_err_restore(&es);
    if (rc) {
        kd_free(d);
        budget_give(t->kd_budget, bytes);
        kd_set_state(t, KD_FAILED);
        return NULL;
    }
    atomic_store_explicit(&t->kd_part, d, memory_order_release);
    kd_set_state(t, KD_PART);
    if (t->nrg == 0)
        kd_finish(t, d);
    return d;
}

/* t's directory under construction (allocating it when nobody has):
 * NULL when it can have none now (no room, cancelled, damaged). */
static sst_keydir *kd_part_get(meru_sst *t, const atomic_bool *cancel)
{
    for (;;) {
        sst_keydir *d = atomic_load_explicit(&t->kd_part, memory_order_acquire);
        if (d)
            return atomic_load_explicit(&d->failed, memory_order_acquire)
                       ? NULL
                       : d;
        int st = KD_NONE;
        bool wide, narrow;
        if (!budget_room(t->kd_budget, kd_int_bytes(t, &wide, &narrow)))
            return NULL; /* no room now: files closing may make some */
        if (atomic_compare_exchange_strong_explicit(&t->kd_state, &st,
                                                    KD_BUILDING,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            return kd_alloc_int(t, cancel);
        if (st != KD_BUILDING)
            return NULL; /* failed (no memory) */
        kd_wait_while(&t->kd_state, KD_BUILDING); /* another allocating */
    }
}

/* The whole directory of an integer key: builds the row groups nobody
 * has claimed, in order, then waits for those others have under way. */
static const sst_keydir *kd_get_int(meru_sst *t, uint64_t *pages,
                                    const atomic_bool *cancel)
{
    sst_keydir *d = kd_part_get(t, cancel);
    if (!d)
        return atomic_load_explicit(&t->kd, memory_order_acquire);
    for (uint32_t g = 0; g < t->nrg; g++) {
        if (kd_cancel_set(cancel))
            return NULL; /* the row groups left are built later */
        (void)kd_rg_claim(t, d, g, pages);
    }
    kd_wait_while(&t->kd_state, KD_PART);
    return atomic_load_explicit(&t->kd, memory_order_acquire);
}

/* sst_keydir_get, stopping early when *cancel turns true (then the file
 * is left without a whole directory, to be finished later). */
static const sst_keydir *kd_get(meru_sst *t, uint64_t *pages,
                                const atomic_bool *cancel)
{
    sst_keydir *d = atomic_load_explicit(&t->kd, memory_order_acquire);
    if (d || t->level < 1 || !t->kd_budget)
        return d;
    unsigned kw;
    if (kd_int_key(t, &kw) >= 0)
        return kd_get_int(t, pages, cancel);
    bool wide = t->max_seq - t->min_seq > UINT32_MAX;
    uint64_t bytes = kd_size(t->rows, wide);
    if (!bytes || !budget_room(t->kd_budget, bytes))
        return NULL; /* no room now (see budget_room) */
    int st = KD_NONE;
    if (!atomic_compare_exchange_strong_explicit(&t->kd_state, &st,
                                                 KD_BUILDING,
                                                 memory_order_acq_rel,
                                                 memory_order_relaxed))
        return NULL; /* building elsewhere, or failed */
    if (!budget_take(t->kd_budget, bytes)) {
        /* No room now: files closing may make some, so try again later. */
        kd_set_state(t, KD_NONE);
        return NULL;
    }
    /* A failed build leaves the file on its pages, which report what
     * they meet: the build's message is not the caller's. */
    meru_err_saved es;
    meru_err_save(&es);
    int rc = kd_build_ikey(t, &d, bytes, wide, pages, cancel);
    meru_err_restore(&es);
    if (rc) {
        budget_give(t->kd_budget, bytes);
        kd_set_state(t, rc == MERU_ECLOSED ? KD_NONE : KD_FAILED);
        return NULL;
    }
    if (d->bytes < bytes)
        budget_give(t->kd_budget, bytes - d->bytes);
    atomic_store_explicit(&t->kd, d, memory_order_release);
    atomic_fetch_add_explicit(&t->kd_budget->built, 1, memory_order_relaxed);
    kd_set_state(t, KD_READY);
    return d;
}

const sst_keydir *sst_keydir_get(meru_sst *t, uint64_t *pages)
{
    return kd_get(t, pages, NULL);
}

bool sst_keydir_rg_ready(meru_sst *t, const sst_keydir *d, uint32_t rg,
                         uint64_t *pages)
{
    if (!d->rg_state)
        return true; /* built whole */
    if (atomic_load_explicit(&d->rg_state[rg], memory_order_acquire) ==
        SST_KD_RG_READY)
        return true;
    /* The writable form of d (gets hold it const). */
    sst_keydir *w = atomic_load_explicit(&t->kd_part, memory_order_acquire);
    if (w != d || !kd_rg_claim(t, w, rg, pages)) {
        /* Another thread has it under way: its few ms beat reading the
         * row group's pages (which would be thrown away after). */
        atomic_fetch_add_explicit(&t->kd_budget->waits, 1,
                                  memory_order_relaxed);
        kd_wait_while(&d->rg_state[rg], SST_KD_RG_BUILDING);
    }
    if (atomic_load_explicit(&d->rg_state[rg], memory_order_acquire) ==
        SST_KD_RG_READY)
        return true;
    atomic_fetch_add_explicit(&t->kd_budget->page_gets, 1,
                              memory_order_relaxed);
    return false;
}

const sst_keydir *sst_keydir_for_get(meru_sst *t, uint32_t rg,
                                     uint64_t *pages)
{
    const sst_keydir *d = atomic_load_explicit(&t->kd, memory_order_acquire);
    if (d || t->level < 1 || !t->kd_budget)
        return d;
    unsigned kw;
    if (kd_int_key(t, &kw) >= 0) {
        /* Only the row group the key is in: the rest may be under way. */
        sst_keydir *p = kd_part_get(t, NULL);
        if (!p) {
            atomic_fetch_add_explicit(&t->kd_budget->page_gets, 1,
                                      memory_order_relaxed);
            return NULL;
        }
        return sst_keydir_rg_ready(t, p, rg, pages) ? p : NULL;
    }
    /* Build it, or wait for the thread building it: one pass over the
     * file's key columns costs what a few of its ikey pages do, and the
     * pages would be decoded for nothing once the directory is there. */
    d = sst_keydir_get(t, pages);
    if (!d &&
        atomic_load_explicit(&t->kd_state, memory_order_acquire) ==
            KD_BUILDING) {
        atomic_fetch_add_explicit(&t->kd_budget->waits, 1,
                                  memory_order_relaxed);
        kd_wait_while(&t->kd_state, KD_BUILDING);
        d = atomic_load_explicit(&t->kd, memory_order_acquire);
    }
    if (!d) /* no room, or a failed build */
        atomic_fetch_add_explicit(&t->kd_budget->page_gets, 1,
                                  memory_order_relaxed);
    return d;
}

bool meru_sst_keydir_build(meru_sst *t, const atomic_bool *cancel)
{
    uint64_t pages = 0;
    return t && kd_get(t, &pages, cancel) != NULL;
}

void sst_keydir_drop(meru_sst *t)
{
    sst_keydir *d = atomic_load_explicit(&t->kd_part, memory_order_acquire);
    if (!d)
        d = atomic_load_explicit(&t->kd, memory_order_acquire);
    if (!d)
        return;
    atomic_store_explicit(&t->kd, NULL, memory_order_relaxed);
    atomic_store_explicit(&t->kd_part, NULL, memory_order_relaxed);
    budget_give(t->kd_budget, d->bytes);
    kd_free(d);
}
