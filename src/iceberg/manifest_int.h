/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest_int.h — what manifest.c and manifest_list.c share: the memory
 * a decoded file owns, header-value parsing and field-id dispatch helpers.
 * Internal to src/iceberg/.
 */
#ifndef MERU_ICEBERG_MANIFEST_INT_H
#define MERU_ICEBERG_MANIFEST_INT_H

#include "iceberg/avro.h"
#include "iceberg/manifest.h"
#include "util/arena.h"

struct meru_ice_manifest_mem {
    meru_arena *arena;
};

/* Optional field of the writer schemas: ["null", T] with default null. */
#define ICE_OPT(name, type, id)                                                \
    "{\"name\":\"" name "\",\"type\":[\"null\"," type "],"                     \
    "\"default\":null,\"field-id\":" #id "}"
#define ICE_REQ(name, type, id)                                                \
    "{\"name\":\"" name "\",\"type\":" type ",\"field-id\":" #id "}"

int ice_mem_new(struct meru_ice_manifest_mem **out);
void ice_mem_free(struct meru_ice_manifest_mem *m);

/* A NUL-terminated copy in the arena of bytes that must hold no NUL. */
int ice_copy_str(meru_arena *a, const uint8_t *p, size_t n, const char *what,
                 const char **out);
/* A header value that is a decimal integer ("2", "-1"), strictly. */
int ice_meta_long(const meru_avro_ocf *f, const char *key, bool *present,
                  int64_t *out);
/* The file's top-level schema must be a record. */
int ice_top_record(const meru_avro_ocf *f, const char *what,
                   const meru_avro_schema **out);
/* Reads every block of records of `f` into a growing array of `size`-byte
 * items (*items, *n; realloc'd, the caller frees *items also on failure),
 * calling read_one(arg, rd, item) for each record; `what` names the file
 * kind in the out-of-memory message. Each block must be consumed exactly. */
int ice_read_records(meru_avro_ocf *f, size_t size, void **items, size_t *n,
                     int (*read_one)(void *arg, meru_avro_rd *rd, void *item),
                     void *arg, const char *what);
/* Appends `count` records (already in rec[0..len) bytes) as a block when
 * the pending block passes ~1 MiB or `last` is set. */
int ice_flush_block(meru_buf *out, meru_buf *block, uint64_t *count,
                    const uint8_t sync[MERU_AVRO_SYNC_LEN], bool last);
/* A decimal rendering of v into buf (24 bytes). */
const char *ice_fmt_long(char buf[24], int64_t v);

#endif
