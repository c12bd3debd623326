#!/usr/bin/env bash
# Runs schemathesis, with its default checks, against a real dhrt-node (.build/debug/dhrt-node) on a free
# loopback port, loading the document the node serves at /v1/openapi.yaml. Fails on any failure. Skips, loudly,
# when schemathesis is missing and cannot be installed. SCHEMATHESIS_SEED and SCHEMATHESIS_EXAMPLES override
# the fixed seed and the examples per operation; SCHEMATHESIS_DOCUMENT=Docs/openapi.yaml tests the document
# being edited against the node already built.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
installed() { command -v st >/dev/null 2>&1 && [ "$(st --version 2>/dev/null)" = "st, version $version" ]; }
if ! installed; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "schemathesis==$version" >&2 || true
    hash -r
fi
if ! installed; then
    echo "************************************************************************" >&2
    echo "SKIPPING the schemathesis run: schemathesis $version is not installed and could not be installed" >&2
    echo "************************************************************************" >&2
    exit 0
fi

binary=.build/debug/dhrt-node
[ -x "$binary" ] || { echo "$binary not found: run swift build first" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http=$(free_port)
cluster=$(free_port)
work=$(mktemp -d)
node_pid=""
cleanup() {
    if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# N=1: a one-node cluster where every quorum the hooks keep can be met.
"$binary" --name schemathesis-node --http "127.0.0.1:$http" --cluster "127.0.0.1:$cluster" \
    --data-dir "$work/data" --n 1 > "$work/node.log" 2>&1 &
node_pid=$!
url="http://127.0.0.1:$http"
for _ in $(seq 1 300); do
    curl -fs "$url/v1/ready" >/dev/null 2>&1 && break
    kill -0 "$node_pid" 2>/dev/null || { echo "dhrt-node exited:" >&2; tail -20 "$work/node.log" >&2; exit 1; }
    sleep 0.2
done
curl -fs "$url/v1/ready" >/dev/null || { echo "dhrt-node was not ready in 60 s" >&2; tail -20 "$work/node.log" >&2; exit 1; }

# join and replace are left out: they make the node dial the generated address, which may be any host.
status=0
DHRT_URL="$url" DHRT_N=1 st --config-file scripts/schemathesis/schemathesis.toml run "${SCHEMATHESIS_DOCUMENT:-$url/v1/openapi.yaml}" \
    --url "$url" --seed "${SCHEMATHESIS_SEED:-1}" --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
    --generation-database none --request-timeout 30 \
    --exclude-operation-id clusterJoin --exclude-operation-id clusterReplace --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); the node's last log lines:" >&2
    tail -20 "$work/node.log" >&2
fi
kill -0 "$node_pid" 2>/dev/null || { echo "dhrt-node died during the run" >&2; status=1; }
exit "$status"
