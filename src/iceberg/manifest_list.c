/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest_list.c — Iceberg manifest lists (manifest_file records) as Avro
 * object container files, format versions 2 and 3 (see manifest.h).
 *
 * As in manifest.c, the writer schema below and the encoder's field order
 * must change together; the decoder walks the file's own schema by field
 * id. The header carries what Iceberg writers conventionally put there
 * (snapshot-id, parent-snapshot-id, sequence-number, format-version, and
 * first-row-id in v3); the spec requires none of it, readers use the
 * snapshot in the table metadata.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_io.h"
#include "iceberg/manifest.h"
#include "iceberg/manifest_int.h"
#include "merutable.h"
#include "util/error.h"

/* The schema reads best laid out field by field. */
/* clang-format off */
static const char list_head[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    ICE_REQ("manifest_path", "\"string\"", 500) ","
    ICE_REQ("manifest_length", "\"long\"", 501) ","
    ICE_REQ("partition_spec_id", "\"int\"", 502) ","
    ICE_REQ("content", "\"int\"", 517) ","
    ICE_REQ("sequence_number", "\"long\"", 515) ","
    ICE_REQ("min_sequence_number", "\"long\"", 516) ","
    ICE_REQ("added_snapshot_id", "\"long\"", 503) ","
    ICE_REQ("added_files_count", "\"int\"", 504) ","
    ICE_REQ("existing_files_count", "\"int\"", 505) ","
    ICE_REQ("deleted_files_count", "\"int\"", 506) ","
    ICE_REQ("added_rows_count", "\"long\"", 512) ","
    ICE_REQ("existing_rows_count", "\"long\"", 513) ","
    ICE_REQ("deleted_rows_count", "\"long\"", 514) ","
    ICE_OPT("partitions",
            "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"r508\","
            "\"fields\":["
            ICE_REQ("contains_null", "\"boolean\"", 509) ","
            ICE_OPT("contains_nan", "\"boolean\"", 518) ","
            ICE_OPT("lower_bound", "\"bytes\"", 510) ","
            ICE_OPT("upper_bound", "\"bytes\"", 511)
            "]},\"element-id\":508}", 507) ","
    ICE_OPT("key_metadata", "\"bytes\"", 519);
/* v3 only */
static const char list_v3[] = "," ICE_OPT("first_row_id", "\"long\"", 520);
/* clang-format on */

static int list_schema(meru_buf *b, int version)
{
    int rc;
    if ((rc = meru_buf_append(b, list_head, sizeof list_head - 1)))
        return rc;
    if (version >= 3 && (rc = meru_buf_append(b, list_v3, sizeof list_v3 - 1)))
        return rc;
    return meru_buf_append(b, "]}", 3); /* with the NUL */
}

void meru_ice_manifest_file_from_summary(meru_ice_manifest_file *out,
                                         const char *path, int32_t content,
                                         int32_t partition_spec_id,
                                         int64_t snapshot_id,
                                         int64_t sequence_number,
                                         const meru_ice_manifest_summary *s)
{
    memset(out, 0, sizeof *out);
    out->manifest_path = path;
    out->manifest_length = s->manifest_length;
    out->partition_spec_id = partition_spec_id;
    out->content = content;
    out->sequence_number = sequence_number;
    out->min_sequence_number =
        s->has_min_sequence_number && s->min_sequence_number < sequence_number
            ? s->min_sequence_number
            : sequence_number;
    out->added_snapshot_id = snapshot_id;
    out->added_files_count = s->added_files_count;
    out->existing_files_count = s->existing_files_count;
    out->deleted_files_count = s->deleted_files_count;
    out->added_rows_count = s->added_rows_count;
    out->existing_rows_count = s->existing_rows_count;
    out->deleted_rows_count = s->deleted_rows_count;
}

static int opt_bytes(meru_buf *b, const uint8_t *p, size_t n)
{
    int rc = meru_avro_put_long(b, p ? 1 : 0);
    return rc || !p ? rc : meru_avro_put_bytes(b, p, n);
}

static int put_file(meru_buf *b, int version, const meru_ice_manifest_file *m)
{
    int rc;
    if ((rc = meru_avro_put_string(b, m->manifest_path)) ||
        (rc = meru_avro_put_long(b, m->manifest_length)) ||
        (rc = meru_avro_put_int(b, m->partition_spec_id)) ||
        (rc = meru_avro_put_int(b, m->content)) ||
        (rc = meru_avro_put_long(b, m->sequence_number)) ||
        (rc = meru_avro_put_long(b, m->min_sequence_number)) ||
        (rc = meru_avro_put_long(b, m->added_snapshot_id)) ||
        (rc = meru_avro_put_int(b, m->added_files_count)) ||
        (rc = meru_avro_put_int(b, m->existing_files_count)) ||
        (rc = meru_avro_put_int(b, m->deleted_files_count)) ||
        (rc = meru_avro_put_long(b, m->added_rows_count)) ||
        (rc = meru_avro_put_long(b, m->existing_rows_count)) ||
        (rc = meru_avro_put_long(b, m->deleted_rows_count)) ||
        (rc = meru_avro_put_long(b, 1))) /* partitions: a list, maybe empty */
        return rc;
    if (m->n_partitions &&
        (rc = meru_avro_put_long(b, (int64_t)m->n_partitions)))
        return rc;
    for (size_t i = 0; i < m->n_partitions; i++) {
        const meru_ice_field_summary *p = &m->partitions[i];
        if ((rc = meru_avro_put_bool(b, p->contains_null)) ||
            (rc = meru_avro_put_long(b, p->has_contains_nan ? 1 : 0)) ||
            (p->has_contains_nan &&
             (rc = meru_avro_put_bool(b, p->contains_nan))) ||
            (rc = opt_bytes(b, p->lower_bound, p->lower_bound_len)) ||
            (rc = opt_bytes(b, p->upper_bound, p->upper_bound_len)))
            return rc;
    }
    if ((rc = meru_avro_put_long(b, 0)) || /* end of partitions */
        (rc = meru_avro_put_long(b, 0)))   /* key_metadata: null */
        return rc;
    if (version >= 3) {
        if ((rc = meru_avro_put_long(b, m->has_first_row_id ? 1 : 0)))
            return rc;
        if (m->has_first_row_id &&
            (rc = meru_avro_put_long(b, m->first_row_id)))
            return rc;
    }
    return MERU_OK;
}

static int check_file(int version, const meru_ice_manifest_file *m, size_t i)
{
    const char *why = NULL;
    if (!m->manifest_path)
        why = "manifest_path is required";
    else if (m->content != MERU_ICE_MANIFEST_DATA &&
             m->content != MERU_ICE_MANIFEST_DELETES)
        why = "content must be 0 (data) or 1 (deletes)";
    else if (m->manifest_length < 0 || m->added_files_count < 0 ||
             m->existing_files_count < 0 || m->deleted_files_count < 0 ||
             m->added_rows_count < 0 || m->existing_rows_count < 0 ||
             m->deleted_rows_count < 0)
        why = "negative length or count";
    else if (m->min_sequence_number > m->sequence_number)
        why = "min_sequence_number above sequence_number";
    else if (m->has_first_row_id && version < 3)
        why = "first_row_id is a v3 field";
    else if (m->has_first_row_id && m->content != MERU_ICE_MANIFEST_DATA)
        why = "a delete manifest has no first_row_id";
    if (why)
        return meru_err(MERU_EINVAL, "manifest list entry %zu: %s", i, why);
    return MERU_OK;
}

int meru_ice_manifest_list_encode(meru_buf *out,
                                  const meru_ice_manifest_list_info *info,
                                  const meru_ice_manifest_file *files, size_t n)
{
    meru_buf schema = {0}, block = {0};
    uint8_t sync[MERU_AVRO_SYNC_LEN];
    char sid[24], pid[24], seq[24], ver[24], frid[24];
    meru_avro_meta meta[5];
    size_t nm = 0, start = out->len;
    uint64_t count = 0;
    int rc;
    if (info->format_version != 2 && info->format_version != 3)
        return meru_err(MERU_EINVAL,
                        "manifest list: format version %d is "
                        "not 2 or 3",
                        info->format_version);
    for (size_t i = 0; i < n; i++)
        if ((rc = check_file(info->format_version, &files[i], i)))
            return rc;
    meta[nm++] = (meru_avro_meta){"snapshot-id",
                                  ice_fmt_long(sid, info->snapshot_id), 0};
    if (info->has_parent_snapshot_id)
        meta[nm++] =
            (meru_avro_meta){"parent-snapshot-id",
                             ice_fmt_long(pid, info->parent_snapshot_id), 0};
    meta[nm++] = (meru_avro_meta){"sequence-number",
                                  ice_fmt_long(seq, info->sequence_number), 0};
    meta[nm++] = (meru_avro_meta){"format-version",
                                  ice_fmt_long(ver, info->format_version), 0};
    if (info->format_version >= 3)
        meta[nm++] = (meru_avro_meta){
            "first-row-id", ice_fmt_long(frid, info->first_row_id), 0};
    for (size_t i = 0; i < nm; i++)
        meta[i].len = strlen(meta[i].value);
    meru_avro_random_sync(sync);
    if ((rc = list_schema(&schema, info->format_version)) ||
        (rc = meru_avro_ocf_header(out, (const char *)schema.data, meta, nm,
                                   sync)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((rc = put_file(&block, info->format_version, &files[i])))
            goto done;
        count++;
        if ((rc = ice_flush_block(out, &block, &count, sync, false)))
            goto done;
    }
    rc = ice_flush_block(out, &block, &count, sync, true);
done:
    if (rc)
        out->len = start;
    meru_buf_free(&schema);
    meru_buf_free(&block);
    return rc;
}

int meru_ice_manifest_list_write(meru_fs *fs, const char *path,
                                 const meru_ice_manifest_list_info *info,
                                 const meru_ice_manifest_file *files, size_t n,
                                 uint64_t *length)
{
    meru_buf b = {0};
    int rc = meru_ice_manifest_list_encode(&b, info, files, n);
    if (!rc)
        rc = meru_ice_write_file(fs, path, b.data, b.len);
    if (rc)
        meru_err_wrap(rc, "writing manifest list %s", path);
    else if (length)
        *length = b.len;
    meru_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ decoder --- */

static int oom(void)
{
    return meru_err(MERU_ENOMEM, "manifest list: out of memory decoding");
}

static int read_opt_bytes(meru_avro_rd *rd, meru_arena *a,
                          const meru_avro_schema *t, const char *what,
                          const uint8_t **out, size_t *len)
{
    bool present;
    const uint8_t *p;
    size_t n;
    int rc = meru_avro_read_bytes(rd, t, what, &present, &p, &n);
    if (rc || !present)
        return rc;
    /* A present empty bound still needs a non-NULL pointer. */
    uint8_t *c = meru_arena_alloc(a, n ? n : 1);
    if (!c)
        return oom();
    memcpy(c, p, n);
    *out = c;
    *len = n;
    return MERU_OK;
}

static int read_summary(meru_avro_rd *rd, meru_arena *a,
                        const meru_avro_schema *rec, meru_ice_field_summary *s)
{
    int rc = MERU_OK;
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < rec->n && !rc; i++) {
        const meru_avro_field *f = &rec->fields[i];
        switch (f->has_field_id ? f->field_id : -1) {
        case 509:
            rc = meru_avro_read_bool(rd, f->type, "contains_null", NULL,
                                     &s->contains_null);
            break;
        case 518:
            rc = meru_avro_read_bool(rd, f->type, "contains_nan",
                                     &s->has_contains_nan, &s->contains_nan);
            break;
        case 510:
            rc = read_opt_bytes(rd, a, f->type, "lower_bound", &s->lower_bound,
                                &s->lower_bound_len);
            break;
        case 511:
            rc = read_opt_bytes(rd, a, f->type, "upper_bound", &s->upper_bound,
                                &s->upper_bound_len);
            break;
        default:
            rc = meru_avro_skip(rd, f->type);
        }
    }
    return rc;
}

static int read_partitions(meru_avro_rd *rd, meru_arena *a,
                           const meru_avro_schema *t, meru_ice_manifest_file *m)
{
    const meru_avro_schema *arr;
    meru_ice_field_summary *v = NULL;
    size_t n = 0;
    int rc = meru_avro_read_branch(rd, t, &arr);
    if (rc || !arr)
        return rc;
    if (arr->type != MERU_AVRO_ARRAY || arr->items->type != MERU_AVRO_RECORD)
        return meru_err(MERU_ECORRUPT, "manifest list: partitions is not an "
                                       "array of records");
    for (;;) {
        uint64_t count;
        if ((rc = meru_avro_get_block(rd, &count)))
            return rc;
        if (count == 0)
            break;
        meru_ice_field_summary *g =
            meru_arena_alloc(a, (n + (size_t)count) * sizeof *g);
        if (!g)
            return oom();
        if (n)
            memcpy(g, v, n * sizeof *v);
        v = g;
        for (uint64_t i = 0; i < count; i++, n++)
            if ((rc = read_summary(rd, a, arr->items, &v[n])))
                return rc;
    }
    m->partitions = v;
    m->n_partitions = n;
    return MERU_OK;
}

static int read_file(meru_avro_rd *rd, meru_arena *a,
                     const meru_avro_schema *rec, meru_ice_manifest_file *m)
{
    /* Required in v2/v3: path, length, spec id, added snapshot id. */
    unsigned seen = 0;
    int rc = MERU_OK;
    const uint8_t *p;
    size_t n;
    memset(m, 0, sizeof *m);
    for (uint32_t i = 0; i < rec->n && !rc; i++) {
        const meru_avro_field *f = &rec->fields[i];
        const meru_avro_schema *t = f->type;
        switch (f->has_field_id ? f->field_id : -1) {
        case 500:
            rc = meru_avro_read_bytes(rd, t, "manifest_path", NULL, &p, &n);
            if (!rc)
                rc = ice_copy_str(a, p, n, "manifest_path", &m->manifest_path);
            seen |= 1;
            break;
        case 501:
            rc = meru_avro_read_long(rd, t, "manifest_length", NULL,
                                     &m->manifest_length);
            seen |= 2;
            break;
        case 502:
            rc = meru_avro_read_int(rd, t, "partition_spec_id", NULL,
                                    &m->partition_spec_id);
            seen |= 4;
            break;
        case 517:
            rc = meru_avro_read_int(rd, t, "content", NULL, &m->content);
            if (!rc && m->content != 0 && m->content != 1)
                rc = meru_err(MERU_ECORRUPT,
                              "manifest list: content %d is "
                              "neither 0 nor 1",
                              m->content);
            break;
        case 515:
            rc = meru_avro_read_long(rd, t, "sequence_number", NULL,
                                     &m->sequence_number);
            break;
        case 516:
            rc = meru_avro_read_long(rd, t, "min_sequence_number", NULL,
                                     &m->min_sequence_number);
            break;
        case 503:
            rc = meru_avro_read_long(rd, t, "added_snapshot_id", NULL,
                                     &m->added_snapshot_id);
            seen |= 8;
            break;
        case 504:
            rc = meru_avro_read_int(rd, t, "added_files_count", NULL,
                                    &m->added_files_count);
            break;
        case 505:
            rc = meru_avro_read_int(rd, t, "existing_files_count", NULL,
                                    &m->existing_files_count);
            break;
        case 506:
            rc = meru_avro_read_int(rd, t, "deleted_files_count", NULL,
                                    &m->deleted_files_count);
            break;
        case 512:
            rc = meru_avro_read_long(rd, t, "added_rows_count", NULL,
                                     &m->added_rows_count);
            break;
        case 513:
            rc = meru_avro_read_long(rd, t, "existing_rows_count", NULL,
                                     &m->existing_rows_count);
            break;
        case 514:
            rc = meru_avro_read_long(rd, t, "deleted_rows_count", NULL,
                                     &m->deleted_rows_count);
            break;
        case 507:
            rc = read_partitions(rd, a, t, m);
            break;
        case 520:
            rc = meru_avro_read_long(rd, t, "first_row_id",
                                     &m->has_first_row_id, &m->first_row_id);
            break;
        default:
            rc = meru_avro_skip(rd, t);
        }
    }
    if (!rc && seen != 15)
        rc = meru_err(MERU_ECORRUPT,
                      "manifest list: manifest_file lacks manifest_path, "
                      "manifest_length, partition_spec_id or "
                      "added_snapshot_id");
    return rc;
}

void meru_ice_manifest_list_free(meru_ice_manifest_list *l)
{
    if (!l)
        return;
    free(l->files);
    ice_mem_free(l->mem);
    free(l);
}

static int read_list_info(const meru_avro_ocf *f, meru_ice_manifest_list *l)
{
    bool has;
    int64_t v;
    int rc;
    l->format_version = 1;
    if ((rc = ice_meta_long(f, "format-version", &has, &v)))
        return rc;
    if (has) {
        if (v < 1 || v > 3)
            return meru_err(MERU_ENOTSUP,
                            "manifest list: format-version %" PRId64
                            " is not supported",
                            v);
        l->format_version = (int)v;
    }
    l->info.format_version = l->format_version;
    if ((rc = ice_meta_long(f, "snapshot-id", &l->has_snapshot_id,
                            &l->info.snapshot_id)) ||
        (rc = ice_meta_long(f, "parent-snapshot-id",
                            &l->info.has_parent_snapshot_id,
                            &l->info.parent_snapshot_id)) ||
        (rc = ice_meta_long(f, "sequence-number", &has,
                            &l->info.sequence_number)) ||
        (rc = ice_meta_long(f, "first-row-id", &l->has_first_row_id,
                            &l->info.first_row_id)))
        return rc;
    return MERU_OK;
}

typedef struct read_ctx {
    meru_arena *a;
    const meru_avro_schema *rec;
} read_ctx;

static int read_one_file(void *arg, meru_avro_rd *rd, void *item)
{
    read_ctx *c = arg;
    return read_file(rd, c->a, c->rec, item);
}

int meru_ice_manifest_list_decode(meru_ice_manifest_list **out,
                                  const uint8_t *data, size_t len)
{
    meru_ice_manifest_list *l = calloc(1, sizeof *l);
    meru_avro_ocf *f = NULL;
    const meru_avro_schema *rec = NULL;
    int rc;
    *out = NULL;
    if (!l)
        return oom();
    if ((rc = ice_mem_new(&l->mem)) ||
        (rc = meru_avro_ocf_open(&f, data, len)) ||
        (rc = ice_top_record(f, "manifest list", &rec)) ||
        (rc = read_list_info(f, l)))
        goto fail;
    read_ctx c = {l->mem->arena, rec};
    void *items = NULL;
    rc = ice_read_records(f, sizeof *l->files, &items, &l->n_files,
                          read_one_file, &c, "manifest list");
    l->files = items;
    if (rc)
        goto fail;
    meru_avro_ocf_close(f);
    *out = l;
    return MERU_OK;
fail:
    meru_avro_ocf_close(f);
    meru_ice_manifest_list_free(l);
    return rc;
}

int meru_ice_manifest_list_read(meru_fs *fs, const char *path, size_t max_bytes,
                                meru_ice_manifest_list **out)
{
    uint8_t *data = NULL;
    size_t len;
    int rc = meru_ice_read_file(
        fs, path, max_bytes ? max_bytes : MERU_ICE_MANIFEST_MAX_BYTES, &data,
        &len);
    *out = NULL;
    if (!rc)
        rc = meru_ice_manifest_list_decode(out, data, len);
    if (rc)
        meru_err_wrap(rc, "reading manifest list %s", path);
    free(data);
    return rc;
}
