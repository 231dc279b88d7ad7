#!/usr/bin/env bash
# run.sh - run every test: the cmocka suites ($BUILD/tests/test_*), then the numbered
# command-line scripts (tests/t[0-9]*.sh). TESTS=REGEX selects by name.
# Prints one line per test and a closing "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
export BUILD WSTAPE
export WSTAPE_TESTS_DIR="$PWD/tests"
export PY=/usr/bin/python3
pass=0 fail=0 failed=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/wstape-tests.XXXXXX")

run_one() {
	local name=$1; shift
	if [ -n "${TESTS:-}" ] && ! [[ $name =~ $TESTS ]]; then return; fi
	local t0=$SECONDS
	if ( "$@" ) >"$logdir/$name.log" 2>&1; then
		pass=$((pass + 1)); printf 'ok   %-40s %3ds\n' "$name" $((SECONDS - t0))
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL %-40s %3ds\n' "$name" $((SECONDS - t0))
		tail -n 40 "$logdir/$name.log" | sed 's/^/    | /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in tests/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t" .sh)" bash "$t"
done
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]} (logs in $logdir)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && rm -rf "$logdir"
[ $fail -eq 0 ]
