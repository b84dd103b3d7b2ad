#!/usr/bin/env bash
# Chooses the base image of the imslab images and prints its reference on
# stdout (one line; everything else goes to stderr):
#   1. BASE_IMAGE from the environment, when set and present;
#   2. debian:bookworm-slim, when present or pullable (one try, short timeout);
#   3. otherwise imslab/base:bookworm, built here with debootstrap from this
#      machine's configured Debian mirror, slimmed and imported with
#      `docker import`. It is cached under a key (mirror + InRelease Date +
#      recipe version): an image tagged imslab/base:bookworm-<key> is reused.
#
#   usage: scripts/base-image.sh [--force]     (--force rebuilds the local base)
#   e.g.   BASE_IMAGE=$(scripts/base-image.sh)
set -euo pipefail

DOCKER=/usr/bin/docker
SUITE=bookworm
LOCAL_REPO=imslab/base
RECIPE=2   # bump when the way the tree is made or slimmed changes
PULL_TIMEOUT="${IMSLAB_PULL_TIMEOUT:-20}"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

say() { printf 'base-image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

"$DOCKER" info >/dev/null 2>&1 || die "Docker engine not running: run scripts/docker-engine.sh"
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if [ -n "${BASE_IMAGE:-}" ] && [ "$FORCE" -eq 0 ]; then
  have_image "$BASE_IMAGE" || die "BASE_IMAGE=$BASE_IMAGE is not present: pull, load or build it first"
  say "using BASE_IMAGE=$BASE_IMAGE from the environment"
  echo "$BASE_IMAGE"
  exit 0
fi

if [ "$FORCE" -eq 0 ]; then
  if have_image debian:bookworm-slim; then
    say "using debian:bookworm-slim (present)"
    echo debian:bookworm-slim
    exit 0
  fi
  if timeout "$PULL_TIMEOUT" "$DOCKER" pull -q debian:bookworm-slim >/dev/null 2>&1; then
    say "using debian:bookworm-slim (pulled)"
    echo debian:bookworm-slim
    exit 0
  fi
  say "debian:bookworm-slim cannot be pulled (no registry reachable): using a local base"
fi

# ---- the machine's configured Debian mirror -------------------------------
# First URI whose suites name $SUITE exactly, from deb822 .sources files or
# one-line .list entries; the security archive likewise ($SUITE-security).
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-sources.sh"
MIRROR="${IMSLAB_DEBIAN_MIRROR:-$(apt_sources | awk -v s="$SUITE" '$2 == s { print $1; exit }')}"
SECURITY="$(apt_sources | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')"
[ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in /etc/apt/sources.list(.d): set IMSLAB_DEBIAN_MIRROR"
MIRROR="${MIRROR%/}"
if ! command -v debootstrap >/dev/null 2>&1; then
  # A fresh machine: the project installs what it needs (Debian package).
  [ "$(id -u)" -eq 0 ] || die "debootstrap missing: apt-get install -y debootstrap (as root)"
  say "installing debootstrap with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; } \
    || die "could not install debootstrap: apt-get install -y debootstrap"
fi

# ---- cache key ---------------------------------------------------------------
release_date() {
  local d
  d="$(curl -fsS --max-time 10 "$MIRROR/dists/$SUITE/InRelease" 2>/dev/null | sed -n 's/^Date: //p' | head -n 1)" || true
  if [ -z "$d" ]; then
    # The host's own copy of the lists (after apt-get update) names the same mirror state.
    local f="/var/lib/apt/lists/$(echo "${MIRROR#*://}" | tr '/' '_')_dists_${SUITE}_InRelease"
    [ -f "$f" ] && d="$(sed -n 's/^Date: //p' "$f" | head -n 1)"
  fi
  echo "$d"
}
DATE="$(release_date)"
KEY="$(printf '%s\n' "$RECIPE" "$MIRROR" "$SECURITY" "$DATE" | sha256sum | cut -c1-12)"
TAG="$LOCAL_REPO:$SUITE-$KEY"

if [ "$FORCE" -eq 0 ]; then
  if [ -z "$DATE" ] && have_image "$LOCAL_REPO:$SUITE"; then
    say "mirror unreachable; reusing $LOCAL_REPO:$SUITE"
    echo "$LOCAL_REPO:$SUITE"
    exit 0
  fi
  if have_image "$TAG"; then
    "$DOCKER" tag "$TAG" "$LOCAL_REPO:$SUITE"
    say "using $LOCAL_REPO:$SUITE (cached, key $KEY: $MIRROR, ${DATE:-date unknown})"
    echo "$LOCAL_REPO:$SUITE"
    exit 0
  fi
fi
[ -n "$DATE" ] || die "cannot reach the Debian mirror $MIRROR and no local base exists"

# ---- build ---------------------------------------------------------------------
start=$(date +%s)
# In memory when there is room (dpkg on a slow disk doubles the time), else on disk.
TMPBASE=/var/tmp
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 { print $4 }')" -gt 1048576 ]; then TMPBASE=/dev/shm; fi
ROOT="$(mktemp -d "$TMPBASE/imslab-base.XXXXXX")"
LOG="$(mktemp /var/tmp/imslab-debootstrap.XXXXXX.log)"
cleanup() {
  # The second stage mounts /proc and /sys in the tree; never delete through a mount.
  local m
  for m in proc sys dev/pts; do umount -l "$ROOT/$m" 2>/dev/null || true; done
  if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$ROOT"; fi
  rm -f "$LOG"
}
trap cleanup EXIT
# The .debs are kept between builds: a new mirror state re-downloads only what changed.
CACHE=/var/cache/imslab/debootstrap
mkdir -p "$CACHE"
say "debootstrap --variant=minbase $SUITE from $MIRROR into $TMPBASE (key $KEY)"
# Two stages, so that dpkg in the second runs with force-unsafe-io (no fsync per
# file: the tree is thrown away after the import anyway).
if ! debootstrap --variant=minbase --foreign --cache-dir="$CACHE" "$SUITE" "$ROOT" "$MIRROR" >"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2
  die "debootstrap (first stage) failed"
fi
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/imslab-unsafe-io"
if ! chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2
  die "debootstrap (second stage) failed"
fi
rm -f "$ROOT/etc/dpkg/dpkg.cfg.d/imslab-unsafe-io"
say "debootstrap done after $(( $(date +%s) - start )) s"

# Sources as on this machine: main, updates, security.
{
  echo "deb $MIRROR $SUITE main"
  echo "deb $MIRROR $SUITE-updates main"
  [ -n "$SECURITY" ] && echo "deb ${SECURITY%/} $SUITE-security main"
} >"$ROOT/etc/apt/sources.list"
# Same validity checks as this machine's apt (a snapshot mirror may need them off).
apt-config dump 2>/dev/null | grep -E '^Acquire::Check-(Valid-Until|Date) "false";' \
  >"$ROOT/etc/apt/apt.conf.d/99imslab-validity" || rm -f "$ROOT/etc/apt/apt.conf.d/99imslab-validity"
# What the official slim images do: no docs, no cached .debs, no recommends,
# no services started by package scripts.
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/imslab-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
cat >"$ROOT/etc/apt/apt.conf.d/imslab-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

# Slim: what debootstrap leaves behind, and what it copied from the host.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin \
  "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/ldconfig/aux-cache \
  "$ROOT"/var/lib/dpkg/*-old "$ROOT"/var/cache/debconf/*-old "$ROOT"/debootstrap
find "$ROOT/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/groff/* "$ROOT"/usr/share/lintian/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
find "$ROOT/var/log" -type f -exec truncate -s 0 {} +
: >"$ROOT/etc/resolv.conf"
: >"$ROOT/etc/hostname"
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"

# Deterministic layer: sorted names, fixed mtimes, numeric owners, GNU format
# (no PAX headers: they would carry atime/ctime). mktemp made the root 0700.
chmod 755 "$ROOT"
tar -C "$ROOT" --sort=name --mtime=@0 --numeric-owner --format=gnu -c . \
  | "$DOCKER" import \
      --change 'CMD ["bash"]' \
      --change 'ENV LANG=C.UTF-8' \
      --change "LABEL imslab=1 imslab.base.key=$KEY imslab.base.mirror=$MIRROR" \
      -m "debootstrap --variant=minbase $SUITE $MIRROR ($DATE)" - "$TAG" >/dev/null
"$DOCKER" tag "$TAG" "$LOCAL_REPO:$SUITE"
size="$("$DOCKER" image inspect -f '{{.Size}}' "$TAG")"
say "built $LOCAL_REPO:$SUITE ($TAG, $((size / 1000000)) MB) in $(( $(date +%s) - start )) s"
echo "$LOCAL_REPO:$SUITE"
