#!/usr/bin/env bash
# make-corpus.sh - write the seed corpora fuzz/corpus/NAME/ from the fixtures (and the
# journals `wstape import` makes of them). Run once when a harness is added or the format
# changes; the fuzzers add to them in $FUZZ_BUILD/corpus/NAME, not here.
# Usage: WSTAPE=build/wstape bash fuzz/make-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${WSTAPE:=$PWD/build/wstape}"
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wstape-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
c=fuzz/corpus
rm -rf "$c"
mkdir -p "$c"/{segment,index,classify,replay_client_msg,import}

# segment: the segments of the fixtures, whole (4k blocks) and of their first lines
for f in raw hydromancer lasersell; do
	"$WSTAPE" import "fixtures/$f.jsonl" -o "$tmp/$f" --feed "$f" --block-size 4k --fsync never 2>/dev/null
	cp "$tmp/$f/seg-0000000001.wst" "$c/segment/$f.wst"
	head -n 5 "fixtures/$f.jsonl" >"$tmp/$f-5.jsonl"
	"$WSTAPE" import "$tmp/$f-5.jsonl" -o "$tmp/$f-5" --feed "$f" --fsync never 2>/dev/null
	cp "$tmp/$f-5/seg-0000000001.wst" "$c/segment/$f-5.wst"
done
# a segment of one big incompressible record, and one with every kind and both directions
$PY - "$tmp/kinds.jsonl" <<'PY'
import json, sys, base64, os, random
random.seed(7)
kinds = ["text", "binary", "ping", "pong", "open", "close", "error"]
with open(sys.argv[1], "w") as f:
    for i, k in enumerate(kinds):
        f.write(json.dumps({"wall_ns": 1795341600000000000 + i, "mono_ns": 5 - i, "conn": i, "dir": ["in", "out"][i % 2],
                            "kind": k, "channel": "c%d" % (i % 2), "cursor": "%d:%d:0" % (i, i * 10),
                            "payload_b64": base64.b64encode(bytes(random.randrange(256) for _ in range(i * 40))).decode()}) + "\n")
PY
"$WSTAPE" import "$tmp/kinds.jsonl" -o "$tmp/kinds" --fsync never 2>/dev/null
cp "$tmp/kinds/seg-0000000001.wst" "$c/segment/kinds.wst"

# index: the index of the journal fuzz/index.c builds (same records, same 4k blocks), whole
# and as it is while the writer is behind (the first records only)
$PY - "$tmp/index.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(48):
        f.write(json.dumps({"wall_ns": 1700000000000000000 + 10000000 * i, "mono_ns": 5000000000 + 10000000 * i,
                            "conn": 1 + i // 16, "dir": "in", "kind": "text", "channel": "ch%d" % (i % 3),
                            "cursor": "%d:%d:%d" % (1000 + i, 1700000000000 + 10 * i, i % 4),
                            "payload": '{"type":"data","n":%d,"pad":"%s"}' % (i, "0" * (100 + i % 7))},
                           separators=(",", ":")) + "\n")
PY
"$WSTAPE" import "$tmp/index.jsonl" -o "$tmp/index" --block-size 4k --fsync never 2>/dev/null
cp "$tmp/index/index/data.mdb" "$c/index/full.mdb"
head -n 20 "$tmp/index.jsonl" >"$tmp/index-20.jsonl"
"$WSTAPE" import "$tmp/index-20.jsonl" -o "$tmp/index-20" --block-size 4k --fsync never 2>/dev/null
cp "$tmp/index-20/index/data.mdb" "$c/index/first-20.mdb"

# classify, replay_client_msg: the fixtures' payloads, a few of each message type
$PY - "$c" fixtures/*.jsonl <<'PY'
import json, sys, hashlib, collections
out = sys.argv[1]
seen = collections.Counter()
for path in sys.argv[2:]:
    feed = path.split("/")[-1].split(".")[0]
    for line in open(path):
        r = json.loads(line)
        p = r.get("payload")
        if p is None or r.get("kind") not in ("text", "open"):
            continue
        try:
            t = json.loads(p).get("type") or json.loads(p).get("method") or "?"
        except Exception:
            t = "notjson"
        d = "replay_client_msg" if r["dir"] == "out" else "classify"
        key = (d, feed, t)
        seen[key] += 1
        if seen[key] > 2:
            continue
        name = "%s-%s-%s" % (feed, t, hashlib.sha1(p.encode()).hexdigest()[:8])
        open("%s/%s/%s" % (out, d, name), "w").write(p)
extra = {
    "classify": [
        '{"type":"allFills","seq":7,"cursor":"100:1700000000000:3","fills":[{"time":1,"txIndex":2},{"time":1,"txIndex":2}]}',
        '{"type":"replay","subscriptionType":"userFills","chunk":0,"totalChunks":1,"count":1,"hasGap":true,"cursor":"5","fills":[{"time":1}]}',
        '{"type":"reconnected","clientId":"c","sessionId":"s","subscriptions":["allFills","l4BookUpdates"],"lastSeq":0}',
    ],
    "replay_client_msg": [
        '{"method":"unsubscribe","subscription":{"type":"allFills"}}',
        '{"method":"subscribe","subscription":{"type":"allFills","cursor":"100:1700000000000:3"}}',
        '{"method":"subscribe","subscription":{"type":"l4Book\\u0055pdates","cursor":"1700000000000"}}',
        '{"method":"ping"}',
        '{"type":"pong"}',
        '{"type":"ping","client_time_ms":1795341600000}',
        '{"type":"configure","wallet_pubkeys":[],"strategy":{}}',
    ],
}
for d, msgs in extra.items():
    for i, m in enumerate(msgs):
        open("%s/%s/extra-%d" % (out, d, i), "w").write(m)
PY

# import: the first byte is --feed (0 none, 1 raw, 2 hydromancer, 3 lasersell), then lines
i=0
for f in raw hydromancer lasersell; do
	case $f in raw) m=1 ;; hydromancer) m=2 ;; lasersell) m=3 ;; esac
	{ printf '%s' $m; head -n 12 "fixtures/$f.jsonl"; } >"$c/import/$f-head"
	{ printf '0'; sed -n '20,30p' "fixtures/$f.jsonl"; } >"$c/import/$f-mid"
done
printf '0%s\n' '{"time":"2026-11-22T10:00:00.5Z","payload_b64":"AAEC/w==","cursor_b64":"3q2+7w==","channel":"x"}' \
	'{"time":"1795341600123","kind":"binary","dir":"out","conn":4294967295,"payload":""}' \
	'{"wall_ns":-1,"mono_ns":-9223372036854775808,"kind":"close","payload":"{\"code\":1000}"}' \
	| sed '2,$s/^0//' >"$c/import/forms"
printf '2%s\n' '{"wall_ns":1,"payload":"{\"type\":\"allFills\",\"cursor\":\"1:2:3\",\"fills\":[]}"}' \
	'{"wall_ns":2,"payload":"x"}' '[1]' '{"wall_ns":3}' | sed '2,$s/^2//' >"$c/import/bad-line"
du -sh "$c"; for d in "$c"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done
