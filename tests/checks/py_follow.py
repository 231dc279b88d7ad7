"""py_follow.py JOURNAL OUT STOP READY: tails JOURNAL with records(follow=True) from before
it exists (waiting up to 60 s for a writer to create it) and writes every record, as
`wstape cat` prints it, to OUT; touches READY once it reads. STOP: 'close' ends at the first close
record, or a number N ends after record N. Exits 1 if that does not come within 120 s."""
import json
import os
import sys
import time

import wstape

J, OUT, STOP, READY = sys.argv[1:5]
end = time.monotonic() + 60
while True:
    try:
        j = wstape.open(J)
        break
    except wstape.NotJournalError:
        if time.monotonic() > end:
            sys.exit("no journal at %s after 60 s" % J)
        time.sleep(0.02)
open(READY, "w").close()
n = 0
with open(OUT, "w", buffering=1) as out:
    for r in j.records(follow=True, timeout=120, poll=0.02):
        out.write(json.dumps(r.json(), separators=(",", ":")) + "\n")
        n += 1
        if (STOP == "close" and r.kind == "close") or (STOP != "close" and r.recno >= int(STOP)):
            print("py_follow: %d records, the last #%d, while the writer appended" % (n, r.recno))
            sys.exit(0)
sys.exit("py_follow: the end did not come within 120 s (%d records)" % n)
