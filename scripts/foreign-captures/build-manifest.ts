/**
 * Writes manifest.json for the captures make.sh made: the ground truth of
 * every call, from how each scenario was set up (INTENTS below) checked
 * against the packets. Fails, saying why, when the packets do not show what
 * the setup should have produced (e.g. a leg protected under an unexpected
 * key), so a wrong manifest is never written.
 *
 *   tsx build-manifest.ts --dir CAPTURES_DIR --versions FILE
 *
 * What is read from the packets (tshark): the Call-ID, the SIP hops, every
 * a=crypto key in every SDP and where it travelled, every RTP flow (addresses,
 * ports, SSRC, payload type, sequence numbers, bytes). Which key protects a
 * flow is established by verifying every packet's SRTP authentication tag
 * under each SDES key of the call (srtp-check.ts, node:crypto only), and legs
 * are compared packet by packet (same sequence number: same bytes? same
 * plaintext once decrypted?).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CallTruth,
  CaptureEntry,
  CaptureFile,
  DirectionTruth,
  ElementInfo,
  ForeignManifest,
  LinkInfo,
  MediaLeg,
  SdesKey,
  Verdict,
} from '../../packages/analysis/test/fixtures/foreign/manifest.ts';
import {
  authenticates,
  decryptPayload,
  rollovers,
  rtpHeaderLength,
  sessionKeys,
  type SessionKeys,
} from '../../packages/analysis/test/fixtures/foreign/srtp-check.ts';

// ---- the lab, as lab.sh builds it ------------------------------------------------

const LINKS: Record<string, LinkInfo> = {
  ab: { description: 'direct veth link between the caller\'s and the callee\'s namespaces (no element in between)', subnets: ['203.0.113.0/24', 'fd00:fcab::/64'] },
  am: { description: 'veth link caller <-> relay (Kamailio + rtpengine)', subnets: ['192.0.2.0/24'] },
  bm: { description: 'veth link relay <-> callee', subnets: ['198.51.100.0/24'] },
};

function linkOf(ip: string): string {
  if (ip.startsWith('203.0.113.') || ip.toLowerCase().startsWith('fd00:fcab:')) return 'ab';
  if (ip.startsWith('192.0.2.')) return 'am';
  if (ip.startsWith('198.51.100.')) return 'bm';
  throw new Error(`address ${ip} is on no lab link`);
}

const ELEMENT_ADDRESSES: Record<string, Record<string, string>> = {
  alice: { ab: '203.0.113.10', 'ab-ipv6': 'fd00:fcab::10', am: '192.0.2.10' },
  bob: { ab: '203.0.113.20', 'ab-ipv6': 'fd00:fcab::20', bm: '198.51.100.20' },
  sipp: { ab: '203.0.113.10' },
  relay: { am: '192.0.2.1', bm: '198.51.100.1', internal: '127.0.0.2' },
};

// ---- what each scenario was set up to do (make.sh) ----------------------------------

interface Intent {
  id: string;
  description: string;
  files: Array<{ file: string; capturedOn: string; links: string[] }>;
  /** Caller and callee elements; `relayed`: through Kamailio + rtpengine. */
  caller: string;
  callee: string;
  relayed: boolean;
  uas: string[];
  /** The media path the setup must produce, or `observe` (recorded as found, e.g. rtpengine's defaults). */
  mediaPath: Verdict | 'observe';
}

const INTENTS: Intent[] = [
  {
    id: 'a-direct-plain',
    description: 'baresip calls baresip directly, plain RTP (PCMU, espeak-ng speech both ways); SIP on 5080 -> 15060, RTP on 41000+/43000+ (non-standard ports).',
    files: [{ file: 'a-direct-plain.pcap', capturedOn: 'tcpdump -i ab0 (the caller\'s veth, Ethernet)', links: ['ab'] }],
    caller: 'alice', callee: 'bob', relayed: false, uas: ['alice', 'bob'], mediaPath: 'none',
  },
  {
    id: 'b-direct-sdes',
    description: 'baresip calls baresip directly with SDES-SRTP (AES_CM_128_HMAC_SHA1_80, srtp-mand), SIP in plaintext UDP on non-standard ports: each key is readable in the SDP on the link.',
    files: [{ file: 'b-direct-sdes.pcap', capturedOn: 'tcpdump -i any -y LINUX_SLL in the caller\'s namespace (its loopback excluded)', links: ['ab'] }],
    caller: 'alice', callee: 'bob', relayed: false, uas: ['alice', 'bob'], mediaPath: 'e2e',
  },
  {
    id: 'c-sipp-plain',
    description: 'SIPp (uac scenario sipp-uac-pcmu.xml, rtp_stream playing the espeak-ng speech as PCMU) calls baresip directly, plain RTP both ways; SIP 25060 -> 15060.',
    files: [{ file: 'c-sipp-plain.pcapng', capturedOn: 'dumpcap -i ba0 (the callee\'s veth, pcapng, Ethernet)', links: ['ab'] }],
    caller: 'sipp', callee: 'bob', relayed: false, uas: ['sipp', 'bob'], mediaPath: 'none',
  },
  {
    id: 'd-rtpengine-passthrough',
    description: 'baresip -> Kamailio (record-route) -> baresip, SDES-SRTP; rtpengine anchors the media with the ng flag "passthrough": a=crypto reaches each side unchanged and the SRTP is relayed untouched.',
    files: [{ file: 'd-rtpengine-passthrough.pcap', capturedOn: 'tcpdump -i any -y LINUX_SLL2 in the relay\'s namespace (both hops; the ng control on its loopback excluded)', links: ['am', 'bm'] }],
    caller: 'alice', callee: 'bob', relayed: true, uas: ['alice', 'bob', 'relay'], mediaPath: 'e2e',
  },
  {
    id: 'e-rtpengine-default',
    description: 'baresip -> Kamailio -> baresip, SDES-SRTP, rtpengine with no flags at all (its defaults); what it did is recorded as found in the packets.',
    files: [
      { file: 'e-rtpengine-default.link-a.pcap', capturedOn: 'tcpdump -i a0 (the caller\'s veth, Ethernet)', links: ['am'] },
      { file: 'e-rtpengine-default.link-b.pcap', capturedOn: 'tcpdump -i b0 (the callee\'s veth, Ethernet)', links: ['bm'] },
    ],
    caller: 'alice', callee: 'bob', relayed: true, uas: ['alice', 'bob', 'relay'], mediaPath: 'observe',
  },
  {
    id: 'f-rtpengine-reencrypt',
    description: 'baresip -> Kamailio -> baresip, SDES-SRTP; rtpengine decrypts and re-encrypts: the caller\'s leg AES_CM_128_HMAC_SHA1_80, the callee\'s leg AES_CM_128_HMAC_SHA1_32 (32-bit tag), four different keys (two rtpengine sessions joined on the relay\'s 127.0.0.2, not captured).',
    files: [{ file: 'f-rtpengine-reencrypt.pcapng', capturedOn: 'dumpcap -i link-a -i link-b in the relay\'s namespace (pcapng, one interface per hop)', links: ['am', 'bm'] }],
    caller: 'alice', callee: 'bob', relayed: true, uas: ['alice', 'bob', 'relay'], mediaPath: 'e2m2e(192.0.2.1)',
  },
  {
    id: 'g-rtpengine-access-only',
    description: 'baresip -> Kamailio -> baresip; SDES-SRTP on the caller\'s hop only: rtpengine offers plain RTP (RTP/AVP) to the callee and answers the caller with a key of its own (protection of one access link only).',
    files: [{ file: 'g-rtpengine-access-only.pcap', capturedOn: 'tcpdump -i any -y LINUX_SLL in the relay\'s namespace (both hops)', links: ['am', 'bm'] }],
    caller: 'alice', callee: 'bob', relayed: true, uas: ['alice', 'bob', 'relay'], mediaPath: 'none',
  },
  {
    id: 'h-direct-plain-ipv6',
    description: 'baresip calls baresip directly over IPv6 (ULA fd00:fcab::/64), plain RTP.',
    files: [{ file: 'h-direct-plain-ipv6.pcap', capturedOn: 'tcpdump -i ab0 (the caller\'s veth, Ethernet)', links: ['ab'] }],
    caller: 'alice', callee: 'bob', relayed: false, uas: ['alice', 'bob'], mediaPath: 'none',
  },
];

// ---- arguments -------------------------------------------------------------------

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`usage: build-manifest.ts --dir DIR --versions FILE (missing ${name})`);
  return v;
}
const DIR = arg('--dir');
const VERSIONS = Object.fromEntries(
  readFileSync(arg('--versions'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]),
);

function software(element: string): string[] {
  const v = (p: string) => `${p} ${VERSIONS[p] ?? '?'}`;
  if (element === 'alice' || element === 'bob') return [v('baresip-core'), v('libre0')];
  if (element === 'sipp') return [v('sip-tester')];
  if (element === 'relay') return [v('kamailio'), v('rtpengine-daemon')];
  return [];
}

// ---- tshark ----------------------------------------------------------------------

const SEP = '\x1f';
function tshark(file: string, filter: string, fields: string[]): string[][] {
  const args = ['-r', join(DIR, file), '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', filter, '-T', 'fields', '-E', `separator=${'\t'}`, '-E', `aggregator=${SEP}`, '-E', 'occurrence=a'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

function addr(ip: string, port: string | number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// ---- files -----------------------------------------------------------------------

/** Format, link type(s) and interface names, from the file's own header blocks. */
function fileHeader(file: string): Pick<CaptureFile, 'format' | 'linkTypes' | 'interfaceNames'> {
  const b = readFileSync(join(DIR, file));
  const magic = b.readUInt32LE(0);
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) return { format: 'pcap', linkTypes: [b.readUInt32LE(20) & 0x0fffffff] };
  if (magic !== 0x0a0d0d0a) throw new Error(`${file}: neither pcap nor pcapng`);
  if (b.readUInt32LE(8) !== 0x1a2b3c4d) throw new Error(`${file}: big-endian pcapng not expected here`);
  const linkTypes: number[] = [];
  const interfaceNames: string[] = [];
  for (let off = 0; off + 12 <= b.length; ) {
    const type = b.readUInt32LE(off);
    const len = b.readUInt32LE(off + 4);
    if (type === 1) {
      linkTypes.push(b.readUInt16LE(off + 8));
      // options after linktype(2) reserved(2) snaplen(4)
      for (let o = off + 16; o + 4 <= off + len - 4; ) {
        const code = b.readUInt16LE(o);
        const olen = b.readUInt16LE(o + 2);
        if (code === 0) break;
        if (code === 2) interfaceNames.push(b.toString('utf8', o + 4, o + 4 + olen));
        o += 4 + Math.ceil(olen / 4) * 4;
      }
    }
    off += len;
  }
  return { format: 'pcapng', linkTypes, interfaceNames };
}

function captureFile(spec: Intent['files'][number]): CaptureFile {
  const buf = readFileSync(join(DIR, spec.file));
  const packets = tshark(spec.file, 'frame', ['frame.number']).length;
  return {
    file: spec.file,
    ...fileHeader(spec.file),
    capturedOn: spec.capturedOn,
    links: spec.links,
    bytes: statSync(join(DIR, spec.file)).size,
    packets,
    sha256: createHash('sha256').update(buf).digest('hex'),
  };
}

// ---- SIP and SDP -----------------------------------------------------------------

interface SipMsg {
  file: string;
  time: number;
  src: string;
  dst: string;
  srcIp: string;
  link: string;
  method: string;
  status: string;
  cseqMethod: string;
  callId: string;
  from: string;
  to: string;
  /** SDP media: port and profile of the first m= line, and every a= attribute. */
  mediaPort?: number;
  mediaProto?: string;
  connection?: string;
  attrs: string[];
}

function sipMessages(files: string[]): SipMsg[] {
  const fields = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'udp.srcport', 'ip.dst', 'ipv6.dst', 'udp.dstport', 'sip.Method', 'sip.Status-Code', 'sip.CSeq.method', 'sip.Call-ID', 'sip.from.addr', 'sip.to.addr', 'sdp.media.port', 'sdp.media.proto', 'sdp.connection_info.address', 'sdp.media_attr'];
  const out: SipMsg[] = [];
  for (const file of files) {
    for (const r of tshark(file, 'sip && !icmp && !icmpv6', fields)) {
      const [time, ip4s, ip6s, sport, ip4d, ip6d, dport, method, status, cseqMethod, callId, from, to, mport, mproto, conn, attrs] = r;
      const srcIp = ip4s || ip6s || '';
      const dstIp = ip4d || ip6d || '';
      out.push({
        file, time: Number(time), srcIp, src: addr(srcIp, sport!), dst: addr(dstIp, dport!), link: linkOf(srcIp),
        method: method ?? '', status: status ?? '', cseqMethod: cseqMethod ?? '', callId: callId ?? '', from: from ?? '', to: to ?? '',
        ...(mport ? { mediaPort: Number(mport.split(SEP)[0]), mediaProto: mproto?.split(SEP)[0] ?? '', connection: conn?.split(SEP)[0] ?? '' } : {}),
        attrs: attrs ? attrs.split(SEP) : [],
      });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

function msgName(m: SipMsg): string {
  return m.method || `${m.status} (${m.cseqMethod})`;
}

// ---- RTP -------------------------------------------------------------------------

interface Flow {
  file: string;
  link: string;
  srcIp: string;
  dstIp: string;
  src: string;
  dst: string;
  ssrc: number;
  pt: number;
  seqs: number[];
  packets: Buffer[];
}

function rtpFlows(files: string[]): Flow[] {
  const fields = ['ip.src', 'ipv6.src', 'udp.srcport', 'ip.dst', 'ipv6.dst', 'udp.dstport', 'rtp.ssrc', 'rtp.p_type', 'rtp.seq', 'udp.payload'];
  const flows = new Map<string, Flow>();
  for (const file of files) {
    for (const r of tshark(file, 'rtp && !icmp && !icmpv6', fields)) {
      const [ip4s, ip6s, sport, ip4d, ip6d, dport, ssrc, pt, seq, payload] = r;
      const ptn = Number(pt);
      if (ptn >= 72 && ptn <= 76) continue; // RTCP taken for RTP by the heuristic
      const srcIp = ip4s || ip6s || '';
      const dstIp = ip4d || ip6d || '';
      const key = `${file}|${srcIp}|${sport}|${dstIp}|${dport}|${ssrc}`;
      let f = flows.get(key);
      if (!f) {
        f = { file, link: linkOf(srcIp), srcIp, dstIp, src: addr(srcIp, sport!), dst: addr(dstIp, dport!), ssrc: Number(ssrc), pt: ptn, seqs: [], packets: [] };
        flows.set(key, f);
      }
      f.seqs.push(Number(seq));
      f.packets.push(Buffer.from(payload!, 'hex'));
    }
  }
  return [...flows.values()];
}

// ---- keys ------------------------------------------------------------------------

interface KeyWork extends SdesKey {
  session: SessionKeys | null;
}

function collectKeys(msgs: SipMsg[], owner: (ip: string) => string): KeyWork[] {
  const keys: KeyWork[] = [];
  for (const m of msgs) {
    for (const a of m.attrs) {
      const cm = /^crypto:(\d+) (\S+) inline:([^|\s]+)/.exec(a);
      if (!cm) continue;
      const [, tag, suite, inline] = cm as unknown as [string, string, string, string];
      let k = keys.find((x) => x.inline === inline);
      if (!k) {
        k = { id: `k${keys.length + 1}`, suite, inline, tag: Number(tag), generatedBy: owner(m.srcIp), seenIn: [], usedOn: [], session: sessionKeys(suite, inline) };
        keys.push(k);
      }
      k.seenIn.push({ link: m.link, from: m.src, to: m.dst, message: msgName(m), clear: true });
    }
  }
  return keys;
}

// ---- one capture -----------------------------------------------------------------

function legName(l: { link: string; from: string; to: string }): string {
  return `${l.link} ${l.from} -> ${l.to}`;
}

function build(intent: Intent): CaptureEntry {
  const files = intent.files.map(captureFile);
  const fileNames = intent.files.map((f) => f.file);
  const msgs = sipMessages(fileNames);
  const callIds = [...new Set(msgs.map((m) => m.callId))];
  if (callIds.length !== 1) throw new Error(`${intent.id}: expected one Call-ID, found ${callIds.join(', ') || 'none'}`);
  const callId = callIds[0]!;
  const participants = [intent.caller, intent.callee, ...(intent.relayed ? ['relay'] : [])];
  const owner = (ip: string): string => {
    const hit = participants.find((p) => Object.values(ELEMENT_ADDRESSES[p] ?? {}).includes(ip));
    if (!hit) throw new Error(`${intent.id}: ${ip} belongs to no participant`);
    return hit;
  };
  const invites = msgs.filter((m) => m.method === 'INVITE');
  const firstInvite = invites[0];
  const lastInvite = invites[invites.length - 1];
  if (!firstInvite || !lastInvite) throw new Error(`${intent.id}: no INVITE`);
  if (invites.length !== (intent.relayed ? 2 : 1)) throw new Error(`${intent.id}: ${invites.length} INVITEs, expected ${intent.relayed ? 2 : 1}`);
  const keys = collectKeys(msgs, owner);
  const flows = rtpFlows(fileNames);
  const verification: string[] = [
    `tshark ${VERSIONS['tshark'] ?? ''}: one Call-ID (${callId}) in ${msgs.length} SIP messages (${[...new Set(msgs.map(msgName))].join(', ')}), all plaintext UDP`,
  ];

  const calleeAddr = (link: string) => ELEMENT_ADDRESSES[intent.callee]![firstInvite.srcIp.includes(':') ? 'ab-ipv6' : link]!;
  const callerAddr = (link: string) => ELEMENT_ADDRESSES[intent.caller]![firstInvite.srcIp.includes(':') ? 'ab-ipv6' : link]!;
  const relay = ELEMENT_ADDRESSES['relay']!;

  /** The SDP that announced where `ip` receives on `link` (the receiver's own SDP on that link). */
  const announcedPort = (ip: string, link: string): { port: number; proto: string; msg: SipMsg } | undefined => {
    const m = msgs.find((x) => x.link === link && x.srcIp === ip && x.mediaPort !== undefined);
    return m ? { port: m.mediaPort!, proto: m.mediaProto!, msg: m } : undefined;
  };

  const directionTruth = (dir: 'caller->callee' | 'callee->caller'): DirectionTruth => {
    const [fromEl, toEl] = dir === 'caller->callee' ? [intent.caller, intent.callee] : [intent.callee, intent.caller];
    const hops: Array<{ link: string; srcIp: string; dstIp: string }> = intent.relayed
      ? dir === 'caller->callee'
        ? [{ link: 'am', srcIp: callerAddr('am'), dstIp: relay['am']! }, { link: 'bm', srcIp: relay['bm']!, dstIp: calleeAddr('bm') }]
        : [{ link: 'bm', srcIp: calleeAddr('bm'), dstIp: relay['bm']! }, { link: 'am', srcIp: relay['am']!, dstIp: callerAddr('am') }]
      : dir === 'caller->callee'
        ? [{ link: 'ab', srcIp: callerAddr('ab'), dstIp: calleeAddr('ab') }]
        : [{ link: 'ab', srcIp: calleeAddr('ab'), dstIp: callerAddr('ab') }];
    const legs: MediaLeg[] = [];
    const legFlows: Flow[] = [];
    const legKeys: Array<KeyWork | undefined> = [];
    const checks: string[] = [];
    const readable = new Set<string>();
    for (const h of hops) {
      const candidates = flows.filter((f) => f.srcIp === h.srcIp && f.dstIp === h.dstIp);
      if (candidates.length !== 1) throw new Error(`${intent.id} ${dir}: ${candidates.length} RTP flows ${h.srcIp} -> ${h.dstIp} (expected one: one SSRC, one port pair)`);
      const f = candidates[0]!;
      const ann = announcedPort(h.dstIp, h.link);
      if (!ann) throw new Error(`${intent.id} ${dir}: no SDP from ${h.dstIp} on link ${h.link}`);
      if (!f.dst.endsWith(`:${ann.port}`)) throw new Error(`${intent.id} ${dir}: RTP to ${f.dst} but the SDP (${msgName(ann.msg)}) announced port ${ann.port}`);
      checks.push(`leg ${legName({ link: h.link, from: f.src, to: f.dst })}: ${f.packets.length} RTP packets, SSRC 0x${f.ssrc.toString(16).padStart(8, '0')}, PT ${f.pt}, sent to the port the receiver announced in its SDP on that link (${msgName(ann.msg)}: m=audio ${ann.port} ${ann.proto})`);
      // Which key authenticates every packet?
      const rocs = rollovers(f.seqs);
      const verifying = keys.filter((k) => k.session && f.packets.every((p, i) => authenticates(p, k.session!, rocs[i]!)));
      if (verifying.length > 1) throw new Error(`${intent.id}: several keys verify ${f.src} -> ${f.dst}`);
      const key = verifying[0];
      if (ann.proto.includes('SAVP') && !key) throw new Error(`${intent.id} ${dir}: ${f.src} -> ${f.dst} is announced ${ann.proto} but no key of the call authenticates its packets`);
      if (!ann.proto.includes('SAVP') && key) throw new Error(`${intent.id} ${dir}: ${f.src} -> ${f.dst} is announced ${ann.proto} but authenticates under ${key.id}`);
      const leg: MediaLeg = {
        link: h.link,
        files: [f.file],
        from: f.src,
        to: f.dst,
        ssrc: f.ssrc,
        ssrcHex: `0x${f.ssrc.toString(16).padStart(8, '0')}`,
        payloadType: f.pt,
        packets: f.packets.length,
        seq: [f.seqs[0]!, f.seqs[f.seqs.length - 1]!],
        protection: key ? 'srtp' : 'rtp',
      };
      if (key) {
        leg.srtp = { suite: key.suite, key: key.id, inline: key.inline, tagBytes: key.session!.params.tagLen };
        key.usedOn.push(legName(leg));
        const others = keys.filter((k) => k !== key).length;
        checks.push(`leg ${legName(leg)}: every packet's ${key.session!.params.tagLen}-byte SRTP tag verifies under ${key.id} (${key.suite}), under none of the call's ${others} other key(s)`);
      } else {
        const sizes = [...new Set(f.packets.map((p) => p.length - rtpHeaderLength(p)))];
        checks.push(`leg ${legName(leg)}: plain RTP (announced ${ann.proto}; no key of the call authenticates it; payload sizes ${sizes.join('/')} bytes, G.711 at 20 ms)`);
      }
      legs.push(leg);
      legFlows.push(f);
      legKeys.push(key);
    }
    // Compare each leg with the previous one, packet by packet (same sequence number).
    const plain = (f: Flow, k: KeyWork | undefined, i: number, rocs: number[]): Buffer =>
      k ? decryptPayload(f.packets[i]!, k.session!, rocs[i]!) : f.packets[i]!.subarray(rtpHeaderLength(f.packets[i]!));
    for (let li = 1; li < legs.length; li++) {
      const a = legFlows[li - 1]!;
      const b = legFlows[li]!;
      const ra = rollovers(a.seqs);
      const rb = rollovers(b.seqs);
      const bySeq = new Map(b.seqs.map((s, i) => [s, i]));
      let n = 0;
      let sameBytes = true;
      let samePlain = true;
      a.seqs.forEach((s, i) => {
        const j = bySeq.get(s);
        if (j === undefined) return;
        n++;
        if (!a.packets[i]!.equals(b.packets[j]!)) sameBytes = false;
        if (!plain(a, legKeys[li - 1], i, ra).equals(plain(b, legKeys[li], j, rb))) samePlain = false;
      });
      if (n < 0.9 * Math.min(a.packets.length, b.packets.length)) throw new Error(`${intent.id} ${dir}: only ${n} packets of leg ${li} match leg ${li - 1} by sequence number`);
      legs[li]!.comparedWithPreviousLeg = { packets: n, bytesIdentical: sameBytes, payloadPlaintextIdentical: samePlain };
      checks.push(`leg ${legName(legs[li]!)} vs the previous leg, ${n} packets with the same sequence numbers: ${sameBytes ? 'byte-identical (relayed untouched)' : 'bytes differ'}; payloads once decrypted ${samePlain ? 'identical (the same media)' : 'differ'}${legs[li]!.ssrc === legs[li - 1]!.ssrc ? '; same SSRC on both legs' : '; SSRC changed'}`);
    }
    // The media path, from the packets.
    let mediaPath: Verdict;
    const conditions: string[] = [];
    if (legs.some((l) => l.protection === 'rtp')) {
      mediaPath = 'none';
      for (const l of legs.filter((x) => x.protection === 'rtp')) conditions.push(`plain RTP ${l.from} -> ${l.to} on link ${l.link}: anyone on that link can listen`);
      for (const l of legs.filter((x) => x.protection === 'srtp')) conditions.push(`SRTP (${l.srtp!.key}) on link ${l.link} only: protection of that hop alone, not of the call`);
    } else if (legs.length === 1) {
      mediaPath = 'e2e';
    } else {
      const sameKey = legs.every((l) => l.srtp!.key === legs[0]!.srtp!.key);
      const untouched = legs.slice(1).every((l) => l.comparedWithPreviousLeg!.bytesIdentical);
      const samePlain = legs.slice(1).every((l) => l.comparedWithPreviousLeg!.payloadPlaintextIdentical);
      if (sameKey && untouched) mediaPath = 'e2e';
      else if (!sameKey && samePlain) mediaPath = `e2m2e(${relay['am']})`;
      else throw new Error(`${intent.id} ${dir}: legs neither one untouched SRTP context nor a clean re-encryption`);
    }
    // Where the keys of the legs travelled.
    const ipOf = (a: string) => a.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([^:]+):\d+$/, '$1');
    for (const l of legs) {
      if (l.protection === 'rtp') {
        readable.add(`${owner(ipOf(l.from))} (sends plain RTP on link ${l.link})`);
        readable.add(`${owner(ipOf(l.to))} (receives plain RTP on link ${l.link})`);
        readable.add(`anyone on link ${l.link} (plain RTP)`);
      }
    }
    let exposed = false;
    for (const k of new Set(legKeys.filter((k): k is KeyWork => !!k))) {
      // Holders: the element that generated the key and every element an SDP carrying it was sent to.
      readable.add(`${k.generatedBy} (generated key ${k.id})`);
      for (const s of k.seenIn) readable.add(`${owner(ipOf(s.to))} (received key ${k.id} in SDP)`);
      for (const s of k.seenIn.filter((x) => x.clear)) {
        exposed = true;
        conditions.push(`key ${k.id} (${k.suite}, generated by ${k.generatedBy}) crossed ${s.from} -> ${s.to} (link ${s.link}) in plaintext SIP (${s.message})`);
        readable.add(`anyone on link ${s.link} (key ${k.id} in plaintext SDP)`);
      }
    }
    const expected: Verdict = mediaPath === 'none' || exposed ? 'none' : mediaPath;
    if (intent.mediaPath !== 'observe' && intent.mediaPath !== mediaPath) {
      throw new Error(`${intent.id} ${dir}: set up for ${intent.mediaPath}, the packets show ${mediaPath}:\n  ${checks.join('\n  ')}`);
    }
    return {
      direction: dir,
      from: fromEl,
      to: toEl,
      legs,
      mediaPath,
      expected,
      conditions,
      readableBy: [...readable],
      verification: [...verification, ...checks],
    };
  };

  const directions = [directionTruth('caller->callee'), directionTruth('callee->caller')];
  const call: CallTruth = {
    callId,
    caller: { element: intent.caller, uri: firstInvite.from, sip: firstInvite.src },
    callee: { element: intent.callee, uri: firstInvite.to, sip: lastInvite.dst },
    signalling: invites.map((m) => ({ link: m.link, from: m.src, to: m.dst, transport: 'udp' as const, clear: true })),
    keys: keys.map(({ session: _s, ...k }) => k),
    directions,
  };
  let description = intent.description;
  if (intent.id === 'e-rtpengine-default') description += ` Found: ${describeDefault(call, msgs)}`;
  return { id: intent.id, description, files, uas: intent.uas.map((e) => ({ element: e, software: software(e).join(', ') })), calls: [call] };
}

/** What rtpengine's defaults did with SDES, in words, from the SDPs and legs. */
function describeDefault(call: CallTruth, msgs: SipMsg[]): string {
  const relayKeys = call.keys.filter((k) => k.generatedBy === 'relay');
  const unused = relayKeys.filter((k) => k.usedOn.length === 0);
  const offerToCallee = msgs.find((m) => m.method === 'INVITE' && m.link === 'bm');
  const fp = offerToCallee?.attrs.some((a) => a.startsWith('fingerprint:')) ?? false;
  const [fwd, back] = call.directions;
  const path = (d: DirectionTruth | undefined) => (d ? `${d.direction} ${d.mediaPath}` : '');
  return (
    `the offer rtpengine sent to the callee kept the caller's own a=crypto first and added ${relayKeys.length} keys of its own (${[...new Set(relayKeys.map((k) => k.suite))].join(', ')})` +
    `${fp ? ' and a DTLS fingerprint' : ''}; the callee answered the caller's suite, and the answer rtpengine gave the caller carried the callee's key unchanged; ` +
    `${unused.length} of rtpengine's keys protect nothing. Media: ${path(fwd)}, ${path(back)} (SRTP relayed byte for byte, SSRCs kept).`
  );
}

// ---- all ---------------------------------------------------------------------------

const elements: Record<string, ElementInfo> = {
  alice: { description: 'baresip, the caller (answermode auto, WAV of espeak-ng speech as microphone)', software: software('alice'), addresses: ELEMENT_ADDRESSES['alice']! },
  bob: { description: 'baresip, the callee (answers at once)', software: software('bob'), addresses: ELEMENT_ADDRESSES['bob']! },
  sipp: { description: 'SIPp, the caller in c-sipp-plain (same namespace and address as alice)', software: software('sipp'), addresses: ELEMENT_ADDRESSES['sipp']! },
  relay: { description: 'Kamailio (stateful proxy, record-route, SIP on 5060) and rtpengine (media relay, ports 35000-35999, ng control on the relay\'s own loopback)', software: software('relay'), addresses: ELEMENT_ADDRESSES['relay']! },
};

const manifest: ForeignManifest = {
  schema: 'imslab-foreign-captures/1',
  generatedBy: 'sudo scripts/foreign-captures/make.sh',
  generatedAt: new Date().toISOString(),
  tools: VERSIONS,
  links: LINKS,
  elements,
  captures: INTENTS.map(build),
};
writeFileSync(join(DIR, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
for (const c of manifest.captures) {
  for (const call of c.calls) {
    console.log(`${c.id}: ${call.directions.map((d) => `${d.direction} ${d.expected} (media path ${d.mediaPath})`).join('; ')}`);
  }
}
