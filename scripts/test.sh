#!/usr/bin/env bash
# Sets up this machine and runs the whole test suite: unit and interop tests,
# the scenarios on the local target, and the e2ae scenario on the docker target
# (which needs the Docker engine, the base image and the element images).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ "${IMSLAB_SKIP_DOCKER:-0}" != 1 ]; then
  # The docker target's tests: engine, base image (debootstrap when no
  # registry answers), element images; then the engine tests run too.
  ./scripts/docker-engine.sh
  ./scripts/base-image.sh
  ./scripts/build-images.sh
  export IMSLAB_DOCKER_TESTS=1
fi
npm test
