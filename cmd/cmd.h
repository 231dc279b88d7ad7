/* cmd.h - the subcommands: one file each in cmd/, dispatched from wstape.c
 *
 * Each cmd_NAME() gets argv with argv[0] = "NAME" and returns the process exit code.
 * Only these functions (and main) print to the user and choose exit codes.
 * Exit codes shared by all commands: */
#ifndef WSTAPE_CMD_H
#define WSTAPE_CMD_H

enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,      /* verify: corruption; inspect: a --fail-on class was found */
	EXIT_USAGE = 2,      /* bad arguments or unreadable input */
	EXIT_IO = 3,         /* a write failed: disk full, permission, ... */
	EXIT_AUTH = 4,       /* record: the server refused the credentials (HTTP 401/403) */
	EXIT_NET = 5,        /* record/replay: network failure that ends the run (port in use, ...) */
};

int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* Usage text of each command, printed by `wstape help CMD` and `wstape CMD --help`. */
extern const char cmd_record_usage[], cmd_replay_usage[], cmd_inspect_usage[], cmd_cat_usage[],
	cmd_info_usage[], cmd_verify_usage[], cmd_import_usage[];

/* 1 when argv holds -h or --help (before a "--"). */
int cmd_wants_help(int argc, char **argv);

#endif
