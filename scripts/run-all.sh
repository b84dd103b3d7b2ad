#!/usr/bin/env bash
# Sets up this machine and runs every scenario on the default (local) target,
# printing the verdict table. Exit code 0 only when every verdict matches.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./bin/imslab run all "$@"
