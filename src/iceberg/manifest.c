/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.c — Iceberg manifests (manifest_entry records) as Avro object
 * container files, format versions 2 and 3 (see manifest.h).
 *
 * The writer schema is the spec's, written out below field by field; the
 * encoder emits the fields in exactly that order (the two must change
 * together, and the round-trip and avsc interop tests check that they
 * agree). A v2 schema has no v3-only field (first_row_id, content_offset,
 * content_size_in_bytes), so a v2 reader never meets one.
 *
 * The decoder does not assume our schema: it walks the writer schema of
 * the file and dispatches on field ids, skipping what it does not know,
 * so manifests written by other Iceberg implementations read too.
 * Everything decoded is copied into one arena owned by the result.
 */
#include "iceberg/manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_io.h"
#include "iceberg/manifest_int.h"
#include "merutable.h"
#include "util/error.h"

/* ------------------------------------------------------ writer schema --- */

/* The schema reads best laid out field by field. */
/* clang-format off */
/* An int-keyed map as the spec wants it in Avro: an array of key/value
 * records named k<key-id>_v<value-id>, logicalType "map". */
#define ICE_MAP(name, kid, vid, vtype, id)                                     \
    ICE_OPT(name,                                                              \
            "{\"type\":\"array\",\"logicalType\":\"map\",\"items\":"           \
            "{\"type\":\"record\",\"name\":\"k" #kid "_v" #vid "\","           \
            "\"fields\":[" ICE_REQ("key", "\"int\"", kid) "," ICE_REQ(         \
                "value", vtype, vid) "]}}",                                    \
            id)

static const char data_file_head[] =
    "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\","
    "\"fields\":["
    ICE_REQ("content", "\"int\"", 134) ","
    ICE_REQ("file_path", "\"string\"", 100) ","
    ICE_REQ("file_format", "\"string\"", 101) ","
    ICE_REQ("partition",
            "{\"type\":\"record\",\"name\":\"r102\",\"fields\":[]}", 102) ","
    ICE_REQ("record_count", "\"long\"", 103) ","
    ICE_REQ("file_size_in_bytes", "\"long\"", 104) ","
    ICE_MAP("column_sizes", 117, 118, "\"long\"", 108) ","
    ICE_MAP("value_counts", 119, 120, "\"long\"", 109) ","
    ICE_MAP("null_value_counts", 121, 122, "\"long\"", 110) ","
    ICE_MAP("nan_value_counts", 138, 139, "\"long\"", 137) ","
    ICE_MAP("lower_bounds", 126, 127, "\"bytes\"", 125) ","
    ICE_MAP("upper_bounds", 129, 130, "\"bytes\"", 128) ","
    ICE_OPT("key_metadata", "\"bytes\"", 131) ","
    ICE_OPT("split_offsets",
            "{\"type\":\"array\",\"items\":\"long\",\"element-id\":133}", 132) ","
    ICE_OPT("equality_ids",
            "{\"type\":\"array\",\"items\":\"int\",\"element-id\":136}", 135) ","
    ICE_OPT("sort_order_id", "\"int\"", 140);

/* v3 only */
static const char data_file_v3[] =
    "," ICE_OPT("first_row_id", "\"long\"", 142);
/* v2 and v3 */
static const char data_file_ref[] =
    "," ICE_OPT("referenced_data_file", "\"string\"", 143);
/* v3 only */
static const char data_file_v3_content[] =
    "," ICE_OPT("content_offset", "\"long\"", 144)
    "," ICE_OPT("content_size_in_bytes", "\"long\"", 145);

static const char entry_head[] =
    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
    ICE_REQ("status", "\"int\"", 0) ","
    ICE_OPT("snapshot_id", "\"long\"", 1) ","
    ICE_OPT("sequence_number", "\"long\"", 3) ","
    ICE_OPT("file_sequence_number", "\"long\"", 4) ",";
static const char entry_tail[] = "]},\"field-id\":2}]}";
/* clang-format on */

static int entry_schema(meru_buf *b, int version)
{
    int rc;
    if ((rc = meru_buf_append(b, entry_head, sizeof entry_head - 1)) ||
        (rc = meru_buf_append(b, data_file_head, sizeof data_file_head - 1)))
        return rc;
    if (version >= 3 &&
        (rc = meru_buf_append(b, data_file_v3, sizeof data_file_v3 - 1)))
        return rc;
    if ((rc = meru_buf_append(b, data_file_ref, sizeof data_file_ref - 1)))
        return rc;
    if (version >= 3 && (rc = meru_buf_append(b, data_file_v3_content,
                                              sizeof data_file_v3_content - 1)))
        return rc;
    if ((rc = meru_buf_append(b, entry_tail, sizeof entry_tail)))
        return rc; /* with the NUL */
    return MERU_OK;
}

/* ------------------------------------------------------------- shared --- */

int ice_mem_new(struct meru_ice_manifest_mem **out)
{
    struct meru_ice_manifest_mem *m = calloc(1, sizeof *m);
    if (!m)
        return meru_err(MERU_ENOMEM, "manifest: out of memory");
    int rc = meru_arena_new(&m->arena, 32 << 10);
    if (rc) {
        free(m);
        return rc;
    }
    *out = m;
    return MERU_OK;
}

void ice_mem_free(struct meru_ice_manifest_mem *m)
{
    if (!m)
        return;
    meru_arena_free(m->arena);
    free(m);
}

int ice_copy_str(meru_arena *a, const uint8_t *p, size_t n, const char *what,
                 const char **out)
{
    if (memchr(p, 0, n))
        return meru_err(MERU_ECORRUPT, "manifest: %s holds a NUL byte", what);
    char *s = meru_arena_strndup(a, (const char *)p, n);
    if (!s)
        return meru_err(MERU_ENOMEM, "manifest: out of memory");
    *out = s;
    return MERU_OK;
}

int ice_meta_long(const meru_avro_ocf *f, const char *key, bool *present,
                  int64_t *out)
{
    const uint8_t *v;
    size_t n, i = 0;
    uint64_t acc = 0;
    bool neg = false;
    *present = false;
    if (!meru_avro_ocf_meta(f, key, &v, &n))
        return MERU_OK;
    if (n > 0 && v[0] == '-')
        neg = true, i = 1;
    if (i == n || n > 21)
        goto bad;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || acc > (UINT64_MAX - 9) / 10)
            goto bad;
        acc = acc * 10 + (uint64_t)(v[i] - '0');
        if (acc > (uint64_t)INT64_MAX + neg)
            goto bad;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    *present = true;
    return MERU_OK;
bad:
    return meru_err(MERU_ECORRUPT,
                    "manifest: header %s is not a decimal integer", key);
}

int ice_top_record(const meru_avro_ocf *f, const char *what,
                   const meru_avro_schema **out)
{
    const meru_avro_schema *s = meru_avro_ocf_schema(f);
    if (s->type != MERU_AVRO_RECORD)
        return meru_err(MERU_ECORRUPT, "%s: the Avro schema is not a record",
                        what);
    *out = s;
    return MERU_OK;
}

int ice_read_records(meru_avro_ocf *f, size_t size, void **items, size_t *n,
                     int (*read_one)(void *arg, meru_avro_rd *rd, void *item),
                     void *arg, const char *what)
{
    size_t cap = *n;
    for (;;) {
        meru_avro_rd rd;
        uint64_t count;
        int rc = meru_avro_ocf_next_block(f, &rd, &count);
        if (rc)
            return rc;
        if (count == 0)
            return MERU_OK;
        if (count > SIZE_MAX / size - *n)
            return meru_err(MERU_ECORRUPT, "%s: too many records", what);
        if (*n + count > cap) {
            /* Bounded: count <= the block's bytes. */
            size_t ncap = *n + (size_t)count;
            if (ncap < cap * 2)
                ncap = cap * 2;
            void *g = realloc(*items, ncap * size);
            if (!g)
                return meru_err(MERU_ENOMEM, "%s: out of memory decoding",
                                what);
            *items = g;
            cap = ncap;
        }
        for (uint64_t i = 0; i < count; i++) {
            rc = read_one(arg, &rd, (char *)*items + *n * size);
            if (rc)
                return rc;
            (*n)++;
        }
        if ((rc = meru_avro_rd_finish(&rd, "block's records")))
            return rc;
    }
}

int ice_flush_block(meru_buf *out, meru_buf *block, uint64_t *count,
                    const uint8_t sync[MERU_AVRO_SYNC_LEN], bool last)
{
    if (*count == 0 || (!last && block->len < (1u << 20)))
        return MERU_OK;
    int rc = meru_avro_ocf_block(out, *count, block->data, block->len, sync);
    meru_buf_reset(block);
    *count = 0;
    return rc;
}

const char *ice_fmt_long(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* ------------------------------------------------------------ encoder --- */

static int put_opt_long(meru_buf *b, bool has, int64_t v)
{
    int rc = meru_avro_put_long(b, has ? 1 : 0);
    return rc || !has ? rc : meru_avro_put_long(b, v);
}

static int put_counts(meru_buf *b, const meru_ice_count *c, size_t n)
{
    int rc;
    if (!n)
        return meru_avro_put_long(b, 0); /* null */
    if ((rc = meru_avro_put_long(b, 1)) ||
        (rc = meru_avro_put_long(b, (int64_t)n)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = meru_avro_put_int(b, c[i].field_id)) ||
            (rc = meru_avro_put_long(b, c[i].value)))
            return rc;
    return meru_avro_put_long(b, 0);
}

static int put_bounds(meru_buf *b, const meru_ice_bound *c, size_t n)
{
    int rc;
    if (!n)
        return meru_avro_put_long(b, 0);
    if ((rc = meru_avro_put_long(b, 1)) ||
        (rc = meru_avro_put_long(b, (int64_t)n)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = meru_avro_put_int(b, c[i].field_id)) ||
            (rc = meru_avro_put_bytes(b, c[i].data, c[i].len)))
            return rc;
    return meru_avro_put_long(b, 0);
}

static int invalid(size_t i, const char *what)
{
    return meru_err(MERU_EINVAL, "manifest entry %zu: %s", i, what);
}

static int check_entry(const meru_ice_manifest_info *info,
                       const meru_ice_manifest_entry *e, size_t i)
{
    const meru_ice_data_file *d = &e->data_file;
    if (e->status < 0 || e->status > 2)
        return invalid(i, "status is not 0, 1 or 2");
    if (e->status != MERU_ICE_STATUS_ADDED &&
        (!e->has_sequence_number || !e->has_file_sequence_number))
        return invalid(i, "an existing or deleted entry must carry both "
                          "sequence numbers");
    if (e->status != MERU_ICE_STATUS_ADDED && !e->has_snapshot_id)
        return invalid(i, "an existing or deleted entry must carry its "
                          "snapshot id");
    if (!d->file_path || !d->file_format)
        return invalid(i, "file_path and file_format are required");
    if (d->content < 0 || d->content > 2)
        return invalid(i, "content is not 0, 1 or 2");
    if ((info->content == MERU_ICE_MANIFEST_DATA) !=
        (d->content == MERU_ICE_CONTENT_DATA))
        return invalid(i, info->content == MERU_ICE_MANIFEST_DATA
                              ? "a delete file in a data manifest"
                              : "a data file in a delete manifest");
    if (d->record_count < 0 || d->file_size_in_bytes < 0)
        return invalid(i, "negative record_count or file_size_in_bytes");
    for (size_t k = 1; k < d->n_split_offsets; k++)
        if (d->split_offsets[k] < d->split_offsets[k - 1])
            return invalid(i, "split_offsets must ascend");
    if (info->format_version < 3 &&
        (d->has_first_row_id || d->has_content_offset))
        return invalid(i, "first_row_id and content_offset are v3 fields");
    if (d->has_first_row_id && d->content != MERU_ICE_CONTENT_DATA)
        return invalid(i, "a delete file has no first_row_id");
    if (d->has_content_offset &&
        (d->content_offset < 0 || d->content_size_in_bytes < 0))
        return invalid(i, "negative content_offset or content_size_in_bytes");
    if (d->has_content_offset && !d->referenced_data_file)
        return invalid(i, "a deletion vector must name its referenced data "
                          "file");
    return MERU_OK;
}

static int put_entry(meru_buf *b, int version, const meru_ice_manifest_entry *e)
{
    const meru_ice_data_file *d = &e->data_file;
    int rc;
    if ((rc = meru_avro_put_int(b, e->status)) ||
        (rc = put_opt_long(b, e->has_snapshot_id, e->snapshot_id)) ||
        (rc = put_opt_long(b, e->has_sequence_number, e->sequence_number)) ||
        (rc = put_opt_long(b, e->has_file_sequence_number,
                           e->file_sequence_number)) ||
        (rc = meru_avro_put_int(b, d->content)) ||
        (rc = meru_avro_put_string(b, d->file_path)) ||
        (rc = meru_avro_put_string(b, d->file_format)) ||
        /* partition: the empty record encodes to nothing */
        (rc = meru_avro_put_long(b, d->record_count)) ||
        (rc = meru_avro_put_long(b, d->file_size_in_bytes)) ||
        (rc = put_counts(b, d->column_sizes, d->n_column_sizes)) ||
        (rc = put_counts(b, d->value_counts, d->n_value_counts)) ||
        (rc = put_counts(b, d->null_value_counts, d->n_null_value_counts)) ||
        (rc = put_counts(b, d->nan_value_counts, d->n_nan_value_counts)) ||
        (rc = put_bounds(b, d->lower_bounds, d->n_lower_bounds)) ||
        (rc = put_bounds(b, d->upper_bounds, d->n_upper_bounds)) ||
        (rc = meru_avro_put_long(b, 0))) /* key_metadata: null */
        return rc;
    if (d->n_split_offsets) {
        if ((rc = meru_avro_put_long(b, 1)) ||
            (rc = meru_avro_put_long(b, (int64_t)d->n_split_offsets)))
            return rc;
        for (size_t k = 0; k < d->n_split_offsets; k++)
            if ((rc = meru_avro_put_long(b, d->split_offsets[k])))
                return rc;
        if ((rc = meru_avro_put_long(b, 0)))
            return rc;
    } else if ((rc = meru_avro_put_long(b, 0))) {
        return rc;
    }
    if ((rc = meru_avro_put_long(b, 0)) || /* equality_ids: null */
        (rc = put_opt_long(b, d->has_sort_order_id, d->sort_order_id)))
        return rc;
    if (version >= 3 &&
        (rc = put_opt_long(b, d->has_first_row_id, d->first_row_id)))
        return rc;
    if ((rc = meru_avro_put_long(b, d->referenced_data_file ? 1 : 0)))
        return rc;
    if (d->referenced_data_file &&
        (rc = meru_avro_put_string(b, d->referenced_data_file)))
        return rc;
    if (version >= 3 &&
        ((rc = put_opt_long(b, d->has_content_offset, d->content_offset)) ||
         (rc = put_opt_long(b, d->has_content_offset,
                            d->content_size_in_bytes))))
        return rc;
    return MERU_OK;
}

static void summarise(meru_ice_manifest_summary *s,
                      const meru_ice_manifest_entry *e)
{
    const meru_ice_data_file *d = &e->data_file;
    switch (e->status) {
    case MERU_ICE_STATUS_ADDED:
        s->added_files_count++;
        s->added_rows_count += d->record_count;
        break;
    case MERU_ICE_STATUS_EXISTING:
        s->existing_files_count++;
        s->existing_rows_count += d->record_count;
        break;
    default:
        s->deleted_files_count++;
        s->deleted_rows_count += d->record_count;
        break;
    }
    if (e->status != MERU_ICE_STATUS_DELETED && e->has_sequence_number &&
        (!s->has_min_sequence_number ||
         e->sequence_number < s->min_sequence_number)) {
        s->has_min_sequence_number = true;
        s->min_sequence_number = e->sequence_number;
    }
    if (d->content == MERU_ICE_CONTENT_DATA && !d->has_first_row_id)
        s->unassigned_rows += d->record_count;
}

int meru_ice_manifest_encode(meru_buf *out, const meru_ice_manifest_info *info,
                             const meru_ice_manifest_entry *entries, size_t n,
                             meru_ice_manifest_summary *summary)
{
    meru_ice_manifest_summary s;
    meru_buf schema = {0}, block = {0};
    uint8_t sync[MERU_AVRO_SYNC_LEN];
    char ver[24], sid[24], psid[24];
    size_t start = out->len;
    uint64_t count = 0;
    int rc;
    memset(&s, 0, sizeof s);
    if (info->format_version != 2 && info->format_version != 3)
        return meru_err(MERU_EINVAL,
                        "manifest: format version %d is not 2 "
                        "or 3",
                        info->format_version);
    if (info->content != MERU_ICE_MANIFEST_DATA &&
        info->content != MERU_ICE_MANIFEST_DELETES)
        return meru_err(MERU_EINVAL, "manifest: content must be data or "
                                     "deletes");
    if (!info->schema_json)
        return meru_err(MERU_EINVAL, "manifest: the table schema is required");
    if (n > INT32_MAX)
        return meru_err(MERU_EINVAL, "manifest: too many entries");
    for (size_t i = 0; i < n; i++) {
        if ((rc = check_entry(info, &entries[i], i)))
            return rc;
        summarise(&s, &entries[i]);
    }
    const char *spec =
        info->partition_spec_json ? info->partition_spec_json : "[]";
    const char *content =
        info->content == MERU_ICE_MANIFEST_DATA ? "data" : "deletes";
    meru_avro_meta meta[] = {
        {"schema", info->schema_json, strlen(info->schema_json)},
        {"schema-id", ice_fmt_long(sid, info->schema_id), 0},
        {"partition-spec", spec, strlen(spec)},
        {"partition-spec-id", ice_fmt_long(psid, info->partition_spec_id), 0},
        {"format-version", ice_fmt_long(ver, info->format_version), 0},
        {"content", content, strlen(content)},
    };
    meta[1].len = strlen(sid);
    meta[3].len = strlen(psid);
    meta[4].len = strlen(ver);
    meru_avro_random_sync(sync);
    if ((rc = entry_schema(&schema, info->format_version)) ||
        (rc = meru_avro_ocf_header(out, (const char *)schema.data, meta,
                                   sizeof meta / sizeof *meta, sync)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((rc = put_entry(&block, info->format_version, &entries[i])))
            goto done;
        count++;
        if ((rc = ice_flush_block(out, &block, &count, sync, false)))
            goto done;
    }
    if ((rc = ice_flush_block(out, &block, &count, sync, true)))
        goto done;
    s.manifest_length = (int64_t)(out->len - start);
    if (summary)
        *summary = s;
done:
    if (rc)
        out->len = start;
    meru_buf_free(&schema);
    meru_buf_free(&block);
    return rc;
}

int meru_ice_manifest_write(meru_fs *fs, const char *path,
                            const meru_ice_manifest_info *info,
                            const meru_ice_manifest_entry *entries, size_t n,
                            meru_ice_manifest_summary *summary)
{
    meru_buf b = {0};
    int rc = meru_ice_manifest_encode(&b, info, entries, n, summary);
    if (!rc)
        rc = meru_ice_write_file(fs, path, b.data, b.len);
    if (rc)
        meru_err_wrap(rc, "writing manifest %s", path);
    meru_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ decoder --- */

typedef struct dec {
    meru_arena *a;
    meru_avro_rd *rd;
} dec;

static int oom(void)
{
    return meru_err(MERU_ENOMEM, "manifest: out of memory decoding");
}

/* The array schema of an int-keyed map field (after its union branch):
 * an array of two-field records. NULL: written as null. */
static int map_items(dec *d, const meru_avro_schema *s, const char *what,
                     const meru_avro_schema **arr)
{
    int rc = meru_avro_read_branch(d->rd, s, arr);
    if (rc || !*arr)
        return rc;
    if ((*arr)->type != MERU_AVRO_ARRAY ||
        (*arr)->items->type != MERU_AVRO_RECORD || (*arr)->items->n < 2)
        return meru_err(MERU_ECORRUPT,
                        "manifest: %s is not an array of key/value records",
                        what);
    return MERU_OK;
}

/* Decodes an int -> long map (counts) or int -> bytes map (bounds). */
static int read_map(dec *d, const meru_avro_schema *s, const char *what,
                    bool bytes, void **out, size_t *n_out)
{
    const meru_avro_schema *arr;
    int rc = map_items(d, s, what, &arr);
    size_t n = 0,
           elem = bytes ? sizeof(meru_ice_bound) : sizeof(meru_ice_count);
    uint8_t *items = NULL;
    if (rc || !arr)
        return rc;
    for (;;) {
        uint64_t count;
        if ((rc = meru_avro_get_block(d->rd, &count)))
            return rc;
        if (count == 0)
            break;
        /* count <= bytes left, so this allocation is bounded by the file. */
        uint8_t *grown = meru_arena_alloc(d->a, (n + (size_t)count) * elem);
        if (!grown)
            return oom();
        if (n)
            memcpy(grown, items, n * elem);
        items = grown;
        for (uint64_t i = 0; i < count; i++, n++) {
            const meru_avro_schema *rec = arr->items;
            meru_ice_count *c = (meru_ice_count *)(items + n * elem);
            meru_ice_bound *bd = (meru_ice_bound *)(items + n * elem);
            for (uint32_t f = 0; f < rec->n; f++) {
                const meru_avro_schema *t = rec->fields[f].type;
                if (f == 0) {
                    rc = meru_avro_read_int(d->rd, t, what, NULL,
                                            bytes ? &bd->field_id
                                                  : &c->field_id);
                } else if (f == 1 && !bytes) {
                    rc = meru_avro_read_long(d->rd, t, what, NULL, &c->value);
                } else if (f == 1) {
                    const uint8_t *p;
                    size_t len;
                    bool present;
                    rc = meru_avro_read_bytes(d->rd, t, what, &present, &p,
                                              &len);
                    if (!rc && !present)
                        p = NULL, len = 0;
                    if (!rc && len && !(p = meru_arena_dup(d->a, p, len)))
                        return oom();
                    if (!rc && p && !len)
                        p = (const uint8_t *)""; /* not into the input */
                    bd->data = p;
                    bd->len = len;
                } else {
                    rc = meru_avro_skip(d->rd, t);
                }
                if (rc)
                    return rc;
            }
        }
    }
    *out = items;
    *n_out = n;
    return MERU_OK;
}

static int read_split_offsets(dec *d, const meru_avro_schema *s,
                              meru_ice_data_file *df)
{
    const meru_avro_schema *arr;
    int64_t *v = NULL;
    size_t n = 0;
    int rc = meru_avro_read_branch(d->rd, s, &arr);
    if (rc || !arr)
        return rc;
    if (arr->type != MERU_AVRO_ARRAY)
        return meru_err(MERU_ECORRUPT, "manifest: split_offsets is not an "
                                       "array");
    for (;;) {
        uint64_t count;
        if ((rc = meru_avro_get_block(d->rd, &count)))
            return rc;
        if (count == 0)
            break;
        int64_t *grown =
            meru_arena_alloc(d->a, (n + (size_t)count) * sizeof *grown);
        if (!grown)
            return oom();
        if (n)
            memcpy(grown, v, n * sizeof *v);
        v = grown;
        for (uint64_t i = 0; i < count; i++, n++)
            if ((rc = meru_avro_read_long(d->rd, arr->items, "split_offsets",
                                          NULL, &v[n])))
                return rc;
    }
    df->split_offsets = v;
    df->n_split_offsets = n;
    return MERU_OK;
}

static int read_str(dec *d, const meru_avro_schema *s, const char *what,
                    bool *present, const char **out)
{
    const uint8_t *p;
    size_t n;
    bool here = true;
    int rc =
        meru_avro_read_bytes(d->rd, s, what, present ? present : &here, &p, &n);
    if (rc)
        return rc;
    if (present ? !*present : !here) {
        if (!present)
            return meru_err(MERU_ECORRUPT, "manifest: %s is null", what);
        return MERU_OK;
    }
    return ice_copy_str(d->a, p, n, what, out);
}

enum {
    SEEN_PATH = 1,
    SEEN_FORMAT = 2,
    SEEN_RECORDS = 4,
    SEEN_SIZE = 8,
    SEEN_ALL_FILE = 15
};

static int read_data_file(dec *d, const meru_avro_schema *rec,
                          meru_ice_data_file *df)
{
    unsigned seen = 0;
    int rc = MERU_OK;
    for (uint32_t i = 0; i < rec->n && !rc; i++) {
        const meru_avro_field *f = &rec->fields[i];
        const meru_avro_schema *t = f->type;
        bool p = false;
        void *m;
        if (!f->has_field_id) {
            rc = meru_avro_skip(d->rd, t);
            continue;
        }
        switch (f->field_id) {
        case 134:
            rc = meru_avro_read_int(d->rd, t, "content", NULL, &df->content);
            if (!rc && (df->content < 0 || df->content > 2))
                rc = meru_err(MERU_ECORRUPT,
                              "manifest: content %d is not "
                              "0, 1 or 2",
                              df->content);
            break;
        case 100:
            rc = read_str(d, t, "file_path", NULL, &df->file_path);
            seen |= SEEN_PATH;
            break;
        case 101:
            rc = read_str(d, t, "file_format", NULL, &df->file_format);
            seen |= SEEN_FORMAT;
            break;
        case 103:
            rc = meru_avro_read_long(d->rd, t, "record_count", NULL,
                                     &df->record_count);
            seen |= SEEN_RECORDS;
            break;
        case 104:
            rc = meru_avro_read_long(d->rd, t, "file_size_in_bytes", NULL,
                                     &df->file_size_in_bytes);
            seen |= SEEN_SIZE;
            break;
        case 108:
            rc = read_map(d, t, "column_sizes", false, &m, &df->n_column_sizes);
            df->column_sizes = df->n_column_sizes ? m : NULL;
            break;
        case 109:
            rc = read_map(d, t, "value_counts", false, &m, &df->n_value_counts);
            df->value_counts = df->n_value_counts ? m : NULL;
            break;
        case 110:
            rc = read_map(d, t, "null_value_counts", false, &m,
                          &df->n_null_value_counts);
            df->null_value_counts = df->n_null_value_counts ? m : NULL;
            break;
        case 137:
            rc = read_map(d, t, "nan_value_counts", false, &m,
                          &df->n_nan_value_counts);
            df->nan_value_counts = df->n_nan_value_counts ? m : NULL;
            break;
        case 125:
            rc = read_map(d, t, "lower_bounds", true, &m, &df->n_lower_bounds);
            df->lower_bounds = df->n_lower_bounds ? m : NULL;
            break;
        case 128:
            rc = read_map(d, t, "upper_bounds", true, &m, &df->n_upper_bounds);
            df->upper_bounds = df->n_upper_bounds ? m : NULL;
            break;
        case 132:
            rc = read_split_offsets(d, t, df);
            break;
        case 140:
            rc = meru_avro_read_int(d->rd, t, "sort_order_id",
                                    &df->has_sort_order_id, &df->sort_order_id);
            break;
        case 142:
            rc = meru_avro_read_long(d->rd, t, "first_row_id",
                                     &df->has_first_row_id, &df->first_row_id);
            break;
        case 143:
            rc = read_str(d, t, "referenced_data_file", &p,
                          &df->referenced_data_file);
            break;
        case 144:
            rc = meru_avro_read_long(d->rd, t, "content_offset",
                                     &df->has_content_offset,
                                     &df->content_offset);
            break;
        case 145:
            rc = meru_avro_read_long(d->rd, t, "content_size_in_bytes", &p,
                                     &df->content_size_in_bytes);
            break;
        default: /* partition, key_metadata, equality_ids, unknown */
            rc = meru_avro_skip(d->rd, t);
            break;
        }
    }
    if (rc)
        return rc;
    if (seen != SEEN_ALL_FILE)
        return meru_err(MERU_ECORRUPT,
                        "manifest: data_file lacks file_path, file_format, "
                        "record_count or file_size_in_bytes");
    if (df->record_count < 0 || df->file_size_in_bytes < 0)
        return meru_err(MERU_ECORRUPT,
                        "manifest: negative record_count or file size in %s",
                        df->file_path);
    return MERU_OK;
}

static int read_entry(dec *d, const meru_avro_schema *rec,
                      meru_ice_manifest_entry *e)
{
    bool has_status = false, has_file = false;
    int rc = MERU_OK;
    memset(e, 0, sizeof *e);
    for (uint32_t i = 0; i < rec->n && !rc; i++) {
        const meru_avro_field *f = &rec->fields[i];
        const meru_avro_schema *t = f->type, *v;
        switch (f->has_field_id ? f->field_id : -1) {
        case 0:
            rc = meru_avro_read_int(d->rd, t, "status", NULL, &e->status);
            if (!rc && (e->status < 0 || e->status > 2))
                rc = meru_err(MERU_ECORRUPT,
                              "manifest: status %d is not "
                              "0, 1 or 2",
                              e->status);
            has_status = true;
            break;
        case 1:
            rc = meru_avro_read_long(d->rd, t, "snapshot_id",
                                     &e->has_snapshot_id, &e->snapshot_id);
            break;
        case 3:
            rc = meru_avro_read_long(d->rd, t, "sequence_number",
                                     &e->has_sequence_number,
                                     &e->sequence_number);
            break;
        case 4:
            rc = meru_avro_read_long(d->rd, t, "file_sequence_number",
                                     &e->has_file_sequence_number,
                                     &e->file_sequence_number);
            break;
        case 2:
            if ((rc = meru_avro_read_branch(d->rd, t, &v)))
                break;
            if (!v || v->type != MERU_AVRO_RECORD) {
                rc = meru_err(MERU_ECORRUPT, "manifest: data_file is not a "
                                             "record");
                break;
            }
            rc = read_data_file(d, v, &e->data_file);
            has_file = true;
            break;
        default:
            rc = meru_avro_skip(d->rd, t);
            break;
        }
    }
    if (!rc && (!has_status || !has_file))
        rc = meru_err(MERU_ECORRUPT,
                      "manifest: manifest_entry lacks status or data_file");
    return rc;
}

void meru_ice_manifest_free(meru_ice_manifest *m)
{
    if (!m)
        return;
    free(m->entries);
    ice_mem_free(m->mem);
    free(m);
}

static int read_info(const meru_avro_ocf *f, meru_arena *a,
                     meru_ice_manifest_info *info)
{
    const uint8_t *v;
    size_t n;
    bool has;
    int64_t x;
    int rc;
    info->format_version = 1;
    if ((rc = ice_meta_long(f, "format-version", &has, &x)))
        return rc;
    if (has) {
        if (x < 1 || x > 3)
            return meru_err(
                MERU_ENOTSUP,
                "manifest: format-version %" PRId64 " is not supported", x);
        info->format_version = (int)x;
    }
    if ((rc = ice_meta_long(f, "schema-id", &has, &x)))
        return rc;
    info->schema_id = has && x >= INT32_MIN && x <= INT32_MAX ? (int32_t)x : 0;
    if ((rc = ice_meta_long(f, "partition-spec-id", &has, &x)))
        return rc;
    info->partition_spec_id =
        has && x >= INT32_MIN && x <= INT32_MAX ? (int32_t)x : 0;
    if (meru_avro_ocf_meta(f, "content", &v, &n)) {
        if (n == 4 && memcmp(v, "data", 4) == 0)
            info->content = MERU_ICE_MANIFEST_DATA;
        else if (n == 7 && memcmp(v, "deletes", 7) == 0)
            info->content = MERU_ICE_MANIFEST_DELETES;
        else
            return meru_err(MERU_ECORRUPT, "manifest: header content is "
                                           "neither data nor deletes");
    }
    if (meru_avro_ocf_meta(f, "schema", &v, &n) &&
        (rc = ice_copy_str(a, v, n, "schema", &info->schema_json)))
        return rc;
    if (meru_avro_ocf_meta(f, "partition-spec", &v, &n) &&
        (rc = ice_copy_str(a, v, n, "partition-spec",
                           &info->partition_spec_json)))
        return rc;
    return MERU_OK;
}

typedef struct read_ctx {
    meru_arena *a;
    const meru_avro_schema *rec;
} read_ctx;

static int read_one_entry(void *arg, meru_avro_rd *rd, void *item)
{
    read_ctx *c = arg;
    dec d = {c->a, rd};
    return read_entry(&d, c->rec, item);
}

int meru_ice_manifest_decode(meru_ice_manifest **out, const uint8_t *data,
                             size_t len)
{
    meru_ice_manifest *m = calloc(1, sizeof *m);
    meru_avro_ocf *f = NULL;
    const meru_avro_schema *rec = NULL;
    int rc;
    *out = NULL;
    if (!m)
        return oom();
    if ((rc = ice_mem_new(&m->mem)) ||
        (rc = meru_avro_ocf_open(&f, data, len)) ||
        (rc = ice_top_record(f, "manifest", &rec)) ||
        (rc = read_info(f, m->mem->arena, &m->info)))
        goto fail;
    read_ctx c = {m->mem->arena, rec};
    void *items = NULL;
    rc = ice_read_records(f, sizeof *m->entries, &items, &m->n_entries,
                          read_one_entry, &c, "manifest");
    m->entries = items;
    if (rc)
        goto fail;
    meru_avro_ocf_close(f);
    *out = m;
    return MERU_OK;
fail:
    meru_avro_ocf_close(f);
    meru_ice_manifest_free(m);
    return rc;
}

int meru_ice_manifest_read(meru_fs *fs, const char *path, size_t max_bytes,
                           meru_ice_manifest **out)
{
    uint8_t *data = NULL;
    size_t len;
    int rc = meru_ice_read_file(
        fs, path, max_bytes ? max_bytes : MERU_ICE_MANIFEST_MAX_BYTES, &data,
        &len);
    *out = NULL;
    if (!rc)
        rc = meru_ice_manifest_decode(out, data, len);
    if (rc)
        meru_err_wrap(rc, "reading manifest %s", path);
    free(data);
    return rc;
}
