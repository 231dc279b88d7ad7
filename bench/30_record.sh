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
# prints "wall cpu rss_first rss_mid rss_last rss_max rc" (measure.py: the whole process); -o FILE
# first keeps CMD's standard output in FILE
run() {
	local mo=()
	[ "$1" = -o ] && { mo=(-o "$2"); shift 2; }
	local p=$(port)
	$WSTAPE replay "$D/j" --listen 127.0.0.1:$p --speed max --loop --feed raw > /dev/null 2>&1 & local src=$!
	pids+=($src)
	waitp $p
	$PY bench/measure.py "${mo[@]}" "$@" ws://127.0.0.1:$p/
	kill $src 2>/dev/null; wait $src 2>/dev/null
}
rec() { $WSTAPE record "$1" -o "$D/rec" --max-records $N --quiet; }

# What is timed. msg/s: from the first message received to the last, for every client (the
# recorder's receive times are in its journal; the peers time themselves, bench/record_py.py
# and bench/record_node.mjs), so that neither start-up nor a close handshake is counted.
# CPU per message: the peers' own CPU over that same window; the recorder's CPU is its whole
# process (start-up, connect, the last block's compression and fsync included), an upper
# bound. The whole process, start to exit, is printed beside each for reference.
read -r w c r1 r2 r3 rmax rc < <(run $WSTAPE record --max-records $N --quiet -o "$D/rec")
last=$($WSTAPE info "$D/rec" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["last_recno"])')
# the first and the last message (text records from the server) and their receive times
read -r f_rec f_mono < <($WSTAPE cat "$D/rec" --direction in --kind text --limit 1 | jq -r '"\(.recno) \(.mono_ns)"')
read -r l_rec l_mono < <($WSTAPE cat "$D/rec" --direction in --kind text --from-record $((last > 10 ? last - 10 : 1)) | tail -n 1 | jq -r '"\(.recno) \(.mono_ns)"')
got=$((l_rec - f_rec + 1))
rate_rec=$(echo "($got - 1) * 1000000000 / ($l_mono - $f_mono)" | bc -l)
printf 'wstape record   %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s -> %s KiB (max %s)  %d messages, verify %s   target >= 250k msg/s, <= 4 us, flat RSS\n' \
	"$rate_rec" "$(echo "$c * 1000000 / $got" | bc -l)" $r1 $r2 $r3 $rmax $got "$($WSTAPE verify "$D/rec" > /dev/null && echo ok || echo FAILED)"
printf '    timed: first to last message %.3f s (journal receive times); CPU: whole process (%.3f s wall, start-up and final flush included)\n' \
	"$(echo "($l_mono - $f_mono) / 1000000000" | bc -l)" "$w"
rm -rf "$D/rec"

# peer OUT N: a peer client (record_py.py / record_node.mjs) under measure.py; prints
# "messages secs cpu wall_whole cpu_whole rss_first rss_last"
peer() {
	local prog=$1 out=$2 n=$3
	read -r w c r1 r2 r3 rmax rc < <(run -o "$D/peer.out" $prog "$out" $n)
	read -r m s pc < "$D/peer.out"
	echo "${m:-0} ${s:-0} ${pc:-0} $w $c $r1 $r3"
	rm -f "$out" "$D/peer.out"
}
NPY=$(( N < 300000 ? N : 300000 ))
read -r m s pc w c r1 r3 < <(peer "$PY bench/record_py.py" "$D/py.jsonl" $NPY)
rate_py=$(echo "if ($s > 0) ($m - 1) / $s else 0" | bc -l)
printf 'python client   %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s KiB   (%d messages)\n' "$rate_py" "$(echo "if ($m > 0) $pc * 1000000 / $m else 0" | bc -l)" $r1 $r3 $m
printf '    timed: first to last message %.3f s, CPU over the same window, in the process; whole process %.3f s wall, %.2f us CPU/msg\n' "$s" "$w" "$(echo "if ($m > 0) $c * 1000000 / $m else 0" | bc -l)"
read -r m s pc w c r1 r3 < <(peer "node bench/record_node.mjs" "$D/node.jsonl" $N)
rate_nd=$(echo "if ($s > 0) ($m - 1) / $s else 0" | bc -l)
printf 'node ws client  %8.0f msg/s  %5.2f us CPU/msg  RSS %s -> %s KiB   (%d messages)\n' "$rate_nd" "$(echo "if ($m > 0) $pc * 1000000 / $m else 0" | bc -l)" $r1 $r3 $m
printf '    timed: first to last message %.3f s, CPU over the same window, in the process; whole process %.3f s wall, %.2f us CPU/msg\n' "$s" "$w" "$(echo "if ($m > 0) $c * 1000000 / $m else 0" | bc -l)"
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
