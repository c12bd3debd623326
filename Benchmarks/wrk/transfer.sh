#!/usr/bin/env bash
# transfer.sh - range transfer and failure detection on a release cluster on 127.0.0.1.
#
# Starts 3 nodes (N=3), preloads --keys keys of 100 B at W=all, measures GET R=quorum under wrk without a
# transfer, then starts a 4th node with --join and measures the same load while its partitions stream in:
# record MB/s and keys/s from the receiver's /v1/transfers, partitions moved against the ideal ⌈Q/4⌉.
# Then kills the 4th node (kill -9) and times until n1 reports it down, restarts it and times until up.
#   Benchmarks/wrk/transfer.sh [--bin DIR] [--keys 1000000] [--duration 10s] [--connections 32] [--out DIR]
#                              [--joiner-arg ARG]...   (e.g. --joiner-arg --transfer-concurrency --joiner-arg 2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=.build/release keys=1000000 duration=10s conns=32 out="$root/.build-bench/transfer-$(date +%Y%m%d-%H%M%S)"
joiner=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --joiner-arg) joiner+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release, or pass --bin)" >&2; exit 1; }
for b in wrk curl ss python3; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done

HOST=127.0.0.1 HTTP0=18701 CLUSTER0=19701 NODES=4
mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-transfer.XXXXXX)
STOP_TENTHS=100
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports
NODES=3

start() {  # start I [extra args...]
  local i=$1; shift
  "$node_bin" --name "n$i" --http "$HOST:$((HTTP0 + i - 1))" --cluster "$HOST:$((CLUSTER0 + i - 1))" \
    --data-dir "$work/n$i" --n 3 "$@" >>"$work/n$i.log" 2>&1 &
  pids+=($!)
}
for ((i = 1; i <= 3; i++)); do
  seeds=()
  for ((j = 1; j <= 3; j++)); do [ $j -ne $i ] && seeds+=(--seed "$HOST:$((CLUSTER0 + j - 1))"); done
  start $i "${seeds[@]}"
done
wait_ready 60
log "cluster of 3 ready"

log "preload: $keys keys x 100 B at W=all"
t0=$SECONDS
bounded 1800 env DHRT_KEYS="$keys" wrk -t1 -c64 -d1790s --timeout 10s -s "$here/preload.lua" "$(url 1)" -- all \
  >"$out/preload.log" 2>&1 || { cat "$out/preload.log" >&2; die "preload failed"; }
log "preload took $((SECONDS - t0)) s"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
p99() { grep -o 'p99_ms=[0-9.]*' "$1" | cut -d= -f2; }

log "GET R=quorum without a transfer"
bounded 120 env DHRT_KEYS="$keys" wrk -t2 -c"$conns" -d"$duration" --timeout 5s -s "$here/get.lua" "$(url 1)" -- quorum \
  >"$out/get-idle.log" 2>&1
before_epoch=$(curl -s "$(url 1)/v1/ring" | json 'd["epoch"]')

log "join n4 under the same load"
start 4 --join "$HOST:$CLUSTER0" "${joiner[@]}"
env DHRT_KEYS="$keys" wrk -t2 -c"$conns" -d"$duration" --timeout 5s -s "$here/get.lua" "$(url 1)" -- quorum \
  >"$out/get-transfer.log" 2>&1 &
load=$!
# One poller process, every 5 ms: a curl and a python per sample would add tens of ms to a copy of a second.
read -r first last total keys_in moved < <(python3 - "$(url 4)" "$(url 1)" <<'PY'
import json, sys, time, urllib.request
url, first, deadline = sys.argv[1] + "/v1/transfers", None, time.time() + 900
moved = 0  # the plan's moves, read from n1's ring while they are pending
while time.time() < deadline:
    if moved == 0:
        try:
            moved = len(json.load(urllib.request.urlopen(sys.argv[2] + "/v1/ring", timeout=2))["pending"])
        except Exception:
            pass
    try:
        d = json.load(urllib.request.urlopen(url, timeout=2))["transfers"]
    except Exception:
        time.sleep(0.05); continue
    now = time.time()
    # The copy starts when the first batch lands.
    if d["received_bytes"] > 0 and first is None: first = now
    # Done: every partition copied, or the plan already switched (its progress is gone, the totals stay).
    if (d["partitions"] > 0 and d["done"] == d["partitions"]) or (d["partitions"] == 0 and d["received_keys"] > 0):
        print(first, now, d["received_bytes"], d["received_keys"], moved or "?"); sys.exit(0)
    time.sleep(0.005)
print("- - 0 0 ?")
PY
)
wait $load || true
[ "$last" != - ] || die "the transfer did not finish; see $out/n4.log"
seconds=$(python3 -c "print(max(0.001, $last - $first))")
mbps=$(python3 -c "print(f'{$total / $seconds / 1e6:.1f}')")
kps=$(python3 -c "print(f'{$keys_in / $seconds:.0f}')")
log "received $keys_in keys, $total record bytes in ${seconds}s: $mbps MB/s, $kps keys/s (sampled every 5 ms)"
log "partitions moved: ${moved:-?} (ideal ⌈256/4⌉ = 64); ring epoch before $before_epoch"
log "GET p99 without transfer $(p99 "$out/get-idle.log") ms, during $(p99 "$out/get-transfer.log") ms"

log "kill -9 n4; time until n1 reports it down"
kill -KILL "${pids[3]}"; t0=$(date +%s.%N)
until [ "$(curl -s "$(url 1)/v1/status" | json '[m["liveness"] for m in d["members"] if m["name"]=="n4"][0]')" = down ]; do sleep 0.1; done
down=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
start 4; t0=$(date +%s.%N)
until [ "$(curl -s "$(url 1)/v1/status" | json '[m["liveness"] for m in d["members"] if m["name"]=="n4"][0]')" = up ]; do sleep 0.1; done
up=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
log "detector: kill -9 -> down on n1 in $down s; restart -> up in $up s"
printf 'keys\t%s\nrecord_bytes\t%s\nseconds\t%s\nMB_per_s\t%s\nkeys_per_s\t%s\nmoved\t%s\np99_idle_ms\t%s\np99_transfer_ms\t%s\ndown_s\t%s\nup_s\t%s\n' \
  "$keys_in" "$total" "$seconds" "$mbps" "$kps" "${moved:-?}" "$(p99 "$out/get-idle.log")" "$(p99 "$out/get-transfer.log")" \
  "$down" "$up" | tee "$out/results.tsv"
NODES=4
