"""py_gen_jsonl.py N [--mixed] [--seed S]: N JSON lines for `wstape import` (to stdout):
text records of about 1 KB on 4 channels with numeric cursors, 2 connections, both
directions. --mixed: also binary payloads, empty payloads, a payload of each size 1, 2
and 5 MB, channels and cursors that are not UTF-8, and receive times that step back."""
import base64
import json
import random
import sys

n = int(sys.argv[1])
mixed = "--mixed" in sys.argv
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 60
r = random.Random(seed)
t = 1_795_341_600_000_000_000
mono = 1_000_000
big = {n // 4: 1 << 20, n // 2: 2 << 20, (3 * n) // 4: 5 << 20} if mixed else {}
out = sys.stdout
pad = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(4096))
for i in range(n):
    d = r.randrange(0, 200_000)
    if mixed and i % 997 == 0:
        d = -r.randrange(0, 5_000_000)
    t += d
    mono += r.randrange(1, 200_000)
    ch = i % 4
    rec = {"wall_ns": t, "mono_ns": mono, "conn": 1 + i * 2 // n, "dir": "out" if i % 50 == 0 else "in",
           "kind": "text", "channel": "ch%d" % ch, "cursor": "%d:%d:%d" % (1000 + i, t // 1_000_000, i % 7)}
    if mixed and ch == 3 and i % 8 == 3:
        del rec["channel"]
        rec["channel_b64"] = base64.b64encode(b"\xffbin").decode()
        del rec["cursor"]
        rec["cursor_b64"] = base64.b64encode(bytes([0x80, i % 256])).decode()
    if i in big:
        rec["kind"] = "binary"
        rec["payload_b64"] = base64.b64encode(r.randbytes(big[i])).decode()
    elif mixed and i % 13 == 0:
        rec["kind"] = "binary"
        rec["payload_b64"] = base64.b64encode(r.randbytes(r.randrange(0, 2000))).decode()
    elif mixed and i % 17 == 0:
        rec["payload"] = ""
    else:
        o = r.randrange(0, 3000)
        rec["payload"] = '{"type":"ch%d","seq":%d,"data":"%s"}' % (ch, i, pad[o:o + r.randrange(900, 1100)])
    out.write(json.dumps(rec, separators=(",", ":")))
    out.write("\n")
