/* log_stderr.c - the program's log sink: one line per message on stderr, in one of three
 * forms (cmd_log_format):
 *
 *   plain  "wstape: LEVEL: message"                                  (the one-shot commands)
 *   text   "2026-12-02T17:05:01.123Z info wstape record: message"    (record and replay)
 *   json   {"ts":"2026-12-02T17:05:01.123Z","level":"info","cmd":"record","conn":3,"msg":"..."}
 *
 * The same whether stderr is a terminal or not. The command's own messages (cmd_say: what
 * it serves, why it stopped) take the same form, without "LEVEL: " in plain. A json line
 * has "conn" (or "client") when the message names a connection ("connection 3") or a
 * replay client ("client 12"). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/text.h"

static int log_form = CMD_LOG_PLAIN;
static const char *log_cmd = "";

int
cmd_log_format(const char *cmd, const char *name)
{
	static const char *const names[] = { "plain", "text", "json" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(name, names[i])) {
			log_form = i;
			log_cmd = cmd ? cmd : "";
			return 0;
		}
	return EINVAL;
}

int
cmd_opt_log_format(const char *value, void *dst, void *ud)
{
	(void)dst;
	return cmd_log_format(ud, value) ? -1 : 0;
}

/* RFC 3339 UTC with milliseconds: "2026-12-02T17:05:01.123Z" (24 characters). */
static void
format_now(char *buf, size_t size)
{
	int64_t ns = clock_wall_ns();
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ns / 1000000 % 1000));
}

/* The number after the first "WORD " + digit in msg ("connection 3", "client 12"), or -1:
 * the connection or client a message is about, as a field of its own. */
static long
number_after(const char *msg, const char *word)
{
	const char *p = msg;
	size_t n = strlen(word);

	while ((p = strstr(p, word))) {
		p += n;
		if (*p >= '0' && *p <= '9')
			return strtol(p, NULL, 10);
	}
	return -1;
}

/* A JSON line: the message is escaped; one that is not UTF-8 (a truncated character, a
 * server's bytes) has its bytes above 0x7f shown as '?', so that the line stays JSON. */
static int
json_line(char *buf, size_t size, const char *ts, int level, const char *msg)
{
	struct text_buf b = { 0 };
	size_t n = strlen(msg);
	char safe[2100];
	long id;
	int len;

	if (!text_utf8_valid((const uint8_t *)msg, n)) {
		n = n < sizeof(safe) ? n : sizeof(safe);
		for (size_t i = 0; i < n; i++)
			safe[i] = (unsigned char)msg[i] >= 0x80 ? '?' : msg[i];
		msg = safe;
	}
	text_buf_addf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"cmd\":", ts, log_level_name(level));
	text_json_string(&b, log_cmd, strlen(log_cmd));
	if ((id = number_after(msg, "connection ")) >= 0)
		text_buf_addf(&b, ",\"conn\":%ld", id);
	if ((id = number_after(msg, "client ")) >= 0)
		text_buf_addf(&b, ",\"client\":%ld", id);
	text_buf_adds(&b, ",\"msg\":");
	text_json_string(&b, msg, n);
	text_buf_adds(&b, "}");
	if (text_buf_err(&b) || b.len >= size) {
		/* too long for one line of the sink, or no memory: what fits, still one object */
		text_buf_free(&b);
		return snprintf(
			buf, size,
			"{\"ts\":\"%s\",\"level\":\"%s\",\"cmd\":\"%s\",\"msg\":\"(a message too long to log)\"}",
			ts, log_level_name(level), log_cmd);
	}
	memcpy(buf, b.p, b.len);
	len = (int)b.len;
	text_buf_free(&b);
	return len;
}

/* One write(2) per message, so that lines of several threads do not mix; a status line
 * (no newline) shown before is cleared first. 'say': a message of the command itself. */
static void
emit(int level, const char *msg, int status_shown, int say)
{
	char buf[4400], ts[80];
	const char *clear = status_shown ? "\r\033[K" : "";
	int n, c = (int)strlen(clear);

	memcpy(buf, clear, (size_t)c);
	if (log_form == CMD_LOG_PLAIN) {
		n = say ? snprintf(buf + c, sizeof(buf) - (size_t)c, "wstape: %s", msg)
			: snprintf(buf + c, sizeof(buf) - (size_t)c, "wstape: %s: %s", log_level_name(level),
				   msg);
	} else {
		format_now(ts, sizeof(ts));
		if (log_form == CMD_LOG_TEXT)
			n = snprintf(buf + c, sizeof(buf) - (size_t)c, "%s %s wstape%s%s: %s", ts,
				     log_level_name(level), *log_cmd ? " " : "", log_cmd, msg);
		else
			n = json_line(buf + c, sizeof(buf) - (size_t)c, ts, level, msg);
	}
	if (n < 0)
		return;
	n += c;
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	/* one event, one line: a control character in a message (a server's channel name, its
	   close reason) is shown as '?', so that it can neither break the line nor forge one
	   (json escapes them) */
	if (log_form != CMD_LOG_JSON)
		for (int i = c; i < n; i++)
			if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
				buf[i] = '?';
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

static void
stderr_sink(int level, const char *msg, int status_shown, void *ud)
{
	(void)ud;
	emit(level, msg, status_shown, 0);
}

void
cmd_say(int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(level, buf, __atomic_exchange_n(&log_status_shown, 0, __ATOMIC_RELAXED), 1);
}

void
cmd_log_to_stderr(void)
{
	log_set_sink(stderr_sink, NULL);
}
