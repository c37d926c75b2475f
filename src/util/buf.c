/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.c — growable byte buffer; doubling growth, overflow-checked.
 */
#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>

#include "util/error.h"

int meru_buf_reserve(meru_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return MERU_OK;
    if (extra > SIZE_MAX - b->len)
        return meru_err(MERU_ENOMEM, "buffer size overflow");
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return meru_err(MERU_ENOMEM, "cannot grow buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return MERU_OK;
}

int meru_buf_append(meru_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return MERU_OK;
    int rc = meru_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MERU_OK;
}

int meru_buf_push(meru_buf *b, uint8_t byte)
{
    int rc = meru_buf_reserve(b, 1);
    if (rc)
        return rc;
    b->data[b->len++] = byte;
    return MERU_OK;
}

int meru_buf_extend(meru_buf *b, size_t n, uint8_t **out)
{
    if (n == 0) { /* data may be NULL: no pointer arithmetic on it */
        *out = b->data;
        return MERU_OK;
    }
    int rc = meru_buf_reserve(b, n);
    if (rc)
        return rc;
    *out = b->data + b->len;
    memset(*out, 0, n);
    b->len += n;
    return MERU_OK;
}

void meru_buf_free(meru_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint8_t *meru_buf_detach(meru_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
