#!/usr/bin/python3
"""check_merged.py - does a journal merged from two recorders (`wstape pull`) hold every
event a fake Hydromancer server produced, once?

usage: check_merged.py SERVER_LOG MERGED_DIR MERGED_JSONL A_JSONL B_JSONL --until EPOCH_S

SERVER_LOG: hydromancer_server.py --log. MERGED_DIR: the pulled journal (its META names the
recorder of each connection: recorder.<conn>). The JSONL files: `wstape cat` of the merged
journal and of each recorder's own journal.

An event is identified by its dedup key as the Hydromancer docs give it for allFills:
(fill.time, fill.txIndex). Checked:
  - the window: every event produced from the first one produced for A's first session
    (A's first `connected` message) up to --until; every one of them was produced for some
    session (nobody was subscribed: the test did not run as it meant to);
  - every event of the window is in the merged journal;
  - no event is in two of its live data messages (allFills);
  - a replay chunk that it keeps brings an event that no message before it (in the
    journal's order, which is receive-time order) brought: a chunk that only repeats what
    another recorder's messages brought is redundant and should have been dropped; one that
    only repeats its own recorder's live messages (the overlap the docs describe after a
    resume) is reported but allowed;
  - A's journal alone and B's journal alone each miss some events of the window produced
    while they were recording (from their first event on), so the merge filled them.
Prints what it found, each replay chunk kept and what it brought; exits 1 on a failure.
"""
import json
import sys

args = sys.argv[1:]
until = float("inf")
if "--until" in args:
    i = args.index("--until")
    until = float(args[i + 1])
    del args[i:i + 2]
if len(args) != 5:
    sys.exit(__doc__)
log_path, merged_dir, merged_jl, a_jl, b_jl = args
failures = []


def messages(path):
    """(record, parsed message) of each text message received, in journal order"""
    for line in open(path):
        r = json.loads(line)
        if r["dir"] != "in" or r["kind"] != "text" or "payload" not in r:
            continue
        try:
            m = json.loads(r["payload"])
        except ValueError:
            continue
        if isinstance(m, dict):
            yield r, m


def keys(m):
    """the dedup keys of a data message's events, and whether it is a replay chunk"""
    t = m.get("type")
    if t == "allFills":
        items, replay = m.get("fills"), False
    elif t == "replay" and m.get("channel") == "allFills":
        items, replay = m.get("data"), True
    else:
        return None, False
    out = []
    for it in items or []:
        ev = it[1] if isinstance(it, list) else it
        out.append((ev["time"], ev["txIndex"]))
    return out, replay


def journal_events(path):
    got, sessions, first_sid = set(), [], None
    for _, m in messages(path):
        if m.get("type") in ("connected", "reconnected"):
            sessions.append(m["sessionId"])
            continue
        ks, _ = keys(m)
        if ks:
            got.update(ks)
    return got, sessions


produced = []  # (t, key, sessions)
for line in open(log_path):
    e = json.loads(line)
    if e["ev"] == "produced" and e.get("channel", "allFills") == "allFills":
        produced.append((e["t"], tuple(e["key"]), e["sessions"]))

a_got, a_sessions = journal_events(a_jl)
b_got, b_sessions = journal_events(b_jl)
if not a_sessions or not b_sessions:
    sys.exit("FAIL: a recorder's journal has no connected message")
a_first = a_sessions[0]
start = next((t for t, _, s in produced if a_first in s), None)
if start is None:
    sys.exit("FAIL: the server produced nothing for A's first session " + a_first)
window = [(t, k, s) for t, k, s in produced if start <= t <= until]
orphans = [k for _, k, s in window if not s]
if orphans:
    failures.append(f"{len(orphans)} events of the window were produced for no session (first {orphans[:3]})")
expected = [k for _, k, _ in window]

# the merged journal: the recorder of each connection, from META recorder.<conn>
recorder_of = {}
for line in open(merged_dir + "/META"):
    k, sep, v = line.rstrip("\n").partition("=")
    if sep and k.startswith("recorder."):
        recorder_of[k[len("recorder."):]] = v
live_count, before, replays = {}, {}, []  # before: key -> recorders whose messages brought it
for r, m in messages(merged_jl):
    ks, replay = keys(m)
    if not ks:
        continue
    rec = recorder_of.get(str(r["conn"]), "?")
    if replay:
        new = [k for k in ks if k not in before]
        others = [k for k in ks if k in before and before[k] - {rec}]
        replays.append((r["recno"], rec, len(ks), len(new), len(others)))
        if not new and len(others) == len(ks):
            failures.append(f"replay chunk at record {r['recno']} (recorder {rec}): its {len(ks)} events "
                            "were all brought before by another recorder's messages (redundant, not dropped)")
    else:
        for k in ks:
            live_count[k] = live_count.get(k, 0) + 1
    for k in ks:
        before.setdefault(k, set()).add(rec)

missing = [k for k in expected if k not in before]
twice = [k for k, n in live_count.items() if n > 1]
if missing:
    failures.append(f"{len(missing)} events of the window missing from the merged journal (first {missing[:5]})")
if twice:
    failures.append(f"{len(twice)} events in two live data messages of the merged journal (first {twice[:5]})")


def own_missing(got, first_sid, sessions):
    """events of the window, from the first produced for the recorder's first session,
    that its journal lacks"""
    t0 = next((t for t, _, s in window if first_sid in s), None)
    if t0 is None:
        return None, 0
    mine = [k for t, k, _ in window if t >= t0]
    return [k for k in mine if k not in got], len(mine)


a_miss, a_n = own_missing(a_got, a_first, a_sessions)
b_miss, b_n = own_missing(b_got, b_sessions[0], b_sessions)
print(f"window: {len(expected)} events produced from {start:.3f} to {min(until, window[-1][0]) if window else start:.3f}; "
      f"merged journal: {len(before)} distinct events, {sum(live_count.values())} in live messages, "
      f"{len(replays)} replay chunks kept; recorders of its connections {sorted(set(recorder_of.values()))}")
print(f"recorder a alone: {a_n - len(a_miss or [])} of {a_n} events, missing {len(a_miss or [])} "
      f"({len(a_sessions)} sessions seen)")
print(f"recorder b alone: {b_n - len(b_miss or [])} of {b_n} events, missing {len(b_miss or [])} "
      f"({len(b_sessions)} sessions seen)")
for recno, rec, n, new, others in replays:
    print(f"replay chunk kept: record {recno}, recorder {rec}, {n} events, {new} new, "
          f"{others} brought before by another recorder")
if not a_miss:
    failures.append("recorder a's journal alone misses nothing: the test did not make a gap")
if not b_miss:
    failures.append("recorder b's journal alone misses nothing: the test did not make a gap")
if set(recorder_of.values()) < {"a", "b"}:
    failures.append(f"the merged journal's META names recorders {sorted(set(recorder_of.values()))}, not a and b")
if len(expected) < 500:
    failures.append(f"only {len(expected)} events in the window: the test did not exercise anything")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
