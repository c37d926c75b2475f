/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge.c — k-way merge of internal iterators, and the memtable adapter.
 *
 * The merge keeps the valid children in a binary heap ordered by (internal
 * key, child index): a min-heap while moving forward, a max-heap while
 * moving backward, so the current entry is always the heap root. The pair
 * (key, index) is a total order over all entries, which is what makes
 * direction switches exact even if two children ever held an equal key:
 *
 *   - switching to reverse at (K, c): every other child i is put on its last
 *     entry (k, i) < (K, c), i.e. seek_for_prev(K), then one step back if it
 *     landed on K itself with i > c; then c steps back like any prev;
 *   - switching to forward is the mirror: seek(K), one step on if it landed
 *     on K with i < c.
 *
 * Errors: after every child move its status() is checked; the first error
 * is kept (sticky), the merge becomes invalid and ignores later moves.
 *
 * A merge of one child is that child itself. The concatenation (at the
 * end) chains sources whose key ranges do not overlap, such as the files
 * of one level, into one child.
 *
 * Not done here: deduplication or visibility (dbiter.c, compact_iter.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/merge.h"
#include "types/keycodec.h"
#include "util/error.h"

enum { DIR_FORWARD = 0, DIR_REVERSE = 1 };

typedef struct merge_iter {
    meru_iiter base;
    meru_iiter **child;
    size_t n;
    size_t *heap; /* indices of valid children; heap[0] is current */
    /* Key of each valid child, fetched once per move: the heap compares
     * them many times, and a child's key stays put until it moves. */
    const uint8_t **kp;
    size_t *kl;
    size_t hn;
    int dir;
    int status;
} merge_iter;

/* (key, index) order of children a and b: <0, 0, >0. */
static int child_cmp(merge_iter *m, size_t a, size_t b)
{
    int c = meru_ikey_cmp(m->kp[a], m->kl[a], m->kp[b], m->kl[b]);
    if (c)
        return c;
    return a < b ? -1 : a > b;
}

/* Whether heap slot x must sit above slot y in the current direction. */
static bool heap_before(merge_iter *m, size_t x, size_t y)
{
    int c = child_cmp(m, m->heap[x], m->heap[y]);
    return m->dir == DIR_FORWARD ? c < 0 : c > 0;
}

static void sift_down(merge_iter *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->hn && heap_before(m, l, best))
            best = l;
        if (r < m->hn && heap_before(m, r, best))
            best = r;
        if (best == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

/* Records the child's error, if any; true when the merge is still fine. */
static bool child_ok(merge_iter *m, size_t i)
{
    if (m->status)
        return false;
    int rc = m->child[i]->ops->status(m->child[i]);
    if (rc) {
        m->status = rc;
        m->hn = 0;
        return false;
    }
    return true;
}

/* Rebuilds the heap from every valid child (after repositioning all). */
static void rebuild(merge_iter *m)
{
    m->hn = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!child_ok(m, i))
            return;
        if (m->child[i]->ops->valid(m->child[i])) {
            m->kp[i] = m->child[i]->ops->key(m->child[i], &m->kl[i]);
            m->heap[m->hn++] = i;
        }
    }
    for (size_t i = m->hn / 2; i-- > 0;)
        sift_down(m, i);
}

/* After the root child moved: restores the heap. */
static void fix_root(merge_iter *m)
{
    size_t c = m->heap[0];
    if (!child_ok(m, c))
        return;
    if (m->child[c]->ops->valid(m->child[c]))
        m->kp[c] = m->child[c]->ops->key(m->child[c], &m->kl[c]);
    else
        m->heap[0] = m->heap[--m->hn];
    sift_down(m, 0);
}

static bool merge_valid(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    return m->status == MERU_OK && m->hn > 0;
}

static void merge_seek_to_first(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (m->status)
        return;
    for (size_t i = 0; i < m->n; i++)
        m->child[i]->ops->seek_to_first(m->child[i]);
    m->dir = DIR_FORWARD;
    rebuild(m);
}

static void merge_seek_to_last(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (m->status)
        return;
    for (size_t i = 0; i < m->n; i++)
        m->child[i]->ops->seek_to_last(m->child[i]);
    m->dir = DIR_REVERSE;
    rebuild(m);
}

static void merge_seek(meru_iiter *it, const uint8_t *ikey, size_t len)
{
    merge_iter *m = (merge_iter *)it;
    if (m->status)
        return;
    for (size_t i = 0; i < m->n; i++)
        m->child[i]->ops->seek(m->child[i], ikey, len);
    m->dir = DIR_FORWARD;
    rebuild(m);
}

static void merge_seek_for_prev(meru_iiter *it, const uint8_t *ikey, size_t len)
{
    merge_iter *m = (merge_iter *)it;
    if (m->status)
        return;
    for (size_t i = 0; i < m->n; i++)
        m->child[i]->ops->seek_for_prev(m->child[i], ikey, len);
    m->dir = DIR_REVERSE;
    rebuild(m);
}

/*
 * Repositions every child but the current one `c` on the side of (K, c)
 * that direction `dir` moves to, then rebuilds the heap (c is its root).
 */
static void switch_dir(merge_iter *m, int dir)
{
    size_t c = m->heap[0];
    size_t klen = m->kl[c];
    const uint8_t *k = m->kp[c];
    for (size_t i = 0; i < m->n; i++) {
        if (i == c)
            continue;
        meru_iiter *ch = m->child[i];
        if (dir == DIR_FORWARD)
            ch->ops->seek(ch, k, klen);
        else
            ch->ops->seek_for_prev(ch, k, klen);
        if (!child_ok(m, i))
            return;
        if (!ch->ops->valid(ch))
            continue;
        size_t l;
        const uint8_t *ck = ch->ops->key(ch, &l);
        if (meru_ikey_cmp(ck, l, k, klen) != 0)
            continue;
        if (dir == DIR_FORWARD && i < c)
            ch->ops->next(ch);
        else if (dir == DIR_REVERSE && i > c)
            ch->ops->prev(ch);
        if (!child_ok(m, i))
            return;
    }
    m->dir = dir;
    rebuild(m);
}

static void merge_next(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!merge_valid(it))
        return;
    if (m->dir != DIR_FORWARD) {
        switch_dir(m, DIR_FORWARD);
        if (!merge_valid(it))
            return;
    }
    meru_iiter *c = m->child[m->heap[0]];
    c->ops->next(c);
    fix_root(m);
}

static void merge_prev(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!merge_valid(it))
        return;
    if (m->dir != DIR_REVERSE) {
        switch_dir(m, DIR_REVERSE);
        if (!merge_valid(it))
            return;
    }
    meru_iiter *c = m->child[m->heap[0]];
    c->ops->prev(c);
    fix_root(m);
}

static const uint8_t *merge_key(meru_iiter *it, size_t *len)
{
    merge_iter *m = (merge_iter *)it;
    *len = m->kl[m->heap[0]];
    return m->kp[m->heap[0]];
}

static const uint8_t *merge_value(meru_iiter *it, size_t *len)
{
    merge_iter *m = (merge_iter *)it;
    meru_iiter *c = m->child[m->heap[0]];
    const uint8_t *v = c->ops->value(c, len);
    /* A child that fails to produce a value (out of memory decoding it)
     * answers an empty one and keeps the error: make it the merge's, as
     * merge_values does, so the caller's status check sees it. */
    if (*len == 0 && m->status == MERU_OK)
        m->status = c->ops->status(c);
    return v;
}

/* The current child's direct values, when it has them. A failure there is
 * the merge's (sticky) too. */
static int merge_values(meru_iiter *it, meru_value *vals)
{
    merge_iter *m = (merge_iter *)it;
    meru_iiter *c = m->child[m->heap[0]];
    if (!c->ops->values)
        return MERU_NOT_FOUND;
    int rc = c->ops->values(c, vals);
    if (rc && rc != MERU_NOT_FOUND) {
        m->status = rc;
        m->hn = 0;
    }
    return rc;
}

static int merge_status(meru_iiter *it)
{
    return ((merge_iter *)it)->status;
}

static void merge_destroy(meru_iiter *it)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        meru_iiter_destroy(m->child[i]);
    free(m->child);
    free(m->heap);
    free(m->kp);
    free(m->kl);
    free(m);
}

static const meru_iiter_ops merge_ops = {
    .valid = merge_valid,
    .seek_to_first = merge_seek_to_first,
    .seek_to_last = merge_seek_to_last,
    .seek = merge_seek,
    .seek_for_prev = merge_seek_for_prev,
    .next = merge_next,
    .prev = merge_prev,
    .key = merge_key,
    .value = merge_value,
    .status = merge_status,
    .destroy = merge_destroy,
    .values = merge_values,
};

size_t meru_merge_iter_current(const meru_iiter *it)
{
    const merge_iter *m = (const merge_iter *)it;
    if (!it || it->ops != &merge_ops || m->hn == 0)
        return 0;
    return m->heap[0];
}

int meru_merge_iter_new(meru_iiter **children, size_t n, meru_iiter **out)
{
    *out = NULL;
    if (n == 1) {
        /* The merge of one child is the child (a fully compacted table
         * often is one sorted run): no heap, no forwarding per row. */
        *out = children[0];
        return MERU_OK;
    }
    merge_iter *m = calloc(1, sizeof *m);
    if (m && n) {
        m->child = malloc(n * sizeof *m->child);
        m->heap = malloc(n * sizeof *m->heap);
        m->kp = malloc(n * sizeof *m->kp);
        m->kl = malloc(n * sizeof *m->kl);
    }
    if (!m || (n && (!m->child || !m->heap || !m->kp || !m->kl))) {
        if (m) {
            free(m->child);
            free(m->heap);
            free(m->kp);
            free(m->kl);
            free(m);
        }
        for (size_t i = 0; i < n; i++)
            meru_iiter_destroy(children[i]);
        return meru_err(MERU_ENOMEM, "merge iterator of %zu children", n);
    }
    m->base.ops = &merge_ops;
    if (n)
        memcpy(m->child, children, n * sizeof *m->child);
    m->n = n;
    m->dir = DIR_FORWARD;
    *out = &m->base;
    return MERU_OK;
}

/* ------------------------------------------------------ memtable adapter */

typedef struct mt_iiter {
    meru_iiter base;
    meru_memtable *m; /* a reference of ours */
    meru_memtable_iter it;
} mt_iiter;

static bool mt_valid(meru_iiter *it)
{
    return meru_memtable_iter_valid(&((mt_iiter *)it)->it);
}

static void mt_seek_to_first(meru_iiter *it)
{
    meru_memtable_iter_seek_to_first(&((mt_iiter *)it)->it);
}

static void mt_seek_to_last(meru_iiter *it)
{
    meru_memtable_iter_seek_to_last(&((mt_iiter *)it)->it);
}

static void mt_seek(meru_iiter *it, const uint8_t *ikey, size_t len)
{
    meru_memtable_iter_seek_ikey(&((mt_iiter *)it)->it, ikey, len);
}

/*
 * Last entry <= ikey: the equal entry if there is one, else one fresh
 * search for the last entry < ikey. Not "seek, then step back": a writer
 * may insert between the target and the entry the seek found (a newer
 * version of the same user key, say), and the step back would then land
 * above the target. (The skip list has no back pointers; each search is
 * O(log n) from the head.)
 */
static void mt_seek_for_prev(meru_iiter *it, const uint8_t *ikey, size_t len)
{
    meru_memtable_iter *mi = &((mt_iiter *)it)->it;
    meru_memtable_iter_seek_ikey(mi, ikey, len);
    if (meru_memtable_iter_valid(mi)) {
        size_t klen;
        const uint8_t *k = meru_memtable_iter_ikey(mi, &klen);
        if (meru_ikey_cmp(k, klen, ikey, len) == 0)
            return;
    }
    meru_skiplist_iter_seek_lt(&mi->sl, ikey, len);
}

static void mt_next(meru_iiter *it)
{
    meru_memtable_iter_next(&((mt_iiter *)it)->it);
}

static void mt_prev(meru_iiter *it)
{
    meru_memtable_iter_prev(&((mt_iiter *)it)->it);
}

static const uint8_t *mt_key(meru_iiter *it, size_t *len)
{
    return meru_memtable_iter_ikey(&((mt_iiter *)it)->it, len);
}

static const uint8_t *mt_value(meru_iiter *it, size_t *len)
{
    return meru_memtable_iter_value(&((mt_iiter *)it)->it, len);
}

static int mt_status(meru_iiter *it)
{
    (void)it;
    return MERU_OK; /* memory cannot fail a read */
}

static void mt_destroy(meru_iiter *it)
{
    mt_iiter *t = (mt_iiter *)it;
    meru_memtable_unref(t->m);
    free(t);
}

static const meru_iiter_ops mt_ops = {
    .valid = mt_valid,
    .seek_to_first = mt_seek_to_first,
    .seek_to_last = mt_seek_to_last,
    .seek = mt_seek,
    .seek_for_prev = mt_seek_for_prev,
    .next = mt_next,
    .prev = mt_prev,
    .key = mt_key,
    .value = mt_value,
    .status = mt_status,
    .destroy = mt_destroy,
};

int meru_memtable_iiter_new(meru_memtable *m, meru_iiter **out)
{
    *out = NULL;
    mt_iiter *t = calloc(1, sizeof *t);
    if (!t)
        return meru_err(MERU_ENOMEM, "memtable iterator");
    t->base.ops = &mt_ops;
    meru_memtable_ref(m);
    t->m = m;
    meru_memtable_iter_init(&t->it, m);
    *out = &t->base;
    return MERU_OK;
}

/* ------------------------------------------------------- concatenation */

/*
 * Parts are opened lazily and one at a time (the iterator's memory is one
 * part's). A seek picks the first part that may hold an entry >= the
 * target from the key bounds alone, so a range scan opens one part instead
 * of seeking every file of the level. The bounds are user keys and the
 * targets internal keys or bare bound bytes: user key U (and so every
 * internal key U || trailer) lies wholly below target T when U < T and U
 * is not a prefix of T; a part can be passed over only then. The part so
 * picked can still hold nothing >= T (its last user key is a proper prefix
 * of T: T is one of that key's internal keys); the next part's first
 * entry is then the answer, as stored user keys are prefix-free (the
 * next part's first one does not extend the prefix, so it is above T).
 * So the part must be exactly this one: starting an earlier part would
 * hand over to a seek_to_first that may land below T. seek_for_prev is
 * the mirror image.
 */
typedef struct concat_iter {
    meru_iiter base;
    const meru_concat_part *parts; /* borrowed, see meru_concat_iter_new */
    size_t n;
    meru_concat_open_fn open;
    void *ctx;
    void (*ctx_free)(void *ctx);
    meru_iiter *cur; /* part `ci`, or NULL */
    size_t ci;
    int status;
} concat_iter;

/* Whether every internal key of user key u is < target t. */
static bool ukey_below(const uint8_t *u, size_t ul, const uint8_t *t,
                       size_t tl)
{
    size_t n = ul < tl ? ul : tl;
    int c = n ? memcmp(u, t, n) : 0;
    return c < 0; /* c == 0: u is a prefix of t, or t of u */
}

/* Whether every internal key of user key u is > target t (t a prefix of u
 * included: u || trailer is longer). */
static bool ukey_above(const uint8_t *u, size_t ul, const uint8_t *t,
                       size_t tl)
{
    size_t n = ul < tl ? ul : tl;
    int c = n ? memcmp(u, t, n) : 0;
    return c > 0 || (c == 0 && ul >= tl);
}

static void concat_fail(concat_iter *c, int rc)
{
    c->status = rc;
    meru_iiter_destroy(c->cur);
    c->cur = NULL;
}

/* Makes part i current (opening it unless it is already); false on error. */
static bool concat_open(concat_iter *c, size_t i)
{
    if (c->cur && c->ci == i)
        return true;
    meru_iiter_destroy(c->cur);
    c->cur = NULL;
    meru_iiter *p = NULL;
    int rc = c->open(c->ctx, i, &p);
    if (rc) {
        concat_fail(c, rc);
        return false;
    }
    c->cur = p;
    c->ci = i;
    return true;
}

/* The current part's error, if any, becomes the concatenation's. */
static bool concat_part_ok(concat_iter *c)
{
    int rc = c->cur->ops->status(c->cur);
    if (rc) {
        concat_fail(c, rc);
        return false;
    }
    return true;
}

/* Past the end of the current part: on to the first entry of the next. */
static void concat_skip_forward(concat_iter *c)
{
    while (c->cur && concat_part_ok(c) && !c->cur->ops->valid(c->cur)) {
        if (c->ci + 1 >= c->n) {
            meru_iiter_destroy(c->cur);
            c->cur = NULL;
            return;
        }
        if (!concat_open(c, c->ci + 1))
            return;
        c->cur->ops->seek_to_first(c->cur);
    }
}

static void concat_skip_backward(concat_iter *c)
{
    while (c->cur && concat_part_ok(c) && !c->cur->ops->valid(c->cur)) {
        if (c->ci == 0) {
            meru_iiter_destroy(c->cur);
            c->cur = NULL;
            return;
        }
        if (!concat_open(c, c->ci - 1))
            return;
        c->cur->ops->seek_to_last(c->cur);
    }
}

static bool concat_valid(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    return c->cur && c->cur->ops->valid(c->cur);
}

static void concat_seek_to_first(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    if (c->status || !c->n || !concat_open(c, 0))
        return;
    c->cur->ops->seek_to_first(c->cur);
    concat_skip_forward(c);
}

static void concat_seek_to_last(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    if (c->status || !c->n || !concat_open(c, c->n - 1))
        return;
    c->cur->ops->seek_to_last(c->cur);
    concat_skip_backward(c);
}

static void concat_seek(meru_iiter *it, const uint8_t *ikey, size_t len)
{
    concat_iter *c = (concat_iter *)it;
    if (c->status)
        return;
    size_t lo = 0, hi = c->n; /* first part not wholly below the target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ukey_below(c->parts[mid].largest, c->parts[mid].largest_len, ikey,
                       len))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->n) {
        meru_iiter_destroy(c->cur);
        c->cur = NULL;
        return;
    }
    if (!concat_open(c, lo))
        return;
    c->cur->ops->seek(c->cur, ikey, len);
    concat_skip_forward(c);
}

static void concat_seek_for_prev(meru_iiter *it, const uint8_t *ikey,
                                 size_t len)
{
    concat_iter *c = (concat_iter *)it;
    if (c->status)
        return;
    size_t lo = 0, hi = c->n; /* parts [0, lo) not wholly above the target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ukey_above(c->parts[mid].smallest, c->parts[mid].smallest_len,
                       ikey, len))
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo == 0) {
        meru_iiter_destroy(c->cur);
        c->cur = NULL;
        return;
    }
    if (!concat_open(c, lo - 1))
        return;
    c->cur->ops->seek_for_prev(c->cur, ikey, len);
    concat_skip_backward(c);
}

static void concat_next(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    meru_iiter *p = c->cur;
    if (!p || !p->ops->valid(p))
        return;
    p->ops->next(p);
    /* Per row of a scan: a part still valid has no error (iter.h), so
     * only its end needs concat_skip_forward's status check. */
    if (!p->ops->valid(p))
        concat_skip_forward(c);
}

static void concat_prev(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    if (!concat_valid(it))
        return;
    c->cur->ops->prev(c->cur);
    concat_skip_backward(c);
}

static const uint8_t *concat_key(meru_iiter *it, size_t *len)
{
    concat_iter *c = (concat_iter *)it;
    return c->cur->ops->key(c->cur, len);
}

static const uint8_t *concat_value(meru_iiter *it, size_t *len)
{
    concat_iter *c = (concat_iter *)it;
    return c->cur->ops->value(c->cur, len);
}

static int concat_values(meru_iiter *it, meru_value *vals)
{
    concat_iter *c = (concat_iter *)it;
    if (!c->cur->ops->values)
        return MERU_NOT_FOUND;
    int rc = c->cur->ops->values(c->cur, vals);
    if (rc && rc != MERU_NOT_FOUND)
        concat_fail(c, rc);
    return rc;
}

static int concat_status(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    if (c->status)
        return c->status;
    return c->cur ? c->cur->ops->status(c->cur) : MERU_OK;
}

static void concat_destroy(meru_iiter *it)
{
    concat_iter *c = (concat_iter *)it;
    meru_iiter_destroy(c->cur);
    if (c->ctx_free)
        c->ctx_free(c->ctx);
    free(c);
}

static const meru_iiter_ops concat_ops = {
    .valid = concat_valid,
    .seek_to_first = concat_seek_to_first,
    .seek_to_last = concat_seek_to_last,
    .seek = concat_seek,
    .seek_for_prev = concat_seek_for_prev,
    .next = concat_next,
    .prev = concat_prev,
    .key = concat_key,
    .value = concat_value,
    .status = concat_status,
    .destroy = concat_destroy,
    .values = concat_values,
};

int meru_concat_iter_new(const meru_concat_part *parts, size_t n,
                         meru_concat_open_fn open, void *ctx,
                         void (*ctx_free)(void *ctx), meru_iiter **out)
{
    *out = NULL;
    concat_iter *c = calloc(1, sizeof *c);
    if (!c) {
        if (ctx_free)
            ctx_free(ctx);
        return meru_err(MERU_ENOMEM, "concatenating iterator");
    }
    c->base.ops = &concat_ops;
    c->parts = parts;
    c->n = n;
    c->open = open;
    c->ctx = ctx;
    c->ctx_free = ctx_free;
    *out = &c->base;
    return MERU_OK;
}
