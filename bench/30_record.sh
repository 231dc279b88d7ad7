#!/usr/bin/env bash
# 30_record.sh - ingest: wstape record against a local source that floods ~860-byte allFills
# frames as fast as the receiver takes them (wstape replay --speed max --loop), beside a
# python3-websockets client and a Node ws client writing JSON lines, in the same run.
# Messages/s, CPU µs per message (user + system of the receiving process), and RSS over the
# run. N (default 1000000) messages each; RECORD_LONG=10000000 for the 10M RSS check.
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
PY=/usr/bin/python3
N=${RECORD_LONG:-${N:-1000000}}
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-record.XXXXXX")
pids=()
trap 'kill ${pids[@]} 2>/dev/null; rm -rf "$D"' EXIT
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 100); do $PY -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.05; done; }

# the source: 200k distinct messages, looped
"$BUILD/bench/journal_bench" "$D" 200000 > /dev/null || { echo "cannot build the source journal"; exit 1; }
rm -f "$D/records.jsonl"

# run CMD...: starts a fresh source, runs CMD with the URL appended under bench/measure.py;
# prints "wall cpu rss_first rss_mid rss_last rss_max rc"
run() {
	local p=$(port)
	$WSTAPE replay "$D/j" --listen 127.0.0.1:$p --speed max --loop --feed raw > /dev/null 2>&1 & local src=$!
	pids+=($src)
	waitp $p
	$PY bench/measure.py "$@" ws://127.0.0.1:$p/
	kill $src 2>/dev/null; wait $src 2>/dev/null
}
rec() { $WSTAPE record "$1" -o "$D/rec" --max-records $N --quiet; }

read -r w c r1 r2 r3 rmax rc < <(run $WSTAPE record --max-records $N --quiet -o "$D/rec")
got=$($WSTAPE info "$D/rec" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["records"])')
rate_rec=$(echo "$got / $w" | bc -l)
printf 'wstape record   %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s -> %s KiB (max %s)  %d records, verify %s   target >= 250k msg/s, <= 4 us, flat RSS\n' \
	"$rate_rec" "$(echo "$c * 1000000 / $got" | bc -l)" $r1 $r2 $r3 $rmax $got "$($WSTAPE verify "$D/rec" > /dev/null && echo ok || echo FAILED)"
rm -rf "$D/rec"

NPY=$(( N < 300000 ? N : 300000 ))
read -r w c r1 r2 r3 rmax rc < <(run $PY bench/record_py.py "$D/py.jsonl" $NPY)
rate_py=$(echo "$NPY / $w" | bc -l)
printf 'python client   %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s KiB   (%d messages)\n' "$rate_py" "$(echo "$c * 1000000 / $NPY" | bc -l)" $r1 $r3 $NPY
rm -f "$D/py.jsonl"
read -r w c r1 r2 r3 rmax rc < <(run node bench/record_node.mjs "$D/node.jsonl" $N)
rate_nd=$(echo "$N / $w" | bc -l)
printf 'node ws client  %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s KiB   (%d messages)\n' "$rate_nd" "$(echo "$c * 1000000 / $N" | bc -l)" $r1 $r3 $N
printf 'ratios: wstape / python %.2fx (target >= 5x), wstape / node %.2fx (target >= 2x)\n' \
	"$(echo "$rate_rec / $rate_py" | bc -l)" "$(echo "$rate_rec / $rate_nd" | bc -l)"
# Is the source the bottleneck? The same source (one pass, not looped) read by a plain socket
# client that parses frames itself, and by a bare libwebsockets client that only counts: the
# second is the ceiling of any receiver built on libwebsockets 4.1, the recorder included.
alone() { # raw|lws -> "msgs secs"
	local p=$(port)
	$WSTAPE replay "$D/j" --listen 127.0.0.1:$p --speed max --once --feed raw > /dev/null 2>&1 & local src=$!
	pids+=($src)
	waitp $p
	if [ "$1" = raw ]; then "$BUILD/bench/replay_count" --raw 127.0.0.1 $p; else "$BUILD/bench/replay_count" ws://127.0.0.1:$p/; fi |
		{ read -r m b t _; echo "$m $t"; }
	wait $src 2>/dev/null
}
read -r m_raw t_raw < <(alone raw)
read -r m_lws t_lws < <(alone lws)
src_rate=$(echo "$m_raw / $t_raw" | bc -l)
lws_rate=$(echo "$m_lws / $t_lws" | bc -l)
printf 'source alone    %8.0f msg/s  (wstape replay --speed max to a plain socket client)\n' "$src_rate"
printf 'bare lws client %8.0f msg/s  (libwebsockets 4.1 receiving and counting, nothing else: the ceiling)\n' "$lws_rate"
printf 'wstape record is %.0f%% of the bare lws client; the source runs %.1fx faster than the recorder, so it is not the bottleneck\n' \
	"$(echo "100 * $rate_rec / $lws_rate" | bc -l)" "$(echo "$src_rate / $rate_rec" | bc -l)"
