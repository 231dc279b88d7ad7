/* log.c - leveled logging to stderr */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int log_threshold = LOG_WARN;
int log_status_shown;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
log_set_level_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0) {
			log_threshold = i;
			return 0;
		}
	return -1;
}

void
log_msg(int level, const char *fmt, ...)
{
	char buf[2048];
	int n;
	va_list ap;

	if (level > log_threshold)
		return;
	/* the journal's writer threads log too */
	int shown = __atomic_exchange_n(&log_status_shown, 0, __ATOMIC_RELAXED);
	n = snprintf(buf, sizeof(buf), "%swstape: %s: ", shown ? "\r\033[K" : "",
		     level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}
