#!/bin/sh
# Entrypoint of every imslab image; IMSLAB_KIND (set by each Dockerfile) says
# which element it runs.
#
#   docker-entrypoint.sh ARGV...   runs ARGV (the runner passes the command that
#                                  packages/topology rendered for this element)
#   docker-entrypoint.sh           runs the command in /etc/imslab/argv, one
#                                  argument per line (docker compose)
#   docker-entrypoint.sh health    readiness probe of the running element, for a
#                                  compose healthcheck: HTTP /health (our services), SIP
#                                  OPTIONS (Kamailio) or an ng ping (rtpengine)
#
# Configuration is mounted at /etc/imslab (read-only), the PKI at
# /etc/imslab/pki, and /var/lib/imslab is the element's run directory (key
# logs, pid files), a host directory.
set -eu
KIND="${IMSLAB_KIND:?IMSLAB_KIND is not set: each imslab Dockerfile sets it}"

# One UDP request, one answer matching a pattern within 2 s (perl-base is in
# every Debian image, minbase included).
udp_probe() { # host port message regex
  perl -MIO::Socket::INET -e '
    my ($host, $port, $msg, $expect) = @ARGV;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => "udp") or exit 1;
    my $me = $s->sockhost . ":" . $s->sockport;
    $msg =~ s/\r?\n/\r\n/g;
    $msg =~ s/\@LOCAL\@/$me/g;
    $msg =~ s/\@RAND\@/int(rand(1e9))/ge;
    $s->send($msg) or exit 1;
    my $rin = ""; vec($rin, fileno($s), 1) = 1;
    select(my $rout = $rin, undef, undef, 2) or exit 1;
    defined $s->recv(my $buf, 65535) or exit 1;
    exit($buf =~ /$expect/ ? 0 : 1);
  ' "$@"
}

health() {
  case "$KIND" in
    kamailio)
      # SIP OPTIONS to the first UDP listener, with rport (Kamailio answers the source port).
      hp=$(sed -n 's/^listen=udp:\([0-9.]*\):\([0-9]*\).*/\1 \2/p' /etc/imslab/kamailio.cfg | head -n 1)
      [ -n "$hp" ] || exit 1
      set -- $hp
      # Lines end in LF here; the probe sends CRLF.
      msg="OPTIONS sip:$1:$2 SIP/2.0
Via: SIP/2.0/UDP @LOCAL@;branch=z9hG4bK@RAND@;rport
Max-Forwards: 70
From: <sip:health@imslab.invalid>;tag=@RAND@
To: <sip:$1:$2>
Call-ID: @RAND@@imslab-health
CSeq: 1 OPTIONS
Content-Length: 0

"
      udp_probe "$1" "$2" "$msg" '^SIP/2\.0 200 '
      ;;
    ims-agw)
      # ng "ping" -> "pong" on the address given by --listen-ng.
      ng=$(for f in /proc/[0-9]*/cmdline; do tr '\0' '\n' <"$f" 2>/dev/null; done | sed -n 's/^--listen-ng=//p' | head -n 1)
      [ -n "$ng" ] || exit 1
      udp_probe "${ng%:*}" "${ng##*:}" '@RAND@ d7:command4:pinge' 'd6:result4:ponge'
      ;;
    ue|kms|voicemail|conference)
      # HTTP /health on the control port named in the service's configuration.
      exec node -e '
        const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        fetch(`http://${c.address}:${c.controlPort}/health`, { signal: AbortSignal.timeout(2000) })
          .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' "/etc/imslab/$KIND.json"
      ;;
  esac
}

if [ "${1:-}" = health ]; then
  health
  exit $?
fi

mkdir -p /var/lib/imslab
[ "$KIND" = kamailio ] && mkdir -p /run/kamailio

if [ "$#" -eq 0 ]; then
  if [ ! -f /etc/imslab/argv ]; then
    echo "$KIND: no command given and no /etc/imslab/argv: render the configuration first (imslab up --target docker, see docs/docker.md)" >&2
    exit 64
  fi
  while IFS= read -r arg || [ -n "$arg" ]; do
    set -- "$@" "$arg"
  done </etc/imslab/argv
fi
exec "$@"
