#!/usr/bin/env bash
# Installs what dhrt needs, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
pkg-config --exists libxxhash 2>/dev/null || need+=(libxxhash-dev pkg-config)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

swift build --build-tests
# Cluster tests start the real binaries; they find them next to the test bundle.
swift test --skip-build --parallel --num-workers 2 2>&1 | tee .build/test-output.log
status=${PIPESTATUS[0]}
exit "$status"
