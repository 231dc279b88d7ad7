# t60_fuzz_inputs - every input kept for the fuzzers (fuzz/corpus/NAME, fuzz/crashes/NAME)
# runs through its harness again (fuzz/main.c instead of libFuzzer: no clang needed), so a
# crash once found and fixed stays fixed; plus the import bug the fuzzer found, end to end.
source tests/lib.sh
B=$PWD/$BUILD/fuzz
n=0
for src in fuzz/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = main ] && continue
	[ -x "$B/$name" ] || fail "harness $name not built ($B/$name)"
	dirs=(fuzz/corpus/"$name")
	[ -d fuzz/crashes/"$name" ] && dirs+=(fuzz/crashes/"$name")
	out=$("$B/$name" "${dirs[@]}" 2>&1) || fail "harness $name failed on a kept input: $out"
	echo "$name: $out"
	n=$((n + 1))
done
[ $n -ge 5 ] || fail "only $n harnesses"
# the segments the damage campaign crafted against the reader (fuzz/make-segment-crashes.sh)
# are kept, and the segment harness replays that directory itself
for f in raw4g raw1g raw0; do
	[ -s fuzz/crashes/segment/$f.wst ] || fail "fuzz/crashes/segment/$f.wst is not kept"
done
out=$("$B/segment" fuzz/crashes/segment 2>&1) || fail "the segment harness failed on the campaign's segments: $out"
[[ $out =~ ^([0-9]+)\ inputs\ ran$ ]] && [ "${BASH_REMATCH[1]}" -ge 3 ] ||
	fail "the segment harness on fuzz/crashes/segment: $out"

# a time before 1677 does not fit in 64-bit ns: a bad line, not a wrapped time
printf '%s\n' '{"time":"1013-11-22T10:00:00Z","payload":"x"}' >"$T/old.jsonl"
expect_exit 2 $WSTAPE import "$T/old.jsonl" -o "$T/old" 2>"$T/err"
grep -q 'line 1: "time" is not RFC 3339 or epoch time' "$T/err" || fail "no message for a time out of range: $(cat "$T/err")"
printf '%s\n' '{"time":"2262-04-11T23:47:16.854775807Z","payload":"x"}' >"$T/edge.jsonl"
expect_exit 0 $WSTAPE import "$T/edge.jsonl" -o "$T/edge" 2>/dev/null
$WSTAPE cat "$T/edge" | grep -q '"wall_ns":9223372036854775807' || fail "the last ns that fits was not imported as such"
printf '%s\n' '{"time":"2262-04-11T23:47:17Z","payload":"x"}' >"$T/late.jsonl"
expect_exit 2 $WSTAPE import "$T/late.jsonl" -o "$T/late" 2>/dev/null
echo ok
