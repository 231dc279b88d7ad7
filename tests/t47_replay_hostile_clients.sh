#!/usr/bin/env bash
# t47_replay_hostile_clients.sh - clients that try to make `wstape replay` grow without bound.
# A client that declares a 4 GiB frame and streams it, or sends a message in fragments that
# add up past the limit, is closed with 1009 after a few MiB, on every feed, and the server's
# RSS stays where it was; a message just under the limit is answered; --max-client-message
# moves the limit. Hundreds of clients that never read (raw sockets, one asyncio process)
# are let go by --max-buffer-total (the ones with the most due first) and --max-buffer,
# RSS stays under a stated bound, and a client that reads meanwhile gets every frame.
# The RSS bounds are not checked under ASan (its quarantine keeps freed memory).
. "$(dirname "$0")/replay_lib.sh"
ASAN=0
[[ ${BUILD:-} == *asan* ]] && ASAN=1

$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/hydromancer.jsonl" -o "$T/hydromancer" --feed hydromancer 2>/dev/null || fail "import hydromancer"
$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/lasersell.jsonl" -o "$T/lasersell" --feed lasersell 2>/dev/null || fail "import lasersell"
$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/raw.jsonl" -o "$T/raw" 2>/dev/null || fail "import raw"
# 20 s of 8 KB frames, 100 a second, each numbered; small blocks, so that the journal reader
# of each client holds little
$RECORDINGS paced > "$T/paced.jsonl"
$WSTAPE import "$T/paced.jsonl" -o "$T/paced" --block-size 64k 2>/dev/null || fail "import paced"

# peers/hostile_client.py PORT PID MODE ARGS: a raw-socket client (masking done right) that
# sends, as MODE says, one binary frame that declares 4 GiB and up to TOTAL bytes of it
# (big TOTAL), a text message in N fragments of SIZE bytes (frag N SIZE), or a Hydromancer
# subscribe padded to SIZE bytes (msg SIZE); it prints "sent N", "rss_growth KB" (the
# server's) and what came of it: "close CODE REASON", "eof", "reset", the answer "text ...",
# or "open" when nothing came within WAIT seconds (env, default 60)
# start_replay NAME JOURNAL ARGS...: in the background, log in $T/NAME.log; sets PORT, PID
start_replay() {
	local name=$1; shift
	replay_start PORT "$T/$name.log" "$@"
	PID=$REPLAY_PID
}
hostile() { $PY "$PEERS/hostile_client.py" $PORT $PID "$@" > "$T/out" 2>&1 || fail "hostile_client.py $*: $(cat "$T/out")"; }
field() { awk -v k="$1" '$1 == k { print $2 }' "$T/out"; }

# one 4 GiB frame, and a message whose fragments add up past 1 MiB, on every feed
for feed in raw hydromancer lasersell; do
	start_replay $feed "$T/$feed" --loop
	hostile big $((256 << 20))
	grep -q "^close 1009 message above 1048576 bytes" "$T/out" || fail "$feed: 4 GiB frame: no close 1009: $(cat "$T/out")"
	sent=$(field sent)
	[ "$sent" -lt $((64 << 20)) ] || fail "$feed: the server read $sent bytes of the 4 GiB frame before closing"
	growth=$(field rss_growth)
	[ $ASAN = 1 ] || [ "$growth" -lt $((64 << 10)) ] || fail "$feed: the server grew by $growth KB on a 4 GiB frame"
	grep -q "client 1 (127.0.0.1) sends a message of 4294967296 bytes or more, above --max-client-message 1048576: closing with 1009" \
		"$T/$feed.log" || fail "$feed: no log line naming the client: $(cat "$T/$feed.log")"
	hostile frag 40 30000
	grep -q "^close 1009 " "$T/out" || fail "$feed: 40 fragments of 30,000 bytes: no close 1009: $(cat "$T/out")"
	grep -q "client 2 (127.0.0.1) sends a message of 1050000 bytes or more" "$T/$feed.log" ||
		fail "$feed: fragments: no log line: $(cat "$T/$feed.log")"
	# a small fragmented message is taken
	WAIT=3 hostile frag 3 1000
	grep -q "^open" "$T/out" || fail "$feed: a small fragmented message: $(cat "$T/out")"
	kill $PID
	echo "ok: $feed: 4 GiB frame closed with 1009 after $sent bytes (RSS +$growth KB); fragments too"
done

# a message just under the limit is answered; --max-client-message moves the limit
start_replay hm "$T/hydromancer" --loop
hostile msg 900000
grep -q '^text {"type":"subscriptionUpdate","subscribed":\["allFills"\]' "$T/out" || fail "a 900 KB subscribe was not answered: $(cat "$T/out")"
hostile msg $((1 << 20))
grep -q '"subscribed":\["allFills"\]' "$T/out" || fail "a subscribe of exactly 1 MiB was not answered: $(cat "$T/out")"
hostile msg $(((1 << 20) + 1))
grep -q "^close 1009" "$T/out" || fail "a subscribe of 1 MiB + 1 was not refused: $(cat "$T/out")"
kill $PID
start_replay hm2 "$T/hydromancer" --loop --max-client-message 2m
hostile msg 1500000
grep -q '"subscribed":\["allFills"\]' "$T/out" || fail "--max-client-message 2m: a 1.5 MB subscribe was not answered: $(cat "$T/out")"
hostile frag 80 30000
grep -q "^close 1009 message above 2097152 bytes" "$T/out" || fail "--max-client-message 2m: 2.4 MB in fragments: $(cat "$T/out")"
kill $PID
start_replay hm3 "$T/hydromancer" --loop --max-client-message 100k
hostile msg 200000
grep -q "^close 1009 message above 102400 bytes" "$T/out" || fail "--max-client-message 100k: a 200 KB subscribe: $(cat "$T/out")"
kill $PID
expect_exit 2 $WSTAPE replay "$T/raw" --max-client-message 0 2>/dev/null
expect_exit 2 $WSTAPE replay "$T/raw" --max-buffer-total lots 2>/dev/null
echo "ok: 900 KB and 1 MiB messages answered, 1 MiB + 1 refused; --max-client-message 2m and 100k"

# peers/never_reading_clients.py PORT N SECONDS: N raw-socket clients that take the
# handshake's answer and then never read; waits until the server has reset them all or
# SECONDS pass, and prints "closed K of N";
# peers/numbered_reader.py PORT: reads every frame; asserts they are the 2,000 recorded, in
# order, then close 1000 (a raw-socket reader that keeps up on a busy machine)
# rss_watch PID FILE: VmRSS of PID in KB, one line every 0.2 s, while it runs
rss_watch() {
	while kill -0 "$1" 2>/dev/null; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
		sleep 0.2
	done > "$2"
}
max_of() { sort -n "$1" | tail -1; }

# 300 clients that never read, --max-buffer 8m, --max-buffer-total 32m; one client reads.
# Bound: 32 MiB due in all, plus per client what is not counted in it: the write that lws
# holds while the client is let go (up to 256 KiB), its read-ahead frame, its journal block
# and lws's receive buffer (64 KiB each): 512 KiB per client, 150 MiB for 300.
N=300
start_replay many "$T/paced" --max-buffer 8m --max-buffer-total 32m
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$PID/status)
rss_watch $PID "$T/rss" & BG_PIDS+=($!)
$PY "$PEERS/numbered_reader.py" $PORT > "$T/reader.out" 2>&1 & reader=$!
$PY "$PEERS/never_reading_clients.py" $PORT $N 60 > "$T/never.out" 2>&1 || fail "never_reading_clients.py: $(cat "$T/never.out")"
wait $reader || fail "the client that reads did not get every frame: $(cat "$T/reader.out"; tail -3 "$T/many.log")"
kill $PID
grep -q "^closed $N of $N" "$T/never.out" || fail "clients that never read were not all let go: $(cat "$T/never.out")"
total=$(grep -c "above --max-buffer-total 33554432: disconnecting" "$T/many.log")
per=$(grep -c "does not read: .* above --max-buffer 8388608: disconnecting" "$T/many.log")
[ "$total" -ge 1 ] || fail "no client was let go by --max-buffer-total: $(head -3 "$T/many.log")"
[ $((total + per)) -eq $N ] || fail "$total + $per clients let go, not $N: $(grep -v 'left after' "$T/many.log" | tail -3)"
grep -q "has the most due and unsent, [0-9]* bytes, of [0-9]* in all above" "$T/many.log" || fail "the total's log line"
peak=$(max_of "$T/rss")
[ $ASAN = 1 ] || [ $((peak - rss0)) -lt $(((32 << 10) + N * 512)) ] ||
	fail "RSS grew by $((peak - rss0)) KB with $N clients that never read (bound $(((32 << 10) + N * 512)) KB)"
echo "ok: $N clients that never read let go ($total by --max-buffer-total, $per by --max-buffer), RSS +$((peak - rss0)) KB at most, the reader got every frame"

# --max-buffer alone: 40 clients that never read, --max-buffer 1m: each is let go by it
N=40
start_replay per "$T/paced" --max-buffer 1m --loop
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$PID/status)
rss_watch $PID "$T/rss2" & BG_PIDS+=($!)
$PY "$PEERS/never_reading_clients.py" $PORT $N 60 > "$T/never.out" 2>&1 || fail "never_reading_clients.py: $(cat "$T/never.out")"
grep -q "^closed $N of $N" "$T/never.out" || fail "--max-buffer 1m: clients that never read were not let go: $(cat "$T/never.out")"
wait_for 30 "the servers's log lines" test "$(grep -c 'does not read: .* above --max-buffer 1048576: disconnecting' "$T/per.log")" -eq $N
peak=$(max_of "$T/rss2")
kill $PID
[ $ASAN = 1 ] || [ $((peak - rss0)) -lt $((N * (1024 + 512))) ] ||
	fail "--max-buffer 1m: RSS grew by $((peak - rss0)) KB with $N clients (bound $((N * (1024 + 512))) KB)"
echo "ok: $N clients let go at --max-buffer 1m, RSS +$((peak - rss0)) KB at most"

# A client that does not read is let go by --max-buffer while a frame declaring 4 GiB follows
# in the same read: what it counted in the total leaves it once (the total does not wrap, which
# would let every later client go), and what it still sends is not heard. Its first
# subscribe, to an unknown type of 400,000 characters, is answered with that type (400 KB
# that its 4 KB receive buffer cannot take: lws holds the rest); once part of it has come, a
# second of 700,000 puts it above --max-buffer 1m, and the 4 GiB frame comes right after it.
# (peers/letgo_client.py)
start_replay letgo "$T/hydromancer" --loop --max-buffer 1m --max-buffer-total 4m
for i in 1 2 3; do
	$PY "$PEERS/letgo_client.py" $PORT > "$T/out" 2>&1 || fail "letgo_client.py: $(cat "$T/out")"
	hostile msg 1000
	grep -q '^text {"type":"subscriptionUpdate","subscribed":\["allFills"\]' "$T/out" ||
		fail "after a client let go with a 4 GiB frame, a new client was not served: $(cat "$T/out"; grep -v 'left after' "$T/letgo.log" | tail -4)"
done
kill $PID
grep -q "does not read its answers: .* above --max-buffer 1048576: disconnecting" "$T/letgo.log" ||
	fail "the client was not let go by --max-buffer: $(grep -v 'left after' "$T/letgo.log" | tail -4)"
! grep -q "above --max-buffer-total" "$T/letgo.log" || fail "the total was exceeded: $(grep 'max-buffer-total' "$T/letgo.log" | head -2)"
echo "ok: a client let go with a 4 GiB frame in the same read leaves the total as it was; new clients are served"
