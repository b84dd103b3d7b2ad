#!/bin/sh
# Entrypoint of every imslab image. Nothing in it knows an element kind: what
# runs comes from the configuration rendered for the element (packages/network),
# how readiness is probed from the kind's declaration (its compose healthcheck).
#
#   docker-entrypoint.sh ARGV...             runs ARGV (the runner passes the element's command)
#   docker-entrypoint.sh                     runs the command in /etc/imslab/argv, one
#                                            argument per line (docker compose)
#   docker-entrypoint.sh health http URL                 GET URL answers 2xx (needs node in the image)
#   docker-entrypoint.sh health sip-options ADDR PORT    SIP OPTIONS over UDP answers 200
#   docker-entrypoint.sh health ng-ping ADDR PORT        rtpengine's ng ping answers pong
#
# Configuration is mounted at /etc/imslab (read-only), the PKI at
# /etc/imslab/pki, and /var/lib/imslab is the element's run directory (key
# logs, pid files), a host directory.
set -eu

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

health() { # type args...
  case "${1:-}" in
    sip-options)
      # With rport: Kamailio answers the source port. Lines end in LF here; the probe sends CRLF.
      msg="OPTIONS sip:$2:$3 SIP/2.0
Via: SIP/2.0/UDP @LOCAL@;branch=z9hG4bK@RAND@;rport
Max-Forwards: 70
From: <sip:health@imslab.invalid>;tag=@RAND@
To: <sip:$2:$3>
Call-ID: @RAND@@imslab-health
CSeq: 1 OPTIONS
Content-Length: 0

"
      udp_probe "$2" "$3" "$msg" '^SIP/2\.0 200 '
      ;;
    ng-ping)
      udp_probe "$2" "$3" '@RAND@ d7:command4:pinge' 'd6:result4:ponge'
      ;;
    http)
      command -v node >/dev/null || { echo "health http: no node in this image" >&2; exit 1; }
      exec node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$2"
      ;;
    *)
      echo "health: unknown probe '${1:-}' (http URL | sip-options ADDR PORT | ng-ping ADDR PORT)" >&2
      exit 64
      ;;
  esac
}

if [ "${1:-}" = health ]; then
  shift
  health "$@"
  exit $?
fi

mkdir -p /var/lib/imslab

if [ "$#" -eq 0 ]; then
  if [ ! -f /etc/imslab/argv ]; then
    echo "${IMSLAB_KIND:-element}: no command given and no /etc/imslab/argv: render the configuration first (./bin/imslab compose, see docs/docker.md)" >&2
    exit 64
  fi
  while IFS= read -r arg || [ -n "$arg" ]; do
    set -- "$@" "$arg"
  done </etc/imslab/argv
fi
exec "$@"
