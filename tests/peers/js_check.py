#!/usr/bin/python3
"""js_check.py - compares a journal (`wstape cat J` JSON lines) with what a JetStream stream
holds (`node js_stream.mjs dump NAME` JSON lines), as docs/FORMAT.md "JetStream messages" and
the command-line spec describe a record's message.

  js_check.py CAT.jsonl DUMP.jsonl --name N --recorder R --journal-id ID
              [--feed F] [--ordered] [--raw-ids] [--min N]

Every record of the journal must be in the stream exactly once (the messages whose
Wstape-Journal is ID; other journals' messages are ignored), and every such message must be
one of the journal's records, with:
  subject         wstape.N.<token>: the channel's bytes [A-Za-z0-9_-] as they are, every
                  other byte %XX, "_" for no channel ("%5F" for the channel "_")
  payload         the record's payload, byte for byte
  Wstape-Recno, -Wall-Ns, -Mono-Ns, -Conn, -Dir, -Kind  the record's fields (decimal)
  Wstape-Channel, Wstape-Cursor  %XX-escaped bytes, absent when empty
  Wstape-Recorder R, Wstape-Journal ID, Wstape-Feed F (with --feed), a Nats-Msg-Id
--ordered: the stream sequences grow with the recnos. --raw-ids: every Nats-Msg-Id is
"R.ID.RECNO" (a feed that names no events). --min N: at least N records.
Prints a summary line on success (exit 0); the first problems on stderr (exit 1).
"""
import argparse, base64, json, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("cat")
ap.add_argument("dump")
ap.add_argument("--name", required=True)
ap.add_argument("--recorder", required=True)
ap.add_argument("--journal-id", required=True)
ap.add_argument("--feed")
ap.add_argument("--ordered", action="store_true")
ap.add_argument("--raw-ids", action="store_true")
ap.add_argument("--min", type=int, default=1)
a = ap.parse_args()

problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) > 20:
        finish()


def finish():
    if problems:
        for p in problems[:20]:
            print("js_check:", p, file=sys.stderr)
        if len(problems) > 20:
            print("js_check: ... and more", file=sys.stderr)
        sys.exit(1)


def field_bytes(rec, k):
    if k + "_b64" in rec:
        return base64.b64decode(rec[k + "_b64"])
    return rec.get(k, "").encode()


def token(ch):
    if ch == b"":
        return "_"
    if ch == b"_":
        return "%5F"
    return "".join(chr(c) if re.match(rb"[A-Za-z0-9_-]", bytes([c])) else "%%%02X" % c for c in ch)


def unescape(s):
    out = bytearray()
    i = 0
    b = s.encode()
    while i < len(b):
        if b[i] == 0x25:
            h = b[i + 1:i + 3]
            if len(h) != 2 or not re.fullmatch(rb"[0-9A-Fa-f]{2}", h):
                return None
            out.append(int(h, 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


recs = {}
order = []
with open(a.cat) as f:
    for line in f:
        r = json.loads(line)
        recs[r["recno"]] = r
        order.append(r["recno"])
if len(recs) < a.min:
    problem(f"the journal has {len(recs)} records, fewer than {a.min}")

seen = {}
other = 0
last_seq = {}
with open(a.dump) as f:
    msgs = [json.loads(line) for line in f if line.strip()]
prev_recno = 0
for m in msgs:
    h = m["headers"]
    if h.get("Wstape-Journal") != a.journal_id:
        other += 1
        continue
    where = f"stream seq {m['seq']}"
    try:
        recno = int(h["Wstape-Recno"])
    except (KeyError, ValueError):
        problem(f"{where}: no Wstape-Recno: {h}")
        continue
    where += f" (recno {recno})"
    if recno in seen:
        problem(f"{where}: recno {recno} again (first at stream seq {seen[recno]})")
        continue
    seen[recno] = m["seq"]
    if a.ordered and recno < prev_recno:
        problem(f"{where}: after recno {prev_recno}: out of order")
    prev_recno = max(prev_recno, recno)
    r = recs.get(recno)
    if r is None:
        problem(f"{where}: not a record of the journal")
        continue
    want = {
        "Wstape-Wall-Ns": str(r["wall_ns"]),
        "Wstape-Mono-Ns": str(r["mono_ns"]),
        "Wstape-Conn": str(r["conn"]),
        "Wstape-Dir": r["dir"],
        "Wstape-Kind": r["kind"],
        "Wstape-Recorder": a.recorder,
    }
    if a.feed:
        want["Wstape-Feed"] = a.feed
    for k, v in want.items():
        if h.get(k) != v:
            problem(f"{where}: {k} {h.get(k)!r}, the record's {v!r}")
    for k, hk in (("channel", "Wstape-Channel"), ("cursor", "Wstape-Cursor")):
        v = field_bytes(r, k)
        if not v:
            if hk in h:
                problem(f"{where}: {hk} {h[hk]!r} for an empty {k}")
        elif hk not in h:
            problem(f"{where}: no {hk} (the record's {k} is {v!r})")
        elif unescape(h[hk]) != v:
            problem(f"{where}: {hk} {h[hk]!r} is not the record's {k} {v!r}")
    subj = f"wstape.{a.name}.{token(field_bytes(r, 'channel'))}"
    if m["subject"] != subj:
        problem(f"{where}: subject {m['subject']!r}, want {subj!r}")
    if base64.b64decode(m["payload_b64"]) != field_bytes(r, "payload"):
        problem(f"{where}: the payload differs from the record's")
    mid = h.get("Nats-Msg-Id")
    if not mid:
        problem(f"{where}: no Nats-Msg-Id")
    elif a.raw_ids and mid != f"{a.recorder}.{a.journal_id}.{recno}":
        problem(f"{where}: Nats-Msg-Id {mid!r}, want {a.recorder}.{a.journal_id}.{recno}")

missing = [n for n in order if n not in seen]
if missing:
    problem(f"{len(missing)} of {len(order)} journal records not in the stream: recnos "
            + ",".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else ""))
finish()
print(json.dumps({"records": len(order), "messages": len(seen), "other_journals": other}))
