#!/usr/bin/env bash
# run.sh - run each libFuzzer harness named on the command line for FUZZ_SECONDS on its
# corpus, one after the other, and print one line per harness: executions, exec/s, corpus
# size, and whether it found something. New inputs go to $FUZZ_BUILD/corpus/NAME (the
# corpus in the repository is only read), a crash to $FUZZ_BUILD/crashes/NAME/ (copy it
# to fuzz/crashes/NAME/ once fixed: `make test` replays that directory).
# FUZZ_SKIP: a regex of harness names not to run. Exit 1 when a harness found something.
set -u
cd "$(dirname "$0")/.."
: "${FUZZ_BUILD:=build-fuzz}" "${FUZZ_SECONDS:=60}" "${FUZZ_SKIP:=}"
found=0
printf '%-20s %10s %9s %7s  %s\n' harness execs exec/s corpus result
for name in "$@"; do
	if [ -n "$FUZZ_SKIP" ] && [[ $name =~ ^($FUZZ_SKIP)$ ]]; then
		printf '%-20s %10s %9s %7s  %s\n' "$name" - - - "skipped (FUZZ_SKIP)"
		continue
	fi
	bin=$FUZZ_BUILD/fuzz/$name
	new=$FUZZ_BUILD/corpus/$name crash=$FUZZ_BUILD/crashes/$name log=$FUZZ_BUILD/logs/$name.log
	mkdir -p "$new" "$crash" "$(dirname "$log")" "fuzz/corpus/$name"
	dict=(); [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
	opts=(); [ -f "fuzz/$name.options" ] && read -r -a opts <"fuzz/$name.options"
	"$bin" "${opts[@]}" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
		-artifact_prefix="$crash/" "$new" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	units=$(( $(find "$new" "fuzz/corpus/$name" -type f | wc -l) ))
	slow=$(grep -o "Test unit written to .*slow-unit-[0-9a-f]*" "$log" | tail -1 | sed 's/Test unit written to //')
	if [ $rc -eq 0 ] && [ -n "$slow" ]; then
		found=1   # libFuzzer exits 0 on a slow unit: a hang to fix all the same
		result="FOUND a slow input (libFuzzer -report_slow_units, 10 s) -> $slow"
	elif [ $rc -eq 0 ]; then
		result="no finding"
	else
		found=1
		art=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
		what=$(grep -m1 -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*check failed)" "$log")
		result="FOUND (exit $rc): ${what:-see $log} ${art:+-> $art}"
	fi
	printf '%-20s %10s %9s %7s  %s\n' "$name" "${execs:--}" "${eps:--}" "$units" "$result"
done
exit $found
