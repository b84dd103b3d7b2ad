#!/usr/bin/env bash
# Sets up this machine and runs the whole test suite: unit and interop tests,
# the scenarios on the local target, and the e2ae scenario on the docker target
# (which needs the Docker engine, the base image and the element images).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ -x scripts/docker-engine.sh ] && [ "${IMSLAB_SKIP_DOCKER:-0}" != 1 ]; then
  ./scripts/docker-engine.sh
  ./scripts/base-image.sh
  ./scripts/build-images.sh
fi
npm test
