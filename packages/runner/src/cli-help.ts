/** The CLI's help texts: one per verb, and the exit codes every verb shares. */

import { ON_DEMAND_KINDS } from '@imslab/network';

export const EXIT_CODES = `exit codes:
  0    every scenario's verdicts and checks matched (other verbs: done)
  1    a mismatch: a verdict or check differed, or a step failed
  2    a usage error: unknown verb, flag, scenario or suite; a scenario file that does not load
  4    an infrastructure failure: a prerequisite is missing, an element did not start or died
  130  interrupted (Ctrl-C; 143 for SIGTERM): everything it started was taken down,
       summary.json says what ran`;

export const HELP: Record<string, string> = {
  main: `imslab: an IMS media-security testbed (3GPP TR 33.828 use cases)

usage: imslab <verb> [options]

verbs:
  run       run scenarios or suites, capture every link, judge the media from the packets
  list      list the scenarios and suites
  inspect   show a finished run: verdicts, per-link flows, capture files
  analyse   judge captures made anywhere (no probe): calls from SIP, media followed, keys attributed
  up        bring up the network and keep it up (--capture: capture every link until stopped)
  down      stop whatever an interrupted run or 'up' left behind
  compose   build the images offline, render the compose network's configuration, write docker-compose.yml
  cert      issue a certificate from the testbed CA for a UA of your own
  kinds     list the element kinds
  schema    write (or check) scenarios/scenario.schema.json
  images    list the images the element kinds run (scripts/build-images.sh reads it)

'imslab <verb> --help' explains each verb.

${EXIT_CODES}`,
  run: `usage: imslab run [SCENARIO|SUITE|all ...] [options]

Runs each scenario on a freshly started network, captures every link into
runs/<timestamp>/<scenario>/, analyses the packets and compares the verdicts
and checks with the scenario's expectations. A suite is a clause folder under
scenarios/ (e.g. 4.1.4). Default: all. One line per scenario as it ends:
  [n/N] name  pass|FAIL|ERROR  observed-verdict(s)  seconds

options:
  --target local|docker   where the network runs (default local)
  --attach                run against the network that is already up ('docker compose up'
                          or 'imslab up') without tearing it down; scenarios that need a
                          network of their own (other servers, policies, attacks) are skipped
  --jobs N                scenarios side by side, each on a network of its own
                          (local target: its own loopback range 127.<slot>.x.y; default two
                          per core, at most 8; the docker target runs one at a time)
  --subscribers FILE      subscriber file (default config/subscribers.yaml)
  --scenarios DIR         scenario folder (default scenarios/; suites are its subfolders)
  --json                  print the run's summary as JSON on stdout (the lines go to stderr)
  --junit FILE            write JUnit XML: one test case per scenario, mismatches as failures
  --verbose               every step of every scenario on stderr (always in <scenario>/run.log)

${EXIT_CODES}`,
  list: `usage: imslab list [--scenarios DIR]

Lists every scenario with its TR 33.828 clause and title.`,
  inspect: `usage: imslab inspect <RUN|latest>

Prints a finished run's verdict table, every link's flows (plaintext, SRTP
under which key, unknown), problems met reading the captures, and where the
captures are for Wireshark. RUN is a directory (also a copied one) or a name
under runs/.`,
  analyse: `usage: imslab analyse CAPTURE... [--sslkeylog FILE] [--srtp-keys FILE] [--json] [--report DIR]

Judges pcap/pcapng captures made anywhere (softphones, a real network),
without the testbed's probe. Each file, and each interface of a pcapng
file, is a link. Calls are found from SIP by Call-ID (any port, UDP or TCP,
and inside TLS when secrets are given or the pcapng carries a Decryption
Secrets Block; reading TLS needs tshark); each direction's media is followed
across links and relays by SSRC, sequence numbers and payload identity;
every a=crypto seen and every key given is tried on every packet.
Per call and direction it prints the media path (what the packets show:
e2e, e2m2e(<address of the middle element on the caller's side>), e2ae,
none, unknown) and the verdict (none when a key of the direction crossed a
link in plaintext SIP), with the conditions: which key crossed which hop in
the clear or inside TLS, which leg is plain, which is under no known key.

options:
  --sslkeylog FILE   TLS secrets (SSLKEYLOGFILE format) to read SIP inside TLS; repeatable
  --srtp-keys FILE   SRTP master keys, repeatable; per line either our key log's JSON
                     ({"kind":"srtp","suite":...,"keySalt":...}) or SDES text:
                     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:BASE64" or
                     "AES_CM_128_HMAC_SHA1_80 inline:BASE64"; '#' starts a comment
  --json             the whole analysis as JSON on stdout
  --report DIR       write DIR/decrypted.pcapng (SRTP replaced by its RTP, WAVs under
                     DIR/audio/), DIR/analysis.json and DIR/report.html

${EXIT_CODES}`,
  up: `usage: imslab up [--target local|docker] [--servers ${ON_DEMAND_KINDS.join(',')}] [--capture]

Starts every element of the network, waits until each is healthy and prints
the addresses, ports and control URLs. On the local target it stays in the
foreground until Ctrl-C, which takes everything down.
  --capture   capture every link (every packet, whatever its source address) until
              stopped; on Ctrl-C the captures are analysed like a run's:
              'imslab inspect latest'
Your own UA: see README "Connect your own UA" and 'imslab cert --help'.`,
  down: `usage: imslab down [--target local|docker]

Stops the processes (local) or containers, networks and volumes (docker) that
an interrupted run or 'imslab up' left behind (a network 'docker compose'
started is left to 'docker compose down').`,
  compose: `usage: imslab compose [--no-build] [--subscribers FILE]

Prepares 'docker compose up' (compose v2) and 'docker-compose up' (v1):
  1. starts the Docker engine if needed and builds every element's image
     offline (scripts/build-images.sh; skip with --no-build);
  2. renders every element's configuration from the subscriber file into
     .imslab/compose/<element>/ (never from a scenario);
  3. writes docker-compose.yml (generated from the element kinds).
Then: docker compose up -d   (profiles add servers: --profile kms, --profile all).`,
  cert: `usage: imslab cert NAME --ip ADDRESS [--ip ADDRESS ...] [--out DIR]

Issues a TLS certificate and key from the testbed CA for a UA of your own
(NAME.pem, NAME.key, and ca.pem, in DIR, default .imslab/ua/NAME). The
P-CSCF opens TLS toward a UA that sends no ;alias (RFC 5923) and checks its
certificate against the testbed CA: give the addresses the UA listens on.`,
  kinds: `usage: imslab kinds

Lists the element kinds (services/<kind>/element.ts), whether every network
has them or a scenario asks for them, and the scenario keys each one owns.`,
  images: `usage: imslab images

One line per image the element kinds run: '<name> node <service>' (our
TypeScript services, services/node-service.Dockerfile) or '<name> dockerfile
<path>' (Debian packages). scripts/build-images.sh builds exactly these.`,
  schema: `usage: imslab schema [--write | --check]

Prints the JSON Schema of scenario files; --write writes it to
scenarios/scenario.schema.json (editors complete and check scenarios with
it), --check exits 1 when that file is stale.`,
};
