# t72: a 3-node JetStream cluster, a stream of 3 replicas (wstape stream create --replicas 3),
# the recorder given all three URLs; the stream's leader (as `wstape stream info --json`
# names it) is killed -9 during the capture: the capture goes on, and after SIGINT the
# stream, read through a surviving node, holds every journal record once; stream info shows
# the killed node offline or not current, and current again once it is back.
source tests/lib.sh
source tests/nats_lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
diag() { tail -n 15 "$T/rec.err" >&2; cat "$T/wi.json" >&2 2>/dev/null; fail "$@"; }

nats_cluster c
URLS=$(nats_urls c)
"$WSTAPE" stream create "$URLS" T72 --replicas 3 >"$T/create.out" 2>"$T/create.err" \
	|| { cat "$T/create.err" >&2; fail "wstape stream create --replicas 3 exited $?"; }
# info through URLS: the leader and two current replicas
stream_json() { "$WSTAPE" stream info "$1" T72 --json >"$T/wi.json" 2>"$T/wi.err"; }
all_current() {
	stream_json "$1" && jq -e '.replicas == 3 and (.leader | length > 0) and (.peers | length == 2) and
		all(.peers[]; .current and (.offline | not))' "$T/wi.json" >/dev/null
}
wait_for 90 "stream T72's leader and two current replicas" all_current "$URLS"
tport=$(free_port)
bg $PY "$PEERS/ticker_server.py" "$tport"
wait_port "$tport"

bg "$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j" --publish "$URLS" --stream T72 --recorder-id r72 \
	2>"$T/rec.err"
rec=$!
wait_records 60 "$T/j" 300
wait_for 60 "the stream to acknowledge 200 records (MARK.nats.T72)" js_marked "$T/j" T72 200

stream_json "$URLS" || diag "stream info --json failed"
leader=$(jq -r .leader "$T/wi.json")
case $leader in c1 | c2 | c3) ;; *) diag "stream info names the leader '$leader', not a node of the cluster" ;; esac
nats_kill "$leader"
n_kill=$(journal_records "$T/j")
for s in c1 c2 c3; do [ "$s" = "$leader" ] || survivor=$s; done
surv_var=NATS_URL_$survivor
SURV=${!surv_var}
# the capture goes on, and so does the stream, under a new leader
wait_records 60 "$T/j" $((n_kill + 500))
wait_for 90 "the stream to acknowledge the records journaled up to the kill" js_marked "$T/j" T72 "$n_kill"
new_leader() { stream_json "$SURV" && jq -e --arg l "$leader" '.leader != $l and (.leader | length > 0)' "$T/wi.json" >/dev/null; }
wait_for 90 "a new leader of T72" new_leader
killed_down() {
	stream_json "$SURV" && jq -e --arg l "$leader" \
		'[.peers[] | select(.name == $l) | (.offline or (.current | not))] == [true]' "$T/wi.json" >/dev/null
}
wait_for 90 "stream info to show $leader offline or not current" killed_down
kill -INT "$rec"
wait "$rec" || diag "record exited $? after SIGINT"
n=$(journal_records "$T/j")
[ "$(cat "$T/j/MARK.nats.T72")" = "$n" ] || diag "MARK.nats.T72 is $(cat "$T/j/MARK.nats.T72"), not $n"
js_check_journal "$SURV" T72 "$T/j" j r72 --feed raw --raw-ids --min "$n" \
	|| diag "the stream, read through $survivor, does not hold every record once"
[ "$(js_msgs "$SURV" T72)" = "$n" ] || diag "stream T72 holds $(js_msgs "$SURV" T72) messages, not $n"

# the killed node back with its store: a current replica again, the same messages
nats_restart "$leader"
nats_wait_js "$leader"
wait_for 90 "$leader current again" all_current "$URLS"
jq -e --argjson n "$n" '.messages == $n' "$T/wi.json" >/dev/null || diag "stream info says $(jq .messages "$T/wi.json") messages, not $n"
echo ok
