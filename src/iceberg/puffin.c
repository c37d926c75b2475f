/* SPDX-License-Identifier: Apache-2.0 */
/*
 * puffin.c — Puffin writer and reader (see puffin.h).
 *
 * The writer streams: magic, then each blob appended as it comes (so a
 * commit holding many deletion vectors never buffers them all), and the
 * footer built with jansson at the end. The file's position is counted,
 * not asked for, so offsets are exact with any meru_fs.
 *
 * The reader trusts nothing in the footer: the payload size must leave
 * room for the leading magic, the JSON must have the spec's shape and
 * types, and every blob's [offset, offset + length) must lie between the
 * leading magic and the footer. Decoded metadata is copied into an arena
 * owned by the footer, so the JSON tree is gone once parsing ends.
 */
#include "iceberg/puffin.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_io.h"
#include "merutable.h"
#include "util/arena.h"
#include "util/endian.h"
#include "util/error.h"

#define MAGIC_LEN       4
#define FOOTER_TAIL     12 /* payload size, flags, magic */
#define FLAG_COMPRESSED 1u

/* ------------------------------------------------------- shared copy --- */

static char *dup_str(meru_arena *a, const char *s)
{
    return s ? meru_arena_strndup(a, s, strlen(s)) : NULL;
}

/* Deep copy of a blob's metadata into `a`. */
static int copy_meta(meru_arena *a, const meru_puffin_blob_meta *in,
                     meru_puffin_blob_meta *out)
{
    *out = *in;
    out->fields = NULL;
    out->props = NULL;
    if (!(out->type = dup_str(a, in->type)))
        return MERU_ENOMEM;
    if (in->compression_codec &&
        !(out->compression_codec = dup_str(a, in->compression_codec)))
        return MERU_ENOMEM;
    if (in->n_fields) {
        int32_t *f =
            meru_arena_dup(a, in->fields, in->n_fields * sizeof *in->fields);
        if (!f)
            return MERU_ENOMEM;
        out->fields = f;
    }
    if (in->n_props) {
        meru_puffin_prop *p = meru_arena_alloc(a, in->n_props * sizeof *p);
        if (!p)
            return MERU_ENOMEM;
        for (size_t i = 0; i < in->n_props; i++)
            if (!(p[i].key = dup_str(a, in->props[i].key)) ||
                !(p[i].value = dup_str(a, in->props[i].value)))
                return MERU_ENOMEM;
        out->props = p;
    }
    return MERU_OK;
}

/* ------------------------------------------------------------ writer --- */

struct meru_puffin_writer {
    meru_fs *fs;
    char *path;
    meru_file *f;
    uint64_t pos;
    meru_arena *arena;
    meru_puffin_blob_meta *blobs;
    size_t n, cap;
    bool failed;
};

static void writer_free(meru_puffin_writer *w)
{
    meru_arena_free(w->arena);
    free(w->blobs);
    free(w->path);
    free(w);
}

void meru_puffin_writer_abort(meru_puffin_writer *w)
{
    if (!w)
        return;
    /* Called on failure paths: keep the failure's message and code. */
    int code = meru_errcode();
    meru_ice_discard(w->fs, w->f, w->path, code);
    if (code == MERU_OK)
        meru_err_clear();
    writer_free(w);
}

static int wappend(meru_puffin_writer *w, const void *p, size_t n)
{
    int rc = meru_file_append(w->f, p, n);
    if (rc) {
        w->failed = true;
        return rc;
    }
    w->pos += n;
    return MERU_OK;
}

int meru_puffin_writer_open(meru_puffin_writer **out, meru_fs *fs,
                            const char *path)
{
    meru_puffin_writer *w = calloc(1, sizeof *w);
    int rc;
    *out = NULL;
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return meru_err(MERU_ENOMEM, "puffin %s: out of memory", path);
    }
    w->fs = fs;
    if ((rc = meru_arena_new(&w->arena, 4096))) {
        writer_free(w);
        return rc;
    }
    if ((rc = meru_fs_open(
             fs, path, MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL, &w->f))) {
        writer_free(w); /* not created (or not ours): nothing to remove */
        return rc;
    }
    if ((rc = wappend(w, MERU_PUFFIN_MAGIC, MAGIC_LEN))) {
        rc = meru_ice_discard(fs, w->f, path, rc);
        w->f = NULL;
        writer_free(w);
        return rc;
    }
    *out = w;
    return MERU_OK;
}

size_t meru_puffin_writer_count(const meru_puffin_writer *w)
{
    return w->n;
}

int meru_puffin_writer_add(meru_puffin_writer *w,
                           const meru_puffin_blob_meta *meta, const void *data,
                           size_t len, uint64_t *offset, uint64_t *length)
{
    int rc;
    if (w->failed)
        return meru_err(MERU_EFAILED, "puffin %s: an earlier write failed",
                        w->path);
    if (!meta->type)
        return meru_err(MERU_EINVAL, "puffin %s: a blob needs a type", w->path);
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        meru_puffin_blob_meta *b = realloc(w->blobs, cap * sizeof *b);
        if (!b)
            return meru_err(MERU_ENOMEM, "puffin %s: out of memory", w->path);
        w->blobs = b;
        w->cap = cap;
    }
    meru_puffin_blob_meta *m = &w->blobs[w->n];
    if (copy_meta(w->arena, meta, m))
        return meru_err(MERU_ENOMEM, "puffin %s: out of memory", w->path);
    m->offset = w->pos;
    m->length = len;
    if ((rc = wappend(w, data, len)))
        return meru_err_wrap(rc, "puffin %s: writing blob %zu", w->path, w->n);
    w->n++;
    if (offset)
        *offset = m->offset;
    if (length)
        *length = m->length;
    return MERU_OK;
}

static json_t *props_json(const meru_puffin_prop *p, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (json_object_set_new(o, p[i].key, json_string(p[i].value))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *blob_json(const meru_puffin_blob_meta *b)
{
    json_t *o = json_object(), *fields = json_array();
    bool ok = o && fields;
    for (size_t i = 0; ok && i < b->n_fields; i++)
        ok = json_array_append_new(fields, json_integer(b->fields[i])) == 0;
    ok = ok && json_object_set_new(o, "type", json_string(b->type)) == 0;
    ok = ok && json_object_set(o, "fields", fields) == 0;
    ok = ok && json_object_set_new(o, "snapshot-id",
                                   json_integer(b->snapshot_id)) == 0;
    ok = ok && json_object_set_new(o, "sequence-number",
                                   json_integer(b->sequence_number)) == 0;
    ok = ok && json_object_set_new(o, "offset",
                                   json_integer((json_int_t)b->offset)) == 0;
    ok = ok && json_object_set_new(o, "length",
                                   json_integer((json_int_t)b->length)) == 0;
    if (ok && b->compression_codec)
        ok = json_object_set_new(o, "compression-codec",
                                 json_string(b->compression_codec)) == 0;
    if (ok && b->n_props) {
        json_t *p = props_json(b->props, b->n_props);
        ok = p && json_object_set_new(o, "properties", p) == 0;
    }
    json_decref(fields);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static char *footer_json(meru_puffin_writer *w, const meru_puffin_prop *props,
                         size_t n_props)
{
    json_t *root = json_object(), *blobs = json_array(), *fp;
    char *text = NULL;
    bool ok = root && blobs;
    for (size_t i = 0; ok && i < w->n; i++) {
        json_t *b = blob_json(&w->blobs[i]);
        ok = b && json_array_append_new(blobs, b) == 0;
    }
    ok = ok && json_object_set(root, "blobs", blobs) == 0;
    fp = ok ? props_json(props, n_props) : NULL;
    ok = fp && json_object_set_new(
                   fp, "created-by",
                   json_string("merutable version " MERU_VERSION_STRING)) == 0;
    ok = ok && json_object_set(root, "properties", fp) == 0;
    if (ok)
        text = json_dumps(root, JSON_COMPACT);
    json_decref(fp);
    json_decref(blobs);
    json_decref(root);
    return text;
}

int meru_puffin_writer_finish(meru_puffin_writer *w,
                              const meru_puffin_prop *props, size_t n_props,
                              uint64_t *file_size)
{
    char *payload = NULL;
    uint8_t tail[FOOTER_TAIL];
    int rc;
    if (w->failed) {
        rc = meru_err(MERU_EFAILED, "puffin %s: an earlier write failed",
                      w->path);
        goto fail;
    }
    for (size_t i = 0; i < n_props; i++)
        if (!props[i].key || !props[i].value) {
            rc = meru_err(MERU_EINVAL,
                          "puffin %s: a property without a key "
                          "or value",
                          w->path);
            goto fail;
        }
    if (!(payload = footer_json(w, props, n_props))) {
        rc = meru_err(MERU_ENOMEM,
                      "puffin %s: cannot build the footer "
                      "(out of memory or invalid UTF-8)",
                      w->path);
        goto fail;
    }
    size_t plen = strlen(payload);
    if (plen > INT32_MAX) {
        rc = meru_err(MERU_EINVAL, "puffin %s: footer too large", w->path);
        goto fail;
    }
    meru_store_le32(tail, (uint32_t)plen);
    meru_store_le32(tail + 4, 0); /* flags: uncompressed */
    memcpy(tail + 8, MERU_PUFFIN_MAGIC, MAGIC_LEN);
    if ((rc = wappend(w, MERU_PUFFIN_MAGIC, MAGIC_LEN)) ||
        (rc = wappend(w, payload, plen)) ||
        (rc = wappend(w, tail, sizeof tail)) || (rc = meru_file_sync(w->f)))
        goto fail;
    meru_file *f = w->f;
    w->f = NULL;
    if ((rc = meru_file_close(f)))
        goto fail;
    if (file_size)
        *file_size = w->pos;
    free(payload);
    writer_free(w);
    return MERU_OK;
fail:
    free(payload);
    rc = meru_ice_discard(w->fs, w->f, w->path, rc);
    w->f = NULL;
    writer_free(w);
    return meru_err_wrap(rc, "finishing puffin file");
}

/* ------------------------------------------------------------ footer --- */

struct meru_puffin_footer {
    meru_arena *arena;
    meru_puffin_blob_meta *blobs;
    size_t n;
    meru_puffin_prop *props;
    size_t n_props;
};

void meru_puffin_footer_free(meru_puffin_footer *f)
{
    if (!f)
        return;
    meru_arena_free(f->arena);
    free(f);
}

size_t meru_puffin_footer_blob_count(const meru_puffin_footer *f)
{
    return f->n;
}

const meru_puffin_blob_meta *
meru_puffin_footer_blob(const meru_puffin_footer *f, size_t i)
{
    return i < f->n ? &f->blobs[i] : NULL;
}

static const char *find_prop(const meru_puffin_prop *p, size_t n,
                             const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].key, key) == 0)
            return p[i].value;
    return NULL;
}

const char *meru_puffin_footer_prop(const meru_puffin_footer *f,
                                    const char *key)
{
    return find_prop(f->props, f->n_props, key);
}

const char *meru_puffin_blob_prop(const meru_puffin_blob_meta *b,
                                  const char *key)
{
    return find_prop(b->props, b->n_props, key);
}

static int bad(const char *what)
{
    return meru_err(MERU_ECORRUPT, "puffin footer: %s", what);
}

/* A JSON object of string values into an arena array. */
static int parse_props(meru_arena *a, json_t *o, meru_puffin_prop **out,
                       size_t *n)
{
    const char *k;
    json_t *v;
    *out = NULL;
    *n = 0;
    if (!o)
        return MERU_OK;
    if (!json_is_object(o))
        return bad("properties is not an object");
    size_t cnt = json_object_size(o);
    if (!cnt)
        return MERU_OK;
    meru_puffin_prop *p = meru_arena_alloc(a, cnt * sizeof *p);
    if (!p)
        return MERU_ENOMEM;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v))
            return bad("a property value is not a string");
        if (!(p[*n].key = dup_str(a, k)) ||
            !(p[*n].value = meru_arena_strndup(a, json_string_value(v),
                                               json_string_length(v))))
            return MERU_ENOMEM;
        (*n)++;
    }
    *out = p;
    return MERU_OK;
}

static bool get_long(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

static int parse_blob(meru_arena *a, json_t *o, uint64_t data_end,
                      meru_puffin_blob_meta *b)
{
    json_t *t = json_object_get(o, "type"), *f = json_object_get(o, "fields");
    json_t *codec = json_object_get(o, "compression-codec");
    int64_t off, len;
    int rc;
    memset(b, 0, sizeof *b);
    if (!json_is_object(o))
        return bad("a blob is not an object");
    if (!json_is_string(t))
        return bad("a blob has no type");
    if (!json_is_array(f))
        return bad("a blob has no fields list");
    if (!get_long(o, "snapshot-id", &b->snapshot_id) ||
        !get_long(o, "sequence-number", &b->sequence_number) ||
        !get_long(o, "offset", &off) || !get_long(o, "length", &len))
        return bad("a blob lacks snapshot-id, sequence-number, offset or "
                   "length");
    if (off < MAGIC_LEN || len < 0 || (uint64_t)off > data_end ||
        (uint64_t)len > data_end - (uint64_t)off)
        return bad("a blob lies outside the file's blob area");
    b->offset = (uint64_t)off;
    b->length = (uint64_t)len;
    if (!(b->type = meru_arena_strndup(a, json_string_value(t),
                                       json_string_length(t))))
        return MERU_ENOMEM;
    b->n_fields = json_array_size(f);
    if (b->n_fields) {
        int32_t *ids = meru_arena_alloc(a, b->n_fields * sizeof *ids);
        if (!ids)
            return MERU_ENOMEM;
        for (size_t i = 0; i < b->n_fields; i++) {
            json_t *id = json_array_get(f, i);
            if (!json_is_integer(id) || json_integer_value(id) < INT32_MIN ||
                json_integer_value(id) > INT32_MAX)
                return bad("a blob field id is not a 32-bit integer");
            ids[i] = (int32_t)json_integer_value(id);
        }
        b->fields = ids;
    }
    if (codec) {
        if (!json_is_string(codec))
            return bad("compression-codec is not a string");
        if (!(b->compression_codec = meru_arena_strndup(
                  a, json_string_value(codec), json_string_length(codec))))
            return MERU_ENOMEM;
    }
    meru_puffin_prop *p;
    if ((rc =
             parse_props(a, json_object_get(o, "properties"), &p, &b->n_props)))
        return rc;
    b->props = p;
    return MERU_OK;
}

static int parse_payload(meru_puffin_footer *ft, const uint8_t *p, size_t n,
                         uint64_t data_end)
{
    json_error_t jerr;
    json_t *root =
        json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &jerr);
    json_t *blobs;
    int rc = MERU_OK;
    if (!root)
        return meru_err(MERU_ECORRUPT, "puffin footer: invalid JSON: %s",
                        jerr.text);
    blobs = json_object_get(root, "blobs");
    if (!json_is_object(root) || !json_is_array(blobs)) {
        rc = bad("payload has no blobs list");
        goto done;
    }
    ft->n = json_array_size(blobs);
    if (ft->n &&
        !(ft->blobs = meru_arena_alloc(ft->arena, ft->n * sizeof *ft->blobs))) {
        rc = MERU_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < ft->n && !rc; i++)
        rc = parse_blob(ft->arena, json_array_get(blobs, i), data_end,
                        &ft->blobs[i]);
    if (!rc)
        rc = parse_props(ft->arena, json_object_get(root, "properties"),
                         &ft->props, &ft->n_props);
done:
    json_decref(root);
    if (rc == MERU_ENOMEM)
        meru_err(rc, "puffin footer: out of memory");
    return rc;
}

int meru_puffin_footer_parse(meru_puffin_footer **out, const uint8_t *tail,
                             size_t tail_len, uint64_t file_size,
                             uint64_t *need)
{
    meru_puffin_footer *ft;
    int rc;
    *out = NULL;
    *need = 0;
    if (tail_len > file_size)
        return meru_err(MERU_EINVAL, "puffin: tail longer than the file");
    if (file_size < 2 * MAGIC_LEN + FOOTER_TAIL)
        return bad("file too short for a magic and a footer");
    if (tail_len < FOOTER_TAIL) {
        *need = FOOTER_TAIL;
        return meru_err(MERU_ERANGE, "puffin: need the last %d bytes",
                        FOOTER_TAIL);
    }
    const uint8_t *end = tail + tail_len;
    if (memcmp(end - MAGIC_LEN, MERU_PUFFIN_MAGIC, MAGIC_LEN) != 0)
        return bad("bad magic at the end of the file");
    int32_t plen = (int32_t)meru_load_le32(end - FOOTER_TAIL);
    uint32_t flags = meru_load_le32(end - 8);
    if (plen < 0)
        return bad("negative payload size");
    /* The footer (magic + payload + tail) must leave the leading magic. */
    uint64_t footer = (uint64_t)plen + MAGIC_LEN + FOOTER_TAIL;
    if (footer > file_size - MAGIC_LEN)
        return bad("payload size larger than the file");
    if (tail_len < footer) {
        *need = footer;
        return meru_err(MERU_ERANGE, "puffin: need the last %" PRIu64 " bytes",
                        footer);
    }
    const uint8_t *fstart = end - footer;
    if (memcmp(fstart, MERU_PUFFIN_MAGIC, MAGIC_LEN) != 0)
        return bad("bad magic at the start of the footer");
    if (flags & FLAG_COMPRESSED)
        return meru_err(MERU_ENOTSUP,
                        "puffin: compressed footers are not supported");
    if (!(ft = calloc(1, sizeof *ft)))
        return meru_err(MERU_ENOMEM, "puffin footer: out of memory");
    if ((rc = meru_arena_new(&ft->arena, 4096)) ||
        (rc = parse_payload(ft, fstart + MAGIC_LEN, (size_t)plen,
                            file_size - footer))) {
        meru_puffin_footer_free(ft);
        return rc;
    }
    *out = ft;
    return MERU_OK;
}

/* ------------------------------------------------------------ reader --- */

struct meru_puffin_reader {
    meru_file *f;
    uint64_t size;
    meru_puffin_footer *footer;
};

void meru_puffin_reader_close(meru_puffin_reader *r)
{
    if (!r)
        return;
    meru_file_close(r->f);
    meru_puffin_footer_free(r->footer);
    free(r);
}

const meru_puffin_footer *meru_puffin_reader_footer(const meru_puffin_reader *r)
{
    return r->footer;
}

int meru_puffin_reader_open(meru_puffin_reader **out, meru_fs *fs,
                            const char *path, size_t max_footer)
{
    meru_puffin_reader *r = calloc(1, sizeof *r);
    uint8_t *tail = NULL, magic[MAGIC_LEN];
    uint64_t want = 4096, need;
    int rc;
    *out = NULL;
    if (!max_footer)
        max_footer = MERU_PUFFIN_MAX_FOOTER;
    if (!r)
        return meru_err(MERU_ENOMEM, "puffin %s: out of memory", path);
    if ((rc = meru_fs_open(fs, path, MERU_FS_READ, &r->f)) ||
        (rc = meru_file_size(r->f, &r->size)))
        goto fail;
    if (r->size < 2 * MAGIC_LEN + FOOTER_TAIL) {
        rc = bad("file too short for a magic and a footer");
        goto fail;
    }
    if ((rc = meru_file_read_exact(r->f, 0, magic, MAGIC_LEN)))
        goto fail;
    if (memcmp(magic, MERU_PUFFIN_MAGIC, MAGIC_LEN) != 0) {
        rc = bad("bad magic at the start of the file");
        goto fail;
    }
    for (;;) {
        if (want > r->size)
            want = r->size;
        free(tail);
        if (!(tail = malloc((size_t)want))) {
            rc = meru_err(MERU_ENOMEM, "out of memory");
            goto fail;
        }
        if ((rc = meru_file_read_exact(r->f, r->size - want, tail,
                                       (size_t)want)))
            goto fail;
        rc = meru_puffin_footer_parse(&r->footer, tail, (size_t)want, r->size,
                                      &need);
        if (rc != MERU_ERANGE || !need)
            break;
        if (need > (uint64_t)max_footer + MAGIC_LEN + FOOTER_TAIL) {
            rc = meru_err(MERU_ERANGE,
                          "footer of %" PRIu64 " bytes is larger than the "
                          "%zu allowed",
                          need, max_footer);
            break;
        }
        want = need;
    }
    if (rc)
        goto fail;
    free(tail);
    *out = r;
    return MERU_OK;
fail:
    free(tail);
    meru_puffin_reader_close(r);
    return meru_err_wrap(rc, "reading puffin %s", path);
}

int meru_puffin_reader_read_blob(meru_puffin_reader *r, size_t i, size_t max,
                                 uint8_t **out, size_t *len)
{
    const meru_puffin_blob_meta *b = meru_puffin_footer_blob(r->footer, i);
    *out = NULL;
    if (!b)
        return meru_err(MERU_EINVAL, "puffin %s: no blob %zu",
                        meru_file_path(r->f), i);
    if (b->length > max)
        return meru_err(MERU_ERANGE,
                        "puffin %s: blob %zu of %" PRIu64 " bytes is larger "
                        "than the %zu allowed",
                        meru_file_path(r->f), i, b->length, max);
    uint8_t *buf = malloc(b->length ? (size_t)b->length : 1);
    if (!buf)
        return meru_err(MERU_ENOMEM, "out of memory");
    int rc = meru_file_read_exact(r->f, b->offset, buf, (size_t)b->length);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = (size_t)b->length;
    return MERU_OK;
}

int meru_puffin_reader_find(const meru_puffin_reader *r, uint64_t offset,
                            uint64_t length, size_t *index)
{
    for (size_t i = 0; i < r->footer->n; i++)
        if (r->footer->blobs[i].offset == offset &&
            r->footer->blobs[i].length == length) {
            *index = i;
            return MERU_OK;
        }
    return MERU_NOT_FOUND;
}
