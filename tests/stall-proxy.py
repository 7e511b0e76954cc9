#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback TCP proxy that can stop forwarding, for the tests.

usage: stall-proxy.py UPSTREAM_PORT PORTFILE [after-ready]

Listens on 127.0.0.1 on a free port (written to PORTFILE once listening)
and forwards every connection to 127.0.0.1:UPSTREAM_PORT. After SIGUSR1
it stalls: it stops reading and writing on every connection, open ones and
new ones (accepted, never connected upstream), but keeps every socket
open: the peers see a TCP connection that is alive (keepalives are
answered by the kernel) and silent. With "after-ready", every connection
stalls by itself once the server said it is ready for the first query
(ReadyForQuery after the startup): connecting works, the first round trip
gets no answer. SIGTERM ends it.
"""
import os
import selectors
import signal
import socket
import sys

stalled = False


def on_usr1(signum, frame):
    global stalled
    stalled = True


def main():
    upstream = int(sys.argv[1])
    portfile = sys.argv[2]
    after_ready = len(sys.argv) > 3 and sys.argv[3] == "after-ready"
    ready = b"Z\x00\x00\x00\x05I"
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lst.getsockname()[1])
    os.rename(tmp, portfile)
    sel = selectors.DefaultSelector()
    sel.register(lst, selectors.EVENT_READ)
    peer = {}
    upstreams = set()
    seen = {}  # upstream socket -> bytes seen so far (after-ready)
    kept = []  # sockets held open, silent, once stalled
    froze = False
    while True:
        if stalled and not froze:
            for s in list(peer):
                sel.unregister(s)
                kept.append(s)
            peer.clear()
            froze = True
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            if s is lst:
                c, _ = lst.accept()
                if stalled:
                    kept.append(c)
                    continue
                u = socket.create_connection(("127.0.0.1", upstream))
                peer[c] = u
                peer[u] = c
                upstreams.add(u)
                seen[u] = b""
                sel.register(c, selectors.EVENT_READ)
                sel.register(u, selectors.EVENT_READ)
                continue
            if s not in peer:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            other = peer[s]
            if data and after_ready and s in upstreams:
                seen[s] = (seen[s] + data)[-64:]
                if ready in seen[s]:
                    # Pass the startup on, then go silent both ways.
                    other.sendall(data)
                    for x in (s, other):
                        sel.unregister(x)
                        peer.pop(x, None)
                        kept.append(x)
                    continue
            if not data:
                for x in (s, other):
                    sel.unregister(x)
                    peer.pop(x, None)
                    x.close()
                continue
            other.sendall(data)


if __name__ == "__main__":
    main()
