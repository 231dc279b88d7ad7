# t71: record --publish while its NATS server is killed -9, kept down 10 s and started again
# with its store: the journal goes on growing while NATS is down, the recorder says NATS was
# lost (warn) and is back (info), and after SIGINT the stream holds every journal record once.
source tests/lib.sh
source tests/nats_lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
diag() { tail -n 15 "$T/rec.err" >&2; tail -n 5 "$T/nats-a.log" >&2; fail "$@"; }

nats_start a
U=$NATS_URL_a
"${JS_PEER[@]}" --servers "$U" create T71 >/dev/null || fail "js_stream.mjs create T71 failed"
tport=$(free_port)
bg $PY "$PEERS/ticker_server.py" "$tport"
wait_port "$tport"

bg "$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j" --publish "$U" --stream T71 --recorder-id r71 \
	2>"$T/rec.err"
rec=$!
wait_records 60 "$T/j" 300
wait_for 60 "the stream to acknowledge 200 records (MARK.nats.T71)" js_marked "$T/j" T71 200

nats_kill a
wait_log 60 "$T/rec.err" ' warn .*(NATS|nats).*(lost|down|disconnect|unreachable)| warn .*(lost|down|disconnect|unreachable).*(NATS|nats)'
n_down=$(journal_records "$T/j")
# NATS down for 10 s: the recording goes on meanwhile
sleep 10
n_up=$(journal_records "$T/j")
[ "$n_up" -ge $((n_down + 100)) ] || diag "the journal grew from $n_down to only $n_up records while NATS was down"
kill -0 "$rec" 2>/dev/null || diag "record stopped while NATS was down"
mark_down=$(cat "$T/j/MARK.nats.T71")
[ "$mark_down" -lt "$n_up" ] || diag "the mark ($mark_down) says the stream acknowledged records journaled while it was down"

nats_restart a
nats_wait_js a
# back (info), then caught up with what was journaled meanwhile (info)
wait_log 60 "$T/rec.err" ' info .*(NATS|nats).*(back|reconnected)| info .*(back|reconnected).*(NATS|nats)'
wait_for 60 "the stream to catch up with the $n_up records journaled before the restart" js_marked "$T/j" T71 "$n_up"
wait_records 60 "$T/j" $((n_up + 200))
kill -INT "$rec"
wait "$rec" || diag "record exited $? after SIGINT"
n=$(journal_records "$T/j")
[ "$(cat "$T/j/MARK.nats.T71")" = "$n" ] || diag "MARK.nats.T71 is $(cat "$T/j/MARK.nats.T71"), not $n"
js_check_journal "$U" T71 "$T/j" j r71 --feed raw --raw-ids --min "$n" \
	|| diag "the stream does not hold every record once after the outage"
[ "$(js_msgs "$U" T71)" = "$n" ] || diag "stream T71 holds $(js_msgs "$U" T71) messages, not $n"
# the spec's third log line: caught up (info), said while recording, before the closing lines
grep -qE ' info .*caught up' "$T/rec.err" || diag "record did not say (info) that the stream caught up after the outage"
echo ok
