/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compact_iter.c — the keep/drop decision of a compaction (compact_iter.h).
 *
 * A key's versions arrive newest first. Each version falls in a stripe: the
 * index of the oldest snapshot that can see it (the smallest s >= seq), or
 * n for "only the latest view". Stripe indices never increase along one
 * key, and a version is the one some view sees exactly when it is the
 * first of its stripe: the snapshot of that stripe (or the latest view)
 * sees it, every other view sees either a newer version or an older one of
 * its own stripe. So the state is just the current user key and the stripe
 * of the last version seen.
 *
 * Sequence numbers are unique across the tree, so "seq <= s" has no tie
 * to break between versions.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/compact_iter.h"
#include "types/keycodec.h"
#include "util/buf.h"
#include "util/error.h"

struct meru_compact_iter {
    meru_iiter *it; /* owned */
    uint64_t *snap; /* sorted ascending, distinct */
    size_t nsnap;
    bool bottommost;
    bool started, done;
    int status;     /* sticky error */
    bool has_key;
    meru_buf key;   /* the current user key */
    size_t stripe;  /* of the last version of `key` seen */
    meru_compact_stats st;
};

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of the smallest snapshot >= seq, nsnap when none. */
static size_t stripe_of(const meru_compact_iter *c, uint64_t seq)
{
    size_t lo = 0, hi = c->nsnap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->snap[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int meru_compact_iter_new(meru_iiter *merged, const uint64_t *snapshots,
                          size_t n, bool bottommost, meru_compact_iter **out)
{
    *out = NULL;
    meru_compact_iter *c = calloc(1, sizeof *c);
    if (!c || (n && !(c->snap = malloc(n * sizeof *c->snap)))) {
        free(c);
        meru_iiter_destroy(merged);
        return meru_err(MERU_ENOMEM, "compaction iterator");
    }
    c->it = merged;
    if (n) {
        memcpy(c->snap, snapshots, n * sizeof *c->snap);
        qsort(c->snap, n, sizeof *c->snap, u64_cmp);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (k == 0 || c->snap[k - 1] != c->snap[i])
                c->snap[k++] = c->snap[i];
        c->nsnap = k;
    }
    c->bottommost = bottommost;
    *out = c;
    return MERU_OK;
}

/* The next entry to keep; its value is fetched only when `value` is set
 * (an SST iterator decodes values lazily, so a keys-only walk reads the
 * key column alone). */
static int step(meru_compact_iter *c, const uint8_t **ikey, size_t *ilen,
                const uint8_t **value, size_t *vlen)
{
    if (c->status)
        return c->status;
    if (c->done)
        return MERU_NOT_FOUND;
    meru_iiter *it = c->it;
    if (!c->started) {
        c->started = true;
        it->ops->seek_to_first(it);
    } else {
        it->ops->next(it); /* off the entry returned last time */
    }
    int rc;
    for (; it->ops->valid(it); it->ops->next(it)) {
        size_t kl, ul;
        uint64_t seq;
        int op;
        const uint8_t *k = it->ops->key(it, &kl);
        if ((rc = meru_ikey_parse(k, kl, &ul, &seq, &op)))
            return c->status = meru_err_wrap(rc, "compaction input");
        c->st.input++;
        if (!c->has_key || c->key.len != ul ||
            (ul && memcmp(c->key.data, k, ul) != 0)) {
            meru_buf_reset(&c->key);
            c->has_key = false;
            if ((rc = meru_buf_append(&c->key, k, ul)))
                return c->status = rc;
            c->has_key = true;
            c->stripe = SIZE_MAX;
        }
        size_t s = stripe_of(c, seq);
        if (s == c->stripe) {
            c->st.dropped_versions++; /* a newer one of its stripe is kept */
            continue;
        }
        c->stripe = s;
        if (op == MERU_OP_DELETE && c->bottommost && s == 0) {
            c->st.dropped_tombstones++;
            continue;
        }
        c->st.output++;
        *ikey = k;
        *ilen = kl;
        if (value) {
            *value = it->ops->value(it, vlen);
            /* an empty value may be a failed decode: never write it */
            if (*vlen == 0 && (rc = it->ops->status(it)))
                return c->status = rc;
        }
        return MERU_OK;
    }
    if ((rc = it->ops->status(it)))
        return c->status = rc;
    c->done = true;
    return MERU_NOT_FOUND;
}

int meru_compact_iter_next(meru_compact_iter *c, const uint8_t **ikey,
                           size_t *ilen, const uint8_t **value, size_t *vlen)
{
    return step(c, ikey, ilen, value, vlen);
}

int meru_compact_iter_next_key(meru_compact_iter *c, const uint8_t **ikey,
                               size_t *ilen)
{
    return step(c, ikey, ilen, NULL, NULL);
}

void meru_compact_iter_stats(const meru_compact_iter *c,
                             meru_compact_stats *out)
{
    *out = c->st;
}

void meru_compact_iter_free(meru_compact_iter *c)
{
    if (!c)
        return;
    meru_iiter_destroy(c->it);
    free(c->snap);
    meru_buf_free(&c->key);
    free(c);
}
