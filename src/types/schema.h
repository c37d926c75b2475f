/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.h — internal view of a table schema (the public builder API is in
 * merutable.h; this is what the engine reads).
 *
 * Invariants once meru_schema_validate() has succeeded: names unique, field
 * ids unique and positive (< MERU_RESERVED_FIELD_ID_BASE), key columns exist,
 * are NOT NULL and are listed once each; defaults parsed into `*_default`.
 */
#ifndef MERU_TYPES_SCHEMA_H
#define MERU_TYPES_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "merutable.h"
#include "types/value.h"
#include "util/buf.h"

typedef struct meru_column {
    char *name;
    meru_type type;
    int nullable;
    int32_t field_id;
    int32_t fixed_length;       /* FIXED */
    int32_t precision;          /* DECIMAL */
    int32_t scale;              /* DECIMAL */
    char *initial_default_json; /* Iceberg literal as given, or NULL */
    char *write_default_json;
    /* Parsed defaults (state UNSET when absent); bytes point into
     * `default_storage`. */
    meru_value initial_default;
    meru_value write_default;
    uint8_t *default_storage;
    int key_position; /* index in the primary key, or -1 */
} meru_column;

struct meru_schema {
    char *table_name;
    /* Iceberg schema-id: 0 for a schema built by the application; the
     * table's catalog numbers its schemas (catalog.h). Kept by clone and
     * JSON. */
    int32_t schema_id;
    meru_column *cols;
    size_t ncols;
    size_t cap;
    int *key_cols; /* column indexes in key order */
    size_t nkey;
    int32_t next_field_id;
};

/* meru_schema_to_json with flags: MERU_SCHEMA_JSON_V2 writes the column
 * defaults under "merutable.initial-default" / "merutable.write-default"
 * instead of Iceberg's v3 keys, for format-version 2 table metadata (which
 * has no defaults; Iceberg readers ignore the merutable keys). The reader
 * (meru_schema_from_json) accepts either spelling, not both at once. */
#define MERU_SCHEMA_JSON_V2 1
int meru_schema_to_json_ex(const meru_schema *schema, unsigned flags,
                           char **out);

/* Parses an Iceberg single-value JSON literal for a column of `col`'s type
 * into `out`; variable-length bytes are malloc'd into *storage (caller frees).
 * Used for defaults and meru_row_set_json(). */
int meru_value_from_literal(const meru_column *col, const char *literal,
                            meru_value *out, uint8_t **storage);

/* Like meru_value_from_literal() for `len` bytes that need not be
 * NUL-terminated, appending variable-length bytes to `scratch` instead of
 * allocating: on success for STRING/BINARY/FIXED, out->u.bytes.ptr is NULL
 * and the bytes are scratch->data[*bytes_off .. + out->u.bytes.len) (the
 * caller sets the pointer once it has finished appending). "null" gives a
 * value in state NULL. Errors name the type and the text, not the column:
 * callers prepend that. */
int meru_literal_parse(const meru_column *col, const char *lit, size_t len,
                       meru_value *out, meru_buf *scratch, size_t *bytes_off);

/* Flags for meru_value_to_json(). */
#define MERU_LIT_TZ_ZULU 1 /* timestamptz ends in "Z" instead of "+00:00" */

/* Appends the Iceberg single-value JSON literal of `v` (a PRESENT or NULL
 * value of `col`'s type; NULL and UNSET write null) to `out`: the inverse of
 * meru_value_from_literal(). A STRING value that is not valid UTF-8 is
 * MERU_EINVAL. */
int meru_value_to_literal(const meru_column *col, const meru_value *v,
                          meru_buf *out);
int meru_value_to_json(const meru_column *col, const meru_value *v, int flags,
                       meru_buf *out);

/* The column's type as Iceberg writes it: "long", "fixed[16]",
 * "decimal(10, 2)". `buf` of MERU_TYPE_TEXT_MAX bytes; returns `buf`. */
#define MERU_TYPE_TEXT_MAX 32
const char *meru_column_type_text(const meru_column *col, char *buf);

/* "column 'price'" (name escaped and shortened for a message) into `buf`
 * of MERU_LABEL_MAX bytes; returns `buf`. */
#define MERU_LABEL_MAX 96
const char *meru_column_label(const meru_column *col, char *buf);

/* Total order of two PRESENT values of column type `type` (the order the key
 * encoding preserves): <0, 0, >0. Floats use IEEE-754 totalOrder
 * (-0.0 < +0.0); strings/binary compare bytewise, shorter prefix first. */
int meru_value_cmp(meru_type type, const meru_value *a, const meru_value *b);

#endif
