#!/usr/bin/python3
"""spec_findings.py - compares what `wstape inspect --json` found in a spec feed's journal
with the truth file of the server (or fixture) that seeded the faults.

  spec_findings.py INSPECT.json TRUTH.json [--cat JOURNAL.jsonl] [--conn-gaps]

Checks, per channel of the truth file: as many seq_gap findings as seeded gaps, in the same
order, each with `missing` >= 1 (for a range rule: the lost messages or the lost ids); as
many duplicate frames as seeded; no seq_back, seq_start or dup_event anywhere (OKX's
no-change messages and snapshots are no fault); as many disconnects as seeded drops; the
channel's message count between what was sent once and everything sent (the answers that
name the channel included).
With --cat (the journal as `wstape cat` prints it): every received data frame has the
channel and cursor the spec's pointers give, each seq_gap finding names the record of the
first message after its gap and each dup_frame finding a copy of a seeded duplicate.
A gap seeded across a reconnect (Binance --drop-skip) is expected only with --conn-gaps
(the sequence followed across connections, as the book's update ids are).
Exit 0 when all hold; else each difference on a line, exit 1.
"""
import argparse
import json
import sys

# Where inspect's JSON keeps what is compared (docs/INSPECT.md, "JSON schema"): adjust here.
REPORT = {
    "findings": lambda rep: rep["findings"],
    "type": lambda f: f["type"],
    "channel": lambda f: f.get("channel", ""),
    "record": lambda f: f.get("record"),
    "missing": lambda f: f.get("missing"),
    "counts": lambda rep: rep["summary"]["counts"],
    "channels": lambda rep: {c["channel"]: c for c in rep["channels"]},
    "channel_messages": lambda c: c["messages"],
    "channel_dup_frames": lambda c: c["dup_frames"],
}
GAP, DUP, BACK, START, DUP_EVENT, DISCONNECT = "seq_gap", "dup_frame", "seq_back", "seq_start", "dup_event", "disconnect"


def binance(msg):
    """(channel, cursor, first, last) of a data message, None for a control one"""
    if not isinstance(msg, dict) or "data" not in msg or "stream" not in msg:
        return None
    d = msg["data"]
    return msg["stream"], str(d["u"]), d["U"], d["u"]


def okx(msg):
    if not isinstance(msg, dict) or "data" not in msg or "arg" not in msg:
        return None
    d = msg["data"][0]
    return "%s:%s" % (msg["arg"]["channel"], msg["arg"]["instId"]), str(d["seqId"]), d["seqId"], d["seqId"]


FEEDS = {"binance-depth": binance, "okx-books": okx}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inspect")
    ap.add_argument("truth")
    ap.add_argument("--cat")
    ap.add_argument("--conn-gaps", action="store_true")
    a = ap.parse_args()
    rep = json.load(open(a.inspect))
    truth = json.load(open(a.truth))
    parse = FEEDS[truth["feed"]]
    bad = []

    findings = REPORT["findings"](rep)
    counts = REPORT["counts"](rep)
    chans = REPORT["channels"](rep)
    for k in (BACK, START, DUP_EVENT):
        if counts.get(k, 0) != 0:
            bad.append("%s: %d found, none seeded" % (k, counts[k]))
    want_disc = truth["expect"]["disconnect"]
    if counts.get(DISCONNECT, 0) != want_disc:
        bad.append("disconnects: %d found, %d seeded" % (counts.get(DISCONNECT, 0), want_disc))
    for ch in {REPORT["channel"](f) for f in findings if REPORT["type"](f) in (GAP, DUP)} - set(truth["channels"]):
        bad.append("findings on channel %r, which had no faults seeded" % ch)

    records = {}
    if a.cat:
        for line in open(a.cat):
            r = json.loads(line)
            records[r["recno"]] = r
            if r["dir"] != "in" or r["kind"] != "text":
                continue
            try:
                m = parse(json.loads(r.get("payload", "")))
            except (ValueError, KeyError, IndexError, TypeError):
                m = None
            if m and (r["channel"], r["cursor"]) != m[:2]:
                bad.append("record %d: channel %r cursor %r, the spec gives %r %r" % (r["recno"], r["channel"], r["cursor"], m[0], m[1]))

    def at(recno):
        r = records.get(recno)
        try:
            return parse(json.loads(r["payload"])) if r else None
        except (ValueError, KeyError, IndexError, TypeError):
            return None

    for name, ch in truth["channels"].items():
        gaps = [g for g in ch["gaps"] if a.conn_gaps or not g.get("across_reconnect")]
        got = [f for f in findings if REPORT["type"](f) == GAP and REPORT["channel"](f) == name]
        if len(got) != len(gaps):
            bad.append("%s: %d seq gaps found, %d seeded (%s)" % (name, len(got), len(gaps),
                       ", ".join("%s..%s" % (g["first"], g["last"]) for g in gaps)))
        for f, g in zip(got, gaps):
            n = REPORT["missing"](f)
            ok = (n is not None and n >= 1) if truth["rule"] == "link" else n in (g["messages"], g.get("ids"))
            if not ok:
                bad.append("%s: the gap %s..%s (%d messages) found with missing %r" % (name, g["first"], g["last"], g["messages"], n))
            if records:
                m = at(REPORT["record"](f))
                if not m or m[2] != g["next"]:
                    bad.append("%s: gap finding at record %r, not at the message after %s..%s (first %s)"
                               % (name, REPORT["record"](f), g["first"], g["last"], g["next"]))
        want = sum(d["copies"] - 1 for d in ch["dups"])
        got = [f for f in findings if REPORT["type"](f) == DUP and REPORT["channel"](f) == name]
        if len(got) != want:
            bad.append("%s: %d duplicate frames found, %d seeded" % (name, len(got), want))
        if records:
            seqs = sorted(d["seq"] for d in ch["dups"])
            found = sorted(at(REPORT["record"](f))[3] if at(REPORT["record"](f)) else None for f in got)
            if found != seqs:
                bad.append("%s: duplicate findings hold seqs %s, seeded %s" % (name, found, seqs))
        c = chans.get(name)
        if c is None:
            bad.append("%s: not among inspect's channels" % name)
            continue
        if REPORT["channel_dup_frames"](c) != want:
            bad.append("%s: channel table has %d duplicate frames, %d seeded" % (name, REPORT["channel_dup_frames"](c), want))
        least = ch["messages"]
        # (an OKX subscribe answer names the channel too: one before each snapshot)
        most = least + want + len(ch["keepalives"]) + 2 * len(ch["snapshots"])
        if not least <= REPORT["channel_messages"](c) <= most:
            bad.append("%s: %d messages, the server sent %d..%d" % (name, REPORT["channel_messages"](c), least, most))
    for b in bad:
        print(b)
    if not bad:
        print("findings match the truth: %s" % ", ".join(
            "%s %d gaps %d dups" % (n, len(c["gaps"]), len(c["dups"])) for n, c in sorted(truth["channels"].items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
