#!/usr/bin/env bash
# 70_jetstream.sh - NATS JetStream against one local nats-server (-js, file store in a temp
# dir), each figure beside what a user would write instead, in the same run:
#   (a) publish: wstape publish of a prepared journal (N records of SIZE B) beside the
#       nats.js client (bench/js_publish.mjs: async publish with acks, 4096 in flight, the
#       same payloads); msg/s over the window from the stream's first stored message to its
#       last (the server's clock, the same for both), each into its own stream; then what
#       the stream stores per message beside the journal's bytes per record
#   (b) ingest: wstape record of a local flood source (wstape replay --speed max --loop
#       --feed raw, as bench/30_record.sh) with and without --publish; msg/s and CPU
#       us/msg over the window of the journal's first to last receive time; and how far
#       the stream got when record had exited (it waits up to 10 s for the acks)
#   (c) pull: wstape pull of stream (a) into a journal, records/s over the whole process
#       (start-up, connect and the final sync included), beside a nats.js ordered consumer
#       writing JSON lines (bench/js_consume.mjs), timed in its process from its first
#       message to its Nth (start-up and connect left out: the comparison favours node)
# Sizes (environment): N (default 200000) records, SIZE (default 200) bytes of payload, NR
# (default N) messages for the recorder runs.
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
PY=/usr/bin/python3
N=${N:-200000}
SIZE=${SIZE:-200}
NR=${NR:-$N}
CHECK=$BUILD/bench/rec_check
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-js.XXXXXX")
pids=()
trap 'kill ${pids[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
command -v nats-server > /dev/null || { echo "nats-server is not installed: skipped"; exit 0; }
[ -d tests/node_modules/nats ] || { echo "tests/node_modules/nats missing (make node-deps)"; exit 1; }
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 200); do $PY -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.05; done; }
calc() { echo "$1" | bc -l; }
ratio() { # A B: A / B
	case "$1 $2" in *nan*) echo nan; return ;; esac
	[ "$(calc "$2 > 0")" = 1 ] && calc "$1 / $2" || echo nan
}
# js_field STREAM KEY: one member of `wstape stream info --json`
js_field() {
	$WSTAPE stream info "$NATS" "$1" --json 2> /dev/null | $PY -c '
import json, sys, datetime
d = json.load(sys.stdin); v = d.get(sys.argv[1])
if sys.argv[1].endswith("_ts"):
    s = (v or "").rstrip("Z"); sec, _, frac = s.partition(".")
    t = datetime.datetime.fromisoformat(sec).replace(tzinfo=datetime.timezone.utc).timestamp()
    v = "%.9f" % (t + float("0." + (frac or "0")))
print(v if v is not None else 0)' "$2"
}
# stream_rate STREAM: "(messages - 1) / (last_ts - first_ts)" of the stream
stream_rate() {
	local m f l
	m=$(js_field "$1" messages) f=$(js_field "$1" first_ts) l=$(js_field "$1" last_ts)
	[ "${m:-0}" -gt 1 ] && calc "($m - 1) / ($l - $f)" || echo nan
}
cpu_at() { # TRACE MONO_NS...: the process's CPU (s) at each time (bench/30_record.sh)
	$PY - "$@" << 'PY'
import bisect, sys
t, c = [], []
for line in open(sys.argv[1]):
    a, b = line.split()
    t.append(int(a)); c.append(int(b))
out = []
for x in map(int, sys.argv[2:]):
    i = bisect.bisect_left(t, x)
    if i == 0 or i >= len(t):
        out.append("nan"); continue
    f = (x - t[i - 1]) / (t[i] - t[i - 1])
    out.append("%.6f" % ((c[i - 1] + f * (c[i] - c[i - 1])) / 1e9))
print(" ".join(out))
PY
}

# gen COUNT: $D/src, COUNT messages of exactly SIZE bytes {"type":"trade","seq":I,"data":"..."}
gen() {
	$PY - "$SIZE" "$1" > "$D/f.jsonl" << 'PY'
import json, random, sys
size, n = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(70)
for i in range(n):
    head = '{"type":"trade","seq":%d,"data":"' % i
    data = ""
    while len(head) + len(data) + 2 < size:
        data += "user=0x%040x px=%d.%02d sz=%.4f hash=0x%064x; " % (rnd.getrandbits(160),
            100 + rnd.randrange(5000), rnd.randrange(100), rnd.random() * 10, rnd.getrandbits(256))
    payload = head + data[: size - len(head) - 2] + '"}'
    print(json.dumps({"wall_ns": 1795341600000000000 + i * 1000, "dir": "in", "kind": "text", "payload": payload}))
PY
	$WSTAPE import "$D/f.jsonl" -o "$D/src" > /dev/null 2>&1
	local rc=$?
	rm -f "$D/f.jsonl"
	return $rc
}

NP=$(port)
nats-server -a 127.0.0.1 -p "$NP" -js -sd "$D/store" > "$D/nats.log" 2>&1 &
pids+=($!)
waitp "$NP"
NATS=nats://127.0.0.1:$NP
mk() { $WSTAPE stream create "$NATS" "$1" --subjects "wstape.$2.>" > /dev/null || echo "cannot create stream $1"; }
echo "N $N records of $SIZE B, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores; nats-server $(nats-server --version | awk '{print $NF}') (file store, R1)"
gen "$N" || { echo "cannot build the source journal"; exit 1; }
$WSTAPE cat "$D/src" --payload > "$D/payloads.txt"

echo "-- (a) publish: msg/s from the stream's first stored message to its last"
mk PW pw
read -r w c _ < <($PY bench/measure.py "$WSTAPE" publish "$D/src" "$NATS" --stream PW --subject-name pw --quiet 2> "$D/err")
w_m=$(js_field PW messages) w_rate=$(stream_rate PW)
printf '%-26s %8.0f msg/s  (%d messages; whole process %.2f s, %.2f us CPU/msg)\n' "wstape publish" "$w_rate" "$w_m" "$w" \
	"$(calc "if ($w_m > 0) $c * 1000000 / $w_m else 0")"
mk PJ pj
read -r jm js jc < <(node bench/js_publish.mjs "$NATS" wstape.pj._ "$D/payloads.txt")
j_m=$(js_field PJ messages) j_rate=$(stream_rate PJ)
printf '%-26s %8.0f msg/s  (%d messages; in its process %.2f s, %.2f us CPU/msg)\n' "nats.js publish" "$j_rate" "$j_m" "${js:-0}" \
	"$(calc "if (${jm:-0} > 0) ${jc:-0} * 1000000 / $jm else 0")"
printf '    msg/s wstape / nats.js  %6.2fx  (wstape also sends 11 headers a message: recorder, journal, recno, times...)\n' "$(ratio "$w_rate" "$j_rate")"
printf '    every record in the stream: %s\n' "$([ "$w_m" = "$N" ] && [ "$j_m" = "$N" ] && echo yes || echo "NO ($w_m, $j_m of $N)")"
wb=$(js_field PW bytes) jb=$(js_field PJ bytes) db=$($WSTAPE info "$D/src" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["disk_bytes"])')
printf '    stored per message: %.0f B in the stream with wstape'"'"'s headers (%.0f B with a Nats-Msg-Id only), %.1f B per record in the zstd journal (%d B payloads)\n' \
	"$(calc "$wb / $w_m")" "$(calc "$jb / $j_m")" "$(calc "$db / $N")" "$SIZE"

echo "-- (b) ingest: wstape record of a flood source, msg/s and CPU over the journal's first to last receive time"
# rec LABEL RECORD-OPTIONS...: one recorder run against a fresh source
rec() {
	local label=$1 p src w c m f l b s1 s2 c1 c2 rate cpu
	shift
	p=$(port)
	$WSTAPE replay "$D/src" --listen 127.0.0.1:$p --speed max --loop --feed raw > /dev/null 2>&1 &
	src=$!
	pids+=($src)
	waitp $p
	read -r w c _ < <($PY bench/measure.py -c "$D/trace" "$WSTAPE" record ws://127.0.0.1:$p/ -o "$D/rec" \
		--max-records "$NR" --retries 3 --quiet "$@" 2> "$D/err")
	kill $src 2> /dev/null
	wait $src 2> /dev/null
	read -r m f l b s1 s2 < <($CHECK "$D/rec" seq "$N")
	read -r c1 c2 < <(cpu_at "$D/trace" "${f:-0}" "${l:-0}")
	if [ "${m:-0}" -gt 1 ] && [ "$c1" != nan ] && [ "$c2" != nan ]; then
		rate=$(calc "($m - 1) * 1000000000 / ($l - $f)") cpu=$(calc "($c2 - $c1) * 1000000 / $m")
	else
		rate=nan cpu=nan
	fi
	printf '%-26s %8.0f msg/s %6.2f us CPU/msg  (%d messages, seq breaks %d; whole process %.2f s)\n' "$label" "$rate" "$cpu" \
		"${m:-0}" "${b:-1}" "$w"
	REC_RATE=$rate REC_CPU=$cpu REC_M=${m:-0}
	REC_RECORDS=$($WSTAPE info "$D/rec" --json 2> /dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["records"])' 2> /dev/null)
	rm -rf "$D/rec" "$D/trace"
}
rec "wstape record"
r0=$REC_RATE c0=$REC_CPU
mk PR pr
rec "wstape record --publish" --publish "$NATS" --stream PR --subject-name pr
r1=$REC_RATE c1=$REC_CPU m1=${REC_RECORDS:-0}
s_m=$(js_field PR messages)
printf '    msg/s with / without --publish  %6.2fx, CPU/msg %6.2fx\n' "$(ratio "$r1" "$r0")" "$(ratio "$c1" "$c0")"
printf '    the stream had %d of the %d records journaled (data and connection events) when record exited (publisher %.0f msg/s)\n' "$s_m" "$m1" "$(stream_rate PR)"

echo "-- (c) pull: stream PW (wstape publish's messages) back into a journal"
read -r w c _ rc < <($PY bench/measure.py "$WSTAPE" pull "$NATS" --stream PW -o "$D/pulled" 2> "$D/err" | awk '{print $1, $2, $3, $NF}')
p_m=$($WSTAPE info "$D/pulled" --json 2> /dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["records"])' 2> /dev/null)
p_m=${p_m:-0}
p_rate=$([ "$p_m" -gt 0 ] && calc "$p_m / $w" || echo nan)
printf '%-26s %8.0f records/s  (%d records, whole process %.2f s, %.2f us CPU/record, exit %s)\n' "wstape pull" "$p_rate" "$p_m" "$w" \
	"$(calc "if ($p_m > 0) $c * 1000000 / $p_m else 0")" "$rc"
read -r cm cs cc < <(node bench/js_consume.mjs "$NATS" PW 'wstape.pw.>' "$N" "$D/consumed.jsonl")
c_rate=$([ "${cm:-0}" -gt 1 ] && calc "($cm - 1) / $cs" || echo nan)
printf '%-26s %8.0f msg/s  (%d messages in %.2f s, %.2f us CPU/msg, writes JSON lines)\n' "nats.js consumer" "$c_rate" "${cm:-0}" "${cs:-0}" \
	"$(calc "if (${cm:-0} > 0) ${cc:-0} * 1000000 / $cm else 0")"
printf '    records/s wstape pull / nats.js  %6.2fx\n' "$(ratio "$p_rate" "$c_rate")"
[ "$rc" = 0 ] || echo "    (wstape pull failed: $(tail -1 "$D/err"))"
