/* log.h - leveled logging to stderr, shared by every part of wstape */
#ifndef WSTAPE_LOG_H
#define WSTAPE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The current threshold; messages above it are dropped. Default LOG_WARN. */
extern int log_threshold;
/* Set by whoever draws a status line on stderr (no newline): the next log line clears it. */
extern int log_status_shown;

/* Set the threshold from a name ("error", "warn", "info", "debug").
 * Returns 0, or -1 when the name is unknown. */
int log_set_level_name(const char *name);

/* Print "wstape: LEVEL: message\n" to stderr when level <= log_threshold.
 * Thread-safe: each message is written with one write(2). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
