# t73: redundant capture. Two recorders (a, b) of one Hydromancer server publish into one
# JetStream stream; each loses its connection once (kill -9, away longer than the server's
# cache, then --resume), at different times. `wstape pull` merges the stream: every event the
# server produced from a's first connection to the end is in the merged journal, in one live
# message, although each recorder's journal alone misses some; a replay chunk is kept only
# when it brings something new; inspect says who filled whose gap; a pull with --from, --to
# and --channel gives that subset.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
command -v nats-server >/dev/null || fail "nats-server is needed (Debian: apt-get install nats-server)"
CACHE_S=2 # the server's cache and grace: a recorder away longer cannot get it all back itself
GRACE_S=8

np=$(free_port)
mkdir -p "$T/nats"
bg nats-server -a 127.0.0.1 -p "$np" -js -sd "$T/nats" -l "$T/nats.log"
wait_port "$np"
NATS=nats://127.0.0.1:$np
"$WSTAPE" stream create "$NATS" HM >"$T/create.out" 2>&1 || { cat "$T/create.out"; fail "stream create failed"; }

port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --log "$T/server.log" --rate 200 --batch 2 \
	--cache-s $CACHE_S --grace-s $GRACE_S
wait_port "$port"
diag() {
	for f in rec_a.err rec_b.err pull.out; do [ -f "$T/$f" ] && { echo "--- $f"; tail -8 "$T/$f"; }; done
	grep -v '"produced"' "$T/server.log" | tail -12
	fail "$@"
}

# rec ID [OPTIONS...]: a recorder of the server publishing into HM, in the background; its
# pid in PID_<ID>
rec() {
	local id=$1; shift
	bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/$id" --recorder-id "$id" --subject-name hm \
		--publish "$NATS" --stream HM --flush-ms 50 -v "$@" 2>>"$T/rec_$id.err"
	printf -v "PID_$id" %s $!
}
# the server's time (its log's clock) of its last line
server_now() { tail -n 20 "$T/server.log" | jq -R 'fromjson? | .t' 2>/dev/null | tail -n 1; }
server_past() { [ "$(echo "$(server_now) > $1" | bc -l)" = 1 ]; }
# allfills_after JOURNAL EPOCH_NS: the journal received an allFills message after the time
allfills_after() {
	journal_jq "$1" --arg t "$2" 'map(select(.channel == "allFills" and .wall_ns > ($t | tonumber))) | length > 0'
}
# away ID: kill -9 the recorder, wait until the server's cache no longer holds anything of
# what it missed (every event produced up to a moment after the kill has left the cache:
# one was produced CACHE_S + 1 s later), then start it again on its journal
away() {
	local id=$1 pid t_kill
	eval "pid=\$PID_$id"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	t_kill=$(date +%s.%N)
	wait_for 60 "the server to produce past $id's absence" server_past "$(echo "$t_kill + $CACHE_S + 1" | bc -l)"
	rec "$id" --resume
	eval "pid=\$PID_$id"
	local t0=$(date +%s%N)
	wait_for 60 "$id to receive again after --resume" allfills_after "$T/$id" "$t0"
}

rec a --feed hydromancer --subscribe allFills
wait_records 60 "$T/a" 100 allFills
rec b --feed hydromancer --subscribe allFills
wait_records 60 "$T/b" 100 allFills
away a
wait_records 60 "$T/a" "$(($(journal_records "$T/a" allFills) + 100))" allFills
# the subset pulled at the end: a stretch in which both receive live messages
t_from=$(date +%s%N)
wait_records 60 "$T/b" "$(($(journal_records "$T/b" allFills) + 100))" allFills
t_to=$(date +%s%N)
away b
wait_records 60 "$T/b" "$(($(journal_records "$T/b" allFills) + 100))" allFills
t_end=$(date +%s.%N)
t_end_ns=$(date +%s%N)
wait_for 60 "a to receive past the end" allfills_after "$T/a" "$t_end_ns"
wait_for 60 "b to receive past the end" allfills_after "$T/b" "$t_end_ns"
for id in a b; do
	eval "pid=\$PID_$id"
	kill -INT "$pid"
	wait "$pid" || diag "recorder $id exited $? at SIGINT"
done
grep -q '"hasGap":true,"ev":"replay"' "$T/server.log" ||
	echo "note: no resume replayed with hasGap (a session expired: the recorder subscribed again)"

"$WSTAPE" pull "$NATS" --stream HM -o "$T/J" >"$T/pull.out" 2>&1 || diag "pull exited $?"
cat "$T/pull.out"
"$WSTAPE" verify "$T/J" >/dev/null || diag "the pulled journal does not verify"
for j in a b J; do "$WSTAPE" cat "$T/$j" >"$T/$j.jsonl" || diag "cat $j failed"; done
$PY "$PEERS/check_merged.py" "$T/server.log" "$T/J" "$T/J.jsonl" "$T/a.jsonl" "$T/b.jsonl" --until "$t_end" ||
	diag "the merged journal is not every event once"

# inspect: both recorders, and who filled whose gap
"$WSTAPE" inspect "$T/J" >"$T/inspect.txt" 2>&1 || diag "inspect exited $?"
"$WSTAPE" inspect "$T/J" --json >"$T/inspect.json" 2>"$T/inspect.err" || diag "inspect --json exited $?"
sed -n '/^recorders/,/^$/p' "$T/inspect.txt"
grep -qiE '^recorders' "$T/inspect.txt" || { cat "$T/inspect.txt"; diag "inspect has no recorders section"; }
sed -n '/^recorders/,/^$/p' "$T/inspect.txt" | grep -qE '\ba\b.*\bb\b|filled by b' ||
	diag "inspect does not say that b filled a's gap"
$PY - "$T/inspect.json" <<'PY' || diag "inspect --json does not say that b filled a's gap and a filled b's"
import json, sys
rep = json.load(open(sys.argv[1]))
recs = rep.get("recorders")
assert isinstance(recs, list) and recs, "no recorders array"
by = {r.get("recorder") or r.get("id") or r.get("name"): r for r in recs}
assert {"a", "b"} <= set(by), f"recorders {sorted(map(str, by))}"
def fillers(r):
    out = set()
    for g in r.get("gaps") or r.get("spans") or []:
        f = g.get("filled_by")
        for x in (f if isinstance(f, list) else [f]):
            if isinstance(x, dict):
                x = x.get("recorder")
            if x:
                out.add(x)
    return out
assert "b" in fillers(by["a"]), f"a's gaps filled by {fillers(by['a'])}"
assert "a" in fillers(by["b"]), f"b's gaps filled by {fillers(by['b'])}"
print("inspect --json: a's gaps filled by", sorted(fillers(by["a"])), "- b's by", sorted(fillers(by["b"])))
PY

# the subset: --from, --to and --channel give exactly those records of the whole
"$WSTAPE" pull "$NATS" --stream HM -o "$T/J2" --from "$t_from" --to "$t_to" --channel allFills \
	>"$T/pull2.out" 2>&1 || { cat "$T/pull2.out"; diag "pull --from --to --channel exited $?"; }
"$WSTAPE" cat "$T/J2" | jq -c '[.wall_ns, .channel, .payload]' >"$T/sub.got" || diag "cat J2 failed"
"$WSTAPE" cat "$T/J" --from "$t_from" --to "$t_to" --channel allFills | jq -c '[.wall_ns, .channel, .payload]' >"$T/sub.want"
n=$(wc -l <"$T/sub.want")
[ "$n" -ge 50 ] || diag "only $n allFills records between --from and --to"
cmp -s "$T/sub.got" "$T/sub.want" ||
	diag "pull --from --to --channel allFills: $(wc -l <"$T/sub.got") records, not the $n of the whole journal in that span"
echo "subset: $n allFills records between --from and --to, the same as in the whole"
echo ok
