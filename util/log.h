/* log.h - leveled log messages of every part of wstape, handed to a sink
 *
 * The libraries (journal/, feeds/, recorder/, replay/, inspect/) never print: they call
 * log_msg(), which formats the message and hands it to the sink that the program set
 * (cmd/log_stderr.c writes a line to stderr: "wstape: LEVEL: message", or with a timestamp,
 * or as JSON). Without a sink, messages are dropped. */
#ifndef WSTAPE_LOG_H
#define WSTAPE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The current threshold; messages above it are dropped. Default LOG_WARN. */
extern int log_threshold;
/* Set by whoever draws a status line (no newline) where the sink writes: the sink is told
 * (status_shown), so that it can clear the line first, and the flag is cleared. */
extern int log_status_shown;

/* Where messages go: level, the message (NUL-terminated, no newline), whether a status
 * line was shown since the last message. Called from any thread (the journal's writer
 * thread logs too): the sink must be thread-safe. */
typedef void (*log_sink_fn)(int level, const char *msg, int status_shown, void *ud);
void log_set_sink(log_sink_fn fn, void *ud);

/* "error", "warn", "info", "debug" */
const char *log_level_name(int level);
/* Set the threshold from a name. Returns 0, or EINVAL when the name is unknown. */
int log_set_level_name(const char *name);

/* Format the message and hand it to the sink when level <= log_threshold. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
