/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_add_column.c — `meru add-column DIR "name type [not null] [default
 * LITERAL]"`: meru_add_column() on the table.
 *
 * The column is written in the syntax of one column of `meru create
 * --schema` (meru_schema_parse). Its `default` is both the initial default
 * (what the rows already in the table read) and the write default (what
 * later writes that leave the column unset store), as Iceberg's "add a
 * column with a default" does; the table's rules decide whether it is
 * allowed (defaults and NOT NULL need a format-version 3 table). The field
 * id is the table's next one. Prints the new current schema id.
 */
#include <stdio.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int meru_cmd_add_column(int argc, char **argv)
{
    cli_set_verb("add-column", meru_verb_usage("add-column"));
    const char *dir = NULL, *text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return cli_help();
        if (cli_is_option(a))
            return cli_usage("unknown option '%s'", a);
        if (!dir)
            dir = a;
        else if (!text)
            text = a;
        else
            return cli_usage("unexpected argument '%s' (quote the column: "
                             "\"name type [not null] [default LITERAL]\")",
                             a);
    }
    if (!dir)
        return cli_usage("missing DIR");
    if (!text)
        return cli_usage("missing the column (\"name type [not null] "
                         "[default LITERAL]\")");

    meru_schema *parsed = NULL;
    int rc = meru_schema_parse(&parsed, "column", text, NULL);
    if (rc)
        return cli_api_fail(rc, "bad column");
    size_t ncols = meru_schema_column_count(parsed);
    if (ncols != 1) {
        meru_schema_free(parsed);
        return cli_usage("one column at a time (got %zu)", ncols);
    }
    meru_column_def def;
    if ((rc = meru_schema_column_def(parsed, 0, &def))) {
        meru_schema_free(parsed);
        return cli_api_fail(rc, "bad column");
    }
    def.field_id = 0; /* the table's next id, not the parser's */
    def.initial_default = def.write_default;

    meru_db *db = NULL;
    int st = cli_open(dir, 0, &db);
    if (st) {
        meru_schema_free(parsed);
        return st;
    }
    char what[300];
    snprintf(what, sizeof what, "cannot add column '%s'", def.name);
    if ((rc = meru_add_column(db, &def))) {
        st = cli_api_fail(rc, what);
    } else {
        const meru_schema *s = meru_db_schema(db);
        int col = meru_schema_column_index(s, def.name);
        printf("added column '%s' (field id %d) to %s: schema id %d, %zu "
               "columns\n",
               def.name, (int)meru_schema_column_field_id(s, (size_t)col), dir,
               (int)meru_schema_id(s), meru_schema_column_count(s));
    }
    meru_schema_free(parsed);
    int cst = cli_close(db);
    return st ? st : cst;
}
