"""A concurrent client that records every operation, and the checks run over that history after heal.

Each key has exactly one writer thread, which writes it in sequence with the causal context of its last
acknowledged write, and every value is unique (`key#seq`). So the state a key must end in is known from
the history alone: the last acknowledged operation, or something that came after it.
"""

import base64
import json
import random
import threading
import time
import urllib.parse

import cluster as cl
import netns

CLIENT_TIMEOUT = 6.0  # above twice the node's 2 s replica timeout, the bound of a forwarded write
COLLECTION = "faults"


class Op:
    __slots__ = ("writer", "key", "seq", "kind", "value", "outcome", "status", "node", "start", "end", "seen")

    def __init__(self, writer, key, seq, kind, value, node):
        self.writer, self.key, self.seq, self.kind, self.value, self.node = writer, key, seq, kind, value, node
        self.outcome, self.status, self.start, self.end, self.seen = None, None, time.time(), None, None

    def record(self):
        return {s: getattr(self, s) if s != "seen" or self.seen is None else sorted(self.seen)
                for s in self.__slots__}


def path_of(key):
    return f"/v1/kv/{COLLECTION}/{urllib.parse.quote(key, safe='')}"


def observed(reply):
    """The set of values a read saw (empty: absent or deleted), or None if the read failed."""
    if reply is None:
        return None
    if reply.status == 200:
        return {reply.text()}
    if reply.status == 300:
        doc = reply.json() or {}
        return {base64.b64decode(s.get("value", "")).decode("utf-8", "replace") for s in doc.get("siblings", [])}
    if reply.status == 404:
        return set()
    return None


def classify_write(reply, error):
    """ok: acknowledged. failed: certainly not stored. indeterminate: may or may not be stored."""
    if reply is None:
        return "failed" if isinstance(error, ConnectionRefusedError) else "indeterminate"
    if 200 <= reply.status < 300:
        return "ok"
    if 400 <= reply.status < 500 and reply.status != 408:
        return "failed"
    return "indeterminate"  # 503 and 504 may have been stored by some replicas (see Docs/API.md)


class Load:
    """Writer threads in the client's namespace, each owning its keys; reads are mixed in."""

    def __init__(self, cluster, seed, writers=4, keys_per_writer=25, targets=None):
        self.cluster, self.seed = cluster, seed
        self.writers, self.keys_per_writer = writers, keys_per_writer
        self.targets = targets or (lambda: [n for n in cluster.nodes.values() if n.alive()])
        self.ops, self.lock, self.stop_event, self.threads = [], threading.Lock(), threading.Event(), []

    def start(self):
        for w in range(self.writers):
            t = threading.Thread(target=self._run, args=(w,), name=f"writer-{w}", daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=CLIENT_TIMEOUT + 5)

    def _request(self, node, method, path, body=None, headers=None):
        try:
            return cl.http_call(node.ip, method, path, body, headers, CLIENT_TIMEOUT), None
        except OSError as error:
            return None, error

    def _run(self, w):
        netns.enter(self.cluster.topo.client)
        rng = random.Random(self.seed * 7919 + w)
        keys = [f"w{w}-k{i}" for i in range(self.keys_per_writer)]
        seq = {k: 0 for k in keys}
        context = {}
        while not self.stop_event.is_set():
            nodes = self.targets()
            if not nodes:
                time.sleep(0.1)
                continue
            node, key, roll = rng.choice(nodes), rng.choice(keys), rng.random()
            if roll < 0.2:
                op = Op(w, key, seq[key], "get", None, node.name)
                reply, _ = self._request(node, "GET", path_of(key))
                op.seen = observed(reply)
                op.outcome = "ok" if op.seen is not None else "failed"
            else:
                seq[key] += 1
                kind = "put" if roll < 0.88 else "del"
                op = Op(w, key, seq[key], kind, f"{key}#{seq[key]}" if kind == "put" else None, node.name)
                headers = {"X-Dhrt-Context": context[key]} if key in context else {}
                reply, error = self._request(node, "PUT" if kind == "put" else "DELETE", path_of(key),
                                             op.value.encode() if op.value else None, headers)
                op.outcome = classify_write(reply, error)
                if op.outcome == "ok" and reply.headers.get("x-dhrt-context"):
                    context[key] = reply.headers["x-dhrt-context"]
            op.status = reply.status if reply is not None else None
            op.end = time.time()
            with self.lock:
                self.ops.append(op)
            if op.outcome != "ok":
                time.sleep(0.05)  # do not spin against a node that is down

    def summary(self):
        counts = {}
        for op in self.ops:
            k = f"{op.kind}:{op.outcome}"
            counts[k] = counts.get(k, 0) + 1
        return counts

    def save(self, path):
        with open(path, "w") as f:
            for op in self.ops:
                f.write(json.dumps(op.record()) + "\n")


def writes_by_key(ops):
    by_key = {}
    for op in ops:
        if op.kind != "get":
            by_key.setdefault(op.key, []).append(op)
    for seq in by_key.values():
        seq.sort(key=lambda o: o.seq)
    return by_key


def judge(writes, seen, upto=None):
    """Problems (empty if fine) with `seen` as the state of a key whose writes are `writes` in order.

    `upto`: only writes that had ended by then count as acknowledged (for reads during the run).
    """
    acked = [o for o in writes if o.outcome == "ok" and (upto is None or o.end <= upto)]
    values = {o.value: o for o in writes if o.value is not None}
    problems = [f"{v} was never written" for v in seen if v not in values]
    problems += [f"{v} was refused (status {values[v].status}) yet is stored"
                 for v in seen if v in values and values[v].outcome == "failed"]
    if not acked:
        return problems
    last = acked[-1]
    later = [o for o in writes if o.seq >= last.seq and o.outcome != "failed"]
    allowed = {o.value for o in later if o.value is not None}
    older_acked = {o.value for o in acked[:-1] if o.value is not None}
    if last.kind == "put" and not (seen & allowed) and not (not seen and any(o.kind == "del" for o in later)):
        problems.append(f"acknowledged write {last.value} (via {last.node}) is lost: read {sorted(seen) or 'absent'}")
    stale = seen & older_acked
    if stale:
        what = f"acknowledged delete #{last.seq}" if last.kind == "del" else f"acknowledged write {last.value}"
        problems.append(f"{sorted(stale)} returned though {what} (via {last.node}) superseded it")
    return problems


def stale_reads(ops):
    """Reads during the run that missed the writer's own acknowledged write before them (information only:
    sloppy quorums and ring changes may legitimately do this)."""
    by_key, count = writes_by_key(ops), 0
    for op in ops:
        if op.kind == "get" and op.outcome == "ok":
            writes = [o for o in by_key.get(op.key, []) if o.end <= op.start]
            if judge(writes, op.seen):
                count += 1
    return count


def final_check(cluster, ops, rng):
    """Reads every written key (R=quorum) through live nodes and judges it; returns failure lines."""
    nodes = [n for n in cluster.nodes.values() if n.alive()]
    failures = []
    for key, writes in sorted(writes_by_key(ops).items()):
        seen = None
        for attempt in range(4):
            node = rng.choice(nodes)
            seen = observed(cluster.call(node, "GET", path_of(key), timeout=CLIENT_TIMEOUT))
            if seen is not None:
                break
            time.sleep(0.5)
        if seen is None:
            failures.append(f"{key}: no read succeeded after heal")
            continue
        problems = judge(writes, seen)
        if problems:
            # Tell a lost write apart from a quorum that missed it: R=all merges every replica.
            wide = observed(cluster.call(node, "GET", path_of(key), headers={"X-Dhrt-R": "all"},
                                         timeout=CLIENT_TIMEOUT))
            where = "R=all failed" if wide is None else (
                "on no replica either (R=all)" if judge(writes, wide) else f"but R=all reads {sorted(wide)}")
            failures += [f"{key}: {p}; {where}" for p in problems]
    return failures
