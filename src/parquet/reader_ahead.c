/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_ahead.c — decode-ahead for long scans (pq_readahead in pq.h).
 *
 * A long scan of an L1+ file spends about half its time in the codec
 * (zstd pages of strings). A pq_readahead is one worker thread that, for
 * the cursors attached to it, walks the pages after the one each cursor
 * is on and does the part of a page's load that needs nothing of the
 * cursor: decode its header, check its CRC, decompress its body. The
 * cursor's owner meanwhile decodes the current page; when it reaches the
 * next one it takes the decompressed bytes (a buffer swap) instead of
 * inflating them itself, so a scan uses two cores.
 *
 * Per attached cursor there is a stream: a ring of pages decompressed
 * ahead, in file order from where the cursor will read next. Bounds: at
 * most RA_MAX_PAGES pages and about RA_MAX_BYTES decompressed bytes queued
 * per stream (one more page may start below the limit), plus as many
 * spare buffers, so a scan holds at most ~2 x (RA_MAX_BYTES + a page) more
 * per column, whatever the file size.
 *
 * The worker only ever works from a mapped (or memory) source: it reads
 * nothing through read_at and shares no buffer with the cursor. Whatever
 * it does not take in stride (a dictionary or index page, a header or size
 * that does not check, a CRC mismatch, a codec error) stops the stream
 * there: the cursor then loads that page itself, the ordinary way, which
 * reports the error with its message in the caller's thread. So the
 * readahead never changes what a scan returns or which error it reports;
 * it only moves codec work to another core.
 *
 * The cursor takes a page only when the head of the ring is the page at
 * its own position; anything else (a seek) drops the ring, the cursor
 * loads the page itself and restarts the stream after it. While the
 * worker is busy on exactly the page wanted, the cursor waits for it.
 *
 * Teardown: closing a cursor unlinks its stream and waits for the worker
 * to leave it; pq_readahead_free tells the worker to stop (every attached
 * cursor must be closed first) and returns; the worker is detached and
 * whichever of the two is last frees the readahead.
 */
#include <libdeflate.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parquet/codec.h"
#include "parquet/reader_int.h"
#include "util/error.h"

#define RA_MAX_PAGES 32u
#define RA_MAX_BYTES (256u << 10)
/* How long an owner spins for the page the worker is on (a 2 KiB zstd
 * page of strings, the default string page, takes ~8 us; a 4 KiB one
 * ~15 us) before loading it itself. */
#define RA_SPIN_NS 30000

typedef struct ra_entry {
    uint64_t off; /* of the page header */
    bool hole;    /* left to the cursor (only its header was read) */
    int64_t n;    /* values */
    pqr_ahead_page pg;
    meru_buf data; /* decompressed value bytes (pg.inflated) */
} ra_entry;

struct pqr_stream {
    pq_readahead *ra;
    const pq_reader *r;
    pq_codec codec;
    uint64_t end; /* of the chunk */
    bool check_crc;
    meru_arena *arena; /* the worker's page headers */
    /* Everything below is guarded by ra->mu (the ring entries' contents
     * too, except the one the worker fills while busy). */
    ra_entry ring[RA_MAX_PAGES];
    unsigned head, count;
    size_t bytes;                     /* decompressed bytes queued */
    meru_buf spare[RA_MAX_PAGES + 1]; /* buffers to fill, LIFO */
    unsigned nspare;
    uint64_t wpos; /* the next page the worker loads */
    int64_t wleft; /* values left in the chunk from wpos */
    bool stopped;  /* the worker stopped at wpos until the next restart */
    bool busy;     /* the worker is loading the page at busy_off */
    /* The page the worker is loading and the ring generation it loads it
     * for: a restart moves wpos (and bumps gen) while the worker is still
     * on a dropped page, so "busy and wpos is the page" would make the
     * owner spin for a page nobody is loading. */
    uint64_t busy_off, busy_gen;
    uint64_t gen;  /* bumped when the ring is dropped */
    atomic_uint published; /* bumped as the worker finishes a page */
    int64_t rows;          /* values queued */
    unsigned holes;        /* pages to leave to the cursor (it waited) */
    pqr_stream *next, *prev;
};

struct pq_readahead {
    pthread_mutex_t mu;
    pthread_cond_t work; /* the worker waits for room or a new stream */
    pthread_cond_t done; /* owners wait for a page or for the worker */
    bool started, quit, worker_waiting, owner_waiting;
    bool working; /* the worker is loading a page (of any stream) */
    /* The owner's reference, and the worker's while it runs: the worker
     * is detached and the last one out frees (a join would wait for the
     * worker to be scheduled again only to exit: ~1 ms a range scan on
     * a busy machine). */
    unsigned refs;
    pqr_stream *streams;
};

/* ----------------------------------------------------------- the worker */

/* Room in the ring (and a page to load) for the worker. */
static bool wants_work(const pqr_stream *s)
{
    return !s->stopped && !s->busy && s->wleft > 0 && s->wpos < s->end &&
           s->count < RA_MAX_PAGES && s->bytes < RA_MAX_BYTES;
}

/* The stream the worker serves next: the one with the fewest rows
 * queued (its owner is the likeliest to catch up and wait). */
static pqr_stream *pick(pq_readahead *ra)
{
    pqr_stream *best = NULL;
    for (pqr_stream *s = ra->streams; s; s = s->next)
        if (wants_work(s) && (!best || s->rows < best->rows))
            best = s;
    return best;
}

/* Loads the data page at `off` into e: header, CRC, decompressed value
 * bytes. False for anything the cursor must see for itself (see top). */
static bool produce(pqr_stream *s, ra_entry *e, uint64_t off, int64_t left,
                    bool hole, uint64_t *next, int64_t *nvals)
{
    const uint8_t *base = s->r->src.base;
    uint64_t avail = s->end - off;
    size_t want = avail < PQR_MAX_HEADER ? (size_t)avail : PQR_MAX_HEADER;
    pq_page_header *h = &e->pg.h;
    size_t used = 0;
    meru_arena_reset(s->arena);
    if (pq_decode_page_header(base + off, want, s->arena, h, &used))
        return false;
    int32_t cs = h->compressed_page_size, us = h->uncompressed_page_size;
    if (cs < 0 || us < 0 || (uint64_t)cs > avail - used ||
        (uint32_t)us > PQR_MAX_PAGE)
        return false;
    int64_t n;
    if (h->type == PQ_PAGE_DATA && h->has_data_page_header) {
        n = h->data_page_header.num_values;
    } else if (h->type == PQ_PAGE_DATA_V2 && h->has_data_page_header_v2 &&
               h->data_page_header_v2.num_rows ==
                   h->data_page_header_v2.num_values) {
        n = h->data_page_header_v2.num_values;
    } else {
        return false;
    }
    if (n <= 0 || n > left)
        return false;
    *next = off + used + (uint64_t)cs;
    *nvals = n;
    e->data.len = 0;
    if (hole)
        return true;
    /* the statistics point into the worker's arena: nobody reads them */
    h->data_page_header.has_statistics = false;
    memset(&h->data_page_header.statistics, 0,
           sizeof h->data_page_header.statistics);
    h->data_page_header_v2.has_statistics = false;
    memset(&h->data_page_header_v2.statistics, 0,
           sizeof h->data_page_header_v2.statistics);
    const uint8_t *body = base + off + used;
    if (s->check_crc && h->has_crc &&
        libdeflate_crc32(0, body, (size_t)cs) != (uint32_t)h->crc)
        return false;
    size_t skip = 0;
    bool compressed = s->codec != PQ_CODEC_UNCOMPRESSED;
    if (h->type == PQ_PAGE_DATA_V2) {
        const pq_data_page_header_v2 *v2 = &h->data_page_header_v2;
        int32_t rl = v2->repetition_levels_byte_length;
        int32_t dl = v2->definition_levels_byte_length;
        if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > (size_t)cs ||
            (size_t)rl + (size_t)dl > (size_t)us)
            return false;
        skip = (size_t)rl + (size_t)dl;
        compressed = compressed && v2->is_compressed;
    }
    e->pg.hlen = used;
    e->pg.csize = (size_t)cs;
    e->pg.inflated = false;
    size_t ulen = (size_t)us - skip;
    if (compressed && ulen > 0) {
        if (pqr_buf_size(&e->data, ulen) ||
            pq_decompress(s->codec, body + skip, (size_t)cs - skip,
                          e->data.data, ulen))
            return false;
        e->pg.inflated = true;
    }
    return true;
}

static void destroy(pq_readahead *ra)
{
    pthread_cond_destroy(&ra->done);
    pthread_cond_destroy(&ra->work);
    pthread_mutex_destroy(&ra->mu);
    free(ra);
}

/* Worker threads started by any readahead (pq_readahead_workers_started). */
static atomic_ulong workers_started;

uint64_t pq_readahead_workers_started(void)
{
    return atomic_load_explicit(&workers_started, memory_order_relaxed);
}

static void *worker(void *arg)
{
    pq_readahead *ra = arg;
    pthread_mutex_lock(&ra->mu);
    while (!ra->quit) {
        pqr_stream *s = pick(ra);
        if (!s) {
            ra->worker_waiting = true;
            pthread_cond_wait(&ra->work, &ra->mu);
            ra->worker_waiting = false;
            continue;
        }
        ra_entry *e = &s->ring[(s->head + s->count) % RA_MAX_PAGES];
        if (!e->data.cap && s->nspare && s->holes == 0)
            e->data = s->spare[--s->nspare];
        uint64_t off = s->wpos, gen = s->gen, next = 0;
        int64_t left = s->wleft, n = 0;
        /* The owner waited for a page: it is the faster side, so it
         * takes the next page on itself (only the header is read here
         * to find the one after), and the two sides balance. */
        bool hole = s->holes > 0;
        s->busy = true;
        s->busy_off = off;
        s->busy_gen = gen;
        ra->working = true;
        pthread_mutex_unlock(&ra->mu);
        bool ok = produce(s, e, off, left, hole, &next, &n);
        pthread_mutex_lock(&ra->mu);
        s->busy = false;
        ra->working = false;
        atomic_fetch_add_explicit(&s->published, 1, memory_order_relaxed);
        if (gen == s->gen) {
            if (ok) {
                if (hole)
                    s->holes--;
                e->off = off;
                e->hole = hole;
                e->n = n;
                s->count++;
                s->rows += n;
                s->bytes += e->data.len;
                s->wpos = next;
                s->wleft -= n;
            } else {
                s->stopped = true;
            }
        }
        if (gen != s->gen || !ok) {
            /* dropped or failed: its buffer back to the spares, so that
             * only queued pages hold buffers in the ring (the bound) */
            if (e->data.cap && s->nspare <= RA_MAX_PAGES)
                s->spare[s->nspare++] = e->data;
            else
                meru_buf_free(&e->data);
            memset(&e->data, 0, sizeof e->data);
        }
        if (ra->owner_waiting)
            pthread_cond_broadcast(&ra->done);
    }
    /* quit: every stream was closed (so none is busy) */
    bool last = --ra->refs == 0;
    pthread_mutex_unlock(&ra->mu);
    if (last)
        destroy(ra);
    return NULL;
}

/* ------------------------------------------------------------- the API */

int pq_readahead_new(pq_readahead **out)
{
    *out = NULL;
    pq_readahead *ra = calloc(1, sizeof *ra);
    if (!ra)
        return meru_err(MERU_ENOMEM, "parquet: out of memory");
    if (pthread_mutex_init(&ra->mu, NULL)) {
        free(ra);
        return meru_err(MERU_ENOMEM, "parquet: readahead: no mutex");
    }
    if (pthread_cond_init(&ra->work, NULL)) {
        pthread_mutex_destroy(&ra->mu);
        free(ra);
        return meru_err(MERU_ENOMEM, "parquet: readahead: no condition");
    }
    if (pthread_cond_init(&ra->done, NULL)) {
        pthread_cond_destroy(&ra->work);
        pthread_mutex_destroy(&ra->mu);
        free(ra);
        return meru_err(MERU_ENOMEM, "parquet: readahead: no condition");
    }
    ra->refs = 1;
    *out = ra;
    return MERU_OK;
}

void pq_readahead_free(pq_readahead *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->quit = true;
    pthread_cond_broadcast(&ra->work);
    bool last = --ra->refs == 0;
    pthread_mutex_unlock(&ra->mu);
    if (last)
        destroy(ra);
}

bool pq_readahead_started(const pq_readahead *ra)
{
    return ra && ra->started;
}

int pqr_stream_open(pq_readahead *ra, const pq_reader *r, pq_codec codec,
                    uint64_t end, bool check_crc, pqr_stream **out)
{
    *out = NULL;
    if (!r->src.base)
        return meru_err(MERU_ENOTSUP, "parquet: readahead needs a mapped "
                                      "source");
    pqr_stream *s = calloc(1, sizeof *s);
    if (!s)
        return meru_err(MERU_ENOMEM, "parquet: out of memory");
    int rc = meru_arena_new(&s->arena, 4096);
    if (rc) {
        free(s);
        return rc;
    }
    s->ra = ra;
    s->r = r;
    s->codec = codec;
    s->end = end;
    s->check_crc = check_crc;
    s->stopped = true; /* until the owner says where it is */
    pthread_mutex_lock(&ra->mu);
    /* The thread starts with the first stream: a scan too short to
     * attach one costs no thread. */
    if (!ra->started && !ra->quit) {
        pthread_t th;
        pthread_attr_t at;
        if (pthread_attr_init(&at) == 0) {
            if (pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) ==
                    0 &&
                pthread_create(&th, &at, worker, ra) == 0) {
                atomic_fetch_add_explicit(&workers_started, 1,
                                          memory_order_relaxed);
                ra->started = true;
                ra->refs++;
            }
            pthread_attr_destroy(&at);
        }
    }
    if (!ra->started) {
        pthread_mutex_unlock(&ra->mu);
        meru_arena_free(s->arena);
        free(s);
        return meru_err(MERU_ENOMEM, "parquet: readahead: no thread");
    }
    s->next = ra->streams;
    if (ra->streams)
        ra->streams->prev = s;
    ra->streams = s;
    pthread_mutex_unlock(&ra->mu);
    *out = s;
    return MERU_OK;
}

void pqr_stream_close(pqr_stream *s)
{
    if (!s)
        return;
    pq_readahead *ra = s->ra;
    pthread_mutex_lock(&ra->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        ra->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    while (s->busy) {
        ra->owner_waiting = true;
        pthread_cond_wait(&ra->done, &ra->mu);
    }
    ra->owner_waiting = false;
    pthread_mutex_unlock(&ra->mu);
    for (unsigned i = 0; i < RA_MAX_PAGES; i++)
        meru_buf_free(&s->ring[i].data);
    for (unsigned i = 0; i < s->nspare; i++)
        meru_buf_free(&s->spare[i]);
    meru_arena_free(s->arena);
    free(s);
}

/* Drops the queued pages (their buffers become spares); caller holds mu. */
static void drop_ring(pqr_stream *s)
{
    for (; s->count; s->count--, s->head = (s->head + 1) % RA_MAX_PAGES) {
        ra_entry *e = &s->ring[s->head];
        if (e->data.cap && s->nspare <= RA_MAX_PAGES) {
            s->spare[s->nspare++] = e->data;
            memset(&e->data, 0, sizeof e->data);
        }
    }
    s->bytes = 0;
    s->rows = 0;
    s->holes = 0;
    s->gen++;
}

/* Spins until *p changes or about RA_SPIN_NS have passed. */
static void spin_for(const atomic_uint *p, unsigned seen)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(p, memory_order_relaxed) != seen)
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0) {
            /* let the worker run if it shares this core */
            sched_yield();
            clock_gettime(CLOCK_MONOTONIC, &t);
            int64_t ns = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 +
                         (t.tv_nsec - t0.tv_nsec);
            if (ns > RA_SPIN_NS)
                return;
        }
    }
}

int pqr_stream_take(pqr_stream *s, uint64_t off, pqr_ahead_page *pg,
                    meru_buf *data)
{
    pq_readahead *ra = s->ra;
    bool spun = false;
    pthread_mutex_lock(&ra->mu);
    for (;;) {
        if (s->count && s->ring[s->head].off == off && s->ring[s->head].hole) {
            ra_entry *e = &s->ring[s->head];
            s->rows -= e->n;
            if (e->data.cap && s->nspare <= RA_MAX_PAGES) {
                s->spare[s->nspare++] = e->data;
                memset(&e->data, 0, sizeof e->data);
            }
            s->head = (s->head + 1) % RA_MAX_PAGES;
            s->count--;
            pthread_mutex_unlock(&ra->mu);
            return PQR_AHEAD_HOLE;
        }
        if (s->count && s->ring[s->head].off == off) {
            ra_entry *e = &s->ring[s->head];
            s->rows -= e->n;
            *pg = e->pg;
            meru_buf t = *data;
            *data = e->data;
            /* the cursor's old buffer is a spare (the ring slot stays
             * empty so that spares are all the buffers in reserve) */
            memset(&e->data, 0, sizeof e->data);
            if (t.cap && s->nspare <= RA_MAX_PAGES)
                s->spare[s->nspare++] = t;
            else
                meru_buf_free(&t);
            s->bytes -= data->len;
            s->head = (s->head + 1) % RA_MAX_PAGES;
            s->count--;
            /* Wake the worker only when the ring is half empty: waking
             * it per page would cost a futex call per page. */
            if (ra->worker_waiting && s->count <= RA_MAX_PAGES / 2 &&
                s->bytes <= RA_MAX_BYTES / 2 && wants_work(s))
                pthread_cond_signal(&ra->work);
            pthread_mutex_unlock(&ra->mu);
            return PQR_AHEAD_TAKEN;
        }
        if (s->count == 0 && s->busy && s->busy_off == off &&
            s->busy_gen == s->gen && !spun) {
            /* The worker is on this very page: spin a little for it (it
             * is about half done on average). Sleeping instead cost a
             * futex wake and a context switch per page, and on a busy
             * machine a worker preempted mid-page kept the owner asleep
             * until it ran again: past the spin the owner loads the page
             * itself (the worker's copy is dropped). */
            if (s->holes < RA_MAX_PAGES)
                s->holes++;
            spun = true;
            unsigned seen =
                atomic_load_explicit(&s->published, memory_order_relaxed);
            pthread_mutex_unlock(&ra->mu);
            spin_for(&s->published, seen);
            pthread_mutex_lock(&ra->mu);
            continue;
        }
        break;
    }
    /* Not there (a seek, or the worker stopped or had not reached it):
     * the cursor loads it itself and restarts the stream after it. */
    drop_ring(s);
    s->stopped = true;
    /* A spin that timed out counts as idle: the worker was on this very
     * page and did not finish it in time (preempted on a machine with no
     * core to spare), which is what the cursor's backoff is for. */
    int why = ra->working && !spun ? PQR_AHEAD_MISS : PQR_AHEAD_IDLE;
    pthread_mutex_unlock(&ra->mu);
    return why;
}

void pqr_stream_restart(pqr_stream *s, uint64_t pos, int64_t left)
{
    pq_readahead *ra = s->ra;
    pthread_mutex_lock(&ra->mu);
    drop_ring(s);
    s->wpos = pos;
    s->wleft = left;
    s->stopped = false;
    if (ra->worker_waiting && wants_work(s))
        pthread_cond_signal(&ra->work);
    pthread_mutex_unlock(&ra->mu);
}
