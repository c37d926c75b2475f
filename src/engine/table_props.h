/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table_props.h — table properties: which Iceberg table properties shape
 * the table (and which meru_options field each one sets), and which keys a
 * table may store at all.
 *
 * The table-shaping options (merutable.h, meru_options) live in the table's
 * metadata as properties, so every opener uses the same ones: they are
 * written when the table is created and read back at every open, where they
 * win over the opener's options. The list is one table in table_props.c:
 * a new table-shaping property is one more entry there (key, the option it
 * sets, how its value is parsed and checked, one line of help).
 *
 * Keys a table may store (meru_prop_check): the keys of that list (value
 * checked); any key outside the namespaces merutable implements (free-form
 * Iceberg properties: "owner", "comment", ...). Refused: unknown keys under
 * "write." and "merutable." (a typo, or an Iceberg writer setting merutable
 * does not honour), Iceberg's reserved keys, and the keys the catalog
 * writes itself.
 */
#ifndef MERU_ENGINE_TABLE_PROPS_H
#define MERU_ENGINE_TABLE_PROPS_H

#include <stddef.h>

#include "catalog/catalog.h"
#include "merutable.h"

typedef enum meru_prop_kind {
    MERU_PROP_CODEC, /* a meru_compression, by Iceberg codec name */
    MERU_PROP_INT,   /* an int field in [min, max] */
    MERU_PROP_U32,   /* a uint32_t field in [min, max] */
    MERU_PROP_U64    /* a uint64_t field in [min, max] */
} meru_prop_kind;

typedef struct meru_prop_def {
    const char *key;
    meru_prop_kind kind;
    size_t offset; /* of the meru_options field it sets */
    long long min, max;
    const char *help; /* one line: what it is, its unit */
} meru_prop_def;

/* The table-shaping properties, in a stable order. */
const meru_prop_def *meru_prop_defs(size_t *n);
/* The definition of `key`, or NULL. */
const meru_prop_def *meru_prop_find(const char *key);

/* Parses a table-shaping property's value into `o`'s field (o may be
 * NULL: check only). MERU_EINVAL naming the key and the rule. */
int meru_prop_parse(const meru_prop_def *d, const char *value, meru_options *o);
/* dst's field of `d` = src's. */
void meru_prop_copy_field(const meru_prop_def *d, meru_options *dst,
                          const meru_options *src);
/* The field's value in `o` as the property's text (buf of 32 bytes). */
void meru_prop_format(const meru_prop_def *d, const meru_options *o, char *buf,
                      size_t cap);

/*
 * Whether a table may store (key, value) (value NULL: removal): MERU_OK,
 * or MERU_EINVAL naming the reason (unknown key of our namespaces, with a
 * suggestion; reserved key; bad value). A known key's value is parsed into
 * `o` when o is not NULL, and the whole `o` validated afterwards.
 */
int meru_prop_check(const char *key, const char *value, meru_options *o);

/* Applies the properties the catalog stores to `o` (at open), and the
 * metadata's own format-version to o->iceberg_format_version (Iceberg
 * reserves that key: it is a fact of the metadata, not a property). A
 * stored value of a known key that does not parse is MERU_ECORRUPT. */
int meru_prop_apply_stored(const meru_catalog *cat, meru_options *o);

/*
 * The properties of a new table: every table-shaping property with its
 * value in `o`, then the extra pairs of o->properties (key, value, ...,
 * NULL) that are not table-shaping ones. *out is an array of *n owned
 * key/value pairs; free with meru_prop_list_free. o->properties must have
 * passed meru_prop_check (applied to `o`) first.
 */
int meru_prop_list_for_create(const meru_options *o, meru_catalog_kv **out,
                              size_t *n);
void meru_prop_list_free(meru_catalog_kv *list, size_t n);

#endif
