"""What every scenario shares: the seeded run, its namespaces and cluster, and the checks after heal."""

import os
import random
import time

import cluster as cl
import history
import netns

RING_BOUND = 45  # seconds after heal for every node to hold one ring with no pending move


class ScenarioFailed(Exception):
    pass


class Run:
    def __init__(self, name, seed, bin_dir, workdir):
        self.name, self.seed, self.workdir = name, seed, workdir
        self.rng = random.Random(seed)
        self.topo = netns.Topology()
        self.cluster = cl.Cluster(self.topo, bin_dir, workdir)
        self.failures, self.findings, self.started = [], [], time.time()
        self.load = None

    # Reporting

    def note(self, message):
        line = f"[{time.time() - self.started:6.1f}s] {message}"
        print(f"  {line}", flush=True)
        with open(os.path.join(self.workdir, "events.log"), "a") as f:
            f.write(line + "\n")

    def fail(self, message):
        self.note(f"FAIL: {message}")
        self.failures.append(message)

    def finding(self, message):
        """Something worth reporting that is not an invariant (stale reads under sloppy quorum, say)."""
        self.note(message)
        self.findings.append(message)

    # Set-up

    def setup(self, nodes, extra=()):
        self.topo.create()
        self.cluster.start(nodes, extra)
        self.note(f"{nodes} nodes formed: " + ", ".join(f"{n.name}={n.ip}" for n in self.cluster.nodes.values()))

    def start_load(self, **kw):
        self.load = history.Load(self.cluster, self.seed, **kw)
        self.load.start()
        return self.load

    def sleep(self, seconds):
        time.sleep(seconds)

    def wait(self, what, timeout, probe, interval=0.2):
        """Polls `probe` until it returns something truthy; None after `timeout`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(interval)
        self.note(f"gave up waiting for {what} after {timeout} s")
        return None

    def node(self, name):
        return self.cluster.nodes[name]

    def names(self):
        return list(self.cluster.nodes)

    # Membership

    def admin(self, via, *args, expect_ok=True):
        code, out = self.cluster.admin(self.node(via), *args)
        self.note(f"dhrt-admin {' '.join(args)} via {via}: exit {code}: {out.splitlines()[0] if out else ''}")
        if expect_ok and code != 0:
            self.fail(f"dhrt-admin {' '.join(args)} via {via} failed: {out}")
        return code, out

    def pending(self, via):
        ring = self.cluster.ring(self.node(via))
        return None if ring is None else len(ring.get("pending", []))

    def epoch(self, via):
        ring = self.cluster.ring(self.node(via))
        return None if ring is None else ring.get("epoch")

    # Checks after heal

    def ring_views(self):
        views = {}
        for node in self.cluster.nodes.values():
            if node.alive():
                ring = self.cluster.ring(node)
                views[node.name] = ring
        return views

    @staticmethod
    def ring_key(ring):
        owners = tuple(p.get("owner") for p in ring.get("partitions", []))
        members = tuple(sorted((m["name"], m["state"]) for m in ring.get("members", [])))
        return ring.get("epoch"), owners, members

    def describe_rings(self, views):
        groups = {}
        for name, ring in sorted(views.items()):
            if ring is None:
                groups.setdefault(("no ring",), []).append(name)
                continue
            epoch, _, members = self.ring_key(ring)
            label = (f"epoch {epoch}, members " + " ".join(f"{m}:{s}" for m, s in members)
                     + f", {len(ring.get('pending', []))} pending")
            groups.setdefault((label, self.ring_key(ring)), []).append(name)
        return "; ".join(f"{','.join(names)} hold [{key[0]}]" for key, names in groups.items())

    def check_rings(self, bound=RING_BOUND):
        """One ring on every live node, and no plan still moving partitions, within `bound` seconds."""
        def settled():
            views = self.ring_views()
            if any(r is None for r in views.values()):
                return None
            keys = {self.ring_key(r) for r in views.values()}
            return views if len(keys) == 1 and all(not r.get("pending") for r in views.values()) else None

        start = time.time()
        views = self.wait("one ring", bound, settled, interval=0.5)
        if views:
            ring = next(iter(views.values()))
            self.note(f"one ring after {time.time() - start:.1f} s: epoch {ring['epoch']}, "
                      f"{len(ring['members'])} members, no pending move")
            return ring
        views = self.ring_views()
        keys = {self.ring_key(r) for r in views.values() if r}
        if len(keys) > 1:
            self.fail(f"{len(keys)} different rings {bound} s after heal: {self.describe_rings(views)}")
        else:
            self.fail(f"a plan still moves partitions {bound} s after heal (neither completed nor aborted): "
                      f"{self.describe_rings(views)}")
        return None

    def check_history(self):
        """Stops the load and judges every key's final state against what the client was told."""
        self.load.stop()
        self.load.save(os.path.join(self.workdir, "history.jsonl"))
        self.note(f"history: {self.load.summary()}")
        acked = sum(1 for o in self.load.ops if o.kind != "get" and o.outcome == "ok")
        if acked < 20:
            self.fail(f"only {acked} writes were acknowledged: too few for the checks to mean anything")
        stale = history.stale_reads(self.load.ops)
        if stale:
            self.finding(f"{stale} read(s) during the faults missed the client's own acknowledged write")
        problems = history.final_check(self.cluster, self.load.ops, self.rng)
        for line in problems[:15]:
            self.fail(line)
        if len(problems) > 15:
            self.fail(f"... and {len(problems) - 15} more key(s) wrong")
        if not problems:
            self.note("every acknowledged write is readable, no deleted or superseded value came back")

    def heal_and_check(self):
        self.topo.heal()
        for node in self.cluster.nodes.values():
            node.resume()
        self.note("healed")
        self.check_rings()
        self.check_history()

    def teardown(self):
        if self.load:
            self.load.stop_event.set()
        self.cluster.stop_all()
        self.topo.destroy()
