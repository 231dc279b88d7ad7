/* record_publish.c - `wstape record --publish`: the publisher started beside the recorder,
 * stopped after it, and what the stream reached said */
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/record_int.h"
#include "jetstream/jetstream.h"
#include "util/log.h"

#define STOP_WAIT_MS 10000 /* at the end, how long the acks of what was journaled are waited for */

int
record_publish_start(struct record_args *ra, struct journal *j)
{
	char detail[512] = "";
	int rc;

	if (!ra->publish)
		return 0;
	if ((rc = publish_names_settle(j, ra->out, ra->stream, ra->recorder_id, ra->subject_name, 1,
				       &ra->pn)))
		return rc;
	struct js_publisher_options o = {
		.servers = ra->publish,
		.stream = ra->stream,
		.name = ra->pn.name,
		.recorder = ra->pn.recorder,
		.journal_id = ra->pn.journal_id,
		.feed = ra->feed,
	};
	/* the publisher reads what is sealed: make what the journal holds visible to it */
	if ((rc = journal_flush(j)) != 0)
		return record_journal_fail(ra->out, "flush", j, rc);
	if ((rc = js_publisher_start(ra->out, &o, &ra->pub, detail, sizeof detail)) != 0) {
		cmd_say(LOG_ERROR, "cannot publish '%s' to stream %s: %s", ra->out, ra->stream,
			*detail ? detail : js_strerror(rc));
		return rc == JS_EINVAL ? EXIT_USAGE : EXIT_NET;
	}
	char shown[512];
	js_servers_redact(ra->publish, shown, sizeof shown);
	log_info("publishing to stream %s at %s as recorder %s, subjects wstape.%s.*", ra->stream, shown,
		 ra->pn.recorder, ra->pn.name);
	return 0;
}

/* recorder_options.publish_stats: the metrics' view of the publisher (ud: the args) */
static void
publish_metrics(struct recorder_publish_stats *out, void *ud)
{
	struct record_args *ra = ud;
	struct js_publisher_stats st;
	js_publisher_stats(ra->pub, &st);
	*out = (struct recorder_publish_stats){ .stream = ra->stream,
						.acked_recno = st.acked_recno,
						.published = st.published,
						.duplicates = st.duplicates,
						.resent = st.resent,
						.connected = st.connected };
}

void
record_publish_options(struct record_args *ra, struct recorder_options *ro)
{
	if (!ra->pub)
		return;
	ro->publish_stats = publish_metrics;
	ro->publish_ud = ra;
}

int
record_publish_stop(struct record_args *ra, struct journal *j)
{
	struct js_publisher_stats st;
	struct journal_stats js = { 0 };

	if (!ra->pub)
		return 0;
	journal_flush(j);
	journal_stats(j, &js);
	int rc = js_publisher_stop(ra->pub, STOP_WAIT_MS, &st);
	ra->pub = NULL;
	js_library_close(); /* libnats' threads: the one publisher of the process is gone */
	return publish_report(ra->stream, rc, &st, js.last_recno);
}
