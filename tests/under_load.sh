#!/usr/bin/env bash
# under_load.sh - the command-line scripts again on a busy machine: BUSY busy-loop
# processes (default 2) run beside them, and the tests run at nice 15, so that a test that
# waits on a fixed sleep instead of an event shows itself. ROUNDS=N runs them N times.
# Usage: BUILD=build WSTAPE=build/wstape bash tests/under_load.sh
set -u
cd "$(dirname "$0")/.."
busy=()
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
for _ in $(seq "${BUSY:-2}"); do
	( while :; do :; done ) &
	busy+=($!)
done
rc=0
for r in $(seq "${ROUNDS:-1}"); do
	echo "under load (${BUSY:-2} busy loops, nice 15), round $r:"
	TESTS="${TESTS:-^t[0-9]}" nice -n 15 bash tests/run.sh || rc=1
done
exit $rc
