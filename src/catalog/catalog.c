/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog.c — the version set: state, edits, the commit protocol and
 * old-version cleanup (rules in catalog.h; create, open and recovery are
 * catalog_open.c, the orphan sweep catalog_sweep.c, the JSON itself
 * catalog_json.c).
 *
 * Invariants of a catalog handle: `files` sorted and checked
 * (meru_catalog_check_files), `snaps` a linear chain whose last element is
 * current_snapshot_id, `version` names a metadata file that was durable
 * when this state was adopted, `max_disk_version` >= version. A commit
 * builds the complete next state beside the current one and adopts it only
 * after its metadata file is durable, so a failure leaves the handle as it
 * was.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_view.h"
#include "types/keycodec.h"
#include "types/schema.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"

/* ------------------------------------------------------------ small helpers */

int meru_catalog_nomem(const char *what)
{
    return meru_err(MERU_ENOMEM, "catalog: %s: out of memory", what);
}

static void *dup_mem(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

char *meru_catalog_join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    s[na] = '/';
    memcpy(s + na + 1, b, nb + 1);
    return s;
}

char *meru_catalog_version_name(uint64_t v)
{
    char name[64];
    snprintf(name, sizeof name, "v%llu.metadata.json", (unsigned long long)v);
    return strdup(name);
}

char *meru_catalog_metadata_path(const char *location, uint64_t version)
{
    char name[96];
    snprintf(name, sizeof name, MERU_CATALOG_META_DIR "/v%llu.metadata.json",
             (unsigned long long)version);
    return meru_catalog_join(location, name);
}

/* N of "v<N>.metadata.json" (N >= 1, at most 18 digits), else 0. */
uint64_t meru_catalog_parse_version_name(const char *name)
{
    static const char suffix[] = ".metadata.json";
    if (name[0] != 'v' || name[1] == '0') /* no leading zeros: one name */
        return 0;
    const char *p = name + 1;
    uint64_t v = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 19) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || digits > 18 || strcmp(p, suffix))
        return 0;
    return v;
}

/* Version named by the basename of a metadata-log path, or 0. */
static uint64_t version_of_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    return meru_catalog_parse_version_name(slash ? slash + 1 : path);
}

static int random_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0)
            return meru_err(MERU_EIO, "catalog: getrandom failed");
        b += got;
        n -= (size_t)got;
    }
    return MERU_OK;
}

int meru_catalog_new_uuid(char out[MERU_UUID_TEXT])
{
    uint8_t u[16];
    int rc = random_bytes(u, sizeof u);
    if (rc)
        return rc;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, MERU_UUID_TEXT,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
    return MERU_OK;
}

/* Absolute path of `dir` without trailing slashes (no normalisation). */
int meru_catalog_absolute_location(const char *dir, char **out)
{
    char *s;
    if (dir[0] == '/') {
        s = strdup(dir);
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return meru_err(MERU_EIO, "catalog: getcwd failed");
        s = meru_catalog_join(cwd, dir);
    }
    if (!s)
        return meru_catalog_nomem("location");
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = 0;
    *out = s;
    return MERU_OK;
}

/* --------------------------------------------------------------- state */

void meru_catalog_file_clear(meru_catalog_file *f)
{
    free(f->path);
    free(f->smallest);
    free(f->largest);
    free(f->dv_path);
    free(f->dv_manifest);
    free(f->manifest);
    memset(f, 0, sizeof *f);
}

int meru_catalog_file_copy(meru_catalog_file *dst, const meru_catalog_file *src)
{
    *dst = *src;
    dst->path = src->path ? strdup(src->path) : NULL;
    dst->smallest = dup_mem(src->smallest, src->smallest_len);
    dst->largest = dup_mem(src->largest, src->largest_len);
    dst->dv_path = src->dv_path ? strdup(src->dv_path) : NULL;
    dst->dv_manifest = src->dv_manifest ? strdup(src->dv_manifest) : NULL;
    dst->manifest = src->manifest ? strdup(src->manifest) : NULL;
    if ((src->path && !dst->path) || !dst->smallest || !dst->largest ||
        (src->dv_path && !dst->dv_path) ||
        (src->dv_manifest && !dst->dv_manifest) ||
        (src->manifest && !dst->manifest)) {
        meru_catalog_file_clear(dst);
        return meru_catalog_nomem("file");
    }
    return MERU_OK;
}

static void kv_free(meru_catalog_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void meru_catalog_snapshot_clear(meru_catalog_snapshot *s)
{
    free(s->manifest_list);
    kv_free(s->summary, s->nsummary);
    memset(s, 0, sizeof *s);
}

void meru_catalog_state_clear(meru_catalog *cat)
{
    free(cat->location);
    cat->location = NULL;
    meru_catalog_schemas_free(cat);
    kv_free(cat->props, cat->nprops);
    cat->props = NULL;
    cat->nprops = 0;
    for (size_t i = 0; i < cat->nfiles; i++)
        meru_catalog_file_clear(&cat->files[i]);
    free(cat->files);
    cat->files = NULL;
    cat->nfiles = 0;
    meru_catalog_changes_clear(cat);
    for (size_t i = 0; i < cat->nsnaps; i++)
        meru_catalog_snapshot_clear(&cat->snaps[i]);
    free(cat->snaps);
    cat->snaps = NULL;
    cat->nsnaps = 0;
    for (size_t i = 0; i < cat->nmlog; i++)
        free(cat->mlog[i].file);
    free(cat->mlog);
    cat->mlog = NULL;
    cat->nmlog = 0;
    free(cat->view_location);
    cat->view_location = NULL;
    free(cat->manifest_list);
    cat->manifest_list = NULL;
    for (size_t i = 0; i < cat->nmans; i++)
        meru_catalog_manifest_clear(&cat->mans[i]);
    free(cat->mans);
    cat->mans = NULL;
    cat->nmans = 0;
}

void meru_catalog_free(meru_catalog *cat)
{
    if (!cat)
        return;
    meru_catalog_state_clear(cat);
    meru_catalog_dvmap_free(&cat->dvs);
    meru_catalog_dvs_unstage(cat);
    meru_catalog_retired_free(cat);
    free(cat->dir);
    free(cat);
}

static int key_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

static int file_order(const void *pa, const void *pb)
{
    const meru_catalog_file *a = pa, *b = pb;
    if (a->level != b->level)
        return a->level < b->level ? -1 : 1;
    if (a->level == 0 && a->max_seq != b->max_seq)
        return a->max_seq > b->max_seq ? -1 : 1;
    int c = key_cmp(a->smallest, a->smallest_len, b->smallest, b->smallest_len);
    return c ? c : strcmp(a->path, b->path);
}

int meru_catalog_strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Relative, no empty/"."/".." component, printable, bounded. */
static int check_path(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > MERU_CATALOG_MAX_PATH || p[0] == '/' || p[n - 1] == '/')
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == '\\' || p[i] == 0x7f)
            return -1;
    const char *c = p;
    while (*c) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') ||
            (len == 2 && c[0] == '.' && c[1] == '.'))
            return -1;
        c += len + (e ? 1 : 0);
    }
    return 0;
}

int meru_catalog_check_files(meru_catalog *cat, int code)
{
    const char *ctx = code == MERU_ECORRUPT ? "metadata" : "catalog commit";
    if (cat->last_sequence > MERU_SEQ_MAX)
        return meru_err(code, "%s: last sequence %llu exceeds 2^56-1", ctx,
                        (unsigned long long)cat->last_sequence);
    if (cat->wal_oldest > cat->wal_next)
        return meru_err(code,
                        "%s: oldest live WAL segment %llu is after the "
                        "next segment %llu",
                        ctx, (unsigned long long)cat->wal_oldest,
                        (unsigned long long)cat->wal_next);
    if (cat->next_file_number > INT64_MAX)
        return meru_err(code, "%s: next file number out of range", ctx);
    size_t n = cat->nfiles;
    if (n > MERU_CATALOG_MAX_FILES)
        return meru_err(code, "%s: more than %u files", ctx,
                        MERU_CATALOG_MAX_FILES);
    for (size_t i = 0; i < n; i++) {
        const meru_catalog_file *f = &cat->files[i];
        if (!f->path || check_path(f->path))
            return meru_err(code, "%s: bad file path \"%.200s\"", ctx,
                            f->path ? f->path : "(null)");
        if (f->dv_path && check_path(f->dv_path))
            return meru_err(code, "%s: %s: bad deletion vector path", ctx,
                            f->path);
        if (f->level < 0 || f->level >= MERU_CATALOG_MAX_LEVELS)
            return meru_err(code, "%s: %s: level %d out of range", ctx, f->path,
                            f->level);
        if (f->min_seq > f->max_seq || f->max_seq > cat->last_sequence)
            return meru_err(code,
                            "%s: %s: sequence range [%llu, %llu] is "
                            "inverted or beyond the last sequence %llu",
                            ctx, f->path, (unsigned long long)f->min_seq,
                            (unsigned long long)f->max_seq,
                            (unsigned long long)cat->last_sequence);
        if (f->file_size > INT64_MAX || f->row_count > INT64_MAX ||
            f->dv_cardinality > INT64_MAX)
            return meru_err(code, "%s: %s: size or count out of range", ctx,
                            f->path);
        if (f->smallest_len > MERU_CATALOG_MAX_KEY_BYTES ||
            f->largest_len > MERU_CATALOG_MAX_KEY_BYTES ||
            (f->smallest_len && !f->smallest) ||
            (f->largest_len && !f->largest))
            return meru_err(code, "%s: %s: key bounds too long", ctx, f->path);
        if (key_cmp(f->smallest, f->smallest_len, f->largest, f->largest_len) >
            0)
            return meru_err(code, "%s: %s: smallest key is above largest key",
                            ctx, f->path);
    }
    if (n > 1)
        qsort(cat->files, n, sizeof *cat->files, file_order);
    /* Unique paths: sort a view of them. */
    if (n > 1) {
        char **paths = malloc(n * sizeof *paths);
        if (!paths)
            return meru_catalog_nomem("path check");
        for (size_t i = 0; i < n; i++)
            paths[i] = cat->files[i].path;
        qsort(paths, n, sizeof *paths, meru_catalog_strp_cmp);
        for (size_t i = 1; i < n; i++) {
            if (!strcmp(paths[i - 1], paths[i])) {
                int rc = meru_err(code, "%s: file \"%.200s\" listed twice", ctx,
                                  paths[i]);
                free(paths);
                return rc;
            }
        }
        free(paths);
    }
    for (size_t i = 1; i < n; i++) {
        const meru_catalog_file *a = &cat->files[i - 1], *b = &cat->files[i];
        if (a->level == b->level && a->level > 0 &&
            key_cmp(a->largest, a->largest_len, b->smallest, b->smallest_len) >=
                0)
            return meru_err(code, "%s: L%d files %s and %s overlap", ctx,
                            a->level, a->path, b->path);
    }
    return MERU_OK;
}

/* --------------------------------------------------------------- accessors */

uint64_t meru_catalog_version(const meru_catalog *cat)
{
    return cat->version;
}
const char *meru_catalog_uuid(const meru_catalog *cat)
{
    return cat->uuid;
}
const char *meru_catalog_location(const meru_catalog *cat)
{
    return cat->location;
}
const meru_schema *meru_catalog_schema(const meru_catalog *cat)
{
    return cat->schema;
}
uint64_t meru_catalog_last_sequence(const meru_catalog *cat)
{
    return cat->last_sequence;
}
uint64_t meru_catalog_next_file_number(const meru_catalog *cat)
{
    return cat->next_file_number;
}
void meru_catalog_wal(const meru_catalog *cat, uint64_t *oldest_live,
                      uint64_t *next_segment)
{
    *oldest_live = cat->wal_oldest;
    *next_segment = cat->wal_next;
}
const meru_catalog_file *meru_catalog_files(const meru_catalog *cat, size_t *n)
{
    *n = cat->nfiles;
    return cat->files;
}
const meru_catalog_snapshot *meru_catalog_snapshots(const meru_catalog *cat,
                                                    size_t *n)
{
    *n = cat->nsnaps;
    return cat->snaps;
}
int64_t meru_catalog_current_snapshot_id(const meru_catalog *cat)
{
    return cat->current_snapshot_id;
}
const char *meru_catalog_property(const meru_catalog *cat, const char *key)
{
    for (size_t i = 0; i < cat->nprops; i++)
        if (!strcmp(cat->props[i].key, key))
            return cat->props[i].value;
    return NULL;
}
const meru_catalog_kv *meru_catalog_properties(const meru_catalog *cat,
                                               size_t *n)
{
    *n = cat->nprops;
    return cat->props;
}
int meru_catalog_reserved_property(const char *key)
{
    return !strcmp(key, "merutable.format-version") ||
           !strcmp(key, "merutable.checksum") ||
           !strncmp(key, "write.metadata.", 15);
}
int meru_catalog_iceberg_format_version(const meru_catalog *cat)
{
    return cat->format_version;
}
const meru_catalog_stats *meru_catalog_get_stats(const meru_catalog *cat)
{
    return &cat->stats;
}
int meru_catalog_failed(const meru_catalog *cat)
{
    return cat->failed;
}
int meru_catalog_has_view(const meru_catalog *cat)
{
    return cat->view;
}

void meru_catalog_set_opts(meru_catalog *cat, const meru_catalog_options *opts)
{
    cat->opts.keep_versions = MERU_CATALOG_DEFAULT_KEEP;
    cat->opts.keep_snapshots = MERU_CATALOG_DEFAULT_SNAPSHOTS;
    if (opts && opts->keep_versions)
        cat->opts.keep_versions = opts->keep_versions;
    if (opts && opts->keep_snapshots)
        cat->opts.keep_snapshots = opts->keep_snapshots;
    cat->opts.view_off = opts ? opts->view_off : 0;
    cat->opts.format_version = opts ? opts->format_version : 0;
}

/* ------------------------------------------------------------------ edits */

int meru_catalog_edit_new(meru_catalog *cat, meru_catalog_edit **out)
{
    meru_catalog_edit *e = calloc(1, sizeof *e);
    if (!e)
        return meru_catalog_nomem("edit");
    e->cat = cat;
    *out = e;
    return MERU_OK;
}

void meru_catalog_edit_free(meru_catalog_edit *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nadds; i++)
        meru_catalog_file_clear(&e->adds[i]);
    free(e->adds);
    for (size_t i = 0; i < e->nremoves; i++)
        free(e->removes[i]);
    free(e->removes);
    for (size_t i = 0; i < e->nmoves; i++)
        free(e->moves[i].path);
    free(e->moves);
    free(e->op);
    kv_free(e->props, e->nprops);
    meru_schema_free(e->schema);
    meru_catalog_dvmap_free(&e->dvs);
    meru_catalog_changes_edit_free(e);
    free(e);
}

int meru_catalog_edit_add_schema(meru_catalog_edit *e,
                                 const meru_schema *schema)
{
    meru_schema *copy;
    int rc = meru_schema_validate(schema);
    if (rc)
        return rc;
    if ((rc = meru_schema_clone(&copy, schema)))
        return rc;
    meru_schema_free(e->schema);
    e->schema = copy;
    return MERU_OK;
}

int meru_catalog_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return MERU_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return meru_catalog_nomem("edit");
    *p = np;
    *cap = nc;
    return MERU_OK;
}

int meru_catalog_edit_add_file(meru_catalog_edit *e,
                               const meru_catalog_file *file)
{
    if (!file->path)
        return meru_err(MERU_EINVAL, "catalog edit: file without a path");
    int rc = meru_catalog_grow((void **)&e->adds, &e->capadds, e->nadds + 1,
                               sizeof *e->adds);
    if (!rc)
        rc = meru_catalog_file_copy(&e->adds[e->nadds], file);
    if (!rc) {
        /* The view's fields are the catalog's to set. */
        meru_catalog_file *f = &e->adds[e->nadds];
        free(f->dv_path);
        free(f->dv_manifest);
        free(f->manifest);
        f->dv_path = f->dv_manifest = f->manifest = NULL;
        f->dv_cardinality = f->dv_offset = f->dv_length = 0;
        e->nadds++;
    }
    return rc;
}

int meru_catalog_edit_remove_file(meru_catalog_edit *e, const char *path)
{
    int rc = meru_catalog_grow((void **)&e->removes, &e->capremoves,
                               e->nremoves + 1, sizeof *e->removes);
    if (rc)
        return rc;
    if (!(e->removes[e->nremoves] = strdup(path)))
        return meru_catalog_nomem("edit");
    e->nremoves++;
    return MERU_OK;
}

int meru_catalog_edit_move_file(meru_catalog_edit *e, const char *path,
                                int level)
{
    if (!path)
        return meru_err(MERU_EINVAL, "catalog edit: move without a path");
    int rc = meru_catalog_grow((void **)&e->moves, &e->capmoves, e->nmoves + 1,
                               sizeof *e->moves);
    if (rc)
        return rc;
    if (!(e->moves[e->nmoves].path = strdup(path)))
        return meru_catalog_nomem("edit");
    e->moves[e->nmoves++].level = level;
    return MERU_OK;
}

void meru_catalog_edit_set_last_sequence(meru_catalog_edit *e, uint64_t seq)
{
    e->has_seq = 1;
    e->seq = seq;
}

void meru_catalog_edit_set_wal(meru_catalog_edit *e, uint64_t oldest_live,
                               uint64_t next_segment)
{
    e->has_wal = 1;
    e->wal_oldest = oldest_live;
    e->wal_next = next_segment;
}

void meru_catalog_edit_set_next_file_number(meru_catalog_edit *e, uint64_t n)
{
    e->has_nfn = 1;
    e->nfn = n;
}

int meru_catalog_edit_set_operation(meru_catalog_edit *e, const char *op)
{
    if (strcmp(op, "append") && strcmp(op, "replace") &&
        strcmp(op, "overwrite") && strcmp(op, "delete"))
        return meru_err(MERU_EINVAL,
                        "catalog edit: unknown operation "
                        "\"%.64s\"",
                        op);
    char *d = strdup(op);
    if (!d)
        return meru_catalog_nomem("edit");
    free(e->op);
    e->op = d;
    return MERU_OK;
}

int meru_catalog_edit_set_property(meru_catalog_edit *e, const char *key,
                                   const char *value)
{
    if (meru_catalog_reserved_property(key))
        return meru_err(MERU_EINVAL,
                        "catalog edit: property \"%.64s\" is "
                        "written by the engine",
                        key);
    if (!*key || strlen(key) > 4096 || (value && strlen(value) > 4096))
        return meru_err(MERU_EINVAL, "catalog edit: property key empty or "
                                     "key/value longer than 4096 bytes");
    meru_catalog_kv *np = realloc(e->props, (e->nprops + 1) * sizeof *np);
    if (!np)
        return meru_catalog_nomem("edit");
    e->props = np;
    meru_catalog_kv *kv = &e->props[e->nprops];
    kv->key = strdup(key);
    kv->value = value ? strdup(value) : NULL;
    if (!kv->key || (value && !kv->value)) {
        free(kv->key);
        free(kv->value);
        return meru_catalog_nomem("edit");
    }
    e->nprops++;
    return MERU_OK;
}

/* ------------------------------------------------------------------ commit */

int meru_catalog_set_prop(meru_catalog *c, const char *key, const char *value)
{
    for (size_t i = 0; i < c->nprops; i++) {
        if (strcmp(c->props[i].key, key))
            continue;
        free(c->props[i].value);
        if (!value) {
            free(c->props[i].key);
            c->props[i] = c->props[--c->nprops];
            return MERU_OK;
        }
        if (!(c->props[i].value = strdup(value)))
            return meru_catalog_nomem("property");
        return MERU_OK;
    }
    if (!value)
        return MERU_OK;
    meru_catalog_kv *np = realloc(c->props, (c->nprops + 1) * sizeof *np);
    if (!np)
        return meru_catalog_nomem("property");
    c->props = np;
    np[c->nprops].key = strdup(key);
    np[c->nprops].value = strdup(value);
    if (!np[c->nprops].key || !np[c->nprops].value) {
        free(np[c->nprops].key);
        free(np[c->nprops].value);
        return meru_catalog_nomem("property");
    }
    c->nprops++;
    return MERU_OK;
}

int meru_catalog_clone_state(const meru_catalog *c, meru_catalog **out)
{
    meru_catalog *n = calloc(1, sizeof *n);
    if (!n)
        return meru_catalog_nomem("commit");
    int rc = MERU_OK;
    memcpy(n->uuid, c->uuid, sizeof n->uuid);
    n->version = c->version;
    n->max_disk_version = c->max_disk_version;
    n->last_updated_ms = c->last_updated_ms;
    n->iceberg_last_seq = c->iceberg_last_seq;
    n->last_sequence = c->last_sequence;
    n->wal_oldest = c->wal_oldest;
    n->wal_next = c->wal_next;
    n->next_file_number = c->next_file_number;
    n->current_snapshot_id = c->current_snapshot_id;
    n->opts = c->opts;
    n->format_version = c->format_version;
    n->next_row_id = c->next_row_id;
    n->view = c->view;
    if (!(n->location = strdup(c->location)))
        goto oom;
    if (c->view_location && !(n->view_location = strdup(c->view_location)))
        goto oom;
    if (c->manifest_list && !(n->manifest_list = strdup(c->manifest_list)))
        goto oom;
    if (!(n->mans = calloc(c->nmans + 1, sizeof *n->mans)))
        goto oom;
    for (; n->nmans < c->nmans; n->nmans++)
        if ((rc = meru_catalog_manifest_copy(&n->mans[n->nmans],
                                             &c->mans[n->nmans])))
            goto fail;
    if ((rc = meru_catalog_schemas_copy(n, c)))
        goto fail;
    for (size_t i = 0; i < c->nprops; i++)
        if ((rc = meru_catalog_set_prop(n, c->props[i].key, c->props[i].value)))
            goto fail;
    n->files = calloc(c->nfiles + 1, sizeof *n->files);
    n->snaps = calloc(c->nsnaps + 1, sizeof *n->snaps);
    n->mlog = calloc(c->nmlog + 1, sizeof *n->mlog);
    if (!n->files || !n->snaps || !n->mlog)
        goto oom;
    if ((rc = meru_catalog_changes_clone(n, c)))
        goto fail;
    for (; n->nfiles < c->nfiles; n->nfiles++)
        if ((rc = meru_catalog_file_copy(&n->files[n->nfiles],
                                         &c->files[n->nfiles])))
            goto fail;
    for (; n->nsnaps < c->nsnaps; n->nsnaps++) {
        const meru_catalog_snapshot *s = &c->snaps[n->nsnaps];
        meru_catalog_snapshot *d = &n->snaps[n->nsnaps];
        *d = *s;
        d->manifest_list = strdup(s->manifest_list);
        d->summary = calloc(s->nsummary + 1, sizeof *d->summary);
        d->nsummary = 0;
        if (!d->manifest_list || !d->summary) {
            n->nsnaps++;
            goto oom;
        }
        for (; d->nsummary < s->nsummary; d->nsummary++) {
            meru_catalog_kv *kv = &d->summary[d->nsummary];
            kv->key = strdup(s->summary[d->nsummary].key);
            kv->value = strdup(s->summary[d->nsummary].value);
            if (!kv->key || !kv->value) {
                d->nsummary++;
                n->nsnaps++;
                goto oom;
            }
        }
    }
    for (; n->nmlog < c->nmlog; n->nmlog++) {
        n->mlog[n->nmlog].timestamp_ms = c->mlog[n->nmlog].timestamp_ms;
        if (!(n->mlog[n->nmlog].file = strdup(c->mlog[n->nmlog].file)))
            goto oom;
    }
    *out = n;
    return MERU_OK;
oom:
    rc = meru_catalog_nomem("commit");
fail:
    meru_catalog_free(n);
    return rc;
}

int meru_catalog_random_id(const meru_catalog *c, int64_t *out)
{
    for (;;) {
        uint64_t r;
        int rc = random_bytes(&r, sizeof r);
        if (rc)
            return rc;
        int64_t id = (int64_t)(r >> 1);
        int dup = id == 0;
        for (size_t i = 0; i < c->nsnaps && !dup; i++)
            dup = c->snaps[i].id == id;
        if (!dup) {
            *out = id;
            return MERU_OK;
        }
    }
}

/* Drops the edit's removed paths from `n` in O((files + removes) log
 * removes): a compaction may remove many files from a large table. */
static int remove_files(meru_catalog *n, const meru_catalog_edit *e)
{
    if (!e->nremoves)
        return MERU_OK;
    char **sorted = malloc(e->nremoves * sizeof *sorted);
    uint8_t *hit = calloc(e->nremoves, 1);
    int rc = MERU_OK;
    if (!sorted || !hit) {
        rc = meru_catalog_nomem("commit");
        goto done;
    }
    memcpy(sorted, e->removes, e->nremoves * sizeof *sorted);
    qsort(sorted, e->nremoves, sizeof *sorted, meru_catalog_strp_cmp);
    for (size_t r = 1; r < e->nremoves; r++) {
        if (!strcmp(sorted[r - 1], sorted[r])) {
            rc = meru_err(MERU_EINVAL,
                          "catalog commit: file \"%.200s\" removed twice",
                          sorted[r]);
            goto done;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n->nfiles; i++) {
        const char *key = n->files[i].path;
        char **at = bsearch(&key, sorted, e->nremoves, sizeof *sorted,
                            meru_catalog_strp_cmp);
        if (!at) {
            n->files[kept++] = n->files[i];
            continue;
        }
        hit[at - sorted] = 1;
        meru_catalog_file_clear(&n->files[i]);
    }
    n->nfiles = kept;
    for (size_t r = 0; r < e->nremoves; r++) {
        if (!hit[r]) {
            rc = meru_err(MERU_EINVAL,
                          "catalog commit: removed file \"%.200s\" is not "
                          "in the table",
                          sorted[r]);
            goto done;
        }
    }
done:
    free(sorted);
    free(hit);
    return rc;
}

/* Gives the edit's moved files their new levels in `n` (after the
 * removals: a removed file cannot move). Levels and overlaps are checked
 * with the rest of the files (meru_catalog_check_files). */
static int move_files(meru_catalog *n, const meru_catalog_edit *e)
{
    for (size_t m = 0; m < e->nmoves; m++) {
        for (size_t k = 0; k < m; k++)
            if (!strcmp(e->moves[k].path, e->moves[m].path))
                return meru_err(MERU_EINVAL,
                                "catalog commit: file \"%.200s\" moved twice",
                                e->moves[m].path);
        size_t i = 0;
        while (i < n->nfiles && strcmp(n->files[i].path, e->moves[m].path))
            i++;
        if (i == n->nfiles)
            return meru_err(MERU_EINVAL,
                            "catalog commit: moved file \"%.200s\" is not in "
                            "the table",
                            e->moves[m].path);
        n->files[i].level = e->moves[m].level;
    }
    return MERU_OK;
}

/* Applies the edit's file changes and counters to `n` (a clone). */
static int apply_edit(meru_catalog *n, const meru_catalog_edit *e)
{
    int rc = remove_files(n, e);
    if (!rc)
        rc = move_files(n, e);
    if (rc)
        return rc;
    if (e->nadds) {
        meru_catalog_file *nf =
            realloc(n->files, (n->nfiles + e->nadds + 1) * sizeof *nf);
        if (!nf)
            return meru_catalog_nomem("commit");
        n->files = nf;
        for (size_t i = 0; i < e->nadds; i++) {
            rc = meru_catalog_file_copy(&n->files[n->nfiles], &e->adds[i]);
            if (rc)
                return rc;
            n->nfiles++;
        }
    }
    if (e->has_seq) {
        if (e->seq < n->last_sequence)
            return meru_err(MERU_EINVAL,
                            "catalog commit: last sequence would "
                            "go back from %llu to %llu",
                            (unsigned long long)n->last_sequence,
                            (unsigned long long)e->seq);
        n->last_sequence = e->seq;
    }
    if (e->has_wal) {
        if (e->wal_oldest < n->wal_oldest || e->wal_next < n->wal_next)
            return meru_err(MERU_EINVAL, "catalog commit: WAL position would "
                                         "go backwards");
        n->wal_oldest = e->wal_oldest;
        n->wal_next = e->wal_next;
    }
    if (e->has_nfn) {
        if (e->nfn < n->next_file_number)
            return meru_err(MERU_EINVAL, "catalog commit: next file number "
                                         "would go backwards");
        n->next_file_number = e->nfn;
    }
    for (size_t i = 0; i < e->nprops; i++)
        if ((rc = meru_catalog_set_prop(n, e->props[i].key, e->props[i].value)))
            return rc;
    if (e->schema && (rc = meru_catalog_add_schema_state(n, e->schema)))
        return rc;
    if ((rc = meru_catalog_check_files(n, MERU_EINVAL)))
        return rc;
    return meru_catalog_changes_apply(n, e);
}

/* Records the current version in the metadata log of the next one,
 * keeping the newest keep_versions - 1 entries. */
static int push_mlog(meru_catalog *n, const meru_catalog *cur)
{
    char *path = meru_catalog_metadata_path(cur->location, cur->version);
    if (!path)
        return meru_catalog_nomem("metadata-log");
    meru_catalog_mlog *nm = realloc(n->mlog, (n->nmlog + 1) * sizeof *nm);
    if (!nm) {
        free(path);
        return meru_catalog_nomem("metadata-log");
    }
    n->mlog = nm;
    nm[n->nmlog].timestamp_ms = cur->last_updated_ms;
    nm[n->nmlog].file = path;
    n->nmlog++;
    size_t keep = n->opts.keep_versions - 1;
    if (n->nmlog > keep) {
        size_t drop = n->nmlog - keep;
        for (size_t i = 0; i < drop; i++)
            free(n->mlog[i].file);
        memmove(n->mlog, n->mlog + drop, keep * sizeof *n->mlog);
        n->nmlog = keep;
    }
    return MERU_OK;
}

/* Writes `c`'s state as metadata/v<c->version> and then the hint. */
int meru_catalog_write_version(meru_catalog *c, meru_catalog_stats *stats,
                               int *failed)
{
    meru_buf b = {0};
    char *name = meru_catalog_version_name(c->version), *meta = NULL,
         *path = NULL;
    int rc = MERU_OK;
    if (!name || !(meta = meru_catalog_join(c->dir, MERU_CATALOG_META_DIR)) ||
        !(path = meru_catalog_join(meta, name))) {
        rc = meru_catalog_nomem("commit");
        goto done;
    }
    if ((rc = meru_catalog_to_json(c, &b)))
        goto done;
    if (b.len > MERU_CATALOG_MAX_METADATA) {
        /* Readers refuse a larger file: writing it would make the table
         * unopenable. Nothing is written; the catalog stays usable. */
        rc = meru_err(MERU_ERANGE,
                      "commit of metadata version %llu: %zu bytes, above the "
                      "%u bytes a metadata file may hold (too many files or "
                      "too long keys)",
                      (unsigned long long)c->version, b.len,
                      MERU_CATALOG_MAX_METADATA);
        goto done;
    }
    rc = meru_durable_write(c->fs, path, b.data, b.len);
    if (rc) {
        *failed = 1;
        meru_err_wrap(rc, "commit of metadata version %llu",
                      (unsigned long long)c->version);
        goto done;
    }
    char num[32];
    int len = snprintf(num, sizeof num, "%llu", (unsigned long long)c->version);
    free(path);
    if (!(path = meru_catalog_join(meta, MERU_CATALOG_HINT_NAME))) {
        stats->hint_errors++;
        goto done;
    }
    if (meru_durable_write(c->fs, path, num, (size_t)len))
        stats->hint_errors++;
done:
    meru_buf_free(&b);
    free(name);
    free(meta);
    free(path);
    return rc;
}

/* Removes metadata versions below the current one that the metadata log no
 * longer lists. Failures are counted, not returned. */
static void cleanup_versions(meru_catalog *cat)
{
    char *meta = meru_catalog_join(cat->dir, MERU_CATALOG_META_DIR);
    char **names = NULL;
    size_t n = 0;
    if (!meta || meru_fs_list_names(cat->fs, meta, &names, &n)) {
        cat->stats.cleanup_errors++;
        free(meta);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t v = meru_catalog_parse_version_name(names[i]);
        if (v == 0 || v >= cat->version)
            continue;
        int keep = 0;
        for (size_t j = 0; j < cat->nmlog && !keep; j++)
            keep = version_of_path(cat->mlog[j].file) == v;
        if (keep)
            continue;
        char *p = meru_catalog_join(meta, names[i]);
        if (!p || meru_fs_remove(cat->fs, p))
            cat->stats.cleanup_errors++;
        else
            cat->stats.versions_removed++;
        free(p);
    }
    meru_fs_names_free(names, n);
    free(meta);
}

/* The oldest metadata version the current one keeps (itself or the oldest
 * one its metadata log lists). */
static uint64_t oldest_kept_version(const meru_catalog *cat)
{
    uint64_t v = cat->version;
    for (size_t j = 0; j < cat->nmlog; j++) {
        uint64_t m = version_of_path(cat->mlog[j].file);
        if (m && m < v)
            v = m;
    }
    return v;
}

/* Makes `next` the catalog's state (keeping fs, dir, stats). */
static void adopt(meru_catalog *cat, meru_catalog *next)
{
    meru_fs *fs = cat->fs;
    char *dir = cat->dir;
    meru_catalog_stats stats = cat->stats;
    meru_catalog_options opts = cat->opts;
    meru_catalog_dvmap dvs = cat->dvs, staged = cat->staged;
    uint8_t *staged_drop = cat->staged_drop;
    meru_catalog_retired *retired = cat->retired;
    size_t nretired = cat->nretired;
    meru_catalog_state_clear(cat);
    *cat = *next;
    cat->fs = fs;
    cat->dir = dir;
    cat->stats = stats;
    cat->opts = opts;
    cat->dvs = dvs;
    cat->staged = staged;
    cat->staged_drop = staged_drop;
    cat->retired = retired;
    cat->nretired = nretired;
    cat->failed = 0;
    free(next);
}

int meru_catalog_commit(meru_catalog *cat, const meru_catalog_edit *edit)
{
    if (cat->failed)
        return meru_err(MERU_EFAILED, "catalog commit: an earlier metadata "
                                      "write failed; reopen the table");
    if (edit->cat != cat)
        return meru_err(MERU_EINVAL, "catalog commit: the edit belongs to "
                                     "another catalog");
    meru_catalog *next = NULL;
    int rc = meru_catalog_clone_state(cat, &next);
    if (rc)
        return rc;
    int64_t now = meru_clock_unix_ms();
    if (now < cat->last_updated_ms)
        now = cat->last_updated_ms; /* the wall clock went back */
    if ((rc = apply_edit(next, edit)) || (rc = push_mlog(next, cat)) ||
        (rc = meru_catalog_dvs_prepare(cat, next, edit)))
        goto fail;
    next->fs = cat->fs;
    next->dir = cat->dir;
    next->version = cat->max_disk_version + 1;
    next->max_disk_version = next->version;
    next->last_updated_ms = now;
    size_t nretired = cat->nretired;
    rc = meru_catalog_view_commit(cat, next, edit, now);
    if (!rc)
        rc = meru_catalog_write_version(next, &cat->stats, &cat->failed);
    next->dir = NULL;
    if (rc) {
        /* What the view stopped referencing is still referenced. */
        for (size_t i = nretired; i < cat->nretired; i++)
            free(cat->retired[i].path);
        cat->nretired = nretired;
        goto fail;
    }
    adopt(cat, next);
    meru_catalog_dvs_adopt(cat, edit);
    cleanup_versions(cat);
    meru_catalog_retired_gc(cat, oldest_kept_version(cat));
    return MERU_OK;
fail:
    meru_catalog_dvs_unstage(cat);
    meru_catalog_free(next);
    return rc;
}
