# lib.sh - what run.sh and callgrind.sh share: logging, bounded waits, port checks, health polling and the
# cleanup that stops every node they started. Sourced after HOST, HTTP0, CLUSTER0, NODES, out and work are set;
# STOP_TENTHS is how long (in tenths of a second) a node gets to stop after TERM before it is killed.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pids=() child=
# Load generators run in the background and are waited for, so that INT/TERM reach the trap at once
# instead of after the child's own run (bash defers traps while a foreground child runs).
bounded() {  # bounded SECONDS CMD... : CMD under timeout; the exit status of CMD
  timeout "$1" "${@:2}" & child=$!
  local rc=0; wait "$child" || rc=$?; child=; return $rc
}
cleanup() {
  local pid i
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for i in $(seq 1 "${STOP_TENTHS:-100}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid did not stop, KILL"; kill -KILL "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
  done
  # Node logs are worth keeping next to the results; the data is not.
  cp "$work"/n*.log "$out"/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

refuse_busy_ports() {
  local i p
  for ((i = 0; i < NODES; i++)); do
    for p in $((HTTP0 + i)) $((CLUSTER0 + i)); do
      if ss -Htln "sport = :$p" | grep -q .; then die "port $p is in use; refusing to start"; fi
    done
  done
}

url() { echo "http://$HOST:$((HTTP0 + $1 - 1))"; }

wait_ready() {  # wait_ready SECONDS: every node answers /health and lists all NODES members, or die
  local i deadline=$((SECONDS + $1))
  members() { curl -s --max-time 5 "$(url "$1")/v1/status" 2>/dev/null | grep -o '"name"' | wc -l; }
  for ((i = 1; i <= NODES; i++)); do
    until curl -sf --max-time 2 -o /dev/null "$(url $i)/health"; do
      kill -0 "${pids[$((i - 1))]}" 2>/dev/null || die "n$i exited; see $out/n$i.log"
      [ $SECONDS -lt $deadline ] || die "n$i not healthy after $1 s"
      sleep 0.2
    done
  done
  # /v1/status lists members by "name"; every node must see all of them before the ring is final.
  for ((i = 1; i <= NODES; i++)); do
    until [ "$(members $i)" -ge $NODES ]; do
      [ $SECONDS -lt $deadline ] || die "n$i sees $(members $i) of $NODES members after $1 s"
      sleep 0.2
    done
  done
}
