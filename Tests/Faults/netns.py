"""Network namespaces for the fault suite: a hub bridge, one namespace per node and one for the client.

Every namespace, link and rule lives inside namespaces this module creates; nothing is configured in the
root namespace. Names carry the runner's pid, so concurrent runs never collide, and `cleanup_leftovers`
removes what a crashed run left behind.
"""

import ctypes
import os
import re
import subprocess
import threading

PREFIX = "dhrt-f"
SUBNET = "10.213.0"  # a private /24 that exists only on the bridge this run creates
CLIENT_IP = f"{SUBNET}.2"
CLONE_NEWNET = 0x40000000


def sh(*args, check=True, ns=None):
    """Runs a command (inside namespace `ns` if given); raises with its stderr on failure."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def enter(ns):
    """Moves the calling thread (only it: the network namespace is per thread) into `ns`."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
    finally:
        os.close(fd)


class Topology:
    """A hub namespace with a bridge; nodes and the client hang off it by veth pairs."""

    def __init__(self, run_id=None):
        self.run_id = run_id or os.getpid()
        self.hub = f"{PREFIX}{self.run_id}-hub"
        self.client = f"{PREFIX}{self.run_id}-c"
        self.nodes = {}  # node name -> (namespace, ip)
        self.lock = threading.Lock()
        self.created = []  # namespaces, in creation order, for teardown
        self.flappers = []

    def ns_of(self, name):
        return self.nodes[name][0]

    def ip_of(self, name):
        return self.nodes[name][1]

    def _make_ns(self, ns):
        sh("ip", "netns", "add", ns)
        self.created.append(ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)

    def _attach(self, ns, ip, port):
        # The pair is made in the hub, then one end is moved into the namespace and renamed eth0.
        sh("ip", "link", "add", port, "type", "veth", "peer", "name", "tmp" + port, ns=self.hub)
        sh("ip", "link", "set", "tmp" + port, "netns", ns, ns=self.hub)
        sh("ip", "link", "set", port, "master", "br0", "up", ns=self.hub)
        sh("ip", "link", "set", "tmp" + port, "name", "eth0", ns=ns)
        sh("ip", "addr", "add", f"{ip}/24", "dev", "eth0", ns=ns)
        sh("ip", "link", "set", "eth0", "up", ns=ns)

    def create(self):
        self._make_ns(self.hub)
        sh("ip", "link", "add", "br0", "type", "bridge", ns=self.hub)
        sh("ip", "link", "set", "br0", "up", ns=self.hub)
        self._make_ns(self.client)
        self._attach(self.client, CLIENT_IP, "pc")

    def add_node(self, name, index):
        """Gives node `name` its own namespace and the address SUBNET.(10+index)."""
        ns, ip = f"{PREFIX}{self.run_id}-{name}", f"{SUBNET}.{10 + index}"
        self._make_ns(ns)
        self._attach(ns, ip, f"p{name}")
        # One chain per namespace holds every fault rule, so healing is a single flush.
        sh("iptables", "-N", "DHRT", ns=ns)
        sh("iptables", "-I", "INPUT", "-j", "DHRT", ns=ns)
        sh("iptables", "-I", "OUTPUT", "-j", "DHRT", ns=ns)
        self.nodes[name] = (ns, ip)
        return ns, ip

    # Faults. DROP (not REJECT) so that connections hang as in a real partition.

    def drop(self, src, dst):
        """Packets from node `src` to node `dst` are lost (dropped as they leave src and as they reach dst)."""
        with self.lock:
            sh("iptables", "-A", "DHRT", "-d", self.ip_of(dst), "-j", "DROP", ns=self.ns_of(src))
            sh("iptables", "-A", "DHRT", "-s", self.ip_of(src), "-j", "DROP", ns=self.ns_of(dst))

    def undrop(self, src, dst):
        with self.lock:
            sh("iptables", "-D", "DHRT", "-d", self.ip_of(dst), "-j", "DROP", ns=self.ns_of(src), check=False)
            sh("iptables", "-D", "DHRT", "-s", self.ip_of(src), "-j", "DROP", ns=self.ns_of(dst), check=False)

    def cut(self, a, b):
        """Both directions between two nodes."""
        self.drop(a, b)
        self.drop(b, a)

    def partition(self, *sides):
        """Cuts every pair of nodes that sit on different sides; the client still reaches everyone."""
        for i, side in enumerate(sides):
            for other in sides[i + 1:]:
                for a in side:
                    for b in other:
                        self.cut(a, b)

    def isolate_from_client(self, name):
        with self.lock:
            sh("iptables", "-A", "DHRT", "-s", CLIENT_IP, "-j", "DROP", ns=self.ns_of(name))

    def heal(self):
        self.stop_flapping()
        with self.lock:
            for ns, _ in self.nodes.values():
                sh("iptables", "-F", "DHRT", ns=ns, check=False)

    def rules(self):
        """Every fault rule in force, for failure reports."""
        out = []
        for name, (ns, _) in sorted(self.nodes.items()):
            text = sh("iptables", "-S", "DHRT", ns=ns, check=False).stdout
            out += [f"{name}: {line}" for line in text.splitlines() if "DROP" in line]
        return out

    def flap(self, a, b, rng, low_ms=150, high_ms=600):
        """Starts a thread cutting and restoring the a-b link at seeded intervals until heal()."""
        stop = threading.Event()

        def run():
            down = False
            while not stop.is_set():
                if down:
                    self.undrop(a, b)
                    self.undrop(b, a)
                else:
                    self.cut(a, b)
                down = not down
                stop.wait(rng.uniform(low_ms, high_ms) / 1000)
            self.undrop(a, b)
            self.undrop(b, a)

        thread = threading.Thread(target=run, name=f"flap-{a}-{b}", daemon=True)
        thread.start()
        self.flappers.append((stop, thread))

    def stop_flapping(self):
        for stop, thread in self.flappers:
            stop.set()
            thread.join(timeout=5)
        self.flappers = []

    def destroy(self):
        """Kills whatever still runs in our namespaces and deletes them (idempotent)."""
        self.stop_flapping()
        for ns in reversed(self.created):
            kill_namespace_processes(ns)
            sh("ip", "netns", "del", ns, check=False)
        self.created = []


def kill_namespace_processes(ns):
    pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass


def cleanup_leftovers(force=False):
    """Deletes namespaces of runs whose runner is gone (all of them with force); returns their names."""
    listed = sh("ip", "netns", "list", check=False).stdout.splitlines()
    removed = []
    for line in listed:
        ns = line.split()[0] if line.split() else ""
        match = re.match(rf"^{PREFIX}(\d+)-", ns)
        if not match:
            continue
        if not force and os.path.exists(f"/proc/{match.group(1)}"):
            continue  # its runner still runs
        kill_namespace_processes(ns)
        sh("ip", "netns", "del", ns, check=False)
        removed.append(ns)
    return removed
