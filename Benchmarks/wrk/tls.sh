#!/usr/bin/env bash
# tls.sh - the request path's cost with TLS: wrk GETs of one 100-byte value (wrk -t1 -c64 -d10s, keep-alive, so
# the steady state of records, not handshakes) against, in one sitting and interleaved round by round:
#   single        one node (N=1), plain HTTP
#   single-https  one node (N=1), HTTPS (--tls-cert/--tls-key)
#   cluster       three nodes (N=3, R=quorum), plain inter-node port
#   cluster-tls   three nodes (N=3, R=quorum), mutual cluster TLS and the cluster secret; HTTP stays plain
# All nodes keep data in memory. Prints each run, the median requests/s per variant and the TLS/plain ratios,
# and writes results.tsv. Certificates come from openssl (a throwaway CA), for this script only.
#
#   Benchmarks/wrk/tls.sh [--bin DIR] [--duration 10s] [--connections 64] [--rounds 3] [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

bin=$root/.build/release duration=10s conns=64 rounds=3
out=/tmp/dhrt-wrk-tls/$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $bin in /*) ;; *) bin=$root/$bin ;; esac
node_bin=$bin/dhrt-node
[ -x "$node_bin" ] || { echo "no dhrt-node in $bin (swift build -c release, or pass --bin)" >&2; exit 1; }
for b in wrk curl ss openssl; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done

HOST=127.0.0.1 HTTP0=18801 CLUSTER0=19801 NODES=8
mkdir -p "$out"
work=$(mktemp -d /tmp/dhrt-wrk-tls.XXXXXX)
STOP_TENTHS=100
# shellcheck source=lib.sh
. "$here/lib.sh"
refuse_busy_ports

# --- certificates: a CA and one node certificate for 127.0.0.1 ----------------------------------------------
tls=$work/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" \
  -subj "/CN=dhrt bench CA" -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/node-key.pem" -out "$tls/node.csr" \
  -subj "/CN=node" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$tls/ext"
openssl x509 -req -in "$tls/node.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 2 \
  -extfile "$tls/ext" -out "$tls/node.pem" 2>/dev/null
https_flags=(--tls-cert "$tls/node.pem" --tls-key "$tls/node-key.pem")
cluster_flags=(--cluster-tls-cert "$tls/node.pem" --cluster-tls-key "$tls/node-key.pem" --cluster-tls-ca "$tls/ca.pem"
  --cluster-secret "bench-cluster-secret-0123456789")

# --- nodes: slot i listens on HTTP0+i and CLUSTER0+i ---------------------------------------------------------
start() {  # start NAME SLOT N SEED_SLOTS FLAGS...
  local name=$1 slot=$2 n=$3 seeds=$4; shift 4
  local args=(--name "$name" --memory --n "$n" --http "$HOST:$((HTTP0 + slot))" --cluster "$HOST:$((CLUSTER0 + slot))")
  local s; for s in $seeds; do args+=(--seed "$HOST:$((CLUSTER0 + s))"); done
  "$node_bin" "${args[@]}" "$@" >"$work/n-$name.log" 2>&1 &
  pids+=($!)
}
start single 0 1 ""
start single-https 1 1 "" "${https_flags[@]}"
start c1 2 3 "3 4"; start c2 3 3 "2 4"; start c3 4 3 "2 3"
start m1 5 3 "6 7" "${cluster_flags[@]}"; start m2 6 3 "5 7" "${cluster_flags[@]}"
start m3 7 3 "5 6" "${cluster_flags[@]}"

variants=(single single-https cluster cluster-tls)
url_of() {
  case $1 in
    single) echo "http://$HOST:$HTTP0" ;;
    single-https) echo "https://$HOST:$((HTTP0 + 1))" ;;
    cluster) echo "http://$HOST:$((HTTP0 + 2))" ;;
    cluster-tls) echo "http://$HOST:$((HTTP0 + 5))" ;;
  esac
}
value=$(head -c 100 /dev/zero | tr '\0' 'v')
deadline=$((SECONDS + 60))
for v in "${variants[@]}"; do   # ready once a W=all write of the value succeeds (the ring is complete)
  until [ "$(curl -s --cacert "$tls/ca.pem" -o /dev/null -w '%{http_code}' --max-time 5 -X PUT -H 'X-Dhrt-W: all' \
      --data-binary "$value" "$(url_of "$v")/v1/kv/bench/k1")" = 204 ]; do
    [ $SECONDS -lt $deadline ] || die "$v not ready after 60 s; see $out/n-*.log"
    sleep 0.3
  done
done
log "8 nodes ready; the 100-byte value is written on each variant"
git -C "$root" rev-parse --short HEAD >"$out/commit" 2>/dev/null || true

# --- interleaved runs ----------------------------------------------------------------------------------------
printf 'variant\tround\trequests_per_s\tp50\tp99\terrors\n' >"$out/results.tsv"
for ((r = 1; r <= rounds; r++)); do
  for v in "${variants[@]}"; do
    f=$out/$v-$r.log
    bounded 120 wrk -t1 -c"$conns" -d"$duration" --latency --timeout 5s "$(url_of "$v")/v1/kv/bench/k1" >"$f" 2>&1 \
      || log "wrk exited non-zero, see $f"
    rps=$(awk '/^Requests\/sec:/{printf "%.0f",$2}' "$f")
    p50=$(awk '$1=="50%"{print $2}' "$f"); p99=$(awk '$1=="99%"{print $2}' "$f")
    bad=$(awk '/Non-2xx or 3xx responses:|Socket errors:/{print}' "$f" | tr '\n' ' ')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$r" "${rps:-ERR}" "${p50:--}" "${p99:--}" "${bad:-none}" >>"$out/results.tsv"
    log "round $r $v: ${rps:-ERR} req/s p50 ${p50:--} p99 ${p99:--}"
  done
done

median() { awk -F'\t' -v v="$1" '$1==v{print $3}' "$out/results.tsv" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
column -t -s $'\t' "$out/results.tsv"
echo
for v in "${variants[@]}"; do printf '%-13s median %s req/s\n' "$v" "$(median "$v")"; done
awk -v a="$(median single-https)" -v b="$(median single)" 'BEGIN{printf "HTTPS / plain (one node):          %.2f\n", a/b}'
awk -v a="$(median cluster-tls)" -v b="$(median cluster)" 'BEGIN{printf "cluster TLS / plain (three nodes): %.2f\n", a/b}'
for ((r = 1; r <= rounds; r++)); do   # per-round ratios: how much the noise moves them
  awk -F'\t' -v r="$r" '$2==r{x[$1]=$3} END{printf "round %d: HTTPS/plain %.2f  cluster TLS/plain %.2f\n", r,
    x["single-https"]/x["single"], x["cluster-tls"]/x["cluster"]}' "$out/results.tsv"
done
log "results in $out"
