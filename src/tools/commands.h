/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands.h — the verbs of the `meru` command-line tool. Each takes the
 * arguments after the verb (argv[0] is the verb itself) and returns the
 * process exit status. Results go to stdout, errors to stderr.
 *
 * Table verbs (create ... verify, add-column, demo): 0 success, 1 not found or failed,
 * 2 usage error (see cli_util.h). `parquet` keeps its own codes: 2 usage,
 * 3 failure.
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
int meru_cmd_flush(int argc, char **argv);
int meru_cmd_compact(int argc, char **argv);
int meru_cmd_add_column(int argc, char **argv);
int meru_cmd_stats(int argc, char **argv);
int meru_cmd_verify(int argc, char **argv);
int meru_cmd_demo(int argc, char **argv);
int meru_cmd_parquet(int argc, char **argv); /* inspect | cat */

/* The usage line of a verb ("get DIR KEY... [--format F]"), for its own
 * messages; "" for an unknown verb. */
const char *meru_verb_usage(const char *verb);

#endif
