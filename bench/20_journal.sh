#!/usr/bin/env bash
# 20_journal.sh - journal append, scan, on-disk size and seek, beside what a user would do
# instead: JSON lines compressed with `zstd -3` or `gzip -6`, read back with `zstd -dc`.
# RECORDS (default 1300000, ~1.1 GB of ~860-byte allFills messages) sets the size.
set -u
: "${BUILD:=build}"
N=${RECORDS:-1300000}
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-journal.XXXXXX")
trap 'rm -rf "$D"' EXIT
out=$("$BUILD/bench/journal_bench" "$D" "$N") || { echo "journal_bench failed"; exit 1; }
get() { echo "$out" | sed -n "s/^$1=//p"; }
raw=$(get raw_bytes)
seg=$(get segment_bytes)
t0=$(date +%s.%N); zstd -3 -q -c "$D/records.jsonl" > "$D/records.jsonl.zst"; t1=$(date +%s.%N)
zsize=$(stat -c %s "$D/records.jsonl.zst")
zstd_mbps=$(echo "$raw / ($t1 - $t0) / 1000000" | bc -l)
t0=$(date +%s.%N); zstd -dc "$D/records.jsonl.zst" > /dev/null; t1=$(date +%s.%N)
unz_mbps=$(echo "$raw / ($t1 - $t0) / 1000000" | bc -l)
half_ms=$(echo "($t1 - $t0) * 1000 / 2" | bc -l)
if [ "${GZIP_SAMPLE:-1}" = 1 ]; then
	gsize=$(gzip -6 -c "$D/records.jsonl" | wc -c)
fi
printf 'records              %d, %.2f GB of payload (~%d B each)\n' "$N" "$(echo "$raw/1000000000" | bc -l)" $((raw / N))
printf 'append (caller)      %8.0f records/s   %.2f us CPU/record on the appending thread\n' "$(get append_caller_rate)" "$(get append_caller_cpu_us)"
printf 'append (on disk)     %8.0f records/s   %.0f MB/s   %.2f us CPU/record in all threads   target >= 400k/s\n' \
	"$(get append_durable_rate)" "$(get append_durable_mbps)" "$(get append_total_cpu_us)"
printf '  vs zstd -3 alone   %8.0f MB/s (compressing the same JSON lines): ratio %.2fx\n' "$zstd_mbps" \
	"$(echo "$(get append_durable_mbps) / $zstd_mbps" | bc -l)"
# the same on one core: every thread of the journal pinned to CPU 0 (taskset), a smaller run
if command -v taskset >/dev/null; then
	N1=$(( N < 400000 ? N : 400000 ))
	mkdir -p "$D/one"
	sync   # the gigabyte written above settles first: this measures the journal, not write-back
	out1=$(taskset -c 0 "$BUILD/bench/journal_bench" "$D/one" "$N1") && {
		r1=$(echo "$out1" | sed -n 's/^append_durable_rate=//p'); m1=$(echo "$out1" | sed -n 's/^append_durable_mbps=//p')
		printf 'append (one core)    %8.0f records/s   %.0f MB/s   compression included (taskset -c 0)   target >= 400k/s\n' "$r1" "$m1"
	}
	rm -rf "$D/one"
fi
printf 'scan                 %8.0f MB/s of payload (%.0f MB/s per CPU second)        target >= 800 MB/s\n' "$(get scan_mbps)" "$(get scan_cpu_mbps)"
printf '  vs zstd -dc        %8.0f MB/s of the JSON lines: ratio %.2fx\n' "$unz_mbps" "$(echo "$(get scan_mbps) / $unz_mbps" | bc -l)"
printf 'on disk              %d bytes of segments\n' "$seg"
printf '  vs zstd -3         %d bytes: %.3fx                                     target <= 1.10x\n' "$zsize" "$(echo "$seg / $zsize" | bc -l)"
[ -n "${gsize:-}" ] && printf '  vs gzip -6         %d bytes: %.3fx\n' "$gsize" "$(echo "$seg / $gsize" | bc -l)"
printf 'seek by time         p50 %.3f ms  p99 %.3f ms  max %.3f ms                  target < 5 ms\n' \
	"$(get seek_time_ms_p50)" "$(get seek_time_ms_p99)" "$(get seek_time_ms_max)"
printf '  vs zstd -dc to the middle of the JSON lines: %.0f ms (%.0fx the p99 seek)\n' "$half_ms" \
	"$(echo "$half_ms / $(get seek_time_ms_p99)" | bc -l)"
