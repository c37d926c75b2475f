/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_keycodec.c — libFuzzer target for the key decoder and internal-key
 * parser (src/types/keycodec.h).
 *
 * The input is decoded as a user key under a few fixed schemas covering
 * every key type. Oracles: a decode either fails with MERU_ECORRUPT or
 * re-encodes to exactly the input bytes; an internal-key parse rebuilds the
 * same trailer; and for two keys cut from the input (first byte = split
 * point) that both decode, memcmp order equals the typed tuple order (fewer
 * components first on a tie, since a prefix key is a byte prefix).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/keycodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSCHEMA 4
#define MAXK    8

typedef struct fschema {
    meru_schema s;
    meru_column cols[MAXK];
    int key_cols[MAXK];
} fschema;

static fschema schemas[NSCHEMA];
static meru_buf re, scratch, scratch2;

static void build(fschema *f, size_t n, const meru_type *types)
{
    static const char *const names[MAXK] = {"k0", "k1", "k2", "k3",
                                            "k4", "k5", "k6", "k7"};
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        f->cols[i].name = (char *)names[i];
        f->cols[i].type = types[i];
        f->cols[i].fixed_length = types[i] == MERU_TYPE_FIXED ? 3 : 0;
        f->cols[i].precision = types[i] == MERU_TYPE_DECIMAL ? 38 : 0;
        f->cols[i].key_position = (int)i;
        f->key_cols[i] = (int)i;
    }
    f->s.table_name = (char *)"fuzz";
    f->s.cols = f->cols;
    f->s.ncols = f->s.cap = n;
    f->s.key_cols = f->key_cols;
    f->s.nkey = n;
}

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const meru_type t0[] = {MERU_TYPE_INT64};
    const meru_type t1[] = {MERU_TYPE_STRING, MERU_TYPE_INT32};
    const meru_type t2[] = {MERU_TYPE_BOOLEAN, MERU_TYPE_FLOAT,
                            MERU_TYPE_DOUBLE,  MERU_TYPE_DECIMAL,
                            MERU_TYPE_FIXED,   MERU_TYPE_BINARY,
                            MERU_TYPE_DATE,    MERU_TYPE_TIMESTAMPTZ};
    const meru_type t3[] = {MERU_TYPE_BINARY, MERU_TYPE_STRING,
                            MERU_TYPE_FIXED};
    build(&schemas[0], 1, t0);
    build(&schemas[1], 2, t1);
    build(&schemas[2], 8, t2);
    build(&schemas[3], 3, t3);
}

/* Decodes `p[0..len)` (a private heap copy, so ASan sees its exact end)
 * and checks the round trip. Returns the number of components or -1. */
static int decode_check(const meru_schema *s, const uint8_t *p, size_t len,
                        meru_value *vals, meru_buf *sc)
{
    size_t n = 0;
    meru_buf_reset(sc);
    int rc = meru_key_decode(s, p, len, vals, &n, sc);
    if (rc) {
        if (rc != MERU_ECORRUPT || sc->len != 0)
            abort();
        return -1;
    }
    if (n > s->nkey)
        abort();
    meru_buf_reset(&re);
    if (meru_key_encode(s, vals, n, &re) != MERU_OK || re.len != len ||
        (len && memcmp(re.data, p, len) != 0))
        abort();
    return (int)n;
}

static uint8_t *copy(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meru_value va[MAXK], vb[MAXK];
    init();
    for (int i = 0; i < NSCHEMA; i++)
        decode_check(&schemas[i].s, data, size, va, &scratch);

    size_t ulen;
    uint64_t seq;
    int op;
    if (meru_ikey_parse(data, size, &ulen, &seq, &op) == MERU_OK) {
        uint8_t tr[MERU_IKEY_TRAILER_LEN];
        if (seq > MERU_SEQ_MAX || ulen + MERU_IKEY_TRAILER_LEN != size)
            abort();
        meru_ikey_trailer_encode(tr, seq, op);
        if (memcmp(tr, data + ulen, sizeof tr) != 0)
            abort();
        uint8_t *u = copy(data, ulen);
        decode_check(&schemas[1].s, u, ulen, va, &scratch);
        free(u);
    } else if (size >= MERU_IKEY_TRAILER_LEN) {
        uint8_t op_byte = (uint8_t)~data[size - 1];
        if (op_byte == MERU_OP_DELETE || op_byte == MERU_OP_PUT)
            abort(); /* a valid op was rejected */
    }

    if (size < 1)
        return 0;
    size_t m = data[0] < size - 1 ? data[0] : size - 1;
    uint8_t *a = copy(data + 1, m);
    uint8_t *b = copy(data + 1 + m, size - 1 - m);
    size_t alen = m, blen = size - 1 - m;
    for (int i = 0; i < NSCHEMA; i++) {
        const fschema *f = &schemas[i];
        int na = decode_check(&f->s, a, alen, va, &scratch);
        if (na < 0)
            continue;
        int nb = decode_check(&f->s, b, blen, vb, &scratch2);
        if (nb < 0)
            continue;
        /* Typed order over the common components, then fewer first. */
        int want = 0, n = na < nb ? na : nb;
        for (int k = 0; k < n && !want; k++)
            want = meru_value_cmp(f->cols[k].type, &va[k], &vb[k]);
        if (!want)
            want = na - nb;
        int got = meru_ikey_cmp(a, alen, b, blen);
        if ((want > 0) != (got > 0) || (want < 0) != (got < 0))
            abort();
    }
    free(a);
    free(b);
    return 0;
}
