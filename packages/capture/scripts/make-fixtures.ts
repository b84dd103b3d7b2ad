/**
 * Writes the committed test fixtures (packages/capture/test/fixtures/).
 * Deterministic: the fixture test regenerates them into a temp directory and
 * requires byte equality, so this script stays the source of truth.
 *
 * Run: `npx tsx packages/capture/scripts/make-fixtures.ts [outDir]`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildRtp as buildRtpPacket, buildSenderReport } from '@imslab/rtp';
import { buildTcpFrame, buildUdpFrame } from '../src/frame-builder.ts';
import { LINKTYPE, linkTypeName } from '../src/linktypes.ts';
import { PcapWriter } from '../src/pcap-writer.ts';
import { PcapngWriter } from '../src/pcapng-writer.ts';
import {
  encodeBlock, encodeEpb, encodeIdb, encodeOpb, encodeShb, encodeSpb, OPT_IF_NAME, OPT_IF_TSOFFSET, OPT_IF_TSRESOL, stringOption,
} from '../src/pcapng-format.ts';

/** 2023-11-14T22:13:20Z, in µs. */
export const T0 = 1_700_000_000_000_000;
/** RTP packetisation interval (20 ms of G.711). */
const TICK = 20_000;
const TICKS = 24;
const BLOCK_ISB = 5;

/** One UDP datagram of a scenario. */
export interface ScenarioPacket {
  tsUs: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

/** Expected RTP flows of the RTP scenario, written down independently of the reader (ground truth for tests). */
export const RTP_EXPECTED = [
  { srcPort: 40000, dstPort: 40002, ssrcs: [0x1111aaaa], packets: 22, lost: 2, firstSeq: 65528, lastSeq: 15 },
  { srcPort: 40002, dstPort: 40000, ssrcs: [0x2222bbbb], packets: 24, lost: 0, firstSeq: 1000, lastSeq: 1023 },
  { srcPort: 41000, dstPort: 41002, ssrcs: [0x3333cccc, 0x4444dddd], packets: 23, lost: 1, firstSeq: 30000, lastSeq: 18 },
] as const;

/** Deterministic bytes (a linear congruential generator), so payloads are not all alike. */
function pattern(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function sip(lines: string[], body = ''): Buffer {
  const withLength = [...lines, `Content-Length: ${Buffer.byteLength(body)}`];
  return Buffer.from(`${withLength.join('\r\n')}\r\n\r\n${body}`);
}

const SDP = ['v=0', 'o=alice 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 8', ''].join('\r\n');

/**
 * The RTP scenario: a SIP INVITE/200 over UDP, then three RTP flows over
 * 24 ticks of 20 ms:
 * - A 10.0.0.1:40000 → 10.0.0.2:40002, SSRC 0x1111aaaa, PT 0, sequence
 *   wraps 65535 → 0 at tick 8, ticks 12 and 13 (seq 4, 5) lost;
 * - B the reverse direction, SSRC 0x2222bbbb, PT 8, ticks 5 and 6 swapped;
 * - C 10.0.0.3:41000 → 10.0.0.4:41002, PT 96, SSRC 0x3333cccc for ticks
 *   0-11 then 0x4444dddd (new sequence space) from tick 12, tick 16 lost;
 * plus RTCP sender reports 40001 → 40003 at ticks 10 and 20.
 */
export function rtpScenario(): ScenarioPacket[] {
  const out: ScenarioPacket[] = [];
  const callId = 'fixture-1@10.0.0.1';
  out.push({
    tsUs: T0, src: '10.0.0.1', srcPort: 5060, dst: '10.0.0.2', dstPort: 5060,
    payload: sip([
      'INVITE sip:bob@10.0.0.2 SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1', 'From: <sip:alice@10.0.0.1>;tag=a1',
      'To: <sip:bob@10.0.0.2>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE', 'Contact: <sip:alice@10.0.0.1:5060>', 'Content-Type: application/sdp',
    ], SDP),
  });
  out.push({
    tsUs: T0 + 5_000, src: '10.0.0.2', srcPort: 5060, dst: '10.0.0.1', dstPort: 5060,
    payload: sip([
      'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1', 'From: <sip:alice@10.0.0.1>;tag=a1',
      'To: <sip:bob@10.0.0.2>;tag=b1', `Call-ID: ${callId}`, 'CSeq: 1 INVITE', 'Contact: <sip:bob@10.0.0.2:5060>',
    ]),
  });
  const start = T0 + 10_000;
  const bOrder = Array.from({ length: TICKS }, (_, k) => k);
  [bOrder[5], bOrder[6]] = [bOrder[6]!, bOrder[5]!];
  for (let k = 0; k < TICKS; k++) {
    const t = start + k * TICK;
    if (k !== 12 && k !== 13) {
      const seq = (65528 + k) & 0xffff;
      out.push({
        tsUs: t, src: '10.0.0.1', srcPort: 40000, dst: '10.0.0.2', dstPort: 40002,
        payload: buildRtpPacket({ payloadType: 0, sequence: seq, timestamp: 160 * k, ssrc: 0x1111aaaa, marker: k === 0 }, pattern(seq, 160)),
      });
    }
    const kb = bOrder[k]!;
    out.push({
      tsUs: t + 1_000, src: '10.0.0.2', srcPort: 40002, dst: '10.0.0.1', dstPort: 40000,
      payload: buildRtpPacket({ payloadType: 8, sequence: 1000 + kb, timestamp: 8000 + 160 * kb, ssrc: 0x2222bbbb, marker: kb === 0 }, pattern(1000 + kb, 160)),
    });
    if (k !== 16) {
      const second = k >= 12;
      const seq = second ? 7 + (k - 12) : 30000 + k;
      out.push({
        tsUs: t + 2_000, src: '10.0.0.3', srcPort: 41000, dst: '10.0.0.4', dstPort: 41002,
        payload: buildRtpPacket({ payloadType: 96, sequence: seq, timestamp: 320 * k, ssrc: second ? 0x4444dddd : 0x3333cccc, marker: k === 0 || k === 12 }, pattern(seq, 120)),
      });
    }
    if (k === 10 || k === 20) out.push({ tsUs: t + 3_000, src: '10.0.0.1', srcPort: 40001, dst: '10.0.0.2', dstPort: 40003, payload: rtcpSenderReport(0x1111aaaa, k) });
  }
  return out;
}

/**
 * RTCP SR with no report blocks (RFC 3550 sec 6.4.1): 28 octets, length word 6,
 * NTP time 0xe8e00000 + k seconds exactly (arbitrary but fixed: the instant is
 * given in Unix milliseconds, 2208988800 s after the NTP epoch).
 */
function rtcpSenderReport(ssrc: number, k: number): Buffer {
  return buildSenderReport(ssrc, 160 * k, k, 160 * k, (0xe8e0_0000 + k - 2_208_988_800) * 1000);
}

/** Link types the RTP scenario is written in (the tshark interop set). */
export const RTP_LINKTYPES = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL] as const;

const frameOf = (lt: number, p: ScenarioPacket): Buffer => buildUdpFrame(lt, p.src, p.srcPort, p.dst, p.dstPort, p.payload);

async function writePcap(path: string, linkType: number, packets: ScenarioPacket[], opts: { nanosecond?: boolean; bigEndian?: boolean } = {}): Promise<void> {
  const w = new PcapWriter(path, linkType, 65535, opts);
  for (const p of packets) w.write(p.tsUs, frameOf(linkType, p));
  await w.close();
}

/** Three interfaces as in the testbed: flow A on access-a (Ethernet), B on core (SLL2), the rest on access-b (NULL). */
async function writeThreeInterfaces(path: string, packets: ScenarioPacket[]): Promise<void> {
  const w = new PcapngWriter(path);
  const ifs = [
    { id: w.addInterface('access-a', LINKTYPE.ETHERNET), lt: LINKTYPE.ETHERNET },
    { id: w.addInterface('core', LINKTYPE.LINUX_SLL2), lt: LINKTYPE.LINUX_SLL2 },
    { id: w.addInterface('access-b', LINKTYPE.NULL), lt: LINKTYPE.NULL },
  ];
  for (const p of packets) {
    const i = p.srcPort === 40000 ? ifs[0]! : p.srcPort === 40002 ? ifs[1]! : ifs[2]!;
    w.write(i.id, p.tsUs, frameOf(i.lt, p));
  }
  await w.close();
}

/**
 * The rarer pcapng features, hand-assembled: section 1 big-endian with an
 * Ethernet interface at nanosecond resolution (if_tsresol 9) carrying EPBs
 * and OPBs, plus an Interface Statistics Block to skip; section 2 little-endian with an
 * SLL2 interface at 2^-20 s resolution and if_tsoffset, carrying EPBs and
 * one SPB (no timestamp).
 */
function blocksPcapng(packets: ScenarioPacket[]): Buffer {
  const half = Math.floor(packets.length / 2);
  const parts: Buffer[] = [];
  // Section 1: big-endian, ns resolution.
  parts.push(encodeShb(false, [stringOption(4, 'make-fixtures section 1')]));
  parts.push(encodeIdb(false, LINKTYPE.ETHERNET, 65535, [stringOption(OPT_IF_NAME, 'access-a'), { code: OPT_IF_TSRESOL, value: Buffer.from([9]) }]));
  // An Interface Statistics Block (draft sec 4.6): valid, but nothing the reader needs, so it must be skipped.
  parts.push(encodeBlock(BLOCK_ISB, Buffer.alloc(12), false));
  packets.slice(0, half).forEach((p, i) => {
    const ns = BigInt(p.tsUs) * 1000n;
    const hi = Number(ns >> 32n), lo = Number(ns & 0xffffffffn);
    const frame = frameOf(LINKTYPE.ETHERNET, p);
    parts.push(i % 3 === 2 ? encodeOpb(false, 0, hi, lo, frame) : encodeEpb(false, 0, hi, lo, frame));
  });
  // Section 2: little-endian, 2^-20 s units counted from if_tsoffset.
  const offsetSec = 1_700_000_000;
  const tsoff = Buffer.alloc(8);
  tsoff.writeBigInt64LE(BigInt(offsetSec));
  parts.push(encodeShb(true));
  parts.push(encodeIdb(true, LINKTYPE.LINUX_SLL2, 0, [
    stringOption(OPT_IF_NAME, 'core'), { code: OPT_IF_TSRESOL, value: Buffer.from([0x80 | 20]) }, { code: OPT_IF_TSOFFSET, value: tsoff },
  ]));
  packets.slice(half).forEach((p, i) => {
    const frame = frameOf(LINKTYPE.LINUX_SLL2, p);
    if (i === 3) {
      parts.push(encodeSpb(true, frame));
      return;
    }
    const units = (BigInt(p.tsUs - offsetSec * 1e6) << 20n) / 1_000_000n;
    parts.push(encodeEpb(true, 0, Number(units >> 32n), Number(units & 0xffffffffn), frame));
  });
  return Buffer.concat(parts);
}

/** SIP, TLS and MSRP over TCP (Ethernet): the INVITE split in three segments, sent out of order and with a retransmission. */
async function writeTcpSignalling(path: string): Promise<void> {
  const w = new PcapngWriter(path);
  const id = w.addInterface('access-a', LINKTYPE.ETHERNET);
  const invite = sip([
    'INVITE sip:bob@10.0.0.2 SIP/2.0', 'Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-2', 'From: <sip:alice@10.0.0.1>;tag=a2',
    'To: <sip:bob@10.0.0.2>', 'Call-ID: tcp-1@10.0.0.1', 'CSeq: 1 INVITE', 'Content-Type: application/sdp',
  ], SDP);
  const trying = sip(['SIP/2.0 100 Trying', 'Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-2', 'Call-ID: tcp-1@10.0.0.1', 'CSeq: 1 INVITE']);
  const ok = sip(['SIP/2.0 200 OK', 'Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-2', 'Call-ID: tcp-1@10.0.0.1', 'CSeq: 1 INVITE']);
  const isn = 0xfffffe00; // the stream's sequence numbers wrap past 2^32
  const cuts = [0, 100, 250, invite.length];
  const seg = (i: number): Buffer => invite.subarray(cuts[i]!, cuts[i + 1]!);
  let t = T0;
  const c2s = (payload: Buffer, seq: number): void => w.write(id, (t += 1000), buildTcpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 50123, '10.0.0.2', 5060, payload, { seq, ack: 1 }));
  c2s(seg(0), isn);
  c2s(seg(2), isn + cuts[2]!); // out of order
  c2s(seg(1), isn + cuts[1]!);
  c2s(seg(1), isn + cuts[1]!); // retransmission
  // Both responses in one segment: framing must split them by Content-Length.
  w.write(id, (t += 1000), buildTcpFrame(LINKTYPE.ETHERNET, '10.0.0.2', 5060, '10.0.0.1', 50123, Buffer.concat([trying, ok]), { seq: 7, ack: isn + invite.length }));
  // A TLS ClientHello record header (RFC 8446 sec 5.1) on 5061, and MSRP (RFC 4975) on 2855.
  // record: handshake (22), version 0x0301, length 56 = handshake header 4 + ClientHello body 52.
  const hello = Buffer.concat([Buffer.from([22, 3, 1, 0, 56, 1, 0, 0, 52, 3, 3]), pattern(7, 50)]);
  w.write(id, (t += 1000), buildTcpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 50200, '10.0.0.2', 5061, hello, { seq: 1, ack: 1 }));
  const msrp = Buffer.from('MSRP a786hjs2 SEND\r\nTo-Path: msrp://10.0.0.2:2855/kjhd37s2s2;tcp\r\nFrom-Path: msrp://10.0.0.1:2855/asd76d;tcp\r\nMessage-ID: 87652\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------a786hjs2$\r\n');
  w.write(id, (t += 1000), buildTcpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 2855, '10.0.0.2', 2855, msrp, { seq: 1, ack: 1 }));
  await w.close();
}

/**
 * IPv6 UDP in an 802.1Q VLAN and IPv4 fragments (first fragment with the
 * UDP header, then a non-first fragment), Ethernet.
 */
async function writeVlanIpv6Fragments(path: string): Promise<void> {
  const w = new PcapWriter(path, LINKTYPE.ETHERNET);
  const v6 = buildUdpFrame(LINKTYPE.ETHERNET, '2001:db8::1', 5062, '2001:db8::2', 5062, Buffer.from('OPTIONS sip:bob@[2001:db8::2] SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
  // Insert the 4-byte 802.1Q tag (TPID 0x8100, VLAN 100) after the MAC addresses.
  const tagged = Buffer.concat([v6.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 100]), v6.subarray(12)]);
  w.write(T0, tagged);
  const whole = buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.5', 6000, '10.0.0.6', 6002, pattern(3, 64));
  // First fragment: keep the UDP header + 24 payload bytes, set MF.
  const first = Buffer.from(whole.subarray(0, 14 + 20 + 32));
  first.writeUInt16BE(20 + 32, 16);
  first.writeUInt16BE(0x2000, 20);
  fixIpv4Checksum(first);
  const rest = Buffer.concat([whole.subarray(0, 14 + 20), whole.subarray(14 + 20 + 32)]);
  rest.writeUInt16BE(20 + (whole.length - 14 - 20 - 32), 16);
  rest.writeUInt16BE(32 / 8, 20); // fragment offset 4 (units of 8 octets), no MF
  fixIpv4Checksum(rest);
  w.write(T0 + 1000, first);
  w.write(T0 + 1001, rest);
  await w.close();
}

function fixIpv4Checksum(frame: Buffer): void {
  frame.writeUInt16BE(0, 14 + 10);
  let s = 0;
  for (let i = 14; i < 34; i += 2) s += frame.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  frame.writeUInt16BE(~s & 0xffff, 14 + 10);
}

/** Writes every fixture into `dir`; returns their file names. */
export async function makeFixtures(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const rtp = rtpScenario();
  const names: string[] = [];
  for (const lt of RTP_LINKTYPES) {
    const name = `rtp-3ssrc-gap-wrap.${linkTypeName(lt)}.pcap`;
    await writePcap(join(dir, name), lt, rtp);
    names.push(name);
  }
  const variants: Array<[string, () => Promise<void>]> = [
    ['rtp-3ssrc-gap-wrap.eth.be-nsec.pcap', () => writePcap(join(dir, 'rtp-3ssrc-gap-wrap.eth.be-nsec.pcap'), LINKTYPE.ETHERNET, rtp, { nanosecond: true, bigEndian: true })],
    ['rtp-3ssrc-gap-wrap.3if.pcapng', () => writeThreeInterfaces(join(dir, 'rtp-3ssrc-gap-wrap.3if.pcapng'), rtp)],
    ['rtp-3ssrc-gap-wrap.2sections-be-spb-opb.pcapng', () => writeFile(join(dir, 'rtp-3ssrc-gap-wrap.2sections-be-spb-opb.pcapng'), blocksPcapng(rtp))],
    ['sip-tls-msrp-tcp-reordered.eth.pcapng', () => writeTcpSignalling(join(dir, 'sip-tls-msrp-tcp-reordered.eth.pcapng'))],
    ['udp-ipv6-vlan-ipv4-frags.eth.pcap', () => writeVlanIpv6Fragments(join(dir, 'udp-ipv6-vlan-ipv4-frags.eth.pcap'))],
  ];
  for (const [name, write] of variants) {
    await write();
    names.push(name);
  }
  return names;
}

/** Where the committed fixtures live. */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2] ?? FIXTURE_DIR;
  const names = await makeFixtures(dir);
  console.log(`wrote ${names.length} fixtures to ${dir}:\n  ${names.join('\n  ')}`);
}
