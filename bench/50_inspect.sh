#!/usr/bin/env bash
# 50_inspect.sh - `wstape inspect` scan rate over a hydromancer journal of >= 1 GB of payload,
# beside the same gap/key scan parsing every message with jansson (bench/inspect_jansson.c),
# beside a jsmn tokenize-only scan (the floor), and beside `wstape cat --payload | jq` doing
# the seq gap check on a slice (extrapolated).
# The journal is generated once (bench/inspect_gen.c) and kept for later runs:
#   INSPECT_BENCH_JOURNAL (default /tmp/wstape-bench-inspect.j), INSPECT_BENCH_BYTES (1100m),
#   INSPECT_BENCH_JQ_RECORDS (30000: the slice for jq).
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}" "${PY:=/usr/bin/python3}"
J=${INSPECT_BENCH_JOURNAL:-/tmp/wstape-bench-inspect.j}
BYTES=${INSPECT_BENCH_BYTES:-1100m}
NJQ=${INSPECT_BENCH_JQ_RECORDS:-30000}
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

# wstape cat --payload | jq on the first NJQ records
jqprog='reduce inputs as $m ({last: null, gaps: 0};
	if ($m | type) == "object" and ($m.seq | type) == "number" then
		(if .last != null and $m.seq != .last + 1 then .gaps += 1 else . end) | .last = $m.seq
	else . end) | .gaps'
slice=$("$WSTAPE" cat "$J" --payload --limit "$NJQ" | wc -c)
slice=$((slice - NJQ))
t0=$(date +%s.%N)
"$WSTAPE" cat "$J" --payload --limit "$NJQ" | jq -n "$jqprog" >"$D/jq.out"
t1=$(date +%s.%N)
qw=$(echo "$t1 - $t0" | bc -l)

printf 'journal              %s: %d records, %.2f GB of payload (~%d B per allFills message)\n' "$J" "$recs" \
	"$(echo "$raw / 1000000000" | bc -l)" $((raw / recs))
overlaps=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["counts"]["overlap"])' "$D/report.json")
printf 'wstape inspect       %7.0f MB/s wall   %7.0f MB/s per CPU second   %.2f s   (%s seq gaps, %s overlaps)   target >= 300 MB/s\n' \
	"$(mbps "$raw" "$iw")" "$(mbps "$raw" "$icpu")" "$iw" "$gaps" "$overlaps"
printf 'jansson scan         %7.0f MB/s wall   %7.0f MB/s per CPU second   %.2f s   (%s seq gaps)\n' \
	"$(mbps "$raw" "$jw")" "$(mbps "$raw" "$jcpu")" "$jw" "$jgaps"
printf 'jsmn tokenize only   %7.0f MB/s wall   %7.0f MB/s per CPU second   %.2f s   (keys only: no identity hashes, no dedup windows)\n' \
	"$(mbps "$raw" "$kw")" "$(mbps "$raw" "$kcpu")" "$kw"
printf 'cat --payload | jq   %7.0f MB/s wall   (%d records, %.0f MB slice: %.2f s; %.0f s extrapolated to the journal)\n' \
	"$(mbps "$slice" "$qw")" "$NJQ" "$(echo "$slice / 1000000" | bc -l)" "$qw" "$(echo "$qw * $raw / $slice" | bc -l)"
printf 'speed ratios         inspect = %.1fx jansson (wall), %.1fx (CPU);   %.0fx cat|jq (wall, extrapolated);   %.2fx jsmn keys-only (CPU)\n' \
	"$(echo "$jw / $iw" | bc -l)" "$(echo "$jcpu / $icpu" | bc -l)" \
	"$(echo "($qw * $raw / $slice) / $iw" | bc -l)" "$(echo "$kcpu / $icpu" | bc -l)"
printf 'max RSS              inspect %d MB (bounded whatever the journal size: docs/INSPECT.md), jansson scan %d MB\n' \
	$((irss / 1024)) $((jrss / 1024))
