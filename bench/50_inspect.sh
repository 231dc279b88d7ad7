#!/usr/bin/env bash
# 50_inspect.sh - `wstape inspect` scan rate over a hydromancer journal of >= 1 GB of payload,
# beside the same gap/key scan parsing every message with jansson (bench/inspect_jansson.c),
# beside a jsmn tokenize-only scan (the floor), and beside `wstape cat --payload | jq` doing
# the seq gap check over the whole journal (or over its first INSPECT_BENCH_JQ_RECORDS
# records, then extrapolated, and said so).
# Each figure is printed with its ratio to inspect and against the target (>= 300 MB/s of
# raw payload, wall time on one core) as met or not met.
# The journal is generated once (bench/inspect_gen.c) and kept for later runs:
#   INSPECT_BENCH_JOURNAL (default /tmp/wstape-bench-inspect.j), INSPECT_BENCH_BYTES (1100m),
#   INSPECT_BENCH_JQ_RECORDS (default all; a number measures jq on that many records only).
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}" "${PY:=/usr/bin/python3}"
J=${INSPECT_BENCH_JOURNAL:-/tmp/wstape-bench-inspect.j}
BYTES=${INSPECT_BENCH_BYTES:-1100m}
NJQ=${INSPECT_BENCH_JQ_RECORDS:-all}
TARGET=300   # MB/s
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-inspect.XXXXXX")
trap 'rm -rf "$D"' EXIT

GEN_VERSION=2   # bump when inspect_gen.c changes what it writes
if [ ! -f "$J.complete" ] || [ "$(cat "$J.complete")" != "$BYTES v$GEN_VERSION" ]; then
	rm -rf "$J" "$J.complete"
	echo "generating $J ($BYTES of payload, once; kept for later runs)"
	"$BUILD/bench/inspect_gen" "$J" "$BYTES" || { echo "inspect_gen failed"; exit 1; }
	echo "$BYTES v$GEN_VERSION" >"$J.complete"
fi

# wall and CPU seconds of a command: "WALL USER SYS"
timed() { /usr/bin/time -f "%e %U %S %M" -o "$D/time" "$@"; }
mbps() { echo "$1 / $2 / 1000000" | bc -l; }

# wstape inspect (warm the page cache first, so that all three read from memory)
cat "$J"/seg-* >/dev/null
timed "$WSTAPE" inspect "$J" --json >"$D/report.json"
read -r iw iu is irss < <(tail -1 "$D/time")
raw=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"]["payload_bytes"])' "$D/report.json")
recs=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"]["count"])' "$D/report.json")
gaps=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["counts"]["seq_gap"])' "$D/report.json")
icpu=$(echo "$iu + $is" | bc -l)

# jansson, whole journal
timed "$BUILD/bench/inspect_jansson" "$J" >"$D/jansson.out"
read -r jw ju js jrss < <(tail -1 "$D/time")
jgaps=$(sed -n 's/.* gaps=\([0-9]*\).*/\1/p' "$D/jansson.out")
jcpu=$(echo "$ju + $js" | bc -l)

# jsmn: tokenize each message and read seq/time/txIndex only (no identity, no windows)
timed "$BUILD/bench/inspect_jansson" "$J" 0 jsmn >"$D/jsmn.out"
read -r kw ku ks krss < <(tail -1 "$D/time")
kcpu=$(echo "$ku + $ks" | bc -l)

# wstape cat --payload | jq: the same seq gap check (over all messages: it knows nothing of
# connections or channels)
jqprog='reduce inputs as $m ({last: null, gaps: 0};
	if ($m | type) == "object" and ($m.seq | type) == "number" then
		(if .last != null and $m.seq != .last + 1 then .gaps += 1 else . end) | .last = $m.seq
	else . end) | .gaps'
if [ "$NJQ" = all ] || [ "$NJQ" -ge "$recs" ]; then
	NJQ=$recs
	slice=$raw
	limit=()
else
	# payload bytes of the slice: cat prints one payload per line
	slice=$("$WSTAPE" cat "$J" --payload --limit "$NJQ" | wc -c)
	slice=$((slice - NJQ))
	limit=(--limit "$NJQ")
fi
export WSTAPE J jqprog
timed bash -c '"$WSTAPE" cat "$J" --payload "$@" | jq -n "$jqprog"' jq "${limit[@]}" >"$D/jq.out"
read -r qw qu qs qrss < <(tail -1 "$D/time")
qcpu=$(echo "$qu + $qs" | bc -l)
qgaps=$(cat "$D/jq.out")
# the time jq would take over the whole journal: measured, or extrapolated from the slice
qall=$(echo "$qw * $raw / $slice" | bc -l)

verdict() { [ "$(echo "$1 >= $TARGET" | bc -l)" = 1 ] && echo "met" || echo "not met"; }
# NAME BYTES WALL CPU NOTE: one row; the ratio is this row's wall time over inspect's
row() {
	local r
	r=$(mbps "$2" "$3")
	printf '%-20s %9.0f %12.0f %9.2f %9.2fx   %-8s %s\n' "$1" "$r" "$(mbps "$2" "$4")" "$3" \
		"$(echo "($3 * $raw / $2) / $iw" | bc -l)" "$(verdict "$r")" "$5"
}

overlaps=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["counts"]["overlap"])' "$D/report.json")
printf 'journal              %s: %d records, %.2f GB of payload (~%d B per allFills message)\n' "$J" "$recs" \
	"$(echo "$raw / 1000000000" | bc -l)" $((raw / recs))
printf '%-20s %9s %12s %9s %10s   %-8s\n' "" "MB/s wall" "MB/s per CPU" "seconds" "inspect is" \
	">= $TARGET MB/s"
row "wstape inspect" "$raw" "$iw" "$icpu" "$gaps seq gaps, $overlaps overlaps"
row "jansson scan" "$raw" "$jw" "$jcpu" "$jgaps seq gaps"
row "jsmn tokenize only" "$raw" "$kw" "$kcpu" "keys only: no identity hashes, no dedup windows (a floor, not a rival)"
if [ "$NJQ" -eq "$recs" ]; then
	row "cat --payload | jq" "$slice" "$qw" "$qcpu" "measured over the whole journal; $qgaps seq gaps (all connections and channels as one)"
else
	row "cat --payload | jq" "$slice" "$qw" "$qcpu" "$(printf 'EXTRAPOLATED: measured on %d of %d records (%.1f%%, %.2f s); %.0f s estimated for the journal' \
		"$NJQ" "$recs" "$(echo "100 * $slice / $raw" | bc -l)" "$qw" "$qall")"
fi
printf '(MB/s of raw payload; "inspect is" = how many times faster inspect is over the same journal, wall time;\n the target is for wstape inspect, on one core: the others are shown against it for scale)\n'
printf 'max RSS              inspect %d MB (bounded whatever the journal size: docs/INSPECT.md), jansson scan %d MB\n' \
	$((irss / 1024)) $((jrss / 1024))
