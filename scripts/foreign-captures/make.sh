#!/usr/bin/env bash
# Regenerates the third-party captures under packages/analysis/test/fixtures/foreign/
# (README.md there says what each file is). As root:
#
#   sudo scripts/foreign-captures/make.sh [--out DIR] [--keep-work]
#
# Builds a private lab of network namespaces (lab.sh), runs each scenario
# with Debian's baresip, SIPp, Kamailio and rtpengine, captures inside the
# namespaces with tcpdump/dumpcap, then writes manifest.json from what the
# scenarios were set up to do, checked against the packets (build-manifest.ts:
# tshark, and SRTP authentication tags verified under each SDES key).
# Everything it started is taken down on exit, failure and Ctrl-C.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/packages/analysis/test/fixtures/foreign"
KEEP_WORK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2;;
    --keep-work) KEEP_WORK=1; shift;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) echo "make.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done
TSX="$ROOT/node_modules/.bin/tsx"
# Seconds of established call, i.e. of audio per direction in each capture
# (kept so that all the captures together stay about 1 MB).
HOLD=3.5        # direct calls
HOLD_RELAYED=3  # relayed calls: each direction is captured on two links

source "$HERE/lab.sh"
source "$HERE/uas.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, packet capture): sudo $0"
[ -x "$TSX" ] || die "no $TSX: run npm ci (or scripts/setup.sh) first"

# ---- packages ------------------------------------------------------------------
# baresip-core is Debian's baresip without the GTK front end (the `baresip`
# package only adds that); sox turns espeak-ng's 22 kHz WAV into 8 kHz.
PACKAGES=(baresip-core sip-tester kamailio rtpengine-daemon espeak-ng sox tcpdump tshark iproute2)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null || die "apt-get update failed: is the Debian mirror reachable?"
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
# Debian starts packaged daemons where an init system runs; ours run in the
# namespaces only, but stop the packaged ones anyway so nothing is confused.
for svc in kamailio rtpengine-daemon; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done

# ---- work dir, teardown ----------------------------------------------------------
WORK="$(mktemp -d /tmp/foreign-captures.XXXXXX)"
chmod 755 "$WORK"   # tcpdump drops to its own user and must write here
finish() {
  local rc=$?
  trap - EXIT INT TERM
  lab_down
  if [ "$KEEP_WORK" = 1 ] || [ "$rc" -ne 0 ]; then say "work files (logs, configs) kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A lab left by a run that was killed (SIGKILL: no trap) goes first.
lab_down
T0=$SECONDS

# ---- the speech ------------------------------------------------------------------
# Real spoken words, so that plaintext speech is recognisable in an RTP payload.
# Longer than a call: baresip's menu hangs up when its aufile source ends.
speech() { # speech NAME TEXT
  espeak-ng -s 150 -w "$WORK/$1-22k.wav" "$2"
  sox "$WORK/$1-22k.wav" -r 8000 -c 1 -b 16 "$WORK/$1.wav" pad 0 3
}
speech alice "This is Alice calling Bob on a test network. One, two, three, four, five. Can you hear me?"
speech bob "Bob here, answering Alice. Six, seven, eight, nine, ten. I hear you well."
# SIPp's rtp_stream sends the file's bytes as the payload: mu-law for PCMU.
sox "$WORK/alice-22k.wav" -r 8000 -c 1 -e mu-law "$WORK/speech-sipp.wav"


# ---- scenarios -------------------------------------------------------------------
# Each: fresh lab (no state carried from one call to the next), captures
# started and listening before the first packet, the call, captures stopped.
begin() { # begin ID
  SC="$1"; D="$WORK/$SC"; mkdir -p "$D"; chmod 755 "$D"
  lab_down; lab_up
  say "$SC"
}
end_scenario() { capture_stop; lab_down; }

# a: direct call, plain RTP, SIP on 5080 and 15060, RTP on 41000+/43000+.
# Ethernet, captured on the caller's veth.
begin a-direct-plain
baresip_home "$D/alice" alice 203.0.113.10 5080 41000-41019 "$WORK/alice.wav" ""
baresip_home "$D/bob" bob 203.0.113.20 15060 43000-43019 "$WORK/bob.wav" ""
capture_start "$NS_A" "$D/$SC.pcap" "$D/capture.log" tcpdump -Z root -i ab0 -n -U --immediate-mode -s 0
baresip_start "$NS_B" "$D/bob" 203.0.113.20 15060
baresip_start "$NS_A" "$D/alice" 203.0.113.10 5080
baresip_call "$NS_A" sip:bob@203.0.113.20:15060 "$HOLD" >"$D/call.json"
end_scenario

# b: direct call, SDES-SRTP (AES_CM_128_HMAC_SHA1_80), SIP in plaintext UDP.
# Linux cooked v1 (-i any), the caller's namespace; its loopback (ctrl_tcp) left out.
begin b-direct-sdes
baresip_home "$D/alice" alice 203.0.113.10 5080 41000-41019 "$WORK/alice.wav" ";mediaenc=srtp-mand"
baresip_home "$D/bob" bob 203.0.113.20 15060 43000-43019 "$WORK/bob.wav" ";mediaenc=srtp-mand"
capture_start "$NS_A" "$D/$SC.pcap" "$D/capture.log" tcpdump -Z root -i any -y LINUX_SLL -n -U --immediate-mode -s 0 'not host 127.0.0.1'
baresip_start "$NS_B" "$D/bob" 203.0.113.20 15060
baresip_start "$NS_A" "$D/alice" 203.0.113.10 5080
baresip_call "$NS_A" sip:bob@203.0.113.20:15060 "$HOLD" >"$D/call.json"
end_scenario

# c: SIPp calls baresip, plain RTP: SIPp plays the speech as PCMU.
# pcapng (dumpcap), captured on the callee's veth.
begin c-sipp-plain
cp "$WORK/speech-sipp.wav" "$D/"
baresip_home "$D/bob" bob 203.0.113.20 15060 43000-43019 "$WORK/bob.wav" ""
capture_start "$NS_B" "$D/$SC.pcapng" "$D/capture.log" dumpcap -i ba0 -q
baresip_start "$NS_B" "$D/bob" 203.0.113.20 15060
# -m 1: one call, then SIPp exits (0 when it went as scripted); -d: the pause before BYE.
(cd "$D" && in_ns "$NS_A" timeout 60 sipp 203.0.113.20:15060 -sf "$HERE/sipp-uac-pcmu.xml" -s bob \
  -i 203.0.113.10 -p 25060 -mi 203.0.113.10 -mp 47000 -m 1 -d "$(awk "BEGIN { print $HOLD * 1000 }")" -nostdin \
  -trace_err >"$D/sipp.log" 2>&1) || die "SIPp's call failed: $(cat "$D"/*errors.log 2>/dev/null | tail -3)"
end_scenario

# d-g: through Kamailio with rtpengine, SDES-SRTP from the caller; every hop captured.
# relay_call MODE CALLEE_PARAMS: the caller uses the proxy as outbound proxy.
relay_call() {
  baresip_home "$D/alice" alice 192.0.2.10 5080 41000-41019 "$WORK/alice.wav" ";mediaenc=srtp-mand;outbound=\"sip:192.0.2.1:5060;lr\""
  baresip_home "$D/bob" bob 198.51.100.20 15060 43000-43019 "$WORK/bob.wav" "$2"
  rtpengine_start "$D"
  kamailio_start "$D" "$1"
  baresip_start "$NS_B" "$D/bob" 198.51.100.20 15060
  baresip_start "$NS_A" "$D/alice" 192.0.2.10 5080
  baresip_call "$NS_A" sip:bob@198.51.100.20:15060 "$HOLD_RELAYED" >"$D/call.json"
}

# d: rtpengine told to leave SDES alone ("passthrough").
# Linux cooked v2, -i any in the relay (both hops; its ng control socket left out).
begin d-rtpengine-passthrough
capture_start "$NS_M" "$D/$SC.pcap" "$D/capture.log" tcpdump -Z root -i any -y LINUX_SLL2 -n -U --immediate-mode -s 0 'not host 127.0.0.1'
relay_call PASSTHROUGH ";mediaenc=srtp-mand"
end_scenario

# e: rtpengine on its defaults. One Ethernet capture per hop, each in the UA's namespace.
begin e-rtpengine-default
capture_start "$NS_A" "$D/$SC.link-a.pcap" "$D/capture-a.log" tcpdump -Z root -i a0 -n -U --immediate-mode -s 0
capture_start "$NS_B" "$D/$SC.link-b.pcap" "$D/capture-b.log" tcpdump -Z root -i b0 -n -U --immediate-mode -s 0
relay_call DEFAULT ";mediaenc=srtp-mand"
end_scenario

# f: rtpengine decrypts and re-encrypts (two sessions joined on 127.0.0.2).
# pcapng with one interface per hop (dumpcap on the relay's two veths; the
# relay's internal hop on its loopback is not captured).
begin f-rtpengine-reencrypt
capture_start "$NS_M" "$D/$SC.pcapng" "$D/capture.log" dumpcap -i link-a -i link-b -q
relay_call REENCRYPT ";mediaenc=srtp-mand"
end_scenario

# g: SRTP on the caller's hop only, plain RTP to the callee (access-only protection).
# Linux cooked v1, -i any in the relay.
begin g-rtpengine-access-only
capture_start "$NS_M" "$D/$SC.pcap" "$D/capture.log" tcpdump -Z root -i any -y LINUX_SLL -n -U --immediate-mode -s 0 'not host 127.0.0.1'
relay_call ACCESS ""
end_scenario

# h: direct call over IPv6 (ULA), plain RTP. Ethernet on the caller's veth.
begin h-direct-plain-ipv6
baresip_home "$D/alice" alice fd00:fcab::10 5080 41000-41019 "$WORK/alice.wav" ""
baresip_home "$D/bob" bob fd00:fcab::20 15060 43000-43019 "$WORK/bob.wav" ""
capture_start "$NS_A" "$D/$SC.pcap" "$D/capture.log" tcpdump -Z root -i ab0 -n -U --immediate-mode -s 0
baresip_start "$NS_B" "$D/bob" fd00:fcab::20 15060
baresip_start "$NS_A" "$D/alice" fd00:fcab::10 5080
baresip_call "$NS_A" "sip:bob@[fd00:fcab::20]:15060" "$HOLD" >"$D/call.json"
end_scenario

# ---- results ---------------------------------------------------------------------
# Staged first: the committed fixtures are replaced only once the new
# captures passed every check in build-manifest.ts.
STAGE="$WORK/out"
mkdir -p "$STAGE"
for f in "$WORK"/*/*.pcap "$WORK"/*/*.pcapng; do cp "$f" "$STAGE/"; done
chmod 644 "$STAGE"/*
versions() {
  local p
  for p in baresip-core libre0 sip-tester kamailio rtpengine-daemon tcpdump tshark espeak-ng; do
    printf '%s=%s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
  done
}
versions >"$WORK/versions.txt"
say "captures done in $((SECONDS - T0)) s; checking them and writing manifest.json"
"$TSX" "$HERE/build-manifest.ts" --dir "$STAGE" --versions "$WORK/versions.txt"
mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT/manifest.json"
cp "$STAGE"/* "$OUT/"
say "done in $((SECONDS - T0)) s: $(du -cb "$OUT"/*.pcap "$OUT"/*.pcapng | tail -1 | cut -f1) bytes of captures in $OUT"
