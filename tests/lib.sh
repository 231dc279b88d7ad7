# lib.sh - helpers for the command-line tests; source it first.
# Gives: $WSTAPE, $PY (Debian's python3), a private $T directory removed at exit,
# fail MSG, expect_exit CODE CMD..., free_port, wait_port PORT, wait_for SECONDS WHAT CMD...
# (until CMD succeeds, else fail naming WHAT), and cleanup of background processes started
# with bg CMD....
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
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() {
	local want=$1; shift
	"$@"; local got=$?
	[ "$got" = "$want" ] || fail "expected exit $want, got $got: $*"
}
bg() { "$@" & BG_PIDS+=($!); }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 1 100); do
		$PY -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); s.connect(('127.0.0.1',$1))" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on port $1"
}
wait_for() {
	local secs=$1 what=$2 i; shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "waited ${secs}s for $what"
}
