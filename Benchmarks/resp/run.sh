#!/usr/bin/env bash
# run.sh - dhrt's Redis protocol front door under redis-benchmark: SET and GET of 100-byte values
# (-t set,get -n 100000 -c 50 -P 1, keys drawn from 100000 with -r), against a local 3-node cluster (N=3, group
# commit, persisted to a temp dir) on 127.0.0.1 with --resp on each node. Prints requests/s and latency
# percentiles per test and writes results.csv.
#
#   Benchmarks/resp/run.sh [--bin DIR] [--requests 100000] [--clients 50] [--pipeline 1] [--keys 100000]
#                          [--spread] [--out DIR]
#   --spread: split the clients and requests over the three nodes' RESP ports (one redis-benchmark each, at
#   once, each on its own keys) and add their requests/s up; by default every client talks to n1.
#   Build first: swift build -c release --product dhrt-node
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

bin=$root/.build/release requests=100000 clients=50 pipeline=1 keys=100000 spread=0
out=/tmp/dhrt-resp/$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --spread) spread=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release, or pass --bin)" >&2; exit 1; }
for b in redis-benchmark curl ss; do
  command -v $b >/dev/null || { echo "missing $b (apt-get install redis-tools curl iproute2)" >&2; exit 1; }
done

HOST=127.0.0.1 HTTP0=18731 CLUSTER0=19731 RESP0=16731 NODES=3
mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-resp-cluster.XXXXXX)
STOP_TENTHS=100
# shellcheck source=../wrk/lib.sh
. "$here/../wrk/lib.sh"
refuse_busy_ports
for ((i = 0; i < NODES; i++)); do
  ss -Htln "sport = :$((RESP0 + i))" | grep -q . && die "port $((RESP0 + i)) is in use; refusing to start"
done

for ((i = 1; i <= NODES; i++)); do
  args=(--name "n$i" --http "$HOST:$((HTTP0 + i - 1))" --cluster "$HOST:$((CLUSTER0 + i - 1))"
        --resp "$HOST:$((RESP0 + i - 1))" --data-dir "$work/n$i" --sync group)
  for ((j = 1; j <= NODES; j++)); do [ $j -ne $i ] && args+=(--seed "$HOST:$((CLUSTER0 + j - 1))"); done
  "$node_bin" "${args[@]}" >"$work/n$i.log" 2>&1 &
  pids+=($!)
done
wait_ready 120
log "ready after $SECONDS s; $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"

# bench PORT CLIENTS REQUESTS [COMMAND...] : one redis-benchmark run (-t set,get, or COMMAND), CSV on stdout.
bench() {
  local what=(-t set,get)
  [ $# -gt 3 ] && what=("${@:4}")
  bounded 600 redis-benchmark -h "$HOST" -p "$1" -c "$2" -n "$3" -P "$pipeline" -d 100 -r "$keys" --csv "${what[@]}" \
    2>>"$out/redis-benchmark.err"
}
if [ $spread = 1 ]; then
  # Each node gets its own keys: SETs of one key through two coordinators at once are siblings, and
  # redis-benchmark stops at the first error reply, such as a GET's -SIBLINGS.
  value=$(head -c 100 /dev/zero | tr '\0' 'v')
  for op in SET GET; do
    children=()
    for ((i = 0; i < NODES; i++)); do
      command=("$op" "n$((i + 1)):key:__rand_int__")
      [ $op = SET ] && command+=("$value")
      bench $((RESP0 + i)) $((clients / NODES)) $((requests / NODES)) "${command[@]}" >"$out/$op-n$((i + 1)).csv" &
      children+=($!)
    done
    for c in "${children[@]}"; do wait "$c" || die "redis-benchmark failed; see $out/redis-benchmark.err"; done
  done
  cat "$out"/SET-n*.csv "$out"/GET-n*.csv >"$out/results.csv"
else
  bench "$RESP0" "$clients" "$requests" >"$out/results.csv" || die "redis-benchmark failed; see $out/redis-benchmark.err"
fi

# CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
echo
printf '%-5s %12s %9s %9s %9s   (redis-benchmark -n %s -c %s -P %s -d 100 -r %s%s)\n' test 'requests/s' 'p50 ms' \
  'p99 ms' 'max ms' "$requests" "$clients" "$pipeline" "$keys" "$([ $spread = 1 ] && echo ', over 3 nodes')"
awk -F'"?,"?' '/^"(SET|GET)[ "]/ {
    gsub(/"/, "", $1); sub(/ .*/, "", $1); rps[$1] += $2; if ($5 > p50[$1]) p50[$1] = $5; if ($7 > p99[$1]) p99[$1] = $7;
    if ($8 > mx[$1]) mx[$1] = $8
  } END { for (t in rps) printf "%-5s %12.0f %9.3f %9.3f %9.3f\n", t, rps[t], p50[t], p99[t], mx[t] }' \
  "$out/results.csv" | sort -r
echo
log "results in $out"
