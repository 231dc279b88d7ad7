#!/usr/bin/python3
"""lasersell_timeline.py - checks of what an application on the official LaserSell SDK
(peers/lasersell_sdk_timeline.mjs: every message it was handed, one JSON object a line) got
from `wstape replay --feed lasersell` through the server's drops and its reconnects. Each
mode exits 1 with the reason when its assertion fails. The arguments after MODE are the
check's own (sys.argv[1] is the first of them).

  stream REC GOT LOG SID ACT [MIN_HELLOS]
      GOT against the recording's server messages REC (one a line): every recorded message
      (keyed by type, position, mint and its stamp) exactly once and in order; hello_ok (at
      least MIN_HELLOS, default 3) and exit signals carry the session id SID; after each
      reconnect, before the stream goes on, only holdings as they stood there (the last
      balance_update per wallet and mint, position_opened of the positions open), each once
      and, when the stream followed, all of them; a reconnect after the end of the recording
      with those holdings; one while positions were open. The close_position requests the
      server logged (LOG, --log-level info): at most one per position, only for positions
      with an exit signal, some when ACT is close, none when it is read
  fixture-start GOT
      the fixture from its start (sessions 42, then 43): hello_ok says 43 once the last
      message of session 42 is in (pnl_update with profit_units 212), 42 before; both seen,
      four hello_ok at least; one exit signal, of session 42
  fixture-second GOT
      the fixture from its second session on: hello_ok says 43 only, three times at least
"""
import json
import re
import sys


def stream():
    rec_f, got_f, log_f, sid, act = sys.argv[1:6]
    min_hellos = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    sid = int(sid)
    STAMP = {"balance_update": "slot", "position_opened": "slot", "position_closed": "slot",
             "pnl_update": "server_time_ms", "liquidity_snapshot": "server_time_ms", "trade_tick": "time_ms",
             "exit_signal_with_tx": "triggered_at_ms"}
    def key(m):
        return (m["type"], m.get("position_id"), m.get("mint"), m[STAMP[m["type"]]])
    rec = [json.loads(l) for l in open(rec_f) if '"pong"' not in l and '"hello_ok"' not in l]
    got = [json.loads(l) for l in open(got_f)]
    R = [key(m) for m in rec]
    assert len(set(R)) == len(R), "the recording's messages are not unique"
    def holdings(upto):
        bal, pos = {}, {}
        for m in rec[:upto]:
            if m["type"] == "balance_update": bal[(m["wallet_pubkey"], m["mint"])] = key(m)
            elif m["type"] == "position_opened": pos[m["position_id"]] = key(m)
            elif m["type"] == "position_closed": pos.pop(m["position_id"], None)
        return set(bal.values()) | set(pos.values())
    i = hellos = 0
    blocks = []          # per hello_ok: (point, holdings expected, holdings got, stream followed)
    for n, m in enumerate(got):
        t = m["type"]
        if t == "pong":
            continue
        if t == "hello_ok":
            assert m["session_id"] == sid, ("hello_ok session_id", m["session_id"], "recorded", sid)
            hellos += 1
            blocks.append([i, holdings(i), [], False])
            continue
        assert blocks, ("a message before hello_ok", m)
        if t == "exit_signal_with_tx":
            assert m["session_id"] == sid, ("exit signal of another session", m)
        k = key(m)
        b = blocks[-1]
        if i < len(R) and k == R[i]:
            i += 1
            b[3] = True
            continue
        # not the next recorded message: only a holding re-emitted after a reconnect may be here
        assert not b[3] and len(blocks) > 1, ("message %d out of place: got %s, the next recorded is %s" %
                                              (n, k, R[i] if i < len(R) else "none (the end)"))
        assert k in b[1] and k not in b[2], ("message %d is no holding at record %d (or a second copy): %s" % (n, b[0], k))
        b[2].append(k)
    assert i == len(R), ("the SDK got %d of %d recorded messages; the next missing: %s" % (i, len(R), R[i]))
    assert hellos >= min_hellos, ("too few reconnects", hellos)
    for point, want, have, streamed in blocks[1:]:
        if streamed:
            assert set(have) == want, ("holdings at record %d" % point, sorted(want - set(have)))
    ends = [b for b in blocks[1:] if b[0] == len(R)]
    assert ends, "no reconnect after the end of the recording"
    assert any(set(b[2]) == holdings(len(R)) for b in ends), ("holdings after the end", ends)
    assert any(b[1] for b in blocks[1:] if b[0] < len(R)), "no reconnect while positions were open"
    closes = {}
    tok = {m["token_account"]: m["position_id"] for m in rec if m["type"] == "position_opened"}
    for l in open(log_f):
        mm = re.search(r'sent (\{.*"type":"close_position".*\})', l)
        if mm:
            c = json.loads(mm.group(1))
            p = c["position_id"] if "position_id" in c else tok[c["token_account"]]
            closes[p] = closes.get(p, 0) + 1
    twice = {p: c for p, c in closes.items() if c > 1}
    assert not twice, ("close_position sent more than once", twice)
    exits = {m["position_id"] for m in rec if m["type"] == "exit_signal_with_tx"}
    assert set(closes) <= exits, ("close_position for a position without exit signal", closes)
    if act == "close":
        assert closes, "the server got no close_position"
    else:
        assert not closes, ("close_position from an application that sends nothing", closes)
    print("%d messages, %d connections, %d closes" % (len(got), hellos, len(closes)))


def fixture_start():
    got = [json.loads(l) for l in open(sys.argv[1])]
    seen = set()     # once the last message of session 42 is in, a reconnect's stream is in 43
    for m in got:
        if m["type"] == "hello_ok":
            assert m["session_id"] == (43 if 212 in seen else 42), (m, sorted(seen))
        elif m["type"] == "pnl_update":
            seen.add(m["profit_units"])
    sids = [m["session_id"] for m in got if m["type"] == "hello_ok"]
    assert 42 in sids and 43 in sids and len(sids) >= 4, sids
    exits = [m for m in got if m["type"] == "exit_signal_with_tx"]
    assert len(exits) == 1 and exits[0]["session_id"] == 42, exits


def fixture_second():
    got = [json.loads(l) for l in open(sys.argv[1])]
    sids = [m["session_id"] for m in got if m["type"] == "hello_ok"]
    assert set(sids) == {43} and len(sids) >= 3, sids


MODES = {"stream": stream, "fixture-start": fixture_start, "fixture-second": fixture_second}
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit("usage: lasersell_timeline.py %s ARGS" % "|".join(MODES))
mode = MODES[sys.argv[1]]
sys.argv = sys.argv[:1] + sys.argv[2:]
mode()
