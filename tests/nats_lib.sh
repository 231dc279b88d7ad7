# nats_lib.sh - real nats-server processes for the JetStream tests; source it after lib.sh.
# Gives: nats_start X (one JetStream server named X: sets NATS_URL_X, NATS_PORT_X,
# NATS_MON_X; its store $T/nats-X, its log $T/nats-X.log), nats_cluster X (three nodes
# X1 X2 X3 routed to each other, one cluster name: sets NATS_URLS_X, the comma-separated URL
# list, and waits for a meta leader), nats_kill N (kill -9 node N, X or X1...), nats_restart N
# (the same ports and store), nats_wait_js N (JetStream ready on N), nats_wait_meta X,
# nats_urls X (echoes the URL list), JS_PEER (node tests/peers/js_stream.mjs), journal_meta,
# js_dump, js_msgs and js_check_journal (a journal against a stream: peers/js_check.py).
# Every server is stopped (kill -9) by lib.sh's cleanup.
NATS_SERVER=${NATS_SERVER:-nats-server}
command -v "$NATS_SERVER" >/dev/null || fail "nats-server is not installed (apt-get install nats-server)"
# (a function, so that a test that never runs the peer does not need the npm package)
js_peer() {
	[ -f "$WSTAPE_TESTS_DIR/node_modules/nats/package.json" ] ||
		fail "the npm package nats is not in tests/node_modules (make node-deps)"
	node "$WSTAPE_TESTS_DIR/peers/js_stream.mjs" "$@"
}
JS_PEER=(js_peer)
declare -A NATS_ARGS NATS_PID

# nats_spawn N ARGS...: starts node N with ARGS (remembered for nats_restart)
nats_spawn() {
	local n=$1; shift
	NATS_ARGS[$n]="$*"
	mkdir -p "$T/nats-$n"
	# shellcheck disable=SC2086
	"$NATS_SERVER" $* >>"$T/nats-$n.log" 2>&1 &
	NATS_PID[$n]=$!
	BG_PIDS+=($!)
}
nats_js_ready() { curl -fsS "http://127.0.0.1:$1/healthz?js-enabled-only=true" >/dev/null 2>&1; }
nats_wait_js() {
	local mon_var=NATS_MON_$1
	wait_for 60 "JetStream ready on nats-server $1" nats_js_ready "${!mon_var}"
}
nats_start() {
	local n=$1 port mon
	port=$(free_port); mon=$(free_port)
	printf -v "NATS_PORT_$n" %s "$port"
	printf -v "NATS_MON_$n" %s "$mon"
	printf -v "NATS_URL_$n" %s "nats://127.0.0.1:$port"
	nats_spawn "$n" -a 127.0.0.1 -p "$port" -m "$mon" -n "$n" -js -sd "$T/nats-$n"
	nats_wait_js "$n"
}
# a meta leader, as node N's monitoring port says
nats_has_meta() {
	curl -fsS "http://127.0.0.1:$1/jsz" 2>/dev/null | jq -e '.meta_cluster.leader // "" | length > 0' >/dev/null 2>&1
}
nats_wait_meta() {
	local n=$1 mon_var i
	for i in 1 2 3; do
		mon_var=NATS_MON_$n$i
		nats_has_meta "${!mon_var}" || { wait_for 90 "a JetStream meta leader on $n$i" nats_has_meta "${!mon_var}"; }
	done
}
nats_cluster() {
	local x=$1 i port mon cport routes="" urls=""
	declare -A cp
	for i in 1 2 3; do
		port=$(free_port); mon=$(free_port); cp[$i]=$(free_port)
		printf -v "NATS_PORT_$x$i" %s "$port"
		printf -v "NATS_MON_$x$i" %s "$mon"
		printf -v "NATS_URL_$x$i" %s "nats://127.0.0.1:$port"
		urls+="${urls:+,}nats://127.0.0.1:$port"
	done
	for i in 1 2 3; do routes+="${routes:+,}nats://127.0.0.1:${cp[$i]}"; done
	for i in 1 2 3; do
		port=NATS_PORT_$x$i; mon=NATS_MON_$x$i
		nats_spawn "$x$i" -a 127.0.0.1 -p "${!port}" -m "${!mon}" -n "$x$i" -js -sd "$T/nats-$x$i" \
			--cluster_name "c-$x" --cluster "nats://127.0.0.1:${cp[$i]}" --routes "$routes"
	done
	printf -v "NATS_URLS_$x" %s "$urls"
	nats_wait_meta "$x"
}
nats_kill() {
	kill -9 "${NATS_PID[$1]}" 2>/dev/null
	wait "${NATS_PID[$1]}" 2>/dev/null
	return 0
}
nats_restart() {
	local port_var=NATS_PORT_$1
	wait_for 60 "port ${!port_var} free for nats-server $1" port_free "${!port_var}"
	# shellcheck disable=SC2086
	nats_spawn "$1" ${NATS_ARGS[$1]}
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# nats_urls X: echoes cluster X's URL list (NATS_URLS_X)
nats_urls() { local v=NATS_URLS_$1; echo "${!v}"; }
# journal_meta J KEY: the value of KEY in journal J's META (docs/FORMAT.md)
journal_meta() { sed -n "s/^$2=//p" "$1/META" | tail -n 1; }
# js_dump URLS STREAM FILE: every message of STREAM (js_stream.mjs dump) into FILE
js_dump() { "${JS_PEER[@]}" --servers "$1" dump "$2" >"$3" || fail "js_stream.mjs dump $2 at $1 failed"; }
# js_check_journal URLS STREAM J NAME RECORDER [js_check.py OPTIONS...]: STREAM holds journal
# J's records, each once, as messages of subject name NAME from RECORDER (peers/js_check.py)
js_check_journal() {
	local u=$1 s=$2 j=$3 name=$4 rec=$5 jid; shift 5
	jid=$(journal_meta "$j" journal_id)
	[[ $jid =~ ^[0-9a-f]{16}$ ]] || fail "$(basename "$j")'s META journal_id is '$jid', not 16 hex digits"
	"$WSTAPE" cat "$j" >"$T/check.cat.jsonl" || fail "wstape cat $j failed"
	js_dump "$u" "$s" "$T/check.dump.jsonl"
	$PY "$WSTAPE_TESTS_DIR/peers/js_check.py" "$T/check.cat.jsonl" "$T/check.dump.jsonl" \
		--name "$name" --recorder "$rec" --journal-id "$jid" "$@"
}
# js_msgs URLS STREAM: the stream's message count (js_stream.mjs info); empty on an error
js_msgs() { "${JS_PEER[@]}" --servers "$1" info "$2" 2>/dev/null | jq -r '.state.messages'; }
# js_marked J STREAM N: journal J's mark for STREAM (J/MARK.nats.STREAM, docs/FORMAT.md) is
# at least N: the stream acknowledged every record up to N
js_marked() { [ "$(cat "$1/MARK.nats.$2" 2>/dev/null || echo 0)" -ge "$3" ]; }
