/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_json.c — one metadata version as JSON: the writer (Iceberg
 * TableMetadata of the table's format version + the "merutable" engine
 * section, layout in catalog.h) and the parser that validates a file read
 * back from disk.
 *
 * The parser treats its input as hostile: the size is capped before
 * jansson sees it, duplicate keys are rejected, every member is checked for
 * presence, JSON type and numeric range, strings for embedded NULs and
 * length, counts against caps; then the assembled state goes through the
 * same invariant check a commit does (meru_catalog_check_files). Every
 * failure is MERU_ECORRUPT with the JSON member named.
 *
 * Only what merutable writes is accepted for the parts it interprets
 * (single linear history on "main", snapshots ordered by sequence number,
 * parent = previous snapshot); the Iceberg parts it regenerates on every
 * write (partition specs, sort orders, snapshot-log) are only type-checked.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "types/jtext.h"
#include "types/keycodec.h"
#include "types/schema.h"
#include "util/crc32c.h"
#include "util/error.h"

#define MAX_PROPS     10000
#define MAX_SNAPSHOTS 100000
#define MAX_MLOG      100000
#define MAX_SUMMARY   1000
#define MAX_STR       4096

/* ============================================================== checksum */

/*
 * Every metadata file carries its own CRC-32C as the table property
 *     "merutable.checksum": "crc32c:<8 lower-case hex digits>"
 * computed over the whole file with those eight digits read as "00000000".
 * Iceberg readers take it for one more string property and ignore it; we
 * verify it before parsing, so a damaged file that is still valid JSON
 * (a flipped digit in a key bound, a sequence number) is caught. A file
 * without the property (written before it existed) is not checked.
 * The key is one the catalog writes itself (meru_catalog_reserved_property:
 * no edit may set it), and inside a JSON string a quote is escaped, so the
 * text `"merutable.checksum": "` can only be that property (its count is
 * checked).
 */
#define CHECKSUM_KEY    "merutable.checksum"
#define CHECKSUM_PREFIX "crc32c:"

/* Finds `"merutable.checksum": "crc32c:` (any whitespace around the colon)
 * and sets *at to the offset of the eight digits after it (the first
 * occurrence). Returns how many occurrences there are. */
static int find_checksum(const char *t, size_t n, size_t *at)
{
    static const char key[] = "\"" CHECKSUM_KEY "\"";
    static const char pre[] = "\"" CHECKSUM_PREFIX;
    int found = 0;
    const char *p = t, *end = t + n;
    while ((size_t)(end - p) >= sizeof key - 1) {
        const char *k = memchr(p, '"', (size_t)(end - p));
        if (!k || (size_t)(end - k) < sizeof key - 1)
            break;
        p = k + 1;
        if (memcmp(k, key, sizeof key - 1))
            continue;
        const char *q = k + sizeof key - 1;
        while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
            q++;
        if (q >= end || *q != ':')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
            q++;
        if ((size_t)(end - q) < sizeof pre - 1 + 8 ||
            memcmp(q, pre, sizeof pre - 1))
            continue;
        if (!found)
            *at = (size_t)(q - t) + sizeof pre - 1;
        found++;
    }
    return found;
}

/* MERU_OK when the file has no checksum or a right one. */
static int verify_checksum(const char *t, size_t n)
{
    size_t at = 0;
    int k = find_checksum(t, n, &at);
    if (k == 0)
        return MERU_OK;
    if (k > 1)
        return meru_err(MERU_ECORRUPT,
                        "metadata: " CHECKSUM_KEY " appears %d times", k);
    uint32_t want = 0;
    for (size_t i = 0; i < 8; i++) {
        int d = meru_hexval((unsigned char)t[at + i]);
        if (d < 0 || (t[at + i] >= 'A' && t[at + i] <= 'F'))
            return meru_err(MERU_ECORRUPT,
                            "metadata: " CHECKSUM_KEY " is not 8 hex digits");
        want = want << 4 | (uint32_t)d;
    }
    uint32_t got = meru_crc32c_extend(0, t, at);
    got = meru_crc32c_extend(got, "00000000", 8);
    got = meru_crc32c_extend(got, t + at + 8, n - at - 8);
    if (got != want)
        return meru_err(MERU_ECORRUPT,
                        "metadata: checksum mismatch (the file says %08x, its "
                        "bytes give %08x): the file was damaged",
                        want, got);
    return MERU_OK;
}

/* ================================================================ writer */

typedef struct jb {
    int bad; /* an allocation failed somewhere */
} jb;

static void jset(jb *b, json_t *obj, const char *key, json_t *v)
{
    if (!v || !obj || json_object_set_new(obj, key, v))
        b->bad = 1;
}

static void jpush(jb *b, json_t *arr, json_t *v)
{
    if (!v || !arr || json_array_append_new(arr, v))
        b->bad = 1;
}

static json_t *jint(int64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = 0;
    json_t *j = json_stringn(s, 2 * n);
    free(s);
    return j;
}

static json_t *file_json(jb *b, const meru_catalog_file *f)
{
    json_t *o = json_object();
    jset(b, o, "path", json_string(f->path));
    jset(b, o, "file-size", jint((int64_t)f->file_size));
    jset(b, o, "row-count", jint((int64_t)f->row_count));
    jset(b, o, "min-seq", jint((int64_t)f->min_seq));
    jset(b, o, "max-seq", jint((int64_t)f->max_seq));
    jset(b, o, "smallest-key", jhex(f->smallest, f->smallest_len));
    jset(b, o, "largest-key", jhex(f->largest, f->largest_len));
    if (f->manifest)
        jset(b, o, "manifest", json_string(f->manifest));
    if (f->dv_path) {
        jset(b, o, "dv-path", json_string(f->dv_path));
        jset(b, o, "dv-cardinality", jint((int64_t)f->dv_cardinality));
        jset(b, o, "dv-offset", jint((int64_t)f->dv_offset));
        jset(b, o, "dv-length", jint((int64_t)f->dv_length));
        if (f->dv_manifest)
            jset(b, o, "dv-manifest", json_string(f->dv_manifest));
    }
    return o;
}

static json_t *manifest_json(jb *b, const meru_catalog_manifest *m)
{
    json_t *o = json_object();
    jset(b, o, "path", json_string(m->path));
    jset(b, o, "content", jint(m->content));
    jset(b, o, "length", jint(m->length));
    jset(b, o, "sequence-number", jint(m->sequence_number));
    jset(b, o, "min-sequence-number", jint(m->min_sequence_number));
    jset(b, o, "added-snapshot-id", jint(m->added_snapshot_id));
    jset(b, o, "added-files", jint(m->added_files));
    jset(b, o, "existing-files", jint(m->existing_files));
    jset(b, o, "deleted-files", jint(m->deleted_files));
    jset(b, o, "added-rows", jint(m->added_rows));
    jset(b, o, "existing-rows", jint(m->existing_rows));
    jset(b, o, "deleted-rows", jint(m->deleted_rows));
    if (m->has_first_row_id)
        jset(b, o, "first-row-id", jint(m->first_row_id));
    jset(b, o, "live", jint((int64_t)m->live));
    jset(b, o, "live-bytes", jint(m->live_bytes));
    return o;
}

static json_t *view_json(jb *b, const meru_catalog *cat)
{
    json_t *o = json_object();
    jset(b, o, "complete", json_boolean(cat->view));
    if (cat->manifest_list)
        jset(b, o, "manifest-list", json_string(cat->manifest_list));
    json_t *a = json_array();
    for (size_t i = 0; i < cat->nmans; i++)
        jpush(b, a, manifest_json(b, &cat->mans[i]));
    jset(b, o, "manifests", a);
    return o;
}

static json_t *engine_json(jb *b, const meru_catalog *cat)
{
    json_t *e = json_object();
    jset(b, e, "format-version", jint(MERU_CATALOG_ENGINE_FORMAT));
    jset(b, e, "last-sequence", jint((int64_t)cat->last_sequence));
    jset(b, e, "next-file-number", jint((int64_t)cat->next_file_number));
    json_t *wal = json_object();
    jset(b, wal, "oldest-live-segment", jint((int64_t)cat->wal_oldest));
    jset(b, wal, "next-segment", jint((int64_t)cat->wal_next));
    jset(b, e, "wal", wal);
    json_t *levels = json_array();
    size_t i = 0;
    while (i < cat->nfiles) {
        int lv = cat->files[i].level;
        json_t *l = json_object();
        json_t *files = json_array();
        jset(b, l, "level", jint(lv));
        for (; i < cat->nfiles && cat->files[i].level == lv; i++)
            jpush(b, files, file_json(b, &cat->files[i]));
        jset(b, l, "files", files);
        jpush(b, levels, l);
    }
    jset(b, e, "levels", levels);
    jset(b, e, "iceberg-view", view_json(b, cat));
    json_t *ch = json_object(), *cfiles = json_array();
    jset(b, ch, "floor", jint((int64_t)cat->changes_floor));
    for (size_t k = 0; k < cat->nchanges; k++) {
        const meru_catalog_changelog *c = &cat->changes[k];
        json_t *o = json_object();
        jset(b, o, "path", json_string(c->path));
        jset(b, o, "file-size", jint((int64_t)c->file_size));
        jset(b, o, "row-count", jint((int64_t)c->row_count));
        jset(b, o, "min-seq", jint((int64_t)c->min_seq));
        jset(b, o, "max-seq", jint((int64_t)c->max_seq));
        jset(b, o, "created-ms", jint(c->created_ms));
        jpush(b, cfiles, o);
    }
    jset(b, ch, "files", cfiles);
    jset(b, e, "changes", ch);
    return e;
}

static json_t *snapshot_json(jb *b, const meru_catalog_snapshot *s, int v3)
{
    json_t *o = json_object();
    jset(b, o, "snapshot-id", jint(s->id));
    if (s->parent_id >= 0)
        jset(b, o, "parent-snapshot-id", jint(s->parent_id));
    jset(b, o, "sequence-number", jint(s->sequence_number));
    jset(b, o, "timestamp-ms", jint(s->timestamp_ms));
    jset(b, o, "manifest-list", json_string(s->manifest_list));
    json_t *sum = json_object();
    for (size_t i = 0; i < s->nsummary; i++)
        jset(b, sum, s->summary[i].key, json_string(s->summary[i].value));
    jset(b, o, "summary", sum);
    if (s->schema_id >= 0)
        jset(b, o, "schema-id", jint(s->schema_id));
    if (v3 && s->has_row_ids) {
        jset(b, o, "first-row-id", jint(s->first_row_id));
        jset(b, o, "added-rows", jint(s->added_rows));
    }
    return o;
}

/* The "schemas" array: every schema, in the format version's form. */
static int schemas_json(const meru_catalog *cat, json_t **out)
{
    json_t *arr = json_array();
    *out = NULL;
    if (!arr)
        return meru_err(MERU_ENOMEM, "metadata: schemas: out of memory");
    unsigned flags = cat->format_version < 3 ? MERU_SCHEMA_JSON_V2 : 0;
    for (size_t i = 0; i < cat->nschemas; i++) {
        char *text = NULL;
        int rc = meru_schema_to_json_ex(cat->schemas[i], flags, &text);
        if (rc) {
            json_decref(arr);
            return rc;
        }
        json_error_t jerr;
        json_t *one = json_loads(text, 0, &jerr);
        meru_free(text);
        /* jansson reports running out of memory as a parse error, at times
         * with an empty message: not a bug in our JSON. */
        int oom = !one && (json_error_code(&jerr) == json_error_out_of_memory ||
                           (jerr.line == -1 && !jerr.text[0]));
        if (!one || json_array_append_new(arr, one)) {
            json_decref(arr);
            return meru_err(one || oom ? MERU_ENOMEM : MERU_EINTERNAL,
                            "metadata: schema %d as JSON: %s",
                            (int)cat->schemas[i]->schema_id,
                            one || oom ? "out of memory" : jerr.text);
        }
    }
    *out = arr;
    return MERU_OK;
}

int meru_catalog_to_json(const meru_catalog *cat, meru_buf *out)
{
    jb b = {0};
    json_t *root = NULL, *schemas = NULL;
    int rc = schemas_json(cat, &schemas);
    if (rc)
        return rc;

    const meru_schema *s = cat->schema;
    root = json_object();
    jset(&b, root, "format-version", jint(cat->format_version));
    jset(&b, root, "table-uuid", json_string(cat->uuid));
    jset(&b, root, "location", json_string(cat->location));
    jset(&b, root, "last-sequence-number", jint(cat->iceberg_last_seq));
    jset(&b, root, "last-updated-ms", jint(cat->last_updated_ms));
    jset(&b, root, "last-column-id", jint(cat->last_column_id));
    if (cat->format_version >= 3)
        jset(&b, root, "next-row-id", jint(cat->next_row_id));
    jset(&b, root, "schemas", schemas);
    jset(&b, root, "current-schema-id", jint(s->schema_id));

    json_t *spec = json_object();
    jset(&b, spec, "spec-id", jint(0));
    jset(&b, spec, "fields", json_array());
    json_t *specs = json_array();
    jpush(&b, specs, spec);
    jset(&b, root, "partition-specs", specs);
    jset(&b, root, "default-spec-id", jint(0));
    jset(&b, root, "last-partition-id", jint(999));

    json_t *props = json_object();
    for (size_t i = 0; i < cat->nprops; i++)
        jset(&b, props, cat->props[i].key, json_string(cat->props[i].value));
    char num[32];
    snprintf(num, sizeof num, "%d", MERU_CATALOG_ENGINE_FORMAT);
    jset(&b, props, "merutable.format-version", json_string(num));
    uint32_t keep = cat->opts.keep_versions ? cat->opts.keep_versions
                                            : MERU_CATALOG_DEFAULT_KEEP;
    snprintf(num, sizeof num, "%u", keep - 1);
    jset(&b, props, "write.metadata.previous-versions-max", json_string(num));
    jset(&b, props, "write.metadata.delete-after-commit.enabled",
         json_string("true"));
    /* placeholder digits, replaced by the file's checksum once dumped */
    jset(&b, props, CHECKSUM_KEY, json_string(CHECKSUM_PREFIX "00000000"));
    jset(&b, root, "properties", props);

    jset(&b, root, "current-snapshot-id", jint(cat->current_snapshot_id));
    json_t *refs = json_object();
    if (cat->current_snapshot_id >= 0) {
        json_t *m = json_object();
        jset(&b, m, "snapshot-id", jint(cat->current_snapshot_id));
        jset(&b, m, "type", json_string("branch"));
        jset(&b, refs, "main", m);
    }
    jset(&b, root, "refs", refs);
    json_t *snaps = json_array(), *slog = json_array();
    for (size_t i = 0; i < cat->nsnaps; i++) {
        jpush(&b, snaps,
              snapshot_json(&b, &cat->snaps[i], cat->format_version >= 3));
        json_t *e = json_object();
        jset(&b, e, "timestamp-ms", jint(cat->snaps[i].timestamp_ms));
        jset(&b, e, "snapshot-id", jint(cat->snaps[i].id));
        jpush(&b, slog, e);
    }
    jset(&b, root, "snapshots", snaps);
    jset(&b, root, "snapshot-log", slog);
    json_t *mlog = json_array();
    for (size_t i = 0; i < cat->nmlog; i++) {
        json_t *e = json_object();
        jset(&b, e, "timestamp-ms", jint(cat->mlog[i].timestamp_ms));
        jset(&b, e, "metadata-file", json_string(cat->mlog[i].file));
        jpush(&b, mlog, e);
    }
    jset(&b, root, "metadata-log", mlog);

    json_t *order = json_object(), *ofields = json_array();
    jset(&b, order, "order-id", jint(1));
    for (size_t k = 0; k < s->nkey; k++) {
        json_t *f = json_object();
        jset(&b, f, "transform", json_string("identity"));
        jset(&b, f, "source-id", jint(s->cols[s->key_cols[k]].field_id));
        jset(&b, f, "direction", json_string("asc"));
        jset(&b, f, "null-order", json_string("nulls-first"));
        jpush(&b, ofields, f);
    }
    jset(&b, order, "fields", ofields);
    json_t *orders = json_array();
    jpush(&b, orders, order);
    jset(&b, root, "sort-orders", orders);
    jset(&b, root, "default-sort-order-id", jint(1));
    jset(&b, root, "merutable", engine_json(&b, cat));

    if (b.bad) {
        rc = meru_err(MERU_ENOMEM, "metadata: building JSON: out of memory");
        goto done;
    }
    char *text = json_dumps(root, JSON_INDENT(1));
    if (!text) {
        rc = meru_err(MERU_ENOMEM, "metadata: dumping JSON: out of memory");
        goto done;
    }
    size_t start = out->len, at = 0;
    rc = meru_buf_append(out, text, strlen(text));
    if (!rc)
        rc = meru_buf_push(out, '\n');
    free(text);
    if (rc)
        goto done;
    char *file = (char *)out->data + start;
    size_t flen = out->len - start;
    if (find_checksum(file, flen, &at) != 1) {
        rc = meru_err(MERU_EINTERNAL, "metadata: the checksum property is "
                                      "not in the dumped JSON once");
        goto done;
    }
    /* CRC-32C of the file with its own eight digits as "00000000" (what
     * the dump holds now), then written into them. */
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", meru_crc32c(file, flen));
    memcpy(file + at, hex, 8);
done:
    json_decref(root);
    return rc;
}

/* ================================================================ parser */

#define CORRUPT(...) meru_err(MERU_ECORRUPT, "metadata: " __VA_ARGS__)

/* Integer member `key` of `o` in [lo, hi]. Absent: MERU_NOT_FOUND without
 * an error set when optional, else corrupt. */
static int get_int(const json_t *o, const char *what, const char *key,
                   int optional, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || (optional && json_is_null(v))) {
        if (optional)
            return MERU_NOT_FOUND;
        return CORRUPT("%s: \"%s\" is missing", what, key);
    }
    if (!json_is_integer(v))
        return CORRUPT("%s: \"%s\" is not an integer", what, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return CORRUPT("%s: \"%s\" = %lld is out of range [%lld, %lld]", what,
                       key, (long long)x, (long long)lo, (long long)hi);
    *out = (int64_t)x;
    return MERU_OK;
}

static int get_u64(const json_t *o, const char *what, const char *key,
                   int64_t hi, uint64_t *out)
{
    int64_t x = 0;
    int rc = get_int(o, what, key, 0, 0, hi, &x);
    *out = (uint64_t)x;
    return rc;
}

/* String value checked for type, embedded NULs and length. */
static int str_value(const json_t *v, const char *what, const char *key,
                     size_t maxlen, const char **out)
{
    if (!json_is_string(v))
        return CORRUPT("%s: \"%s\" is not a string", what, key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return CORRUPT("%s: \"%s\" contains a NUL character", what, key);
    if (n > maxlen)
        return CORRUPT("%s: \"%s\" is longer than %zu bytes", what, key,
                       maxlen);
    *out = s;
    return MERU_OK;
}

static int get_str(const json_t *o, const char *what, const char *key,
                   int optional, size_t maxlen, const char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (optional)
            return MERU_NOT_FOUND;
        return CORRUPT("%s: \"%s\" is missing", what, key);
    }
    return str_value(v, what, key, maxlen, out);
}

static int get_array(const json_t *o, const char *what, const char *key,
                     int optional, size_t maxn, json_t **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v) {
        if (optional)
            return MERU_OK;
        return CORRUPT("%s: \"%s\" is missing", what, key);
    }
    if (!json_is_array(v))
        return CORRUPT("%s: \"%s\" is not an array", what, key);
    if (json_array_size(v) > maxn)
        return CORRUPT("%s: \"%s\" has more than %zu entries", what, key, maxn);
    *out = v;
    return MERU_OK;
}

static int get_object(const json_t *o, const char *what, const char *key,
                      int optional, json_t **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v) {
        if (optional)
            return MERU_OK;
        return CORRUPT("%s: \"%s\" is missing", what, key);
    }
    if (!json_is_object(v))
        return CORRUPT("%s: \"%s\" is not an object", what, key);
    *out = v;
    return MERU_OK;
}

static int nomem(const char *what)
{
    return meru_err(MERU_ENOMEM, "metadata: %s: out of memory", what);
}

static int check_uuid(const char *s)
{
    if (strlen(s) != 36)
        return -1;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
        } else if (meru_hexval((unsigned char)s[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

static int parse_hex(const json_t *o, const char *what, const char *key,
                     uint8_t **out, size_t *outlen)
{
    const char *s = NULL;
    int rc =
        get_str(o, what, key, 0, 2 * (size_t)MERU_CATALOG_MAX_KEY_BYTES, &s);
    if (rc)
        return rc;
    size_t n = strlen(s);
    if (n % 2)
        return CORRUPT("%s: \"%s\" has an odd number of hex digits", what, key);
    uint8_t *p = malloc(n / 2 + 1);
    if (!p)
        return nomem(what);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = meru_hexval((unsigned char)s[2 * i]);
        int lo = meru_hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(p);
            return CORRUPT("%s: \"%s\" is not hex (offset %zu)", what, key,
                           2 * i);
        }
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = p;
    *outlen = n / 2;
    return MERU_OK;
}

static int parse_file(const json_t *jf, int level, meru_catalog_file *f)
{
    char what[64];
    snprintf(what, sizeof what, "merutable.levels[L%d] file", level);
    if (!json_is_object(jf))
        return CORRUPT("%s is not an object", what);
    const char *s = NULL;
    int rc = get_str(jf, what, "path", 0, MERU_CATALOG_MAX_PATH, &s);
    if (rc)
        return rc;
    f->level = level;
    if (!(f->path = strdup(s)))
        return nomem(what);
    if ((rc = get_u64(jf, what, "file-size", INT64_MAX, &f->file_size)) ||
        (rc = get_u64(jf, what, "row-count", INT64_MAX, &f->row_count)) ||
        (rc = get_u64(jf, what, "min-seq", (int64_t)MERU_SEQ_MAX,
                      &f->min_seq)) ||
        (rc = get_u64(jf, what, "max-seq", (int64_t)MERU_SEQ_MAX,
                      &f->max_seq)) ||
        (rc = parse_hex(jf, what, "smallest-key", &f->smallest,
                        &f->smallest_len)) ||
        (rc = parse_hex(jf, what, "largest-key", &f->largest, &f->largest_len)))
        return rc;
    rc = get_str(jf, what, "manifest", 1, MERU_CATALOG_MAX_PATH, &s);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    if (!rc && !(f->manifest = strdup(s)))
        return nomem(what);
    rc = get_str(jf, what, "dv-path", 1, MERU_CATALOG_MAX_PATH, &s);
    if (rc == MERU_NOT_FOUND) {
        if (json_object_get(jf, "dv-cardinality"))
            return CORRUPT("%s: \"dv-cardinality\" without \"dv-path\"", what);
        return MERU_OK;
    }
    if (rc)
        return rc;
    if (!(f->dv_path = strdup(s)))
        return nomem(what);
    int64_t card = 0;
    rc = get_int(jf, what, "dv-cardinality", 1, 0, INT64_MAX, &card);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    f->dv_cardinality = (uint64_t)card;
    if ((rc = get_int(jf, what, "dv-offset", 1, 0, INT64_MAX, &card)) &&
        rc != MERU_NOT_FOUND)
        return rc;
    f->dv_offset = rc ? 0 : (uint64_t)card;
    if ((rc = get_int(jf, what, "dv-length", 1, 0, INT64_MAX, &card)) &&
        rc != MERU_NOT_FOUND)
        return rc;
    f->dv_length = rc ? 0 : (uint64_t)card;
    rc = get_str(jf, what, "dv-manifest", 1, MERU_CATALOG_MAX_PATH, &s);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    if (!rc && !(f->dv_manifest = strdup(s)))
        return nomem(what);
    return MERU_OK;
}

static int parse_manifest(const json_t *jm, meru_catalog_manifest *m)
{
    const char *what = "merutable.iceberg-view.manifests[]", *s = NULL;
    int64_t x = 0;
    int rc;
    if (!json_is_object(jm))
        return CORRUPT("%s is not an object", what);
    if ((rc = get_str(jm, what, "path", 0, MERU_CATALOG_MAX_PATH, &s)))
        return rc;
    if (!(m->path = strdup(s)))
        return nomem(what);
#define GETI(key, field, lo, hi)                                               \
    do {                                                                       \
        if ((rc = get_int(jm, what, key, 0, lo, hi, &x)))                      \
            return rc;                                                         \
        m->field = x;                                                          \
    } while (0)
    GETI("content", content, 0, 1);
    GETI("length", length, 0, INT64_MAX);
    GETI("sequence-number", sequence_number, 0, INT64_MAX);
    GETI("min-sequence-number", min_sequence_number, 0, INT64_MAX);
    GETI("added-snapshot-id", added_snapshot_id, 0, INT64_MAX);
    GETI("added-files", added_files, 0, INT32_MAX);
    GETI("existing-files", existing_files, 0, INT32_MAX);
    GETI("deleted-files", deleted_files, 0, INT32_MAX);
    GETI("added-rows", added_rows, 0, INT64_MAX);
    GETI("existing-rows", existing_rows, 0, INT64_MAX);
    GETI("deleted-rows", deleted_rows, 0, INT64_MAX);
    GETI("live", live, 0, INT64_MAX);
    GETI("live-bytes", live_bytes, 0, INT64_MAX);
#undef GETI
    rc = get_int(jm, what, "first-row-id", 1, 0, INT64_MAX, &x);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    m->has_first_row_id = !rc;
    m->first_row_id = rc ? 0 : x;
    return MERU_OK;
}

/* The engine's record of the Iceberg view (absent in tables written before
 * it existed: then the view is incomplete and rebuilt at the next
 * commit). */
static int parse_view(const json_t *e, meru_catalog *cat)
{
    const char *what = "merutable.iceberg-view", *s = NULL;
    json_t *v = NULL, *a = NULL;
    int rc = get_object(e, "merutable", "iceberg-view", 1, &v);
    if (rc)
        return rc;
    if (!v) {
        cat->view = cat->nfiles == 0 && cat->current_snapshot_id < 0;
        return MERU_OK;
    }
    json_t *c = json_object_get(v, "complete");
    if (!json_is_boolean(c))
        return CORRUPT("%s: \"complete\" is missing or not a boolean", what);
    cat->view = json_is_true(c);
    rc = get_str(v, what, "manifest-list", 1, MERU_CATALOG_MAX_PATH, &s);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    if (!rc && !(cat->manifest_list = strdup(s)))
        return nomem(what);
    if ((rc = get_array(v, what, "manifests", 0, MERU_CATALOG_MAX_FILES, &a)))
        return rc;
    size_t n = json_array_size(a);
    if (!(cat->mans = calloc(n + 1, sizeof *cat->mans)))
        return nomem(what);
    for (size_t i = 0; i < n; i++) {
        cat->nmans++;
        if ((rc = parse_manifest(json_array_get(a, i), &cat->mans[i])))
            return rc;
    }
    return MERU_OK;
}

/* The change feed's section (optional: absent in versions written before
 * the feed, whose history is unknown: floor = last-sequence). */
static int parse_changes(const json_t *e, meru_catalog *cat)
{
    const char *what = "merutable.changes";
    json_t *ch = NULL, *files = NULL;
    int rc = get_object(e, "merutable", "changes", 1, &ch);
    if (rc == MERU_OK && !ch) {
        cat->changes_floor = cat->last_sequence;
        return MERU_OK;
    }
    if (rc || (rc = get_u64(ch, what, "floor", (int64_t)MERU_SEQ_MAX,
                            &cat->changes_floor)) ||
        (rc = get_array(ch, what, "files", 0, MERU_CATALOG_MAX_FILES, &files)))
        return rc;
    size_t n = json_array_size(files);
    if (!(cat->changes = calloc(n + 1, sizeof *cat->changes)))
        return nomem(what);
    for (size_t i = 0; i < n; i++) {
        json_t *jf = json_array_get(files, i);
        meru_catalog_changelog *c = &cat->changes[cat->nchanges++];
        const char *s = NULL;
        int64_t created = 0;
        if (!json_is_object(jf))
            return CORRUPT("%s.files[%zu] is not an object", what, i);
        if ((rc = get_str(jf, what, "path", 0, MERU_CATALOG_MAX_PATH, &s)))
            return rc;
        if (!(c->path = strdup(s)))
            return nomem(what);
        if ((rc = get_u64(jf, what, "file-size", INT64_MAX, &c->file_size)) ||
            (rc = get_u64(jf, what, "row-count", INT64_MAX, &c->row_count)) ||
            (rc = get_u64(jf, what, "min-seq", (int64_t)MERU_SEQ_MAX,
                          &c->min_seq)) ||
            (rc = get_u64(jf, what, "max-seq", (int64_t)MERU_SEQ_MAX,
                          &c->max_seq)) ||
            (rc = get_int(jf, what, "created-ms", 0, 0, INT64_MAX, &created)))
            return rc;
        c->created_ms = created;
    }
    return meru_catalog_changes_check(cat, MERU_ECORRUPT);
}

static int parse_engine(const json_t *root, meru_catalog *cat)
{
    const char *what = "merutable";
    json_t *e = NULL, *wal = NULL, *levels = NULL;
    int64_t fmt = 0;
    int rc = get_object(root, "table metadata", "merutable", 0, &e);
    if (rc || (rc = get_int(e, what, "format-version", 0, 0, INT32_MAX, &fmt)))
        return rc;
    if (fmt != MERU_CATALOG_ENGINE_FORMAT)
        return CORRUPT("merutable.format-version %lld is not supported "
                       "(this library reads %d)",
                       (long long)fmt, MERU_CATALOG_ENGINE_FORMAT);
    if ((rc = get_u64(e, what, "last-sequence", (int64_t)MERU_SEQ_MAX,
                      &cat->last_sequence)) ||
        (rc = get_u64(e, what, "next-file-number", INT64_MAX,
                      &cat->next_file_number)) ||
        (rc = get_object(e, what, "wal", 0, &wal)) ||
        (rc = get_u64(wal, "merutable.wal", "oldest-live-segment", INT64_MAX,
                      &cat->wal_oldest)) ||
        (rc = get_u64(wal, "merutable.wal", "next-segment", INT64_MAX,
                      &cat->wal_next)) ||
        (rc =
             get_array(e, what, "levels", 0, MERU_CATALOG_MAX_LEVELS, &levels)))
        return rc;

    size_t total = 0;
    for (size_t i = 0; i < json_array_size(levels); i++) {
        json_t *l = json_array_get(levels, i), *files = NULL;
        if (!json_is_object(l))
            return CORRUPT("merutable.levels[%zu] is not an object", i);
        int64_t lv = 0;
        if ((rc = get_int(l, "merutable.levels[]", "level", 0, 0,
                          MERU_CATALOG_MAX_LEVELS - 1, &lv)) ||
            (rc = get_array(l, "merutable.levels[]", "files", 0,
                            MERU_CATALOG_MAX_FILES, &files)))
            return rc;
        size_t n = json_array_size(files);
        if (n > MERU_CATALOG_MAX_FILES - total)
            return CORRUPT("merutable.levels: more than %u files",
                           MERU_CATALOG_MAX_FILES);
        meru_catalog_file *nf =
            realloc(cat->files, (total + n + 1) * sizeof *nf);
        if (!nf)
            return nomem("merutable.levels");
        cat->files = nf;
        for (size_t j = 0; j < n; j++) {
            memset(&cat->files[cat->nfiles], 0, sizeof cat->files[0]);
            cat->nfiles++; /* counted first so a failure frees its parts */
            rc = parse_file(json_array_get(files, j), (int)lv,
                            &cat->files[cat->nfiles - 1]);
            if (rc)
                return rc;
        }
        total += n;
    }
    /* Levels listed twice end up merged; the overlap check still holds. */
    if ((rc = meru_catalog_check_files(cat, MERU_ECORRUPT)))
        return rc;
    if ((rc = parse_view(e, cat)))
        return rc;
    return parse_changes(e, cat);
}

static int parse_summary(const json_t *js, meru_catalog_snapshot *s,
                         const char *what)
{
    if (!json_is_object(js))
        return CORRUPT("%s: \"summary\" is missing or not an object", what);
    size_t n = json_object_size(js);
    if (n > MAX_SUMMARY)
        return CORRUPT("%s: summary has more than %d entries", what,
                       MAX_SUMMARY);
    const char *op = NULL;
    int rc = get_str(js, what, "operation", 0, 64, &op);
    if (rc)
        return rc;
    if (strcmp(op, "append") && strcmp(op, "replace") &&
        strcmp(op, "overwrite") && strcmp(op, "delete"))
        return CORRUPT("%s: unknown operation \"%s\"", what, op);
    s->summary = calloc(n + 1, sizeof *s->summary);
    if (!s->summary)
        return nomem(what);
    s->summary[0].key = strdup("operation");
    s->summary[0].value = strdup(op);
    s->nsummary = 1;
    if (!s->summary[0].key || !s->summary[0].value)
        return nomem(what);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)js, key, v)
    {
        if (!strcmp(key, "operation"))
            continue;
        const char *val = NULL;
        if (strlen(key) > MAX_STR)
            return CORRUPT("%s: summary key too long", what);
        if ((rc = str_value(v, what, "summary value", MAX_STR, &val)))
            return rc;
        meru_catalog_kv *kv = &s->summary[s->nsummary++];
        kv->key = strdup(key);
        kv->value = strdup(val);
        if (!kv->key || !kv->value)
            return nomem(what);
    }
    return MERU_OK;
}

static int parse_snapshots(const json_t *root, meru_catalog *cat)
{
    json_t *snaps = NULL, *refs = NULL;
    int64_t cur = -1;
    int rc = get_int(root, "table metadata", "current-snapshot-id", 1, -1,
                     INT64_MAX, &cur);
    if (rc && rc != MERU_NOT_FOUND)
        return rc;
    cat->current_snapshot_id = cur;
    if ((rc = get_array(root, "table metadata", "snapshots", 1, MAX_SNAPSHOTS,
                        &snaps)) ||
        (rc = get_object(root, "table metadata", "refs", 1, &refs)))
        return rc;
    size_t n = json_array_size(snaps);
    if (n) {
        cat->snaps = calloc(n, sizeof *cat->snaps);
        if (!cat->snaps)
            return nomem("snapshots");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *js = json_array_get(snaps, i);
        meru_catalog_snapshot *s = &cat->snaps[i];
        cat->nsnaps++;
        s->parent_id = -1;
        char what[48];
        snprintf(what, sizeof what, "snapshots[%zu]", i);
        if (!json_is_object(js))
            return CORRUPT("%s is not an object", what);
        const char *ml = NULL;
        if ((rc = get_int(js, what, "snapshot-id", 0, 0, INT64_MAX, &s->id)) ||
            (rc = get_int(js, what, "sequence-number", 0, 1,
                          cat->iceberg_last_seq, &s->sequence_number)) ||
            (rc = get_int(js, what, "timestamp-ms", 0, 0, INT64_MAX,
                          &s->timestamp_ms)) ||
            (rc = get_str(js, what, "manifest-list", 0, MAX_STR, &ml)) ||
            (rc = parse_summary(json_object_get(js, "summary"), s, what)))
            return rc;
        if (!(s->manifest_list = strdup(ml)))
            return nomem(what);
        rc = get_int(js, what, "parent-snapshot-id", 1, 0, INT64_MAX,
                     &s->parent_id);
        if (rc && rc != MERU_NOT_FOUND)
            return rc;
        rc = get_int(js, what, "first-row-id", 1, 0, INT64_MAX,
                     &s->first_row_id);
        if (rc && rc != MERU_NOT_FOUND)
            return rc;
        s->has_row_ids = !rc;
        if (s->has_row_ids &&
            (rc = get_int(js, what, "added-rows", 0, 0, INT64_MAX,
                          &s->added_rows)))
            return rc;
        int64_t sid = -1;
        rc = get_int(js, what, "schema-id", 1, 0, INT32_MAX, &sid);
        if (rc && rc != MERU_NOT_FOUND)
            return rc;
        if (sid >= 0 && !meru_catalog_schema_by_id(cat, (int32_t)sid))
            return CORRUPT("%s: schema-id %lld names no schema", what,
                           (long long)sid);
        s->schema_id = (int32_t)sid;
        if (i > 0) {
            const meru_catalog_snapshot *p = &cat->snaps[i - 1];
            if (s->sequence_number <= p->sequence_number)
                return CORRUPT("%s: sequence-number %lld does not increase",
                               what, (long long)s->sequence_number);
            if (s->parent_id != p->id)
                return CORRUPT("%s: parent-snapshot-id is not the previous "
                               "snapshot's id",
                               what);
            for (size_t j = 0; j < i; j++)
                if (cat->snaps[j].id == s->id)
                    return CORRUPT("%s: duplicate snapshot-id", what);
        }
    }
    if (n == 0 && cur != -1)
        return CORRUPT("current-snapshot-id %lld names no snapshot",
                       (long long)cur);
    if (n > 0 && cur != cat->snaps[n - 1].id)
        return CORRUPT("current-snapshot-id is not the newest snapshot");
    if (cur >= 0) {
        json_t *main = NULL;
        int64_t id = 0;
        const char *type = NULL;
        if (!refs)
            return CORRUPT("\"refs\" is missing");
        if ((rc = get_object(refs, "refs", "main", 0, &main)) ||
            (rc = get_int(main, "refs.main", "snapshot-id", 0, 0, INT64_MAX,
                          &id)) ||
            (rc = get_str(main, "refs.main", "type", 0, 16, &type)))
            return rc;
        if (id != cur || strcmp(type, "branch"))
            return CORRUPT("refs.main is not a branch at the current "
                           "snapshot");
    }
    /* snapshot-log is regenerated from the snapshots: type check only. */
    json_t *slog = NULL;
    if ((rc = get_array(root, "table metadata", "snapshot-log", 1,
                        MAX_SNAPSHOTS, &slog)))
        return rc;
    for (size_t i = 0; i < json_array_size(slog); i++) {
        json_t *e = json_array_get(slog, i);
        int64_t x;
        if (!json_is_object(e))
            return CORRUPT("snapshot-log[%zu] is not an object", i);
        if ((rc = get_int(e, "snapshot-log[]", "timestamp-ms", 0, 0, INT64_MAX,
                          &x)) ||
            (rc = get_int(e, "snapshot-log[]", "snapshot-id", 0, 0, INT64_MAX,
                          &x)))
            return rc;
    }
    return MERU_OK;
}

static int parse_mlog(const json_t *root, meru_catalog *cat)
{
    json_t *ml = NULL;
    int rc =
        get_array(root, "table metadata", "metadata-log", 1, MAX_MLOG, &ml);
    size_t n = json_array_size(ml);
    if (rc || !n)
        return rc;
    cat->mlog = calloc(n, sizeof *cat->mlog);
    if (!cat->mlog)
        return nomem("metadata-log");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(ml, i);
        const char *f = NULL;
        if (!json_is_object(e))
            return CORRUPT("metadata-log[%zu] is not an object", i);
        if ((rc = get_int(e, "metadata-log[]", "timestamp-ms", 0, 0, INT64_MAX,
                          &cat->mlog[i].timestamp_ms)) ||
            (rc =
                 get_str(e, "metadata-log[]", "metadata-file", 0, MAX_STR, &f)))
            return rc;
        if (!(cat->mlog[i].file = strdup(f)))
            return nomem("metadata-log");
        cat->nmlog++;
    }
    return MERU_OK;
}


static int parse_props(const json_t *root, meru_catalog *cat)
{
    json_t *p = NULL;
    int rc = get_object(root, "table metadata", "properties", 1, &p);
    if (rc || !p)
        return rc;
    size_t n = json_object_size(p);
    if (n > MAX_PROPS)
        return CORRUPT("properties: more than %d entries", MAX_PROPS);
    cat->props = calloc(n + 1, sizeof *cat->props);
    if (!cat->props)
        return nomem("properties");
    const char *key;
    json_t *v;
    json_object_foreach(p, key, v)
    {
        const char *val = NULL;
        if (strlen(key) > MAX_STR)
            return CORRUPT("properties: key too long");
        if ((rc = str_value(v, "properties", key, MAX_STR, &val)))
            return rc;
        if (meru_catalog_reserved_property(key))
            continue;
        meru_catalog_kv *kv = &cat->props[cat->nprops++];
        kv->key = strdup(key);
        kv->value = strdup(val);
        if (!kv->key || !kv->value)
            return nomem("properties");
    }
    return MERU_OK;
}

/* "schemas", "current-schema-id", "last-column-id": every schema parsed
 * and validated (old snapshots name old ones), ids unique, the current one
 * present, last-column-id at or above every field id. */
static int parse_schema(const json_t *root, meru_catalog *cat)
{
    json_t *schemas = NULL;
    int64_t cur = 0, last_col = 0;
    const char *what = "table metadata";
    int rc;
    if ((rc =
             get_int(root, what, "current-schema-id", 0, 0, INT32_MAX, &cur)) ||
        (rc = get_int(root, what, "last-column-id", 0, 0, INT32_MAX,
                      &last_col)) ||
        (rc = get_array(root, what, "schemas", 0, 10000, &schemas)))
        return rc;
    for (size_t i = 0; i < json_array_size(schemas); i++) {
        json_t *js = json_array_get(schemas, i);
        int64_t id = 0;
        if (!json_is_object(js))
            return CORRUPT("schemas[%zu] is not an object", i);
        if ((rc = get_int(js, "schemas[]", "schema-id", 0, 0, INT32_MAX, &id)))
            return rc;
        if (meru_catalog_schema_by_id(cat, (int32_t)id))
            return CORRUPT("schemas[%zu]: schema-id %lld is listed twice", i,
                           (long long)id);
        char *text = json_dumps(js, JSON_COMPACT);
        if (!text)
            return nomem("schema");
        meru_schema *sc = NULL;
        rc = meru_schema_from_json(&sc, text, strlen(text));
        free(text);
        if (!rc)
            rc = meru_schema_validate(sc);
        if (rc) {
            meru_schema_free(sc);
            if (rc == MERU_ENOMEM)
                return rc;
            return meru_err(MERU_ECORRUPT, "metadata: schemas[%zu]: %s", i,
                            meru_errmsg());
        }
        if ((rc = meru_catalog_schemas_push(cat, sc)))
            return rc;
        if (id == cur)
            cat->schema = sc;
    }
    if (!cat->schema)
        return CORRUPT("current-schema-id %lld names no schema",
                       (long long)cur);
    if (cat->last_column_id > last_col)
        return CORRUPT("last-column-id %lld is below field id %d",
                       (long long)last_col, (int)cat->last_column_id);
    cat->last_column_id = (int32_t)last_col;
    return MERU_OK;
}

/* Iceberg members merutable regenerates: presence and type only. */
static int check_iceberg_rest(const json_t *root)
{
    const char *what = "table metadata";
    json_t *a = NULL;
    int64_t x;
    int rc;
    if ((rc = get_array(root, what, "partition-specs", 0, 10000, &a)) ||
        (rc = get_int(root, what, "default-spec-id", 0, 0, INT32_MAX, &x)) ||
        (rc = get_int(root, what, "last-partition-id", 0, 0, INT32_MAX, &x)) ||
        (rc = get_array(root, what, "sort-orders", 0, 10000, &a)) ||
        (rc =
             get_int(root, what, "default-sort-order-id", 0, 0, INT32_MAX, &x)))
        return rc;
    return MERU_OK;
}

int meru_catalog_parse_metadata(const char *json, size_t len,
                                meru_catalog **out)
{
    *out = NULL;
    if (len > MERU_CATALOG_MAX_METADATA)
        return CORRUPT("file of %zu bytes exceeds the %u-byte cap", len,
                       MERU_CATALOG_MAX_METADATA);
    int crc_rc = verify_checksum(json, len);
    if (crc_rc)
        return crc_rc;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    /* jansson reports running out of memory with that error code, or, when
     * it fails before parsing a byte, with no message at all (a parse error
     * always has one): never call that damage */
    if (!root && (json_error_code(&jerr) == json_error_out_of_memory ||
         (jerr.line == -1 && !jerr.text[0])))
        return meru_err(MERU_ENOMEM, "metadata: out of memory parsing JSON");
    if (!root)
        return CORRUPT("invalid JSON at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    meru_catalog *cat = calloc(1, sizeof *cat);
    int rc;
    if (!cat) {
        rc = nomem("catalog");
        goto fail;
    }
    cat->current_snapshot_id = -1;
    if (!json_is_object(root)) {
        rc = CORRUPT("the top level is not an object");
        goto fail;
    }
    int64_t fv = 0;
    const char *uuid = NULL, *loc = NULL;
    const char *what = "table metadata";
    if ((rc = get_int(root, what, "format-version", 0, 0, INT32_MAX, &fv)))
        goto fail;
    if (fv != 2 && fv != 3) {
        rc = CORRUPT("format-version %lld (expected 2 or 3)", (long long)fv);
        goto fail;
    }
    cat->format_version = (int)fv;
    if (fv >= 3 && (rc = get_int(root, what, "next-row-id", 0, 0, INT64_MAX,
                                 &cat->next_row_id)))
        goto fail;
    if ((rc = get_str(root, what, "table-uuid", 0, 64, &uuid)))
        goto fail;
    if (check_uuid(uuid)) {
        rc = CORRUPT("table-uuid \"%s\" is not a UUID", uuid);
        goto fail;
    }
    memcpy(cat->uuid, uuid, MERU_UUID_TEXT);
    if ((rc = get_str(root, what, "location", 0, MAX_STR, &loc)))
        goto fail;
    if (!*loc) {
        rc = CORRUPT("location is empty");
        goto fail;
    }
    if (!(cat->location = strdup(loc))) {
        rc = nomem("location");
        goto fail;
    }
    if ((rc = get_int(root, what, "last-sequence-number", 0, 0, INT64_MAX,
                      &cat->iceberg_last_seq)) ||
        (rc = get_int(root, what, "last-updated-ms", 0, 0, INT64_MAX,
                      &cat->last_updated_ms)) ||
        (rc = parse_schema(root, cat)) || (rc = check_iceberg_rest(root)) ||
        (rc = parse_props(root, cat)) || (rc = parse_snapshots(root, cat)) ||
        (rc = parse_mlog(root, cat)) || (rc = parse_engine(root, cat)))
        goto fail;
    json_decref(root);
    *out = cat;
    return MERU_OK;
fail:
    json_decref(root);
    meru_catalog_free(cat);
    return rc;
}
