#!/usr/bin/python3
"""record_py.py OUT N URL - what a user would write instead of wstape record: a
python3-websockets client writing each message as a JSON line until N messages."""
import asyncio, json, sys, time
import websockets

async def main(url, out, n):
    got = 0
    with open(out, "w") as f:
        async with websockets.connect(url, max_size=None, compression=None) as ws:
            async for m in ws:
                f.write(json.dumps({"t": time.time_ns(), "payload": m}) + "\n")
                got += 1
                if got >= n:
                    break
    print(got)

asyncio.run(main(sys.argv[3], sys.argv[1], int(sys.argv[2])))
