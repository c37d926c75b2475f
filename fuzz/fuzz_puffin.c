/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_puffin.c — libFuzzer target for the Puffin footer parser
 * (src/iceberg/puffin.h).
 *
 * The input is a whole Puffin file; the footer is parsed from all of it,
 * and again from the shortest tail the parser asks for. Oracles: no crash
 * or over-read (ASan); failures are MERU_ECORRUPT, MERU_ENOTSUP or
 * MERU_ERANGE (tail too short, with the length needed); every blob a
 * parsed footer lists lies after the leading magic and before the footer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/puffin.h"
#include "merutable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meru_puffin_footer *ft = NULL;
    uint64_t need = 0;
    /* a short tail first: the parser must ask for what it needs */
    size_t tail = size < 16 ? size : 16;
    int rc = size ? meru_puffin_footer_parse(&ft, data + size - tail, tail,
                                             size, &need)
                  : MERU_ECORRUPT;
    if (rc == MERU_ERANGE) {
        if (need <= tail || need > size)
            abort();
    } else if (rc != MERU_OK && rc != MERU_ECORRUPT && rc != MERU_ENOTSUP &&
               rc != MERU_ENOMEM) {
        abort();
    }
    meru_puffin_footer_free(ft);
    ft = NULL;
    rc = meru_puffin_footer_parse(&ft, data, size, size, &need);
    if (rc != MERU_OK && rc != MERU_ECORRUPT && rc != MERU_ENOTSUP &&
        rc != MERU_ENOMEM)
        abort();
    if (rc == MERU_OK) {
        for (size_t i = 0; i < meru_puffin_footer_blob_count(ft); i++) {
            const meru_puffin_blob_meta *b = meru_puffin_footer_blob(ft, i);
            if (b->offset < 4 || b->offset > size || b->length > size ||
                b->offset + b->length > size - 16)
                abort();
            (void)meru_puffin_blob_prop(b, "referenced-data-file");
        }
        (void)meru_puffin_footer_prop(ft, "created-by");
    }
    meru_puffin_footer_free(ft);
    return 0;
}
