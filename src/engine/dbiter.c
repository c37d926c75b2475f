/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dbiter.c — the user view of a merged internal iterator (dbiter.h).
 *
 * Forward: the merged iterator walks each user key's versions newest
 * first, so the first version with seq <= read_seq is the visible one; it
 * is returned unless it is a delete, and the rest of that key is skipped.
 * The user key being skipped is kept in `key` (the iterator's bytes do not
 * survive a move). A long run of versions to skip (hot keys, or many
 * versions newer than read_seq) is cut short by a reseek, as RocksDB does,
 * so a scan never degrades to walking every version of a key.
 *
 * Reverse (LevelDB's DBIter::FindPrevUserEntry): walking backwards a key's
 * versions come oldest first, so the visible one is the LAST version with
 * seq <= read_seq seen before the user key changes (tracked in `cur`;
 * LevelDB waits for the next visible entry instead). Every such version
 * overwrites the saved candidate (key and value copied: the iterator moves
 * on past it); a delete clears it. When an older user key (or the lower
 * bound, or the end) is reached with a candidate saved, that is the row,
 * and the merged iterator is already positioned for the next call. A key
 * with many versions is not walked to the end: reverse_jump() looks its
 * visible version up with a forward seek and jumps before the key.
 *
 * Bounds: the start is one seek next to the bound (start_forward,
 * start_reverse say which); the far bound ends the walk at the first user
 * key beyond it. Bounds need not be stored keys (prefix bounds and their
 * successors are not), but no stored key may be a proper prefix of a bound
 * (dbiter.h): stored user keys are prefix-free among themselves, so
 * internal-key order is user-key order, and a bound then cuts that order
 * at one place that a seek on its bare bytes finds.
 *
 * Seeks restart the walk with one bound moved: a seek in the walk's own
 * direction (forward seek, reverse seek_for_prev) narrows the near bound
 * to the target; a seek the other way first finds the row at the target
 * with one walk in that direction, then restarts from that row's key. The
 * iterator's own bounds (olower, oupper) stay, so a later seek may go back.
 *
 * Errors (sticky): the merged iterator's status, and MERU_ECORRUPT for an
 * internal key too short to hold a trailer.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dbiter.h"
#include "types/keycodec.h"
#include "util/buf.h"
#include "util/endian.h"
#include "util/error.h"

/* Versions skipped in a row before a reseek jumps over the rest. */
#define MERU_DBITER_MAX_SKIP 16

struct meru_dbiter {
    meru_iiter *it; /* owned */
    uint64_t read_seq;
    bool has_lower, lower_incl, has_upper, upper_incl, reverse;
    meru_buf lower, upper; /* the bounds of the current walk */
    /* The iterator's own bounds; a seek narrows lower/upper from these. */
    bool has_olower, olower_incl, has_oupper, oupper_incl;
    meru_buf olower, oupper;
    bool started, done;
    int status;    /* sticky error */
    bool has_key;  /* forward: `key` is the user key to skip */
    meru_buf key;  /* forward: last key decided; reverse: saved candidate */
    meru_buf val;  /* reverse: saved candidate's value */
    meru_buf cur;  /* reverse: user key of the entries being walked */
    bool cur_done; /* reverse: cur's row was returned already */
    meru_buf seek; /* seek targets */
    bool at_row;   /* forward: the merged iterator is on the row returned */
    /* forward: a user key above the lower bound was seen; keys only grow
     * from there, so the bound needs no more checks */
    bool past_lower;
};

static const uint8_t empty_bytes[1];

static bool ukey_eq(const meru_buf *b, const uint8_t *k, size_t len)
{
    return b->len == len && meru_ikey_cmp(b->data, len, k, len) == 0;
}

/* b = the n bytes at p (the per-row key copy, without a call when b is
 * large enough already). */
static inline int buf_set(meru_buf *b, const uint8_t *p, size_t n)
{
    b->len = 0;
    if (n > b->cap) {
        int rc = meru_buf_reserve(b, n);
        if (rc)
            return rc;
    }
    if (n)
        memcpy(b->data, p, n);
    b->len = n;
    return MERU_OK;
}

static bool beyond_upper(const meru_dbiter *d, const uint8_t *k, size_t len)
{
    if (!d->has_upper)
        return false;
    int c = meru_ikey_cmp(k, len, d->upper.data, d->upper.len);
    return c > 0 || (c == 0 && !d->upper_incl);
}

static bool below_lower(const meru_dbiter *d, const uint8_t *k, size_t len)
{
    if (!d->has_lower)
        return false;
    int c = meru_ikey_cmp(k, len, d->lower.data, d->lower.len);
    return c < 0 || (c == 0 && !d->lower_incl);
}

/* Builds `ukey || trailer(seq, op)` in d->seek. */
static int make_target(meru_dbiter *d, const uint8_t *ukey, size_t len,
                       uint64_t seq, int op)
{
    meru_buf_reset(&d->seek);
    int rc = meru_buf_reserve(&d->seek, len + MERU_IKEY_TRAILER_LEN);
    if (rc)
        return rc;
    if (len)
        memcpy(d->seek.data, ukey, len);
    meru_ikey_trailer_encode(d->seek.data + len, seq, op);
    d->seek.len = len + MERU_IKEY_TRAILER_LEN;
    return MERU_OK;
}

/* Sticky failure; returns rc. */
static int fail(meru_dbiter *d, int rc)
{
    d->status = rc;
    return rc;
}

/* End of the walk: the merged iterator's error if it has one. */
static int at_end(meru_dbiter *d)
{
    int rc = d->it->ops->status(d->it);
    if (rc)
        return fail(d, rc);
    d->done = true;
    return MERU_NOT_FOUND;
}

/* meru_ikey_parse inline (once per entry); the call only for the error. */
static inline int parse(meru_dbiter *d, const uint8_t *k, size_t klen,
                        size_t *ul, uint64_t *seq, int *op)
{
    if (klen >= MERU_IKEY_TRAILER_LEN) {
        uint64_t x = ~meru_load_be64(k + klen - MERU_IKEY_TRAILER_LEN);
        int o = (int)(x & 0xff);
        if (o == MERU_OP_DELETE || o == MERU_OP_PUT) {
            *ul = klen - MERU_IKEY_TRAILER_LEN;
            *seq = x >> 8;
            *op = o;
            return MERU_OK;
        }
    }
    int rc = meru_ikey_parse(k, klen, ul, seq, op);
    return fail(d, meru_err_wrap(rc ? rc : MERU_ECORRUPT, "scan"));
}

/* seek(lower) with the bare bound bytes: every internal key whose user key
 * is >= lower is >= it (a trailer after `lower` would sort keys that extend
 * a prefix bound before the target); entries of `lower` itself, when
 * exclusive, are skipped by the walk. */
static void start_forward(meru_dbiter *d)
{
    meru_iiter *it = d->it;
    if (d->has_lower)
        it->ops->seek(it, d->lower.data ? d->lower.data : empty_bytes,
                      d->lower.len);
    else
        it->ops->seek_to_first(it);
}

static int next_forward(meru_dbiter *d, const uint8_t **ukey, size_t *klen,
                        const uint8_t **value, size_t *vlen)
{
    meru_iiter *it = d->it;
    int rc;
    if (!d->started) {
        d->started = true;
        start_forward(d);
    } else {
        it->ops->next(it); /* off the row returned last time */
    }
    unsigned skipped = 0;
    while (it->ops->valid(it)) {
        size_t ilen, ul;
        uint64_t seq;
        int op;
        const uint8_t *ik = it->ops->key(it, &ilen);
        if ((rc = parse(d, ik, ilen, &ul, &seq, &op)))
            return rc;
        if (beyond_upper(d, ik, ul))
            break;
        bool below = false;
        if (!d->past_lower) {
            below = below_lower(d, ik, ul);
            d->past_lower = !below;
        }
        if (below || (d->has_key && ukey_eq(&d->key, ik, ul))) {
            /* An older version of a key already decided, or the exclusive
             * lower bound itself. */
            if (++skipped > MERU_DBITER_MAX_SKIP) {
                /* Its last possible version; at most one entry to skip. */
                if ((rc = make_target(d, ik, ul, 0, MERU_OP_DELETE)))
                    return fail(d, rc);
                it->ops->seek(it, d->seek.data, d->seek.len);
                skipped = 0;
            } else {
                it->ops->next(it);
            }
            continue;
        }
        if (seq > d->read_seq) {
            /* Too new for this read; its visible versions follow. */
            if (++skipped > MERU_DBITER_MAX_SKIP) {
                if ((rc = make_target(d, ik, ul, d->read_seq, MERU_OP_MAX)))
                    return fail(d, rc);
                it->ops->seek(it, d->seek.data, d->seek.len);
                skipped = 0;
            } else {
                it->ops->next(it);
            }
            continue;
        }
        /* The newest visible version of a new user key. */
        skipped = 0;
        d->has_key = false;
        if ((rc = buf_set(&d->key, ik, ul)))
            return fail(d, rc);
        d->has_key = true;
        if (op == MERU_OP_DELETE) {
            it->ops->next(it);
            continue;
        }
        *ukey = d->key.data ? d->key.data : empty_bytes;
        *klen = d->key.len;
        d->at_row = true;
        if (value) {
            const uint8_t *v = it->ops->value(it, vlen);
            *value = v ? v : empty_bytes;
        }
        return MERU_OK;
    }
    return at_end(d);
}

/*
 * Inclusive: seek_for_prev(upper || its last possible trailer). If that lands
 * on a key beyond the bound, it extends `upper`, so `upper` is not a stored
 * key (stored keys are prefix-free) and every key <= upper is < the bare
 * bytes: seek_for_prev(upper) then. Exclusive: the bare bytes directly.
 */
static int start_reverse(meru_dbiter *d)
{
    meru_iiter *it = d->it;
    if (!d->has_upper) {
        it->ops->seek_to_last(it);
        return MERU_OK;
    }
    const uint8_t *u = d->upper.data ? d->upper.data : empty_bytes;
    if (d->upper_incl) {
        int rc = make_target(d, u, d->upper.len, 0, MERU_OP_DELETE);
        if (rc)
            return fail(d, rc);
        it->ops->seek_for_prev(it, d->seek.data, d->seek.len);
        if (!it->ops->valid(it))
            return MERU_OK;
        size_t ilen;
        const uint8_t *ik = it->ops->key(it, &ilen);
        if (ilen < MERU_IKEY_TRAILER_LEN ||
            !beyond_upper(d, ik, ilen - MERU_IKEY_TRAILER_LEN))
            return MERU_OK;
    }
    it->ops->seek_for_prev(it, u, d->upper.len);
    return MERU_OK;
}

/*
 * Reverse, many versions of user key `cur`: instead of stepping back over
 * all of them, look its visible version up directly (the first entry at or
 * after cur || seek_trailer(read_seq)), then jump before the key
 * (seek_for_prev on its bare bytes: every internal key of an older user
 * key is below them, every version of cur above). Sets *have as the walk
 * would have.
 */
static int reverse_jump(meru_dbiter *d, bool *have)
{
    meru_iiter *it = d->it;
    int rc = make_target(d, d->cur.data, d->cur.len, d->read_seq, MERU_OP_MAX);
    if (rc)
        return fail(d, rc);
    it->ops->seek(it, d->seek.data, d->seek.len);
    *have = false;
    if (it->ops->valid(it)) {
        size_t ilen, ul;
        uint64_t seq;
        int op;
        const uint8_t *ik = it->ops->key(it, &ilen);
        if ((rc = parse(d, ik, ilen, &ul, &seq, &op)))
            return rc;
        if (ukey_eq(&d->cur, ik, ul) && op == MERU_OP_PUT) {
            size_t vl;
            const uint8_t *v = it->ops->value(it, &vl);
            meru_buf_reset(&d->key);
            meru_buf_reset(&d->val);
            if ((rc = meru_buf_append(&d->key, ik, ul)) ||
                (rc = meru_buf_append(&d->val, v, vl)))
                return fail(d, rc);
            *have = true;
        }
    }
    it->ops->seek_for_prev(it, d->cur.data ? d->cur.data : empty_bytes,
                           d->cur.len);
    return MERU_OK;
}

static int next_reverse(meru_dbiter *d, const uint8_t **ukey, size_t *klen,
                        const uint8_t **value, size_t *vlen)
{
    meru_iiter *it = d->it;
    int rc;
    if (!d->started) {
        d->started = true;
        if ((rc = start_reverse(d)))
            return rc;
    }
    bool have = false;    /* a visible put of the current user key is saved */
    unsigned skipped = 0; /* entries of `cur` walked so far */
    while (it->ops->valid(it)) {
        size_t ilen, ul;
        uint64_t seq;
        int op;
        const uint8_t *ik = it->ops->key(it, &ilen);
        if ((rc = parse(d, ik, ilen, &ul, &seq, &op)))
            return rc;
        if (beyond_upper(d, ik, ul)) {
            it->ops->prev(it);
            continue;
        }
        if (below_lower(d, ik, ul))
            break;
        if (!ukey_eq(&d->cur, ik, ul)) {
            if (have)
                break; /* an older user key: the saved one is the row */
            meru_buf_reset(&d->cur);
            d->cur_done = false;
            if ((rc = meru_buf_append(&d->cur, ik, ul)))
                return fail(d, rc);
            skipped = 0;
        } else if (d->cur_done) {
            /* Never expected (every move leaves the key's run), but if a
             * source ever lands inside the run of the key just returned,
             * its versions must not make a second row. */
            it->ops->prev(it);
            continue;
        } else if (++skipped > MERU_DBITER_MAX_SKIP) {
            if ((rc = reverse_jump(d, &have)))
                return rc;
            skipped = 0;
            if (have)
                break; /* the iterator is already before the key */
            continue;
        }
        if (seq <= d->read_seq) {
            if (op == MERU_OP_DELETE) {
                have = false;
            } else {
                size_t vl;
                const uint8_t *v = it->ops->value(it, &vl);
                meru_buf_reset(&d->key);
                meru_buf_reset(&d->val);
                if ((rc = meru_buf_append(&d->key, ik, ul)) ||
                    (rc = meru_buf_append(&d->val, v, vl)))
                    return fail(d, rc);
                have = true;
            }
        }
        it->ops->prev(it);
    }
    if ((rc = it->ops->status(it)))
        return fail(d, rc);
    if (!have) {
        d->done = true;
        return MERU_NOT_FOUND;
    }
    d->cur_done = true; /* cur == key: the row belongs to the key walked */
    *ukey = d->key.data ? d->key.data : empty_bytes;
    *klen = d->key.len;
    if (value) {
        *value = d->val.data ? d->val.data : empty_bytes;
        *vlen = d->val.len;
    }
    return MERU_OK;
}

int meru_dbiter_next(meru_dbiter *it, const uint8_t **ukey, size_t *klen,
                     const uint8_t **value, size_t *vlen)
{
    it->at_row = false;
    if (it->status)
        return it->status;
    if (it->done)
        return MERU_NOT_FOUND;
    if (it->reverse)
        return next_reverse(it, ukey, klen, value, vlen);
    return next_forward(it, ukey, klen, value, vlen);
}

void meru_dbiter_value(meru_dbiter *it, const uint8_t **value, size_t *vlen)
{
    if (it->at_row) {
        const uint8_t *v = it->it->ops->value(it->it, vlen);
        *value = v ? v : empty_bytes;
    } else {
        *value = it->val.data ? it->val.data : empty_bytes;
        *vlen = it->val.len;
    }
}

int meru_dbiter_values(meru_dbiter *it, meru_value *vals)
{
    if (!it->at_row || !it->it->ops->values)
        return MERU_NOT_FOUND;
    int rc = it->it->ops->values(it->it, vals);
    if (rc && rc != MERU_NOT_FOUND)
        return fail(it, rc);
    return rc;
}

/* Forgets the walk so the next call starts from the current bounds. */
static void restart(meru_dbiter *d)
{
    d->started = false;
    d->done = false;
    d->has_key = false;
    d->at_row = false;
    d->past_lower = false;
    d->cur_done = false;
    meru_buf_reset(&d->cur);
}

/* A bound = src (or none). */
static int copy_bound(meru_buf *dst, bool *has, bool *incl, const meru_buf *src,
                      bool shas, bool sincl)
{
    *has = shas;
    *incl = sincl;
    return buf_set(dst, src->data ? src->data : empty_bytes, shas ? src->len : 0);
}

/* The walk's bounds = the iterator's own, with the lower (is_lower) or the
 * upper one tightened to (k, incl) when that is narrower. */
static int narrow(meru_dbiter *d, bool is_lower, bool has, const uint8_t *k,
                  size_t len, bool incl)
{
    int rc;
    if ((rc = copy_bound(&d->lower, &d->has_lower, &d->lower_incl, &d->olower,
                         d->has_olower, d->olower_incl)) ||
        (rc = copy_bound(&d->upper, &d->has_upper, &d->upper_incl, &d->oupper,
                         d->has_oupper, d->oupper_incl)))
        return fail(d, rc);
    if (!has)
        return MERU_OK;
    meru_buf *b = is_lower ? &d->lower : &d->upper;
    bool *bhas = is_lower ? &d->has_lower : &d->has_upper;
    bool *bincl = is_lower ? &d->lower_incl : &d->upper_incl;
    if (*bhas) {
        int c = meru_ikey_cmp(k, len, b->data, b->len);
        if (is_lower ? c < 0 : c > 0)
            return MERU_OK; /* the iterator's own bound is narrower */
        if (c == 0) {
            *bincl = *bincl && incl;
            return MERU_OK;
        }
    }
    if ((rc = buf_set(b, len ? k : empty_bytes, len)))
        return fail(d, rc);
    *bhas = true;
    *bincl = incl;
    return MERU_OK;
}

/* Runs one walk in direction `reverse` over the current bounds and
 * leaves the key of the row it finds in *found (found->len 0 and *none
 * when there is no row). */
static int find_one(meru_dbiter *d, bool reverse, meru_buf *found, bool *none)
{
    const uint8_t *k;
    size_t kl;
    bool saved = d->reverse;
    d->reverse = reverse;
    restart(d);
    int rc = reverse ? next_reverse(d, &k, &kl, NULL, NULL)
                     : next_forward(d, &k, &kl, NULL, NULL);
    d->reverse = saved;
    *none = rc == MERU_NOT_FOUND;
    if (rc == MERU_NOT_FOUND)
        return MERU_OK;
    if (rc)
        return rc;
    if ((rc = buf_set(found, k, kl)))
        return fail(d, rc);
    return MERU_OK;
}

/* Restarts from the row whose key is `k` (its own bound, inclusive), or
 * ends the walk when `none`. */
static int restart_at(meru_dbiter *d, const meru_buf *k, bool none)
{
    int rc = narrow(d, !d->reverse, !none, k->data, k->len, true);
    restart(d);
    if (none)
        d->done = true;
    return rc;
}

int meru_dbiter_seek(meru_dbiter *d, bool has, const uint8_t *k, size_t len,
                     bool incl, bool for_prev)
{
    meru_buf found = {0};
    bool none = false;
    int rc;
    if (d->status)
        return d->status;
    d->at_row = false;
    /* Forward seek / reverse seek_for_prev: only the start moves. */
    if (for_prev == d->reverse) {
        rc = narrow(d, !for_prev, has, k, len, incl);
        restart(d);
        return rc;
    }
    /* The other way: find the row at the target, then start there. */
    if ((rc = narrow(d, !for_prev, has, k, len, incl)) == MERU_OK &&
        (rc = find_one(d, for_prev, &found, &none)) == MERU_OK)
        rc = restart_at(d, &found, none);
    meru_buf_free(&found);
    return rc;
}

int meru_dbiter_new(meru_iiter *merged, const meru_dbiter_options *o,
                    meru_dbiter **out)
{
    *out = NULL;
    meru_dbiter *d = calloc(1, sizeof *d);
    if (!d)
        goto nomem;
    d->it = merged;
    d->read_seq = o->read_seq > MERU_SEQ_MAX ? MERU_SEQ_MAX : o->read_seq;
    d->has_lower = o->has_lower;
    d->lower_incl = o->lower_inclusive;
    d->has_upper = o->has_upper;
    d->upper_incl = o->upper_inclusive;
    d->reverse = o->reverse;
    if ((d->has_lower && meru_buf_append(&d->lower, o->lower, o->lower_len)) ||
        (d->has_upper && meru_buf_append(&d->upper, o->upper, o->upper_len)))
        goto nomem;
    d->has_olower = d->has_lower;
    d->olower_incl = d->lower_incl;
    d->has_oupper = d->has_upper;
    d->oupper_incl = d->upper_incl;
    if ((d->has_lower && meru_buf_append(&d->olower, o->lower, o->lower_len)) ||
        (d->has_upper && meru_buf_append(&d->oupper, o->upper, o->upper_len)))
        goto nomem;
    *out = d;
    return MERU_OK;
nomem:
    meru_dbiter_free(d);
    if (!d)
        meru_iiter_destroy(merged);
    return meru_err(MERU_ENOMEM, "scan iterator");
}

void meru_dbiter_free(meru_dbiter *it)
{
    if (!it)
        return;
    meru_iiter_destroy(it->it);
    meru_buf_free(&it->lower);
    meru_buf_free(&it->upper);
    meru_buf_free(&it->olower);
    meru_buf_free(&it->oupper);
    meru_buf_free(&it->key);
    meru_buf_free(&it->val);
    meru_buf_free(&it->cur);
    meru_buf_free(&it->seek);
    free(it);
}
