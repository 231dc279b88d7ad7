/* pull.c - `wstape pull`: a JetStream stream read back into a journal */
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "util/text.h"

static const char usage[] =
	"usage: wstape pull nats://H:P[,...] --stream NAME -o J [--from T] [--to T] [--channel C]\n"
	"                   [--subject-name N] [--feed F] [--follow] [--reorder D]\n"
	"\n"
	"Writes the records of a JetStream stream (what 'wstape record --publish' published, from\n"
	"every recorder) into the journal J, merged in receive-time order (ties: stream order), so\n"
	"that replay, inspect, cat and the Python reader read it as any journal. Each recorder's\n"
	"connection becomes a connection of J (META recorder.<conn> says whose it was). A message\n"
	"whose Nats-Msg-Id was already written is dropped, and so is a replay chunk every event of\n"
	"which another recorder's message already brought (a chunk with something new is kept\n"
	"whole). J must not exist, or be a journal that pull made: then pull goes on after the\n"
	"last stream sequence it wrote (META pulled_seq.<stream>). Without --follow it exits once\n"
	"the messages the stream held at the start are read, and says how many it read and wrote,\n"
	"the duplicates and redundant chunks it dropped, the recorders and connections. Exits 0; 1\n"
	"when no server answers or there is no such stream; 2 for bad arguments or a J that pull\n"
	"did not make; 3 when J cannot be written.\n"
	"\n"
	"  --stream NAME       the stream to read (required; 'wstape stream create' makes it)\n"
	"  -o, --output J      the journal to write (required)\n"
	"  --from T            only records received at T or later (RFC 3339 or epoch digits;\n"
	"                      default: from the first)\n"
	"  --to T              only records received before T (default: no end)\n"
	"  --channel C         only the records of channel C (default: every channel)\n"
	"  --subject-name N    only the journals published under the subject name N (default: all)\n"
	"  --feed F            the feed kept in J's META feed (default: the messages' Wstape-Feed;\n"
	"                      {feeds|}|spec:FILE.json)\n"
	"  --follow            keep J current: wait for new messages until SIGINT or SIGTERM\n"
	"  --reorder D         with --follow, hold records this long to write them in\n"
	"                      receive-time order (default 2s)\n";

const char *
cmd_pull_usage(void)
{
	static struct text_buf b;
	return cmd_help_text(&b, usage);
}

int
cmd_pull(int argc, char **argv)
{
	const char *stream = NULL, *out = NULL, *channel = NULL, *name = NULL, *feed = NULL;
	int64_t from = 0, to = 0, reorder = 2000000000LL;
	int follow = 0, ex;
	const struct cmd_option opts[] = {
		CMD_STR("--stream", NULL, &stream, "a stream name"),
		CMD_STR("--output", "-o", &out, "a journal directory"),
		CMD_TIME("--from", &from, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_TIME("--to", &to, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_STR("--channel", NULL, &channel, "a channel"),
		CMD_STR("--subject-name", NULL, &name, "a subject name"),
		CMD_STR("--feed", NULL, &feed, "a feed"),
		CMD_FLAG("--follow", NULL, &follow),
		CMD_DURATION("--reorder", &reorder, "a duration (\"2s\", \"500ms\")", 0, 0),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "pull", .usage = cmd_pull_usage(), .what = "server list", .maxpos = 1 };

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	fputs("wstape: pull: not implemented yet\n", stderr);
	return EXIT_USAGE;
}
