#!/usr/bin/env bash
# callgrind.sh - instructions per request of dhrt-node, counted by valgrind's callgrind: a figure that,
# unlike requests/s, does not depend on what else the 2 cores are doing, so it can be compared across
# commits. Collection is switched on only around the measured phases (--instr-atstart=no, then
# callgrind_control), and each phase is dumped on its own, so start-up and warm-up are not counted.
#
#   Benchmarks/wrk/callgrind.sh [--bin DIR] [--requests 2000] [--memory] [--out DIR]
#       one node (--n 1, temp data dir, --sync none) under callgrind; N GETs, then N PUTs of new keys,
#       sent to it sequentially over one keep-alive connection (curl); Ir per GET and per PUT.
#   Benchmarks/wrk/callgrind.sh --cluster [...]
#       three nodes (N=3), only n2 under callgrind; GETs at R=all and PUTs at W=all sent to n1, so that
#       each request is one replica read / replica write on n2; n2's Ir per replica request.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

bin=$root/.build/release requests=2000 cluster=0 memory=0
out=/tmp/dhrt-callgrind/$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --cluster) cluster=1; shift ;;
    --memory) memory=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release, or pass --bin)" >&2; exit 1; }
for b in valgrind callgrind_control objcopy cc curl ss; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done

HOST=127.0.0.1 HTTP0=18711 CLUSTER0=19711
[ $cluster = 1 ] && HTTP0=18721 CLUSTER0=19721
NODES=$([ $cluster = 1 ] && echo 3 || echo 1)
TARGET=$([ $cluster = 1 ] && echo 2 || echo 1)   # the node under callgrind

mkdir -p "$out"
rm -f "$out"/callgrind.out* "$out/commands" "$out/phases.txt"   # dumps are numbered from 1
work=$(mktemp -d /tmp/dhrt-callgrind-work.XXXXXX)
STOP_TENTHS=300
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports

# valgrind (3.19 at least) aborts on the DWARF 5 forms Swift's toolchain emits; a copy without debug
# sections keeps the symbol table, which is all callgrind_annotate needs for function names.
objcopy --strip-debug "$node_bin" "$work/dhrt-node" || die "objcopy --strip-debug $node_bin failed"
cc -O2 -shared -fPIC -o "$work/sigsuspend.so" "$here/valgrind-sigsuspend.c" || die "cannot build the sigsuspend shim"
for ((i = 1; i <= NODES; i++)); do
  args=(--name "n$i" --http "$HOST:$((HTTP0 + i - 1))" --cluster "$HOST:$((CLUSTER0 + i - 1))" --n "$NODES"
        --timeout-ms 60000)   # the coordinator must wait for a replica slowed ~50x by valgrind
  if [ $memory = 1 ]; then args+=(--memory); else args+=(--data-dir "$work/n$i" --sync none); fi
  for ((j = 1; j <= NODES; j++)); do [ $j -ne $i ] && args+=(--seed "$HOST:$((CLUSTER0 + j - 1))"); done
  cmd=("$node_bin" "${args[@]}")
  if [ $i = $TARGET ]; then
    cmd=("$work/dhrt-node" "${args[@]}")
    cmd=(env LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out"
         --log-file="$out/valgrind.log" "${cmd[@]}")
    log "under callgrind: ${cmd[*]}"
  fi
  echo "${cmd[*]}" >>"$out/commands"
  "${cmd[@]}" >"$work/n$i.log" 2>&1 &
  pids+=($!)
done
vpid=${pids[$((TARGET - 1))]}

wait_ready 120
log "ready after $SECONDS s"

head -c 100 /dev/zero | tr '\0' 'v' >"$work/value"
# phase NAME METHOD PREFIX COUNT MODULO : COUNT requests to n1 over one connection (curl reuses it
# for every URL of one invocation); key i is PREFIX(i mod MODULO). Prints the status tally.
phase() {
  local name=$1 method=$2 prefix=$3 count=$4 mod=$5 i
  local cfg=$work/$name.curl
  for ((i = 0; i < count; i++)); do
    printf 'url = "%s/v1/kv/bench/%s%d"\noutput = "/dev/null"\n' "$(url 1)" "$prefix" $((i % mod))
  done >"$cfg"
  local opts=(-s -K "$cfg" -w '%{http_code} %{num_connects}\n'
              -H 'X-Dhrt-R: all' -H 'X-Dhrt-W: all')
  [ "$method" = PUT ] && opts+=(-X PUT --data-binary "@$work/value")
  local t0=$SECONDS
  bounded 600 curl "${opts[@]}" >"$work/$name.codes" || log "curl $name exited non-zero"
  # Status tally and how many new connections were opened (1 = everything went over one connection).
  awk -v n="$name" -v s=$((SECONDS - t0)) '{ c[$1]++; k += $2 } END {
    printf "%s: %d requests in %d s, connections %d, status", n, NR, s, k; for (x in c) printf " %s=%d", x, c[x]; print "" }' \
    "$work/$name.codes" | tee -a "$out/phases.txt" >&2
}
ir_of() { awk '/^(totals|summary):/{print $2; exit}' "$1"; }
dump() {  # dump REASON : the counters since the last dump/zero go to callgrind.out.<k>, k = 1, 2, ...
  local dumps; dumps=$(($(ls "$out" | grep -c '^callgrind\.out\.[0-9]*$' || true) + 1))   # runs in $(): no globals
  callgrind_control --dump="$1" "$vpid" >>"$out/callgrind_control.log" 2>&1 || die "callgrind_control failed"
  local i; for i in $(seq 1 100); do [ -s "$out/callgrind.out.$dumps" ] && break; sleep 0.2; done
  [ -s "$out/callgrind.out.$dumps" ] || die "no $out/callgrind.out.$dumps after --dump=$1"
  echo "$out/callgrind.out.$dumps"
}

log "warm-up (not counted)"
phase warm-put PUT w 100 100
phase warm-get GET w 100 100

log "measuring $requests GETs, then $requests PUTs (Ir counted on n$TARGET)"
callgrind_control -i on "$vpid" >>"$out/callgrind_control.log" 2>&1 || die "callgrind_control -i on failed"
callgrind_control --zero "$vpid" >>"$out/callgrind_control.log" 2>&1
t0=$SECONDS; phase get GET w "$requests" 100
get_file=$(dump get); t_get=$((SECONDS - t0)); t0=$SECONDS
phase put PUT p "$requests" "$requests"   # keys never written: no siblings
put_file=$(dump put); t_put=$((SECONDS - t0))
sleep 5   # background work (membership hellos, timers) over 5 s, to judge what the phases include
idle_file=$(dump idle-5s)
callgrind_control -i off "$vpid" >>"$out/callgrind_control.log" 2>&1 || true

get_ir=$(ir_of "$get_file") put_ir=$(ir_of "$put_file") idle_ir=$(ir_of "$idle_file")
what=$([ $cluster = 1 ] && echo "n2 per replica request, via n1 at R=all/W=all" || echo "per request, single node")
{
  echo "dhrt-node under callgrind ($what), $requests requests per phase, $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
  printf '%-6s %14s %14s  %s\n' phase Ir Ir/request dump
  printf '%-6s %14s %14s  %s\n' GET "$get_ir" $((get_ir / requests)) "$get_file"
  printf '%-6s %14s %14s  %s\n' PUT "$put_ir" $((put_ir / requests)) "$put_file"
  printf '%-6s %14s %14s  %s\n' idle5s "$idle_ir" - "$idle_file"
  awk -v i="$idle_ir" -v g="$get_ir" -v p="$put_ir" -v tg="$t_get" -v tp="$t_put" 'BEGIN { r = i / 5;
    printf "background (timers, hellos) ~%.0f Ir/s: ~%.1f%% of the GET phase (%d s), ~%.1f%% of the PUT phase (%d s)\n",
      r, 100 * r * tg / g, tg, 100 * r * tp / p, tp }'
  echo "nodes ($work/dhrt-node = $node_bin without debug sections; sigsuspend.so: see valgrind-sigsuspend.c):"; sed 's/^/  /' "$out/commands"
  echo "then: callgrind_control -i on $vpid; --zero; $requests GETs; --dump=get; $requests PUTs; --dump=put"
  echo "requests: curl -s -K LIST -H 'X-Dhrt-R: all' -H 'X-Dhrt-W: all' [-X PUT --data-binary @100-byte-file] (one connection)"
  echo "inspect: callgrind_annotate --inclusive=yes $get_file | head -60"
} | tee "$out/summary.txt"
