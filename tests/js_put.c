/* js_put - publish test messages into a JetStream stream, each line of stdin one message:
 *     SUBJECT <TAB> Header: value|Header: value... <TAB> PAYLOAD
 * (no headers: an empty second field; a payload without tabs or newlines). Waits for each
 * acknowledgement; prints "N published" and exits 0, or says what failed and exits 1.
 * Usage: js_put nats://HOST:PORT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

int
main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsStatus s;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long count = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: js_put nats://HOST:PORT < lines\n");
		return 2;
	}
	if ((s = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK ||
	    (s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK) {
		fprintf(stderr, "js_put: %s: %s\n", argv[1], natsStatus_GetText(s));
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			fprintf(stderr, "js_put: line %ld: SUBJECT<TAB>HEADERS<TAB>PAYLOAD\n", count + 1);
			return 1;
		}
		*t1 = *t2 = '\0';
		natsMsg *m = NULL;
		jsPubAck *ack = NULL;
		jsErrCode jerr = 0;
		s = natsMsg_Create(&m, line, NULL, t2 + 1, (int)strlen(t2 + 1));
		for (char *save = NULL, *h = strtok_r(t1 + 1, "|", &save); s == NATS_OK && h;
		     h = strtok_r(NULL, "|", &save)) {
			char *c = strstr(h, ": ");
			if (!c)
				continue;
			*c = '\0';
			s = natsMsgHeader_Add(m, h, c + 2);
		}
		if (s == NATS_OK)
			s = js_PublishMsg(&ack, js, m, NULL, &jerr);
		natsMsg_Destroy(m);
		jsPubAck_Destroy(ack);
		if (s != NATS_OK) {
			fprintf(stderr, "js_put: line %ld: %s (%d) %s\n", count + 1, natsStatus_GetText(s),
				(int)jerr, nats_GetLastError(NULL));
			return 1;
		}
		count++;
	}
	printf("%ld published\n", count);
	free(line);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return 0;
}
