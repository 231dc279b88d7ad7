/* test_jetstream_read.c - the stream's settings, a stream read back (bounded, followed, from a
 * time or a sequence, filtered, hostile headers), and the merge of several recorders'
 * records into one journal, against a real nats-server started here on a free port */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "feeds/feed.h"
#include "jetstream/jetstream.h"
#include "jetstream/merge.h"
#include "jetstream/seen.h"
#include "journal/journal.h"
#include "util/clock.h"

static char tmproot[256], url[64], dead_url[64];
static pid_t server_pid;
static natsConnection *nc;
static jsCtx *js;

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

static int
start_server(void)
{
	char port[16], sd[300];
	int p = free_port();
	if (p < 0)
		return -1;
	snprintf(port, sizeof port, "%d", p);
	snprintf(sd, sizeof sd, "%s/sd", tmproot);
	snprintf(url, sizeof url, "nats://127.0.0.1:%d", p);
	snprintf(dead_url, sizeof dead_url, "nats://127.0.0.1:%d", free_port());
	if ((server_pid = fork()) == 0) {
		char log[300];
		snprintf(log, sizeof log, "%s/nats.log", tmproot);
		if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		execl("/usr/sbin/nats-server", "nats-server", "-a", "127.0.0.1", "-p", port, "-js", "-sd", sd,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) { /* 60 s */
		if (port_open(p))
			break;
		int st;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid)
			return -1;
		usleep(100000);
	}
	if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
		return -1;
	return 0;
}

static void
stop_server(void)
{
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
}

/* ---- messages ---- */

struct hdrs {
	const char *recorder, *journal, *recno, *wall, *mono, *conn, *dir, *kind, *channel, *cursor, *feed,
		*msg_id;
};

static uint64_t
pub(const char *subject, const struct hdrs *h, const char *payload)
{
	natsMsg *m = NULL;
	jsPubAck *ack = NULL;
	jsErrCode jerr = 0;
	uint64_t seq;
	assert_int_equal(natsMsg_Create(&m, subject, NULL, payload, (int)strlen(payload)), NATS_OK);
	if (h) {
		const char *k[] = { JS_HDR_RECORDER, JS_HDR_JOURNAL, JS_HDR_RECNO, JS_HDR_WALL,
				    JS_HDR_MONO,     JS_HDR_CONN,    JS_HDR_DIR,   JS_HDR_KIND,
				    JS_HDR_CHANNEL,  JS_HDR_CURSOR,  JS_HDR_FEED,  JS_HDR_MSG_ID };
		const char *v[] = { h->recorder, h->journal, h->recno,   h->wall,   h->mono, h->conn,
				    h->dir,      h->kind,    h->channel, h->cursor, h->feed, h->msg_id };
		for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
			if (v[i])
				assert_int_equal(natsMsgHeader_Add(m, k[i], v[i]), NATS_OK);
	}
	assert_int_equal(js_PublishMsg(&ack, js, m, NULL, &jerr), NATS_OK);
	seq = ack->Sequence;
	jsPubAck_Destroy(ack);
	natsMsg_Destroy(m);
	return seq;
}

/* a good record's headers: recorder r, recno n, wall w */
static struct hdrs
good(const char *r, const char *recno, const char *wall)
{
	struct hdrs h = {
		r, "00112233445566aa", recno, wall, "5", "1", "in", "text", NULL, NULL, "raw", NULL
	};
	return h;
}

static void
make_stream(const char *name, const char *subjects)
{
	struct js_conn *c;
	struct js_conn_options co = { .servers = url };
	struct js_stream_config cfg = { .name = name, .subjects = subjects };
	struct js_stream_info si;
	char d[256];
	assert_int_equal(js_connect(&co, &c, d, sizeof d), 0);
	assert_int_equal(js_stream_create(c, &cfg, &si, d, sizeof d), 0);
	js_close(c);
}

static struct js_reader *
reader(const char *stream, const char *filter, int64_t from_ns, uint64_t from_seq, int follow)
{
	struct js_reader_options o = { .servers = url,
				       .stream = stream,
				       .filter = filter,
				       .from_ns = from_ns,
				       .from_seq = from_seq,
				       .follow = follow };
	struct js_reader *r = NULL;
	char d[256] = "";
	int rc = js_reader_open(&o, &r, d, sizeof d);
	if (rc)
		fprintf(stderr, "js_reader_open: %s\n", d);
	assert_int_equal(rc, 0);
	return r;
}

/* the next message, waiting up to 60 s */
static int
next(struct js_reader *r, struct js_pulled *p)
{
	char d[256];
	int rc;
	for (int i = 0; i < 60; i++)
		if ((rc = js_reader_next(r, p, 1000, d, sizeof d)) != JS_ETIMEOUT)
			return rc;
	return rc;
}

/* ---- the stream's settings ---- */

static void
test_js__stream_create_info(void **state)
{
	struct js_conn *c;
	struct js_conn_options co = { .servers = url };
	struct js_stream_config cfg = { .name = "SETTINGS",
					.subjects = "wstape.settings.>",
					.max_age_ns = 3600LL * 1000000000,
					.dup_window_ns = 120LL * 1000000000 };
	struct js_stream_info si;
	char d[256];
	(void)state;

	assert_int_equal(js_connect(&co, &c, d, sizeof d), 0);
	assert_int_equal(js_stream_create(c, &cfg, &si, d, sizeof d), 0);
	assert_string_equal(si.name, "SETTINGS");
	assert_string_equal(si.subjects, "wstape.settings.>");
	assert_int_equal(si.replicas, 1);
	assert_int_equal(si.storage, JS_STORAGE_FILE);
	assert_int_equal(si.retention, JS_RETAIN_LIMITS);
	assert_true(si.max_age_ns == 3600LL * 1000000000);
	assert_true(si.dup_window_ns == 120LL * 1000000000);
	assert_true(si.max_bytes == 0 && si.max_msgs == 0);
	/* again with other limits: updated */
	cfg.max_msgs = 1000;
	cfg.max_bytes = 1 << 20;
	cfg.discard_new = 1;
	assert_int_equal(js_stream_create(c, &cfg, &si, d, sizeof d), 0);
	assert_true(si.max_msgs == 1000 && si.max_bytes == 1 << 20 && si.discard_new == 1);
	assert_int_equal(js_stream_info(c, "SETTINGS", &si, d, sizeof d), 0);
	assert_true(si.max_msgs == 1000 && si.msgs == 0 && si.last_seq == 0);
	/* a change JetStream refuses: the server's text */
	cfg.storage = JS_STORAGE_MEMORY;
	assert_int_equal(js_stream_create(c, &cfg, &si, d, sizeof d), JS_ESTREAM);
	assert_non_null(strstr(d, "storage"));
	cfg.storage = JS_STORAGE_FILE;
	cfg.replicas = 3;
	assert_int_equal(js_stream_create(c, &cfg, &si, d, sizeof d), JS_ESTREAM);
	assert_non_null(strstr(d, "replicas"));
	/* defaults: wstape.> would overlap SETTINGS? no: it is a subset; another name, own subjects */
	assert_int_equal(js_stream_info(c, "NOSUCH", &si, d, sizeof d), JS_ENOSTREAM);
	assert_non_null(strstr(d, "NOSUCH"));
	struct js_stream_config bad = { .name = "a.b" };
	assert_int_equal(js_stream_create(c, &bad, &si, d, sizeof d), JS_EINVAL);
	js_close(c);

	/* no server */
	struct js_conn_options dead = { .servers = dead_url, .timeout_ms = 1000 };
	assert_int_equal(js_connect(&dead, &c, d, sizeof d), JS_ECONNECT);
	assert_non_null(strstr(d, dead_url));
	struct js_reader_options ro = { .servers = dead_url, .stream = "SETTINGS" };
	struct js_reader *r;
	assert_int_equal(js_reader_open(&ro, &r, d, sizeof d), JS_ECONNECT);
	ro.servers = url;
	ro.stream = "NOSUCH";
	assert_int_equal(js_reader_open(&ro, &r, d, sizeof d), JS_ENOSTREAM);
}

/* ---- reading ---- */

static void
test_js__read_bounded(void **state)
{
	struct js_pulled p;
	struct hdrs h;
	(void)state;

	make_stream("RB", "wstape.rb.>");
	struct js_reader *r = reader("RB", NULL, 0, 0, 0);
	assert_int_equal(next(r, &p), JS_EOF); /* an empty stream */
	js_reader_close(r);

	h = good("rec-a", "1", "1000");
	h.channel = "a%20b%25%C3%A9"; /* escaped bytes: "a b%" and two bytes */
	h.cursor = "500:1:3";
	h.msg_id = "rec-a.00112233445566aa.1";
	h.feed = "hydromancer";
	pub("wstape.rb.a_b", &h, "{\"x\":1}");
	pub("wstape.rb.other", NULL, "no headers at all");
	h = good("rec-b", "7", "999");
	h.conn = "0";
	h.dir = "out";
	h.kind = "binary";
	pub("wstape.rb._", &h, "");
	h = good("rec-a", "2", "1001");
	pub("wstape.rb.x", &h, "{\"x\":2}");

	r = reader("RB", NULL, 0, 0, 0);
	assert_int_equal(next(r, &p), 0);
	assert_string_equal(p.recorder, "rec-a");
	assert_string_equal(p.journal_id, "00112233445566aa");
	assert_string_equal(p.feed, "hydromancer");
	assert_string_equal(p.msg_id, "rec-a.00112233445566aa.1");
	assert_true(p.rec.recno == 1 && p.rec.wall_ns == 1000 && p.rec.mono_ns == 5 && p.rec.conn == 1);
	assert_int_equal(p.rec.dir, JOURNAL_IN);
	assert_int_equal(p.rec.kind, JOURNAL_TEXT);
	assert_int_equal(p.rec.channel_len, 6);
	assert_memory_equal(p.rec.channel, "a b%\xc3\xa9", 6);
	assert_int_equal(p.rec.cursor_len, 7);
	assert_memory_equal(p.rec.cursor, "500:1:3", 7);
	assert_int_equal(p.rec.payload_len, 7);
	assert_memory_equal(p.rec.payload, "{\"x\":1}", 7);
	assert_true(p.stream_seq == 1 && p.stored_ns > 0);
	/* no headers: said, and the reader is past it */
	assert_int_equal(next(r, &p), JS_EHEADER);
	assert_true(p.stream_seq == 2);
	assert_int_equal(next(r, &p), 0);
	assert_string_equal(p.recorder, "rec-b");
	assert_true(p.rec.conn == 0 && p.rec.dir == JOURNAL_OUT && p.rec.kind == JOURNAL_BINARY);
	assert_true(p.rec.channel_len == 0 && p.rec.cursor_len == 0 && p.rec.payload_len == 0);
	assert_string_equal(p.msg_id, "rec-b.00112233445566aa.7"); /* none given: per recorder */
	assert_int_equal(next(r, &p), 0);
	assert_true(p.rec.recno == 2 && p.stream_seq == 4);
	assert_int_equal(next(r, &p), JS_EOF);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);

	/* a filter: the last message of the stream is not in it, NumPending ends the read */
	r = reader("RB", "wstape.rb.a_b", 0, 0, 0);
	assert_int_equal(next(r, &p), 0);
	assert_true(p.stream_seq == 1);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
	/* a filter nothing matches */
	r = reader("RB", "wstape.rb.none", 0, 0, 0);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
	/* from a sequence */
	r = reader("RB", NULL, 0, 3, 0);
	assert_int_equal(next(r, &p), 0);
	assert_true(p.stream_seq == 3);
	assert_int_equal(next(r, &p), 0);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
	r = reader("RB", NULL, 0, 99, 0);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
}

static void
test_js__read_from_time_and_follow(void **state)
{
	struct js_pulled p;
	struct hdrs h = good("r1", "1", "10");
	(void)state;

	make_stream("RF", "wstape.rf.>");
	pub("wstape.rf.c", &h, "first");
	/* the server stores by its clock, the same as this one: what is published after t is
	 * stored at t or later */
	int64_t t = clock_wall_ns();
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL); /* a clock tick apart, not a wait for anything */
	h = good("r1", "2", "20");
	uint64_t s2 = pub("wstape.rf.c", &h, "second");
	struct js_reader *r = reader("RF", NULL, t, 0, 0);
	assert_int_equal(next(r, &p), 0);
	assert_true(p.stream_seq == s2 && p.rec.recno == 2);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
	/* from after the last: nothing */
	r = reader("RF", NULL, clock_wall_ns() + 3600LL * 1000000000, 0, 0);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);

	/* follow: what is there, then nothing yet, then what comes */
	r = reader("RF", "wstape.rf.c", 0, 0, 1);
	assert_int_equal(next(r, &p), 0);
	assert_int_equal(next(r, &p), 0);
	char d[128];
	assert_int_equal(js_reader_next(r, &p, 50, d, sizeof d), JS_ETIMEOUT);
	h = good("r1", "3", "30");
	uint64_t s3 = pub("wstape.rf.c", &h, "third");
	assert_int_equal(next(r, &p), 0);
	assert_true(p.stream_seq == s3 && p.rec.recno == 3);
	assert_memory_equal(p.rec.payload, "third", 5);
	js_reader_close(r);
}

static void
test_js__read_bad_headers(void **state)
{
	struct js_pulled p;
	char longch[400], longcur[1200], longid[200];
	(void)state;

	memset(longch, 'c', 300);
	longch[300] = '\0';
	memset(longcur, 'k', 1100);
	longcur[1100] = '\0';
	memset(longid, 'i', 199);
	longid[199] = '\0';
	make_stream("BAD", "wstape.bad.>");
	struct {
		size_t off; /* which field of struct hdrs */
		const char *v;
	} cases[] = {
		{ offsetof(struct hdrs, recorder), "bad id!" },
		{ offsetof(struct hdrs, recorder), "" },
		{ offsetof(struct hdrs, journal), "xyz" },
		{ offsetof(struct hdrs, journal), "00112233445566aaX" },
		{ offsetof(struct hdrs, recno), "0" },
		{ offsetof(struct hdrs, recno), "-1" },
		{ offsetof(struct hdrs, recno), "18446744073709551616" },
		{ offsetof(struct hdrs, recno), "1e3" },
		{ offsetof(struct hdrs, wall), "12a" },
		{ offsetof(struct hdrs, wall), "9223372036854775808" },
		{ offsetof(struct hdrs, mono), "+5" },
		{ offsetof(struct hdrs, conn), "4294967296" },
		{ offsetof(struct hdrs, conn), "0x1" },
		{ offsetof(struct hdrs, dir), "sideways" },
		{ offsetof(struct hdrs, kind), "nope" },
		{ offsetof(struct hdrs, kind), "" },
		{ offsetof(struct hdrs, channel), "%zz" },
		{ offsetof(struct hdrs, channel), "abc%4" },
		{ offsetof(struct hdrs, channel), longch },
		{ offsetof(struct hdrs, cursor), longcur },
		{ offsetof(struct hdrs, feed),
		  "a-feed-name-that-is-far-too-long-for-the-room-there-is-in-the-struct" },
		{ offsetof(struct hdrs, msg_id), longid },
		{ offsetof(struct hdrs, recorder), NULL },
		{ offsetof(struct hdrs, wall), NULL },
	};
	size_t n = sizeof cases / sizeof cases[0];
	for (size_t i = 0; i < n; i++) {
		struct hdrs h = good("ok", "1", "1");
		*(const char **)((char *)&h + cases[i].off) = cases[i].v;
		pub("wstape.bad.x", &h, "payload");
	}
	/* a header twice */
	{
		natsMsg *m = NULL;
		jsPubAck *ack = NULL;
		struct hdrs h = good("ok", "1", "1");
		assert_int_equal(natsMsg_Create(&m, "wstape.bad.x", NULL, "p", 1), NATS_OK);
		natsMsgHeader_Add(m, JS_HDR_RECORDER, h.recorder);
		natsMsgHeader_Add(m, JS_HDR_JOURNAL, h.journal);
		natsMsgHeader_Add(m, JS_HDR_RECNO, "1");
		natsMsgHeader_Add(m, JS_HDR_RECNO, "2");
		natsMsgHeader_Add(m, JS_HDR_WALL, "1");
		natsMsgHeader_Add(m, JS_HDR_CONN, "1");
		natsMsgHeader_Add(m, JS_HDR_DIR, "in");
		natsMsgHeader_Add(m, JS_HDR_KIND, "text");
		assert_int_equal(js_PublishMsg(&ack, js, m, NULL, NULL), NATS_OK);
		jsPubAck_Destroy(ack);
		natsMsg_Destroy(m);
	}
	struct hdrs h = good("ok", "9", "-5"); /* a negative wall time is a number */
	h.channel = "%41%42";
	pub("wstape.bad.x", &h, "fine");

	struct js_reader *r = reader("BAD", NULL, 0, 0, 0);
	for (size_t i = 0; i < n + 1; i++) {
		int rc = next(r, &p);
		if (rc != JS_EHEADER)
			fprintf(stderr, "case %zu: %d\n", i, rc);
		assert_int_equal(rc, JS_EHEADER);
		assert_true(p.stream_seq == i + 1);
	}
	assert_int_equal(next(r, &p), 0);
	assert_true(p.rec.recno == 9 && p.rec.wall_ns == -5 && p.rec.channel_len == 2);
	assert_memory_equal(p.rec.channel, "AB", 2);
	assert_int_equal(next(r, &p), JS_EOF);
	js_reader_close(r);
}

/* ---- the merge ---- */

static uint64_t mseq;

static struct js_pulled
rec(const char *recorder, const char *jid, uint32_t conn, uint64_t recno, int64_t wall, const char *payload)
{
	struct js_pulled p;
	memset(&p, 0, sizeof p);
	snprintf(p.recorder, sizeof p.recorder, "%s", recorder);
	snprintf(p.journal_id, sizeof p.journal_id, "%s", jid);
	snprintf(p.msg_id, sizeof p.msg_id, "%s.%s.%llu", recorder, jid, (unsigned long long)recno);
	snprintf(p.feed, sizeof p.feed, "hydromancer");
	p.stream_seq = ++mseq;
	p.rec.recno = recno;
	p.rec.wall_ns = wall;
	p.rec.mono_ns = wall;
	p.rec.conn = conn;
	p.rec.dir = JOURNAL_IN;
	p.rec.kind = JOURNAL_TEXT;
	p.rec.payload = (const uint8_t *)payload;
	p.rec.payload_len = strlen(payload);
	p.rec.channel = "allFills";
	p.rec.channel_len = 8;
	return p;
}

#define FILL(t, tid) "[\"0x1\",{\"time\":" #t ",\"txIndex\":0,\"tid\":" #tid "}]"
#define LIVE(seq, ev) "{\"type\":\"allFills\",\"seq\":" #seq ",\"fills\":[" ev "]}"
#define CHUNK(ev) \
	"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"data\":[" ev "]}"

struct got {
	int n;
	int64_t wall[32];
	uint32_t conn[32];
	char payload[32][200];
};

static void
read_journal(const char *path, struct got *g)
{
	struct journal *j;
	struct journal_reader *r;
	struct journal_record x;
	memset(g, 0, sizeof *g);
	assert_int_equal(journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_reader_open(j, &r), 0);
	while (journal_reader_next(r, &x) == 0 && g->n < 32) {
		g->wall[g->n] = x.wall_ns;
		g->conn[g->n] = x.conn;
		snprintf(g->payload[g->n], sizeof g->payload[0], "%.*s", (int)x.payload_len, x.payload);
		g->n++;
	}
	journal_reader_close(r);
	journal_close(j);
}

static struct js_merge *
merge_open(struct journal *j, int follow)
{
	struct js_merge_options o = { .j = j,
				      .feed = feed_find("hydromancer"),
				      .stream = "M",
				      .follow = follow,
				      .spill_dir = tmproot,
				      .reorder_ns = 1000 };
	struct js_merge *m;
	char d[256];
	assert_int_equal(js_merge_open(&o, &m, d, sizeof d), 0);
	return m;
}

static void
test_js__merge_recorders(void **state)
{
	char path[300];
	struct journal *j;
	struct js_merge_stats st;
	struct got g;
	(void)state;

	snprintf(path, sizeof path, "%s/merged", tmproot);
	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	struct js_merge *m = merge_open(j, 0);
	/* stream order is not receive order: a publishes late (an outage), b on time */
	struct js_pulled p[] = {
		rec("b", "bbbbbbbbbbbbbbbb", 1, 1, 100, LIVE(1, FILL(1, 1))),
		rec("b", "bbbbbbbbbbbbbbbb", 1, 2, 300, LIVE(2, FILL(3, 3))),
		rec("b", "bbbbbbbbbbbbbbbb", 1, 3, 400, LIVE(3, FILL(4, 4))),
		rec("a", "aaaaaaaaaaaaaaaa", 1, 1, 90, LIVE(1, FILL(1, 1))),
		rec("a", "aaaaaaaaaaaaaaaa", 2, 2, 500, CHUNK(FILL(3, 3) "," FILL(4, 4))), /* redundant */
		rec("a", "aaaaaaaaaaaaaaaa", 2, 3, 600, CHUNK(FILL(4, 4) "," FILL(5, 5))), /* partly new */
		rec("b", "bbbbbbbbbbbbbbbb", 1, 3, 400, LIVE(3, FILL(4, 4))), /* sent again: dup id */
		rec("a", "aaaaaaaaaaaaaaaa", 2, 4, 400, LIVE(9, FILL(6, 6))), /* a tie at 400 */
	};
	/* a's first live message and b's: the same event, other ids (per recorder here): both kept
	 * (the stream's own Msg-Id dedup is the publisher's: feed ids) */
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
		assert_int_equal(js_merge_add(m, &p[i]), 0);
	js_merge_skip(m, ++mseq);
	assert_int_equal(js_merge_finish(m), 0);
	js_merge_stats(m, &st);
	assert_true(st.messages == 8 && st.skipped == 1);
	assert_true(st.duplicates == 1);
	assert_true(st.redundant == 1);
	assert_true(st.records == 6);
	assert_true(st.recorders == 2 && st.connections == 3);
	assert_true(st.pulled_seq == mseq);
	js_merge_close(m);
	char key[32];
	snprintf(key, sizeof key, "%llu", (unsigned long long)mseq);
	assert_string_equal(journal_meta_get(j, "pulled_seq.M"), key);
	/* conns in receive order: a's 1 -> 1, b's 1 -> 2, a's 2 -> 3 */
	assert_string_equal(journal_meta_get(j, "recorder.1"), "a");
	assert_string_equal(journal_meta_get(j, "recorder.2"), "b");
	assert_string_equal(journal_meta_get(j, "recorder.3"), "a");
	assert_string_equal(journal_meta_get(j, "pulled_conn.3"), "a aaaaaaaaaaaaaaaa 2");
	assert_int_equal(journal_close(j), 0);

	read_journal(path, &g);
	assert_int_equal(g.n, 6);
	int64_t walls[] = { 90, 100, 300, 400, 400, 600 };
	uint32_t conns[] = { 1, 2, 2, 2, 3, 3 };
	for (int i = 0; i < 6; i++) {
		assert_true(g.wall[i] == walls[i]);
		assert_int_equal(g.conn[i], conns[i]);
	}
	/* the tie at 400: stream order (b's seq 3 before a's seq 8) */
	assert_string_equal(g.payload[3], LIVE(3, FILL(4, 4)));
	assert_string_equal(g.payload[4], LIVE(9, FILL(6, 6)));
	/* the partly new chunk whole */
	assert_string_equal(g.payload[5], CHUNK(FILL(4, 4) "," FILL(5, 5)));

	/* a second merge goes on: a's connection 2 is J's 3 again, a new journal of a is new */
	assert_int_equal(journal_open(path, JOURNAL_APPEND, NULL, &j, NULL), 0);
	m = merge_open(j, 0);
	js_merge_stats(m, &st);
	assert_true(st.pulled_seq == mseq);
	struct js_pulled q[] = {
		rec("a", "aaaaaaaaaaaaaaaa", 2, 5, 700, LIVE(10, FILL(7, 7))),
		rec("a", "cccccccccccccccc", 2, 1, 800, LIVE(11, FILL(8, 8))),
	};
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(js_merge_add(m, &q[i]), 0);
	assert_int_equal(js_merge_finish(m), 0);
	js_merge_stats(m, &st);
	assert_true(st.records == 2 && st.connections == 1);
	js_merge_close(m);
	assert_string_equal(journal_meta_get(j, "pulled_conn.4"), "a cccccccccccccccc 2");
	assert_int_equal(journal_close(j), 0);
	read_journal(path, &g);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.conn[6], 3);
	assert_int_equal(g.conn[7], 4);
}

static void
test_js__merge_follow_window(void **state)
{
	char path[300];
	struct journal *j;
	struct js_merge_stats st;
	struct got g;
	(void)state;

	snprintf(path, sizeof path, "%s/followed", tmproot);
	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	struct js_merge *m = merge_open(j, 1); /* window 1000 ns */
	struct js_pulled a = rec("a", "aaaaaaaaaaaaaaaa", 1, 1, 5000, LIVE(1, FILL(1, 1)));
	struct js_pulled b = rec("b", "bbbbbbbbbbbbbbbb", 1, 1, 4500, LIVE(1, FILL(2, 2)));
	struct js_pulled c = rec("a", "aaaaaaaaaaaaaaaa", 1, 2, 7000, LIVE(2, FILL(3, 3)));
	assert_int_equal(js_merge_add(m, &a), 0);
	assert_int_equal(js_merge_add(m, &b), 0);
	/* newest 5000: nothing older than 4000 */
	assert_int_equal(js_merge_flush(m, 0), 0);
	js_merge_stats(m, &st);
	assert_true(st.records == 0);
	assert_int_equal(js_merge_add(m, &c), 0);
	/* newest 7000: 4500 and 5000 go, in receive order */
	assert_int_equal(js_merge_flush(m, 0), 0);
	js_merge_stats(m, &st);
	assert_true(st.records == 2);
	/* a duplicate of a, later in the stream: dropped */
	struct js_pulled a2 = a;
	a2.stream_seq = ++mseq;
	assert_int_equal(js_merge_add(m, &a2), 0);
	assert_int_equal(js_merge_finish(m), 0);
	js_merge_stats(m, &st);
	assert_true(st.records == 3 && st.duplicates == 1);
	js_merge_close(m);
	assert_int_equal(journal_close(j), 0);
	read_journal(path, &g);
	assert_int_equal(g.n, 3);
	assert_true(g.wall[0] == 4500 && g.wall[1] == 5000 && g.wall[2] == 7000);
}

/* the set of seen keys against a plain list: puts, puts again, expiry by age in any order of
 * slots (backward-shift deletion), growth; key 0 is a key too */
static void
test_js__seen_set(void **state)
{
	enum { N = 50000, W = 1000 };
	static int64_t last[N]; /* the wall of a key's last put, -1 none */
	struct js_seen s = { .window_ns = W };
	uint64_t x = 88172645463325252ULL;
	uint32_t v;
	(void)state;

	for (int i = 0; i < N; i++)
		last[i] = -1;
	for (int64_t t = 0; t < 20 * N; t++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int k = (int)(x % N);
		assert_int_equal(js_seen_put(&s, (uint64_t)k * 0x10001ULL, (uint32_t)k, t), 0);
		last[k] = t;
		js_seen_expire(&s, t);
		if (t % 997 == 0) {
			for (int i = 0; i < N; i++) {
				int want = last[i] >= 0 && last[i] >= t - W;
				int has = js_seen_get(&s, (uint64_t)i * 0x10001ULL, &v);
				assert_int_equal(has, want);
				if (has)
					assert_int_equal(v, (uint32_t)i);
			}
			assert_true(s.count <= W + 1);
		}
	}
	js_seen_free(&s);
	/* no window: nothing is forgotten */
	struct js_seen all = { 0 };
	for (uint64_t k = 0; k < 3000; k++)
		assert_int_equal(js_seen_put(&all, k, 7, 0), 0);
	js_seen_expire(&all, INT64_MAX);
	for (uint64_t k = 0; k < 3000; k++)
		assert_true(js_seen_get(&all, k, NULL));
	js_seen_free(&all);
}

int
main(void)
{
	snprintf(tmproot, sizeof(tmproot), "%s/wstape-js-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmproot))
		return 1;
	if (start_server()) {
		fprintf(stderr, "nats-server did not start (see %s/nats.log)\n", tmproot);
		stop_server();
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_js__stream_create_info),
		cmocka_unit_test(test_js__read_bounded),
		cmocka_unit_test(test_js__read_from_time_and_follow),
		cmocka_unit_test(test_js__read_bad_headers),
		cmocka_unit_test(test_js__merge_recorders),
		cmocka_unit_test(test_js__merge_follow_window),
		cmocka_unit_test(test_js__seen_set),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	stop_server();
	js_library_close();
	if (!failed) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
		if (system(cmd) != 0)
			return 1;
	}
	return failed ? 1 : 0;
}
