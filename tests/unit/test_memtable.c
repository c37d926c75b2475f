/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_memtable.c — the skip list and the memtable, single-threaded.
 *
 * Order is checked against an independent reference: random internal keys
 * (user keys over a tiny alphabet, so many are byte prefixes of each other,
 * and many versions per user key) sorted with qsort. Get is checked against
 * a brute-force scan of the same model. Concurrency is in
 * test_memtable_concurrent.c.
 */
#include <stdlib.h>
#include <string.h>

#include "memtable/memtable.h"
#include "memtable/skiplist.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/arena.h"
#include "util/endian.h"
#include "util/error.h"

/* ------------------------------------------------------------ the model */

#define UK_MAX 10

typedef struct ref_entry {
    uint8_t uk[UK_MAX];
    size_t ulen;
    uint64_t seq;
    int op;
    uint8_t ik[UK_MAX + MERU_IKEY_TRAILER_LEN];
    size_t iklen;
    uint8_t val[16];
    size_t vlen;
} ref_entry;

static int ref_cmp(const void *a, const void *b)
{
    const ref_entry *x = a, *y = b;
    return meru_ikey_cmp(x->ik, x->iklen, y->ik, y->iklen);
}

/* A user key over {00, 01, 7f, ff} of length 0..max: short keys are
 * prefixes of many others, and 0xff runs mimic trailer bytes. */
static size_t rand_ukey(uint8_t *uk, size_t max)
{
    static const uint8_t alpha[4] = {0x00, 0x01, 0x7f, 0xff};
    size_t n = (size_t)(meru_test_rand() % (max + 1));
    for (size_t i = 0; i < n; i++)
        uk[i] = alpha[meru_test_rand() % 4];
    return n;
}

static void make_entry(ref_entry *e, const uint8_t *uk, size_t ulen,
                       uint64_t seq, int op)
{
    memcpy(e->uk, uk, ulen);
    e->ulen = ulen;
    e->seq = seq;
    e->op = op;
    memcpy(e->ik, uk, ulen);
    meru_ikey_trailer_encode(e->ik + ulen, seq, op);
    e->iklen = ulen + MERU_IKEY_TRAILER_LEN;
    e->vlen = op == MERU_OP_PUT ? 1 + (size_t)(seq % 15) : 0;
    for (size_t i = 0; i < e->vlen; i++)
        e->val[i] = (uint8_t)(seq * 31 + i);
}

/*
 * n entries with unique seqs 1..n in shuffled order; user keys drawn from a
 * pool of n/4 so most keys have several versions; ~1/4 are deletes.
 */
static ref_entry *make_model(size_t n)
{
    ref_entry *e = calloc(n, sizeof *e);
    size_t npool = n / 4 + 1;
    uint8_t(*pool)[UK_MAX] = calloc(npool, UK_MAX);
    size_t *plen = calloc(npool, sizeof *plen);
    uint64_t *seqs = calloc(n, sizeof *seqs);
    if (!e || !pool || !plen || !seqs) {
        free(e);
        e = NULL;
        goto out;
    }
    for (size_t i = 0; i < npool; i++)
        plen[i] = rand_ukey(pool[i], UK_MAX);
    for (size_t i = 0; i < n; i++)
        seqs[i] = i + 1;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(meru_test_rand() % i);
        uint64_t t = seqs[i - 1];
        seqs[i - 1] = seqs[j];
        seqs[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        size_t p = (size_t)(meru_test_rand() % npool);
        int op = meru_test_rand() % 4 ? MERU_OP_PUT : MERU_OP_DELETE;
        make_entry(&e[i], pool[p], plen[p], seqs[i], op);
    }
out:
    free(pool);
    free(plen);
    free(seqs);
    return e;
}

static int add_entry(meru_memtable *m, const ref_entry *e)
{
    return meru_memtable_add(m, e->seq, e->op, e->uk, e->ulen, e->val, e->vlen);
}

/* Index of the first reference entry >= key (ref sorted). */
static size_t lower_bound(const ref_entry *ref, size_t n, const uint8_t *key,
                          size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(ref[mid].ik, ref[mid].iklen, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------------------ skip list */

static void test_skiplist_empty_iterators_are_invalid(void)
{
    meru_arena *a;
    meru_skiplist *sl;
    CHECK_OK(meru_arena_new(&a, 0));
    CHECK_OK(meru_skiplist_new(&sl, a, 1));
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, sl);
    int ok = !meru_skiplist_iter_valid(&it);
    meru_skiplist_iter_seek_to_first(&it);
    ok &= !meru_skiplist_iter_valid(&it);
    meru_skiplist_iter_seek_to_last(&it);
    ok &= !meru_skiplist_iter_valid(&it);
    meru_skiplist_iter_seek(&it, (const uint8_t *)"", 0);
    ok &= !meru_skiplist_iter_valid(&it);
    meru_skiplist_iter_seek_lt(&it, (const uint8_t *)"\xff", 1);
    ok &= !meru_skiplist_iter_valid(&it);
    ok &= !meru_skiplist_contains(sl, (const uint8_t *)"", 0);
    ok &= meru_skiplist_count(sl) == 0;
    meru_arena_free(a);
    CHECK(ok);
}

static void test_skiplist_rejects_duplicate_key_and_keeps_first_value(void)
{
    meru_arena *a;
    meru_skiplist *sl;
    CHECK_OK(meru_arena_new(&a, 0));
    CHECK_OK(meru_skiplist_new(&sl, a, 7));
    int rc1 = meru_skiplist_insert(sl, (const uint8_t *)"ab", 2, "one", 3);
    int rc2 = meru_skiplist_insert2(sl, (const uint8_t *)"a", 1,
                                    (const uint8_t *)"b", 1, "two", 3);
    int rc3 = meru_skiplist_insert(sl, (const uint8_t *)"a", 1, "x", 1);
    int rc4 = meru_skiplist_insert(sl, (const uint8_t *)"", 0, NULL, 0);
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, sl);
    meru_skiplist_iter_seek(&it, (const uint8_t *)"ab", 2);
    size_t vlen = 0;
    const uint8_t *v = meru_skiplist_iter_valid(&it)
                           ? meru_skiplist_iter_value(&it, &vlen)
                           : NULL;
    int ok = v && vlen == 3 && memcmp(v, "one", 3) == 0;
    uint64_t count = meru_skiplist_count(sl);
    meru_arena_free(a);
    CHECK_OK(rc1);
    CHECK_RC(rc2, MERU_EINVAL);
    CHECK_OK(rc3);
    CHECK_OK(rc4);
    CHECK(ok);
    CHECK_EQ_U64(count, 3);
}

static void test_skiplist_concatenated_keys_compare_like_whole_keys(void)
{
    /* insert2/seek2 split the key at different places; the order must be
     * the order of the concatenations. */
    static const char *keys[] = {"", "a", "a\x00", "ab", "abc", "b", "\xff"};
    const size_t nk = sizeof keys / sizeof keys[0];
    size_t lens[] = {0, 1, 2, 2, 3, 1, 1};
    meru_arena *a;
    meru_skiplist *sl;
    CHECK_OK(meru_arena_new(&a, 0));
    CHECK_OK(meru_skiplist_new(&sl, a, 3));
    int bad = 0;
    for (size_t i = nk; i-- > 0;) {
        size_t cut = lens[i] / 2;
        const uint8_t *k = (const uint8_t *)keys[i];
        bad |= meru_skiplist_insert2(sl, k, cut, k + cut, lens[i] - cut, &i,
                                     sizeof i) != 0;
    }
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, sl);
    size_t at = 0;
    for (meru_skiplist_iter_seek_to_first(&it); meru_skiplist_iter_valid(&it);
         meru_skiplist_iter_next(&it), at++) {
        size_t kl;
        const uint8_t *k = meru_skiplist_iter_key(&it, &kl);
        bad |= at >= nk || kl != lens[at] || (kl && memcmp(k, keys[at], kl));
    }
    for (size_t i = 0; i < nk; i++) {
        const uint8_t *k = (const uint8_t *)keys[i];
        for (size_t cut = 0; cut <= lens[i]; cut++) {
            meru_skiplist_iter_seek2(&it, k, cut, k + cut, lens[i] - cut);
            size_t kl;
            const uint8_t *f = meru_skiplist_iter_valid(&it)
                                   ? meru_skiplist_iter_key(&it, &kl)
                                   : NULL;
            bad |= !f || kl != lens[i] || (kl && memcmp(f, k, kl));
        }
    }
    meru_arena_free(a);
    CHECK(!bad);
    CHECK_EQ_U64(at, nk);
}

/* ------------------------------------------- appends (the tail path) */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nonzero unless the list holds exactly the keys ref[0..n) (8-byte
 * big-endian, value = key): its structure (every level ordered: a search
 * stays right on a misordered upper level, only slower), forward order,
 * contains, seek to each key, seek_lt to each key's predecessor,
 * seek_to_last, and a miss between neighbours. ref is sorted in place. */
static int list_differs(const meru_skiplist *sl, uint64_t *ref, size_t n)
{
    qsort(ref, n, sizeof *ref, u64_cmp);
    int bad = meru_skiplist_count(sl) != n || meru_skiplist_check(sl);
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, sl);
    size_t at = 0;
    for (meru_skiplist_iter_seek_to_first(&it); meru_skiplist_iter_valid(&it);
         meru_skiplist_iter_next(&it), at++) {
        size_t kl, vl;
        const uint8_t *k = meru_skiplist_iter_key(&it, &kl);
        const uint8_t *v = meru_skiplist_iter_value(&it, &vl);
        bad |= at >= n || kl != 8 || meru_load_be64(k) != ref[at] ||
               vl != 8 || memcmp(k, v, 8);
    }
    bad |= at != n;
    for (size_t i = 0; i < n; i++) {
        uint8_t k[8];
        size_t kl;
        meru_store_be64(k, ref[i]);
        bad |= !meru_skiplist_contains(sl, k, 8);
        meru_skiplist_iter_seek(&it, k, 8);
        bad |= !meru_skiplist_iter_valid(&it) ||
               meru_load_be64(meru_skiplist_iter_key(&it, &kl)) != ref[i];
        meru_skiplist_iter_seek_lt(&it, k, 8);
        if (i == 0)
            bad |= meru_skiplist_iter_valid(&it);
        else
            bad |= !meru_skiplist_iter_valid(&it) ||
                   meru_load_be64(meru_skiplist_iter_key(&it, &kl)) !=
                       ref[i - 1];
        if (i + 1 < n && ref[i + 1] > ref[i] + 1) {
            meru_store_be64(k, ref[i] + 1); /* absent: between neighbours */
            bad |= meru_skiplist_contains(sl, k, 8);
        }
    }
    meru_skiplist_iter_seek_to_last(&it);
    bad |= n ? !meru_skiplist_iter_valid(&it) ||
                   meru_load_be64(meru_skiplist_iter_key(&it, &at)) !=
                       ref[n - 1]
             : meru_skiplist_iter_valid(&it);
    return bad;
}

static int insert_u64(meru_skiplist *sl, uint64_t key)
{
    uint8_t k[8];
    meru_store_be64(k, key);
    /* split like the memtable's user key || trailer */
    return meru_skiplist_insert2(sl, k, 5, k + 5, 3, k, 8);
}

/*
 * Ascending keys take the append path; a smaller key in between takes the
 * search and may become the last node of its upper levels (a tall tower
 * after the last shorter ones), which the next appends must link after.
 * Keys are multiples of 4 when ascending; a smaller key is a random odd
 * number below the largest (4 ways of 4 that it is new). Each round uses
 * a different tower seed and share of smaller keys, from none (pure
 * ascending) to one in two; the list is checked against the reference at
 * checkpoints and at the end.
 */
static void test_skiplist_appends_interleaved_with_smaller_keys_keep_order(void)
{
    enum { N = 6000 };
    static const unsigned smaller_in_8[] = {0, 1, 2, 4, 0, 1};
    uint64_t *ref = malloc(N * sizeof *ref);
    CHECK(ref);
    int bad = 0;
    for (size_t round = 0; round < sizeof smaller_in_8 / sizeof *smaller_in_8;
         round++) {
        meru_arena *a;
        meru_skiplist *sl;
        CHECK_OK(meru_arena_new(&a, 0));
        CHECK_OK(meru_skiplist_new(&sl, a, meru_test_rand()));
        size_t n = 0;
        uint64_t max = 0;
        while (n < N) {
            uint64_t r = meru_test_rand();
            uint64_t key;
            if (n && r % 8 < smaller_in_8[round]) {
                key = ((r >> 8) % max) | 1;
                uint64_t *hit = bsearch(&key, ref, n, sizeof *ref, u64_cmp);
                int rc = insert_u64(sl, key);
                /* a present key is refused and changes nothing */
                bad |= hit ? rc != MERU_EINVAL : rc != MERU_OK;
                if (hit)
                    continue;
            } else {
                key = max + 4 * (1 + (r >> 8) % 3);
                bad |= insert_u64(sl, key) != MERU_OK;
                max = key;
            }
            ref[n++] = key; /* bsearch above needs ref sorted: */
            for (size_t i = n - 1; i > 0 && ref[i - 1] > ref[i]; i--) {
                uint64_t t = ref[i];
                ref[i] = ref[i - 1];
                ref[i - 1] = t;
            }
            if (n == 1 || n == 64 || n == 1000)
                bad |= list_differs(sl, ref, n);
        }
        /* the last key again: refused on the append check's fallback */
        bad |= insert_u64(sl, max) != MERU_EINVAL;
        bad |= list_differs(sl, ref, n);
        meru_arena_free(a);
        CHECK_MSG(!bad, "round %zu (%u smaller keys in 8)", round,
                  smaller_in_8[round]);
    }
    free(ref);
}

/* Fills a memtable with a shuffled model; ref comes back sorted. */
static ref_entry *filled(meru_memtable **m, size_t n, size_t chunk)
{
    ref_entry *ref = make_model(n);
    if (!ref)
        return NULL;
    if (meru_memtable_new(m, chunk)) {
        free(ref);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (add_entry(*m, &ref[i])) {
            meru_memtable_unref(*m);
            free(ref);
            return NULL;
        }
    }
    qsort(ref, n, sizeof *ref, ref_cmp);
    return ref;
}

static void test_iteration_forward_and_backward_matches_sorted_reference(void)
{
    size_t n = (size_t)(20000 * meru_test_scale()) + 100;
    meru_memtable *m;
    ref_entry *ref = filled(&m, n, 4096);
    CHECK(ref != NULL);
    meru_memtable_iter it;
    meru_memtable_iter_init(&it, m);
    size_t at = 0, bad = SIZE_MAX;
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it), at++) {
        size_t kl, ul, vl;
        const uint8_t *k = meru_memtable_iter_ikey(&it, &kl);
        const uint8_t *u = meru_memtable_iter_user_key(&it, &ul);
        const uint8_t *v = meru_memtable_iter_value(&it, &vl);
        if (at >= n || kl != ref[at].iklen || memcmp(k, ref[at].ik, kl) ||
            ul != ref[at].ulen || (ul && memcmp(u, ref[at].uk, ul)) ||
            meru_memtable_iter_seq(&it) != ref[at].seq ||
            meru_memtable_iter_op(&it) != ref[at].op || vl != ref[at].vlen ||
            (vl && memcmp(v, ref[at].val, vl))) {
            bad = at;
            break;
        }
    }
    size_t fwd = at;
    /* Backward: the reverse of the same order (prev is a fresh search). */
    size_t back = 0, bad_back = SIZE_MAX;
    for (meru_memtable_iter_seek_to_last(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_prev(&it), back++) {
        size_t kl;
        const uint8_t *k = meru_memtable_iter_ikey(&it, &kl);
        const ref_entry *r = back < n ? &ref[n - 1 - back] : NULL;
        if (!r || kl != r->iklen || memcmp(k, r->ik, kl)) {
            bad_back = back;
            break;
        }
    }
    free(ref);
    meru_memtable_unref(m);
    CHECK_EQ_U64(bad, SIZE_MAX);
    CHECK_EQ_U64(fwd, n);
    CHECK_EQ_U64(bad_back, SIZE_MAX);
    CHECK_EQ_U64(back, n);
}

static void test_seek_lands_on_first_entry_at_or_after_target(void)
{
    size_t n = (size_t)(5000 * meru_test_scale()) + 100;
    meru_memtable *m;
    ref_entry *ref = filled(&m, n, 0);
    CHECK(ref != NULL);
    meru_memtable_iter it;
    meru_memtable_iter_init(&it, m);
    meru_skiplist_iter sit;
    int bad = 0;
    size_t rounds = 4 * n;
    for (size_t r = 0; r < rounds && !bad; r++) {
        uint8_t t[UK_MAX + MERU_IKEY_TRAILER_LEN + 2];
        size_t tl;
        if (r % 2 == 0) { /* present: exactly an entry */
            const ref_entry *e = &ref[meru_test_rand() % n];
            memcpy(t, e->ik, e->iklen);
            tl = e->iklen;
        } else { /* most likely absent: random bytes of any length */
            tl = rand_ukey(t, sizeof t);
        }
        size_t want = lower_bound(ref, n, t, tl);
        meru_memtable_iter_seek_ikey(&it, t, tl);
        if (want == n) {
            bad |= meru_memtable_iter_valid(&it);
        } else {
            size_t kl;
            const uint8_t *k = meru_memtable_iter_valid(&it)
                                   ? meru_memtable_iter_ikey(&it, &kl)
                                   : NULL;
            bad |=
                !k || kl != ref[want].iklen || memcmp(k, ref[want].ik, kl) != 0;
        }
        /* seek_lt: the entry just before the lower bound. */
        meru_skiplist_iter_init(&sit, it.sl.list);
        meru_skiplist_iter_seek_lt(&sit, t, tl);
        if (want == 0) {
            bad |= meru_skiplist_iter_valid(&sit) ? 2 : 0;
        } else {
            size_t kl;
            const uint8_t *k = meru_skiplist_iter_valid(&sit)
                                   ? meru_skiplist_iter_key(&sit, &kl)
                                   : NULL;
            bad |= !k || kl != ref[want - 1].iklen ||
                           memcmp(k, ref[want - 1].ik, kl) != 0
                       ? 4
                       : 0;
        }
    }
    free(ref);
    meru_memtable_unref(m);
    CHECK_EQ_INT(bad, 0);
}

/* ----------------------------------------------------------------- get */

static void check_get(const meru_memtable *m, const char *k, uint64_t rs,
                      meru_mt_state state, uint64_t seq, const char *val,
                      int *bad)
{
    meru_mt_result r;
    if (meru_memtable_get(m, (const uint8_t *)k, strlen(k), rs, &r) ||
        r.state != state) {
        *bad = 1;
        return;
    }
    if (state == MERU_MT_NOT_FOUND)
        return;
    if (r.seq != seq)
        *bad = 1;
    if (state == MERU_MT_FOUND &&
        (r.vlen != strlen(val) || memcmp(r.value, val, r.vlen)))
        *bad = 1;
}

static void test_get_returns_newest_version_at_or_below_read_seq(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    int rc = meru_memtable_add(m, 20, MERU_OP_PUT, (const uint8_t *)"k", 1,
                               "v20", 3);
    rc |= meru_memtable_add(m, 10, MERU_OP_PUT, (const uint8_t *)"k", 1, "v10",
                            3);
    rc |= meru_memtable_add(m, 30, MERU_OP_PUT, (const uint8_t *)"k", 1, "v30",
                            3);
    int bad = 0;
    check_get(m, "k", 0, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    check_get(m, "k", 9, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    check_get(m, "k", 10, MERU_MT_FOUND, 10, "v10", &bad);
    check_get(m, "k", 19, MERU_MT_FOUND, 10, "v10", &bad);
    check_get(m, "k", 20, MERU_MT_FOUND, 20, "v20", &bad);
    check_get(m, "k", 29, MERU_MT_FOUND, 20, "v20", &bad);
    check_get(m, "k", 30, MERU_MT_FOUND, 30, "v30", &bad);
    check_get(m, "k", MERU_SEQ_MAX, MERU_MT_FOUND, 30, "v30", &bad);
    check_get(m, "k", UINT64_MAX, MERU_MT_FOUND, 30, "v30", &bad);
    check_get(m, "j", UINT64_MAX, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    check_get(m, "kk", UINT64_MAX, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    check_get(m, "", UINT64_MAX, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    meru_memtable_unref(m);
    CHECK_OK(rc);
    CHECK_EQ_INT(bad, 0);
}

static void test_get_delete_hides_older_puts_until_a_newer_put(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    const uint8_t *k = (const uint8_t *)"key";
    int rc = meru_memtable_add(m, 5, MERU_OP_PUT, k, 3, "a", 1);
    rc |= meru_memtable_add(m, 7, MERU_OP_DELETE, k, 3, NULL, 0);
    rc |= meru_memtable_add(m, 9, MERU_OP_PUT, k, 3, "b", 1);
    int bad = 0;
    check_get(m, "key", 4, MERU_MT_NOT_FOUND, 0, NULL, &bad);
    check_get(m, "key", 6, MERU_MT_FOUND, 5, "a", &bad);
    check_get(m, "key", 7, MERU_MT_DELETED, 7, NULL, &bad);
    check_get(m, "key", 8, MERU_MT_DELETED, 7, NULL, &bad);
    check_get(m, "key", 9, MERU_MT_FOUND, 9, "b", &bad);
    meru_memtable_unref(m);
    CHECK_OK(rc);
    CHECK_EQ_INT(bad, 0);
}

static void test_get_steps_over_longer_key_sorting_between_versions(void)
{
    /* "a" + 0xff*6 + 0xfc sorts between "a"||seek_trailer(5) and
     * "a"||trailer(1): a longer user key interleaves with the versions of
     * "a". Get must not take it for "a" nor stop at it. */
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    static const uint8_t longer[8] = {'a',  0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xfc};
    uint8_t lo[9], hi[9];
    lo[0] = hi[0] = 'a';
    meru_ikey_trailer_encode(lo + 1, 5, MERU_OP_MAX);
    meru_ikey_trailer_encode(hi + 1, 1, MERU_OP_PUT);
    int between = meru_ikey_cmp(lo, 9, longer, 8) < 0 &&
                  meru_ikey_cmp(longer, 8, hi, 9) < 0;
    int rc =
        meru_memtable_add(m, 1, MERU_OP_PUT, (const uint8_t *)"a", 1, "old", 3);
    rc |=
        meru_memtable_add(m, 2, MERU_OP_PUT, longer, sizeof longer, "long", 4);
    meru_mt_result r;
    rc |= meru_memtable_get(m, (const uint8_t *)"a", 1, 5, &r);
    meru_mt_result r2;
    rc |= meru_memtable_get(m, longer, sizeof longer, 5, &r2);
    meru_memtable_unref(m);
    CHECK(between);
    CHECK_OK(rc);
    CHECK_EQ_INT(r.state, MERU_MT_FOUND);
    CHECK_EQ_U64(r.seq, 1);
    CHECK_EQ_INT(r2.state, MERU_MT_FOUND);
    CHECK_EQ_U64(r2.seq, 2);
}

static void test_get_matches_brute_force_on_prefix_related_keys(void)
{
    size_t n = (size_t)(4000 * meru_test_scale()) + 100;
    meru_memtable *m;
    ref_entry *ref = filled(&m, n, 0);
    CHECK(ref != NULL);
    size_t rounds = 5 * n, bad_round = SIZE_MAX;
    for (size_t r = 0; r < rounds && bad_round == SIZE_MAX; r++) {
        uint8_t uk[UK_MAX];
        size_t ul;
        if (r % 3) {
            const ref_entry *e = &ref[meru_test_rand() % n];
            memcpy(uk, e->uk, e->ulen);
            ul = e->ulen;
        } else {
            ul = rand_ukey(uk, UK_MAX);
        }
        uint64_t rs = meru_test_rand() % (n + 2);
        const ref_entry *best = NULL;
        for (size_t i = 0; i < n; i++) {
            const ref_entry *e = &ref[i];
            if (e->ulen == ul && (!ul || memcmp(e->uk, uk, ul) == 0) &&
                e->seq <= rs && (!best || e->seq > best->seq))
                best = e;
        }
        meru_mt_result res;
        int rc = meru_memtable_get(m, uk, ul, rs, &res);
        int ok = rc == 0;
        if (!best)
            ok &= res.state == MERU_MT_NOT_FOUND;
        else if (best->op == MERU_OP_DELETE)
            ok &= res.state == MERU_MT_DELETED && res.seq == best->seq;
        else
            ok &= res.state == MERU_MT_FOUND && res.seq == best->seq &&
                  res.vlen == best->vlen &&
                  memcmp(res.value, best->val, res.vlen) == 0;
        if (!ok)
            bad_round = r;
    }
    free(ref);
    meru_memtable_unref(m);
    CHECK_EQ_U64(bad_round, SIZE_MAX);
}

/* ----------------------------------------------- memtable bookkeeping */

static void test_bytes_grow_with_inserts(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 4096));
    size_t b0 = meru_memtable_bytes(m), prev = b0, payload = 0;
    uint8_t val[100];
    memset(val, 'v', sizeof val);
    int rc = 0, shrank = 0;
    for (uint64_t i = 1; i <= 1000 && !rc; i++) {
        uint8_t k[8];
        meru_store_be64(k, i);
        rc = meru_memtable_add(m, i, MERU_OP_PUT, k, 8, val, sizeof val);
        payload += 8 + MERU_IKEY_TRAILER_LEN + sizeof val;
        size_t b = meru_memtable_bytes(m);
        shrank |= b < prev;
        prev = b;
    }
    /* A value bigger than a chunk gets its own and is counted too. */
    static uint8_t big[20000];
    size_t before_big = meru_memtable_bytes(m);
    rc |= meru_memtable_add(m, 5000, MERU_OP_PUT, (const uint8_t *)"big", 3,
                            big, sizeof big);
    size_t after_big = meru_memtable_bytes(m);
    meru_memtable_unref(m);
    CHECK_OK(rc);
    CHECK(!shrank);
    CHECK(prev >= payload);
    CHECK(prev < 2 * payload + 2 * 4096);
    CHECK(prev > b0);
    CHECK(after_big >= before_big + sizeof big);
}

static void test_immutable_memtable_rejects_adds_but_serves_reads(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    CHECK_OK(
        meru_memtable_add(m, 1, MERU_OP_PUT, (const uint8_t *)"a", 1, "x", 1));
    CHECK(!meru_memtable_is_immutable(m));
    meru_memtable_set_immutable(m);
    meru_memtable_set_immutable(m);
    int imm = meru_memtable_is_immutable(m);
    int rc =
        meru_memtable_add(m, 2, MERU_OP_PUT, (const uint8_t *)"b", 1, "y", 1);
    int msg_ok = strstr(meru_errmsg(), "immutable") != NULL;
    uint64_t count = meru_memtable_count(m);
    meru_mt_result r;
    meru_memtable_get(m, (const uint8_t *)"a", 1, 10, &r);
    meru_mt_result r2;
    meru_memtable_get(m, (const uint8_t *)"b", 1, 10, &r2);
    meru_memtable_unref(m);
    CHECK(imm);
    CHECK_RC(rc, MERU_EINVAL);
    CHECK(msg_ok);
    CHECK_EQ_U64(count, 1);
    CHECK_EQ_INT(r.state, MERU_MT_FOUND);
    CHECK_EQ_INT(r2.state, MERU_MT_NOT_FOUND);
}

static void test_add_rejects_bad_seq_bad_op_and_duplicate_version(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    const uint8_t *k = (const uint8_t *)"k";
    int r1 = meru_memtable_add(m, MERU_SEQ_MAX + 1, MERU_OP_PUT, k, 1, "", 0);
    int r2 = meru_memtable_add(m, 1, 2, k, 1, "", 0);
    int r3 = meru_memtable_add(m, 1, -1, k, 1, "", 0);
    int r4 = meru_memtable_add(m, MERU_SEQ_MAX, MERU_OP_PUT, k, 1, "v", 1);
    int r5 = meru_memtable_add(m, MERU_SEQ_MAX, MERU_OP_PUT, k, 1, "w", 1);
    /* Same seq, other op: a different internal key, accepted. */
    int r6 = meru_memtable_add(m, MERU_SEQ_MAX, MERU_OP_DELETE, k, 1, NULL, 0);
    uint64_t count = meru_memtable_count(m);
    meru_mt_result r;
    meru_memtable_get(m, k, 1, MERU_SEQ_MAX, &r);
    int val_ok = r.state == MERU_MT_FOUND && r.vlen == 1 && r.value[0] == 'v';
    meru_memtable_unref(m);
    CHECK_RC(r1, MERU_EINVAL);
    CHECK_RC(r2, MERU_EINVAL);
    CHECK_RC(r3, MERU_EINVAL);
    CHECK_OK(r4);
    CHECK_RC(r5, MERU_EINVAL);
    CHECK_OK(r6);
    CHECK_EQ_U64(count, 2);
    CHECK(val_ok);
}

static void test_stats_count_seq_range_and_key_range(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    const uint8_t *key;
    size_t len;
    int empty_first = meru_memtable_first_key(m, &key, &len);
    int empty_last = meru_memtable_last_key(m, &key, &len);
    uint64_t e_lo = meru_memtable_min_seq(m), e_hi = meru_memtable_max_seq(m);
    static const char *ks[] = {"m", "c", "x", "c", "q"};
    static const uint64_t seqs[] = {50, 12, 70, 90, 13};
    int rc = 0;
    for (int i = 0; i < 5; i++)
        rc |= meru_memtable_add(m, seqs[i], MERU_OP_PUT, (const uint8_t *)ks[i],
                                1, "v", 1);
    const uint8_t *fk, *lk;
    size_t fl = 0, ll = 0;
    rc |= meru_memtable_first_key(m, &fk, &fl);
    rc |= meru_memtable_last_key(m, &lk, &ll);
    uint64_t count = meru_memtable_count(m);
    uint64_t lo = meru_memtable_min_seq(m), hi = meru_memtable_max_seq(m);
    int keys_ok = fl == 1 && fk[0] == 'c' && ll == 1 && lk[0] == 'x';
    meru_memtable_unref(m);
    CHECK_RC(empty_first, MERU_NOT_FOUND);
    CHECK_RC(empty_last, MERU_NOT_FOUND);
    CHECK_EQ_U64(e_lo, 0);
    CHECK_EQ_U64(e_hi, 0);
    CHECK_OK(rc);
    CHECK_EQ_U64(count, 5);
    CHECK_EQ_U64(lo, 12);
    CHECK_EQ_U64(hi, 90);
    CHECK(keys_ok);
}

static void test_iter_seek_by_user_key_and_read_seq(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    int rc = 0;
    rc |= meru_memtable_add(m, 3, MERU_OP_PUT, (const uint8_t *)"b", 1, "3", 1);
    rc |=
        meru_memtable_add(m, 8, MERU_OP_DELETE, (const uint8_t *)"b", 1, "", 0);
    rc |= meru_memtable_add(m, 5, MERU_OP_PUT, (const uint8_t *)"d", 1, "5", 1);
    meru_memtable_iter it;
    meru_memtable_iter_init(&it, m);
    int bad = 0;
    size_t ul;
    /* Newest visible version of "b" at 10 is the delete at 8. */
    meru_memtable_iter_seek(&it, (const uint8_t *)"b", 1, 10);
    bad |= !meru_memtable_iter_valid(&it) || meru_memtable_iter_seq(&it) != 8 ||
           meru_memtable_iter_op(&it) != MERU_OP_DELETE;
    /* At 7 it is the put at 3. */
    meru_memtable_iter_seek(&it, (const uint8_t *)"b", 1, 7);
    bad |= !meru_memtable_iter_valid(&it) || meru_memtable_iter_seq(&it) != 3 ||
           meru_memtable_iter_op(&it) != MERU_OP_PUT;
    /* At 2 nothing of "b" is visible: the next key's newest version. */
    meru_memtable_iter_seek(&it, (const uint8_t *)"b", 1, 2);
    bad |= !meru_memtable_iter_valid(&it) ||
           *meru_memtable_iter_user_key(&it, &ul) != 'd' ||
           meru_memtable_iter_seq(&it) != 5;
    meru_memtable_iter_seek(&it, (const uint8_t *)"e", 1, UINT64_MAX);
    bad |= meru_memtable_iter_valid(&it);
    meru_memtable_unref(m);
    CHECK_OK(rc);
    CHECK_EQ_INT(bad, 0);
}

static void test_refcount_frees_at_last_unref(void)
{
    /* ASan's leak check fails the program if the last unref does not free,
     * and reports a use after free if an earlier one does. */
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 1024));
    for (uint64_t i = 1; i <= 200; i++) {
        uint8_t k[8];
        meru_store_be64(k, i);
        CHECK_OK(meru_memtable_add(m, i, MERU_OP_PUT, k, 8, k, 8));
    }
    meru_memtable_ref(m);
    meru_memtable_ref(m);
    meru_mt_result r;
    meru_memtable_get(m, (const uint8_t *)"\0\0\0\0\0\0\0\x07", 8, 100, &r);
    meru_memtable_unref(m);
    meru_memtable_unref(m);
    /* Still alive: one reference left; the borrowed value is readable. */
    int ok = r.state == MERU_MT_FOUND && r.vlen == 8 && r.value[7] == 7;
    ok &= meru_memtable_count(m) == 200;
    meru_memtable_unref(m);
    meru_memtable_unref(NULL);
    CHECK(ok);
}

int main(void)
{
    MERU_TEST_RUN(test_skiplist_empty_iterators_are_invalid);
    MERU_TEST_RUN(test_skiplist_rejects_duplicate_key_and_keeps_first_value);
    MERU_TEST_RUN(test_skiplist_concatenated_keys_compare_like_whole_keys);
    MERU_TEST_RUN(
        test_skiplist_appends_interleaved_with_smaller_keys_keep_order);
    MERU_TEST_RUN(test_iteration_forward_and_backward_matches_sorted_reference);
    MERU_TEST_RUN(test_seek_lands_on_first_entry_at_or_after_target);
    MERU_TEST_RUN(test_get_returns_newest_version_at_or_below_read_seq);
    MERU_TEST_RUN(test_get_delete_hides_older_puts_until_a_newer_put);
    MERU_TEST_RUN(test_get_steps_over_longer_key_sorting_between_versions);
    MERU_TEST_RUN(test_get_matches_brute_force_on_prefix_related_keys);
    MERU_TEST_RUN(test_bytes_grow_with_inserts);
    MERU_TEST_RUN(test_immutable_memtable_rejects_adds_but_serves_reads);
    MERU_TEST_RUN(test_add_rejects_bad_seq_bad_op_and_duplicate_version);
    MERU_TEST_RUN(test_stats_count_seq_range_and_key_range);
    MERU_TEST_RUN(test_iter_seek_by_user_key_and_read_seq);
    MERU_TEST_RUN(test_refcount_frees_at_last_unref);
    return meru_test_finish();
}
