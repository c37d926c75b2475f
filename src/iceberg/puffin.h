/* SPDX-License-Identifier: Apache-2.0 */
/*
 * puffin.h — Puffin files (Iceberg puffin-spec.md): a magic, blobs, and a
 * footer describing them.
 *
 *   file   = "PFA1" blob_1 ... blob_n footer
 *   footer = "PFA1" payload payload_size(4, LE) flags(4) "PFA1"
 *
 * The payload is UTF-8 JSON: {"blobs": [{"type", "fields", "snapshot-id",
 * "sequence-number", "offset", "length", ["compression-codec"],
 * ["properties"]}, ...], "properties": {...}}. We write it uncompressed
 * (flags 0) with the file property "created-by"; a reader meeting a
 * compressed footer (flag bit 0) says MERU_ENOTSUP. Blobs are stored as
 * given (a blob's own compression codec is the caller's business, and
 * deletion-vector-v1 blobs have none).
 *
 * Writer: creates the file (it must not exist), appends the magic and the
 * blobs as they come (returning each blob's offset and length: what a
 * manifest entry's content_offset / content_size_in_bytes must equal),
 * then the footer; syncs and closes. On any failure, or on abort, the file
 * is removed. The caller syncs the directory.
 *
 * Reader: reads the footer (at most max_footer bytes), checks both magics,
 * the flags, the JSON shape and that every blob lies between the leading
 * magic and the footer; blobs are then read by index or by offset/length.
 * Input is hostile: every problem is MERU_ECORRUPT naming the file.
 */
#ifndef MERU_ICEBERG_PUFFIN_H
#define MERU_ICEBERG_PUFFIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/fs.h"

#define MERU_PUFFIN_MAGIC "PFA1"
/* Default cap on a footer payload a reader loads. */
#define MERU_PUFFIN_MAX_FOOTER ((size_t)64 << 20)

typedef struct meru_puffin_prop {
    const char *key;
    const char *value;
} meru_puffin_prop;

/* A blob as described in the footer. */
typedef struct meru_puffin_blob_meta {
    const char *type;
    const int32_t *fields;
    size_t n_fields;
    int64_t snapshot_id;
    int64_t sequence_number;
    uint64_t offset;
    uint64_t length;
    const char *compression_codec; /* NULL: uncompressed */
    const meru_puffin_prop *props;
    size_t n_props;
} meru_puffin_blob_meta;

/* ---------------------------------------------------------- writer --- */

typedef struct meru_puffin_writer meru_puffin_writer;

/* Creates `path` and writes the leading magic. */
int meru_puffin_writer_open(meru_puffin_writer **out, meru_fs *fs,
                            const char *path);
/* Appends a blob; meta->offset and meta->length are ignored (the writer
 * sets them) and returned in *offset / *length (optional). Strings and
 * arrays of meta are copied. After a failure the writer only aborts. */
int meru_puffin_writer_add(meru_puffin_writer *w,
                           const meru_puffin_blob_meta *meta, const void *data,
                           size_t len, uint64_t *offset, uint64_t *length);
/* Blobs added so far. */
size_t meru_puffin_writer_count(const meru_puffin_writer *w);
/* Writes the footer (file properties: "created-by" plus props), syncs,
 * closes, frees w (also on failure, removing the file then). *file_size
 * (optional) gets the size of the file. */
int meru_puffin_writer_finish(meru_puffin_writer *w,
                              const meru_puffin_prop *props, size_t n_props,
                              uint64_t *file_size);
/* Closes and removes the file, frees w. Accepts NULL. */
void meru_puffin_writer_abort(meru_puffin_writer *w);

/* ---------------------------------------------------------- reader --- */

typedef struct meru_puffin_footer meru_puffin_footer;

/* Parses a footer from the last `tail_len` bytes of a file of `file_size`
 * bytes (tail = the file's bytes [file_size - tail_len, file_size)); if
 * the tail is too short to hold the footer, MERU_ERANGE with *need set to
 * the tail length required. For readers and fuzzers. */
int meru_puffin_footer_parse(meru_puffin_footer **out, const uint8_t *tail,
                             size_t tail_len, uint64_t file_size,
                             uint64_t *need);
void meru_puffin_footer_free(meru_puffin_footer *f); /* accepts NULL */
size_t meru_puffin_footer_blob_count(const meru_puffin_footer *f);
const meru_puffin_blob_meta *
meru_puffin_footer_blob(const meru_puffin_footer *f, size_t i);
/* A file property, or NULL. */
const char *meru_puffin_footer_prop(const meru_puffin_footer *f,
                                    const char *key);
/* A blob property, or NULL. */
const char *meru_puffin_blob_prop(const meru_puffin_blob_meta *b,
                                  const char *key);

typedef struct meru_puffin_reader meru_puffin_reader;

/* Opens `path` and reads its footer (payload at most max_footer bytes; 0 =
 * MERU_PUFFIN_MAX_FOOTER). Also checks the leading magic. */
int meru_puffin_reader_open(meru_puffin_reader **out, meru_fs *fs,
                            const char *path, size_t max_footer);
void meru_puffin_reader_close(meru_puffin_reader *r); /* accepts NULL */
const meru_puffin_footer *
meru_puffin_reader_footer(const meru_puffin_reader *r);
/* Reads blob i into a malloc'd buffer (free with free()); MERU_ERANGE if it
 * is longer than max bytes. */
int meru_puffin_reader_read_blob(meru_puffin_reader *r, size_t i, size_t max,
                                 uint8_t **out, size_t *len);
/* The index of the blob at exactly (offset, length); MERU_NOT_FOUND if the
 * footer lists none. */
int meru_puffin_reader_find(const meru_puffin_reader *r, uint64_t offset,
                            uint64_t length, size_t *index);

#endif
