#!/usr/bin/env bash
# Runs the fault suite (Tests/Faults) over network namespaces against the binaries in .build/debug.
# Builds nothing: run `swift build` first. Needs root. Arguments go to Tests/Faults/run.py, e.g.
#   scripts/faults.sh --scenario isolate-one --seed 7
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "the fault suite needs root (it creates network namespaces and iptables rules)" >&2
    exit 2
fi
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# The clock-jump scenario needs libfaketime; without it that scenario is skipped, not failed.
if [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null 2>&1 || true
fi
bin="${DHRT_BIN:-.build/debug}"
exec python3 Tests/Faults/run.py --bin "$bin" "$@"
