#!/usr/bin/env bash
# t75_pull - `wstape stream` and `wstape pull` on the command line, against one nats-server:
# the errors (no server, no stream, a J that pull did not make, bad options), stream create
# and info (text and --json, a refused setting), two recorders' journals published
# (`wstape publish`) and pulled into one journal: the union in receive-time order, each
# recorder's connection a connection of J, a redundant replay chunk dropped and a partly new
# one kept; a message that is no wstape record skipped; --from/--to/--channel; a second pull
# that goes on; --follow.
source "$(dirname "$0")/lib.sh"
SRC=$PWD
command -v nats-server > /dev/null || fail "nats-server is needed"
PUT=$SRC/$BUILD/tests/js_put
[ -x "$PUT" ] || fail "no $PUT (make)"

P=$(free_port)
U=nats://127.0.0.1:$P
DEAD=nats://127.0.0.1:$(free_port)
bg nats-server -a 127.0.0.1 -p "$P" -js -sd "$T/sd" -l "$T/nats.log"
wait_port "$P"

# ---- errors ----
expect_exit 1 "$WSTAPE" stream info "$DEAD" S 2> "$T/err"
grep -qF "$DEAD" "$T/err" && grep -q -- "-js" "$T/err" || fail "no server: $(cat "$T/err")"
expect_exit 1 "$WSTAPE" pull "$DEAD" --stream S -o "$T/x" 2> "$T/err"
grep -qF "$DEAD" "$T/err" || fail "pull, no server: $(cat "$T/err")"
[ ! -e "$T/x" ] || fail "pull with no server left $T/x"
expect_exit 1 "$WSTAPE" stream info "$U" S 2> "$T/err"
grep -q "no stream 'S'" "$T/err" && grep -q "wstape stream create" "$T/err" || fail "no stream: $(cat "$T/err")"
expect_exit 1 "$WSTAPE" pull "$U" --stream S -o "$T/x" 2> "$T/err"
grep -q "no stream 'S'" "$T/err" && grep -q "wstape stream create" "$T/err" || fail "pull, no stream: $(cat "$T/err")"
[ ! -e "$T/x" ] || fail "pull of no stream left $T/x"
expect_exit 2 "$WSTAPE" pull "$U" -o "$T/x" 2> /dev/null
expect_exit 2 "$WSTAPE" pull "$U" --stream S 2> /dev/null
expect_exit 2 "$WSTAPE" pull --stream S -o "$T/x" 2> /dev/null
expect_exit 2 "$WSTAPE" pull "$U" --stream 'a.b' -o "$T/x" 2> /dev/null
expect_exit 2 "$WSTAPE" pull "$U" --stream S -o "$T/x" --from 2026-01-02T00:00:00Z --to 2026-01-01T00:00:00Z 2> /dev/null
expect_exit 2 "$WSTAPE" pull "$U" --stream S -o "$T/x" --reorder 1s 2> /dev/null
expect_exit 2 "$WSTAPE" stream frob "$U" S 2> /dev/null
expect_exit 2 "$WSTAPE" stream create "$U" 2> /dev/null
expect_exit 2 "$WSTAPE" stream create "$U" S --storage disk 2> /dev/null
expect_exit 2 "$WSTAPE" stream create "$U" S --replicas 0 2> /dev/null
expect_exit 2 "$WSTAPE" stream info "$U" S --max-age 1h 2> /dev/null

# ---- stream create and info ----
"$WSTAPE" stream create "$U" S --max-age 1d --dup-window 2m > "$T/create.txt" || fail "stream create"
grep -q '^stream  *S$' "$T/create.txt" && grep -q '^dup window  *2m$' "$T/create.txt" &&
	grep -q 'max age 1d' "$T/create.txt" || fail "create printed: $(cat "$T/create.txt")"
"$WSTAPE" stream create "$U" S --max-age 1d --dup-window 2m --max-msgs 100000 > /dev/null || fail "stream update"
"$WSTAPE" stream info "$U" S --json > "$T/info.json" || fail "stream info --json"
jq -e '.name == "S" and .subjects == ["wstape.>"] and .replicas == 1 and .dup_window_s == 120 and
	.max_age_s == 86400 and .max_msgs == 100000 and .max_bytes == 0 and .storage == "file" and
	.retention == "limits" and .discard == "old" and .messages == 0 and .first_seq == 0 and
	.last_ts == null and .peers == []' "$T/info.json" > /dev/null || fail "info --json: $(cat "$T/info.json")"
expect_exit 1 "$WSTAPE" stream create "$U" S --replicas 3 2> "$T/err"
grep -q "replicas" "$T/err" || fail "a refused setting: $(cat "$T/err")"
expect_exit 1 "$WSTAPE" stream create "$U" S --storage memory 2> "$T/err"
grep -q "storage" "$T/err" || fail "a refused change: $(cat "$T/err")"

# ---- two recorders of one Hydromancer feed ----
# a and b receive allFills events 1..6 and allTrades; a is away from 3.5 s to 6 s and gets a
# replay chunk on its return (events 4 and 5, which b brought: redundant) and another (5
# and 6: 6 is new, so kept whole); a receives event 7 alone.
$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
T0 = 1795341600 * 10**9
S = 10**9
def fill(i): return ["0x%x" % i, {"coin": "ETH", "time": 1000 + i, "txIndex": 0, "tid": i}]
def live(seq, ev): return json.dumps({"type": "allFills", "seq": seq, "cursor": "%d:%d:0" % (seq, 1000 + ev), "fills": [fill(ev)]})
def chunk(evs): return json.dumps({"type": "replay", "channel": "allFills", "chunk": 1, "totalChunks": 1, "data": [fill(e) for e in evs]})
def trade(seq, i): return json.dumps({"type": "allTrades", "seq": seq, "trades": [["0x%x" % i, {"coin": "ETH", "closeTime": 2000 + i, "txIndex": 0}]]})
def line(f, wall, conn, payload, kind="text"):
    f.write(json.dumps({"wall_ns": wall, "conn": conn, "kind": kind, "dir": "in", "payload": payload}) + "\n")
with open(t + "/a.jsonl", "w") as f:
    line(f, T0, 1, '{"url":"ws://feed/","status":101}', "open")
    for i in (1, 2, 3):
        line(f, T0 + i * S, 1, live(i, i))
    line(f, T0 + 3 * S + S // 2, 1, '{"code":1006,"reason":"","by":"network"}', "close")
    line(f, T0 + 6 * S, 2, '{"url":"ws://feed/","status":101}', "open")
    line(f, T0 + 6 * S + 1000, 2, chunk([4, 5]))
    line(f, T0 + 6 * S + 2000, 2, chunk([5, 6]))
    line(f, T0 + 7 * S, 2, live(7, 7))
    line(f, T0 + 7 * S + 10, 2, trade(8, 1))
with open(t + "/b.jsonl", "w") as f:
    line(f, T0 + 100, 1, '{"url":"ws://feed/","status":101}', "open")
    for i in range(1, 7):
        line(f, T0 + i * S + 5000, 1, live(i, i))
    line(f, T0 + 6 * S + 500, 1, trade(7, 1))
PY
"$WSTAPE" import "$T/a.jsonl" -o "$T/A" --feed hydromancer 2> /dev/null || fail "import a"
"$WSTAPE" import "$T/b.jsonl" -o "$T/B" --feed hydromancer 2> /dev/null || fail "import b"
"$WSTAPE" publish "$T/A" "$U" --stream S --recorder-id a --subject-name feed > "$T/pub.a" 2>&1 || fail "publish a: $(cat "$T/pub.a")"
"$WSTAPE" publish "$T/B" "$U" --stream S --recorder-id b --subject-name feed > "$T/pub.b" 2>&1 || fail "publish b: $(cat "$T/pub.b")"
# and one message that is not a wstape record
printf 'wstape.feed.allFills\t\tnot a record\n' | "$PUT" "$U" > /dev/null || fail "js_put"

"$WSTAPE" pull "$U" --stream S -o "$T/J" > "$T/pull.out" 2> "$T/pull.err" || fail "pull: $(cat "$T/pull.err")"
cat "$T/pull.err"
grep -q "is not a wstape record" "$T/pull.err" || fail "the foreign message was not warned"
grep -q "1 redundant replay chunks dropped" "$T/pull.err" || fail "the redundant chunk: $(cat "$T/pull.err")"
grep -q "2 recorders" "$T/pull.err" || fail "recorders: $(cat "$T/pull.err")"
"$WSTAPE" cat "$T/J" > "$T/J.jsonl" || fail "cat J"
"$WSTAPE" verify "$T/J" > /dev/null || fail "verify J"
$PY - "$T/J.jsonl" "$T/J/META" <<'PY' || fail "the pulled journal (above)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
meta = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[2]) if "=" in l and not l.startswith("#"))
bad = []
walls = [r["wall_ns"] for r in recs]
if walls != sorted(walls):
    bad.append("not in receive-time order")
events = []
for r in recs:
    if r["kind"] != "text":
        continue
    p = json.loads(r["payload"])
    if p["type"] == "allFills":
        events.append(("live", p["fills"][0][1]["tid"]))
    elif p["type"] == "replay":
        events.append(("replay", tuple(e[1]["tid"] for e in p["data"])))
live = sorted(e for k, e in events if k == "live")
if live != [1, 2, 3, 4, 5, 6, 7]:
    bad.append(f"live events {live}, wanted each of 1..7 once")
chunks = [e for k, e in events if k == "replay"]
if chunks != [(5, 6)]:
    bad.append(f"replay chunks {chunks}, wanted the partly new (5, 6) alone")
# connections: a's 1 and 2, b's 1: three connections of J, named by recorder
conns = sorted({r["conn"] for r in recs if r["conn"]})
who = {c: meta.get(f"recorder.{c}") for c in conns}
if len(conns) != 3 or sorted(who.values()) != ["a", "a", "b"]:
    bad.append(f"connections {who}")
if meta.get("feed") != "hydromancer":
    bad.append(f"META feed {meta.get('feed')}")
opens = [r for r in recs if r["kind"] == "open"]
if len(opens) != 3:
    bad.append(f"{len(opens)} open records, wanted 3 (one per connection: kept per recorder)")
if "pulled_seq.S" not in meta:
    bad.append("no META pulled_seq.S")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
n=$(wc -l < "$T/J.jsonl")
seq=$(sed -n 's/^pulled_seq.S=//p' "$T/J/META")
last=$("$WSTAPE" stream info "$U" S --json | jq .last_seq)
[ "$seq" = "$last" ] || fail "pulled_seq.S $seq, the stream's last $last"

# a second pull goes on after pulled_seq: nothing new, then what comes
"$WSTAPE" pull "$U" --stream S -o "$T/J" 2> "$T/pull2.err" || fail "second pull: $(cat "$T/pull2.err")"
grep -q " 0 messages read" "$T/pull2.err" || fail "the second pull read again: $(cat "$T/pull2.err")"
[ "$("$WSTAPE" cat "$T/J" | wc -l)" = "$n" ] || fail "the second pull wrote records"
# a journal that pull did not make
expect_exit 2 "$WSTAPE" pull "$U" --stream S -o "$T/A" 2> "$T/err"
grep -q "did not make" "$T/err" || fail "J not made by pull: $(cat "$T/err")"

# ---- --from, --to, --channel: the same records as J's in the selection ----
sel() { # JQ-FILTER: J's records so selected, without recno and conn
	jq -c "select($1) | del(.recno, .conn)" "$T/J.jsonl"
}
got() { "$WSTAPE" cat "$1" | jq -c 'del(.recno, .conn)'; }
"$WSTAPE" pull "$U" --stream S -o "$T/C" --channel allTrades 2> /dev/null || fail "pull --channel"
[ -n "$(sel '.channel == "allTrades"')" ] || fail "no allTrades in J"
[ "$(got "$T/C")" = "$(sel '.channel == "allTrades"')" ] || fail "--channel allTrades: $(got "$T/C")"
"$WSTAPE" pull "$U" --stream S -o "$T/W" --from 1795341602 --to 1795341604 2> /dev/null || fail "pull --from --to"
w='.wall_ns >= 1795341602000000000 and .wall_ns < 1795341604000000000'
[ "$(sel "$w" | wc -l)" -ge 3 ] || fail "too few records in the window"
[ "$(got "$T/W")" = "$(sel "$w")" ] || fail "--from --to: $(got "$T/W")"
"$WSTAPE" pull "$U" --stream S -o "$T/WC" --from 1795341602 --channel allFills --subject-name feed 2> /dev/null ||
	fail "pull --from --channel --subject-name"
[ "$(got "$T/WC")" = "$(sel '.wall_ns >= 1795341602000000000 and .channel == "allFills"')" ] ||
	fail "--from --channel --subject-name: $(got "$T/WC")"
"$WSTAPE" pull "$U" --stream S -o "$T/none" --subject-name other 2> /dev/null || fail "pull of another name"
[ "$("$WSTAPE" cat "$T/none" | wc -l)" = 0 ] || fail "--subject-name other pulled records"

# ---- --follow ----
bg "$WSTAPE" pull "$U" --stream S -o "$T/F" --follow --reorder 200ms 2> "$T/follow.err"
fpid=$!
wait_records 60 "$T/F" "$n"
printf '{"wall_ns":%s,"conn":1,"payload":"{\\"type\\":\\"allFills\\",\\"seq\\":9,\\"fills\\":[[\\"0x9\\",{\\"time\\":1009,\\"txIndex\\":0,\\"tid\\":9}]]}"}\n' \
	"$(date +%s%N)" > "$T/c.jsonl"
"$WSTAPE" import "$T/c.jsonl" -o "$T/Cj" --feed hydromancer 2> /dev/null || fail "import c"
"$WSTAPE" publish "$T/Cj" "$U" --stream S --recorder-id c --subject-name feed > /dev/null 2>&1 || fail "publish c"
wait_records 60 "$T/F" $((n + 1))
kill -INT "$fpid"
wait "$fpid" || fail "pull --follow exited $? on SIGINT: $(cat "$T/follow.err")"
grep -q "records written" "$T/follow.err" || fail "no summary after --follow: $(cat "$T/follow.err")"
grep -q "^recorder\.[0-9]*=c$" "$T/F/META" || fail "recorder c's connection is not in META"
echo "t75 ok"
