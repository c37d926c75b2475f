/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_schema_text.c — libFuzzer target for schema text (meru_schema_parse,
 * the parser behind `meru create --schema ... --primary-key ...`). The
 * input is the column list, then optionally a NUL byte and the primary
 * key list.
 *
 * Oracles: the parser returns MERU_OK or MERU_ESCHEMA / MERU_EINVAL, never
 * crashes or reads out of bounds; a schema it accepts validates, and its
 * Iceberg JSON (meru_schema_to_json) parses back (meru_schema_from_json)
 * into a schema whose JSON is the same text.
 */
#include <stdlib.h>
#include <string.h>

#include "merutable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    const char *cols = text, *pk = NULL;
    size_t n = strlen(text);
    if (n < size)
        pk = text + n + 1; /* after the first NUL */
    meru_schema *s = NULL, *back = NULL;
    char *a = NULL, *b = NULL;
    int rc = meru_schema_parse(&s, "t", cols, pk);
    if (rc != MERU_OK && rc != MERU_ESCHEMA && rc != MERU_EINVAL &&
        rc != MERU_ENOMEM)
        abort();
    if (rc == MERU_OK && pk) {
        if (meru_schema_validate(s))
            abort();
        if (meru_schema_to_json(s, &a))
            abort();
        if (meru_schema_from_json(&back, a, strlen(a)))
            abort();
        if (meru_schema_to_json(back, &b) || strcmp(a, b))
            abort();
    }
    meru_free(a);
    meru_free(b);
    meru_schema_free(s);
    meru_schema_free(back);
    free(text);
    return 0;
}
