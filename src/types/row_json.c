/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row_json.c — a row as one JSON object, {"id":1,"name":"a",...}.
 *
 * Output: every column in schema order; an unset column with a write
 * default shows the default, other unset columns show null. Values use the
 * Iceberg single-value forms (literal.c) except timestamptz, which ends in
 * "Z" here (the usual ISO-8601 form for instants).
 *
 * Input is scanned by hand rather than with jansson so that each value's
 * raw text reaches the literal parser: a decimal written as the number
 * 0.1 must not pass through a double. Nested objects and arrays are
 * refused. The input is applied all or nothing: every member is parsed and
 * checked first, and the row changes only when all of them are good (short
 * of running out of memory while copying them in).
 */
#include <stdlib.h>
#include <string.h>

#include "types/jtext.h"
#include "types/row.h"
#include "util/error.h"

int meru_row_to_json(const meru_row *row, char **out)
{
    if (!row || !out)
        return meru_err(MERU_EINVAL, "meru_row_to_json: NULL argument");
    *out = NULL;
    meru_buf b = {0};
    int rc = meru_buf_push(&b, '{');
    for (size_t i = 0; !rc && i < row->ncols; i++) {
        const meru_column *c = &row->schema->cols[i];
        meru_value tmp;
        if (i > 0)
            rc = meru_buf_push(&b, ',');
        if (!rc)
            rc = meru_json_put_string(&b, c->name, strlen(c->name));
        if (!rc)
            rc = meru_buf_push(&b, ':');
        if (!rc) {
            rc = meru_value_to_json(c, meru_row_effective(row, i, &tmp),
                                    MERU_LIT_TZ_ZULU, &b);
            if (rc && rc != MERU_ENOMEM) {
                char lb[MERU_LABEL_MAX];
                rc = meru_err_wrap(rc, "meru_row_to_json: %s",
                                   meru_column_label(c, lb));
            }
        }
    }
    if (!rc)
        rc = meru_buf_append(&b, "}", 2); /* with the NUL */
    if (rc) {
        meru_buf_free(&b);
        return rc;
    }
    *out = (char *)meru_buf_detach(&b, NULL);
    return MERU_OK;
}

typedef struct member {
    size_t col;
    meru_value v;
    size_t off; /* bytes in the scratch buffer */
} member;

int meru_row_from_json(meru_row *row, const char *json, size_t len)
{
    static const char fn[] = "meru_row_from_json";
    char m[72], lb[MERU_LABEL_MAX];
    if (!row || (!json && len > 0))
        return meru_err(MERU_EINVAL, "%s: NULL argument", fn);
    member *ms = NULL;
    size_t nm = 0;
    uint8_t *seen = calloc(row->ncols, 1);
    meru_buf scratch = {0}, name = {0};
    int rc = MERU_OK;
    if (!seen) {
        rc = meru_err(MERU_ENOMEM, "%s: out of memory", fn);
        goto done;
    }
    size_t pos = meru_json_skip_ws(json, len, 0);
    if (pos >= len || json[pos] != '{') {
        rc =
            meru_err(MERU_EINVAL,
                     "%s: expected a JSON object ('{') at offset %zu", fn, pos);
        goto done;
    }
    pos = meru_json_skip_ws(json, len, pos + 1);
    if (pos < len && json[pos] == '}') {
        pos++;
        goto end;
    }
    ms = calloc(row->ncols, sizeof *ms);
    if (!ms) {
        rc = meru_err(MERU_ENOMEM, "%s: out of memory", fn);
        goto done;
    }
    for (;;) {
        meru_jtok key, val;
        if (pos >= len || json[pos] != '"') {
            rc = meru_err(MERU_EINVAL,
                          "%s: expected a column name in double quotes at "
                          "offset %zu",
                          fn, pos);
            goto done;
        }
        rc = meru_json_scan_scalar(json, len, pos, &key);
        if (rc) {
            rc = meru_err_wrap(rc, "%s", fn);
            goto done;
        }
        meru_buf_reset(&name);
        rc = meru_json_unescape(json + key.start + 1, key.len - 2, &name);
        if (!rc)
            rc = meru_buf_push(&name, 0);
        if (rc)
            goto done;
        const char *nm_s = (const char *)name.data;
        int col = strlen(nm_s) == name.len - 1
                      ? meru_schema_column_index(row->schema, nm_s)
                      : -1;
        if (col < 0 || (size_t)col >= row->ncols) {
            rc = meru_err(
                MERU_ENOCOLUMN, "%s: table '%s' has no column '%s' (offset %zu)",
                fn, row->schema->table_name,
                meru_msg_text(m, sizeof m, name.data, name.len - 1), key.start);
            goto done;
        }
        const meru_column *c = &row->schema->cols[col];
        if (seen[col]) {
            rc = meru_err(MERU_EINVAL, "%s: %s appears twice (offset %zu)", fn,
                          meru_column_label(c, lb), key.start);
            goto done;
        }
        seen[col] = 1;
        pos = meru_json_skip_ws(json, len, key.start + key.len);
        if (pos >= len || json[pos] != ':') {
            rc = meru_err(MERU_EINVAL,
                          "%s: expected ':' after the column name at offset "
                          "%zu",
                          fn, pos);
            goto done;
        }
        pos = meru_json_skip_ws(json, len, pos + 1);
        rc = meru_json_scan_scalar(json, len, pos, &val);
        if (rc) {
            rc = meru_err_wrap(rc, "%s: %s", fn, meru_column_label(c, lb));
            goto done;
        }
        member *mb = &ms[nm++];
        mb->col = (size_t)col;
        rc = meru_literal_parse(c, json + val.start, val.len, &mb->v, &scratch,
                                &mb->off);
        if (rc) {
            rc = meru_err_wrap(rc, "%s: %s (offset %zu)", fn,
                               meru_column_label(c, lb), val.start);
            goto done;
        }
        pos = meru_json_skip_ws(json, len, val.start + val.len);
        if (pos < len && json[pos] == ',') {
            pos = meru_json_skip_ws(json, len, pos + 1);
            continue;
        }
        if (pos < len && json[pos] == '}') {
            pos++;
            break;
        }
        rc = meru_err(MERU_EINVAL, "%s: expected ',' or '}' at offset %zu", fn,
                      pos);
        goto done;
    }
end:
    pos = meru_json_skip_ws(json, len, pos);
    if (pos != len) {
        rc = meru_err(MERU_EINVAL,
                      "%s: unexpected text after the object at offset %zu", fn,
                      pos);
        goto done;
    }
    /* Everything parsed: apply. */
    for (size_t i = 0; i < nm; i++) {
        meru_value v = ms[i].v;
        const meru_column *c = &row->schema->cols[ms[i].col];
        if (v.state == MERU_VALUE_PRESENT &&
            (c->type == MERU_TYPE_STRING || c->type == MERU_TYPE_BINARY ||
             c->type == MERU_TYPE_FIXED))
            v.u.bytes.ptr =
                scratch.data ? scratch.data + ms[i].off : (const uint8_t *)"";
        rc = meru_row_put_value(row, ms[i].col, &v);
        if (rc)
            goto done;
    }
done:
    free(ms);
    free(seen);
    meru_buf_free(&scratch);
    meru_buf_free(&name);
    return rc;
}
