#!/usr/bin/env bash
# handoff.sh - hinted handoff under load on a release cluster on 127.0.0.1.
#
# Starts --nodes nodes (N=3) on free loopback ports, preloads --keys keys of 100 B at W=all, then runs a
# PUT W=quorum load (put-fresh.lua, new keys) and a GET R=quorum load (get.lua) side by side, each wrk with
# the same fixed -t/-c, spread over every node but the last, in three windows:
#   1. baseline: --duration with every node up;
#   2. outage:   the last node killed (kill -9) for --outage seconds while the load writes: the others
#                store hints for it;
#   3. replay:   the node restarted on its data, the same load (a "restart" window until every holder sees
#                it up, then the "replay" window until every hint queue is empty).
# Prints each window's requests/s and p99, the hints queued, and the replay: hints/s and MB/s from the
# holders' /metrics (dhrt_hints_replayed_total, dhrt_hints_replayed_bytes_total) over the time from the
# node seen up by every holder until every queue is empty. Writes results.tsv and the wrk logs to --out.
#   Benchmarks/wrk/handoff.sh [--bin DIR] [--nodes 4] [--keys 100000] [--duration 30s] [--outage 60]
#                             [--threads 3] [--connections 30] [--poll 0.5] [--replay-timeout 600]
#                             [--out DIR] [--node-arg ARG]...  (e.g. --node-arg --hint-replay-rate --node-arg 5000)
#   Release build: swift build -c release --build-path .build-bench   (the default --bin .build-bench/release)
#   Smoke run:     Benchmarks/wrk/handoff.sh --outage 5 --duration 3s --keys 1000 --connections 6
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=.build-bench/release nodes=4 keys=100000 duration=30s outage=60 threads=3 conns=30 poll=0.5
replay_timeout=600 out="$root/.build-bench/handoff-$(date +%Y%m%d-%H%M%S)"
node_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --outage) outage=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --poll) poll=$2; shift 2 ;;
    --replay-timeout) replay_timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --node-arg) node_args+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release --build-path .build-bench)" >&2; exit 1; }
for b in wrk curl ss python3; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
[ "$nodes" -ge 4 ] || { echo "--nodes must be at least 4: with N=3 on 3 nodes no key has a fallback" >&2; exit 2; }
[[ $outage =~ ^[0-9]+$ ]] && [ "$outage" -ge 1 ] || { echo "--outage is whole seconds" >&2; exit 2; }

# Free ports: a base with NODES HTTP ports and, 100 above, NODES cluster ports that all bind now.
base=$(python3 - "$nodes" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000)
    socks = []
    try:
        for port in [base + i for i in range(n)] + [base + 100 + i for i in range(n)]:
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
EOF
)
[ -n "$base" ] || { echo "no free ports found" >&2; exit 1; }
HOST=127.0.0.1 HTTP0=$base CLUSTER0=$((base + 100)) NODES=$nodes
mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-handoff.XXXXXX)
STOP_TENTHS=100
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports

# The load generators of a window; stopped (and their pids forgotten) when it ends, killed on any exit.
loads=()
stop_loads() {
  local pid
  for pid in "${loads[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  loads=()
}
trap 'stop_loads; cleanup' EXIT

start() {  # start I: node I with every other node as a seed
  local i=$1 j args
  args=(--name "n$i" --http "$HOST:$((HTTP0 + i - 1))" --cluster "$HOST:$((CLUSTER0 + i - 1))"
        --data-dir "$work/n$i" --n 3)
  for ((j = 1; j <= NODES; j++)); do [ $j -ne $i ] && args+=(--seed "$HOST:$((CLUSTER0 + j - 1))"); done
  "$node_bin" "${args[@]}" "${node_args[@]}" >>"$work/n$i.log" 2>&1 &
  pids[$((i - 1))]=$!
}
for ((i = 1; i <= NODES; i++)); do start $i; done
wait_ready 60
log "cluster of $NODES ready (N=3), HTTP ports $HTTP0-$((HTTP0 + NODES - 1))"
git -C "$root" rev-parse --short HEAD >"$out/commit" 2>/dev/null || true

victim=$NODES
holders=() spread=
for ((i = 1; i < NODES; i++)); do holders+=("$(url $i)"); spread+="${spread:+,}$HOST:$((HTTP0 + i - 1))"; done

log "preload: $keys keys x 100 B at W=all via n1"
bounded 1800 env DHRT_KEYS="$keys" wrk -t1 -c32 -d1790s --timeout 10s -s "$here/preload.lua" "$(url 1)" -- all \
  >"$out/preload.log" 2>&1 || { cat "$out/preload.log" >&2; die "preload failed"; }

# Sums over the holders' /metrics: hints queued (every target), their bytes, hints and bytes replayed.
hint_figures() {
  python3 - "${holders[@]}" <<'EOF'
import re, sys, urllib.request
totals = {"dhrt_hints_queued": 0.0, "dhrt_hints_queued_bytes": 0.0,
          "dhrt_hints_replayed_total": 0.0, "dhrt_hints_replayed_bytes_total": 0.0}
for url in sys.argv[1:]:
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if m and m.group(1) in totals:
            totals[m.group(1)] += float(m.group(3))
print(" ".join(str(int(totals[k])) for k in totals))
EOF
}
liveness() {  # liveness I NAME: how node I's detector judges NAME
  curl -s --max-time 5 "$(url "$1")/v1/status" |
    python3 -c "import json,sys; print([m['liveness'] for m in json.load(sys.stdin)['members'] if m['name']=='$2'][0])"
}
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
field() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2; }

# A window's load: PUT W=quorum and GET R=quorum side by side, -t/-c fixed, spread over the holders.
# `load NAME SECONDS` runs them in the background; wrk prints its summary on SIGINT (an open-ended window).
load() {
  env DHRT_NODES="$spread" wrk -t"$threads" -c"$conns" -d"$2" --timeout 10s -s "$here/put-fresh.lua" \
    "$(url 1)" -- quorum >"$out/put-$1.log" 2>&1 &
  loads+=($!)
  env DHRT_NODES="$spread" DHRT_KEYS="$keys" wrk -t"$threads" -c"$conns" -d"$2" --timeout 10s \
    -s "$here/get.lua" "$(url 1)" -- quorum >"$out/get-$1.log" 2>&1 &
  loads+=($!)
}
finish_load() {  # finish_load: SIGINT (the summary is printed), then wait, bounded
  local pid i
  for pid in "${loads[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${loads[@]}"; do
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" 2>/dev/null || true
  done
  loads=()
}
wait_load() {  # wait_load: the window's wrk runs to their -d
  local pid
  for pid in "${loads[@]}"; do wait "$pid" 2>/dev/null || true; done
  loads=()
}
report() {  # report NAME: one line per load of the window
  local op
  for op in put get; do
    log "  $1 $op: $(field "$out/$op-$1.log" rps) req/s, p99 $(field "$out/$op-$1.log" p99_ms) ms," \
      "errors>=400 $(field "$out/$op-$1.log" status_ge_400), timeouts $(field "$out/$op-$1.log" timeout)"
  done
}

log "1. baseline: $duration, every node up (load average $(cut -d' ' -f1-3 /proc/loadavg))"
load baseline "$duration"
wait_load
report baseline

log "2. outage: kill -9 n$victim for $outage s under the same load"
kill -KILL "${pids[$((victim - 1))]}"
wait "${pids[$((victim - 1))]}" 2>/dev/null || true
load outage "${outage}s"
wait_load
report outage
read -r queued queued_bytes replayed0 replayed_bytes0 < <(hint_figures)
log "  hints queued on the holders: $queued ($queued_bytes B)"

log "3. replay: restart n$victim on its data under the same load"
# The load goes on without a pause; its window is cut where n$victim is seen up, so that the replay window's
# p99 covers the replay alone.
load restart 3600s
start "$victim"
t_restart=$(now)
deadline=$((SECONDS + replay_timeout))
t_up= t_first= t_empty=
until [ -n "$t_up" ] || [ $SECONDS -ge $deadline ]; do
  seen=1
  for ((i = 1; i < NODES; i++)); do [ "$(liveness $i "n$victim" 2>/dev/null)" = up ] || { seen=0; break; }; done
  if [ $seen = 1 ]; then t_up=$(now); else sleep 0.1; fi
done
finish_load
load replay 3600s
[ -n "$t_up" ] || die "n$victim not seen up by every holder within $replay_timeout s"
report restart
while [ $SECONDS -lt $deadline ]; do
  # A scrape that fails (a holder slow to answer) is skipped rather than read as an empty queue.
  if ! read -r left left_bytes replayed replayed_bytes < <(hint_figures 2>>"$out/scrape-errors.log"); then
    sleep "$poll"; continue
  fi
  [ -z "$t_first" ] && [ "$replayed" -gt "$replayed0" ] && t_first=$(now)
  if [ "$left" = 0 ]; then t_empty=$(now); break; fi
  sleep "$poll"
done
finish_load
report replay
[ -n "$t_empty" ] || die "hint queues not empty after $replay_timeout s ($left hints, $left_bytes B left)"
hints=$((replayed - replayed0)) bytes=$((replayed_bytes - replayed_bytes0))
seconds=$(calc "f'{max(0.001, $t_empty - $t_up):.2f}'")
hints_per_s=$(calc "f'{$hints / $seconds:.0f}'")
mb_per_s=$(calc "f'{$bytes / $seconds / 1e6:.2f}'")
up_after=$(calc "f'{$t_up - $t_restart:.1f}'")
first_after=$(calc "f'{${t_first:-$t_empty} - $t_up:.1f}'")
log "  n$victim seen up by every holder $up_after s after the restart; first hint replayed $first_after s later"
log "  replayed $hints hints ($bytes B) in $seconds s: $hints_per_s hints/s, $mb_per_s MB/s" \
  "(polled every $poll s)"
log "  p99 PUT baseline $(field "$out/put-baseline.log" p99_ms) ms -> during replay $(field "$out/put-replay.log" p99_ms) ms;" \
  "GET $(field "$out/get-baseline.log" p99_ms) ms -> $(field "$out/get-replay.log" p99_ms) ms"

{
  printf 'nodes\t%s\nkeys\t%s\noutage_s\t%s\nthreads\t%s\nconnections_per_load\t%s\n' \
    "$NODES" "$keys" "$outage" "$threads" "$conns"
  for w in baseline outage restart replay; do
    for op in put get; do
      printf '%s_%s_rps\t%s\n%s_%s_p99_ms\t%s\n' "$op" "$w" "$(field "$out/$op-$w.log" rps)" \
        "$op" "$w" "$(field "$out/$op-$w.log" p99_ms)"
    done
  done
  printf 'hints_queued\t%s\nhints_queued_bytes\t%s\nhints_replayed\t%s\nbytes_replayed\t%s\n' \
    "$queued" "$queued_bytes" "$hints" "$bytes"
  printf 'seen_up_after_restart_s\t%s\nreplay_seconds\t%s\nhints_per_s\t%s\nMB_per_s\t%s\n' \
    "$up_after" "$seconds" "$hints_per_s" "$mb_per_s"
} | tee "$out/results.tsv"
