#!/usr/bin/env python3
"""Runs dhrt's fault scenarios over real network namespaces (as root). See Docs/TESTING.md.

    python3 Tests/Faults/run.py --bin .build/debug                      # every scenario, random seeds
    python3 Tests/Faults/run.py --bin .build/debug --scenario sigstop --seed 42
"""

import argparse
import atexit
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import netns  # noqa: E402
import scenarios  # noqa: E402

BUDGET = 120  # seconds a scenario may take, set-up and checks included

active = []  # runs to tear down however the process ends


def teardown_all():
    while active:
        active.pop().teardown()


def on_signal(signum, _frame):
    teardown_all()
    sys.exit(128 + signum)


def replay_command(args, name, seed):
    return f"python3 Tests/Faults/run.py --bin {args.bin} --scenario {name} --seed {seed}"


def run_one(args, name, seed):
    workdir = tempfile.mkdtemp(prefix=f"dhrt-faults-{name}-")
    print(f"=== {name} (seed {seed})", flush=True)
    run = harness.Run(name, seed, os.path.abspath(args.bin), workdir)
    active.append(run)
    verdict = "PASS"
    try:
        scenarios.SCENARIOS[name](run)
    except scenarios.SkipScenario as why:
        verdict = f"SKIP ({why})"
    except Exception:  # a broken harness or cluster must read as a failure, with its trace
        run.fail("scenario aborted:\n" + traceback.format_exc())
    finally:
        active.remove(run)
        run.teardown()
    elapsed = time.time() - run.started
    if elapsed > BUDGET:
        run.failures.append(f"took {elapsed:.0f} s, over the {BUDGET} s budget")
    if run.failures:
        verdict = "FAIL"
    kept = None
    if run.failures or args.keep_logs:
        kept = keep_logs(args, name, seed, workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"--- {name}: {verdict} in {elapsed:.1f} s (seed {seed})", flush=True)
    if run.failures:
        for line in run.failures:
            print(f"    {line}")
        print(f"    replay: {replay_command(args, name, seed)}")
    if kept:
        print(f"    logs: {kept}")
    return {"name": name, "seed": seed, "verdict": verdict, "seconds": round(elapsed, 1),
            "failures": run.failures, "findings": run.findings}


def keep_logs(args, name, seed, workdir):
    if not args.keep_logs:
        return workdir
    target = os.path.join(args.keep_logs, f"{name}-{seed}")
    shutil.rmtree(target, ignore_errors=True)
    # Node data stays behind: logs, events and the history are what a reader needs.
    shutil.copytree(workdir, target, ignore=lambda d, names: [n for n in names if os.path.isdir(os.path.join(d, n))])
    shutil.rmtree(workdir, ignore_errors=True)
    return target


def main():
    parser = argparse.ArgumentParser(description="dhrt fault scenarios over network namespaces (needs root)")
    parser.add_argument("--bin", default=".build/debug", help="directory holding dhrt-node and dhrt-admin")
    parser.add_argument("--scenario", action="append", help="scenario to run (repeatable); default: all")
    parser.add_argument("--seed", type=int, help="seed of every scenario run (default: a random one each)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario, seeds seed, seed+1, ...")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy every run's logs here (failed runs keep theirs anyway)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--cleanup", action="store_true",
                        help="remove namespaces and processes left by crashed runs, then exit")
    args = parser.parse_args()

    if args.list:
        for name, fn in scenarios.SCENARIOS.items():
            print(f"{name:20} {fn.__doc__.splitlines()[0]}")
        return 0
    if os.geteuid() != 0:
        print("the fault suite needs root (network namespaces, iptables)", file=sys.stderr)
        return 2
    if args.cleanup:
        removed = netns.cleanup_leftovers()
        print(f"removed {len(removed)} namespace(s): {' '.join(removed)}" if removed else "nothing left over")
        return 0
    for tool in ("dhrt-node", "dhrt-admin"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            print(f"{tool} not found in {args.bin} (build first: swift build)", file=sys.stderr)
            return 2
    names = args.scenario or list(scenarios.SCENARIOS)
    unknown = [n for n in names if n not in scenarios.SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; --list shows them", file=sys.stderr)
        return 2

    atexit.register(teardown_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = []
    for name in names:
        for i in range(args.repeat):
            seed = args.seed + i if args.seed is not None else random.randrange(1, 1 << 31)
            results.append(run_one(args, name, seed))

    print("\n=== summary")
    for r in results:
        print(f"{r['verdict'][:4]}  {r['name']:20} seed {r['seed']:<11} {r['seconds']:6.1f} s")
    failed = [r for r in results if r["verdict"] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
