/* log_stderr.c - the program's log sink: "wstape: LEVEL: message" lines on stderr */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/log.h"

/* One write(2) per message, so that lines of several threads do not mix; a status line
 * (no newline) shown before is cleared first. */
static void
stderr_sink(int level, const char *msg, int status_shown, void *ud)
{
	char buf[2200];
	int n;

	(void)ud;
	n = snprintf(buf, sizeof(buf), "%swstape: %s: %s", status_shown ? "\r\033[K" : "",
		     log_level_name(level), msg);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

void
cmd_log_to_stderr(void)
{
	log_set_sink(stderr_sink, NULL);
}
