# replay_lib.sh - helpers for the replay tests (t4*); source it instead of lib.sh, whose
# helpers it brings. Gives, besides lib.sh's:
#   replay_start PORT_VAR LOG JOURNAL [OPTIONS...]   `wstape replay JOURNAL --listen
#       127.0.0.1:PORT OPTIONS...` in the background (cleaned up at exit, as bg does) on a
#       free port, stdout to /dev/null, stderr to LOG; waits until it listens (and fails at
#       once, with LOG, if it exits first); sets PORT_VAR to the port, REPLAY_PID to its pid
#   replay_serve LOG JOURNAL PORT [OPTIONS...]       the same replay in the foreground, in
#       place of the shell (exec): the SERVER of client_first, for a live timeline
#   replay_done [PID]    the --once replay (default $REPLAY_PID) exits by itself once its
#       client has left, with exit code 0
#   no_sanitizer_reports LOG...   no replay wrote an AddressSanitizer or UBSan report
#   $CHECKS, $PEERS, $RECORDINGS   tests/checks/, tests/peers/, tests/fixtures/recordings.py
#   expect_json FILE EXPRESSION   tests/checks/expect_json.py: EXPRESSION holds of FILE
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHECKS=$WSTAPE_TESTS_DIR/checks
PEERS=$WSTAPE_TESTS_DIR/peers
RECORDINGS="$PY $WSTAPE_TESTS_DIR/fixtures/recordings.py"
declare -A REPLAY_LOGS   # pid -> the LOG of replay_start
export PYTHONDONTWRITEBYTECODE=1   # (no __pycache__ of peers/ready.py in the tree)

# (a replay that exits, a bad option or a port taken, fails the wait at once)
replay_listening() { # pid port log
	if ! kill -0 "$1" 2>/dev/null; then
		wait "$1"
		fail "the replay for port $2 exited ($?) before it listened: $(tail -n 5 "$3")"
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null
}
replay_start() {
	# (local names that no caller's PORT_VAR is: printf -v would set the local one)
	local _rs_var=$1 _rs_log=$2 _rs_journal=$3 _rs_port; shift 3
	_rs_port=$(free_port)
	"$WSTAPE" replay "$_rs_journal" --listen "127.0.0.1:$_rs_port" "$@" > /dev/null 2> "$_rs_log" &
	REPLAY_PID=$!
	BG_PIDS+=($REPLAY_PID)
	REPLAY_LOGS[$REPLAY_PID]=$_rs_log
	printf -v "$_rs_var" %s "$_rs_port"
	wait_for 60 "the replay to listen on port $_rs_port" replay_listening $REPLAY_PID "$_rs_port" "$_rs_log"
}
replay_serve() {
	local log=$1 journal=$2 port=$3; shift 3
	exec "$WSTAPE" replay "$journal" --listen "127.0.0.1:$port" "$@" > /dev/null 2> "$log"
}
replay_done() {
	local _rd_pid=${1:-$REPLAY_PID} _rd_rc
	wait_for 60 "the replay $_rd_pid to exit" eval "! kill -0 $_rd_pid 2>/dev/null"
	wait "$_rd_pid"; _rd_rc=$?
	[ $_rd_rc = 0 ] || fail "replay exited $_rd_rc: $(tail -n 20 "${REPLAY_LOGS[$_rd_pid]:-/dev/null}")"
}
no_sanitizer_reports() {
	! grep -l "AddressSanitizer\|runtime error" "$@" ||
		fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$@" | head -20)"
}
expect_json() { $PY "$CHECKS/expect_json.py" "$@"; }
