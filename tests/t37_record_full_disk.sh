# t37: the disk fills up while recording (a 3 MB tmpfs): a clear message naming the journal,
# exit 3, and a journal that still opens, verifies and holds what was written before; with
# room again, --resume goes on in it.
source tests/lib.sh
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
	echo "note: cannot mount a tmpfs here (not root?): skipped; test_journal covers ENOSPC with RLIMIT_FSIZE"
	exit 0
fi
trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT
# the source: incompressible binary frames, looped as fast as the recorder reads
$PY - >"$T/src.jsonl" <<'PY'
import base64, json, os
for i in range(200):
    print(json.dumps({"wall_ns": 1795341600000000000 + i * 1000000, "dir": "in", "kind": "binary",
                      "payload_b64": base64.b64encode(os.urandom(20000)).decode()}))
PY
"$WSTAPE" import "$T/src.jsonl" -o "$T/src" 2>/dev/null || fail "import"
port=$(free_port)
bg "$WSTAPE" replay "$T/src" --listen 127.0.0.1:$port --speed max --loop
wait_port "$port"
expect_exit 3 "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/small/j" --duration 60s -q 2>"$T/err"
grep -q "cannot write journal '$T/small/j'" "$T/err" || fail "the message does not name the journal: $(cat "$T/err")"
grep -q "No space left on device" "$T/err" || fail "the message does not say the disk is full: $(cat "$T/err")"
"$WSTAPE" verify "$T/small/j" >"$T/verify.out" 2>&1 || fail "the journal does not verify after ENOSPC: $(cat "$T/verify.out")"
n=$("$WSTAPE" info "$T/small/j" --json | jq .records)
[ "$n" -gt 20 ] || fail "only $n records kept"
# room again, as the message advises: --resume goes on in the same journal
mount -o remount,size=40m "$T/small" || fail "remount"
"$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/small/j" --resume --max-records 100 -q 2>"$T/err2" ||
	fail "--resume after freeing space exited $?: $(cat "$T/err2")"
"$WSTAPE" verify "$T/small/j" >/dev/null 2>&1 || fail "the journal does not verify after --resume"
n2=$("$WSTAPE" info "$T/small/j" --json | jq .records)
[ "$n2" -gt "$n" ] || fail "--resume added nothing ($n -> $n2)"
echo ok
