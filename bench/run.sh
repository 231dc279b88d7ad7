#!/usr/bin/env bash
# run.sh - every benchmark, in order: bench/[0-9]*.sh. Each prints its figures beside what
# a user would use instead, with ratios measured in the same run. BENCH=regex selects.
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
export BUILD WSTAPE PY=/usr/bin/python3
for b in bench/[0-9]*.sh; do
	[ -f "$b" ] || continue
	if [ -n "${BENCH:-}" ] && ! [[ $b =~ $BENCH ]]; then continue; fi
	echo "== $(basename "$b" .sh)"
	bash "$b" || echo "(benchmark $b failed with exit $?)"
	echo
done
