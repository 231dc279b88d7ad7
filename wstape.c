/* wstape.c - the command dispatcher: `wstape CMD ARGS...` */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "journal/version.h"
#include "util/log.h"

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *usage; /* the help, or NULL: */
	const char *(*usage_fn)(void); /* the help, made from the feed table */
	const char *summary;
} commands[] = {
	{ "record", cmd_record, NULL, cmd_record_usage, "capture a live WebSocket feed into a journal" },
	{ "replay", cmd_replay, NULL, cmd_replay_usage, "serve a journal as a paced mock WebSocket server" },
	{ "inspect", cmd_inspect, NULL, cmd_inspect_usage,
	  "report gaps, duplicates, disconnects and timing" },
	{ "cat", cmd_cat, cmd_cat_usage, NULL, "print records as JSON lines" },
	{ "info", cmd_info, cmd_info_usage, NULL, "summarise a journal" },
	{ "verify", cmd_verify, cmd_verify_usage, NULL,
	  "check every block and the index; rebuild the index" },
	{ "prune", cmd_prune, cmd_prune_usage, NULL, "remove old segments from the start of a journal" },
	{ "publish", cmd_publish, cmd_publish_usage, NULL,
	  "publish a journal to a NATS JetStream stream (what it lacks of it)" },
	{ "import", cmd_import, NULL, cmd_import_usage,
	  "write JSON lines (the output of cat) into a journal" },
	{ "stream", cmd_stream, cmd_stream_usage, NULL, "create or describe a NATS JetStream stream" },
	{ "pull", cmd_pull, NULL, cmd_pull_usage, "read a JetStream stream back into a journal" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	fprintf(f, "usage: wstape COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n`wstape help COMMAND` or `wstape COMMAND --help` shows a command's options;\n"
		"`wstape --version` the version.\n");
}

static const struct command *
find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct command *c;

	cmd_log_to_stderr();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("wstape %s\n", wstape_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!(c = find(argv[2]))) {
			fprintf(stderr, "wstape: unknown command '%s'\n", argv[2]);
			return EXIT_USAGE;
		}
		fputs(c->usage ? c->usage : c->usage_fn(), stdout);
		return EXIT_OK;
	}
	if (!(c = find(argv[1]))) {
		fprintf(stderr, "wstape: unknown command '%s'; see 'wstape --help'\n", argv[1]);
		return EXIT_USAGE;
	}
	if (cmd_wants_help(argc - 1, argv + 1)) {
		fputs(c->usage ? c->usage : c->usage_fn(), stdout);
		return EXIT_OK;
	}
	return c->fn(argc - 1, argv + 1);
}
