/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dv.h — a deletion vector: the set of deleted row positions of one data
 * file (Iceberg spec, "Deletion Vectors"; SPEC §9).
 *
 * Positions are 0-based row ordinals in the data file, across row groups,
 * as Iceberg defines them (`_pos`). They are 64-bit; the set is kept the way
 * the Iceberg 64-bit Roaring portable form lays it out: one 32-bit Roaring
 * bitmap (CRoaring) per distinct high 32 bits, buckets sorted by that key.
 * Debian's CRoaring has no 64-bit map, and the on-disk form is exactly this
 * bucket list, so (de)serialisation is a walk over the buckets.
 *
 * Every function that can allocate returns MERU_OK or MERU_ENOMEM (with the
 * error message set) and leaves the set unchanged on failure. A set is used
 * by one thread at a time; const functions may run concurrently.
 */
#ifndef MERU_ICEBERG_DV_H
#define MERU_ICEBERG_DV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct meru_dv meru_dv;

/* An empty set. Free with meru_dv_free. */
int meru_dv_new(meru_dv **out);
void meru_dv_free(meru_dv *dv); /* accepts NULL */
/* Deep copy. */
int meru_dv_clone(meru_dv **out, const meru_dv *dv);

/* Adds one position / every position in [lo, hi) (hi <= lo adds nothing). */
int meru_dv_add(meru_dv *dv, uint64_t pos);
int meru_dv_add_range(meru_dv *dv, uint64_t lo, uint64_t hi);
/* dst |= src. */
int meru_dv_union(meru_dv *dst, const meru_dv *src);

bool meru_dv_contains(const meru_dv *dv, uint64_t pos);
uint64_t meru_dv_cardinality(const meru_dv *dv);
bool meru_dv_is_empty(const meru_dv *dv);
/* The largest position in the set; false when it is empty. */
bool meru_dv_max(const meru_dv *dv, uint64_t *out);
bool meru_dv_equal(const meru_dv *a, const meru_dv *b);
/* Every position of `a` is in `b`. */
bool meru_dv_is_subset(const meru_dv *a, const meru_dv *b);

/* Calls fn(pos, arg) for every position in ascending order; stops at (and
 * returns) the first non-zero return of fn. */
int meru_dv_foreach(const meru_dv *dv, int (*fn)(uint64_t pos, void *arg),
                    void *arg);

/* Compresses runs (call once a set is complete, before serialising). */
void meru_dv_optimize(meru_dv *dv);

/* ---- internal: the buckets, for the serialiser in this module ---------- */

/* Number of buckets (distinct high 32-bit keys, non-empty ones only after
 * meru_dv_optimize; an add never leaves an empty bucket). */
size_t meru_dv_bucket_count(const meru_dv *dv);
/* The i-th bucket in key order: its key and its CRoaring bitmap (a
 * `const roaring_bitmap_t *`, left as void so this header does not pull in
 * CRoaring's). */
uint32_t meru_dv_bucket_key(const meru_dv *dv, size_t i);
const void *meru_dv_bucket_bitmap(const meru_dv *dv, size_t i);
/* Appends a bucket taking ownership of `bitmap` (a roaring_bitmap_t *): the
 * key must be greater than every key already present (MERU_ECORRUPT
 * otherwise, and the bitmap is freed). For decoders. */
int meru_dv_push_bucket(meru_dv *dv, uint32_t key, void *bitmap);

/* ---- deletion-vector-v1 blobs (dv_codec.c) -------------------------------
 *
 * The Puffin blob of the Iceberg spec ("deletion-vector-v1"):
 *   length   4 bytes big-endian: bytes of magic + vector
 *   magic    D1 D3 39 64
 *   vector   the 64-bit Roaring portable form: bucket count (8 bytes LE),
 *            then per bucket (ascending keys) the key (4 bytes LE) and the
 *            32-bit Roaring bitmap in its portable serialisation
 *   crc      4 bytes big-endian: CRC-32 (zlib's, ISO-HDLC) of magic + vector
 * Positions must be below 2^63 (the spec's "most significant bit 0").
 * Decoding is hostile-input safe: the 32-bit portable layout of every
 * bucket is validated in full before CRoaring sees it. */

#define MERU_DV_BLOB_TYPE "deletion-vector-v1"
/* The blob's `fields`: the row position column (_pos) the vector covers. */
#define MERU_DV_POS_FIELD_ID 2147483645

struct meru_buf;
struct meru_fs;
struct meru_puffin_writer;
struct meru_puffin_reader;

/* Appends the blob of `dv` to `out`. Calls meru_dv_optimize(dv) first (the
 * set is unchanged, its containers compressed). MERU_EINVAL for a position
 * at or above 2^63. */
int meru_dv_blob_encode(struct meru_buf *out, meru_dv *dv);
/* Decodes a blob of exactly n bytes. expected_cardinality: the number of
 * positions the metadata promises (MERU_ECORRUPT when it differs), or
 * UINT64_MAX to skip that check. */
int meru_dv_blob_decode(meru_dv **out, const uint8_t *p, size_t n,
                        uint64_t expected_cardinality);
/* Checks one 32-bit Roaring bitmap in portable form at p[0..n): on success
 * *size is its length in bytes and *cardinality its number of values. */
int meru_dv_roaring_check(const uint8_t *p, size_t n, size_t *size,
                          uint64_t *cardinality);

/* Adds the blob of `dv` for data file `referenced_data_file` to a Puffin
 * file: type deletion-vector-v1, fields [_pos], snapshot-id and
 * sequence-number -1, properties referenced-data-file and cardinality.
 * *offset / *length get the blob's place (the manifest entry's
 * content_offset / content_size_in_bytes). */
int meru_dv_puffin_add(struct meru_puffin_writer *w, meru_dv *dv,
                       const char *referenced_data_file, uint64_t *offset,
                       uint64_t *length);
/* Reads back the DV blob at (offset, length) of an open Puffin file: the
 * footer must list a deletion-vector-v1 blob exactly there whose
 * referenced-data-file and cardinality properties equal the expected ones
 * (MERU_ECORRUPT otherwise), and the bytes must decode to that many
 * positions. */
int meru_dv_puffin_read(struct meru_puffin_reader *r, uint64_t offset,
                        uint64_t length, const char *referenced_data_file,
                        uint64_t cardinality, meru_dv **out);
/* meru_dv_puffin_read on the Puffin file at `path`. */
int meru_dv_read_blob(struct meru_fs *fs, const char *path, uint64_t offset,
                      uint64_t length, const char *referenced_data_file,
                      uint64_t cardinality, meru_dv **out);

#endif
