#!/usr/bin/env bash
# t49_replay_metrics.sh - replay --metrics: with a client connected, /metrics (curl,
# promtool) counts it, the frames and bytes it was sent (as its own count of frames says),
# their lateness and the duplicates injected; clients that never read, let go by
# --max-buffer, are counted by reason; /healthz is 200 while serving; a bad value is refused.
. "$(dirname "$0")/replay_lib.sh"
command -v curl >/dev/null || fail "curl is needed (make deps)"
command -v promtool >/dev/null || fail "promtool is needed (Debian: prometheus; make deps)"
$RECORDINGS paced > "$T/paced.jsonl"
$WSTAPE import "$T/paced.jsonl" -o "$T/paced" --block-size 64k 2>/dev/null || fail "import paced"

expect_exit 2 "$WSTAPE" replay "$T/paced" --metrics "localhost:99999" 2>"$T/bad.err"
grep -q "replay: bad value for --metrics: 'localhost:99999' is not HOST:PORT" "$T/bad.err" ||
	fail "bad --metrics: $(cat "$T/bad.err")"

mport=$(free_port)
M=http://127.0.0.1:$mport
scrape() { curl -sf "$M/metrics" >"$T/m.txt"; }
val() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$T/m.txt"; }
at_least() { scrape && [ "$(awk -v a="$(val "$1")" -v b="$2" 'BEGIN { print (a >= b) }')" = 1 ]; }

# one client for 2 s of the paced recording (a frame every 10 ms), with duplicates
replay_start port "$T/replay.log" "$T/paced" --metrics "127.0.0.1:$mport" --dup-rate 0.2 --seed 7
healthy() { [ "$(curl -s -o "$T/h.json" -w '%{http_code}' "$M/healthz")" = 200 ]; }
wait_for 30 "healthz 200" healthy
jq -e '.status == "ok" and .clients == 0' "$T/h.json" >/dev/null || fail "healthz body: $(cat "$T/h.json")"
$PY "$PEERS/replay_client.py" take "ws://127.0.0.1:$port/" "$T/c.json" 2 & client=$!
wait_for 30 "the client counted" at_least wstape_replay_clients 1
wait_for 30 "frames sent" at_least wstape_replay_frames_sent_total 20
[ "$(val wstape_replay_clients_total)" = 1 ] || fail "clients_total: $(grep clients "$T/m.txt")"
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
curl -s "$M/healthz" | jq -e '.clients == 1' >/dev/null || fail "healthz with a client"
wait $client || fail "the client failed"
wait_for 30 "the client gone" eval 'scrape && [ "$(val wstape_replay_clients)" = 0 ]'
got=$(jq '.frames | length' "$T/c.json")
[ "$(val wstape_replay_frames_sent_total)" -ge "$got" ] && [ "$got" -gt 20 ] ||
	fail "frames sent $(val wstape_replay_frames_sent_total), the client got $got"
[ "$(val 'wstape_replay_faults_total{kind="dup"}')" -ge 1 ] || fail "no dup fault counted: $(grep faults "$T/m.txt")"
[ "$(val wstape_replay_lateness_seconds_count)" -ge 20 ] || fail "lateness: $(grep lateness_seconds_count "$T/m.txt")"
[ "$(val 'wstape_replay_lateness_seconds_bucket{le="+Inf"}')" = "$(val wstape_replay_lateness_seconds_count)" ] ||
	fail "lateness +Inf bucket is not the count"
awk '$1 == "wstape_replay_bytes_sent_total" && $2 > 8192 * 20 { ok = 1 } END { exit !ok }' "$T/m.txt" ||
	fail "bytes sent: $(grep bytes_sent "$T/m.txt")"
kill "$REPLAY_PID"

# clients that never read, --max-buffer 1m: each let go, counted by reason
replay_start port "$T/per.log" "$T/paced" --metrics "127.0.0.1:$mport" --max-buffer 1m --loop
$PY "$PEERS/never_reading_clients.py" "$port" 5 60 >"$T/never.out" 2>&1 || fail "never_reading_clients.py: $(cat "$T/never.out")"
grep -q "^closed 5 of 5" "$T/never.out" || fail "not let go: $(cat "$T/never.out")"
wait_for 30 "5 clients let go by --max-buffer" at_least 'wstape_replay_clients_dropped_total{reason="max_buffer"}' 5
[ "$(val 'wstape_replay_clients_dropped_total{reason="max_buffer"}')" = 5 ] || fail "$(grep dropped "$T/m.txt")"
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
kill "$REPLAY_PID"
no_sanitizer_reports "$T/replay.log" "$T/per.log"
echo "t49 ok"
