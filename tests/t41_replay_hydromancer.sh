#!/usr/bin/env bash
# t41_replay_hydromancer.sh - replay speaking the Hydromancer server side to a client written
# after the docs (python3-websockets): sessions, subscribe, seq per connection, resume with
# sessionId + cursor, chunked replay, live mode without loss or duplicates, hasGap, expiry,
# bad input.
. "$(dirname "$0")/replay_lib.sh"
CL="$PY $PEERS/replay_client.py"
HC="$PY $CHECKS/hydro_client.py"
HYDRO="$PY $PEERS/hydromancer_replay_clients.py"

# 4 s of allFills: 400 messages 10 ms apart, 20 fills each (pairs share a (time, txIndex):
# one transaction, several fills); and 10 s of them (hl) for the live client that drops twice
$RECORDINGS hydro 400 > "$T/h.jsonl"
$RECORDINGS hydro 1000 > "$T/hl.jsonl"
$WSTAPE import "$T/h.jsonl" -o "$T/h" --feed hydromancer 2>/dev/null || fail "import"
$WSTAPE import "$T/hl.jsonl" -o "$T/hl" --feed hydromancer 2>/dev/null || fail "import hl"
$WSTAPE info "$T/h" --json | expect_json - 'channels == 1' || fail "channel not classified"

# live mode's timeline starts with the server, and lasts 4 s: each live-mode client starts
# first (client_first), so that a slow start on a loaded machine does not make it join late
live_server() { # port log [options] (HJ: the journal, default h)
	local port=$1 log=$2; shift 2
	replay_serve "$log" "$T/${HJ:-h}" $port --mode live --token t "$@"
}

# live mode: one timeline; the client drops twice for 1.5 s, resumes with sessionId + cursor,
# buffers live messages until the replay completes and deduplicates: nothing lost, nothing twice
# (10 s of recording: a client that resumes after its end gets what it missed all the
# same; --grace and --cache 10m: a starved client on a busy machine may take over 30 s,
# the default grace, between two connections, and resume from further back than the
# default cache: an expired session is a new one, and an old cursor gets hasGap, by design)
port=$(free_port)
HJ=hl client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/live.json" 30,30 1.5 -- live_server $port "$T/replay1.log" \
	--grace 10m --cache 10m ||
	fail "hydro client (live)"
$HC events "$T/live.json" "$T/hl.jsonl" || fail "live mode lost or duplicated events"
$HC resumed "$T/live.json" 2 || fail "protocol in live mode"

# session mode at 4x: each client gets the recording from its start; resume as well
replay_start port "$T/replay2.log" "$T/h" --speed 4 --token t
$CL hydro ws://127.0.0.1:$port/ "$T/sess.json" 100 0.3 || fail "hydro client (session)"
$HC events "$T/sess.json" "$T/h.jsonl" || fail "session mode lost or duplicated events"
expect_json "$T/sess.json" 'events[0][1]["tid"] == 0' || fail "session mode did not start at the beginning"

# session mode at --speed max: a resume goes on where the server's timeline was, with the
# events after the client's cursor replayed; nothing starts over, nothing is lost
replay_start port "$T/replay6.log" "$T/h" --speed max --token t
$HYDRO resume-max $port "$T/h.jsonl" || fail "resume at --speed max"

# a second subscription does not cost the first one a seq number
replay_start port "$T/replay7.log" "$T/h" --speed 10 --token t
$HYDRO second-subscribe $port || fail "seq across a second subscribe"

# back too late for the cache: hasGap on the first chunk
port=$(free_port)
client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/gap.json" 20 1.5 -- live_server $port "$T/replay3.log" --cache 0.5s ||
	fail "hydro client (gap)"
$HC gap "$T/gap.json" || fail "no hasGap when the cursor is older than the cache"

# past the grace period: a new session ("connected"), no replay
port=$(free_port)
client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/exp.json" 20 1.2 -- live_server $port "$T/replay4.log" --grace 0.5s ||
	fail "hydro client (expired)"
$HC expired "$T/exp.json" || fail "expired session"

# --from-cursor: a bare cursor starts at the first record of any channel whose cursor is at
# or after it, CH=C at the first of channel CH (served as raw frames here, byte-exact)
for arg in 1100:1706123457789:1009 allFills=1100:1706123457789:1009 1099:1706123457790:0; do
	n_fc=$((${n_fc:-0} + 1))
	replay_start port "$T/replay11.$n_fc.log" "$T/h" --feed raw --from-cursor $arg --speed max --once
	$CL collect ws://127.0.0.1:$port/ "$T/fc.json" || fail "client of --from-cursor $arg"
	$PY "$CHECKS/replay_frames.py" field "$T/fc.json" seq 101 400 1000 || fail "--from-cursor $arg"
done
expect_exit 2 $WSTAPE replay "$T/h" --from-cursor 9999:1:1 --listen 127.0.0.1:$(free_port) 2> "$T/err"
grep -q "no server frames" "$T/err" || fail "--from-cursor past the end: $(cat "$T/err")"

# a resume with sessionId and no cursor replays from the server-tracked cursor (what was sent)
port=$(free_port)
client_first $port $HYDRO resume-tracked $port -- live_server $port "$T/replay10.log" || fail "resume from the server-tracked cursor"

# a resume while the old connection is still open (half-open, as far as the client knows)
# takes the session over: "reconnected" with the replay, and the old connection is closed
port=$(free_port)
client_first $port $HYDRO takeover $port -- live_server $port "$T/replay14.log" --log-level info ||
	fail "a resume takes the session over from an open connection"
grep -q "resumes session .*: closing client 1" "$T/replay14.log" || fail "takeover not logged: $(cat "$T/replay14.log")"

# the replay chunks of a resume count against --max-buffer: a short absence replays, a long
# one (6 s, about 1.6 MB of events, above 1 MiB) lets the client go with the reason logged
# (the 10 s recording, and a limit of almost 4 s of its events: a starved client that reads
# the live stream late resumes from further back than it was away)
port=$(free_port)
HJ=hl client_first $port $HYDRO resume-over-buffer $port -- live_server $port "$T/replay15.log" --max-buffer 1m ||
	fail "replay chunks and --max-buffer"
grep -q "its replay is above --max-buffer 1048576: disconnecting" "$T/replay15.log" || fail "no reason logged: $(cat "$T/replay15.log")"

# liveFormat is per connection: a recording made with liveFormat=chunked-v1 (the URL of its
# "open" event says so) is served to connections that ask for chunked-v1, each time; a
# reconnect that leaves it out gets an error and the session is still there for the next
# one; a recording in the default format refuses chunked-v1
$RECORDINGS chunked-v1 "$T/h.jsonl" > "$T/hc.jsonl"
$WSTAPE import "$T/hc.jsonl" -o "$T/hc" --feed hydromancer 2>/dev/null || fail "import hc"
replay_start port "$T/replay8.log" "$T/hc" --speed 4 --token t
replay_start port2 "$T/replay9.log" "$T/h" --speed 4 --token t
$HYDRO live-format $port $port2 || fail "liveFormat"
grep -q "liveFormat chunked-v1" "$T/replay8.log" || fail "the recording's liveFormat is not shown: $(cat "$T/replay8.log")"

# the pong timeout has its own clock: with --pong-timeout 1s (pings every 30 s, so none
# comes first) a client that never answers is closed, not before a second and long before
# the first ping, with the docs' "Connection timeout"; one that answers the pings (every
# 0.3 s on a second server, --pong-timeout 2s) stays through 15 of them (4.5 s)
replay_start port "$T/replay12.log" "$T/h" --token t --pong-timeout 1s
replay_start port2 "$T/replay13.log" "$T/h" --token t --pong-timeout 2s --ping-s 0.3 --loop
$HYDRO pong-timeout $port $port2 || fail "--pong-timeout"

# bad input: bad token, unknown subscription, malformed JSON (the connection stays); the
# token from a file (--token @FILE), so that it is not on the command line
printf 't\n' > "$T/token.txt"
replay_start port "$T/replay5.log" "$T/h" --token @"$T/token.txt" --speed 10
expect_exit 2 $WSTAPE replay "$T/h" --token env:NO_SUCH_TOKEN_VAR 2> "$T/tokerr"
grep -q "environment variable 'NO_SUCH_TOKEN_VAR' is not set" "$T/tokerr" || fail "--token env: unset: $(cat "$T/tokerr")"
$HYDRO bad-input $port || fail "bad input handling"
no_sanitizer_reports "$T"/replay*.log
echo "t41 ok"
