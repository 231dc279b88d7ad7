#!/usr/bin/env bash
# t26_bench_rec_check.sh - bench/rec_check.c, the record benchmark's nothing-lost check, on
# imported journals: messages that count up (a looped source's wrap included) pass; a
# message missing, one twice, two swapped, a second key missing or stuck each count as a
# break; records that are not server text messages holding the key are not counted; a
# directory that holds no journal is an error.
. "$(dirname "$0")/lib.sh"
CHECK=$BUILD/bench/rec_check
[ -x "$CHECK" ] || fail "$CHECK not built"

# mk NAME SEQ...: a journal of server text messages {"seq":S,"oid":100+S} (S "-": one
# without seq), with a client message, a binary frame and a connected message among them
mk() {
	local name=$1; shift
	$PY - "$@" > "$T/$name.jsonl" <<'PY'
import json, sys
out = [{"dir": "in", "kind": "text", "payload": '{"type":"connected","sessionId":"s"}'},
       {"dir": "out", "kind": "text", "payload": '{"method":"subscribe","seq":77}'}]
for i, s in enumerate(sys.argv[1:]):
    p = '{"type":"x"}' if s == "-" else '{"type":"x","seq":%s,"oid":%d}' % (s, 100 + int(s.split("/")[-1]))
    if "/" in s:  # S/O: seq S, oid 100+O
        a, b = s.split("/")
        p = '{"type":"x","seq":%s,"oid":%d}' % (a, 100 + int(b))
    out.append({"dir": "in", "kind": "text", "payload": p})
    if i == 1:
        out.append({"dir": "in", "kind": "binary", "payload": '{"seq":999}'})
for i, r in enumerate(out):
    r["wall_ns"] = 1795341600000000000 + i * 1000
    print(json.dumps(r))
PY
	$WSTAPE import "$T/$name.jsonl" -o "$T/$name" 2> /dev/null || fail "import $name"
}
# check NAME WANT ARGS...: rec_check's line for journal NAME is WANT
check() {
	local name=$1 want=$2; shift 2
	local got
	got=$($CHECK "$T/$name" "$@" | cut -d' ' -f1,4-) || fail "rec_check $name failed"
	[ "$got" = "$want" ] || fail "rec_check $name $*: got '$got', want '$want'"
}

mk wrap 2 3 4 0 1 2 3 4 0
check wrap "9 0 0 2 0" seq 5 oid 5
check wrap "9 0 2 0" seq 5
check wrap "9 2 2 0" seq 0            # no wrap allowed: each step back is a break
mk gap 0 1 3 4
check gap "4 1 0 4" seq 0
mk dup 0 1 1 2
check dup "4 1 0 2" seq 0
mk swap 0 2 1 3
check swap "4 3 0 3" seq 0
mk oid 1/1 2/2 3/2 4/4
check oid "4 0 2 1 4" seq 0 oid 0     # oid stuck at 102, then jumps
mk nokey 0 1 - 2
check nokey "3 0 0 2" seq 0           # a message without seq is not one of the source's
mk empty -
check empty "0 0 0 0" seq 0
mkdir "$T/nojournal"
expect_exit 1 $CHECK "$T/nojournal" seq 0
expect_exit 2 $CHECK "$T/wrap" seq
echo ok
