# t50_inspect_fixtures - `wstape inspect` on each fixture matches the expected reports
# beside it (text and JSON); --fail-on classes, selections and exit codes.
# UPDATE=1 rewrites the expected reports (check them by hand before committing).
source tests/lib.sh
FIX=$PWD/fixtures
cd "$T" || fail "no temp dir"

for f in hydromancer lasersell raw; do
	$WSTAPE import "$FIX/$f.jsonl" -o "$f" --feed "$f" >/dev/null 2>import.err ||
		fail "import of $f.jsonl failed: $(cat import.err)"
	expect_exit 0 $WSTAPE inspect "$f" >"$f.inspect.txt"
	expect_exit 0 $WSTAPE inspect "$f" --json >"$f.inspect.json"
	if [ -n "${UPDATE:-}" ]; then
		cp "$f.inspect.txt" "$f.inspect.json" "$FIX/"
		continue
	fi
	diff -u "$FIX/$f.inspect.txt" "$f.inspect.txt" || fail "text report of $f differs from fixtures/$f.inspect.txt"
	diff -u "$FIX/$f.inspect.json" "$f.inspect.json" || fail "JSON report of $f differs from fixtures/$f.inspect.json"
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["feed"]==sys.argv[2]' "$f.inspect.json" "$f" ||
		fail "JSON report of $f does not parse"
done

# every anomaly the fixtures were built with is found (independently of the expected files)
$PY - hydromancer.inspect.json lasersell.inspect.json raw.inspect.json <<'PYEOF' || fail "anomalies missing from the reports"
import json, sys
h, l, r = (json.load(open(p)) for p in sys.argv[1:])
c = h["summary"]["counts"]
for k, n in {"seq_gap": 1, "seq_start": 1, "cursor_back": 1, "replay_has_gap": 1,
             "replay_incomplete": 1, "stall": 1, "downtime_uncovered": 3, "dup_event": 1,
             "dup_frame": 1, "overlap": 1, "disconnect": 4, "connect_failed": 1, "not_json": 1}.items():
    assert c[k] == n, (k, c[k], n)
af = [x for x in h["channels"] if x["channel"] == "allFills"][0]
assert af["shared_key_events"] >= 3 and af["dup_events"] == 1 and af["overlap_events"] == 1, af
gap = [x for x in h["findings"] if x["type"] == "seq_gap"][0]
assert gap["record"] == 15 and gap["record_before"] == 14 and gap["missing"] == 2, gap
# how much was lost, as numbers: the gap's 2 and the 2 before conn 6's first message
assert h["summary"]["missing"] == {"messages": 4, "channels": {"allFills": 4}}, h["summary"]["missing"]
assert af["seq_missing"] == 4, af
assert l["summary"]["missing"]["messages"] == 0
conns = h["connections"]
assert [x.get("session") for x in conns if x["ok"]] == ["connected", "reconnected", "reconnected", "reconnected", "connected"]
assert conns[2]["replays_complete"] == 2 and conns[2]["replays_with_gap"] == 0
c = l["summary"]["counts"]
for k, n in {"position_never_closed": 1, "position_unknown": 1, "pnl_late": 2, "backoff": 1,
             "disconnect": 1, "connect_failed": 2, "dup_frame": 0, "seq_gap": 0}.items():
    assert c[k] == n, (k, c[k], n)
ls = l["lasersell"]
assert ls["pnl_flush_ms"] == 1000 and ls["rtt"]["count"] == 3 and 30 < ls["rtt"]["max_ms"] <= 50, ls
assert [x["backoff_ok"] for x in l["reconnects"]] == [True, False, True]
assert [x["expected_ms"] for x in l["reconnects"]] == [100, 200, 400]
assert r["summary"]["clean"] is True and r["records"]["count"] == 15
PYEOF

# a finding's record number leads to the record with cat
$WSTAPE cat hydromancer --from-record 15 --limit 1 | grep -q '\\"seq\\":8' ||
	fail "record 15 is not the message after the seq gap"

# --fail-on: exit 1 when a listed class is found, 0 when not
expect_exit 1 $WSTAPE inspect hydromancer --fail-on gaps >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --fail-on dups >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --fail-on disconnects >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --fail-on any >/dev/null
expect_exit 0 $WSTAPE inspect hydromancer --fail-on positions >/dev/null
expect_exit 1 $WSTAPE inspect lasersell --fail-on positions,gaps >/dev/null
expect_exit 0 $WSTAPE inspect lasersell --fail-on gaps >/dev/null
expect_exit 0 $WSTAPE inspect raw --fail-on any >/dev/null

# selections
expect_exit 0 $WSTAPE inspect hydromancer --channel userFills --fail-on dups,overlap >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --channel allFills --fail-on dups >/dev/null
# conn 3 alone: a complete replay, an overlap, a close by the server, no gap
expect_exit 0 $WSTAPE inspect hydromancer --conn 3 --fail-on gaps,dups >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --conn 3 --fail-on overlap >/dev/null
# before the first disconnect: the stall and the seq gap are in, the disconnect is not
expect_exit 0 $WSTAPE inspect hydromancer --to 2026-11-22T10:00:08.300Z --fail-on disconnects >/dev/null
expect_exit 1 $WSTAPE inspect hydromancer --to 2026-11-22T10:00:08.300Z --fail-on gaps >/dev/null
# from the last connection on: its seq starts at 3
$WSTAPE inspect hydromancer --from 2026-11-22T10:01:00Z --json >sel.json
$PY -c 'import json; d=json.load(open("sel.json")); c=d["summary"]["counts"]; assert d["records"]["first"]==54 and c["seq_gap"]==0 and c["cursor_back"]==1, d["records"]' ||
	fail "--from selection"
# selection edges: open state whose other end lies outside the selection is counted as cut,
# not reported (positions open at --to, events for positions opened before --from, a replay
# going on at --to and the downtime it covers)
$WSTAPE inspect lasersell --json >whole.json
$WSTAPE inspect lasersell --to 2026-11-22T10:00:09Z --json >cut1.json
$WSTAPE inspect lasersell --from 2026-11-22T10:00:01Z --json >cut2.json
$WSTAPE inspect lasersell --conn 1 --json >cut3.json
$WSTAPE inspect lasersell --from 2020-01-01T00:00:00Z --to 2030-01-01T00:00:00Z --json >cut4.json
$WSTAPE inspect hydromancer --to 2026-11-22T10:00:08.700Z --json >cut5.json
$WSTAPE inspect hydromancer --from 2026-11-22T10:00:08.700Z --json >cut6.json
$PY - whole.json cut1.json cut2.json cut3.json cut4.json cut5.json cut6.json <<'PYEOF' || fail "selection edges"
import json, sys
w, c1, c2, c3, c4, c5, c6 = (json.load(open(p)) for p in sys.argv[1:])
k = lambda d: d["summary"]["counts"]
cut = lambda d: d["selection"]["cut"]
# positions 1 and 2 are open at --to
assert k(c1)["position_never_closed"] == 0 and cut(c1)["positions_open"] == 2 and cut(c1)["end"], cut(c1)
# --from after the positions opened: their updates are not for unknown positions; position 3
# (opened later, never closed before the journal ended) still is a finding
assert k(c2)["position_unknown"] == 0 and cut(c2)["position_events"] > 0 and cut(c2)["start"], cut(c2)
assert k(c2)["position_never_closed"] == 1 and not cut(c2)["end"], c2["summary"]
# --conn 1: position 2 is closed on conn 4
assert k(c3)["position_never_closed"] == 0 and cut(c3)["positions_open"] == 1 and not cut(c3)["start"], cut(c3)
# a selection wider than the journal cuts nothing: the findings of the whole journal
assert k(c4) == k(w) and not cut(c4)["start"] and not cut(c4)["end"], cut(c4)
assert all(v == 0 for n, v in cut(c4).items() if n not in ("start", "end")), cut(c4)
# --to between the two chunks of conn 3's complete replay
assert k(c5)["replay_incomplete"] == 0 and k(c5)["downtime_uncovered"] == 0, k(c5)
assert cut(c5)["replays"] == 1 and cut(c5)["downtime"] == 1, cut(c5)
# --from between them: chunk 2 alone is not an incomplete replay (conn 5's still is)
assert k(c6)["replay_incomplete"] == 1 and cut(c6)["replays"] == 1, cut(c6)
assert [x["record"] for x in c6["findings"] if x["type"] == "replay_incomplete"] == [49]
PYEOF
expect_exit 0 $WSTAPE inspect lasersell --conn 4 --to 2026-11-22T10:00:12Z --fail-on positions >/dev/null
# lasersell --channel: positions opened and closed on other channels are followed
$WSTAPE inspect lasersell --channel pnl_update --json | $PY -c 'import json,sys; c=json.load(sys.stdin)["summary"]["counts"]; assert c["position_unknown"]==1 and c["position_never_closed"]==0, c' ||
	fail "--channel pnl_update takes every position for unknown"
$WSTAPE inspect lasersell --channel position_opened --json | $PY -c 'import json,sys; c=json.load(sys.stdin)["summary"]["counts"]; assert c["position_never_closed"]==1, c' ||
	fail "--channel position_opened takes closed positions for never closed"
$WSTAPE inspect lasersell --to 2026-11-22T10:00:09Z | grep -q "^  cut          by the selection, not findings: 2 positions open at its end$" ||
	fail "the text report does not say what the selection cut"

# a larger --stall-ms hides the 7.1 s stall
$WSTAPE inspect hydromancer --stall-ms 8000 --json | $PY -c 'import json,sys; assert json.load(sys.stdin)["summary"]["counts"]["stall"]==0' ||
	fail "--stall-ms 8000 still reports the stall"
exit 0
