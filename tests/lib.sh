# lib.sh - helpers for the command-line tests; source it first.
# Gives: $WSTAPE, $PY (Debian's python3), a private $T directory removed at exit,
# fail MSG, expect_exit CODE CMD..., free_port, wait_port PORT, wait_for SECONDS WHAT CMD...
# (until CMD succeeds, else fail naming WHAT), wait_log SECONDS FILE REGEX, journal_records
# JOURNAL [CHANNEL], wait_records SECONDS JOURNAL N [CHANNEL], journal_jq JOURNAL
# [JQ OPTIONS] FILTER (jq -e -s on `wstape cat`, for wait_for), record_until JOURNAL FILTER
# URL [OPTIONS...], each_engine, client_first PORT CLIENT...
# -- SERVER..., and cleanup of background processes started with bg CMD....
# Tests wait on events (a port, a log line, a journal record), never on a fixed sleep: the
# deadlines are generous, for a loaded machine (tests/under_load.sh), and cost nothing when
# the event comes early.
set -u
: "${WSTAPE:?run through make test}"
PY=${PY:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/wstape-t.XXXXXX")
BG_PIDS=()
cleanup() {
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# KEEP_FAILED=DIR: a failing test's $T is copied to DIR/<script>.<pid> for a post-mortem
fail() {
	echo "FAIL: $*" >&2
	if [ -n "${KEEP_FAILED:-}" ]; then
		mkdir -p "$KEEP_FAILED" && cp -a "$T" "$KEEP_FAILED/$(basename "$0" .sh).$$" 2>/dev/null
		echo "kept: $KEEP_FAILED/$(basename "$0" .sh).$$" >&2
	fi
	exit 1
}
expect_exit() {
	local want=$1; shift
	"$@"; local got=$?
	[ "$got" = "$want" ] || fail "expected exit $want, got $got: $*"
}
bg() { "$@" & BG_PIDS+=($!); }
# as_unprivileged DIR: sets AS_USER to the prefix that runs a command as a user whom file
# modes stop (root reads a file of mode 000: as root, uid 65534 through setpriv, with DIR
# given to it); empty when not root
as_unprivileged() {
	AS_USER=()
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv > /dev/null || fail "setpriv (util-linux) is needed to check a mode-000 file as root"
		chmod 755 "$T"; chown -R 65534:65534 "$1"
		AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# (bash's /dev/tcp: no interpreter started per attempt)
wait_port() {
	local end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on port $1 after 60s"
}
# (at least SECONDS of wall clock and at least SECONDS * 10 attempts, whichever is longer)
wait_for() {
	local secs=$1 what=$2 i=0 end=$((SECONDS + $1 + 1)); shift 2
	while [ $SECONDS -lt $end ] || [ $i -lt $((secs * 10)) ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "waited ${secs}s for $what"
}
wait_log() { wait_for "$1" "/$3/ in $(basename "$2")" grep -qE -- "$3" "$2"; }
# records in a journal (on one channel), as `wstape info --json` counts them, also while a
# writer appends; 0 while the journal cannot be read yet
journal_records() {
	local n
	n=$("$WSTAPE" info "$1" --json 2>/dev/null | jq -r --arg ch "${2:-}" \
		'if $ch == "" then .records else ([.channel_list[] | select(.name == $ch) | .records] | add // 0) end' 2>/dev/null)
	echo "${n:-0}"
}
records_at_least() { [ "$(journal_records "$1" "${3:-}")" -ge "$2" ]; }
wait_records() { wait_for "$1" "$3 records in $(basename "$2")${4:+ on $4}" records_at_least "$2" "$3" "${4:-}"; }
journal_jq() { local j=$1; shift; "$WSTAPE" cat "$j" 2>/dev/null | jq -e -s "$@" >/dev/null 2>&1; }
# record_until JOURNAL FILTER URL [OPTIONS...]: `wstape record URL -o JOURNAL OPTIONS...` until
# journal_jq JOURNAL FILTER holds, then SIGINT; returns record's exit code
record_until() {
	local j=$1 f=$2 pid rc; shift 2
	"$WSTAPE" record "$@" -o "$j" &
	pid=$!
	BG_PIDS+=($pid)
	wait_for 60 "$f in $(basename "$j")" journal_jq "$j" "$f"
	kill -INT $pid
	wait $pid; rc=$?
	return $rc
}
# each_engine: the calling script runs once per WebSocket engine of `wstape record`
# (WS_ENGINES, default "wstape lws"), each time with ENGINE=(--ws-engine E) to put on its
# record command lines; the first run's failure ends it
each_engine() {
	if [ -n "${WS_ENGINE:-}" ]; then
		ENGINE=(--ws-engine "$WS_ENGINE")
		return
	fi
	local e
	for e in ${WS_ENGINES:-wstape lws}; do
		echo "--- --ws-engine $e"
		WS_ENGINE=$e bash "$0" || fail "with --ws-engine $e"
	done
	exit 0
}
# client_first PORT CLIENT... -- SERVER...: a Python CLIENT that imports peers/ready.py
# starts first and says when it is ready, then the SERVER (in the background, as bg does), so
# that a timeline starting with the server does not run while the client is still starting;
# returns the client's exit code. SERVER may be a shell function (for redirections); its
# pid is $SERVER_PID.
client_first() {
	local port=$1 c=() cpid rc; shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do c+=("$1"); shift; done
	shift
	rm -f "$T/ready.$port"
	READY="$T/ready.$port" READY_PORT=$port PYTHONPATH="$WSTAPE_TESTS_DIR/peers" "${c[@]}" <&0 &
	cpid=$!
	BG_PIDS+=($cpid)
	wait_for 60 "the client of port $port to start" test -f "$T/ready.$port"
	bg "$@"
	SERVER_PID=$!
	wait $cpid; rc=$?
	return $rc
}
