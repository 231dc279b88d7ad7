/* opts.c - the option parser of every command (cmd/opts.h) */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "journal/journal.h"
#include "metrics/http.h"
#include "util/text.h"

int
cmd_opt_metrics(const char *v, void *dst, void *ud)
{
	char host[256], why[256];
	int port;

	if (metrics_http_parse(v, host, sizeof(host), &port, why, sizeof(why))) {
		fprintf(stderr, "wstape: %s: bad value for --metrics: %s\n", (const char *)ud, why);
		return EXIT_USAGE;
	}
	*(const char **)dst = v;
	return 0;
}

int
cmd_opt_fsync(const char *v, void *dst, void *ud)
{
	int *fs = dst;

	(void)ud;
	if (!strcmp(v, "always"))
		*fs = JOURNAL_FSYNC_ALWAYS;
	else if (!strcmp(v, "interval"))
		*fs = JOURNAL_FSYNC_INTERVAL;
	else if (!strcmp(v, "never"))
		*fs = JOURNAL_FSYNC_NEVER;
	else
		return -1;
	return 0;
}

/* The entry for argument a ("--name", "--name=value" or the alias); *val points at the
 * value after '=' when there is one. NULL when none matches. */
static const struct cmd_option *
find_option(const struct cmd_option *opts, const char *a, const char **val)
{
	*val = NULL;
	for (const struct cmd_option *o = opts; o->name; o++) {
		size_t n = strlen(o->name);
		if (!strncmp(a, o->name, n) && (a[n] == '\0' || a[n] == '=')) {
			if (a[n] == '=')
				*val = a + n + 1;
			return o;
		}
		if (o->alias && !strcmp(a, o->alias))
			return o;
	}
	return NULL;
}

static int
in_bounds(const struct cmd_option *o, uint64_t v)
{
	return !o->max || (v >= o->min && v <= o->max);
}

/* Store value v of option o. Returns 0, -1 when it is not what o wants, or the exit code
 * of a CMD_OPT_FN that said what is wrong itself. */
static int
store(const struct cmd_option *o, const char *v)
{
	uint64_t u;
	int64_t ns;

	switch (o->kind) {
	case CMD_OPT_STR: *(const char **)o->dst = v; return 0;
	case CMD_OPT_U64:
	case CMD_OPT_SIZE:
		if ((o->kind == CMD_OPT_U64 ? text_parse_u64(v, &u) : text_parse_size(v, &u)) ||
		    !in_bounds(o, u))
			return -1;
		*(uint64_t *)o->dst = u;
		return 0;
	case CMD_OPT_TIME:
		if (text_parse_time(v, &ns))
			return -1;
		*(int64_t *)o->dst = ns;
		return 0;
	case CMD_OPT_DURATION:
		if (text_parse_duration(v, &ns) || !in_bounds(o, (uint64_t)ns))
			return -1;
		*(int64_t *)o->dst = ns;
		return 0;
	case CMD_OPT_FN: {
		int r = o->fn(v, o->dst, o->ud);
		return r > 0 ? r : r ? -1 : 0;
	}
	default: return -1;
	}
}

int
cmd_parse(int argc, char **argv, const struct cmd_option *opts, struct cmd_args *args)
{
	const char *cmd = args->cmd, *usage = args->usage;
	int options_end = 0;

	args->npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		const struct cmd_option *o;

		if (!options_end && !strcmp(a, "--")) {
			options_end = 1;
			continue;
		}
		if (options_end || a[0] != '-' || !a[1]) {
			if (args->npos >= args->maxpos || args->npos >= 4)
				return cmd_usage_error(usage, "%s: one %s at a time ('%s' is extra)", cmd,
						       args->what ? args->what : "argument", a);
			args->pos[args->npos++] = a;
			continue;
		}
		if (!(o = find_option(opts, a, &v)))
			return cmd_usage_error(usage, "%s: unknown option '%s'", cmd, a);
		if (o->kind == CMD_OPT_FLAG || o->kind == CMD_OPT_COUNT) {
			if (v)
				return cmd_usage_error(usage, "%s: %s takes no value", cmd, o->name);
			if (o->kind == CMD_OPT_FLAG)
				*(int *)o->dst = 1;
			else
				++*(int *)o->dst;
			continue;
		}
		if (!v) {
			if (i + 1 >= argc)
				return cmd_usage_error(usage, "%s: %s needs %s", cmd, o->name,
						       o->want ? o->want : "a value");
			v = argv[++i];
		}
		int r = store(o, v);
		if (r > 0)
			return r;
		if (r)
			return cmd_usage_error(usage, "%s: %s needs %s, not '%s'", cmd, o->name,
					       o->want ? o->want : "a value", v);
	}
	return 0;
}
