#!/usr/bin/env bash
# Builds dhrt (release) and starts a local 3-node cluster on 127.0.0.1.
# Extra arguments go to `dhrt-admin cluster start` (e.g. --memory, --sync always, --dir /tmp/c);
# the URLs printed below assume the default ports.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release
bin="$(swift build -c release --show-bin-path)"
admin="$bin/dhrt-admin"

# A cluster left running by an earlier run is stopped first, so that the new build serves.
dir=.dhrt-cluster
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    if [ "${args[$i]}" = --dir ]; then dir="${args[$((i + 1))]}"; fi
done
"$admin" cluster stop --dir "$dir" >/dev/null 2>&1 || true
# `cluster start` returns once every node answers GET /v1/ready (data requests succeed) and lists all members.
"$admin" cluster start -n 3 "$@"

cat <<EOT

dhrt is running: 3 nodes, any node accepts any request.
  n1  http://127.0.0.1:8701
  n2  http://127.0.0.1:8702
  n3  http://127.0.0.1:8703

Try:
  curl -X PUT --data-binary 'hello' http://127.0.0.1:8701/v1/kv/default/greeting
  curl -i http://127.0.0.1:8703/v1/kv/default/greeting
  curl http://127.0.0.1:8701/v1/status

Then:
  $admin shell                   # set/get/del at a prompt
  $admin cluster status          # PIDs and health
  $admin cluster test            # replication and quorum smoke test
  $admin cluster stop            # stop the nodes (data stays in .dhrt-cluster)
EOT
