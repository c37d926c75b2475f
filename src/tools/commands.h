/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands.h — the verbs of the `meru` command-line tool. Each takes the
 * arguments after the verb (argv[0] is the verb itself) and returns the
 * process exit status. Results go to stdout, errors to stderr.
 *
 * Every verb, `parquet` included: 0 success, 1 not found or failed, 2
 * usage error (see cli_util.h). A new verb is a function here, a file
 * cmd_<verb>.c with its option table (cli_opts.h), and one entry in the
 * verb table of meru.c (name, usage line, one-line description, optional
 * details for `meru help VERB`).
 */
#ifndef MERU_TOOLS_COMMANDS_H
#define MERU_TOOLS_COMMANDS_H

int meru_cmd_create(int argc, char **argv);
int meru_cmd_put(int argc, char **argv);
int meru_cmd_load(int argc, char **argv);
int meru_cmd_get(int argc, char **argv);
int meru_cmd_delete(int argc, char **argv);
int meru_cmd_scan(int argc, char **argv);
int meru_cmd_count(int argc, char **argv);
int meru_cmd_changes(int argc, char **argv);
int meru_cmd_flush(int argc, char **argv);
int meru_cmd_compact(int argc, char **argv);
int meru_cmd_add_column(int argc, char **argv);
int meru_cmd_stats(int argc, char **argv);
int meru_cmd_describe(int argc, char **argv);
int meru_cmd_set_property(int argc, char **argv);
int meru_cmd_verify(int argc, char **argv);
int meru_cmd_repair(int argc, char **argv);
int meru_cmd_demo(int argc, char **argv);
int meru_cmd_iceberg(int argc, char **argv);
int meru_cmd_export_iceberg(int argc, char **argv);
int meru_cmd_parquet(int argc, char **argv); /* inspect | cat */

/* From the verb table, for a verb's own messages and help: its usage line
 * ("get DIR KEY... [--format F]") and one-line description ("" for an
 * unknown verb); meru_verb_print_details prints the verb's longer help
 * (what `meru help VERB` shows after the options), if it has any. */
const char *meru_verb_usage(const char *verb);
const char *meru_verb_what(const char *verb);
void meru_verb_print_details(const char *verb);
/* The table-property keys merutable knows, with their help, for the
 * details of create and set-property (cmd_property.c). */
void meru_print_property_keys(void);

#endif
