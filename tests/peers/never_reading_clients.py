#!/usr/bin/python3
"""never_reading_clients.py - many clients that never read: does the server let them go?

usage: never_reading_clients.py PORT N SECONDS

N raw-socket clients (4 KB receive buffers, in one asyncio process, 50 at a time) take the
handshake's answer and then never read; waits until the server has reset them all (their
TCP state leaves ESTABLISHED) or SECONDS pass, and prints "closed K of N" (the caller
asserts K). A client let go before its handshake was read counts as closed.
"""
import asyncio, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
REQ = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

async def one(loop):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    await loop.sock_connect(s, ("127.0.0.1", port))
    await loop.sock_sendall(s, REQ)
    got = b""
    while b"\r\n\r\n" not in got:   # the 101, byte by byte; the frames after it stay unread
        try:
            d = await loop.sock_recv(s, 1)
        except ConnectionResetError:
            break   # let go already (a slow start on a busy machine): it counts as closed
        if not d:
            break
        got += d
    return s

def closed(socks):
    return sum(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 1 for s in socks)

async def main():
    loop = asyncio.get_running_loop()
    socks = []
    for i in range(0, n, 50):
        socks += await asyncio.gather(*(one(loop) for _ in range(min(50, n - i))))
    t0 = time.time()
    while time.time() - t0 < secs and closed(socks) < n:
        await asyncio.sleep(0.5)
    print("closed", closed(socks), "of", n, flush=True)

asyncio.run(main())
