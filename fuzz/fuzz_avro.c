/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_avro.c — libFuzzer target for the Avro layer and the Iceberg
 * manifest / manifest-list readers (src/iceberg/avro.h, manifest.h).
 *
 * The input is decoded three ways: as a generic object container file
 * (every record skipped by its own writer schema), as a manifest and as a
 * manifest list. Oracles: no crash or over-read (ASan); failures are only
 * MERU_ECORRUPT, MERU_ENOTSUP or MERU_ENOMEM; a manifest or manifest list
 * that decodes and that our writer accepts re-encodes to a file that
 * decodes to the same number of entries.
 */
#include <stdint.h>
#include <stdlib.h>

#include "iceberg/avro.h"
#include "iceberg/manifest.h"
#include "merutable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rc(int rc)
{
    if (rc != MERU_OK && rc != MERU_ECORRUPT && rc != MERU_ENOTSUP &&
        rc != MERU_ENOMEM)
        abort();
}

static void walk_ocf(const uint8_t *data, size_t size)
{
    meru_avro_ocf *f = NULL;
    int rc = meru_avro_ocf_open(&f, data, size);
    check_rc(rc);
    if (rc)
        return;
    const meru_avro_schema *s = meru_avro_ocf_schema(f);
    for (;;) {
        meru_avro_rd rd;
        uint64_t count;
        if ((rc = meru_avro_ocf_next_block(f, &rd, &count)) || !count)
            break;
        if (count > rd.len)
            abort(); /* the reader promised count <= bytes */
        for (uint64_t i = 0; i < count && !rc; i++)
            rc = meru_avro_skip(&rd, s);
        if (!rc)
            rc = meru_avro_rd_finish(&rd, "block");
        if (rc)
            break;
    }
    check_rc(rc);
    meru_avro_ocf_close(f);
}

static void manifest(const uint8_t *data, size_t size)
{
    meru_ice_manifest *m = NULL, *again = NULL;
    meru_buf b = {0};
    int rc = meru_ice_manifest_decode(&m, data, size);
    check_rc(rc);
    if (rc)
        return;
    if (m->info.format_version >= 2 && m->info.schema_json &&
        meru_ice_manifest_encode(&b, &m->info, m->entries, m->n_entries,
                                 NULL) == MERU_OK) {
        if (meru_ice_manifest_decode(&again, b.data, b.len) != MERU_OK ||
            again->n_entries != m->n_entries)
            abort();
        meru_ice_manifest_free(again);
    }
    meru_buf_free(&b);
    meru_ice_manifest_free(m);
}

static void manifest_list(const uint8_t *data, size_t size)
{
    meru_ice_manifest_list *l = NULL, *again = NULL;
    meru_buf b = {0};
    int rc = meru_ice_manifest_list_decode(&l, data, size);
    check_rc(rc);
    if (rc)
        return;
    if (l->format_version >= 2 &&
        meru_ice_manifest_list_encode(&b, &l->info, l->files, l->n_files) ==
            MERU_OK) {
        if (meru_ice_manifest_list_decode(&again, b.data, b.len) != MERU_OK ||
            again->n_files != l->n_files)
            abort();
        meru_ice_manifest_list_free(again);
    }
    meru_buf_free(&b);
    meru_ice_manifest_list_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk_ocf(data, size);
    manifest(data, size);
    manifest_list(data, size);
    return 0;
}
