#!/usr/bin/env bash
# slowloris.sh - a normal load's latency with and without a slowloris attack, on one release node.
# Starts one node (N=1), preloads --keys keys, runs wrk GET R=one for --duration, then the same while
# slowloris.py holds --attackers connections trickling headers; prints both p99s and what the attack saw.
#   Benchmarks/wrk/slowloris.sh [--bin DIR] [--keys 10000] [--attackers 200] [--duration 15s]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=.build/release keys=10000 attackers=200 duration=15s out="$root/.build-bench/slowloris-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --attackers) attackers=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin" >&2; exit 1; }
HOST=127.0.0.1 HTTP0=18701 CLUSTER0=19701 NODES=1
mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-slowloris.XXXXXX)
STOP_TENTHS=100
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports
"$node_bin" --name n1 --http "$HOST:$HTTP0" --cluster "$HOST:$CLUSTER0" --data-dir "$work/n1" --n 1 >"$work/n1.log" 2>&1 &
pids+=($!)
wait_ready 60
bounded 300 env DHRT_KEYS="$keys" wrk -t1 -c32 -d280s --timeout 10s -s "$here/preload.lua" "$(url 1)" -- all >"$out/preload.log" 2>&1
seconds=${duration%s}
bounded 120 env DHRT_KEYS="$keys" wrk -t2 -c32 -d"$duration" --latency --timeout 5s -s "$here/get.lua" "$(url 1)" -- one >"$out/get-quiet.log" 2>&1
python3 "$here/slowloris.py" "$HOST" "$HTTP0" "$attackers" $((seconds + 10)) >"$out/attack.log" 2>&1 &
attack=$!
sleep 5
bounded 120 env DHRT_KEYS="$keys" wrk -t2 -c32 -d"$duration" --latency --timeout 5s -s "$here/get.lua" "$(url 1)" -- one >"$out/get-attack.log" 2>&1
wait $attack || true
quiet=$(grep -o 'p99_ms=[0-9.]*' "$out/get-quiet.log" | cut -d= -f2)
loud=$(grep -o 'p99_ms=[0-9.]*' "$out/get-attack.log" | cut -d= -f2)
log "GET R=one p99 without attack $quiet ms, with $attackers slowloris connections $loud ms"
grep -h 'dhrt-wrk get' "$out/get-quiet.log" "$out/get-attack.log" >&2
cat "$out/attack.log" >&2
