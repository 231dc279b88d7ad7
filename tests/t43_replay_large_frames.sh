#!/usr/bin/env bash
# t43_replay_large_frames.sh - large frames among small ones: a python3-websockets server
# sends text, binary, fragmented, empty and 2 MiB messages (more than 16 MiB in all, over
# about 2 s); wstape records it, and the replay at --speed max, 1x and 10x reaches three
# clients (python3-websockets, Node ws, wstape record) with every payload byte-identical
# and in order, and the recording of the replay equal to the journal; with --deflate too.
# A client that stops reading for a while gets everything within --max-buffer; one that
# never reads is let go at --max-buffer.
. "$(dirname "$0")/replay_lib.sh"
# the original server (a seeded order of the messages; it writes what it sent), the clients
# (python3-websockets, Node ws) and the listing of a journal, each "kind sha256 length" per
# message, then "close CODE": peers/large_frames.py, peers/large_frames_client.mjs
LF="$PY $PEERS/large_frames.py"

# "kind sha256 length" of every data frame the server sent in a journal
journal_list() { $WSTAPE cat "$1" --direction in | $LF list; }
# the data frames of a journal as wstape cat shows them: kind and payload
data_frames() {
	$WSTAPE cat "$1" --direction in | jq -c 'select(.kind == "text" or .kind == "binary") | [.kind, .payload, .payload_b64]'
}

start_replay() { # name args...: a --once replay of the journal, its stderr in $T/replay.NAME.log
	local name=$1; shift
	replay_start port "$T/replay.$name.log" "$T/j" --once "$@"
	LOG=$T/replay.$name.log
}
same() { # what a client got, against what was sent
	cmp -s "$1" "$T/want" || fail "$2: $(diff "$1" "$T/want" | head -4) ($(grep -vc close "$1") of $N messages)"
}

# record the original server
port=$(free_port)
bg $LF serve $port "$T/sent"
wait_port $port
N=$(wc -l < "$T/sent")
bytes=$(awk '{ s += $3 } END { print s }' "$T/sent")
[ "$bytes" -gt $((16 << 20)) ] || fail "only $bytes bytes to send"
$WSTAPE record ws://127.0.0.1:$port/ -o "$T/j" --max-records $((N + 1)) --duration 300s --retries 2 --quiet ||
	fail "recording the original server"
journal_list "$T/j" > "$T/journal.list"
cmp -s "$T/journal.list" "$T/sent" || fail "the recording differs from what was sent: $(diff "$T/journal.list" "$T/sent" | head -4)"
{ cat "$T/sent"; echo "close 1000"; } > "$T/want"
data_frames "$T/j" > "$T/j.frames"

for sp in max 1 10; do
	start_replay py-$sp --speed $sp
	$LF client ws://127.0.0.1:$port/ "$T/py.$sp" || fail "python client at $sp"
	replay_done
	same "$T/py.$sp" "python3-websockets client at --speed $sp"

	start_replay node-$sp --speed $sp
	node "$PEERS/large_frames_client.mjs" ws://127.0.0.1:$port/ "$T/node.$sp" || fail "node client at $sp"
	replay_done
	same "$T/node.$sp" "Node ws client at --speed $sp"

	start_replay record-$sp --speed $sp
	$WSTAPE record ws://127.0.0.1:$port/ -o "$T/r.$sp" --max-records $((N + 1)) --duration 300s --retries 2 --quiet 2>/dev/null
	replay_done
	data_frames "$T/r.$sp" > "$T/r.$sp.frames"
	cmp -s "$T/r.$sp.frames" "$T/j.frames" ||
		fail "wstape record of the replay at --speed $sp differs from the journal ($(wc -l < "$T/r.$sp.frames") of $N frames)"
	grep -q "left after .*: $N frames, $bytes bytes" "$LOG" ||
		fail "the replay's count at --speed $sp: $(grep 'left after' "$LOG")"
done

# --deflate: lws frames and compresses, a 2 MiB frame included
start_replay py-deflate --speed max --deflate
$LF client ws://127.0.0.1:$port/ "$T/py.deflate" 0 deflate || fail "python client with --deflate"
replay_done
same "$T/py.deflate" "python3-websockets client with permessage-deflate"
start_replay record-deflate --speed 10 --deflate
$WSTAPE record ws://127.0.0.1:$port/ -o "$T/r.deflate" --max-records $((N + 1)) --duration 300s --retries 2 --quiet 2>/dev/null
replay_done
data_frames "$T/r.deflate" > "$T/r.deflate.frames"
cmp -s "$T/r.deflate.frames" "$T/j.frames" || fail "wstape record of the --deflate replay differs from the journal"

# a client that does not read for 1.5 s (the 2 s recording at 10x is due meanwhile), then
# reads: the frames wait for it, within --max-buffer (64 MiB)
start_replay py-slow --speed 10
$LF client ws://127.0.0.1:$port/ "$T/py.slow" 1.5 || fail "slow client"
replay_done
same "$T/py.slow" "a client that paused reading"
! grep -q "max-buffer" "$LOG" || fail "the paused client was let go: $(grep max-buffer "$LOG")"

# a client that never reads, with a small receive buffer: let go at --max-buffer 4m
start_replay never --speed 10 --max-buffer 4m
# (it reads nothing for 1 s, then until the connection is closed, within 30 s)
$PY "$PEERS/stalled_reader.py" $port 1 30 $((16 << 20)) || fail "the client that does not read was not let go"
replay_done
grep -q "does not read: .* above --max-buffer 4194304: disconnecting" "$LOG" ||
	fail "no --max-buffer line: $(tail -3 "$LOG")"
echo "ok: $N messages, $bytes bytes"
