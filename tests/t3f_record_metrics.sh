# t3f: record --metrics against a fake Hydromancer server that skips seq numbers, sends
# events twice and says hasGap on resumed replays: /metrics (curl, promtool) counts what
# the journal holds, per channel; the live inspect finds the gaps, duplicates and the hasGap
# replay while recording, as counters and warnings; /healthz turns 503 when the recorder has
# been disconnected longer than --health-max-down and 200 again once it reconnects; bad
# --metrics values and a port in use are refused with a message and an exit code.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
command -v curl >/dev/null || fail "curl is needed (make deps)"
command -v promtool >/dev/null || fail "promtool is needed (Debian: prometheus; make deps)"
port=$(free_port)
mport=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token tok --log "$T/server.log" \
	--rate 200 --batch 2 --skip-seq-every 40 --dup-every 55 --force-has-gap --down-s 2.5
srv=$!
wait_port "$port"

# refused before anything is recorded: a bad value (usage, 2), a port in use (5)
expect_exit 2 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=tok" -o "$T/bad" --metrics 9100 2>"$T/bad.err"
grep -q "bad value for --metrics: '9100' is not HOST:PORT" "$T/bad.err" || fail "bad --metrics: $(cat "$T/bad.err")"
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=tok" -o "$T/busy" --feed hydromancer \
	--metrics "127.0.0.1:$port" 2>"$T/busy.err"
grep -q -- "--metrics: cannot listen on '127.0.0.1:$port': the port is in use" "$T/busy.err" ||
	fail "port in use: $(cat "$T/busy.err")"
[ ! -e "$T/busy" ] || fail "a refused --metrics left a journal behind"

bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=tok" -o "$T/j" --feed hydromancer \
	--subscribe allFills --metrics "127.0.0.1:$mport" --health-max-down 1s 2>"$T/rec.err"
rec=$!
M=http://127.0.0.1:$mport
scrape() { curl -sf "$M/metrics" >"$T/m.txt"; }
# the value of one sample (NAME{labels} as rendered), 0 when absent
val() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$T/m.txt"; }
# the sum of a family's samples whose labels hold $2 (a label="value" text)
sum() { awk -v n="$1" -v l="$2" 'index($1, n "{") == 1 && index($1, l) { s += $2 } END { print s + 0 }' "$T/m.txt"; }
at_least() { scrape && [ "$(awk -v a="$(val "$1")" -v b="$2" 'BEGIN { print (a >= b) }')" = 1 ]; }
health_is() { [ "$(curl -s -o "$T/h.json" -w '%{http_code}' "$M/healthz")" = "$1" ]; }

wait_for 60 "the recorder's metrics" at_least 'wstape_record_connected' 1
health_is 200 || fail "healthz while connected: $(cat "$T/h.json")"
jq -e '.status == "ok" and .connected == true' "$T/h.json" >/dev/null || fail "healthz body: $(cat "$T/h.json")"
wait_for 60 "a seq gap found live" at_least 'wstape_record_seq_gaps_total{channel="allFills"}' 2
wait_for 60 "a duplicate found live" at_least 'wstape_record_duplicate_events_total{channel="allFills"}' 1
[ "$(val 'wstape_record_missing_messages_total{channel="allFills"}')" -ge 2 ] || fail "missing messages: $(grep missing "$T/m.txt")"
wait_log 30 "$T/rec.err" ' warn wstape record: live inspect: seq_gap \(gaps\) at record [0-9]+, channel allFills: seq gap on conn 1'
wait_log 30 "$T/rec.err" ' warn wstape record: live inspect: dup_event \(dups\) at record [0-9]+, channel allFills'
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
curl -sI "$M/metrics" | grep -qi '^content-type: text/plain; version=0.0.4' || fail "content type of /metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$M/nothing")" = 404 ] || fail "another path is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M/metrics")" = 405 ] || fail "POST is not 405"

# with the server paused, the frames counted equal the journal's records, per channel, and
# the live findings equal what inspect finds in the journal afterwards
kill -STOP "$srv"
same() {
	scrape || return 1
	local m j
	m=$(sum wstape_record_frames_total 'channel="allFills"')
	j=$(journal_records "$T/j" allFills)
	[ "$m" = "$j" ] && [ "$j" -gt 0 ]
}
wait_for 30 "the frames counted to equal the journal's allFills records" same
gaps=$(val 'wstape_record_seq_gaps_total{channel="allFills"}')
dups=$(val 'wstape_record_duplicate_events_total{channel="allFills"}')
"$WSTAPE" inspect "$T/j" --json >"$T/inspect.json" 2>/dev/null
[ "$(jq '[.findings[] | select(.type == "seq_gap")] | length' "$T/inspect.json")" = "$gaps" ] ||
	fail "live seq gaps $gaps, inspect's: $(jq -c '[.findings[] | select(.type == "seq_gap")] | length' "$T/inspect.json")"
[ "$(jq '[.findings[] | select(.type == "dup_event")] | length' "$T/inspect.json")" = "$dups" ] ||
	fail "live duplicates $dups, inspect's differ"
kill -CONT "$srv"

# a hard drop, then 2.5 s of HTTP 503: unhealthy after 1 s, healthy again once resumed (a
# replay that says hasGap)
kill -USR1 "$srv"
wait_for 30 "healthz 503 while disconnected" health_is 503
jq -e '.status == "unhealthy" and (.reason | test("not connected for"))' "$T/h.json" >/dev/null ||
	fail "healthz body when down: $(cat "$T/h.json")"
wait_for 60 "healthz 200 after the reconnect" health_is 200
wait_for 60 "the hasGap replay found live" at_least 'wstape_record_replay_gaps_total{channel="allFills"}' 1
wait_log 30 "$T/rec.err" ' warn wstape record: live inspect: replay_has_gap \(gaps\)'
scrape
[ "$(val wstape_record_reconnects_total)" -ge 1 ] || fail "reconnects: $(grep reconnects "$T/m.txt")"
[ "$(val 'wstape_record_connect_failures_total{phase="http"}')" -ge 1 ] || fail "failures: $(grep failures "$T/m.txt")"
awk '$1 == "wstape_record_downtime_seconds_total" && $2 > 1 { ok = 1 } END { exit !ok }' "$T/m.txt" ||
	fail "downtime: $(grep downtime "$T/m.txt")"
[ "$(val 'wstape_record_findings_total{class="gaps",type="replay_has_gap"}')" -ge 1 ] || fail "findings by class"
awk '$1 == "wstape_journal_disk_bytes" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/m.txt" || fail "disk bytes"
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"

kill -INT "$rec"
wait "$rec" || fail "record exited $?: $(tail -3 "$T/rec.err")"
echo "t3f ok"
