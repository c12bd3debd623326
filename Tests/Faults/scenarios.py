"""The fault scenarios. Each takes a seeded `harness.Run`; every random choice comes from `run.rng`."""

import os

import cluster as cl

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


@scenario
def isolate_one(run):
    """One node of 3 cut off from both peers under a write load, then healed."""
    run.setup(3)
    run.start_load()
    run.sleep(3)
    victim = run.rng.choice(run.names())
    others = [n for n in run.names() if n != victim]
    run.topo.partition([victim], others)
    run.note(f"isolated {victim} from {others}")
    run.sleep(run.rng.uniform(10, 15))
    run.heal_and_check()


@scenario
def minority_majority(run):
    """5 nodes split 2|3; each side force-removes a node of the other side and commits; then heal.

    A correct cluster refuses the minority's change (no majority of voters) and keeps the majority's.
    """
    run.setup(5)
    run.start_load()
    run.sleep(3)
    names = run.names()
    run.rng.shuffle(names)
    minority, majority = sorted(names[:2]), sorted(names[2:])
    run.topo.partition(minority, majority)
    run.note(f"partitioned {minority} | {majority}")
    # Let both sides' detectors judge the other side down, so each has a claimant of its own.
    run.sleep(8)
    epoch = run.epoch(minority[0])
    victim_of_minority, victim_of_majority = run.rng.choice(majority), run.rng.choice(minority)
    run.admin(minority[0], "force-remove", victim_of_minority, expect_ok=False)
    code_min, out_min = run.admin(minority[0], "commit", expect_ok=False)
    run.admin(majority[0], "force-remove", victim_of_majority, expect_ok=False)
    code_maj, out_maj = run.admin(majority[0], "commit", expect_ok=False)
    run.sleep(1)
    side_epochs = {n: run.epoch(n) for n in names}
    run.note(f"epochs before heal (from {epoch}): {side_epochs}")
    if code_min == 0:
        run.fail(f"the minority {minority} committed a ring change (force-remove {victim_of_minority}, epoch "
                 f"{side_epochs[minority[0]]}) without a majority: ring changes are last-writer-wins by epoch, "
                 f"so two rings of the same epoch now exist and heal keeps one of them by encoding, not by vote")
    elif "majority" not in out_min and "quorum" not in out_min:
        run.fail(f"the minority's commit was refused without saying that no majority is reachable: {out_min}")
    if code_maj != 0:
        run.fail(f"the majority {majority} could not commit force-remove {victim_of_majority}: {out_maj}")
    run.sleep(4)
    run.topo.heal()
    run.note("healed")
    ring = run.check_rings()
    if ring:
        members = {m["name"]: m["state"] for m in ring["members"]}

        def removed(name):
            # A force-removed member stays listed as `left` until the next plan prunes it.
            return members.get(name, "left") == "left"

        kept = "minority's" if removed(victim_of_minority) else (
            "majority's" if removed(victim_of_majority) else "neither")
        run.note(f"the ring kept the {kept} change; members {members}")
        if kept != "majority's":
            run.fail(f"after heal the ring holds the {kept} change (members {members}), not the majority's "
                     f"force-remove {victim_of_majority}: the minority overrode the majority")
    run.check_history()
    for name in names:
        for line in run.node(name).log_grep("ring adopted", "plan committed")[-3:]:
            run.note(f"{name} log: {line[:200]}")


@scenario
def one_way(run):
    """Packets from one node to another are lost (not the reverse) while a third node leaves."""
    run.setup(4)
    run.start_load()
    run.sleep(3)
    a, b = run.rng.sample(run.names(), 2)
    leaver = run.rng.choice([n for n in run.names() if n not in (a, b)])
    run.topo.drop(a, b)
    run.note(f"one-way link: {a} -> {b} dropped, {b} -> {a} still delivered")
    run.sleep(6)
    via = [n for n in run.names() if n != leaver][0]
    run.admin(via, "leave", leaver)
    run.admin(via, "commit")
    run.sleep(run.rng.uniform(8, 12))
    run.heal_and_check()


@scenario
def flapping(run):
    """A link that goes down and up every few hundred ms while a fourth node joins."""
    run.setup(3)
    run.start_load()
    run.sleep(3)
    a, b = run.rng.sample(run.names(), 2)
    run.topo.flap(a, b, run.rng)
    run.note(f"link {a}-{b} flapping every 150-600 ms")
    run.sleep(4)
    joiner = run.cluster.add("n4")
    joiner.start(join=run.node(a).address)
    run.note(f"n4 joins through {a}")
    run.sleep(run.rng.uniform(12, 16))
    run.heal_and_check()


@scenario
def kill9_during_join(run):
    """kill -9 during a join's transfers (the joiner or an old owner), restart on the same data, check."""
    run.setup(3)
    run.start_load(keys_per_writer=60)
    run.sleep(4)
    joiner = run.cluster.add("n4")
    joiner.start(join=run.node("n1").address)
    run.note("n4 joins through n1")
    run.wait("the join's plan", 20, lambda: run.pending("n1"), interval=0.1)
    # Past the receivers' 2 s start delay, so copies are under way.
    run.sleep(run.rng.uniform(2.0, 3.5))
    victim = run.node(run.rng.choice(["n4", "n4", "n2", "n3"]))
    victim.kill9()
    run.note(f"kill -9 {victim.name} with {run.pending('n1')} partition(s) still pending")
    run.sleep(run.rng.uniform(3, 6))
    victim.start()
    run.note(f"restarted {victim.name} on its data directory")
    run.heal_and_check()


@scenario
def sigstop(run):
    """SIGSTOP one node of 4 for longer than the detector needs to call it down, then SIGCONT."""
    run.setup(4)
    run.start_load()
    run.sleep(3)
    victim = run.node(run.rng.choice(run.names()))
    victim.pause()
    seconds = run.rng.uniform(7, 12)
    run.note(f"SIGSTOP {victim.name} for {seconds:.1f} s")
    run.sleep(seconds)
    victim.resume()
    run.note(f"SIGCONT {victim.name}")
    run.sleep(3)
    run.heal_and_check()


def faketime_available():
    return os.path.exists(cl.FAKETIME_LIB)


@scenario
def clock_jump(run):
    """One node's wall clock steps an hour ahead under load, then an hour back (as a bad NTP step would)."""
    if not faketime_available():
        raise SkipScenario(f"needs libfaketime ({cl.FAKETIME_LIB}); apt-get install faketime")
    run.topo.create()
    names = ["n1", "n2", "n3"]
    for name in names:
        run.cluster.add(name)
    jumper = run.node(run.rng.choice(names))
    jumper.clock_file = os.path.join(run.workdir, "clock")
    with open(jumper.clock_file, "w") as f:
        f.write("+0\n")
    for name in names:
        run.node(name).start(seeds=[run.node(o).address for o in names if o != name])
    run.cluster.wait_members(names, 3, 60)
    run.note(f"3 nodes formed; {jumper.name} runs under faketime")
    run.start_load()
    run.sleep(3)
    step = run.rng.choice([3600, -3600, 86400 * 2])
    jumper.set_clock(step)
    run.note(f"{jumper.name}'s wall clock steps {step:+d} s")
    run.sleep(run.rng.uniform(8, 12))
    jumper.set_clock(0)
    run.note(f"{jumper.name}'s wall clock steps back to true time")
    run.sleep(5)
    run.heal_and_check()


class SkipScenario(Exception):
    pass
