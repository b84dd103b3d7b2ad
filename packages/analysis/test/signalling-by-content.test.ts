/**
 * Point 3 of the issue: SIP, SDP and MSRP are recognised by what they are,
 * on any port and transport (UDP, TCP split across segments; IPv4 and IPv6),
 * SDES keys are taken from any SDP seen, and media flows are tied to the SDP
 * that announced them. Plus the RTCP classes next to the RTP ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTcpFrame, buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { markerFor } from '@imslab/probe';
import { buildSenderReport, writeU16, writeU32 } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { analyse, scanLink } from '../src/index.ts';
import { isPlainRtcp } from '../src/link-scan.ts';
import { sdpEndpoint } from '../src/sip-sdp.ts';
import { expectAccounted, makeKey, rtpStream, scanFrames, udp } from './scan-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-content-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const CALL = 'third-party-ua@example.org';
const MARKER = markerFor(CALL, 'orig');

function invite(opts: { callId?: string; addr: string; port: number; keySalt?: Buffer; via?: string }): Buffer {
  const ip6 = opts.addr.includes(':');
  const sdp = [
    'v=0', `o=- 7 7 IN ${ip6 ? 'IP6' : 'IP4'} ${opts.addr}`, 's=-', `c=IN ${ip6 ? 'IP6' : 'IP4'} ${opts.addr}`, 't=0 0',
    `m=audio ${opts.port} RTP/SAVP 0`,
    ...(opts.keySalt ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${opts.keySalt.toString('base64')}`] : []),
    '',
  ].join('\r\n');
  return Buffer.from([
    'INVITE sip:bob@example.org SIP/2.0', `Via: SIP/2.0/${opts.via ?? 'UDP'} host.example.org:5090;branch=z9hG4bK77`, `Call-ID: ${opts.callId ?? CALL}`, 'CSeq: 1 INVITE',
    'From: <sip:alice@example.org>;tag=1', 'To: <sip:bob@example.org>', 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
  ].join('\r\n'));
}

async function write(frames: Buffer[], linkType: number = LINKTYPE.ETHERNET): Promise<string> {
  const file = join(dir, `${++files}.pcap`);
  const w = new PcapWriter(file, linkType);
  frames.forEach((f, i) => w.write(1_700_000_000_000_000 + i * 20_000, f));
  await w.close();
  return file;
}

describe('SIP on a non-standard UDP port (a third-party user agent)', () => {
  it('is read: its SDES key decrypts the media, which is attributed to the signalled key and tied to the SDP', async () => {
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const ctx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks) });
    const frames = [
      buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 5090, '127.0.1.10', 5070, invite({ addr: '127.0.1.100', port: 41000, keySalt: ks })),
      ...rtpStream({ n: 200, marker: MARKER }).map((p) => buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.11', 30000, '127.0.1.100', 41000, ctx.protectRtp(p))),
    ];
    const file = await write(frames);
    const emptyLog = join(dir, 'empty.jsonl');
    writeFileSync(emptyLog, '');
    const a = await analyse({ captures: { 'access-a': file }, keyLogs: [emptyLog], calls: [{ alias: 'c', callId: CALL, directions: ['orig'] }], owner: () => undefined });
    const l = a.links[0]!;
    expect(l.signalling.plaintextSip).toBe(1);
    expect(l.signalling.sipFlows).toEqual(['udp 127.0.1.100:5090 > 127.0.1.10:5070']);
    expect(l.signalling.exposedSdesKeys).toEqual([ks.toString('base64')]);
    const f = l.media[0]!;
    const id = `sdp@access-a/${ks.toString('base64').slice(0, 6)}`;
    expect(f.srtp).toEqual({ [id]: 200 });
    expect(f.markers[MARKER]!.srtp).toEqual({ [id]: 200 });
    expect(f.unknown).toBe(0);
    expect(f.foundBy).toEqual({ how: 'sdp', callId: CALL });
    expect(a.keyExposure.find((x) => x.key === id)!.plaintextOn).toEqual(['access-a']);
  });

  it('only SIP is taken for SIP: near misses on odd ports stay out, RTP is never read as SIP', () => {
    const junk = [
      Buffer.from('INVITE sip:x@y SIP/2.0\r\n<html>not a header</html>\r\n'),
      Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('SIP/2.0 200 OK'), // no line break: not a whole datagram
      Buffer.from('hello world, this is not SIP/2.0\r\n'),
    ];
    const { media, signalling } = scanFrames(junk.map((p) => udp(p, '10.0.0.1:7000', '10.0.0.2:7001')), []);
    expect(signalling.plaintextSip).toBe(0);
    expect(media).toEqual([]);
  });
});

describe('SIP and MSRP over TCP, any port, split across segments', () => {
  const tcp = (payload: Buffer, seq: number, flags = 0x18, src = '127.0.1.100:6001', dst = '127.0.1.10:7070') => {
    const [sa, sp] = src.split(':');
    const [da, dp] = dst.split(':');
    return buildTcpFrame(LINKTYPE.ETHERNET, sa!, Number(sp), da!, Number(dp), payload, { seq, flags });
  };

  it('reassembles SIP out of order and retransmitted, frames it by Content-Length, reads its SDP', async () => {
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const first = invite({ addr: '127.0.1.100', port: 42000, keySalt: ks, via: 'TCP' });
    const second = invite({ callId: 'second@x', addr: '127.0.1.100', port: 42002, via: 'TCP' });
    const stream = Buffer.concat([first, Buffer.from('\r\n\r\n'), second]); // a keep-alive between them (RFC 5626 sec. 3.5.1)
    const isn = 0xfffffff0; // the sequence numbers wrap inside the stream
    const cuts = [0, 40, 41, 300, first.length + 2, stream.length];
    const seg = (k: number) => tcp(stream.subarray(cuts[k]!, cuts[k + 1]!), (isn + 1 + cuts[k]!) >>> 0);
    const frames = [tcp(Buffer.alloc(0), isn, 0x02), seg(1), seg(0), seg(0), seg(3), seg(2), seg(4), seg(2)];
    const r = await scanLink('access-a', await write(frames), []);
    expect(r.signalling.plaintextSip).toBe(2);
    expect(r.signalling.sipFlows).toEqual(['tcp 127.0.1.100:6001 > 127.0.1.10:7070']);
    expect(r.signalling.exposedSdesKeys).toEqual([ks.toString('base64')]);
    expect(r.signalling.sdpEndpoints.map((e) => [e.endpoint, e.callId])).toEqual([['127.0.1.100:42000', CALL], ['127.0.1.100:42002', 'second@x']]);
  });

  it('a capture that starts mid-stream picks up at the next SIP message', () => {
    const m = invite({ addr: '127.0.1.100', port: 42000 });
    const frames = [tcp(Buffer.from('the end of an earlier body\r\n'), 500), tcp(m, 528)];
    expect(scanFrames(frames, []).signalling.plaintextSip).toBe(1);
  });

  it('frames MSRP by its end-line, across segments, bodies that only look like end-lines included', () => {
    const msg = (tid: string, body: string, flag = '$') =>
      `MSRP ${tid} SEND\r\nTo-Path: msrp://127.0.1.10:2855/b;tcp\r\nFrom-Path: msrp://127.0.1.100:2855/a;tcp\r\nMessage-ID: 1\r\nByte-Range: 1-${body.length}/${body.length}\r\nContent-Type: text/plain\r\n\r\n${body}\r\n-------${tid}${flag}\r\n`;
    const stream = Buffer.from(msg('a786hjs2', 'hello -------other$ not the end') + msg('b9kk21x', 'part one', '+') + msg('c00l3r', 'x'));
    const frames = [tcp(stream.subarray(0, 90), 1000, 0x18, '127.0.1.100:2855', '127.0.1.10:2855')];
    for (let at = 90; at < stream.length; at += 37) frames.push(tcp(stream.subarray(at, Math.min(stream.length, at + 37)), 1000 + at, 0x18, '127.0.1.100:2855', '127.0.1.10:2855'));
    const { signalling } = scanFrames(frames, []);
    expect(signalling.plaintextMsrp).toBe(3);
    expect(signalling.msrpFlows).toEqual(['tcp 127.0.1.100:2855 > 127.0.1.10:2855']);
  });

  it('counts TLS records on any port exactly, however the records are cut into segments', () => {
    const record = (len: number) => Buffer.concat([Buffer.from([23, 3, 3, len >> 8, len & 0xff]), Buffer.alloc(len, 7)]);
    const stream = Buffer.concat([record(100), record(3), record(5000), record(1), record(17000)]);
    const frames: Buffer[] = [];
    for (let at = 0, k = 0; at < stream.length; k++) {
      const n = [1, 4, 5, 700, 1448][k % 5]!;
      frames.push(tcp(stream.subarray(at, at + n), 77 + at, 0x18, '127.0.1.100:50000', '127.0.1.10:9443'));
      at += n;
    }
    const { signalling } = scanFrames(frames, []);
    expect(signalling.tlsRecords).toBe(5);
    expect(signalling.tlsFlows).toEqual(['tcp 127.0.1.100:50000 > 127.0.1.10:9443']);
    expect(signalling.plaintextSip).toBe(0);
  });
});

describe('IPv6', () => {
  it('SIP over UDP and TCP on IPv6, SDP with IP6 in any textual form, media tied to it and decrypted with its key', async () => {
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const ctx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks) });
    const v6 = (src: string, sp: number, dst: string, dp: number, p: Buffer) => buildUdpFrame(LINKTYPE.RAW, src, sp, dst, dp, p);
    const frames = [
      v6('2001:db8::a', 5090, '2001:db8::10', 5070, invite({ addr: '2001:DB8:0:0::0:1', port: 43000, keySalt: ks })),
      buildTcpFrame(LINKTYPE.RAW, '2001:db8::a', 6000, '2001:db8::10', 5060, invite({ callId: 'v6-tcp', addr: '2001:db8::2', port: 43002, via: 'TCP' }), { seq: 9 }),
      ...rtpStream({ n: 100, marker: MARKER }).map((p) => v6('2001:db8::99', 30000, '2001:db8::1', 43000, ctx.protectRtp(p))),
    ];
    const file = await write(frames, LINKTYPE.RAW);
    const emptyLog = join(dir, 'empty6.jsonl');
    writeFileSync(emptyLog, '');
    const a = await analyse({ captures: { core: file }, keyLogs: [emptyLog], calls: [{ alias: 'c', callId: CALL, directions: ['orig'] }], owner: () => undefined });
    const l = a.links[0]!;
    expect(l.signalling.plaintextSip).toBe(2);
    expect(l.signalling.sdpEndpoints.map((e) => e.endpoint)).toEqual(['[2001:db8::1]:43000', '[2001:db8::2]:43002']);
    const f = l.media[0]!;
    expect(f.flow).toBe('udp [2001:db8::99]:30000 > [2001:db8::1]:43000');
    expect(f.dst).toBe('[2001:db8::1]:43000');
    expect(f.srtp).toEqual({ [`sdp@core/${ks.toString('base64').slice(0, 6)}`]: 100 });
    expect(f.foundBy).toEqual({ how: 'sdp', callId: CALL });
    expectAccounted(f);
  });

  it('writes SDP endpoints the way flows are named', () => {
    expect(sdpEndpoint('127.0.0.1', 5)).toBe('127.0.0.1:5');
    expect(sdpEndpoint('2001:0DB8:0000:0000:0000:0000:0000:0001', 5)).toBe('[2001:db8::1]:5');
    expect(sdpEndpoint('::ffff:192.0.2.1', 5)).toBe('[::ffff:192.0.2.1]:5');
  });
});

describe('RTCP next to the media', () => {
  /** An SDES packet with one CNAME chunk (RFC 3550 sec. 6.5), padded to 32 bits. */
  function sdes(ssrc: number): Buffer {
    const cname = Buffer.from('alice@example.org');
    const len = Math.ceil((4 + 2 + cname.length + 1) / 4) * 4;
    const p = Buffer.alloc(4 + len);
    p[0] = 0x81;
    p[1] = 202;
    writeU16(p, 2, p.length / 4 - 1);
    writeU32(p, 4, ssrc);
    p[8] = 1;
    p[9] = cname.length;
    cname.copy(p, 10);
    return p;
  }

  it('tells plain RTCP (its parts add up to the datagram) from SRTCP under a logged key and SRTCP under no logged key', () => {
    const K = makeKey('alice/tx/rtcp');
    const hidden = makeKey('nobody/tx/rtcp');
    const [logged, unlogged] = [K.ctx(), hidden.ctx()];
    const sr = buildSenderReport(0x11112222, 160, 10, 1600, 1_700_000_000_000);
    const compound = Buffer.concat([sr, sdes(0x11112222)]);
    const rtcp = [
      sr, compound, // plain
      logged.protectRtcp(sr), logged.protectRtcp(compound), // SRTCP under a logged key
      unlogged.protectRtcp(sr), unlogged.protectRtcp(compound), unlogged.protectRtcp(compound), // under no logged key
      Buffer.concat([compound, Buffer.alloc(3)]), // RTCP-shaped, but its parts do not add up
    ];
    const rtp = rtpStream({ n: 50, marker: MARKER }).map((p) => logged.protectRtp(p));
    const { media } = scanFrames([...rtp, ...rtcp].map((p) => udp(p)), [K.key, hidden.key].slice(0, 1));
    const f = media[0]!;
    expect([f.rtcp, f.rtcpPlain, f.srtcp[K.key.id], f.srtcpUnknown]).toEqual([8, 2, 2, 4]);
    expect(f.srtp).toEqual({ [K.key.id]: 50 });
    expect(isPlainRtcp(compound, 0, compound.length)).toBe(true);
    expect(isPlainRtcp(compound, 0, compound.length - 4)).toBe(false);
  });
});

describe('other UDP payloads are recognised, not taken for media', () => {
  it('DTLS records and STUN messages on media ports', () => {
    const dtls = Buffer.concat([
      Buffer.from('16fefd0000000000000000000a', 'hex'), Buffer.alloc(10),
      Buffer.from('14fefd00000000000000010001', 'hex'), Buffer.alloc(1),
    ]);
    const stun = Buffer.from('000100002112a442' + '0102030405060708090a0b0c', 'hex');
    const { media, signalling } = scanFrames([udp(dtls), udp(stun)], []);
    expect(signalling.dtlsRecords).toBe(2);
    expect(signalling.dtlsFlows).toEqual(['udp 127.0.1.100:40000 > 127.0.1.11:30000']);
    expect(signalling.stunMessages).toBe(1);
    expect(media).toEqual([]);
  });
});
