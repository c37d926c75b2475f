/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_dec.h — the Thrift-struct decoding machinery shared by the Parquet
 * metadata decoders: meta.c (the driver, the helpers, Statistics,
 * FileMetaData) and meta_page.c (PageHeader, ColumnIndex, OffsetIndex,
 * BloomFilterHeader). Not an API: only src/parquet/meta*.c include it; the
 * decoders' entry points are in meta.h. The rules every decoder keeps
 * (unknown fields skipped, required ones checked, negative sizes refused,
 * how error messages are built) are at the top of meta.c.
 */
#ifndef MERU_PARQUET_META_DEC_H
#define MERU_PARQUET_META_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/meta.h"
#include "parquet/thrift.h"
#include "util/arena.h"

/* One decode in progress: the input, the arena the tree is built in (NULL
 * for structs holding no strings or lists), and where in a list we are. */
typedef struct md_dec {
    tc_reader r;
    meru_arena *a;
    long idx; /* element index while decoding a list field, else -1 */
} md_dec;

/* One entry of a struct's field table, indexed by field id. */
typedef struct md_fdesc {
    const char *name; /* NULL: not a field this code reads */
    uint8_t type;     /* wire type; TC_TRUE stands for a bool of either value */
    bool required;
} md_fdesc;

#define MD_NFIELDS(table) (sizeof table / sizeof table[0])

/* Stores field `id` (wire type `t`, already checked) into `obj`. */
typedef int (*md_field_fn)(md_dec *d, void *obj, int16_t id, int t);

/* Decodes one struct element; `elem` points at zeroed storage. */
typedef int (*md_elem_fn)(md_dec *d, void *elem);

/* Reads the fields of struct `st` up to its stop byte: a field whose id and
 * wire type match table `f` (nf entries, fewer than 32) goes to `fn`, any
 * other is skipped; then checks the required ones were there. Errors are
 * prefixed "st.field[idx]". */
int md_dec_struct(md_dec *d, const char *st, const md_fdesc *f, size_t nf,
                  md_field_fn fn, void *obj);

/* MERU_ECORRUPT "what (v) at offset N". */
int md_corrupt_value(const md_dec *d, const char *what, long long v);

/* An i32 / i64 that must not be negative. */
int md_rd_i32_nonneg(md_dec *d, int32_t *out);
int md_rd_i64_nonneg(md_dec *d, int64_t *out);

/* An enum (an i32), kept whatever its value. */
int md_rd_enum(md_dec *d, int *out);

/* A binary, copied into the arena. */
int md_rd_bytes(md_dec *d, pq_bytes *out);

/* List header with elements of wire type `want`, each at least min_bytes
 * long; allocates a zeroed array of *n elements of `size` bytes (NULL when
 * *n == 0) after checking the count against the bytes left. */
int md_rd_list(md_dec *d, int want, size_t min_bytes, size_t size, void **arr,
               uint32_t *n);

/* list<struct>: md_rd_list, then `fn` on each element with d->idx naming
 * it for error messages. */
int md_rd_struct_list(md_dec *d, size_t min_bytes, size_t size, md_elem_fn fn,
                      void **arr, uint32_t *n);

/* Statistics into zeroed *s; a negative null / distinct count (some
 * writers' "unknown") reads as absent. */
int md_dec_statistics(md_dec *d, pq_statistics *s);

#endif
