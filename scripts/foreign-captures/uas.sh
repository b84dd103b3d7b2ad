# Sourced by make.sh: third-party user agents (baresip, SIPp) and the relay
# (Kamailio + rtpengine), each started inside a lab namespace.

BARESIP_MODULES=/usr/lib/baresip/modules

# baresip_home DIR USER ADDR SIP_PORT RTP_PORTS AUDIO_WAV ACCOUNT_PARAMS
# baresip's home (-f DIR): SIP and media on ADDR only, the microphone a WAV
# file (aufile), the speaker a bridge nobody listens to, no sound card, no
# registration (regint=0: calls go straight to an address), auto answer, and
# ctrl_tcp on the namespace's own 127.0.0.1 (on no captured link).
baresip_home() {
  local dir="$1" user="$2" addr="$3" port="$4" rtp="$5" wav="$6" params="$7" host="$3"
  mkdir -p "$dir"
  case "$addr" in *:*) host="[$addr]";; esac
  cat >"$dir/config" <<EOF
# baresip for scripts/foreign-captures (generated)
poll_method		epoll
sip_listen		$host:$port
net_interface		$addr
call_local_timeout	30
call_max_calls		2
audio_source		aufile,$wav
audio_player		aubridge,fcap
audio_alert		aubridge,fcap
audio_level		no
rtp_ports		$rtp
rtcp_mux		no
rtp_stats		no
statmode_default	off
module_path		$BARESIP_MODULES
module			g711.so
module			aufile.so
module			aubridge.so
module			srtp.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:4444
EOF
  printf '<sip:%s@%s:%s>;regint=0;answermode=auto;audio_codecs=PCMU%s\n' "$user" "$host" "$port" "$params" >"$dir/accounts"
  : >"$dir/contacts"
}

# baresip_start NS DIR ADDR SIP_PORT: start baresip (-v -s: verbose, every
# SIP message in its log, for --keep-work), and wait until its SIP socket and
# its control socket are up.
baresip_start() {
  local ns="$1" dir="$2" addr="$3" port="$4"
  start "$ns" "$dir/baresip.log" baresip -f "$dir" -v -s
  wait_for "baresip SIP socket $addr:$port in $ns" 10 udp_bound "$ns" "$addr" "$port"
  wait_for "baresip ctrl_tcp in $ns" 10 tcp_listening "$ns" 127.0.0.1 4444
}

# baresip_call NS URI SECONDS: dial from the baresip in NS, hold SECONDS of
# media once established, hang up, wait for the call to close.
baresip_call() {
  in_ns "$1" "$TSX" "$HERE/baresip-call.ts" --ctrl 127.0.0.1:4444 --to "$2" --seconds "$3"
}

# rtpengine_start LOGDIR: rtpengine in the relay, userspace only, two named
# interfaces (a: the caller's link, b: the callee's), ng control on the
# relay's own loopback, media ports outside 10000-20000.
rtpengine_start() {
  start "$NS_M" "$1/rtpengine.log" rtpengine --config-file=none --table=-1 \
    --interface=a/192.0.2.1 --interface=b/198.51.100.1 --interface=i/127.0.0.2 \
    --listen-ng=127.0.0.1:2223 --port-min=35000 --port-max=35999 \
    --foreground --log-stderr --log-level=7 --pidfile="$1/rtpengine.pid"
  wait_for "rtpengine ng socket" 10 udp_bound "$NS_M" 127.0.0.1 2223
}

# kamailio_start LOGDIR MODE: Kamailio with kamailio.cfg, MODE one of
# PASSTHROUGH DEFAULT REENCRYPT ACCESS (a #!define selecting the rtpengine flags).
kamailio_start() {
  start "$NS_M" "$1/kamailio.log" kamailio -f "$HERE/kamailio.cfg" -A "MODE_$2" \
    -DD -E -m 64 -M 8 -P "$1/kamailio.pid" -Y "$1" -w "$1"
  wait_for "kamailio on 192.0.2.1:5060" 10 udp_bound "$NS_M" 192.0.2.1 5060
  wait_for "kamailio on 198.51.100.1:5060" 10 udp_bound "$NS_M" 198.51.100.1 5060
}
