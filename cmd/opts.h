/* opts.h - one table-driven parser for the options of every command
 *
 * A command describes its options as a table of struct cmd_option: the name ("--from"),
 * an alias ("-o"), what kind of value it takes and where that goes, and for bad values
 * what the value must be. cmd_parse() walks argv once: "--name VALUE" and "--name=VALUE",
 * flags, repeatable options, "--" ending the options, positional arguments (the journal),
 * and prints one message naming the command, the option and what it wants, followed by
 * the usage, when something does not fit. The help texts list the same names (tests/t22
 * checks that every option of the table is in its command's --help). */
#ifndef WSTAPE_CMD_OPTS_H
#define WSTAPE_CMD_OPTS_H

#include <stdint.h>

enum cmd_opt_kind {
	CMD_OPT_FLAG, /* no value: *(int *)dst = 1 */
	CMD_OPT_COUNT, /* no value: ++*(int *)dst (-v -v) */
	CMD_OPT_STR, /* *(const char **)dst = the value (the last one given wins) */
	CMD_OPT_U64, /* *(uint64_t *)dst, decimal, within [min, max] when max != 0 */
	CMD_OPT_SIZE, /* *(uint64_t *)dst, "64m", "1KiB", within [min, max] when max != 0 */
	CMD_OPT_TIME, /* *(int64_t *)dst, RFC 3339 or epoch digits (util/text.h) */
	CMD_OPT_DURATION, /* *(int64_t *)dst in ns, "1.5s", "250ms", within [min, max] when max != 0 */
	CMD_OPT_FN, /* fn(value, dst, ud) parses and stores: 0; -1 when bad (cmd_parse
			      says what the option needs); or an exit code (> 0) after saying
			      what is wrong itself (cmd_usage_error) */
};

struct cmd_option {
	const char *name; /* "--from-record" */
	const char *alias; /* "-o", or NULL */
	enum cmd_opt_kind kind;
	void *dst;
	const char *want; /* what a good value is, for the message ("a record number") */
	uint64_t min, max; /* bounds of U64, SIZE and DURATION values (max 0: none) */
	int (*fn)(const char *value, void *dst, void *ud);
	void *ud;
};

/* Table entries, by kind (designated, so that what is not given is zero). */
#define CMD_FLAG(n, a, d) \
	{ \
		.name = (n), .alias = (a), .kind = CMD_OPT_FLAG, .dst = (d) \
	}
#define CMD_COUNT(n, a, d) \
	{ \
		.name = (n), .alias = (a), .kind = CMD_OPT_COUNT, .dst = (d) \
	}
#define CMD_STR(n, a, d, w) \
	{ \
		.name = (n), .alias = (a), .kind = CMD_OPT_STR, .dst = (d), .want = (w) \
	}
#define CMD_U64(n, d, w, lo, hi) \
	{ \
		.name = (n), .kind = CMD_OPT_U64, .dst = (d), .want = (w), .min = (lo), .max = (hi) \
	}
#define CMD_SIZE(n, d, w, lo, hi) \
	{ \
		.name = (n), .kind = CMD_OPT_SIZE, .dst = (d), .want = (w), .min = (lo), .max = (hi) \
	}
#define CMD_TIME(n, d, w) \
	{ \
		.name = (n), .kind = CMD_OPT_TIME, .dst = (d), .want = (w) \
	}
#define CMD_DURATION(n, d, w, lo, hi) \
	{ \
		.name = (n), .kind = CMD_OPT_DURATION, .dst = (d), .want = (w), .min = (lo), .max = (hi) \
	}
#define CMD_FN(n, a, d, w, f, u) \
	{ \
		.name = (n), .alias = (a), .kind = CMD_OPT_FN, .dst = (d), .want = (w), .fn = (f), .ud = (u) \
	}
#define CMD_END \
	{ \
		.name = NULL \
	}

/* The command being parsed and its positional arguments. */
struct cmd_args {
	const char *cmd; /* "cat", for the messages */
	const char *usage; /* printed after a message */
	const char *what; /* what a positional argument is ("journal") */
	int maxpos; /* how many may be given (at most 4) */
	const char *pos[4]; /* out: the positional arguments, in order */
	int npos; /* out: how many were given */
};

/* Parse argv[1..argc) by the table opts (ended by an entry with a NULL name). Returns 0,
 * or EXIT_USAGE after printing "wstape: CMD: what is wrong" and the usage to stderr. */
int cmd_parse(int argc, char **argv, const struct cmd_option *opts, struct cmd_args *args);

/* --metrics HOST:PORT into a const char * (checked, not resolved); ud: the command's name. */
int cmd_opt_metrics(const char *value, void *dst, void *ud);

/* CMD_OPT_FN converters: --fsync always|interval|never into an int (JOURNAL_FSYNC_*). */
int cmd_opt_fsync(const char *value, void *dst, void *ud);

#endif
