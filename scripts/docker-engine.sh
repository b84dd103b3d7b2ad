#!/usr/bin/env bash
# Makes sure a Docker engine runs on this machine, idempotently:
#   - installs Debian's docker.io (and docker-compose) when dockerd is missing;
#   - starts dockerd in the background when `docker info` fails
#     (log: /var/log/imslab-dockerd.log);
#   - waits until `docker info` answers (bounded: IMSLAB_DOCKER_WAIT seconds, default 60).
# Uses Debian's own client /usr/bin/docker (20.10), never the first docker on
# PATH (a 28.2 client without buildx on some machines).
# Nothing here sends traffic off the machine apart from apt-get fetching packages
# from the configured Debian mirror.
set -euo pipefail

DOCKER=/usr/bin/docker
LOG=/var/log/imslab-dockerd.log
WAIT="${IMSLAB_DOCKER_WAIT:-60}"

say() { printf 'docker-engine: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (installs packages and starts dockerd): run with sudo"
  exit 3
fi

engine_up() { "$DOCKER" info >/dev/null 2>&1; }
# A live dockerd: an exited one that its parent has not reaped yet (a zombie,
# e.g. right after the runner stopped the engine to restart it) does not count.
alive_dockerd_pid() {
  local p
  for p in $(pgrep -x dockerd); do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || { echo "$p"; return 0; }
  done
  return 1
}
dockerd_alive() { alive_dockerd_pid >/dev/null; }

missing=()
command -v dockerd >/dev/null 2>&1 && [ -x "$DOCKER" ] || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Update the lists only when the candidate is unknown (a fresh machine).
  if ! apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -q >/dev/null
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if engine_up; then
  say "engine already running ($("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if ! dockerd_alive; then
  # containerd: docker.io 20.10 starts its own when none runs (its socket under /run/docker).
  say "starting dockerd (log: $LOG)"
  # setsid: dockerd outlives this script and the shell that ran it.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  started=1
else
  say "dockerd is running but does not answer yet; waiting"
fi

deadline=$(( $(date +%s) + WAIT ))
until engine_up; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "dockerd did not answer within ${WAIT}s; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
  if ! dockerd_alive; then
    say "dockerd exited; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
  sleep 0.2
done
# The runner may restart an engine it knows is the project's own (and idle)
# to clear a leaked network endpoint: packages/runner/src/targets/engine-restart.ts.
if [ "${started:-0}" = 1 ]; then alive_dockerd_pid > /run/imslab-dockerd.pid || true; fi
say "engine running ($("$DOCKER" version --format '{{.Server.Version}}'))"
