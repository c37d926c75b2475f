/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thrift.h — the Thrift compact protocol, as far as Parquet metadata needs
 * it: a bounds-checked reader over (p, len) and a writer onto a meru_buf.
 *
 * Wire format (apache/thrift doc/specs/thrift-compact-protocol.md):
 *   - field header: one byte `ddddtttt` (delta to the previous field id of
 *     the same struct in the high nibble, 1..15, type in the low nibble), or
 *     `0000tttt` followed by the id as a zigzag varint (long form); 0 = stop.
 *   - bool fields carry their value in the type (1 true, 2 false), no body.
 *   - i16/i32/i64 are zigzag varints, i8 one byte, double 8 bytes LE,
 *     binary/string a varint length then the bytes, uuid 16 bytes.
 *   - list/set header `sssstttt` (size 0..14 in the high nibble) or
 *     `1111tttt` + varint size; bool elements are one byte each.
 *   - map header: varint size, then (when size > 0) one byte `kkkkvvvv`.
 *
 * Reader invariants: every read checks the bytes left first; a failure
 * returns MERU_ECORRUPT with the offset in meru_errmsg() and leaves the
 * cursor unspecified (callers stop at the first error). A collection's
 * element count is checked against the bytes left before anyone allocates
 * for it (every element takes at least one byte on the wire). Nesting of
 * structs and collections inside skipped values is bounded by TC_MAX_DEPTH,
 * so skipping hostile input cannot exhaust the stack, and skipping costs
 * time linear in the input (every loop iteration consumes a byte or more).
 * The struct decoders in meta.c recurse only along the fixed shape of the
 * Parquet structs, so they need no depth counter of their own.
 *
 * The reader keeps no per-struct state: each struct decoder holds the
 * previous field id (`last`) in its own frame and passes it to
 * tc_read_field(). The writer does keep a stack of previous ids, one per
 * open struct, because encoders call it field by field.
 *
 * Writer errors are sticky: after the first failure (out of memory, a
 * binary or list too long for an i32, a nesting bug) further calls do
 * nothing and tc_writer_finish() returns the code, so encoders need not
 * check every call.
 *
 * Not here: the message envelope (RPC), the binary protocol, and any
 * knowledge of Parquet structs (that is meta.c).
 */
#ifndef MERU_PARQUET_THRIFT_H
#define MERU_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Compact-protocol type codes (field types; element types are the same
 * except that a bool element may be tagged 1 or 2). */
enum {
    TC_STOP = 0,
    TC_TRUE = 1,
    TC_FALSE = 2,
    TC_I8 = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
    TC_UUID = 13
};

/* Element type a writer uses for list<bool>: Apache Thrift's C++ and Java
 * libraries (and so parquet-mr and Arrow) write 1; readers accept 1 and 2. */
#define TC_BOOL_ELEM TC_TRUE

#define TC_MAX_DEPTH 64

/* ------------------------------------------------------------- reader */

typedef struct tc_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;     /* bytes consumed */
    unsigned depth; /* nesting inside tc_skip (bounded by TC_MAX_DEPTH) */
} tc_reader;

void tc_reader_init(tc_reader *r, const uint8_t *p, size_t len);

static inline size_t tc_left(const tc_reader *r)
{
    return r->len - r->pos;
}

/* Reads the next field header of a struct whose previous field id is *last
 * (0 at the start). On TC_STOP, *id is 0. For a bool field *type is TC_TRUE
 * or TC_FALSE and there is no body to read. */
int tc_read_field(tc_reader *r, int16_t *last, int *type, int16_t *id);

static inline bool tc_is_bool(int type)
{
    return type == TC_TRUE || type == TC_FALSE;
}

int tc_read_i8(tc_reader *r, int8_t *out);
int tc_read_i16(tc_reader *r, int16_t *out);
int tc_read_i32(tc_reader *r, int32_t *out);
int tc_read_i64(tc_reader *r, int64_t *out);
int tc_read_double(tc_reader *r, double *out);
/* Binary/string: *out points into the input (not copied); the length is
 * checked against the bytes left and against INT32_MAX. */
int tc_read_binary(tc_reader *r, const uint8_t **out, uint32_t *n);
/* A bool inside a list/set/map: one byte, 1 = true, 0 or 2 = false. */
int tc_read_bool_elem(tc_reader *r, bool *out);

/* List or set header. *n is checked against the bytes left (each element
 * takes at least the minimum wire size of its type); the element type is
 * checked to be a valid value type when *n > 0. Bool elements report
 * TC_TRUE whichever tag (1 or 2) was used. */
int tc_read_list(tc_reader *r, int *elem_type, uint32_t *n);

/* Further check for decoders that know their elements are bigger: fails
 * unless n elements of at least min_bytes each fit in the bytes left. */
int tc_check_count(const tc_reader *r, uint32_t n, size_t min_bytes,
                   const char *what);

/* Skips one value of wire type `type` (a field body or an element),
 * including nested structs, lists, sets and maps, depth-limited. A bool
 * *field* has no body: pass TC_TRUE/TC_FALSE as the type and nothing is
 * read. Use tc_skip_elem() for elements, where a bool is one byte. */
int tc_skip(tc_reader *r, int type);
int tc_skip_elem(tc_reader *r, int type);

/* ------------------------------------------------------------- writer */

typedef struct tc_writer {
    meru_buf *out;
    int rc; /* first error; later calls are no-ops */
    unsigned depth;
    int16_t last[TC_MAX_DEPTH]; /* previous field id per open struct */
} tc_writer;

void tc_writer_init(tc_writer *w, meru_buf *out);
/* 0, or the first error (MERU_ENOMEM, or MERU_EINTERNAL for unbalanced
 * struct begin/end or a bad field id). */
int tc_writer_finish(tc_writer *w);

/* Opens a struct (top level, list element or after tc_w_field(.., STRUCT)). */
void tc_w_struct_begin(tc_writer *w);
/* Writes the stop byte and closes the struct. */
void tc_w_struct_end(tc_writer *w);

/* Field header: short form when 1 <= id - previous <= 15, else long form.
 * For bool fields use tc_w_field_bool (the value lives in the header). */
void tc_w_field(tc_writer *w, int16_t id, int type);
void tc_w_field_bool(tc_writer *w, int16_t id, bool v);
void tc_w_field_i8(tc_writer *w, int16_t id, int8_t v);
void tc_w_field_i16(tc_writer *w, int16_t id, int16_t v);
void tc_w_field_i32(tc_writer *w, int16_t id, int32_t v);
void tc_w_field_i64(tc_writer *w, int16_t id, int64_t v);
void tc_w_field_double(tc_writer *w, int16_t id, double v);
void tc_w_field_binary(tc_writer *w, int16_t id, const void *p, size_t n);
/* Field whose body is an empty struct (union members such as
 * TypeDefinedOrder or StringType). */
void tc_w_field_empty_struct(tc_writer *w, int16_t id);

/* Bare values (list elements, or a field body after tc_w_field). */
void tc_w_i8(tc_writer *w, int8_t v);
void tc_w_i16(tc_writer *w, int16_t v);
void tc_w_i32(tc_writer *w, int32_t v);
void tc_w_i64(tc_writer *w, int64_t v);
void tc_w_double(tc_writer *w, double v);
void tc_w_binary(tc_writer *w, const void *p, size_t n);
void tc_w_bool_elem(tc_writer *w, bool v);
/* List header; n must fit an i32. Elements follow (no end marker). */
void tc_w_list(tc_writer *w, int elem_type, size_t n);

#endif
