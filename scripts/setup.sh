#!/usr/bin/env bash
# Installs what imslab needs on a Debian/Ubuntu machine, as root: the real
# network elements and tools from Debian packages, then the npm dependencies.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  kamailio kamailio-tls-modules   # P-CSCF and S-CSCF
  rtpengine-daemon                # IMS-AGW (media gateway), userspace mode
  tcpdump tshark                  # per-link captures; tshark is the analyser's interop reference
  libsrtp2-dev gcc                # libsrtp2: the SRTP interop reference in tests and the benchmark
  openssl iproute2 ca-certificates
  baresip-core                    # a third-party UA: the "connect your own UA" interop test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run this script as root (sudo $0)" >&2
    exit 3
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian starts the packaged daemons where an init system runs; imslab starts
# its own instances on its own addresses, so the packaged ones must not hold ports.
for svc in kamailio rtpengine-daemon; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" && systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done

node -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 20) { console.error("setup: Node.js >= 20 needed, found " + process.versions.node); process.exit(3) }'
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup: ready"
