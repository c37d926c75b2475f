/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_catalog.c — libFuzzer target for the metadata decoder
 * (meru_catalog_parse_metadata, src/catalog/catalog.h): arbitrary bytes as
 * the content of a v<N>.metadata.json file.
 *
 * Oracles: the parser returns MERU_OK or MERU_ECORRUPT (or ENOMEM), never
 * crashes or reads out of bounds; and whatever it accepts, the writer turns
 * into a file it accepts again and that serialises to the same bytes
 * (write -> parse -> write is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meru_catalog *cat = NULL, *again = NULL;
    int rc = meru_catalog_parse_metadata((const char *)data, size, &cat);
    if (rc != MERU_OK) {
        if (rc != MERU_ECORRUPT && rc != MERU_ENOMEM)
            abort();
        return 0;
    }
    meru_buf a = {0}, b = {0};
    if (meru_catalog_to_json(cat, &a))
        abort();
    if (meru_catalog_parse_metadata((const char *)a.data, a.len, &again))
        abort();
    if (meru_catalog_to_json(again, &b))
        abort();
    if (a.len != b.len || memcmp(a.data, b.data, a.len))
        abort();
    meru_buf_free(&a);
    meru_buf_free(&b);
    meru_catalog_free(cat);
    meru_catalog_free(again);
    return 0;
}
