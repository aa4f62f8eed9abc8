#!/usr/bin/python3
"""Hostile and heavy clients for the live view test, all on 127.0.0.1.

  live_hammer.py PORT TOKEN SECONDS
      1. hostile requests, each with the answer it must get (4xx; the one
         valid marker 202); 2. for SECONDS: stalled connections that never
         finish their request, event streams that are never read, and a loop
         of snapshot requests; 3. the server still answers.  Exit 1 on a
         wrong answer.
"""
import socket
import sys
import threading
import time

PORT, TOKEN, SECONDS = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
failures = []


def raw(data, read=True, timeout=15, close_write=False):
    """Send bytes, return the status code of the answer (None: closed)."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    try:
        s.sendall(data)
        if close_write:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server may close before all of a huge request is sent
    if not read:
        return s
    buf = b""
    try:
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    s.close()
    line = buf.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None


def req(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for h in headers:
        head += h + "\r\n"
    if body and not any(h.lower().startswith(("content-length", "transfer-encoding"))
                        for h in headers):
        head += f"Content-Length: {len(body)}\r\n"
    head += "Connection: close\r\n\r\n"
    return head.encode() + body


def expect(name, data, codes, close_write=False):
    got = raw(data, close_write=close_write)
    if got not in codes:
        failures.append(f"{name}: got {got}, want {codes}")
    else:
        print(f"{name}: {got}")


# The recording first (markers are refused before it starts).
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(req("GET", "/snapshot.json"))
    answer = b""
    while (chunk := s.recv(65536)):
        answer += chunk
    s.close()
    if b'"recording":true' in answer:
        break
    time.sleep(0.1)
else:
    sys.exit("live_hammer: the recording did not start")

tok = f"X-Cuplab-Token: {TOKEN}"
FOUR = set(range(400, 500))
# A request line the library cannot parse is closed without an answer.
expect("garbage", b"\x00\x01\x02 garbage \xff\xfe\r\n\r\n", FOUR | {None}, close_write=True)
expect("bad request line", b"GET\r\n\r\n", FOUR | {None})
expect("bad header line", b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", FOUR)
expect("huge header", req("GET", "/", [f"X-Big: {'a' * 100000}"]), FOUR)
expect("many headers", req("GET", "/", [f"X-H{i}: {'b' * 100}" for i in range(500)]), FOUR)
expect("huge body (length)", req("POST", "/marker", [tok, "Content-Length: 100000000"],
                                 b"x" * 65536), {413})
chunked = b"".join(b"400\r\n" + b"n" * 1024 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
expect("huge body (chunked)", req("POST", "/marker", [tok, "Transfer-Encoding: chunked"],
                                  chunked), {413})
for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/live.js/../../../etc/passwd",
             "/etc/passwd", "/index.html%00.js", "/.git/config", "/snapshot.json/x"):
    expect(f"path {path}", req("GET", path), {400, 404})
expect("marker without token", req("POST", "/marker", [], b"note no token"), {403})
expect("marker with wrong token", req("POST", "/marker", ["X-Cuplab-Token: nope" + "0" * 28],
                                      b"note wrong token"), {403})
expect("PUT /", req("PUT", "/", [], b"x"), {405})
expect("DELETE /snapshot.json", req("DELETE", "/snapshot.json"), {405})
expect("GET /marker", req("GET", "/marker"), {405})
expect("two commands", req("POST", "/marker", [tok], b"note one\nnote two"), {400})
expect("not a command", req("POST", "/marker", [tok], b"rm -rf /"), {400})
expect("unknown cup", req("POST", "/marker", [tok], b"applied C99"), {400})
expect("valid marker", req("POST", "/marker", [tok], b"repumped C2 from the hammer"), {202})

# Phase 2: load within the connection limit (32), then beyond it.
stalled, streams = [], []
for _ in range(20):
    try:
        stalled.append(raw(b"GET /snapshot.json HTTP/1.1\r\nHost: 1", read=False))
    except OSError:
        pass  # beyond the connection limit
for _ in range(6):
    try:
        streams.append(raw(req("GET", "/events"), read=False))
    except OSError:
        pass
counts = {"ok": 0, "other": 0}


def loop():
    end = time.time() + SECONDS
    while time.time() < end:
        try:
            code = raw(req("GET", "/snapshot.json"), timeout=5)
        except OSError:
            code = None
        counts["ok" if code == 200 else "other"] += 1


threads = [threading.Thread(target=loop) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
over = []
for _ in range(60):
    try:
        over.append(raw(b"GET / HTTP/1.1\r\n", read=False))
    except OSError:
        pass
time.sleep(1)
for s in stalled + streams + over:
    s.close()
print(f"load: {len(stalled)} stalled, {len(streams)} unread streams, "
      f"{counts['ok']} snapshots answered, {counts['other']} refused or timed out, "
      f"then {len(over)} more connections")
if counts["ok"] == 0:
    failures.append("no snapshot answered under load")
time.sleep(0.5)
expect("after the load", req("GET", "/snapshot.json"), {200})
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
