"""dhrt-node processes inside their namespaces, and HTTP calls made from the client's namespace."""

import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import time

import netns

HTTP_PORT, CLUSTER_PORT = 8701, 9701
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def text(self):
        return self.body.decode("utf-8", "replace")


ROOT_NET = os.readlink("/proc/thread-self/ns/net")  # read at import, on the main thread


def http_call(host, method, path, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection. Raises OSError (refused, reset, timeout) when no answer came."""
    # The test subnet exists only inside our namespaces; from the root namespace it would leave the machine.
    if os.readlink("/proc/thread-self/ns/net") == ROOT_NET:
        raise RuntimeError("HTTP to a node from the root network namespace: call it from the client's")
    conn = http.client.HTTPConnection(host, HTTP_PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


class Node:
    def __init__(self, cluster, name, index, extra=()):
        self.cluster, self.name, self.index = cluster, name, index
        self.ns, self.ip = cluster.topo.add_node(name, index)
        self.http = f"{self.ip}:{HTTP_PORT}"
        self.address = f"{self.ip}:{CLUSTER_PORT}"
        self.data = os.path.join(cluster.workdir, name)
        self.log_path = os.path.join(cluster.workdir, f"{name}.log")
        self.extra = list(extra)
        self.proc = None
        self.seeds, self.join = [], None
        self.clock_file = None  # set when the node runs under faketime

    def start(self, seeds=None, join=None):
        if seeds is not None:
            self.seeds = seeds
        if join is not None:
            self.join = join
        args = [os.path.join(self.cluster.bin, "dhrt-node"), "--name", self.name, "--http", self.http,
                "--cluster", self.address, "--data-dir", self.data] + self.extra
        args += [x for s in self.seeds for x in ("--seed", s)]
        if self.join:
            args += ["--join", self.join]
        env = dict(os.environ)
        if self.clock_file:
            # Only the wall clock moves: the monotonic clock is left to the kernel, as an NTP step would.
            env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=self.clock_file,
                       FAKETIME_CACHE_DURATION="1", FAKETIME_DONT_FAKE_MONOTONIC="1")
        log = open(self.log_path, "ab")
        log.write(f"=== start {time.strftime('%H:%M:%S')}: {' '.join(args)}\n".encode())
        log.flush()
        # `ip netns exec` execs the binary, so this pid is dhrt-node's own.
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + args, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, env=env)
        log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def pause(self):
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def set_clock(self, offset_seconds):
        """Steps this node's wall clock (faketime re-reads the file within a second)."""
        with open(self.clock_file, "w") as f:
            f.write(f"{offset_seconds:+d}\n")

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def log_grep(self, *words):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if any(w in line for w in words)]


class Cluster:
    def __init__(self, topo, bin_dir, workdir):
        self.topo, self.bin, self.workdir = topo, bin_dir, workdir
        self.nodes = {}
        # HTTP from the main thread goes through threads that live in the client's namespace.
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, initializer=netns.enter, initargs=(topo.client,))

    def add(self, name, extra=()):
        node = Node(self, name, len(self.nodes) + 1, extra)
        self.nodes[name] = node
        return node

    def start(self, count, extra=()):
        """Starts n1..n<count>, each seeded with the others, and waits until every one sees all members."""
        names = [f"n{i + 1}" for i in range(count)]
        for name in names:
            self.add(name, extra)
        for name in names:
            node = self.nodes[name]
            node.start(seeds=[self.nodes[o].address for o in names if o != name])
        self.wait_members(names, len(names), 60)

    def call(self, node, method, path, body=None, headers=None, timeout=5.0):
        """An HTTP call from the client namespace; returns a Reply or None when no answer came."""
        host = node.ip if isinstance(node, Node) else node

        def go():
            try:
                return http_call(host, method, path, body, headers, timeout)
            except OSError:
                return None

        return self.pool.submit(go).result()

    def status(self, node):
        reply = self.call(node, "GET", "/v1/status", timeout=3)
        return reply.json() if reply and reply.status == 200 else None

    def ring(self, node):
        reply = self.call(node, "GET", "/v1/ring", timeout=3)
        return reply.json() if reply and reply.status == 200 else None

    def wait_members(self, names, count, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name in names:
                if not self.nodes[name].alive():
                    raise RuntimeError(f"{name} exited:\n{self.nodes[name].log_tail()}")
            views = [self.status(self.nodes[n]) for n in names]
            if all(v and v.get("formed") and len(v.get("members", [])) == count for v in views):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{names} did not all see {count} members within {timeout} s")

    def admin(self, node, *args, timeout=20):
        """Runs dhrt-admin in the client namespace against `node`; returns (exit status, output)."""
        cmd = ["ip", "netns", "exec", self.topo.client, os.path.join(self.bin, "dhrt-admin"),
               *args, "--node", f"http://{node.http}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            return proc.returncode, (proc.stdout + proc.stderr).strip()
        except subprocess.TimeoutExpired:
            return None, f"dhrt-admin {' '.join(args)} gave no answer in {timeout} s"

    def stop_all(self):
        for node in self.nodes.values():
            if node.alive():
                node.resume()
                node.kill9()
        self.pool.shutdown(wait=False, cancel_futures=True)
