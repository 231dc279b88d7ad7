"""ready.py - for a client that must be running before its server starts (a live replay's
timeline starts with the server: a client that takes seconds to start on a loaded machine
would join it late). Importing it creates the file $READY, then waits (60 s at most) until
127.0.0.1:$READY_PORT accepts a connection. tests/lib.sh's client_first starts the pair."""
import os
import socket
import sys
import time

open(os.environ["READY"], "w").close()
_end = time.monotonic() + 60
while True:
    with socket.socket() as _s:
        if _s.connect_ex(("127.0.0.1", int(os.environ["READY_PORT"]))) == 0:
            break
    if time.monotonic() > _end:
        sys.exit("ready.py: nothing listens on port %s after 60 s" % os.environ["READY_PORT"])
    time.sleep(0.05)
