# t74: the JetStream commands and options on bad input: no server listening (pull, stream,
# publish: a clear error naming the server, exit 1; record --publish records all the same),
# a stream that does not exist (named, with `wstape stream create`), bad --stream,
# --recorder-id, --subject-name, --replicas values and --publish without --stream (exit 2,
# naming the option, before any journal is made). Never a crash.
source tests/lib.sh
source tests/nats_lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers

# expect CODE REGEX CMD...: CMD exits CODE and its stderr matches REGEX (extended, any case)
expect() {
	local want=$1 re=$2 got; shift 2
	"$@" >"$T/out" 2>"$T/err"; got=$?
	[ "$got" = "$want" ] || { cat "$T/err" >&2; fail "expected exit $want, got $got: $*"; }
	grep -qiE -- "$re" "$T/err" || { cat "$T/err" >&2; fail "stderr of '$*' does not match /$re/"; }
	grep -qiE 'segmentation|core dumped|assert|sanitizer' "$T/err" && fail "a crash: $*"
	return 0
}

dead=$(free_port)
D=nats://127.0.0.1:$dead
tport=$(free_port)
bg $PY "$PEERS/ticker_server.py" "$tport"
wait_port "$tport"
W=ws://127.0.0.1:$tport/stream

# 1. no server listening
expect 1 "127\.0\.0\.1:$dead" "$WSTAPE" pull "$D" --stream S -o "$T/p1"
[ -e "$T/p1/META" ] && fail "pull with no server left a journal"
expect 1 "127\.0\.0\.1:$dead" "$WSTAPE" stream info "$D" S
expect 1 "127\.0\.0\.1:$dead" "$WSTAPE" stream create "$D" S
"$WSTAPE" record "$W" -o "$T/j0" --max-records 50 -q || fail "record without --publish exited $?"
expect 1 "127\.0\.0\.1:$dead" "$WSTAPE" publish "$T/j0" "$D" --stream S
# record --publish with no server records all the same, and says the stream did not get it
"$WSTAPE" record "$W" -o "$T/j1" --publish "$D" --stream S --max-records 200 2>"$T/rec1.err"
rc=$?
[ "$rc" -lt 128 ] || fail "record --publish with no server died (exit $rc)"
[ "$(journal_records "$T/j1")" -ge 200 ] || fail "record --publish with no server did not record"
"$WSTAPE" verify "$T/j1" >/dev/null || fail "the journal recorded with no NATS server does not verify"
grep -qE ' (warn|error) .*stream S' "$T/rec1.err" || { cat "$T/rec1.err" >&2; fail "record did not say the stream got nothing"; }
# a host that does not resolve, a URL that is not NATS
expect 1 'no-such-host\.invalid' "$WSTAPE" stream info nats://no-such-host.invalid:4222 S

# 2. a server, and a stream that does not exist
nats_start a
U=$NATS_URL_a
expect 1 'NOPE.*stream create|stream create.*NOPE' "$WSTAPE" pull "$U" --stream NOPE -o "$T/p2"
[ -e "$T/p2/META" ] && fail "pull of a missing stream left a journal"
expect 1 'NOPE' "$WSTAPE" stream info "$U" NOPE
expect 1 'NOPE.*stream create|stream create.*NOPE' "$WSTAPE" publish "$T/j0" "$U" --stream NOPE
"$WSTAPE" record "$W" -o "$T/j2" --publish "$U" --stream NOPE --max-records 200 2>"$T/rec2.err"
rc=$?
[ "$rc" -lt 128 ] || fail "record --publish to a missing stream died (exit $rc)"
[ "$(journal_records "$T/j2")" -ge 200 ] || fail "record --publish to a missing stream did not record"
grep -qE ' (warn|error) .*NOPE.*(stream create|not exist)' "$T/rec2.err" ||
	{ cat "$T/rec2.err" >&2; fail "record did not say that stream NOPE does not exist"; }
# the stream made afterwards: publish sends what the recorder could not
"$WSTAPE" stream create "$U" NOPE >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "stream create NOPE failed"; }
"$WSTAPE" publish "$T/j2" "$U" --stream NOPE -q 2>"$T/err" || { cat "$T/err" >&2; fail "publish after stream create exited $?"; }
[ -s "$T/err" ] && { cat "$T/err" >&2; fail "publish -q said more than errors"; }
[ "$(js_msgs "$U" NOPE)" = "$(journal_records "$T/j2")" ] || fail "publish did not send what record could not"

# 3. bad values: exit 2, the option named, no journal made
bad_record() {
	local re=$1; shift
	rm -rf "$T/jb"
	expect 2 "$re" "$WSTAPE" record "$W" -o "$T/jb" "$@"
	[ -e "$T/jb" ] && fail "record $* made a journal"
	return 0
}
bad_record '--stream' --publish "$U"
for s in 'a.b' 'a b' 'a*' 'a>' 'a/b' ''; do bad_record '--stream|stream name' --publish "$U" --stream "$s"; done
long=$(printf 'r%.0s' {1..65})
for r in 'a b' 'a/b' 'a*' 'a:b' '' "$long"; do bad_record '--recorder-id' --publish "$U" --stream S --recorder-id "$r"; done
for n in 'a.b' 'a b' 'a*' 'a>' '' "$long"; do bad_record '--subject-name' --publish "$U" --stream S --subject-name "$n"; done
bad_record '--publish|server|URL' --publish '' --stream S
expect 2 '--stream' "$WSTAPE" publish "$T/j0" "$U"
expect 2 '--recorder-id' "$WSTAPE" publish "$T/j0" "$U" --stream NOPE --recorder-id 'a b'
expect 2 '--subject-name' "$WSTAPE" publish "$T/j0" "$U" --stream NOPE --subject-name 'a.b'
expect 2 "$T/none|not.*journal|no such" "$WSTAPE" publish "$T/none" "$U" --stream NOPE
expect 2 '--stream' "$WSTAPE" pull "$U" -o "$T/p3"
expect 2 '--stream|stream name' "$WSTAPE" pull "$U" --stream 'a.b' -o "$T/p3"
expect 2 '--replicas' "$WSTAPE" stream create "$U" S3 --replicas 0
expect 2 '--replicas' "$WSTAPE" stream create "$U" S3 --replicas x
expect 2 'stream name|a\.b' "$WSTAPE" stream create "$U" 'a.b'
expect 2 '--storage' "$WSTAPE" stream create "$U" S3 --storage disk
expect 2 '--discard' "$WSTAPE" stream create "$U" S3 --discard maybe
expect 2 '--max-age' "$WSTAPE" stream create "$U" S3 --max-age soon
# a replica count the one server cannot give: the server's refusal, said
expect 1 'S3' "$WSTAPE" stream create "$U" S3 --replicas 3
[ -z "$(js_msgs "$U" S3)" ] || fail "stream S3 was made with 3 replicas on one server"
echo ok
