/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avro.h — the Avro binary encoding and the Object Container File framing,
 * as much of Apache Avro 1.11 as Iceberg manifests and manifest lists need
 * (and a little more, so files written by other Iceberg implementations
 * read too).
 *
 * What it offers:
 *  - Encoders appending to a meru_buf: zig-zag varint int/long, float and
 *    double (little-endian IEEE), boolean, bytes/string (long length +
 *    bytes), fixed (raw bytes). Unions are a long branch index followed by
 *    the branch's value; arrays and maps are blocks (a long count, the
 *    items, ..., a zero count): writers here emit one block and the end.
 *  - A bounded decoder (meru_avro_rd) over (ptr, len): every read checks
 *    the bytes it needs, varints are at most 10 bytes and must fit their
 *    type, lengths never exceed what is left, block counts never exceed
 *    the bytes left (so no loop or allocation is driven by an unchecked
 *    count), and failures are MERU_ECORRUPT naming the byte offset.
 *  - Writer schemas parsed from their JSON (meru_avro_schema, allocated in
 *    an arena) with the Iceberg attributes `field-id`, `element-id`,
 *    `key-id`, `value-id` and `logicalType`; a datum can be skipped by its
 *    schema, and the meru_avro_read_* helpers read a value under schema
 *    resolution (a ["null", T] union gives "absent", int promotes to long,
 *    float to double, string and bytes interchange), so a reader walks the
 *    writer's fields by field id and skips the ones it does not know.
 *  - The Object Container File: magic "Obj\x01", a metadata map of bytes
 *    (avro.schema, avro.codec and any caller keys), a 16-byte sync marker,
 *    then blocks of (record count, byte size, records, sync). Written with
 *    codec "null"; read with "null" or "deflate" (raw RFC 1951, zlib).
 *
 * What it does not do: generic datum trees, schema resolution between two
 * arbitrary schemas, codecs other than null/deflate, aliases, namespaces
 * beyond using the full name as written.
 *
 * Limits: schemas nest at most MERU_AVRO_MAX_DEPTH deep (deeper data is
 * MERU_ECORRUPT, so hostile recursive schemas cannot exhaust the stack); a
 * deflate block inflates to at most MERU_AVRO_MAX_BLOCK bytes.
 */
#ifndef MERU_ICEBERG_AVRO_H
#define MERU_ICEBERG_AVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

#define MERU_AVRO_MAX_DEPTH 64
#define MERU_AVRO_MAX_BLOCK ((size_t)256 << 20)
#define MERU_AVRO_SYNC_LEN  16

/* ============================================================ encoder == */

int meru_avro_put_long(meru_buf *b, int64_t v);
int meru_avro_put_int(meru_buf *b, int32_t v);
int meru_avro_put_bool(meru_buf *b, bool v);
int meru_avro_put_float(meru_buf *b, float v);
int meru_avro_put_double(meru_buf *b, double v);
/* A long length then the n bytes (p may be NULL when n == 0). */
int meru_avro_put_bytes(meru_buf *b, const void *p, size_t n);
/* put_bytes of a NUL-terminated string. */
int meru_avro_put_string(meru_buf *b, const char *s);

/* ============================================================ decoder == */

/* A bounded cursor over encoded bytes. `base` is added to offsets in
 * messages (the position of p[0] in the file). */
typedef struct meru_avro_rd {
    const uint8_t *p;
    size_t len, pos;
    uint64_t base;
} meru_avro_rd;

static inline void meru_avro_rd_init(meru_avro_rd *rd, const void *p,
                                     size_t len, uint64_t base)
{
    rd->p = p;
    rd->len = len;
    rd->pos = 0;
    rd->base = base;
}
static inline size_t meru_avro_rd_left(const meru_avro_rd *rd)
{
    return rd->len - rd->pos;
}

int meru_avro_get_long(meru_avro_rd *rd, int64_t *out);
/* A long that must fit an int. */
int meru_avro_get_int(meru_avro_rd *rd, int32_t *out);
/* One byte, 0 or 1 (anything else is corrupt). */
int meru_avro_get_bool(meru_avro_rd *rd, bool *out);
int meru_avro_get_float(meru_avro_rd *rd, float *out);
int meru_avro_get_double(meru_avro_rd *rd, double *out);
/* Length-prefixed bytes; *out points into the input. */
int meru_avro_get_bytes(meru_avro_rd *rd, const uint8_t **out, size_t *n);
/* n raw bytes; *out points into the input. */
int meru_avro_get_fixed(meru_avro_rd *rd, size_t n, const uint8_t **out);
/* The item count of the next array/map block: 0 at the end of the items.
 * A negative count (followed by the block's byte size) is accepted. The
 * count is at most the bytes left. */
int meru_avro_get_block(meru_avro_rd *rd, uint64_t *count);

/* ============================================================ schemas == */

typedef enum meru_avro_type {
    MERU_AVRO_NULL,
    MERU_AVRO_BOOLEAN,
    MERU_AVRO_INT,
    MERU_AVRO_LONG,
    MERU_AVRO_FLOAT,
    MERU_AVRO_DOUBLE,
    MERU_AVRO_BYTES,
    MERU_AVRO_STRING,
    MERU_AVRO_FIXED,
    MERU_AVRO_ENUM,
    MERU_AVRO_RECORD,
    MERU_AVRO_ARRAY,
    MERU_AVRO_MAP,
    MERU_AVRO_UNION
} meru_avro_type;

typedef struct meru_avro_schema meru_avro_schema;

typedef struct meru_avro_field {
    const char *name;
    bool has_field_id;
    int32_t field_id;
    const meru_avro_schema *type;
} meru_avro_field;

struct meru_avro_schema {
    meru_avro_type type;
    const char *name;              /* RECORD, ENUM, FIXED: the (full) name */
    const char *logical;           /* logicalType, or NULL */
    uint32_t size;                 /* FIXED: bytes; ENUM: symbols */
    uint32_t n;                    /* RECORD: fields; UNION: branches */
    const meru_avro_field *fields; /* RECORD */
    const meru_avro_schema *const *branches; /* UNION */
    const meru_avro_schema *items;           /* ARRAY items, MAP values */
    bool has_element_id, has_key_id, has_value_id;
    int32_t element_id, key_id, value_id;
};

/* Parses a schema from JSON text into `arena` (everything it returns lives
 * there). Named types may be referenced by name after their definition.
 * MERU_ECORRUPT with a message for anything malformed. */
int meru_avro_schema_parse(meru_arena *arena, const char *json, size_t len,
                           const meru_avro_schema **out);

/* Skips one datum of schema s. */
int meru_avro_skip(meru_avro_rd *rd, const meru_avro_schema *s);

/* The record field with this field id, or NULL. */
const meru_avro_field *meru_avro_field_by_id(const meru_avro_schema *record,
                                             int32_t field_id);

/*
 * Resolving reads of one datum written with schema s. When s is a union
 * the branch is read first; a null branch sets *present false (and
 * nothing else). `present` may be NULL when s must not be null (then a
 * null is MERU_ECORRUPT). A writer type that cannot be read as the wanted
 * one is MERU_ECORRUPT naming `what`.
 *   long:   int or long
 *   int:    int (or a long that fits)
 *   double: float or double (and int/long)
 *   bool:   boolean
 *   bytes:  bytes, string or fixed (*out points into the input)
 */
int meru_avro_read_long(meru_avro_rd *rd, const meru_avro_schema *s,
                        const char *what, bool *present, int64_t *out);
int meru_avro_read_int(meru_avro_rd *rd, const meru_avro_schema *s,
                       const char *what, bool *present, int32_t *out);
int meru_avro_read_bool(meru_avro_rd *rd, const meru_avro_schema *s,
                        const char *what, bool *present, bool *out);
int meru_avro_read_bytes(meru_avro_rd *rd, const meru_avro_schema *s,
                         const char *what, bool *present, const uint8_t **out,
                         size_t *n);
/* Reads a union branch (or nothing when s is not a union) and returns the
 * schema of the value that follows in *value, NULL for a null. */
int meru_avro_read_branch(meru_avro_rd *rd, const meru_avro_schema *s,
                          const meru_avro_schema **value);

/* =============================================== object container file == */

typedef struct meru_avro_meta {
    const char *key;
    const void *value;
    size_t len;
} meru_avro_meta;

/* Appends the file header: magic, metadata map (avro.schema = schema_json,
 * avro.codec = "null", then meta[0..n)), sync marker. */
int meru_avro_ocf_header(meru_buf *out, const char *schema_json,
                         const meru_avro_meta *meta, size_t n,
                         const uint8_t sync[MERU_AVRO_SYNC_LEN]);
/* Appends one data block of `count` records encoded in data[0..len). */
int meru_avro_ocf_block(meru_buf *out, uint64_t count, const uint8_t *data,
                        size_t len, const uint8_t sync[MERU_AVRO_SYNC_LEN]);
/* 16 random bytes for a sync marker (getentropy, else a clock mix). */
void meru_avro_random_sync(uint8_t sync[MERU_AVRO_SYNC_LEN]);

typedef struct meru_avro_ocf meru_avro_ocf;

/* Reads the header of the file in data[0..len) (borrowed: it must outlive
 * the reader) and parses its schema. MERU_ECORRUPT for a bad magic,
 * metadata, schema or truncation; MERU_ENOTSUP for another codec. */
int meru_avro_ocf_open(meru_avro_ocf **out, const uint8_t *data, size_t len);
void meru_avro_ocf_close(meru_avro_ocf *f); /* accepts NULL */
const meru_avro_schema *meru_avro_ocf_schema(const meru_avro_ocf *f);
/* A metadata value by key (false if absent); *value points into the file. */
bool meru_avro_ocf_meta(const meru_avro_ocf *f, const char *key,
                        const uint8_t **value, size_t *len);
/* The next data block: *count records to decode from *rd (over the file or
 * an inflated copy owned by f, valid until the next call). *count == 0 and
 * MERU_OK at the end of the file. Checks the block's sync marker. */
int meru_avro_ocf_next_block(meru_avro_ocf *f, meru_avro_rd *rd,
                             uint64_t *count);
/* After decoding a block's records: MERU_ECORRUPT if bytes are left. */
int meru_avro_rd_finish(const meru_avro_rd *rd, const char *what);

#endif
