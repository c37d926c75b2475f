/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_create.c — `meru create DIR --schema "COLUMNS" --primary-key COLS`.
 *
 * The schema text is meru_schema_parse()'s column list; the table name is
 * --name or the last component of DIR. Refuses a directory that already
 * holds a table (error_if_exists) rather than silently opening it.
 */
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

/* The last path component of `dir`, without trailing slashes. */
static void base_name(const char *dir, char *out, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    snprintf(out, cap, "%.*s", (int)(n - b), dir + b);
    if (!out[0] || !strcmp(out, ".") || !strcmp(out, "..") || !strcmp(out, "/"))
        snprintf(out, cap, "table");
}

int meru_cmd_create(int argc, char **argv)
{
    cli_set_verb("create", meru_verb_usage("create"));
    const char *dir = NULL, *cols = NULL, *pk = NULL, *name = NULL,
               *fver = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return cli_help();
        if (cli_is_option(a)) {
            const char **slot = !strcmp(a, "--schema")        ? &cols
                                : !strcmp(a, "--primary-key") ? &pk
                                : !strcmp(a, "--name")        ? &name
                                : !strcmp(a, "--iceberg-format-version")
                                    ? &fver
                                    : NULL;
            if (!slot)
                return cli_usage("unknown option '%s'", a);
            if (i + 1 >= argc)
                return cli_usage("%s needs a value", a);
            *slot = argv[++i];
        } else if (!dir) {
            dir = a;
        } else {
            return cli_usage("unexpected argument '%s'", a);
        }
    }
    if (!dir)
        return cli_usage("missing DIR");
    if (!cols)
        return cli_usage("missing --schema \"COLUMNS\"");
    if (!pk)
        return cli_usage("missing --primary-key COL[,COL...]");
    char tname[256];
    if (name)
        snprintf(tname, sizeof tname, "%s", name);
    else
        base_name(dir, tname, sizeof tname);

    meru_schema *schema = NULL;
    int rc = meru_schema_parse(&schema, tname, cols, pk);
    if (rc)
        return cli_api_fail(rc, "bad schema");
    meru_options o;
    meru_options_init(&o);
    if (fver) {
        if (strcmp(fver, "2") && strcmp(fver, "3")) {
            meru_schema_free(schema);
            return cli_usage("--iceberg-format-version must be 2 or 3");
        }
        o.iceberg_format_version = fver[0] - '0';
    }
    o.create_if_missing = 1;
    o.error_if_exists = 1;
    meru_db *db = NULL;
    rc = meru_open(dir, &o, schema, &db);
    if (rc == MERU_EEXIST) {
        meru_schema_free(schema);
        return cli_fail("%s already holds a table", dir);
    }
    if (rc) {
        meru_schema_free(schema);
        char what[4200];
        snprintf(what, sizeof what, "cannot create a table at %s", dir);
        return cli_api_fail(rc, what);
    }
    size_t ncols = meru_schema_column_count(schema);
    meru_schema_free(schema);
    int st = cli_close(db);
    if (st == CLI_OK)
        printf("created table '%s' at %s: %zu column%s, primary key (%s)\n",
               tname, dir, ncols, ncols == 1 ? "" : "s", pk);
    return st;
}
