#!/usr/bin/env bash
# 30_record.sh - ingest: wstape record against a local source that floods frames as fast as
# the receiver takes them (wstape replay J --speed max --loop --feed raw), at two message
# sizes, 1 KB (1024 B payloads) and 188 B, each beside what it is compared with in the same
# run and against the same source: wstape record --ws-engine wstape (the default on ws://),
# wstape record --ws-engine lws, a bare libwebsockets client that only counts
# (bench/replay_count.c: the ceiling of any receiver built on libwebsockets 4.1), a Node ws
# client and a python3-websockets client writing JSON lines (bench/record_node.mjs,
# bench/record_py.py; python gets fewer messages), and the source alone (a plain socket
# client that parses frames itself: how fast the source can go). Then the recorder with the
# Hydromancer feed (--feed hydromancer --subscribe allFills) against wstape replay --feed
# hydromancer --loop of a journal of ~1 KB allFills messages, which answers the subscribe
# and rewrites seq per connection.
#
# Each figure: messages/s and CPU µs per message (user + system of the receiving process),
# both over the window from its first message received to its last, never start-up,
# connect or close: the recorder's window comes from its journal's receive times and its CPU
# from /proc/PID/stat sampled every 10 ms (bench/measure.py -c), read at those two times;
# the peers and the bare lws client time themselves in their process. Then the targets of
# issue 13, each met / NOT MET, and whether anything was lost: every message the source sent
# must be in the recorder's journal, in order (the source's payloads carry "seq":I, I from
# 0 to the source's distinct messages; bench/rec_check.c checks each recorded one follows
# the one before, the loop's wrap included) and `wstape verify` ok.
#
# Sizes (environment): N (default 1000000) messages per client at each size; NPY (default
# N/5, at most 300000) for the python client; NH (default N/2) for the Hydromancer run;
# RECORD_LONG=10000000 sets N for the 10M flat-RSS check; SIZES (default "1024 188").
# With the defaults the whole script runs for about 75 s on a shared 2-core box (load ~2),
# well under 3 minutes.
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
PY=/usr/bin/python3
N=${RECORD_LONG:-${N:-1000000}}
NPY=${NPY:-$((N / 5 < 300000 ? N / 5 : 300000))}
NH=${NH:-$((N / 2))}
SIZES=${SIZES:-"1024 188"}
COUNT=$BUILD/bench/replay_count
CHECK=$BUILD/bench/rec_check
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-record.XXXXXX")
pids=()
trap 'kill ${pids[@]} 2>/dev/null; rm -rf "$D"' EXIT
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 100); do $PY -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.05; done; }
# A figure that could not be measured (a client that got nothing) is nan, and so is every
# ratio made with it; its target says NOT MEASURED.
# verdict VALUE OP TARGET: "met" or "NOT MET" (bc compares)
verdict() {
	case "$1" in nan | "") echo "NOT MEASURED"; return ;; esac
	[ "$(echo "$1 $2 $3" | bc -l)" = 1 ] && echo met || echo "NOT MET"
}
calc() { echo "$1" | bc -l; }
ratio() { # A B: A / B
	case "$1 $2" in *nan*) echo nan; return ;; esac
	[ "$(calc "$2 > 0")" = 1 ] && calc "$1 / $2" || echo nan
}

# gen SIZE COUNT: $D/j$SIZE, COUNT distinct messages of exactly SIZE bytes,
# {"type":"trade","seq":I,"data":"..."} with I from 0, the data the fields of allFills fills
# as text (random addresses and 64-hex hashes, numbers), cut to size, so that the journal
# compresses it about as it would the real feed
gen() {
	$PY - "$1" "$2" > "$D/f.jsonl" <<'PY'
import json, random, sys
size, n = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(30)
coins = ["BTC", "ETH", "SOL", "HYPE", "ARB", "DOGE"]
def fill(i):  # the fields of a Hydromancer allFills fill, as text (no quotes to escape)
    return ("user=0x%040x coin=%s px=%d.%02d sz=%.4f side=%s time=%d startPosition=%.4f dir=%s "
            "closedPnl=%.5f hash=0x%064x oid=%d crossed=true fee=%.6f tid=%d feeToken=USDC txIndex=%d; ") % (
        rnd.getrandbits(160), rnd.choice(coins), 100 + rnd.randrange(5000), rnd.randrange(100),
        rnd.random() * 10, rnd.choice("AB"), 1795341600000 + i, rnd.random() * 100,
        rnd.choice(["Open Long", "Close Short"]), rnd.random(), rnd.getrandbits(256),
        rnd.getrandbits(36), rnd.random() / 100, rnd.getrandbits(48), rnd.randrange(8))
for i in range(n):
    head = '{"type":"trade","seq":%d,"data":"' % i
    data = ""
    while len(head) + len(data) + 2 < size:
        data += fill(i)
    payload = head + data[: size - len(head) - 2] + '"}'
    print(json.dumps({"wall_ns": 1795341600000000000 + i * 1000, "dir": "in", "kind": "text", "payload": payload}))
PY
	[ $? = 0 ] && $WSTAPE import "$D/f.jsonl" -o "$D/j$1" 2>/dev/null; local rc=$?
	rm -f "$D/f.jsonl"
	return $rc
}

# gen_hydro COUNT: $D/jhydro, COUNT allFills messages of two fills each (~1 KB, random
# hashes, as the Hydromancer docs show them), imported with --feed hydromancer; the first
# fill's oid is 100000 + I, I from 0 (the recorded ones are checked by it and by seq)
gen_hydro() {
	$PY - "$1" > "$D/f.jsonl" <<'PY'
import json, random, sys
n = int(sys.argv[1])
rnd = random.Random(31)
coins = ["BTC", "ETH", "SOL", "HYPE", "ARB", "DOGE"]
for i in range(n):
    t = 1795341600000 + i
    fills = []
    for k in range(2):
        fills.append(["0x%040x" % rnd.getrandbits(160), {
            "coin": rnd.choice(coins), "px": "%d.%02d" % (100 + rnd.randrange(5000), rnd.randrange(100)),
            "sz": "%.4f" % (rnd.random() * 10), "side": rnd.choice("AB"), "time": t,
            "startPosition": "%.4f" % (rnd.random() * 100), "dir": rnd.choice(["Open Long", "Close Short"]),
            "closedPnl": "%.5f" % rnd.random(), "hash": "0x%064x" % rnd.getrandbits(256),
            "oid": 100000 + i if k == 0 else 900000000 + i, "crossed": True, "fee": "%.6f" % (rnd.random() / 100),
            "tid": rnd.getrandbits(48), "cloid": "0x%032x" % rnd.getrandbits(128), "feeToken": "USDC",
            "builder": "0x%040x" % rnd.getrandbits(160), "builderFee": "0.0", "txIndex": k}])
    msg = {"type": "allFills", "seq": i + 1, "cursor": "%d:%d:%d" % (500000 + i, t, 1), "fills": fills}
    print(json.dumps({"wall_ns": t * 1000000, "dir": "in", "kind": "text", "payload": json.dumps(msg, separators=(",", ":"))}))
PY
	[ $? = 0 ] && $WSTAPE import "$D/f.jsonl" -o "$D/jhydro" --feed hydromancer 2>/dev/null; local rc=$?
	rm -f "$D/f.jsonl"
	return $rc
}

# src JOURNAL FEED: a fresh source (--speed max --loop) on a free port; its URL in $URL
src() {
	local p=$(port)
	$WSTAPE replay "$1" --listen 127.0.0.1:$p --speed max --loop --feed "$2" > /dev/null 2>&1 & SRC=$!
	pids+=($SRC)
	waitp $p
	URL=ws://127.0.0.1:$p/
}
src_stop() { kill $SRC 2>/dev/null; wait $SRC 2>/dev/null; }

# cpu_at TRACE MONO_NS...: the process's CPU (s) at each time, read linearly between the
# two samples of measure.py -c around it
cpu_at() {
	$PY - "$@" <<'PY'
import bisect, sys
t, c = [], []
for line in open(sys.argv[1]):
    a, b = line.split()
    t.append(int(a)); c.append(int(b))
out = []
for x in map(int, sys.argv[2:]):
    i = bisect.bisect_left(t, x)
    if i == 0 or i >= len(t):
        out.append("nan")
        continue
    f = (x - t[i - 1]) / (t[i] - t[i - 1])
    out.append("%.6f" % ((c[i - 1] + f * (c[i] - c[i - 1])) / 1e9))
print(" ".join(out))
PY
}

# rec JOURNAL FEED MOD KEY2 MOD2 RECORD-OPTIONS...: wstape record against a fresh source
# under measure.py; sets REC_* (messages, msg/s, CPU us/msg, window s, whole-process wall and
# CPU us/msg, RSS first/mid/last/max, breaks of seq and of KEY2, verify)
rec() {
	local j=$1 feed=$2 mod=$3 key2=$4 mod2=$5 w c r1 r2 r3 rmax rc m f l b1 b2 s1 s2 c1 c2
	shift 5
	src "$j" "$feed"
	read -r w c r1 r2 r3 rmax rc < <($PY bench/measure.py -c "$D/trace" $WSTAPE record "$URL" -o "$D/rec" \
		--max-records $N --retries 3 --quiet "$@")
	src_stop
	if [ "$key2" = - ]; then
		read -r m f l b1 s1 s2 < <($CHECK "$D/rec" seq $mod)
		b2=0
	else
		read -r m f l b1 b2 s1 s2 < <($CHECK "$D/rec" seq $mod $key2 $mod2)
	fi
	read -r c1 c2 < <(cpu_at "$D/trace" "${f:-0}" "${l:-0}")
	REC_M=${m:-0}
	if [ "$REC_M" -gt 1 ] && [ "$c1" != nan ] && [ "$c2" != nan ]; then
		REC_SECS=$(calc "($l - $f) / 1000000000")
		REC_RATE=$(calc "($REC_M - 1) / $REC_SECS")
		REC_CPU=$(calc "($c2 - $c1) * 1000000 / $REC_M")
	else
		REC_SECS=0 REC_RATE=0 REC_CPU=nan
	fi
	REC_BUSY=$([ "$REC_CPU" = nan ] && echo nan || calc "100 * $REC_CPU * $REC_M / 1000000 / $REC_SECS")
	REC_WALL=$w REC_WCPU=$(calc "if ($REC_M > 0) ${c:-0} * 1000000 / $REC_M else 0")
	REC_RSS="${r1:-0} ${r2:-0} ${r3:-0} ${rmax:-0}" REC_B1=${b1:-1} REC_B2=${b2:-1} REC_S1=${s1:-0} REC_S2=${s2:-0} REC_RC=${rc:-?}
	REC_VERIFY=$($WSTAPE verify "$D/rec" > /dev/null 2>&1 && echo ok || echo FAILED)
	rm -rf "$D/rec" "$D/trace"
}
rec_print() { # LABEL
	printf '%-26s %8.0f msg/s %6.2f us CPU/msg  (%d messages in %.3f s, CPU %3.0f%% of the window; whole process %.2f s, %.2f us/msg)\n' \
		"$1" "$REC_RATE" "$REC_CPU" "$REC_M" "$REC_SECS" "$REC_BUSY" "$REC_WALL" "$REC_WCPU"
	# the source sends every message of its journal in order, again and again: nothing lost
	# means every recorded one follows the one before (and the journal verifies)
	printf '    nothing lost: seq breaks %d%s (seq %s .. %s), verify %s, exit %s: %s\n' "$REC_B1" \
		"${2:+, $2 breaks $REC_B2}" "$REC_S1" "$REC_S2" "$REC_VERIFY" "$REC_RC" \
		"$([ "$REC_B1" = 0 ] && [ "$REC_B2" = 0 ] && [ "$REC_VERIFY" = ok ] && [ "$REC_M" -gt 0 ] && echo met || echo "NOT MET")"
}

# peer JOURNAL PROG N: a peer client (record_py.py / record_node.mjs) against a fresh source,
# timed in its process; prints "msg/s cpu_us_per_msg messages secs". It runs in a process
# substitution, which the script does not wait for past its line: its files are its own
# (named by its pid) and gone before it prints.
peer() {
	local out="$D/peer.$BASHPID" m s c
	src "$1" raw
	$2 "$out.jsonl" $3 "$URL" > "$out.out"
	src_stop
	read -r m s c < "$out.out"
	rm -f "$out.jsonl" "$out.out"
	m=${m:-0} s=${s:-0} c=${c:-0}
	echo "$(calc "if ($s > 0) ($m - 1) / $s else 0") $([ $m -gt 0 ] && calc "$c * 1000000 / $m" || echo nan) $m $s"
}
# count JOURNAL [--raw]: replay_count --max N against a fresh source: "msg/s cpu_us_per_msg messages secs"
count() {
	src "$1" raw
	local m b t ls c
	if [ "${2:-}" = --raw ]; then
		local p=${URL##*:}
		read -r m b t ls c < <($COUNT --max $N --raw 127.0.0.1 "${p%/}")
	else
		read -r m b t ls c < <($COUNT --max $N "$URL")
	fi
	src_stop
	m=${m:-0} ls=${ls:-0} c=${c:-0}
	echo "$(calc "if ($ls > 0) ($m - 1) / $ls else 0") $([ $m -gt 0 ] && calc "$c * 1000000 / $m" || echo nan) $m $ls"
}
line() { printf '%-26s %8.0f msg/s %6.2f us CPU/msg  (%d messages in %.3f s%s)\n' "$1" "$2" "$3" "$4" "$5" "${6:-}"; }

echo "N $N messages per client (python $NPY), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, nice $(nice)"
echo "msg/s and CPU over the window from the first message received to the last; the recorder's CPU from /proc/PID/stat"
echo "sampled every 10 ms, read at the journal's first and last receive times (start-up, connect, the final flush left out)"
for size in $SIZES; do
	distinct=$((size > 512 ? 50000 : 100000))
	gen $size $distinct || { echo "cannot build the $size B source journal"; continue; }
	echo "-- $size B messages (source: $distinct distinct, looped)"
	rec "$D/j$size" raw $distinct - 0 --ws-engine wstape
	rec_print "wstape record (wstape)"
	w_rate=$REC_RATE w_cpu=$REC_CPU
	[ $size = 1024 ] && cpu1k=$w_cpu
	read -r rf rm rl rx <<< "$REC_RSS"
	rss_line=$(printf 'RSS %s -> %s -> %s KiB (max %s)' $rf $rm $rl $rx)
	rec "$D/j$size" raw $distinct - 0 --ws-engine lws
	rec_print "wstape record (lws)"
	l_rate=$REC_RATE l_cpu=$REC_CPU
	read -r b_rate b_cpu m s < <(count "$D/j$size")
	line "bare lws client" $b_rate $b_cpu $m $s ", counts only"
	read -r n_rate n_cpu m s < <(peer "$D/j$size" "node bench/record_node.mjs" $N)
	line "node ws client" $n_rate $n_cpu $m $s ", writes JSON lines"
	read -r p_rate p_cpu m s < <(peer "$D/j$size" "$PY bench/record_py.py" $NPY)
	line "python client" $p_rate $p_cpu $m $s ", writes JSON lines"
	read -r s_rate s_cpu m s < <(count "$D/j$size" --raw)
	line "source alone" $s_rate $s_cpu $m $s ", plain socket client"
	rm -rf "$D/j$size"

	cn=$(ratio $w_cpu $n_cpu) cb=$(ratio $w_cpu $b_cpu) rb=$(ratio $w_rate $b_rate)
	printf '  targets at %d B (wstape record, --ws-engine wstape):\n' $size
	if [ $size = 1024 ]; then
		printf '    CPU / node ws        %6.2fx  target <= 0.4x:  %s\n' "$cn" "$(verdict "$cn" "<=" 0.4)"
		printf '    CPU / bare lws       %6.2fx  target <= 0.8x:  %s\n' "$cb" "$(verdict "$cb" "<=" 0.8)"
	elif [ $size = 188 ]; then
		printf '    CPU / node ws        %6.2fx  target <= 0.35x: %s\n' "$cn" "$(verdict "$cn" "<=" 0.35)"
		printf '    CPU / bare lws       %6.2fx  (for information)\n' "$cb"
	fi
	printf '    msg/s / bare lws     %6.2fx  target >= 1x:    %s\n' "$rb" "$(verdict "$rb" ">=" 1)"
	printf '    msg/s %8.0f          target >= 250k:  %s\n' "$w_rate" "$(verdict "$w_rate" ">=" 250000)"
	printf '    CPU %6.2f us/msg       target <= 4 us:  %s\n' "$w_cpu" "$(verdict "$w_cpu" "<=" 4)"
	printf '    msg/s / python       %6.2fx  target >= 5x:    %s\n' "$(ratio $w_rate $p_rate)" "$(verdict "$(ratio $w_rate $p_rate)" ">=" 5)"
	printf '    msg/s / node ws      %6.2fx  target >= 2x:    %s\n' "$(ratio $w_rate $n_rate)" "$(verdict "$(ratio $w_rate $n_rate)" ">=" 2)"
	# flat: the last sample no more than 1.25x the one at mid-run (RECORD_LONG for 10M)
	printf '    %s  target flat (last <= 1.25x mid): %s\n' "$rss_line" "$(verdict "$rl" "<=" "1.25 * $rm")"
	printf '    (lws engine: %.2fx the CPU of the wstape engine, %.2fx its msg/s; source alone %.1fx the recorder)\n' \
		"$(ratio $l_cpu $w_cpu)" "$(ratio $l_rate $w_rate)" "$(ratio $s_rate $w_rate)"
done

echo "-- Hydromancer feed, ~1 KB allFills messages (source: wstape replay --feed hydromancer --loop)"
gen_hydro 50000 || { echo "cannot build the Hydromancer source journal"; exit 1; }
hsize=$($WSTAPE info "$D/jhydro" --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["payload_bytes"] // d["records"])' 2>/dev/null)
NRAW=$N N=$NH
rec "$D/jhydro" hydromancer 0 oid 50000 --feed hydromancer --subscribe allFills
N=$NRAW
rec_print "wstape record --feed hydromancer" oid
printf '    %s B mean payload; the source answers the subscribe and rewrites seq from 1 (checked), the events in order (the first\n' "${hsize:-?}"
printf '    fill'"'"'s oid, checked); CPU below 100%% of the window means the recorder waited for this source, which does more per message\n'
printf '    (no plain-socket figure for it: it sends nothing before a subscribe)\n'
printf '    CPU / raw feed at 1 KB  %6.2fx  (for information)\n' "$(ratio $REC_CPU ${cpu1k:-0})"
