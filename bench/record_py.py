#!/usr/bin/python3
"""record_py.py OUT N URL - what a user would write instead of wstape record: a
python3-websockets client writing each message as a JSON line until N messages.

Prints "messages secs cpu_s": the time and the process's CPU (user + system) from the first
message received to the Nth, measured in the process. The close is not timed: against a
source that keeps sending, websockets' close handshake reads (and pays for) everything the
source sends until its close timeout, which has nothing to do with recording; so after the
Nth message the file is flushed and the connection dropped (transport.abort()), the way
wstape record --max-records ends too."""
import asyncio, json, os, sys, time
import websockets

async def main(url, out, n):
    got = 0
    t0 = c0 = t1 = c1 = 0.0
    f = open(out, "w")
    ws = await websockets.connect(url, max_size=None, compression=None)
    async for m in ws:
        if got == 0:
            t0, c0 = time.monotonic(), time.process_time()
        f.write(json.dumps({"t": time.time_ns(), "payload": m}) + "\n")
        got += 1
        if got >= n:
            break
    f.flush()
    t1, c1 = time.monotonic(), time.process_time()
    f.close()
    ws.transport.abort()
    print("%d %.6f %.6f" % (got, t1 - t0, c1 - c0), flush=True)

asyncio.run(main(sys.argv[3], sys.argv[1], int(sys.argv[2])))
