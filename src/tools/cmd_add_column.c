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

/* The one column `text` defines, into *parsed (its definition in *def). */
static int parse_column(const char *text, meru_schema **parsed,
                        meru_column_def *def)
{
    int rc = meru_schema_parse(parsed, "column", text, NULL);
    if (rc)
        return cli_api_fail(rc, "bad column");
    size_t ncols = meru_schema_column_count(*parsed);
    if (ncols != 1)
        return cli_usage("one column at a time (got %zu)", ncols);
    if ((rc = meru_schema_column_def(*parsed, 0, def)))
        return cli_api_fail(rc, "bad column");
    def->field_id = 0; /* the table's next id, not the parser's */
    def->initial_default = def->write_default;
    return CLI_OK;
}

int meru_cmd_add_column(int argc, char **argv)
{
    static const cli_option none[] = {{NULL, 0, NULL, NULL}};
    cli_set_verb("add-column", meru_verb_usage("add-column"));
    meru_schema *parsed = NULL;
    meru_db *db = NULL;
    meru_column_def def;
    cli_parser p;
    const char *v;
    int o, st, rc;
    if (cli_parser_init(&p, argc, argv, none))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        ;
    if (o != CLI_DONE)
        return cli_parser_exit(&p, o);
    if (p.npos < 2) {
        st = cli_usage(p.npos == 0 ? "missing DIR"
                                   : "missing the column (\"name type [not "
                                     "null] [default LITERAL]\")");
        goto out;
    }
    if (p.npos > 2) {
        st = cli_usage("unexpected argument '%s' (quote the column: \"name "
                       "type [not null] [default LITERAL]\")",
                       p.pos[2]);
        goto out;
    }
    const char *dir = p.pos[0];
    if ((st = parse_column(p.pos[1], &parsed, &def)) ||
        (st = cli_open(dir, 0, &db)))
        goto out;
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
    int cst = cli_close(db);
    if (!st)
        st = cst;
out:
    meru_schema_free(parsed);
    cli_parser_free(&p);
    return st;
}
