#!/usr/bin/python3
"""hostile_server.py - a WebSocket server on raw sockets that misbehaves on purpose (RFC 6455).

Every connection's request line and headers (connections are counted from 1 from the first
that sends a request, so that a probe of the port is not one) are written to --log as a JSON line
{"conn": n, "path": ..., "headers": {lowercased name: value}}, and what the client sends
afterwards as {"conn": n, "client_close": code} when it is a close frame and
{"conn": n, "text": "..."} when it is a text frame. --tls CERT KEY serves wss; how the client
ended TLS is logged as {"conn": n, "tls_end": "close_notify"} or "eof" (no close_notify).
--answer-close answers the client's close frame with the same code; --close-first (hold)
closes with 1000 right after the first frame.

--mode redirect   answer every upgrade with HTTP --status (302) and Location: --location,
                  but one whose path starts with /moved as --mode hold does
--mode silent     accept TCP, read what comes, never answer (neither HTTP nor TLS)
--mode backlog    listen with a backlog of 0 and never accept: once the queue is full (a
                  connection of its own fills it), a client's TCP connect never completes
--mode hold       a valid upgrade, then one text frame {"hello":N}; stay open
--mode violate    a valid upgrade, one valid text frame, then on connection N the violation
                  number N of --violations (comma-separated; the last repeats):
                    opcode3        a frame with the reserved opcode 3
                    opcodeB        a frame with the reserved control opcode 0xB
                    frag-ping      a ping frame without FIN (a fragmented control frame)
                    rsv1           a text frame with RSV1 set, no extension negotiated
                    rsv3           a text frame with RSV3 set
                    bad-utf8       a text frame whose payload is not UTF-8
                    long-ping      a ping frame with a 126-byte payload (at most 125 allowed)
--mode sessions   a Hydromancer-like server that sends session ids and cursors holding JSON
                  escapes, then drops the connection: connection 1 gets `connected` with the
                  sessionId of --sid1 (JSON text, escapes and all) and an allFills message
                  with the cursor of --cursor1; connection 2 `connected` with --sid2 and no
                  cursor; the query of every connection is logged decoded ("query").
                  With --keep, connection 1 stays open after its messages instead.
"""
import argparse
import base64
import hashlib
import json
import socket
import ssl
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--mode", required=True, choices=["redirect", "silent", "hold", "violate", "sessions", "backlog"])
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--log", default=None)
ap.add_argument("--status", type=int, default=302)
ap.add_argument("--location", default="")
ap.add_argument("--violations", default="opcode3")
ap.add_argument("--sid1", default='"s\\r\\"1\\u00e9 &=+/x"')
ap.add_argument("--cursor1", default='"100:1706123456789:\\u0037"')
ap.add_argument("--sid2", default='"bad\\ud800"')
ap.add_argument("--keep", action="store_true")
ap.add_argument("--answer-close", action="store_true")
ap.add_argument("--close-first", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
counter = [0]
held = []


def log(obj):
    if not args.log:
        return
    with lock:
        with open(args.log, "a") as f:
            f.write(json.dumps(obj) + "\n")


def read_request(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return None, None, b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return parts[1] if len(parts) > 1 else "", headers, rest


def frame(opcode, payload, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, n])
    elif n < 65536:
        hdr = bytes([b0, 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, 127]) + n.to_bytes(8, "big")
    return hdr + payload


def upgrade(s, headers):
    key = headers.get("sec-websocket-key", "")
    acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")


def read_frames(s, conn, rest):
    """Read the client's frames until it closes; log a close frame's code."""
    buf = rest
    s.settimeout(30)
    while True:
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = int.from_bytes(buf[2:4], "big")
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = int.from_bytes(buf[2:10], "big")
                off = 10
            masked = buf[1] & 0x80
            total = off + (4 if masked else 0) + n
            if len(buf) < total:
                break
            payload = buf[off + (4 if masked else 0):total]
            if masked:
                m = buf[off:off + 4]
                payload = bytes(c ^ m[i % 4] for i, c in enumerate(payload))
            if buf[0] & 0x0F == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                log({"conn": conn, "client_close": code, "reason": payload[2:].decode("utf-8", "replace")})
                if args.answer_close:
                    s.sendall(frame(8, payload[:2]))
            elif buf[0] & 0x0F == 1:
                log({"conn": conn, "text": payload.decode("utf-8", "replace")})
            buf = buf[total:]
        try:
            d = s.recv(65536)
        except ssl.SSLEOFError:
            log({"conn": conn, "tls_end": "eof"})
            return
        except OSError:
            return
        if not d:
            if args.tls:
                log({"conn": conn, "tls_end": "close_notify"})
            return
        buf += d


VIOLATIONS = {
    "opcode3": frame(3, b"x"),
    "opcodeB": frame(0xB, b""),
    "frag-ping": frame(9, b"p", fin=False),
    "rsv1": frame(1, b'{"rsv":1}', rsv=4),
    "rsv3": frame(1, b'{"rsv":3}', rsv=1),
    "bad-utf8": frame(1, b'{"bad":"\xff\xfe"}'),
    "long-ping": frame(9, b"p" * 126),
}


def next_conn():
    with lock:
        counter[0] += 1
        return counter[0]


def handle(s):
    try:
        if args.mode == "silent":
            log({"conn": next_conn(), "accepted": True})
            s.settimeout(120)
            while s.recv(4096):
                pass
            return
        path, headers, rest = read_request(s)
        if path is None:
            return   # a probe of the port, not a client: not counted
        conn = next_conn()
        q = urllib.parse.urlsplit(path).query
        log({"conn": conn, "path": path, "headers": headers,
             "query": {k: v[0] for k, v in urllib.parse.parse_qs(q, keep_blank_values=True).items()}})
        if args.mode == "redirect" and not path.startswith("/moved"):
            s.sendall(("HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                       % (args.status, args.location)).encode())
            time.sleep(0.5)
            return
        upgrade(s, headers)
        if args.mode in ("hold", "redirect"):
            s.sendall(frame(1, json.dumps({"hello": conn}).encode()))
            if args.close_first:
                s.sendall(frame(8, (1000).to_bytes(2, "big")))
            read_frames(s, conn, rest)
        elif args.mode == "violate":
            names = args.violations.split(",")
            name = names[min(conn, len(names)) - 1]
            s.sendall(frame(1, json.dumps({"before": name}).encode()))
            time.sleep(0.2)
            s.sendall(VIOLATIONS[name])
            log({"conn": conn, "sent": name})
            read_frames(s, conn, rest)
        elif args.mode == "sessions":
            if conn == 1:
                s.sendall(frame(1, ('{"type":"connected","clientId":"c","sessionId":%s}' % args.sid1).encode()))
                s.sendall(frame(1, ('{"type":"allFills","seq":1,"cursor":%s,"fills":[]}' % args.cursor1).encode()))
                if args.keep:
                    read_frames(s, conn, rest)
                    return
            elif conn == 2:
                s.sendall(frame(1, ('{"type":"connected","clientId":"c","sessionId":%s}' % args.sid2).encode()))
            else:
                s.sendall(frame(1, b'{"type":"connected","clientId":"c","sessionId":"plain"}'))
                read_frames(s, conn, rest)
                return
            time.sleep(0.5)
    except OSError:
        pass
    finally:
        try:
            s.close()
        except OSError:
            pass


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", args.port))
if args.mode == "backlog":
    # Linux keeps backlog+1 connections queued (completed, never accepted); past that, a
    # SYN is dropped and the client's connect waits. Fill the queue, then wait forever.
    srv.listen(0)
    fill = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", args.port))
        except BlockingIOError:
            pass
        fill.append(f)
    time.sleep(0.5)
    log({"listening": True, "backlog": 0})
    while True:
        time.sleep(3600)
srv.listen(16)
ctx = None
if args.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    # a stream that ends without close_notify is told apart (tls_end "eof")
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
while True:
    c, _ = srv.accept()
    if ctx:
        try:
            c.settimeout(30)
            c = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
        except (OSError, ssl.SSLError):
            c.close()
            continue
    threading.Thread(target=handle, args=(c,), daemon=True).start()
