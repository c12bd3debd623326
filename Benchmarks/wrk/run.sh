#!/usr/bin/env bash
# run.sh - dhrt under wrk, with the load settings of the peer baselines (wrk -t1 -c64 -d10s, 100-byte
# values, 100000 keys), so that the figures sit beside nginx / Redis / etcd measured the same way.
# Starts its own 3-node cluster (N=3, group commit, persisted to a temp dir) on 127.0.0.1, preloads the
# keys at W=all, runs the operations one after the other, prints a table and writes results.tsv.
#
#   Benchmarks/wrk/run.sh [--bin DIR] [--duration 10s] [--connections 64] [--keys 100000] [--out DIR]
#                         [--sync group|always|none] [--no-spread]
#   DHRT_WRK_STATUS=1 Benchmarks/wrk/run.sh ...   also tallies GET statuses (wrk itself counts >= 400 only)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

bin=$root/.build/release duration=10s conns=64 keys=100000 sync=group spread=1
out=/tmp/dhrt-wrk/$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sync) sync=$2; shift 2 ;;
    --no-spread) spread=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac   # relative to the checkout, like .build/debug
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release, or pass --bin)" >&2; exit 1; }
for b in wrk curl ss; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done

HOST=127.0.0.1 HTTP0=18701 CLUSTER0=19701 NODES=3

mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-wrk-cluster.XXXXXX)
STOP_TENTHS=100
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports

# --- cluster ----------------------------------------------------------------------------------------
for ((i = 1; i <= NODES; i++)); do
  args=(--name "n$i" --http "$HOST:$((HTTP0 + i - 1))" --cluster "$HOST:$((CLUSTER0 + i - 1))"
        --data-dir "$work/n$i" --n 3 --sync "$sync")
  for ((j = 1; j <= NODES; j++)); do [ $j -ne $i ] && args+=(--seed "$HOST:$((CLUSTER0 + j - 1))"); done
  "$node_bin" "${args[@]}" >"$work/n$i.log" 2>&1 &
  pids+=($!)
  log "n$i pid $! http://$HOST:$((HTTP0 + i - 1))"
done

wait_ready 30
log "cluster of $NODES ready"
git -C "$root" rev-parse --short HEAD >"$out/commit" 2>/dev/null || true

# --- preload ----------------------------------------------------------------------------------------
log "preload: $keys keys x 100 B at W=all via n1"
t0=$SECONDS
bounded 300 env DHRT_KEYS="$keys" wrk -t1 -c"$conns" -d280s --timeout 10s -s "$here/preload.lua" "$(url 1)" -- all \
  >"$out/preload.log" 2>&1 || { cat "$out/preload.log" >&2; die "preload failed"; }
grep '^dhrt-wrk preload' "$out/preload.log" >&2
log "preload took $((SECONDS - t0)) s"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url 3)/v1/kv/bench/k$((keys - 1))" -H 'X-Dhrt-R: one')
[ "$code" = 200 ] || log "warning: GET k$((keys - 1)) on n3 at R=one answered $code"

# --- measured runs ----------------------------------------------------------------------------------
to_ms() {  # "1.23ms" -> 1.230
  awk -v v="$1" 'BEGIN{ n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
    f=(u=="us")?0.001:(u=="ms")?1:(u=="s")?1000:(u=="m")?60000:1; printf "%.3f", n*f }'
}
idle_pct() {  # machine-wide idle % over 1 s: a low figure means something else was loading the box
  local a b; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local ta=0 tb=0 i; for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
  echo $((100 * ((b[4] + b[5]) - (a[4] + a[5])) / (tb - ta > 0 ? tb - ta : 1)))
}
# status_ge_400 is wrk's "Non-2xx or 3xx" count, which in fact counts status > 399 only (a 300 is a success).
printf 'op\trequests_per_s\tp50_ms\tp99_ms\tstatus_ge_400\tsocket_errors\tidle_before_pct\twrk\n' >"$out/results.tsv"
run() {  # run NAME THREADS CONNS URL LUA ARG [ENV=VAL...]
  local name=$1 t=$2 c=$3 u=$4 lua=$5 arg=$6; shift 6
  local f=$out/$(printf %s "$name" | tr -c 'A-Za-z0-9._-' '_').log
  local cmd=(wrk -t"$t" -c"$c" -d"$duration" --latency --timeout 5s -s "$here/$lua" "$u" -- "$arg")
  local idle; idle=$(idle_pct)
  log "$name: ${*:+$* }${cmd[*]} (idle before: $idle%)"
  bounded 120 env DHRT_KEYS="$keys" "$@" "${cmd[@]}" >"$f" 2>&1 || log "wrk exited non-zero, see $f"
  grep -h '^dhrt-wrk .*statuses:' "$f" >&2 || true
  local rps p50 p99 bad sock
  rps=$(awk '/^Requests\/sec:/{printf "%.0f",$2}' "$f")
  p50=$(awk '$1=="50%"{print $2}' "$f"); p99=$(awk '$1=="99%"{print $2}' "$f")
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  sock=$(awk '/Socket errors:/{sub(/.*Socket errors: /,""); gsub(/ /,""); print}' "$f")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${rps:-ERR}" "$([ -n "$p50" ] && to_ms "$p50" || echo -)" \
    "$([ -n "$p99" ] && to_ms "$p99" || echo -)" "${bad:-0}" "${sock:--}" "$idle" "-t$t -c$c -d$duration" >>"$out/results.tsv"
}
run "PUT W=quorum" 1 "$conns" "$(url 1)" put-fresh.lua quorum
run "GET R=quorum" 1 "$conns" "$(url 1)" get.lua quorum
run "one-node GET R=one" 1 "$conns" "$(url 1)" get.lua one
if [ $spread = 1 ]; then   # one wrk thread per node (wrk has one address per thread); -c rounded to 3 x c/3
  run "PUT W=quorum 3 nodes" 3 $((conns / 3 * 3)) "$(url 1)" put-fresh.lua quorum \
    DHRT_NODES="$HOST:$HTTP0,$HOST:$((HTTP0 + 1)),$HOST:$((HTTP0 + 2))"
fi

# Requests by operation and status class as n1 counted them (wrk itself only counts >= 400).
curl -s --max-time 2 "$(url 1)/metrics" | grep '^dhrt_requests_total' >"$out/n1-requests.txt" || true

log "results in $out (wrk outputs, node logs, results.tsv)"
column -t -s $'\t' "$out/results.tsv" 2>/dev/null || cat "$out/results.tsv"
