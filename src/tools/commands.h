/*
 * commands.h — the verbs of the `meru` command-line tool. Each takes the
 * arguments after the verb (argv[0] is the verb itself) and returns the
 * process exit status: 0 success, 1 "not found"-style outcomes, 2 usage
 * errors, 3 failures. Errors go to stderr; results to stdout.
 */
#ifndef MERU_TOOLS_COMMANDS_H
#define MERU_TOOLS_COMMANDS_H

int meru_cmd_demo(int argc, char **argv);
int meru_cmd_parquet(int argc, char **argv); /* inspect | cat */

#endif
