/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst.h — an SST: one Parquet file of sorted internal-key rows (SPEC §6).
 *
 * Columns, in order: _merutable_ikey (BYTE_ARRAY, required; the internal
 * key), _merutable_seq (INT64, required), _merutable_op (INT32, required:
 * 1 put, 0 delete), then every user column of the schema with its Iceberg
 * field id, physical/logical type and nullability. Hidden columns carry the
 * reserved field ids below. Key columns are stored as ordinary user columns
 * (so external readers see them) and never null; in a delete row the key
 * columns hold the key and the other columns are null. Hence key columns
 * are REQUIRED in the file and every other user column is OPTIONAL, also
 * when the schema says NOT NULL (the reader still treats a null there in a
 * put row as corruption). Type mapping: sst_internal.h.
 *
 * Every primary-key column has a split-block bloom filter (the standard
 * one, so external engines use it too); a point lookup checks each key
 * column's filter before reading any data page, then finds the page of the
 * _merutable_ikey column through the page index, reads only that page (or
 * the next when a cut index bound misleads), and for a put the row's page
 * of each other column.
 *
 * Footer key/value metadata: "merutable.level", "merutable.min-seq",
 * "merutable.max-seq", "merutable.smallest-key" / "merutable.largest-key"
 * (hex of the encoded user keys), "merutable.row-count",
 * "merutable.schema" (the Iceberg schema JSON of meru_schema_to_json),
 * the same JSON again under "iceberg.schema" (the key Iceberg's writers
 * use, by which some Iceberg readers project a file's columns by id),
 * "merutable.format" ("1"), "merutable.file-id" (the file's name without
 * ".parquet": the engine names files by a UUID, so a file knows which it
 * is) and "merutable.bloom-crc32c" (the CRC-32C of every bloom filter,
 * pq_writer_options.bloom_crc_key: a damaged filter would make lookups
 * miss rows, so filters are checked when loaded). Files written before
 * the last two existed read without those checks.
 *
 * Reading maps the file's user columns onto the reader's schema by field
 * id: a column the file lacks reads as the column's initial default (null
 * when none) — that is how additive schema changes work without rewriting
 * files. The Iceberg promotions int -> long, float -> double and decimal
 * precision widening (same scale) are read too. Values are handed out in
 * rowcodec form for the reader's schema.
 *
 * Threads: a writer is used by one thread. A meru_sst may be shared: any
 * number of threads may call meru_sst_get and run iterators on it at once.
 */
#ifndef MERU_SST_SST_H
#define MERU_SST_SST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "engine/iter.h"
#include "merutable.h"
#include "parquet/pq.h"
#include "types/rowcodec.h"
#include "types/schema.h"
#include "util/buf.h"
#include "util/fs.h"

#define MERU_SST_COL_IKEY "_merutable_ikey"
#define MERU_SST_COL_SEQ  "_merutable_seq"
#define MERU_SST_COL_OP   "_merutable_op"
#define MERU_SST_FIELD_ID_IKEY (MERU_RESERVED_FIELD_ID_BASE + 1)
#define MERU_SST_FIELD_ID_SEQ  (MERU_RESERVED_FIELD_ID_BASE + 2)
#define MERU_SST_FIELD_ID_OP   (MERU_RESERVED_FIELD_ID_BASE + 3)
/* Iceberg reserves field ids >= 2147483447 (Integer.MAX_VALUE - 200) for
 * its metadata columns (_file, _pos, v3's _row_id 2147483540 and
 * _last_updated_sequence_number 2147483539, ...). The hidden columns sit
 * below that range, so a reader projecting by field id never takes one of
 * them for a metadata column; user columns sit below them (schema.h). */
_Static_assert(MERU_SST_FIELD_ID_OP < 2147483447,
               "hidden columns must stay below Iceberg's reserved field ids");

/* The longest internal key a writer accepts: the _merutable_ikey column's
 * page and chunk statistics hold exact bounds (two keys), and a page
 * header must stay within what readers accept (PQ_MAX_PAGE_HEADER). */
#define MERU_SST_MAX_IKEY ((PQ_MAX_PAGE_HEADER - (64u << 10)) / 2)

/* Column index bounds of the short-paged string columns are cut to this
 * many bytes (see meru_sst_options.string_page_bytes). */
#define SST_STRING_CI_TRUNCATE 16

typedef struct meru_sst_options {
    int level;              /* 0 = row-tuned, >= 1 column-tuned */
    pq_writer_options pq;   /* the Parquet writer's options */
    uint32_t batch_rows;    /* rows buffered per Parquet write; 0 = 4096 */
    /* Pages of BYTE_ARRAY user columns other than key columns end at this
     * many bytes of values (0 = pq.page_size), and their column index
     * bounds are cut to SST_STRING_CI_TRUNCATE bytes. A get decodes one
     * page of each column it returns: small pages where values are wide
     * make that cheap, while narrow columns keep the long pages scanners
     * want (meru_options.string_page_bytes). */
    uint32_t string_page_bytes;
    /* Pages of INT32, INT64, FLOAT and DOUBLE user columns other than key
     * columns end at this many bytes of values or this many / 8 rows
     * (0 = pq.page_size and pq.page_rows): long pages for scanners,
     * which pay per page, where a get's page of numbers stays cached
     * (meru_options.number_page_bytes). */
    uint32_t number_page_bytes;
} meru_sst_options;

/* The options the engine uses for files of `level` under the table
 * options `o` (NULL = defaults): the row profile with l0_page_bytes and
 * l0_compression for level 0; the column profile with page_bytes,
 * row_group_bytes, compression and zstd_level for deeper levels. */
void meru_sst_options_for_level(meru_sst_options *out, int level,
                                const meru_options *o);

/* What a finished file holds (for the catalog). */
typedef struct meru_sst_meta {
    uint64_t file_size;
    uint64_t row_count;
    uint64_t min_seq, max_seq;
    meru_buf smallest; /* encoded user key of the first row */
    meru_buf largest;  /* encoded user key of the last row */
} meru_sst_meta;
void meru_sst_meta_free(meru_sst_meta *m);

/* ------------------------------------------------------------- writing */

typedef struct meru_sst_writer meru_sst_writer;

/* Creates `path` (must not exist: MERU_EEXIST) and starts the file. The
 * schema is copied; o NULL = meru_sst_options_for_level(0, NULL). */
int meru_sst_writer_open(meru_sst_writer **out, meru_fs *fs, const char *path,
                         const meru_schema *schema, const meru_sst_options *o);
/* Appends one entry. Internal keys must be strictly increasing
 * (MERU_EINVAL otherwise); `value` is the rowcodec value of a put under
 * the writer's schema (ignored for deletes). Corrupt value: MERU_EINVAL. */
int meru_sst_writer_add(meru_sst_writer *w, const uint8_t *ikey, size_t ilen,
                        const uint8_t *value, size_t vlen);
/* The same with the entry's values given as vals[0 .. ncols) of the
 * writer's schema (key columns ignored: they come from the key; a value
 * that is not PRESENT is null), skipping the rowcodec round trip. A null in
 * a NOT NULL column is written as it is (the caller's business). */
int meru_sst_writer_add_values(meru_sst_writer *w, const uint8_t *ikey,
                               size_t ilen, const meru_value *vals);
uint64_t meru_sst_writer_rows(const meru_sst_writer *w);
/* Bytes written plus buffered so far (to cut output files at a size). */
uint64_t meru_sst_writer_bytes(const meru_sst_writer *w);
/* Finishes the file, fsyncs it (not its directory) and closes it; frees w
 * also on failure (then the partial file is removed). A writer with no
 * rows is MERU_EINVAL. `out` may be NULL. */
int meru_sst_writer_finish(meru_sst_writer *w, meru_sst_meta *out);
/* Frees w and removes the partial file. NULL-safe. */
void meru_sst_writer_abort(meru_sst_writer *w);

/* ------------------------------------------------------------- reading */

typedef struct meru_sst meru_sst;

/*
 * The memory key directories may take (sst_keydir.c). An L1+ file read
 * with a budget builds (meru_sst_keydir_build from a background thread,
 * or else the first get or batched lookup that reaches its rows; a get
 * that finds a build under way waits for it) a directory of its keys (9 or 13 bytes a row: a 4- or 8-byte
 * key prefix, a length class, the op, the sequence) when the budget has
 * room for it, and answers later gets and lookups from it without
 * decoding _merutable_ikey pages (keys longer than 8 bytes past the prefix
 * the file's keys share still read one page when found). Each directory
 * is charged to `charge_to` (the engine's page cache, or NULL) as pinned
 * entries of 64 KiB, and its bytes are taken from `capacity`, until the
 * file is closed. Files without room, L0 files, and files whose build
 * failed read through their pages as before. Shared by any number of
 * files and threads (one atomic counter).
 */
typedef struct meru_sst_keydir_budget {
    meru_cache *charge_to;
    uint64_t capacity;
    _Atomic uint64_t used;
    /* Counters (relaxed): directories built; gets that waited for a
     * build another thread had under way (the engine's builder, or
     * another get) rather than read pages; gets of files under the budget
     * answered from the pages because the file can have no directory (no
     * room, or its build failed; L0 files not counted). */
    _Atomic uint64_t built, waits, page_gets;
} meru_sst_keydir_budget;
void meru_sst_keydir_budget_init(meru_sst_keydir_budget *b,
                                 meru_cache *charge_to, uint64_t capacity);
/* Bytes the directories built under b hold now. */
uint64_t meru_sst_keydir_budget_used(const meru_sst_keydir_budget *b);

/* How a file is read. */
typedef struct meru_sst_read_options {
    /* Map the file read-only when the fs can (meru_file_map) and read it
     * in place: no copy of page bytes, no raw bytes in the cache. Off, or
     * when the map fails, bytes come through pread (and the cache's 32 KiB
     * blocks when there is a cache). */
    bool mmap;
    /* Key directories for L1+ files under this budget (not owned; must
     * outlive the file); NULL = none: every lookup reads pages. */
    meru_sst_keydir_budget *keydir;
} meru_sst_read_options;

/* Opens and checks a file written by meru_sst_writer (hidden columns
 * present with the right types, key columns present, footer metadata
 * consistent): MERU_ECORRUPT otherwise (also for a file lacking a NOT NULL
 * column of `schema` that has no initial default, or holding a column of
 * an incompatible type). `schema` is copied. `cache` (optional, not owned,
 * must outlive the meru_sst) keeps decoded pages for gets, and, when the
 * file is not mapped, file bytes (footer, indexes, bloom filters, pages)
 * in 32 KiB blocks under a per-file id. The size is taken at open (files
 * are immutable). ro NULL = {mmap = true}. */
int meru_sst_open_ex(meru_sst **out, meru_fs *fs, const char *path,
                     const meru_schema *schema, meru_cache *cache,
                     const meru_sst_read_options *ro);
/* meru_sst_open_ex with the default read options (mapped when possible). */
int meru_sst_open(meru_sst **out, meru_fs *fs, const char *path,
                  const meru_schema *schema, meru_cache *cache);
/* Whether the file is read through a memory map. */
bool meru_sst_mapped(const meru_sst *t);
/* Drops the pages of the file's map from the process's resident set (a
 * hint: the map stays valid and readers fault in what they touch next,
 * from the page cache). A streaming reader of the whole file (compaction)
 * calls it as it goes, so the file's pages do not pile up in its RSS; a
 * no-op for a file read through pread. */
void meru_sst_release_pages(const meru_sst *t);
/* The same for one row group's bytes only: a reader moving forward
 * through the file (a scan, the flush's lookup of pre-images) lets go of
 * what it has passed, and pages of other row groups that gets are using
 * stay. A no-op for a file read through pread or a row group out of
 * range. */
void meru_sst_release_row_group(const meru_sst *t, uint32_t rg);
/* Bytes of the file's key directory, 0 when it has none (yet). */
uint64_t meru_sst_keydir_bytes(const meru_sst *t);
/* Builds t's key directory now if it should have one and nobody built or
 * is building it (an L1+ file opened with a budget that has room):
 * whether t has a directory on return. A build that fails leaves the
 * file on its pages (nothing is reported: the pages report the damage
 * where a read meets it). Any thread: a background builder gives files
 * their directories before gets need them (a get that reaches a file
 * without one builds it, or waits for the build under way). `cancel`
 * (optional) is read between row groups: once true the build stops and
 * leaves the file without a whole directory, to be built later (a
 * closing handle need not wait for a whole file's pass; an integer key's
 * row groups already built stay, charged, and gets build the rest as they
 * need them). */
bool meru_sst_keydir_build(meru_sst *t, const atomic_bool *cancel);
/* Decodes the pages of an L1+ file's number value columns (INT32, INT64,
 * FLOAT, DOUBLE columns outside the key) into the page cache, skipping
 * those already there, while the cache's bytes stay within
 * 1/MERU_SST_WARM_SHARE of its capacity (*full set once they would not:
 * the caller warms no further file). The first gets after an open then
 * find them instead of decoding them (sst_cache.c, "warming pages").
 * Entries are inserted as a get's would be but counted neither as hits
 * nor misses. `cancel` (optional) is read between pages: MERU_ECLOSED once
 * true. Files without a page cache and L0 files: nothing to do. */
#define MERU_SST_WARM_SHARE 2
int meru_sst_warm_pages(meru_sst *t, const atomic_bool *cancel, bool *full,
                        uint64_t *pages);
void meru_sst_close(meru_sst *t); /* NULL-safe; no iterator may be open */

uint64_t meru_sst_row_count(const meru_sst *t);
uint64_t meru_sst_file_size(const meru_sst *t);
int meru_sst_level(const meru_sst *t);

/* What an open file says it is, to cross-check it against the table's
 * metadata entry for it. Everything is borrowed from t. */
typedef struct meru_sst_info {
    const char *file_id; /* "merutable.file-id", or NULL (older files) */
    int level;           /* "merutable.level" */
    uint64_t rows;
    uint64_t file_size; /* bytes on disk when opened */
    uint64_t min_seq, max_seq;
    const uint8_t *smallest, *largest; /* encoded user keys */
    size_t smallest_len, largest_len;
    uint32_t row_groups; /* Parquet row groups (>= 1) */
} meru_sst_info;
void meru_sst_get_info(const meru_sst *t, meru_sst_info *out);

typedef enum meru_sst_state {
    MERU_SST_NOT_FOUND = 0,
    MERU_SST_FOUND = 1,  /* newest visible version is a put */
    MERU_SST_DELETED = 2 /* newest visible version is a delete */
} meru_sst_state;

/* Per-read flags of a get (meru_sst_key.flags) or an iterator
 * (meru_sst_iter_new_ex): the engine's meru_read_options. */
#define MERU_SST_NO_FILL_CACHE 1u /* use cached pages / blocks, add none */
#define MERU_SST_SKIP_CRC      2u /* do not verify page CRCs */
/* Iterators only: no decode-ahead thread (sst_iter.c). By default an
 * iterator that reads on in sequence through a compressed column chunk
 * (16 pages and 64 KiB of them, pq_readahead in pq.h) has a worker thread
 * decompress the next pages while it decodes the current ones. A caller
 * holding many iterators open at once (a merge of overlapping files)
 * passes it: a thread per file would be that many threads. */
#define MERU_SST_NO_READAHEAD  4u

typedef struct meru_sst_read_stats {
    uint64_t bloom_checks;    /* lookups that consulted the filters */
    uint64_t bloom_negatives; /* ... and were answered by them */
    uint64_t pages_read;      /* data pages decoded */
} meru_sst_read_stats;

/* Newest version of `ukey` with seq <= read_seq. FOUND: *value gets the
 * rowcodec value (replacing its contents; `value` may be NULL when only
 * the state is wanted). *seq (optional) the version's sequence. Returns
 * MERU_OK with *state set, or an error (a user key that does not decode
 * under the schema is MERU_EINVAL). Keys outside the file's key range, and
 * read_seq below its smallest sequence, are answered without any I/O.
 * `stats` optional (added to, not reset). */
int meru_sst_get(meru_sst *t, const uint8_t *ukey, size_t klen,
                 uint64_t read_seq, meru_sst_state *state, uint64_t *seq,
                 meru_buf *value, meru_sst_read_stats *stats);

/* A user key looked up in several files (by meru_sst_get_key): the
 * first file that needs it decodes it into key column values, and the
 * bloom-filter hash of each key column is computed once per file column
 * type, so a get probing many files does that work once. `ukey` is not
 * copied (it must outlive the struct's use). Used by one thread. */
typedef struct meru_sst_key_hash {
    bool set, ok;
    int type;            /* pq_type of the file column it was made for */
    int32_t type_length;
    uint64_t hash;
} meru_sst_key_hash;
typedef struct meru_sst_key {
    const uint8_t *ukey;
    size_t klen;
    int state; /* 0: not decoded yet, 1: decoded, -1: does not decode */
    size_t nk;
    meru_value kv[MERU_MAX_KEY_COLUMNS];
    meru_buf scratch;
    meru_sst_key_hash bh[MERU_MAX_KEY_COLUMNS];
    unsigned flags; /* MERU_SST_*; meru_sst_key_init sets 0 */
} meru_sst_key;
void meru_sst_key_init(meru_sst_key *k, const uint8_t *ukey, size_t klen);
void meru_sst_key_free(meru_sst_key *k); /* frees the decode scratch */

/* meru_sst_get with a key prepared by meru_sst_key_init. */
int meru_sst_get_key(meru_sst *t, meru_sst_key *key, uint64_t read_seq,
                     meru_sst_state *state, uint64_t *seq, meru_buf *value,
                     meru_sst_read_stats *stats);

/* An iterator over every entry (all versions). `proj` (NULL = all
 * columns) selects which user columns are decoded into values; the
 * others are left out of the value: they decode as null, or as a zero
 * value of their type when NOT NULL (the rowcodec has no null there). Key
 * columns are never in a value (they come from the key). The iterator
 * reads pages as it goes (a window of at most 1024 rows of one ikey page)
 * and never loads the file; `t` must outlive it. */
int meru_sst_iter_new(meru_sst *t, const meru_colset *proj, meru_iiter **out);
/* The same with read flags (MERU_SST_*). */
int meru_sst_iter_new_ex(meru_sst *t, const meru_colset *proj, unsigned flags,
                         meru_iiter **out);

/* The row position of an SST iterator's current entry: its 0-based
 * ordinal in the file across row groups (Iceberg's `_pos`). `it` must be
 * valid() and come from meru_sst_iter_new; anything else gives
 * UINT64_MAX. Costs nothing: the iterator knows it. */
uint64_t meru_sst_iter_pos(const meru_iiter *it);

/* Whether an SST iterator's decode-ahead worker was started (a scan read
 * on in sequence through compressed pages; MERU_SST_NO_READAHEAD never);
 * false for any other iterator. For tests and benchmarks. */
bool meru_sst_iter_reads_ahead(const meru_iiter *it);

/* ------------------------------------------------------ batched lookup */

/* An encoded user key (borrowed). */
typedef struct meru_sst_ukey {
    const uint8_t *ptr;
    size_t len;
} meru_sst_ukey;

/*
 * The keys of a batched lookup (sst_lookup.c): n distinct encoded user
 * keys in ascending order (not copied: they must outlive the set), plus
 * what every file probe reuses: the bloom-filter hash of each key column
 * of each key, computed the first time the key reaches a filter and kept
 * for every later file. Used by one thread.
 */
typedef struct meru_sst_keyset {
    const meru_schema *schema; /* not owned */
    const meru_sst_ukey *keys;
    size_t n;
    /* private */
    size_t nk;         /* key columns */
    uint64_t *hash;    /* n * nk */
    uint8_t *hashed;   /* per key: its hashes are computed */
    uint32_t *hmask;   /* per key: the key columns with a hash (bits) */
    bool typed;        /* htype/htlen set (by the first file hashed for) */
    int htype[MERU_MAX_KEY_COLUMNS]; /* file column type hashes are for */
    int32_t htlen[MERU_MAX_KEY_COLUMNS];
    meru_buf scratch;
} meru_sst_keyset;

/* Prepares a set over keys[0..n) (ascending, distinct; checked: MERU_EINVAL
 * otherwise). MERU_ENOMEM. Free with meru_sst_keyset_free (also after a
 * failed init). */
int meru_sst_keyset_init(meru_sst_keyset *ks, const meru_schema *schema,
                         const meru_sst_ukey *keys, size_t n);
void meru_sst_keyset_free(meru_sst_keyset *ks);

/* A key a file holds: its newest version there. */
typedef struct meru_sst_found {
    size_t key;   /* index into the keyset */
    int op;       /* MERU_OP_PUT or MERU_OP_DELETE */
    uint64_t seq; /* the version's sequence */
    uint64_t pos; /* its row position in the file (Iceberg's _pos) */
} meru_sst_found;

/* Receives the rowcodec value (under the reader's schema, as meru_sst_get
 * gives it) of a found put; the bytes are valid during the call only. A
 * non-zero return stops the lookup and is returned by it. */
typedef int (*meru_sst_value_fn)(void *arg, size_t key, uint64_t pos,
                                 const uint8_t *value, size_t len);

typedef struct meru_sst_lookup_opts {
    meru_sst_value_fn value_fn; /* NULL: no values are read */
    void *arg;
    /* Per keyset index, nonzero = the caller wants this key's value; NULL =
     * every found put's. Value columns are read for these rows only. */
    const uint8_t *want;
} meru_sst_lookup_opts;

/*
 * For each key ks->keys[idx[i]] (idx ascending, i < n), whether the file
 * holds any version of it, and if so the newest: fills found[0..*nfound)
 * in key order (found has room for n). Equivalent to meru_sst_get with
 * read_seq MERU_SEQ_MAX for each key, plus the row position, at a fraction
 * of the cost: keys outside the file's range are skipped without I/O; each
 * key's bloom filters (hashes from the keyset) are checked in the row
 * group that can hold it; the _merutable_ikey page index gives the page
 * each remaining key can be in; those pages are decoded at most once each
 * (in row order, through one cursor, not the page cache) and the sorted
 * keys merged against them. With o->value_fn, the wanted found puts'
 * values are read afterwards, one row of each value column per put, each
 * page of those columns decoded at most once. o NULL = no values.
 * `stats` (optional) is added to: bloom_checks/negatives as meru_sst_get
 * counts them, pages_read every data page decoded. Errors: MERU_ECORRUPT
 * (a damaged file), MERU_ENOMEM, or value_fn's.
 *
 * An L1+ file opened with a key directory budget (meru_sst_keydir_budget)
 * answers from its directory instead, built by the first lookup or get
 * that needs it (its ikey pages then count in pages_read once): the
 * sorted keys are merged against it (no filter, no page index, no page),
 * except a key longer than 8 bytes past the file's shared key prefix that
 * matches a row there, which reads its page as above. Same answers.
 */
int meru_sst_lookup_batch(meru_sst *t, meru_sst_keyset *ks, const size_t *idx,
                          size_t n, const meru_sst_lookup_opts *o,
                          meru_sst_found *found, size_t *nfound,
                          meru_sst_read_stats *stats);

/* Calls fn(arg, pos, ikey, ilen) with the internal key stored at each row
 * position pos[0..n) (ascending, each < the row count: MERU_EINVAL
 * otherwise), decoding each _merutable_ikey page needed once. The key is
 * valid during the call. A non-zero return of fn stops and is returned. */
int meru_sst_ikeys_at(meru_sst *t, const uint64_t *pos, size_t n,
                      int (*fn)(void *arg, uint64_t pos, const uint8_t *ikey,
                                size_t ilen),
                      void *arg, meru_sst_read_stats *stats);

#endif
