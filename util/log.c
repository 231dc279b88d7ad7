/* log.c - leveled log messages, formatted here and handed to the program's sink */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int log_threshold = LOG_WARN;
int log_status_shown;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static log_sink_fn sink;
static void *sink_ud;

void
log_set_sink(log_sink_fn fn, void *ud)
{
	sink = fn;
	sink_ud = ud;
}

const char *
log_level_name(int level)
{
	return level_names[level < 0 ? 0 : level > 3 ? 3 : level];
}

int
log_set_level_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0) {
			log_threshold = i;
			return 0;
		}
	return EINVAL;
}

void
log_msg(int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (level > log_threshold || !sink)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sink(level, buf, __atomic_exchange_n(&log_status_shown, 0, __ATOMIC_RELAXED), sink_ud);
}
