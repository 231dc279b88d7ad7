#!/usr/bin/env bash
# under_load.sh - the command-line scripts again on a busy machine: BUSY busy-loop
# processes (default 2) run beside them, and the tests run at nice 15, so that a test that
# waits on a fixed sleep instead of an event shows itself. ROUNDS=N runs them N times, one
# round after the other, or all at once with CONCURRENT=1: each test process then gets the
# same share of a core beside the busy loops as in a round alone (the scheduler shares by
# process), and N rounds take about the time of one.
# Usage: BUILD=build WSTAPE=build/wstape bash tests/under_load.sh
set -u
cd "$(dirname "$0")/.."
busy=() rounds=()
trap 'kill "${busy[@]}" "${rounds[@]}" 2>/dev/null' EXIT
for _ in $(seq "${BUSY:-2}"); do
	( while :; do :; done ) &
	busy+=($!)
done
round() { # N
	echo "under load (${BUSY:-2} busy loops, nice 15), round $1:"
	TESTS="${TESTS:-^t[0-9]}" nice -n 15 bash tests/run.sh
}
rc=0
if [ "${CONCURRENT:-0}" = 1 ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/wstape-load.XXXXXX")
	for r in $(seq "${ROUNDS:-1}"); do
		round "$r" > "$out/$r" 2>&1 &
		rounds+=($!)
	done
	for i in "${!rounds[@]}"; do
		wait "${rounds[$i]}" || rc=1
		cat "$out/$((i + 1))"
	done
	rm -rf "$out"
else
	for r in $(seq "${ROUNDS:-1}"); do
		round "$r" || rc=1
	done
fi
exit $rc
