/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merutable.h — the public C API of merutable.
 *
 * merutable is an embeddable single-table storage engine: an LSM tree whose
 * SSTs are Apache Parquet files and whose metadata is Apache Iceberg
 * compatible. This header is the only one an application includes.
 *
 * Conventions (the same for every function below):
 *   - Functions return an int: MERU_OK (0) on success, a negative code from
 *     `meru_status` otherwise. MERU_NOT_FOUND is a normal outcome, not an
 *     error. meru_strerror() names a code; meru_errmsg() gives a detailed
 *     message for the last failure on the calling thread (never malloc'd,
 *     valid until the next failing call on that thread).
 *   - Parameter order: the object a function acts on comes first, then its
 *     inputs, then its outputs (meru_get(db, snap, key, out),
 *     meru_scan(db, opts, &it), meru_row_get_int64(row, col, &v)). The one
 *     exception is the constructors of the three value types, which take
 *     the new object first: meru_schema_new / _clone / _parse / _from_json,
 *     meru_row_new and meru_write_batch_new (meru_row_new(&row, schema)).
 *     Outputs are pointers, named `out` where there is one.
 *   - Ownership is written on every function. Whatever the library allocates
 *     for the caller is released with meru_free() or the object's own free
 *     function. Every free function accepts NULL.
 *   - Handles are opaque. A schema is immutable once a table has been opened
 *     with it; a row is owned by one thread at a time.
 *
 * ABI (binary compatibility within a soname, libmerutable.so.0):
 *   - Everything is an opaque handle with functions, except a few structs.
 *   - A struct the caller fills and passes in (meru_options,
 *     meru_scan_options, meru_read_options, meru_write_options,
 *     meru_column_def) starts with `unsigned version`, set by its _INIT
 *     macro and _init() function to the header's MERU_<STRUCT>_VERSION.
 *     Fields are only ever appended, each addition raising the version;
 *     the library reads just the fields the caller's version has (the
 *     newer ones take their defaults) and accepts every version from 1 to
 *     its own, so a program built against an older header keeps working
 *     with a newer library. A version above the library's is MERU_EINVAL.
 *     Always start from _INIT or _init(), then set fields by name.
 *   - A struct the library fills (meru_stats) is passed with its size:
 *     meru_stats_get() is a macro giving sizeof *out to
 *     meru_stats_get_sized(), which fills only that many bytes (fields are
 *     only appended), so an older caller's smaller struct is filled with
 *     the fields it knows.
 *   - Enums and status codes only gain values; MERU_* limits only grow.
 */
#ifndef MERUTABLE_H
#define MERUTABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- export */

#if defined(MERU_BUILDING_LIBRARY) && defined(__GNUC__)
#define MERU_API __attribute__((visibility("default")))
#else
#define MERU_API
#endif

/* --------------------------------------------------------------- version */

#define MERU_VERSION_MAJOR 0
#define MERU_VERSION_MINOR 1
#define MERU_VERSION_PATCH 0
#define MERU_VERSION_STRING "0.1.0"
/* A single comparable number: major * 10000 + minor * 100 + patch. */
#define MERU_VERSION_NUMBER                                                    \
    (MERU_VERSION_MAJOR * 10000 + MERU_VERSION_MINOR * 100 + MERU_VERSION_PATCH)

/* The version of the library actually linked (may differ from the header). */
MERU_API const char *meru_version(void);
MERU_API int meru_version_number(void);

/* ---------------------------------------------------------------- status */

typedef enum meru_status {
    MERU_OK = 0,
    MERU_NOT_FOUND = -1,   /* key or column absent: a normal outcome */
    MERU_EINVAL = -2,      /* bad argument or bad input from the application */
    MERU_ENOMEM = -3,      /* allocation failed */
    MERU_EIO = -4,         /* an operating-system I/O call failed */
    MERU_ECORRUPT = -5,    /* stored data failed a check (checksum, bounds) */
    MERU_ENOTSUP = -6,     /* valid but unsupported (a codec, nested Parquet) */
    MERU_ELOCKED = -7,     /* another process holds the table's write lock */
    MERU_ECLOSED = -8,     /* the handle has been closed */
    MERU_EEXIST = -9,      /* something that must not exist already does */
    MERU_ESCHEMA = -10,    /* schema invalid or incompatible with the table */
    MERU_ENOSPC = -11,     /* the device is full */
    MERU_EFAILED = -12,    /* a previous I/O failure stopped writes (sticky) */
    MERU_EBUSY = -13,      /* resource in use (e.g. a read-only handle) */
    MERU_ERANGE = -14,     /* value out of range (overflow, too long) */
    MERU_EREADONLY = -15,  /* write attempted on a read-only handle */
    MERU_EINTERNAL = -16,  /* a bug: an invariant of the library failed */
    MERU_ENOCOLUMN = -17,  /* no column of that name in the schema */
    MERU_EEXPIRED = -18    /* the change feed no longer holds what was asked
                              (below its retention window) */
} meru_status;

/* Static, never NULL, for any int (unknown codes give "unknown error"). */
MERU_API const char *meru_strerror(int code);

/*
 * Detailed message of the last failure on the calling thread ("" if none).
 * Thread-local storage owned by the library: valid until the next call into
 * the library on the same thread that fails. Never free it.
 */
MERU_API const char *meru_errmsg(void);

/* The status code that goes with meru_errmsg() (MERU_OK if none). */
MERU_API int meru_errcode(void);

/* Releases memory the library allocated for the caller. NULL is a no-op. */
MERU_API void meru_free(void *ptr);

/* ----------------------------------------------------------------- types */

/*
 * Column types (SPEC §3). Each maps to a Parquet physical + logical type and
 * to the Iceberg primitive type of the same name:
 *   BOOLEAN      boolean     Parquet BOOLEAN
 *   INT32        int         Parquet INT32
 *   INT64        long        Parquet INT64
 *   FLOAT        float       Parquet FLOAT
 *   DOUBLE       double      Parquet DOUBLE
 *   STRING       string      Parquet BYTE_ARRAY (STRING), UTF-8 validated
 *   BINARY       binary      Parquet BYTE_ARRAY
 *   FIXED        fixed[L]    Parquet FIXED_LEN_BYTE_ARRAY(L)
 *   DATE         date        Parquet INT32 (DATE), days since 1970-01-01
 *   TIMESTAMP    timestamp   Parquet INT64 (TIMESTAMP micros, not UTC-adjusted)
 *   TIMESTAMPTZ  timestamptz Parquet INT64 (TIMESTAMP micros, UTC-adjusted)
 *   DECIMAL      decimal(P,S) Parquet INT32/INT64/FIXED_LEN_BYTE_ARRAY, P<=38
 */
typedef enum meru_type {
    MERU_TYPE_BOOLEAN = 1,
    MERU_TYPE_INT32 = 2,
    MERU_TYPE_INT64 = 3,
    MERU_TYPE_FLOAT = 4,
    MERU_TYPE_DOUBLE = 5,
    MERU_TYPE_STRING = 6,
    MERU_TYPE_BINARY = 7,
    MERU_TYPE_FIXED = 8,
    MERU_TYPE_DATE = 9,
    MERU_TYPE_TIMESTAMP = 10,
    MERU_TYPE_TIMESTAMPTZ = 11,
    MERU_TYPE_DECIMAL = 12
} meru_type;

/* Lower-case Iceberg-style name ("long", "string", "decimal", ...), or NULL. */
MERU_API const char *meru_type_name(meru_type type);

/* Largest value (in bytes) a STRING or BINARY column accepts: 16 MiB. */
#define MERU_MAX_VALUE_BYTES (16u * 1024u * 1024u)
/* Largest primary key a write accepts, in its encoded form: 64 KiB. The
 * encoding adds a byte or two per key column and escapes 0x00 bytes of
 * strings and binary (two bytes each), so a key string of up to 32 KiB
 * always fits. A longer key is MERU_ERANGE. Every key is stored in the
 * table metadata as a file bound, which is what bounds it. A write batch
 * (one log record) holds at most 256 MiB. */
#define MERU_MAX_KEY_BYTES (64u * 1024u)
/* At most this many columns in a schema and in a primary key. */
#define MERU_MAX_COLUMNS 4096
#define MERU_MAX_KEY_COLUMNS 32
/* Field ids at or above this are reserved for the engine's hidden columns. */
#define MERU_RESERVED_FIELD_ID_BASE 2147483000

/* ---------------------------------------------------------------- schema */

typedef struct meru_schema meru_schema;

/*
 * A column definition for meru_schema_add_column_def(). Initialise with
 * MERU_COLUMN_DEF_INIT and set what applies. (A zeroed definition, which
 * this header has always allowed, has version 0: it is read as version 1.)
 */
#define MERU_COLUMN_DEF_VERSION 1
typedef struct meru_column_def {
    unsigned version;       /* MERU_COLUMN_DEF_VERSION */
    const char *name;       /* required; copied */
    meru_type type;         /* required */
    int nullable;           /* 1 = may hold null (default 1 with _INIT) */
    int32_t field_id;       /* Iceberg field id; 0 = assign the next free id */
    int32_t fixed_length;   /* FIXED: length in bytes, 1..MERU_MAX_VALUE_BYTES */
    int32_t precision;      /* DECIMAL: 1..38 */
    int32_t scale;          /* DECIMAL: 0..precision */
    /*
     * Defaults as Iceberg single-value JSON literals (Iceberg spec, Appendix
     * D): 34, 1.5, true, "text", "2017-11-16", "2017-11-16T22:31:08.123456",
     * "14.20", and hex strings for binary/fixed. NULL = no default. Copied.
     * initial_default: value of the column for rows written before it existed.
     * write_default: value used when a writer leaves the column unset.
     */
    const char *initial_default;
    const char *write_default;
} meru_column_def;

#define MERU_COLUMN_DEF_INIT                                                   \
    {MERU_COLUMN_DEF_VERSION, NULL, (meru_type)0, 1, 0, 0, 0, 0, NULL, NULL}

/* Creates an empty schema for table `table_name` (copied). Free with
 * meru_schema_free(). */
MERU_API int meru_schema_new(meru_schema **out, const char *table_name);
MERU_API void meru_schema_free(meru_schema *schema);
/* Deep copy. */
MERU_API int meru_schema_clone(meru_schema **out, const meru_schema *schema);

/* Adds a column of a type that needs no parameters (not FIXED/DECIMAL).
 * Field id is assigned automatically. */
MERU_API int meru_schema_add_column(meru_schema *schema, const char *name,
                                    meru_type type, int nullable);
/* Adds a column from a full definition. */
MERU_API int meru_schema_add_column_def(meru_schema *schema,
                                        const meru_column_def *def);
/* Sets the primary key: `n` column names in key order (copied). Replaces a
 * previous key. Key columns must be NOT NULL. */
MERU_API int meru_schema_set_primary_key(meru_schema *schema,
                                         const char *const *names, size_t n);

/*
 * Checks the whole schema: non-empty, unique names and field ids, a primary
 * key that is set, non-null and of a key-able type, decimal precision and
 * scale, fixed lengths, default literals that parse for their type. On
 * failure returns MERU_ESCHEMA and meru_errmsg() names the column and rule.
 */
MERU_API int meru_schema_validate(const meru_schema *schema);

/*
 * Parses a column list such as
 *   "id int64 not null, name string, price decimal(10,2) default 0,
 *    tag fixed(16), at timestamptz not null"
 * Type names: boolean|bool, int32|int, int64|long|bigint, float, double,
 * string|text|varchar, binary|bytes, fixed(L), date, timestamp,
 * timestamptz, decimal(P,S). Modifiers: "not null", "null", "default <lit>"
 * (the write default; the same literal syntax as above, strings quoted).
 * `primary_key` is a comma-separated list of column names (may be NULL to
 * set it later). The result is validated when primary_key is given.
 */
MERU_API int meru_schema_parse(meru_schema **out, const char *table_name,
                               const char *columns, const char *primary_key);

MERU_API const char *meru_schema_table_name(const meru_schema *schema);
MERU_API size_t meru_schema_column_count(const meru_schema *schema);
/* Index of the column called `name`, or -1. */
MERU_API int meru_schema_column_index(const meru_schema *schema,
                                      const char *name);
/* Column properties; `col` must be < column_count (else NULL / 0 / -1). */
MERU_API const char *meru_schema_column_name(const meru_schema *schema,
                                             size_t col);
MERU_API meru_type meru_schema_column_type(const meru_schema *schema,
                                           size_t col);
MERU_API int meru_schema_column_nullable(const meru_schema *schema,
                                         size_t col);
MERU_API int32_t meru_schema_column_field_id(const meru_schema *schema,
                                             size_t col);
/* The whole definition of column `col`: name, type, nullability, field id,
 * FIXED/DECIMAL parameters and default literals (NULL when absent). The
 * strings are borrowed from the schema (valid while it lives and the column
 * is not changed). MERU_EINVAL if `col` is out of range. */
MERU_API int meru_schema_column_def(const meru_schema *schema, size_t col,
                                    meru_column_def *out);
/* The Iceberg schema-id: 0 for a schema the application builds; a table
 * numbers its schemas, and meru_db_schema() has the table's current id
 * (each meru_add_column makes a new schema with the next id). -1 for NULL. */
MERU_API int32_t meru_schema_id(const meru_schema *schema);
/* Number of primary-key columns and the column index of the i-th one. */
MERU_API size_t meru_schema_key_count(const meru_schema *schema);
MERU_API int meru_schema_key_column(const meru_schema *schema, size_t i);

/*
 * Serialises to an Iceberg schema JSON object ({"type":"struct",
 * "schema-id":N, "fields":[...], "identifier-field-ids":[...]}), with the
 * table name and decimal/fixed parameters in Iceberg type strings. `*out` is
 * a NUL-terminated string to release with meru_free().
 */
MERU_API int meru_schema_to_json(const meru_schema *schema, char **out);
/* Parses what meru_schema_to_json() writes (and any flat Iceberg schema). */
MERU_API int meru_schema_from_json(meru_schema **out, const char *json,
                                   size_t len);

/* ------------------------------------------------------------------ rows */

/*
 * A row holds one value per column of its schema. Each column is in one of
 * three states: unset (never assigned), null, or a value. Setting a column
 * copies the value (strings and binary included). The schema must outlive
 * the row. Getters of STRING/BINARY/FIXED return pointers borrowed from the
 * row: valid until that column is set again, the row is cleared or freed.
 */
typedef struct meru_row meru_row;

MERU_API int meru_row_new(meru_row **out, const meru_schema *schema);
MERU_API void meru_row_free(meru_row *row);
/* Returns every column to the unset state (keeps allocated memory). */
MERU_API void meru_row_clear(meru_row *row);
MERU_API const meru_schema *meru_row_schema(const meru_row *row);

/* Setters: MERU_EINVAL if `col` is out of range or of another type. */
MERU_API int meru_row_set_null(meru_row *row, size_t col);
MERU_API int meru_row_set_bool(meru_row *row, size_t col, int value);
MERU_API int meru_row_set_int32(meru_row *row, size_t col, int32_t value);
MERU_API int meru_row_set_int64(meru_row *row, size_t col, int64_t value);
MERU_API int meru_row_set_float(meru_row *row, size_t col, float value);
MERU_API int meru_row_set_double(meru_row *row, size_t col, double value);
/* STRING: `len` bytes of UTF-8 (validated by meru_row_validate). */
MERU_API int meru_row_set_string(meru_row *row, size_t col, const char *value,
                                 size_t len);
/* BINARY or FIXED (FIXED checks the length at validation). */
MERU_API int meru_row_set_binary(meru_row *row, size_t col, const void *value,
                                 size_t len);
/* DATE: days since 1970-01-01. */
MERU_API int meru_row_set_date(meru_row *row, size_t col, int32_t days);
/* TIMESTAMP / TIMESTAMPTZ: microseconds since 1970-01-01T00:00:00. */
MERU_API int meru_row_set_timestamp(meru_row *row, size_t col, int64_t micros);
/* DECIMAL as a 128-bit two's complement unscaled value (hi:lo). */
MERU_API int meru_row_set_decimal(meru_row *row, size_t col, int64_t hi,
                                  uint64_t lo);
/* DECIMAL from text ("-12.50"); more fractional digits than the scale, or
 * more digits than the precision, is MERU_ERANGE. */
MERU_API int meru_row_set_decimal_str(meru_row *row, size_t col,
                                      const char *text);
/*
 * Any type from its Iceberg single-value JSON literal (the syntax of
 * defaults; strings quoted). Handy for tools; "null" sets null.
 */
MERU_API int meru_row_set_json(meru_row *row, size_t col, const char *literal);

/* 1 if the column is null (or unset with no write default), else 0. */
MERU_API int meru_row_is_null(const meru_row *row, size_t col);
/* 1 if the column has been set (to a value or null), else 0. */
MERU_API int meru_row_is_set(const meru_row *row, size_t col);

/*
 * Getters: MERU_OK and `*out` filled; MERU_EINVAL if `col` is out of range or
 * of another type; MERU_NOT_FOUND if the column is null (or unset without a
 * write default; an unset column with a write default reads as the default).
 */
MERU_API int meru_row_get_bool(const meru_row *row, size_t col, int *out);
MERU_API int meru_row_get_int32(const meru_row *row, size_t col, int32_t *out);
MERU_API int meru_row_get_int64(const meru_row *row, size_t col, int64_t *out);
MERU_API int meru_row_get_float(const meru_row *row, size_t col, float *out);
MERU_API int meru_row_get_double(const meru_row *row, size_t col, double *out);
MERU_API int meru_row_get_string(const meru_row *row, size_t col,
                                 const char **out, size_t *len);
MERU_API int meru_row_get_binary(const meru_row *row, size_t col,
                                 const void **out, size_t *len);
MERU_API int meru_row_get_date(const meru_row *row, size_t col, int32_t *out);
MERU_API int meru_row_get_timestamp(const meru_row *row, size_t col,
                                    int64_t *out);
MERU_API int meru_row_get_decimal(const meru_row *row, size_t col,
                                  int64_t *out_hi, uint64_t *out_lo);
/* Writes the decimal as text into `buf` (at most 42 bytes are needed). */
MERU_API int meru_row_get_decimal_str(const meru_row *row, size_t col,
                                      char *buf, size_t cap);

/*
 * The same accessors by column name: MERU_ENOCOLUMN if no column has that
 * name (meru_errmsg() names it), so a getter's MERU_NOT_FOUND always means
 * a null value.
 */
MERU_API int meru_row_set_null_by_name(meru_row *row, const char *name);
MERU_API int meru_row_set_bool_by_name(meru_row *row, const char *name, int v);
MERU_API int meru_row_set_int32_by_name(meru_row *row, const char *name,
                                        int32_t v);
MERU_API int meru_row_set_int64_by_name(meru_row *row, const char *name,
                                        int64_t v);
MERU_API int meru_row_set_float_by_name(meru_row *row, const char *name,
                                        float v);
MERU_API int meru_row_set_double_by_name(meru_row *row, const char *name,
                                         double v);
MERU_API int meru_row_set_string_by_name(meru_row *row, const char *name,
                                         const char *v, size_t len);
MERU_API int meru_row_set_binary_by_name(meru_row *row, const char *name,
                                         const void *v, size_t len);
MERU_API int meru_row_set_date_by_name(meru_row *row, const char *name,
                                       int32_t days);
MERU_API int meru_row_set_timestamp_by_name(meru_row *row, const char *name,
                                            int64_t micros);
MERU_API int meru_row_set_decimal_str_by_name(meru_row *row, const char *name,
                                              const char *text);
MERU_API int meru_row_get_bool_by_name(const meru_row *row, const char *name,
                                       int *out);
MERU_API int meru_row_get_int32_by_name(const meru_row *row, const char *name,
                                        int32_t *out);
MERU_API int meru_row_get_int64_by_name(const meru_row *row, const char *name,
                                        int64_t *out);
MERU_API int meru_row_get_float_by_name(const meru_row *row, const char *name,
                                        float *out);
MERU_API int meru_row_get_double_by_name(const meru_row *row, const char *name,
                                         double *out);
MERU_API int meru_row_get_string_by_name(const meru_row *row, const char *name,
                                         const char **out, size_t *len);
MERU_API int meru_row_get_binary_by_name(const meru_row *row, const char *name,
                                         const void **out, size_t *len);
MERU_API int meru_row_get_date_by_name(const meru_row *row, const char *name,
                                       int32_t *out);
MERU_API int meru_row_get_timestamp_by_name(const meru_row *row,
                                            const char *name, int64_t *out);
MERU_API int meru_row_get_decimal_str_by_name(const meru_row *row,
                                              const char *name, char *buf,
                                              size_t cap);

/*
 * Checks the row against its schema as a write would: every NOT NULL column
 * has a value (or a write default), FIXED lengths, DECIMAL precision, valid
 * UTF-8 in STRING columns, no NaN in a key column, sizes within
 * MERU_MAX_VALUE_BYTES. MERU_EINVAL with the column named in meru_errmsg().
 */
MERU_API int meru_row_validate(const meru_row *row);

/*
 * Writes the row as one JSON object ({"id":1,"name":"a",...}) in column
 * order; unset columns with a write default appear with it, others as null.
 * Binary and fixed values are hex strings; decimals are JSON strings with
 * their scale; dates "YYYY-MM-DD"; timestamps ISO-8601 ("...Z" for tz).
 * `*out` is released with meru_free().
 */
MERU_API int meru_row_to_json(const meru_row *row, char **out);
/* Sets columns from a JSON object as written above; a name not in the
 * schema is MERU_ENOCOLUMN, other bad input MERU_EINVAL. Columns absent
 * from the object stay as they were. */
MERU_API int meru_row_from_json(meru_row *row, const char *json, size_t len);

/* --------------------------------------------------------------- options */

typedef enum meru_sync_mode {
    MERU_SYNC_NONE = 0,   /* rely on the OS page cache */
    MERU_SYNC_GROUP = 1,  /* group commit: writers share one fdatasync */
    MERU_SYNC_EVERY = 2   /* fdatasync before each write is acknowledged */
} meru_sync_mode;

typedef enum meru_compression {
    MERU_COMPRESSION_NONE = 0,
    MERU_COMPRESSION_SNAPPY = 1,
    MERU_COMPRESSION_GZIP = 2,
    MERU_COMPRESSION_ZSTD = 3,
    MERU_COMPRESSION_LZ4_RAW = 4
} meru_compression;

/* How the table keeps its Iceberg view (SPEC §9): the deletion vectors
 * that hide, in the table's own Parquet files, every row a reader of the
 * Iceberg table must not see (older versions, deleted rows, tombstones). */
typedef enum meru_iceberg_view {
    /* Nothing is maintained: flushes and compactions do no extra work, and
     * the view must be rebuilt from the data (an export) before use. */
    MERU_ICEBERG_VIEW_OFF = 0,
    /* Every flush and compaction updates the vectors in the same commit,
     * so the view is exact after each commit. A flush looks up, in the
     * older files, the newest older version of each key it writes (bloom
     * filters, page index; see docs/design.md for the cost). */
    MERU_ICEBERG_VIEW_CONTINUOUS = 1
} meru_iceberg_view;

/* Version 1: every field up to page_rows; 2 added `properties`; 3 added
 * `iceberg_view`; 4 added `iceberg_format_version`; 5 the change feed's
 * retention; 6 `string_page_bytes`; 7 `wal_salvage`; 8
 * `number_page_bytes`; 9 `warm_cache_at_open`. */
#define MERU_OPTIONS_VERSION 9

/*
 * Table options. Initialise with MERU_OPTIONS_INIT or meru_options_init();
 * pass NULL to meru_open() for all defaults. Sizes are in bytes.
 *
 * Two kinds of option:
 *  - Runtime knobs (everything not listed below: cache, threads, sync mode,
 *    memtable size, triggers, ...) belong to this open only.
 *  - Table-shaping options decide how data files look, so every opener
 *    must agree on them: compression, zstd_level, l0_compression,
 *    page_bytes, l0_page_bytes, page_rows, string_page_bytes,
 *    number_page_bytes,
 *    row_group_bytes, target_file_bytes. They are stored as Iceberg table properties when
 *    the table is created (keys below), and when an existing table is
 *    opened its stored values win over the ones given here (a property the
 *    table does not store leaves the option as given). Change them with
 *    meru_set_property() (or `meru set-property DIR KEY VALUE`):
 *      write.parquet.compression-codec     compression (zstd, snappy, gzip,
 *                                          lz4_raw, uncompressed)
 *      write.parquet.compression-level     zstd_level
 *      write.parquet.page-size-bytes       page_bytes
 *      write.parquet.page-row-limit        page_rows
 *      merutable.string-page-size-bytes    string_page_bytes
 *      merutable.number-page-size-bytes    number_page_bytes
 *      write.parquet.row-group-size-bytes  row_group_bytes
 *      write.target-file-size-bytes        target_file_bytes
 *      merutable.l0.compression-codec      l0_compression
 *      merutable.l0.page-size-bytes        l0_page_bytes
 *      merutable.changes.retention-seconds changes_retention_seconds
 *      merutable.changes.retention-bytes   changes_retention_bytes
 *    (Iceberg's own keys where Iceberg has one; merutable.* for the rest.)
 */
typedef struct meru_options {
    unsigned version;               /* MERU_OPTIONS_VERSION (1-9 accepted) */
    int create_if_missing;          /* default 1 */
    int error_if_exists;            /* default 0 */
    int read_only;                  /* default 0 */
    meru_sync_mode sync_mode;       /* default MERU_SYNC_GROUP */
    size_t memtable_bytes;          /* default 64 MiB per memtable */
    /* The memtables' budget: a full memtable becomes immutable and waits
     * for its flush, and writers wait while this many wait, so the
     * memtables hold at most about max_immutable_memtables x
     * memtable_bytes (the mutable one is all but empty while writers
     * wait; bench_kv at 64 MiB: 128-130 MiB at the peak, as RocksDB's two
     * write buffers). 1 halves that but stops writes for every flush
     * (nothing is written while a memtable is flushed); 2 lets writes
     * fill the next memtable during a flush. Default 2. */
    int max_immutable_memtables;
    int l0_compaction_trigger;      /* default 4 files */
    int l0_slowdown_trigger;        /* default 12 files */
    int l0_stop_trigger;            /* default 20 files */
    uint64_t l1_target_bytes;       /* default 256 MiB */
    int level_multiplier;           /* default 8 */
    uint64_t target_file_bytes;     /* default 64 MiB (L1+ output files) */
    int background_threads;         /* default 2 (flush + compaction) */
    /* Decoded pages + footers, and by default the row cache too (below). */
    size_t cache_bytes;             /* default 128 MiB */
    /* The row cache: the newest version of recently read keys per data
     * file, so a hot key's get decodes no page (zipfian reads); once it
     * is full a key's row is stored on its second read from the file, not
     * its first (a one-off read costs a 4-byte tag, 1/16 of this budget).
     * Default MERU_ROW_CACHE_AUTO: 1/32 of cache_bytes is the row cache's and the
     * rest the page cache's (one budget; evicted pages waiting for their
     * inserting thread to free them add at most min(1/64, 1 MiB) per
     * client thread; 2 MiB of
     * 64 hold ~8k rows of 120 bytes; a small share because a table read
     * uniformly needs its page cache: docs/design.md, "Row cache"). Any other
     * value is the row cache's own budget on top of cache_bytes; 0 turns
     * it off. Writes never make it stale: entries belong to immutable
     * files and newer versions are found first (memtables, newer files).
     * meru_stats counts row_cache_hits / _misses. */
    size_t row_cache_bytes;
    /* L0 files; default MERU_COMPRESSION_LZ4_RAW: L0 files are about a
     * third of their uncompressed size (1M rows of 120 bytes: 54 instead
     * of 150 MiB) for no measurable ingest CPU (docs/design.md, "L0
     * codec"); compaction rewrites them with `compression`. */
    meru_compression l0_compression;
    meru_compression compression;      /* L1+; default MERU_COMPRESSION_ZSTD */
    int zstd_level;                 /* default 3 */
    uint32_t l0_page_bytes;         /* default 8 KiB */
    /* L1+, except number and string value columns (number_page_bytes,
     * string_page_bytes); default 64 KiB */
    uint32_t page_bytes;
    /* L1+: a row group ends once its compressed pages reach this many
     * bytes. Readers such as DuckDB split a scan of a file by row group
     * (one thread per row group), and a compaction holds the row group it
     * writes in memory until it is complete. The default, 8 MiB, cuts a
     * 64 MiB file into ~8 row groups of ~120k rows of a 120-byte row
     * (DuckDB writes 122,880): bench_analytic GROUP BY with 2 threads
     * ~1.0x DuckDB's own file instead of ~1.9x with one row group, gets
     * +1 % instructions, files +1 % (docs/design.md, "Memory").
     * Default 8 MiB. */
    uint64_t row_group_bytes;
    int keep_metadata_versions;     /* default 16 */
    uint32_t gc_grace_seconds;      /* default 0 */
    /* A compaction job reads at most about this many bytes of L0 input
     * (the oldest files first; at least one file); default 1 GiB. */
    uint64_t max_compaction_bytes;
    /* Data files are read through a read-only memory map (no copy of page
     * bytes; cache_bytes then holds decoded pages only), except the page
     * a get decodes into the cache on a miss: one pread of that page, so
     * gets leave no mapped pages in the RSS; 0 = pread through the
     * cache's 32 KiB file blocks. Falls back to pread by itself when a
     * file cannot be mapped. With a map, a disk I/O error under a mapped
     * page raises SIGBUS instead of returning MERU_EIO. Default 1. */
    int mmap_reads;
    /* L1+: a data page ends at page_bytes of values or at this many rows,
     * whichever comes first (number value columns: see
     * number_page_bytes). A trade-off between point reads and scans by
     * other engines: a get decodes one whole page per column, and with
     * page_bytes alone a narrow column (an int32) packs ~16k rows into a
     * page; but DuckDB pays per page. Measured at 1M rows compacted to L1
     * (bench_analytic, a 1 MiB-cache get probe): 20000 rows ~210 us CPU
     * per cold get, DuckDB GROUP BY 25 ms; 4096: 145 us, 30 ms; 1024:
     * 90 us, 80 ms, +6% bytes. Lower it for tables read mostly by key
     * (it does not shorten the pages of number value columns: lower
     * number_page_bytes for those). 1..1048576; default 20000. */
    uint32_t page_rows;
    /* ---- version 2 ---- */
    /* Table properties to store when this open creates the table: NULL, or
     * key, value, key, value, ..., NULL (copied). A key from the list
     * above sets its option (validated as meru_set_property does); other
     * keys are stored as they are (Iceberg tables carry free-form
     * properties such as "owner" or "comment"), except keys of the
     * write.* and merutable.* namespaces that merutable does not
     * implement and Iceberg's reserved ones (format-version, uuid, ...),
     * which are MERU_EINVAL. Opening an existing table validates them and
     * stores nothing (use meru_set_property). Default NULL. */
    const char *const *properties;
    /* ---- version 3 ---- */
    /* A runtime knob: keep the Iceberg view's deletion vectors at every
     * commit (MERU_ICEBERG_VIEW_CONTINUOUS, the default) or not at all
     * (MERU_ICEBERG_VIEW_OFF: cheaper writes; see meru_iceberg_view). */
    meru_iceberg_view iceberg_view;
    /* ---- version 4 ---- */
    /* Iceberg format version of a table this open creates: 3 (deletion
     * vectors in Puffin files, row lineage) or 2 (position-delete Parquet
     * files, for readers without v3). Table-shaping, but not a property:
     * it is the metadata's own "format-version" (Iceberg reserves that
     * key). Written at create; an existing table keeps its own, which
     * wins at open as stored properties do (meru_describe_json shows it).
     * Default 3. */
    int iceberg_format_version;
    /* ---- version 5 ---- */
    /* Table-shaping (stored as properties, see above): how long the change
     * feed (meru_changes) keeps changes after they are flushed, in seconds
     * (default 86400 = 24 h; 0 turns the feed off: flushes write no
     * history, and only the changes still in memtables can be read), and
     * how many bytes of changelog files it keeps at most (default 0 =
     * unlimited; otherwise the oldest files go first once the total passes
     * it). Expired history is dropped whole files at a time, at flushes, at
     * open, and by a background worker once the oldest file is older than
     * the window (writes or not), so a change may outlive the window by up
     * to one flush's span. */
    uint64_t changes_retention_seconds;
    uint64_t changes_retention_bytes;
    /* ---- version 6 ---- */
    /* L1+: pages of string and binary columns other than key columns end
     * at this many bytes of values (or page_rows rows) instead of
     * page_bytes. A get decompresses and decodes one whole page of each
     * column it returns, and a 64 KiB page of a 100-byte string column
     * costs ~60 us per get that misses the cache (a table larger than the
     * cache misses on most); narrow columns keep page_bytes, so their
     * pages stay long (what DuckDB and other scanners want, and few enough
     * that the cache keeps them). Each page costs scans a fixed ~50k
     * instructions (zstd's entropy tables). Measured at 1M rows (int64
     * key, int32, double, 100-byte string) compacted to L1, 64 MiB cache
     * (bench_get --compact, callgrind): 64 KiB: 742k instructions per
     * warm get, full scan 2.02G; 8 KiB: 110k, 2.46G, file +3 %; later,
     * with a faster page CRC, 8 KiB: 91k per get, scan 2.19G, data files
     * 71.4 MB; 4 KiB: 61k, 2.45G, 73.3 MB; 2 KiB: 49k, ~2.8G, 76.6 MB.
     * Later (pages decoded straight into their cache entries): 4 KiB
     * 40.6k, scan 2.48G; 3 KiB 34.4k, ~2.59G, 72.5 MB; 2 KiB 27.7k,
     * 2.76G, 74.8 MB. 1 KiB..16 MiB; default 2 KiB. */
    uint32_t string_page_bytes;
    /* ---- version 7 ---- */
    /* Open: a record damaged in the middle of the write-ahead log (valid
     * records follow it) fails the open with MERU_ECORRUPT by default.
     * With 1 the damaged stretch is dropped and the rest recovered: the
     * writes it held are lost, and meru_stats says how many bytes and
     * regions (wal_salvaged_*). A writer then flushes what it recovered
     * at once, so the damaged log is gone. `meru repair` uses this.
     * Default 0. */
    int wal_salvage;
    /* ---- version 8 ---- */
    /* L1+: pages of number columns (physical INT32, INT64, FLOAT, DOUBLE:
     * integers, floats, dates, timestamps) other than key columns end at
     * this many bytes of values or this many / 8 rows (32768 by default;
     * page_rows does not apply to them) instead of page_bytes. Scanners
     * such as DuckDB pay ~20 us a page (zstd contexts, buffers), so long
     * pages of such columns are what analytics want; a get decodes one
     * page of each column it returns, but pages of numbers are few (8
     * bytes a row at most) and stay in the page cache once read while the
     * cache holds the table's number columns (a 64 MiB cache: ~8M rows of
     * one double), so gets hardly see their length. Past that, a get that
     * misses decompresses the longer page (32768 doubles by default;
     * 20000 cost ~2.7M instructions where 8192 cost ~1.1M): lower it for
     * tables much larger than the cache and read by key.
     * Measured at 1M rows (int64 key, int32, double, 100-byte string)
     * compacted to L1, 64 MiB cache (bench/RESULTS.md, "File shape at
     * L1+"): 64 KiB (= page_bytes): first 1000 gets after open 250M
     * instructions, DuckDB sum(double) 1.24-1.31x its own file's CPU;
     * 256 KiB (with page_rows 20000: 20000 rows of a double): 228M,
     * 1.05-1.19x, file 0.1 % smaller; 8 KiB: 204M, 2.7x. Since the row
     * cap follows this (32768 doubles a page): DuckDB's sum 1.04x
     * (bench/RESULTS.md, "DuckDB's cost per page").
     * 1 KiB..16 MiB; default 256 KiB. */
    uint32_t number_page_bytes;
    /* ---- version 9 ---- */
    /* A writable open: once the background builder has built the key
     * directories of the L1+ files the open found, it decodes the pages of
     * their number value columns (INT32, INT64, FLOAT, DOUBLE outside the
     * key) into the page cache, while the cache stays within half its
     * capacity, so the first gets find them instead of decompressing them
     * (bench_kv's first 1000 gets after a reopen: 3.2x -> 2.5x the warm
     * cost a get). It costs a background core for a moment and that much
     * cache room right after each open; a process that opens a table for
     * a few writes or gets and closes it can turn it off (0). A close
     * stops it between pages. Read-only handles never warm. Default 1. */
    int warm_cache_at_open;
} meru_options;

/* meru_options.row_cache_bytes: a share of cache_bytes (1 in
 * MERU_ROW_CACHE_AUTO_DIVISOR bytes). */
#define MERU_ROW_CACHE_AUTO ((size_t)-1)
#define MERU_ROW_CACHE_AUTO_DIVISOR 32

#define MERU_OPTIONS_INIT                                                      \
    {MERU_OPTIONS_VERSION, 1, 0, 0, MERU_SYNC_GROUP,                           \
     (size_t)64 << 20, 2, 4, 12, 20, (uint64_t)256 << 20, 8,                   \
     (uint64_t)64 << 20, 2, (size_t)128 << 20, MERU_ROW_CACHE_AUTO,            \
     MERU_COMPRESSION_LZ4_RAW,                                                 \
     MERU_COMPRESSION_ZSTD, 3, 8192, 65536, (uint64_t)8 << 20, 16, 0,         \
     (uint64_t)1 << 30, 1, 20000, NULL, MERU_ICEBERG_VIEW_CONTINUOUS, 3,      \
     86400, 0, 2048, 0, 262144, 1}

/* Fills `opts` with the defaults above. The macro passes the caller's
 * struct size, so that a library newer than the caller's header fills only
 * the fields of the caller's version (and sets `version` to it). Bindings
 * through an FFI call meru_options_init_sized with their struct's size:
 * the exported meru_options_init is for programs built against version 6
 * and 7 headers and fills the version-7 fields only (docs/api.md). */
MERU_API void meru_options_init_sized(meru_options *opts, size_t size);
MERU_API void meru_options_init(meru_options *opts);
#define meru_options_init(opts) meru_options_init_sized((opts), sizeof *(opts))
/* Checks ranges and consistency (e.g. slowdown <= stop); MERU_EINVAL with the
 * field named in meru_errmsg(). */
MERU_API int meru_options_validate(const meru_options *opts);


/* ================================================================ tables */

/*
 * A table handle. One directory holds one table (SPEC §4). A handle is safe
 * to share between threads: writes from many threads are grouped (group
 * commit), reads run concurrently with writes and background work.
 */
typedef struct meru_db meru_db;

/*
 * Opens the table in directory `path`.
 *  - `opts` NULL means all defaults (meru_options_init). Validated first.
 *  - Creating (the directory holds no table and opts->create_if_missing):
 *    `schema` is required; it is validated and cloned.
 *  - Opening an existing table: `schema` may be NULL (use the stored one).
 *    When given it must have the columns of the table's current schema or
 *    of one of its older schemas (an application's schema from before a
 *    meru_add_column: the current one is used), or extend the current one
 *    with new columns at the end under the rules of meru_add_column (same
 *    primary key, new field ids): otherwise MERU_ESCHEMA naming the first
 *    difference. An extension is committed as a new schema of the table,
 *    as meru_add_column does, column by column in one step.
 *  - opts->read_only: no LOCK, no WAL replay into files, no background
 *    work; writes return MERU_EREADONLY. Sees the last committed version
 *    plus what the WAL holds at open; meru_refresh() catches up.
 * Errors: MERU_NOT_FOUND (no table and create_if_missing == 0), MERU_EEXIST
 * (error_if_exists), MERU_ELOCKED (another process holds the write lock),
 * MERU_ECORRUPT (metadata or a log record in the middle of the WAL failed
 * its checks), MERU_EIO, MERU_EINVAL, MERU_ESCHEMA.
 * On success *out is owned by the caller: meru_close() then meru_db_free().
 */
MERU_API int meru_open(const char *path, const meru_options *opts,
                       const meru_schema *schema, meru_db **out);

/*
 * Closes the table: waits for writes in progress, flushes the memtable to
 * L0 (so reopening replays nothing), syncs, stops and joins every
 * background thread and releases LOCK. Idempotent: a second call returns
 * MERU_OK. After it every call on the handle except meru_db_free,
 * meru_db_schema and meru_stats returns MERU_ECLOSED. Snapshots and
 * iterators still open stay readable until freed. Returns the first error
 * met (the handle is closed in any case).
 */
MERU_API int meru_close(meru_db *db);
/* Closes (if still open) and frees the handle. Every iterator and snapshot
 * of the handle must have been freed before. Accepts NULL. */
MERU_API void meru_db_free(meru_db *db);

/*
 * The table's current schema (borrowed; lives as long as the handle). Rows
 * for meru_put / meru_get and key rows are made with meru_row_new on it.
 * A schema change (meru_add_column) makes a new schema object: from then
 * on this returns the new one, while every pointer returned before stays
 * valid until meru_db_free, and rows made on it stay usable with the
 * handle (a put writes the columns such a row lacks as their write
 * default, else null; a get fills the columns the row has). Read-only
 * handles follow the writer's schema at meru_refresh.
 */
MERU_API const meru_schema *meru_db_schema(const meru_db *db);

/*
 * Adds a column to the table, the Iceberg way: a new schema with the next
 * schema-id becomes current (meru_schema_id(meru_db_schema(db))), older
 * snapshots keep theirs, no data file is rewritten. One metadata version
 * is committed (no new snapshot). `def` is copied; def->field_id 0 takes
 * the next unused id (the table's last-column-id + 1), else it must be
 * above last-column-id.
 *
 * Rules (MERU_ESCHEMA naming the one broken, nothing changed): a new,
 * valid name; a type with valid parameters; defaults that parse for the
 * type. Defaults are Iceberg v3 features: on a format-version 3 table
 * `initial_default` is what rows written before the column existed read
 * and `write_default` what a later write that leaves the column unset
 * stores; a NOT NULL column needs an initial default. On a format-version
 * 2 table the column must be nullable and have neither default.
 *
 * Concurrent writers are never mixed up: a row written before the change
 * reads the initial default (else null), a row written after it stores
 * the write default (else null) when it leaves the column unset, also a
 * row made on the previous schema (see meru_db_schema). Reads started
 * before the change return rows of the previous schema.
 * Read-only handles: MERU_EREADONLY. Closed: MERU_ECLOSED.
 */
MERU_API int meru_add_column(meru_db *db, const meru_column_def *def);

/* ---------------------------------------------------------------- writes */

/*
 * Inserts or replaces the row whose primary key is the row's key columns.
 * The row is validated (meru_row_validate) and must be of this table's
 * schema (same handle or an equal schema); a rejected row changes nothing.
 * When `seq` is not NULL it receives the row's sequence number. The write is
 * durable on return when the sync mode says so.
 */
MERU_API int meru_put(meru_db *db, const meru_row *row, uint64_t *seq);

/* Deletes the row whose key is given by the key columns of `key` (other
 * columns are ignored). Deleting an absent key is not an error. */
MERU_API int meru_delete(meru_db *db, const meru_row *key, uint64_t *seq);

/*
 * A write batch: puts and deletes applied atomically (all or none), as one
 * WAL record, with contiguous sequence numbers. Readers never see part of
 * a batch. A batch belongs to one thread at a time and may be reused after
 * meru_write (meru_write_batch_clear empties it).
 */
typedef struct meru_write_batch meru_write_batch;
MERU_API int meru_write_batch_new(meru_write_batch **out,
                                  const meru_schema *schema);
MERU_API void meru_write_batch_free(meru_write_batch *b);
MERU_API void meru_write_batch_clear(meru_write_batch *b);
/* Validates and appends; a rejected entry leaves the batch unchanged. */
MERU_API int meru_write_batch_put(meru_write_batch *b, const meru_row *row);
MERU_API int meru_write_batch_delete(meru_write_batch *b, const meru_row *key);
MERU_API size_t meru_write_batch_count(const meru_write_batch *b);
/* Applies the batch. *first_seq (optional) gets the sequence number of the
 * first entry; entry i has *first_seq + i. An empty batch is MERU_OK and
 * writes nothing (*first_seq = 0). */
MERU_API int meru_write(meru_db *db, meru_write_batch *b, uint64_t *first_seq);

/*
 * Per-call write options (RocksDB's WriteOptions). Initialise with
 * MERU_WRITE_OPTIONS_INIT or meru_write_options_init().
 */
#define MERU_WRITE_OPTIONS_VERSION 1
typedef struct meru_write_options {
    unsigned version; /* MERU_WRITE_OPTIONS_VERSION */
    /* 1: the write is on disk (fdatasync) before the call returns, whatever
     * the table's sync_mode (other writers of the same group share that
     * sync); 0: the table's sync_mode decides. Default 0. */
    int sync;
} meru_write_options;
#define MERU_WRITE_OPTIONS_INIT {MERU_WRITE_OPTIONS_VERSION, 0}
MERU_API void meru_write_options_init(meru_write_options *o);

/* meru_put, meru_delete and meru_write with per-call options (`wo` NULL =
 * defaults: the same as the calls without _ex). */
MERU_API int meru_put_ex(meru_db *db, const meru_write_options *wo,
                         const meru_row *row, uint64_t *seq);
MERU_API int meru_delete_ex(meru_db *db, const meru_write_options *wo,
                            const meru_row *key, uint64_t *seq);
MERU_API int meru_write_ex(meru_db *db, const meru_write_options *wo,
                           meru_write_batch *b, uint64_t *first_seq);

/* ----------------------------------------------------------------- reads */

/*
 * A snapshot pins a sequence number and the files it needs: gets and scans
 * through it see the table as it was when it was taken, whatever flushes
 * happen later. Free it with meru_snapshot_free (also after meru_close).
 */
typedef struct meru_snapshot meru_snapshot;
MERU_API int meru_snapshot_new(meru_db *db, meru_snapshot **out);
MERU_API void meru_snapshot_free(meru_snapshot *snap);
MERU_API uint64_t meru_snapshot_sequence(const meru_snapshot *snap);

/*
 * Point lookup. `key` holds the key columns (others ignored); `out` is a row
 * of the table's schema (meru_row_new(&out, meru_db_schema(db))) that
 * receives every column of the stored row. `snap` NULL reads the latest
 * state. MERU_NOT_FOUND when there is no live row with that key (out is
 * then cleared).
 */
MERU_API int meru_get(meru_db *db, const meru_snapshot *snap,
                      const meru_row *key, meru_row *out);

/*
 * Per-call read options (RocksDB's ReadOptions). Initialise with
 * MERU_READ_OPTIONS_INIT or meru_read_options_init().
 */
#define MERU_READ_OPTIONS_VERSION 1
typedef struct meru_read_options {
    unsigned version;              /* MERU_READ_OPTIONS_VERSION */
    const meru_snapshot *snapshot; /* NULL: latest */
    /* 1: pages (and, without mmap_reads, file blocks) this read decodes
     * are kept in the table's cache, and row-cache answers stored; 0: the
     * read uses what is cached but adds nothing (a one-off bulk read does
     * not push the working set out). Default 1. */
    int fill_cache;
    /* 1: the CRC-32 of every data page the read decodes is checked, as
     * always (mapped files: once per page and open, but a get's page read
     * into the cache at each such read); 0: not checked by this
     * read (trusted storage, less CPU). Default 1. */
    int verify_checksums;
} meru_read_options;
#define MERU_READ_OPTIONS_INIT {MERU_READ_OPTIONS_VERSION, NULL, 1, 1}
MERU_API void meru_read_options_init(meru_read_options *o);

/* meru_get with per-call options (`ro` NULL = defaults, latest state). */
MERU_API int meru_get_ex(meru_db *db, const meru_read_options *ro,
                         const meru_row *key, meru_row *out);

/*
 * Scans. Bounds are rows whose key columns give a key; a bound may set only
 * a leading run of the key columns (the first k), and then stands for every
 * key starting with those values: an inclusive lower bound (a) starts at
 * the first such key, an inclusive upper bound includes all of them, an
 * exclusive lower bound skips all of them, an exclusive upper bound stops
 * before the first. `prefix` (first k key columns set) keeps only keys
 * starting with those values and combines with the bounds.
 */
#define MERU_SCAN_OPTIONS_VERSION 1
typedef struct meru_scan_options {
    unsigned version;              /* MERU_SCAN_OPTIONS_VERSION */
    const meru_snapshot *snapshot; /* NULL: latest */
    const meru_row *lower;         /* NULL: from the first key */
    int lower_inclusive;           /* default 1 */
    const meru_row *upper;         /* NULL: to the last key */
    int upper_inclusive;           /* default 0 */
    const meru_row *prefix;        /* NULL: none */
    int reverse;                   /* 1: descending key order */
    uint64_t limit;                /* rows at most; 0: no limit */
    /* Projection: names of the columns to read (key columns are always
     * read). NULL: every column. Unread columns of a returned row are
     * unset (meru_row_is_set() == 0). */
    const char *const *columns;
    size_t ncolumns;
    int fill_cache;       /* as in meru_read_options; default 1 */
    int verify_checksums; /* as in meru_read_options; default 1 */
} meru_scan_options;

#define MERU_SCAN_OPTIONS_INIT                                                 \
    {MERU_SCAN_OPTIONS_VERSION, NULL, NULL, 1, NULL, 0, NULL, 0, 0, NULL, 0, 1, 1}
MERU_API void meru_scan_options_init(meru_scan_options *o);

/*
 * A streaming iterator: it pins a consistent view (memtables and files) and
 * reads pages as it goes; it never materialises the result. Use it from
 * one thread at a time. It stays valid after meru_close() (the view it
 * pins is kept) until meru_iter_free.
 */
typedef struct meru_iter meru_iter;
MERU_API int meru_scan(meru_db *db, const meru_scan_options *opts,
                       meru_iter **out);
/* Advances to the next row: MERU_OK with *row set (borrowed, valid until
 * the next call on the iterator), MERU_NOT_FOUND at the end, or an error
 * (sticky). */
MERU_API int meru_iter_next(meru_iter *it, const meru_row **row);
/*
 * Repositions the iterator (RocksDB's Seek and SeekForPrev). `key` holds
 * the key columns, or a leading run of them as a scan bound does. After
 * meru_iter_seek the next meru_iter_next returns the first row whose key
 * is >= key (a leading run: the first key that starts with those values
 * or comes after them); after meru_iter_seek_for_prev, the last row whose
 * key is <= key (a leading run: the last key that starts with them or
 * comes before them). Later calls move on in the iterator's own direction,
 * reverse or not. The scan's bounds, prefix and snapshot still hold (a
 * target outside them gives the nearest row inside, or the end: then
 * meru_iter_next returns MERU_NOT_FOUND), and `limit` counts rows from the
 * last seek. The row meru_iter_next returned before is invalid afterwards.
 * A previous error of the iterator is returned again (sticky).
 */
MERU_API int meru_iter_seek(meru_iter *it, const meru_row *key);
MERU_API int meru_iter_seek_for_prev(meru_iter *it, const meru_row *key);
MERU_API void meru_iter_free(meru_iter *it);

/* ----------------------------------------------------------- maintenance */

/* Makes the current memtable immutable and waits until every memtable
 * holding data is written to L0 and committed. Read-only: MERU_EREADONLY. */
MERU_API int meru_flush(meru_db *db);

/* Manual compaction of the whole table: flushes, then merges every level
 * down into the deepest level in use (at least L1), dropping versions no
 * snapshot reads and, at the bottom, deletes. Runs in the calling thread;
 * background compactions keep running beside it. Read-only:
 * MERU_EREADONLY. */
MERU_API int meru_compact(meru_db *db);
/* Writes a self-contained Iceberg table (format as the table's) into
 * `target_dir`, which must not exist or be empty (MERU_EEXIST): the data
 * files hard-linked where the file system allows, copied otherwise (never
 * rewritten), and the metadata, manifests and deletion files of the
 * current version with every path pointing into target_dir, so the copy
 * stays valid when the source is moved or deleted. Works on read-only
 * handles. */
MERU_API int meru_export_iceberg(meru_db *db, const char *target_dir);

/* The same for the keys in [lower, upper] (rows whose leading key columns
 * give a key or a prefix, as scan bounds; NULL = open): files overlapping
 * the range are merged down (all of L0, whose files may hold any key). */
MERU_API int meru_compact_range(meru_db *db, const meru_row *lower,
                                const meru_row *upper);

/* Read-only handles: re-reads the newest committed metadata and the WAL so
 * later reads see what the writer has committed since. Writers: MERU_OK. */
MERU_API int meru_refresh(meru_db *db);

/* ----------------------------------------------------------- change feed */

/*
 * The change feed (SPEC §10): every committed change with a sequence number
 * above `since_seq`, in sequence order, read at one consistent point (the
 * changes of a batch are contiguous, never torn). Each change is one row
 * version written by a put or a delete, described against the table's
 * state just before it:
 *   INSERT  a put of a key that had no live row       row = the new row
 *   UPDATE  a put of a key that had one               row, before = old row
 *   DELETE  a delete of a key that had one            before = removed row
 * A delete of an absent key changes nothing and is not reported. Every
 * sequence number is used by one write, so a reader resumes exactly with
 * the last sequence it saw as the next since_seq.
 *
 * History: changes are kept for the retention window
 * (changes_retention_seconds / _bytes, meru_options) in changelog Parquet
 * files written at each flush (<table>/changes/<uuid>.parquet, readable by
 * other engines: docs/design.md) and, until then, in the memtables. A
 * since_seq below the window is MERU_EEXPIRED, whose message names
 * meru_changes_oldest(); since_seq at or beyond the last sequence gives an
 * empty feed (not an error).
 */
typedef enum meru_change_kind {
    MERU_CHANGE_INSERT = 1,
    MERU_CHANGE_UPDATE = 2,
    MERU_CHANGE_DELETE = 3
} meru_change_kind;

/* "insert", "update", "delete" (NULL for anything else). */
MERU_API const char *meru_change_kind_name(int kind);

typedef struct meru_change {
    uint64_t seq;          /* the write's sequence number */
    meru_change_kind kind;
    /* The row after the change (INSERT, UPDATE), NULL for a DELETE. */
    const meru_row *row;
    /* The row before the change (UPDATE, DELETE), NULL for an INSERT. */
    const meru_row *before;
} meru_change;

typedef struct meru_changes_iter meru_changes_iter;

/* Per-call options of meru_changes; NULL = defaults. */
#define MERU_CHANGES_OPTIONS_VERSION 1
typedef struct meru_changes_options {
    unsigned version; /* MERU_CHANGES_OPTIONS_VERSION */
    /* Stop after the change with this sequence (inclusive); 0 = read up to
     * the point the iterator was opened at. */
    uint64_t until_seq;
} meru_changes_options;
#define MERU_CHANGES_OPTIONS_INIT {MERU_CHANGES_OPTIONS_VERSION, 0}
MERU_API void meru_changes_options_init(meru_changes_options *o);

/*
 * Opens an iterator over the changes with sequence > since_seq, pinned at
 * the table's state now (later commits are not seen: open a new iterator,
 * from the last sequence read, to follow; read-only handles call
 * meru_refresh first). The iterator keeps the files it reads alive; it
 * reads them as it goes. *out is freed with meru_changes_free. Errors:
 * MERU_EEXPIRED (since_seq below meru_changes_oldest), MERU_EINVAL,
 * MERU_ECLOSED. Works on read-only handles.
 */
MERU_API int meru_changes(meru_db *db, uint64_t since_seq,
                          const meru_changes_options *opts,
                          meru_changes_iter **out);
/*
 * The next change: MERU_OK with *change filled, MERU_NOT_FOUND at the end,
 * or an error (MERU_ECORRUPT for a damaged changelog file, MERU_EIO,
 * MERU_EEXPIRED when another process expired a file this handle had not
 * opened yet). The rows in *change are borrowed from the iterator: valid
 * until the next call on it or meru_changes_free, rows of the table's
 * schema (read them with meru_row_get_* or meru_row_to_json).
 */
MERU_API int meru_change_next(meru_changes_iter *it, meru_change *change);
/* Frees the iterator (NULL is fine). */
MERU_API void meru_changes_free(meru_changes_iter *it);
/*
 * The smallest since_seq meru_changes accepts now: every change with a
 * sequence above it is still available. 0 on a NULL or closed handle.
 */
MERU_API uint64_t meru_changes_oldest(meru_db *db);

/* ------------------------------------------------------------ properties */

/*
 * Sets (value != NULL) or removes (value == NULL) the table property `key`,
 * committed as a new metadata version. A key from the table-shaping list
 * (meru_options) is validated (MERU_EINVAL naming the rule; nothing is
 * committed) and applies at once: files written from then on use it
 * (existing files are not rewritten; compaction rewrites them in time).
 * Removing such a key returns its option to this handle's open value.
 * Other keys are stored as they are, except unknown keys of the write.* and
 * merutable.* namespaces, Iceberg's reserved keys (format-version, uuid,
 * ...) and the engine's own (merutable.format-version, write.metadata.*),
 * which are MERU_EINVAL. Keys: 1..4096 bytes; values: at most 4096. Read-only:
 * MERU_EREADONLY.
 */
MERU_API int meru_set_property(meru_db *db, const char *key, const char *value);
/* The stored value of property `key`: *out is a copy to release with
 * meru_free(); MERU_NOT_FOUND (and *out NULL) when the table does not
 * store it. */
MERU_API int meru_get_property(meru_db *db, const char *key, char **out);

/*
 * The table described as one JSON object, for tools and bindings:
 *   {"table": name, "location": absolute dir, "uuid": ...,
 *    "iceberg-format-version": 2, "metadata-version": N,
 *    "schema": <meru_schema_to_json>, "primary-key": [names],
 *    "properties": {key: value, ...},         every stored property
 *    "options": {key: value, ...},            the table-shaping options in
 *                                             effect, by property key
 *    "levels": [{"level": 0, "files": n, "bytes": n, "rows": n}, ...],
 *    "files": n, "bytes": n, "rows": n}        (rows: row versions stored)
 * *out is released with meru_free(). Works on read-only handles.
 */
MERU_API int meru_describe_json(meru_db *db, char **out);

/* ---------------------------------------------------------------- verify */

/* What meru_verify read. */
typedef struct meru_verify_report {
    uint64_t files;        /* data files whose footers were checked */
    uint64_t file_entries; /* row versions read back from them (full) */
    uint64_t file_lookups; /* keys looked up in their own file (full) */
    uint64_t rows;         /* live rows of the forward scan */
    uint64_t gets;         /* of them, looked up by key */
    uint64_t wal_segments; /* live log segments read (full) */
    uint64_t wal_records;  /* ... and their records */
    /* Full check: 1 when the Iceberg view was read back from its files and
     * compared (0: the table keeps no view), and its live rows. */
    int iceberg_view;
    uint64_t iceberg_rows;
} meru_verify_report;

/* Sample instead of reading everything: footers only, ~256 gets. */
#define MERU_VERIFY_QUICK 1u

/*
 * Checks the table without trusting it: the newest metadata file (its
 * checksum and invariants); the live log segments (present; in a full
 * check every record read back); every data file's footer against the
 * metadata; in a full check every row version of every file read back
 * (page checksums, key order and ranges, row counts) and each key found by
 * a lookup in its own file (bloom filters, page index); a forward and a
 * reverse scan in strict key order; and a get of every row (a sample with
 * MERU_VERIFY_QUICK) giving the row the scan gave; in a full check, the
 * Iceberg view: each file's deletion vector equal to what the data hides,
 * and the view read back from its files (metadata, manifests, deletion
 * files) holding exactly the rows of a scan at the last commit. Runs
 * beside writers.
 * MERU_OK, or MERU_ECORRUPT (an I/O error as it comes) with meru_errmsg()
 * naming the first problem. `out` (optional) says what was read.
 */
MERU_API int meru_verify(meru_db *db, unsigned flags, meru_verify_report *out);

/* ---------------------------------------------------------------- repair */

/* What meru_repair did (each action is also a line of <table>/repair.log). */
typedef struct meru_repair_report {
    uint64_t metadata_version;     /* the table's version afterwards */
    uint64_t versions_rolled_back; /* damaged newest metadata versions set
                                      aside (renamed *.damaged) */
    uint64_t files_readded;   /* unlisted data files put back into L0 (all
                                 their rows newer than the kept version) */
    uint64_t files_set_aside; /* data files moved to <table>/lost/ */
    uint64_t files_dropped;   /* listed files that did not read: gone from
                                 the table (set aside when present) */
    uint64_t rows_dropped;    /* row versions those files held */
    uint64_t wal_segments_skipped; /* live log segments that were missing */
    uint64_t wal_salvaged_bytes;   /* mid-log damage dropped (writes lost) */
    uint64_t wal_salvaged_regions;
    uint64_t wal_tail_dropped_bytes; /* a torn tail (an unacknowledged
                                        write cut by a crash) */
    uint64_t log_errors; /* lines of repair.log that could not be written */
} meru_repair_report;

/*
 * Repairs the table in `path` so that it opens and reads everything that is
 * left, giving up what damage took and saying what: it rolls back past a
 * damaged newest metadata version (renaming it *.damaged) and puts back the
 * data files of the lost commits whose rows are newer than all it kept;
 * moves data files it cannot use to <table>/lost/ (a file the table lists
 * that does not read leaves the table, with its rows); makes the log start
 * at the live segments that are there; and recovers the log with
 * wal_salvage (dropping damage in the middle). Nothing is deleted. Every
 * action is appended to <table>/repair.log and counted in `out`
 * (optional). Needs the table closed everywhere (MERU_ELOCKED otherwise).
 * `opts` (NULL: defaults) is used for the final recovery.
 */
MERU_API int meru_repair(const char *path, const meru_options *opts,
                         meru_repair_report *out);

/* ----------------------------------------------------------------- stats */

#define MERU_STATS_MAX_LEVELS 8

typedef struct meru_level_stats {
    uint64_t files;
    uint64_t bytes;
    uint64_t rows; /* row versions stored (puts and deletes) */
} meru_level_stats;

typedef struct meru_stats {
    uint64_t last_sequence;    /* newest visible sequence number */
    uint64_t metadata_version; /* N of the current v<N>.metadata.json */
    int levels;                /* levels in use (highest non-empty + 1) */
    meru_level_stats level[MERU_STATS_MAX_LEVELS];
    uint64_t total_files, total_bytes, total_rows;
    /* memtables. A read-only handle has none of its own: the rows it
     * replayed from the WAL (written, not in files yet) show as the
     * mutable memtable, and it has no immutable one. */
    uint64_t memtable_bytes;       /* arena bytes of the mutable memtable */
    uint64_t memtable_entries;
    uint64_t immutable_memtables;  /* waiting for flush */
    uint64_t immutable_bytes;
    /* write path (counters of this handle: 0 on a read-only one) */
    uint64_t puts, deletes, batches;
    uint64_t wal_records, wal_groups, wal_syncs;
    uint64_t wal_segment;          /* number of the segment being written */
    uint64_t wal_bytes;            /* bytes in live WAL segments on disk */
    uint64_t stall_count;          /* writes that waited for background work */
    uint64_t stall_micros;
    uint64_t slowdown_count;       /* writes delayed by the L0 slowdown */
    /* background */
    uint64_t flushes, flush_bytes;
    uint64_t compactions, compaction_bytes_read, compaction_bytes_written;
    uint64_t compactions_running; /* jobs in progress now */
    /* Levels over their compaction trigger or size target: work the
     * background threads will start. When there is none but idle work
     * remains (L0 files below the trigger, runs of small files: the
     * background threads compact them once the table has been quiet for
     * a second, so an idle table settles near its compacted size), 1.
     * With compactions_running and immutable_memtables all 0 the table is
     * idle (nothing left to flush or compact). Always 0 on a read-only or
     * closed handle. */
    uint64_t compactions_pending;
    /* Obsolete files (compacted away, no reader left) queued for deletion:
     * a background thread deletes them once gc_grace_seconds have
     * passed. */
    uint64_t gc_pending_files;
    uint64_t background_errors;
    /* reads */
    uint64_t gets, gets_found, scans;
    /* the page cache: its capacity is cache_bytes less the row cache's
     * share when row_cache_bytes is MERU_ROW_CACHE_AUTO */
    uint64_t cache_capacity, cache_bytes, cache_hits, cache_misses;
    uint64_t row_cache_hits, row_cache_misses;
    uint64_t bloom_checks, bloom_negatives;
    uint64_t open_files;           /* SST readers open */
    uint64_t snapshots;            /* live snapshots */
    int read_only;
    int closed;
    /* The Iceberg view's upkeep (iceberg_view continuous): flushes that
     * looked up the older versions of their keys, the time those lookups
     * took (spent by the flush under the catalog lock, not by writers) and
     * the CPU time of it, the data pages they decoded, and the older rows
     * they hid. */
    uint64_t view_lookups, view_lookup_micros, view_lookup_pages;
    uint64_t view_rows_hidden;
    uint64_t view_lookup_cpu_micros;
    /* What the last open (or refresh) dropped from the write-ahead log: a
     * torn tail (an unacknowledged write cut by a crash: normal), and with
     * wal_salvage the damaged stretches in the middle (writes lost). */
    uint64_t wal_tail_dropped_bytes;
    uint64_t wal_salvaged_bytes;
    uint64_t wal_salvaged_regions;
    /* Data files found to contradict the table metadata (their reads
     * fail; `meru verify` names them). */
    uint64_t suspect_files;
    /* Trivial moves: compactions that gave a file of level >= 1 the next
     * level in the metadata, without rewriting it (nothing of that level
     * overlapped it). Not counted in compactions. */
    uint64_t compaction_moves;
} meru_stats;

/*
 * Fills the first `size` bytes of *out (see ABI above: pass sizeof *out,
 * which meru_stats_get does). Works on a closed handle (counters as at
 * close). A size smaller than the first version of the struct is
 * MERU_EINVAL.
 */
MERU_API int meru_stats_get_sized(meru_db *db, meru_stats *out, size_t size);
/* The exported function fills this header's whole struct; the macro (what
 * C callers get) passes the caller's own size. */
MERU_API int meru_stats_get(meru_db *db, meru_stats *out);
#define meru_stats_get(db, out) meru_stats_get_sized((db), (out), sizeof *(out))
/* The same as one JSON object; *out is released with meru_free(). */
MERU_API int meru_stats_json(meru_db *db, char **out);

#ifdef __cplusplus
}
#endif

#endif /* MERUTABLE_H */
