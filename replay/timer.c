/* timer.c - the live timeline's timer: a timerfd in the event loop
 *
 * lws 4.1 waits in poll() for its next timer in whole milliseconds, rounded down: a timer
 * due in under a millisecond is a poll() that returns at once, again and again until it is
 * due. With frames a millisecond apart that is a busy loop all the time, a core taken from
 * the clients on the same machine. A timerfd armed at the next frame's due time (absolute,
 * CLOCK_MONOTONIC, the pacing's clock) is one more descriptor in that poll(): the loop sleeps
 * until the frame is due, to the microsecond, and reads the timerfd when it fires. Without a
 * timerfd (it could not be made), the timeline falls back to an lws timer. */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "replay/server_int.h"

/* The raw-file protocol the timerfd is adopted with: when it is readable, it fired. */
int
timer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct srv *s = lws_context_user(lws_get_context(wsi));
	uint64_t fired;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (read(s->timer_fd, &fired, sizeof(fired)) < 0 && errno != EAGAIN)
			return -1;
		live_tick(s);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE: s->timer_wsi = NULL; break;
	default: break;
	}
	return 0;
}

/* Make the timerfd and put it in the loop. 0, or -1 (the lws timer is used instead). */
int
timer_open(struct srv *s, struct lws_vhost *vh)
{
	lws_sock_file_fd_type fd;

	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0)
		return -1;
	fd.filefd = s->timer_fd;
	s->timer_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, TIMER_PROTOCOL, NULL);
	if (!s->timer_wsi) {
		close(s->timer_fd);
		s->timer_fd = -1;
		return -1;
	}
	return 0;
}

/* Fire at 'at' (CLOCK_MONOTONIC ns; one in the past fires at once), or never (at 0). */
int
timer_arm(struct srv *s, int64_t at)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };
	if (!s->timer_wsi)
		return -1;
	if (at) {
		if (at < 1)
			at = 1;
		it.it_value.tv_sec = at / 1000000000;
		it.it_value.tv_nsec = at % 1000000000;
	}
	return timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &it, NULL);
}
