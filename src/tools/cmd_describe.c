/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_describe.c — `meru describe DIR [--json]`: what the table is: name,
 * location, Iceberg format and metadata version, the columns (types with
 * their parameters, nullability, field ids, defaults), the primary key,
 * the stored properties and the options in effect, and its size per
 * level. --json prints meru_describe_json() as it is; the readable form is
 * built from that same JSON, so the two cannot disagree. Read-only open:
 * works beside a writer.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_int_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void human_bytes(uint64_t b, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, cap, "%" PRIu64 " B", b);
    else
        snprintf(out, cap, "%.1f %s", v, u[i]);
}

/* A column's type as Iceberg writes it ("long", "decimal(10,2)"). */
static void type_text(const json_t *type, char *buf, size_t cap)
{
    if (json_is_string(type))
        snprintf(buf, cap, "%s", json_string_value(type));
    else
        snprintf(buf, cap, "?");
}

/* A default literal as text (the JSON value as written). */
static char *default_text(const json_t *f, const char *which)
{
    const json_t *d = json_object_get(f, which);
    if (!d)
        return NULL;
    return json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int print_columns(const json_t *j)
{
    const json_t *fields = json_object_get(json_object_get(j, "schema"),
                                           "fields");
    size_t n = json_array_size(fields);
    const char *hdr[] = {"#", "column", "type", "null", "field id", "default"};
    const int right[] = {1, 0, 0, 0, 1, 0};
    char **cells = calloc(n * 6 + 1, sizeof *cells);
    int st = CLI_OK;
    if (!cells)
        return cli_fail("out of memory");
    const json_t *pk = json_object_get(j, "primary-key");
    for (size_t i = 0; i < n && !st; i++) {
        const json_t *f = json_array_get(fields, i);
        char num[32], type[128], fid[32];
        snprintf(num, sizeof num, "%zu", i + 1);
        type_text(json_object_get(f, "type"), type, sizeof type);
        snprintf(fid, sizeof fid, "%" JSON_INTEGER_FORMAT, jint(f, "id"));
        const char *name = jstr(f, "name");
        int is_key = 0;
        for (size_t k = 0; k < json_array_size(pk); k++)
            is_key |= !strcmp(json_string_value(json_array_get(pk, k)), name);
        char *wd = default_text(f, "write-default");
        char *id = default_text(f, "initial-default");
        char dflt[512] = "";
        if (wd && id && strcmp(wd, id))
            snprintf(dflt, sizeof dflt, "%s (rows before it: %s)", wd, id);
        else if (wd || id)
            snprintf(dflt, sizeof dflt, "%s", wd ? wd : id);
        free(wd);
        free(id);
        char **row = cells + i * 6;
        row[0] = strdup(num);
        row[1] = strdup(name);
        row[2] = strdup(type);
        row[3] = strdup(json_is_true(json_object_get(f, "required"))
                            ? (is_key ? "not null (key)" : "not null")
                            : "null");
        row[4] = strdup(fid);
        row[5] = strdup(dflt);
        for (int c = 0; c < 6; c++)
            if (!row[c])
                st = cli_fail("out of memory");
    }
    if (!st) {
        printf("\ncolumns\n");
        st = cli_table_print(stdout, hdr, cells, n, 6, right);
    }
    for (size_t i = 0; i < n * 6; i++)
        free(cells[i]);
    free(cells);
    return st;
}

/* key = value lines, keys padded to the widest. */
static void print_map(const char *title, const json_t *map)
{
    const char *k;
    json_t *v;
    size_t w = 0;
    json_object_foreach((json_t *)map, k, v)
    {
        size_t d = cli_display_width(k);
        if (d > w)
            w = d;
    }
    printf("\n%s\n", title);
    if (!json_object_size(map))
        printf("  (none)\n");
    json_object_foreach((json_t *)map, k, v)
    {
        printf("  %s", k);
        for (size_t i = cli_display_width(k); i < w; i++)
            putchar(' ');
        printf("  %s\n", json_string_value(v) ? json_string_value(v) : "");
    }
}

static void print_sizes(const json_t *j)
{
    char b[32];
    human_bytes((uint64_t)jint(j, "bytes"), b, sizeof b);
    printf("\nsize\n  %" JSON_INTEGER_FORMAT " file%s, %s, %" JSON_INTEGER_FORMAT
           " row versions\n",
           jint(j, "files"), jint(j, "files") == 1 ? "" : "s", b,
           jint(j, "rows"));
    const json_t *levels = json_object_get(j, "levels");
    for (size_t i = 0; i < json_array_size(levels); i++) {
        const json_t *l = json_array_get(levels, i);
        if (!jint(l, "files"))
            continue;
        human_bytes((uint64_t)jint(l, "bytes"), b, sizeof b);
        printf("  L%" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
               " file%s, %s, %" JSON_INTEGER_FORMAT " row versions\n",
               jint(l, "level"), jint(l, "files"),
               jint(l, "files") == 1 ? "" : "s", b, jint(l, "rows"));
    }
}

static int print_human(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        return cli_fail("cannot read the table description: %s", err.text);
    printf("table     %s\n", jstr(j, "table"));
    printf("location  %s\n", jstr(j, "location"));
    printf("uuid      %s\n", jstr(j, "uuid"));
    printf("format    Iceberg v%" JSON_INTEGER_FORMAT
           ", metadata version %" JSON_INTEGER_FORMAT "\n",
           jint(j, "iceberg-format-version"), jint(j, "metadata-version"));
    const json_t *pk = json_object_get(j, "primary-key");
    printf("key       (");
    for (size_t i = 0; i < json_array_size(pk); i++)
        printf("%s%s", i ? ", " : "", json_string_value(json_array_get(pk, i)));
    printf(")\n");
    int st = print_columns(j);
    if (!st) {
        print_map("properties (stored in the table's metadata)",
                  json_object_get(j, "properties"));
        print_map("options in effect (table-shaping; stored values win)",
                  json_object_get(j, "options"));
        print_sizes(j);
    }
    json_decref(j);
    return st;
}

static const cli_option describe_opts[] = {
    {"json", 'j', NULL, "print meru_describe_json()"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_describe(int argc, char **argv)
{
    cli_set_verb("describe", meru_verb_usage("describe"));
    int json = 0, st = CLI_OK, rc, o;
    meru_db *db = NULL;
    char *text = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, describe_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        json = 1;
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos != 1) {
        st = p.npos ? cli_usage("unexpected argument '%s'", p.pos[1])
                    : cli_usage("missing DIR");
        goto out;
    }
    if ((st = cli_open(p.pos[0], 1, &db)))
        goto out;
    if ((rc = meru_describe_json(db, &text)))
        st = cli_api_fail(rc, "describe");
    else if (json)
        puts(text);
    else
        st = print_human(text);
out:
    meru_free(text);
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
