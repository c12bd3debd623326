#!/usr/bin/env python3
"""slowloris.py HOST PORT CONNECTIONS SECONDS: keep CONNECTIONS connections trickling request headers
(one byte every 0.5 s) for SECONDS, reopening any the node closes; prints how many it opened and how many
the node closed. Loopback only: used by slowloris.sh to measure a normal load's p99 during the attack."""
import socket, sys, time

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
assert host.startswith("127."), "loopback only"
head = b"GET /v1/kv/bench/k1 HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
opened = closed = 0
conns = []

def connect():
    global opened
    s = socket.create_connection((host, port), timeout=2)
    s.setblocking(False)
    opened += 1
    return [s, 0]

end = time.time() + seconds
while time.time() < end:
    while len(conns) < count:
        try:
            conns.append(connect())
        except OSError:
            break
    for c in list(conns):
        try:
            c[0].send(head[c[1]:c[1] + 1])
            c[1] = (c[1] + 1) % len(head)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed += 1
            conns.remove(c)
            c[0].close()
    time.sleep(0.5)
print(f"slowloris: opened={opened} closed_by_node={closed} open_at_end={len(conns)}")
