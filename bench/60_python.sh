#!/usr/bin/env bash
# 60_python.sh - records/s of the Python package (python/wstape: `for r in j.records()`,
# touching each record's payload) beside what a Python user would do without it:
# `wstape cat J | /usr/bin/python3 -c 'for l in sys.stdin: json.loads(l)'`, on the same
# journal: PY_BENCH_RECORDS (default 200000) text records of ~1 KB on 4 channels, made by
# tests/checks/py_gen_jsonl.py and `wstape import` (kept in PY_BENCH_JOURNAL, default
# /tmp/wstape-bench-python.j, for later runs). Also a channel filter and a DataFrame.
# Each figure is the best of PY_BENCH_RUNS (default 5) runs, wall time, page cache warm (the
# machine is shared: the best run is the one least disturbed).
# Target: the package >= 2x the cat | json.loads records/s.
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}" "${PY:=/usr/bin/python3}"
N=${PY_BENCH_RECORDS:-200000}
J=${PY_BENCH_JOURNAL:-/tmp/wstape-bench-python.j}
RUNS=${PY_BENCH_RUNS:-5}
TARGET=2
export PYTHONPATH=$PWD/python
GEN_VERSION=1   # bump when py_gen_jsonl.py changes what it writes
if [ ! -f "$J.complete" ] || [ "$(cat "$J.complete")" != "$N v$GEN_VERSION" ]; then
	rm -rf "$J" "$J.complete"
	echo "generating $J ($N records, once; kept for later runs)"
	$PY tests/checks/py_gen_jsonl.py "$N" | "$WSTAPE" import - -o "$J" 2>/dev/null || { echo "import failed"; exit 1; }
	echo "$N v$GEN_VERSION" >"$J.complete"
fi
cat "$J"/seg-* >/dev/null

# best wall time of RUNS runs of a command: seconds
best() {
	local b= t
	for _ in $(seq "$RUNS"); do
		t=$( { TIMEFORMAT=%R; time "$@" >/dev/null 2>&1; } 2>&1)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}
pkg() { $PY -c 'import sys, wstape
n = 0
for r in wstape.open(sys.argv[1]).records():
    n += len(r.payload) >= 0
assert n == int(sys.argv[2]), n' "$J" "$N"; }
pkg_chan() { $PY -c 'import sys, wstape
n = sum(1 for r in wstape.open(sys.argv[1]).records(channel="ch1"))
assert n == int(sys.argv[2]) // 4, n' "$J" "$N"; }
pkg_df() { $PY -c 'import sys, wstape
df = wstape.open(sys.argv[1]).to_dataframe()
assert len(df) == int(sys.argv[2])' "$J" "$N"; }
catjson() { "$WSTAPE" cat "$J" | $PY -c 'import sys, json
n = 0
for l in sys.stdin:
    json.loads(l)
    n += 1
assert n == int(sys.argv[1]), n' "$N"; }
catchan() { "$WSTAPE" cat "$J" --channel ch1 | $PY -c 'import sys, json
for l in sys.stdin: json.loads(l)'; }

tp=$(best pkg)
tc=$(best catjson)
tpc=$(best pkg_chan)
tcc=$(best catchan)
tdf=$(best pkg_df)
rate() { echo "$N / $1" | bc -l; }
ratio=$(echo "$tc / $tp" | bc -l)
rec_b=$("$WSTAPE" info "$J" --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["payload_bytes"] // d["records"])')
printf 'journal              %s: %d records of ~%d B (text, 4 channels); best of %d runs, wall\n' "$J" "$N" "$rec_b" "$RUNS"
printf '%-34s %12s %9s\n' "" "records/s" "seconds"
printf '%-34s %12.0f %9.2f\n' "wstape (Python) records()" "$(rate "$tp")" "$tp"
printf '%-34s %12.0f %9.2f\n' "wstape cat | json.loads per line" "$(rate "$tc")" "$tc"
printf '%-34s %12.0f %9.2f   (records read per second; a quarter selected)\n' "wstape (Python) channel=" "$(rate "$tpc")" "$tpc"
printf '%-34s %12.0f %9.2f\n' "wstape cat --channel | json.loads" "$(rate "$tcc")" "$tcc"
printf '%-34s %12.0f %9.2f\n' "wstape (Python) to_dataframe()" "$(rate "$tdf")" "$tdf"
printf 'the package / cat | json.loads: %.2fx   target >= %dx: %s\n' "$ratio" "$TARGET" \
	"$([ "$(echo "$ratio >= $TARGET" | bc -l)" = 1 ] && echo met || echo "NOT MET")"
