#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback TCP proxy that reports another server version, for the tests.

usage: version-proxy.py UPSTREAM_PORT PORTFILE VERSION

Listens on 127.0.0.1 on a free port (written to PORTFILE once listening)
and forwards every connection to 127.0.0.1:UPSTREAM_PORT unchanged, except
for one thing: in the server's startup response, the ParameterStatus
message "server_version" carries VERSION (e.g. "16.4") instead of the
server's own. libpq's PQserverVersion() reads that message, so a client
behind the proxy believes it talks to that version while every statement
still runs on the real server (how the upgrade pre-flight is tested
against a "newer" server with only PostgreSQL 15 at hand). An SSLRequest
or GSSENCRequest is answered "N" (no encryption), as a server without SSL
does. SIGTERM ends it.
"""
import os
import signal
import socket
import struct
import sys
import threading

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def pump(src, dst):
    """Copy bytes until either side closes."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def startup_response(up, client, version):
    """Relay the server's messages up to ReadyForQuery, rewriting
    server_version; then copy the rest unchanged."""
    try:
        while True:
            kind = recv_exact(up, 1)
            length = struct.unpack("!I", recv_exact(up, 4))[0]
            body = recv_exact(up, length - 4)
            if kind == b"S":
                name, value = body.split(b"\0")[:2]
                if name == b"server_version":
                    body = name + b"\0" + version + b"\0"
            client.sendall(kind + struct.pack("!I", len(body) + 4) + body)
            if kind in (b"Z", b"E"):
                break
    except (EOFError, OSError):
        for s in (up, client):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return
    pump(up, client)


def serve(client, upstream, version):
    up = None
    try:
        while True:
            length = struct.unpack("!I", recv_exact(client, 4))[0]
            rest = recv_exact(client, length - 4)
            code = struct.unpack("!I", rest[:4])[0]
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                client.sendall(b"N")
                continue
            break
        up = socket.create_connection(("127.0.0.1", upstream))
        up.sendall(struct.pack("!I", length) + rest)
    except (EOFError, OSError, struct.error):
        client.close()
        if up:
            up.close()
        return
    t = threading.Thread(target=startup_response, args=(up, client, version),
                         daemon=True)
    t.start()
    pump(client, up)
    t.join()
    client.close()
    up.close()


def main():
    upstream = int(sys.argv[1])
    portfile = sys.argv[2]
    version = sys.argv[3].encode()
    signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lst.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        c, _ = lst.accept()
        threading.Thread(target=serve, args=(c, upstream, version),
                         daemon=True).start()


if __name__ == "__main__":
    main()
