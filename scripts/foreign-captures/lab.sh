# Sourced by make.sh: a private lab of Linux network namespaces, the
# processes started in it, and their teardown.
#
#   fcap-a  caller side     link ab: ab0 203.0.113.10/24 (+ fd00:fcab::10/64)   <-> fcap-b ba0 203.0.113.20
#                           link am: a0  192.0.2.10/24                          <-> fcap-m link-a 192.0.2.1
#   fcap-b  callee side     link bm: b0  198.51.100.20/24                       <-> fcap-m link-b 198.51.100.1
#   fcap-m  relay: Kamailio and rtpengine on 192.0.2.1 / 198.51.100.1 (ng control on its own 127.0.0.1)
#
# Only RFC 5737 documentation ranges (and an fd00::/8 ULA), and only inside
# the namespaces: the veth pairs join namespaces to each other, never to the
# host, and no namespace has a default route or forwards packets, so nothing
# can leave. Whatever is started here runs inside one of these namespaces.

NS_A=fcap-a
NS_B=fcap-b
NS_M=fcap-m
LAB_NAMESPACES=("$NS_A" "$NS_B" "$NS_M")
LAB_PIDS=()        # every process started, by id (see start())

say() { printf 'foreign-captures: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# in NS CMD...: run CMD in namespace NS.
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

lab_up() {
  local ns
  for ns in "${LAB_NAMESPACES[@]}"; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    # No forwarding: each namespace is an end host; the relay relays at the
    # application layer (Kamailio, rtpengine), never at the IP layer.
    in_ns "$ns" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
    # IPv6 only where a scenario uses it (link ab): no IPv6 chatter elsewhere.
    # No duplicate address detection, router advertisements or solicitations.
    in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0
  done
  # veth_pair NS1 IF1 NS2 IF2: a link between two namespaces (created inside NS1,
  # so it never exists in the host's namespace under a name someone else uses).
  veth_pair() {
    in_ns "$1" ip link add "$2" type veth peer name "$4"
    in_ns "$1" ip link set "$4" netns "$3"
    in_ns "$1" ip link set "$2" up
    in_ns "$3" ip link set "$4" up
  }
  veth_pair "$NS_A" ab0 "$NS_B" ba0
  veth_pair "$NS_A" a0 "$NS_M" link-a
  veth_pair "$NS_B" b0 "$NS_M" link-b
  in_ns "$NS_A" sysctl -qw net.ipv6.conf.ab0.disable_ipv6=0
  in_ns "$NS_B" sysctl -qw net.ipv6.conf.ba0.disable_ipv6=0
  in_ns "$NS_A" ip addr add 203.0.113.10/24 dev ab0
  in_ns "$NS_B" ip addr add 203.0.113.20/24 dev ba0
  in_ns "$NS_A" ip -6 addr add fd00:fcab::10/64 dev ab0 nodad
  in_ns "$NS_B" ip -6 addr add fd00:fcab::20/64 dev ba0 nodad
  in_ns "$NS_A" ip addr add 192.0.2.10/24 dev a0
  in_ns "$NS_M" ip addr add 192.0.2.1/24 dev link-a
  in_ns "$NS_B" ip addr add 198.51.100.20/24 dev b0
  in_ns "$NS_M" ip addr add 198.51.100.1/24 dev link-b
  # Fixed MAC addresses: the Ethernet captures are the same from run to run.
  in_ns "$NS_A" ip link set ab0 address 02:00:00:0a:b0:10
  in_ns "$NS_B" ip link set ba0 address 02:00:00:0a:b0:20
  in_ns "$NS_A" ip link set a0 address 02:00:00:00:0a:10
  in_ns "$NS_M" ip link set link-a address 02:00:00:00:0a:01
  in_ns "$NS_B" ip link set b0 address 02:00:00:00:0b:20
  in_ns "$NS_M" ip link set link-b address 02:00:00:00:0b:01
}

# lab_down: stop every process we started (by id), then anything still in our
# namespaces (only this script starts processes there), then the namespaces;
# their veths go with them. Safe to run twice and on a half-built lab.
lab_down() {
  local pid ns
  for pid in "${LAB_PIDS[@]}"; do stop_pid "$pid"; done
  LAB_PIDS=()
  for ns in "${LAB_NAMESPACES[@]}"; do
    ip netns list | grep -qw "^$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# stop_pid PID: SIGTERM, then SIGKILL after 3 s.
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# start NS LOG CMD...: start CMD in NS in the background, remember its id in
# START_PID. A simple command (not a function) so that $! is the process
# itself: bash forks and execs ip, which enters NS and execs CMD.
start() {
  local ns="$1" log="$2"; shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  START_PID=$!
  LAB_PIDS+=("$START_PID")
}

# wait_for WHAT SECONDS CMD...: poll CMD (every 50 ms) until it succeeds; fail after SECONDS.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.05
  done
}

# udp_bound NS IP PORT: a UDP socket is bound to IP:PORT in NS.
# (ss prints an IPv6 address in brackets.)
udp_bound() { local a="$2"; case "$a" in *:*) a="[$a]";; esac; in_ns "$1" ss -Hlun "sport = :$3" | grep -qF "$a:$3"; }
tcp_listening() { local a="$2"; case "$a" in *:*) a="[$a]";; esac; in_ns "$1" ss -Hltn "sport = :$3" | grep -qF "$a:$3"; }

# capture_start NS FILE LOG TOOL-ARGS...: tcpdump or dumpcap writing FILE;
# returns once the tool says it is listening. CAPTURE_PIDS and CAPTURE_FILES
# collect them.
CAPTURE_PIDS=()
CAPTURE_FILES=()
capture_start() {
  local ns="$1" file="$2" log="$3"; shift 3
  start "$ns" "$log" "$@" -w "$file"
  CAPTURE_PIDS+=("$START_PID")
  CAPTURE_FILES+=("$file")
  # tcpdump: "listening on ..."; dumpcap: "Capturing on ..." (both to stderr, once the socket is open).
  wait_for "capture $file" 10 grep -qE 'listening on|Capturing on' "$log"
}

# capture_stop: SIGTERM every capture (tcpdump and dumpcap then flush and
# close their file; SIGINT would not do: a non-interactive shell starts
# background jobs with SIGINT ignored), wait for them.
capture_stop() {
  local pid i f
  # The call's last packet (the 200 OK to its BYE) must be in every file
  # before the capture stops: packets still in the kernel's buffer would be lost.
  for f in "${CAPTURE_FILES[@]}"; do wait_for "the BYE's 200 OK in $f" 10 has_bye_ok "$f"; done
  for pid in "${CAPTURE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${CAPTURE_PIDS[@]}"; do
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$pid"
  done
  CAPTURE_PIDS=()
  CAPTURE_FILES=()
}

has_bye_ok() { tshark -r "$1" -Y 'sip.CSeq.method == "BYE" && sip.Status-Code == 200' 2>/dev/null | grep -q .; }
