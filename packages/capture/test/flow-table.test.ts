import { readFile } from 'node:fs/promises';
import { buildRtp } from '@imslab/rtp';
import { describe, expect, it } from 'vitest';
import {
  buildUdpFrame, decodeFrame, FlowTable, flowKeyString, LINKTYPE, readCapture, readCaptureBuffer,
  type CapturedPacket, type DecodedPacket, type FlowStats,
} from '../src/index.ts';
import { RTP_EXPECTED } from '../scripts/make-fixtures.ts';
import { fixture } from './helpers.ts';

async function tableOf(name: string): Promise<FlowTable> {
  const t = new FlowTable();
  for await (const p of readCapture(fixture(name))) {
    const d = decodeFrame(p.linkType, p.data);
    if (d) t.add(p, d);
  }
  return t;
}

/** Feeds UDP payloads of one flow (10.9.0.1:7000 > 10.9.0.2:7002) straight into a table. */
function feed(t: FlowTable, payloads: Buffer[], from = '10.9.0.1'): FlowStats {
  let s: FlowStats | undefined;
  payloads.forEach((payload, i) => {
    const data = buildUdpFrame(LINKTYPE.RAW, from, 7000, '10.9.0.2', 7002, payload);
    const p: CapturedPacket = { timestampUs: 1e15 + i * 20_000, linkType: LINKTYPE.RAW, interfaceId: 0, data, originalLength: data.length, offset: 0 };
    s = t.add(p, decodeFrame(p.linkType, p.data)!);
  });
  return s!;
}

const rtp = (sequence: number, ssrc = 0xabc, payloadType = 0): Buffer => buildRtp({ payloadType, sequence, timestamp: sequence * 160, ssrc }, Buffer.alloc(40, 0xd5));

describe('FlowTable on the RTP fixture', () => {
  it('finds each directional flow, classifies it and counts RTP loss across the wrap', async () => {
    const t = await tableOf('rtp-3ssrc-gap-wrap.eth.pcap');
    const flows = t.flows();
    expect(flows.map((f) => `${f.kind} ${flowKeyString(f.key)}`)).toEqual([
      'sip udp 10.0.0.1:5060 > 10.0.0.2:5060',
      'sip udp 10.0.0.2:5060 > 10.0.0.1:5060',
      'rtp udp 10.0.0.1:40000 > 10.0.0.2:40002',
      'rtp udp 10.0.0.2:40002 > 10.0.0.1:40000',
      'rtp udp 10.0.0.3:41000 > 10.0.0.4:41002',
      'rtcp udp 10.0.0.1:40001 > 10.0.0.2:40003',
    ]);
    for (const e of RTP_EXPECTED) {
      const f = flows.find((x) => x.key.srcPort === e.srcPort && x.key.dstPort === e.dstPort)!;
      expect({ ssrcs: f.ssrcs, packets: f.packets, lost: f.lost, firstSeq: f.firstSeq, lastSeq: f.lastSeq }).toEqual({
        ssrcs: [...e.ssrcs], packets: e.packets, lost: e.lost, firstSeq: e.firstSeq, lastSeq: e.lastSeq,
      });
    }
    const c = flows[4]!;
    expect(t.rtpStreams(c).map((s) => [s.ssrc, s.packets, s.lost])).toEqual([[0x3333cccc, 12, 0], [0x4444dddd, 11, 1]]);
    const a = t.rtpStreams(flows[2]!)[0]!;
    expect(a.extendedMaxSeq).toBe(65536 + 15); // one wrap
    expect(flows[5]!.ssrcs).toEqual([0x1111aaaa]);
    expect(flows[2]!.firstUs).toBe(1_700_000_000_010_000);
    expect(flows[2]!.lastUs).toBe(1_700_000_000_010_000 + 23 * 20_000);
    expect(flows[2]!.bytes).toBe(22 * 172);
    expect(t.get({ protocol: 'udp', src: '10.0.0.2', srcPort: 40002, dst: '10.0.0.1', dstPort: 40000 })).toBe(flows[3]);
    expect(t.get({ protocol: 'tcp', src: '10.0.0.2', srcPort: 40002, dst: '10.0.0.1', dstPort: 40000 })).toBeUndefined();
  });

  it('gives the same answer for every framing of the same traffic', async () => {
    const summary = async (name: string): Promise<string[]> =>
      (await tableOf(name)).flows().map((f) => `${f.kind} ${flowKeyString(f.key)} ${f.packets} ${f.lost} ${f.ssrcs.join(',')}`);
    const eth = await summary('rtp-3ssrc-gap-wrap.eth.pcap');
    for (const other of ['sll', 'sll2', 'null', 'eth.be-nsec', '3if']) {
      expect(await summary(`rtp-3ssrc-gap-wrap.${other}.${other === '3if' ? 'pcapng' : 'pcap'}`), other).toEqual(eth);
    }
  });

  it('classifies SIP, TLS and MSRP over TCP', async () => {
    const t = await tableOf('sip-tls-msrp-tcp-reordered.eth.pcapng');
    expect(t.flows().map((f) => `${f.kind} ${flowKeyString(f.key)}`)).toEqual([
      'sip tcp 10.0.0.1:50123 > 10.0.0.2:5060',
      'sip tcp 10.0.0.2:5060 > 10.0.0.1:50123',
      'tls tcp 10.0.0.1:50200 > 10.0.0.2:5061',
      'msrp tcp 10.0.0.1:2855 > 10.0.0.2:2855',
    ]);
  });
});

describe('FlowTable RTP accounting (RFC 3550 A.1)', () => {
  it('counts a wrap with reordering and duplicates without negative loss', () => {
    const s = feed(new FlowTable(), [65533, 65534, 65535, 1, 0, 1, 2].map((q) => rtp(q)));
    expect({ lost: s.lost, firstSeq: s.firstSeq, lastSeq: s.lastSeq, packets: s.packets }).toEqual({ lost: 0, firstSeq: 65533, lastSeq: 2, packets: 7 });
  });

  it('counts a gap, and a sender restart confirmed by two sequential packets', () => {
    const t = new FlowTable();
    const s = feed(t, [100, 101, 104, 105, 40000, 40001, 40003].map((q) => rtp(q)));
    // 2 lost before the restart (102, 103), 1 after it (40002).
    expect(s.lost).toBe(3);
    expect(t.rtpStreams(s)[0]).toMatchObject({ packets: 7, firstSeq: 100, lastSeq: 40003, lost: 3 });
  });

  it('keeps per-SSRC sequence spaces apart', () => {
    const s = feed(new FlowTable(), [rtp(10, 1), rtp(5000, 2), rtp(11, 1), rtp(5002, 2), rtp(12, 1)]);
    expect(s.ssrcs).toEqual([1, 2]);
    expect(s.lost).toBe(1);
  });

  it('ignores multiplexed RTCP in an RTP flow (RFC 5761)', () => {
    const rr = Buffer.from('81c90007000000010000000200000003000000040000000500000006000000070000', 'hex').subarray(0, 32);
    const s = feed(new FlowTable(), [rtp(1), rr, rtp(2), rtp(3)]);
    expect(s.kind).toBe('rtp');
    expect(s.lost).toBe(0);
    expect(s.packets).toBe(4);
  });

  it('lets STUN checks pass, and turns DTLS-SRTP flows into RTP (RFC 7983)', () => {
    const stun = Buffer.concat([Buffer.from('0001000021124442', 'hex'), Buffer.alloc(12)]);
    stun.writeUInt32BE(0x2112a442, 4);
    const many = Array.from({ length: 12 }, () => stun);
    expect(feed(new FlowTable(), [...many, rtp(1), rtp(2)]).kind).toBe('rtp');
    const dtls = Buffer.from('16fefd000000000000000000400100003400000000000000', 'hex');
    const t = new FlowTable();
    expect(feed(t, [dtls]).kind).toBe('tls');
    const s = feed(t, [rtp(7, 99, 111), rtp(8, 99, 111)]);
    expect(s.kind).toBe('rtp');
    expect(s.ssrcs).toEqual([99]);
    expect(s.firstSeq).toBe(7);
  });

  it('stays `other` for undecipherable payloads', () => {
    expect(feed(new FlowTable(), Array.from({ length: 20 }, (_, i) => Buffer.from(`junk ${i}`))).kind).toBe('other');
  });
});

describe('FlowTable bookkeeping', () => {
  it('returns the same live object per flow and does not list non-UDP/TCP packets', () => {
    const t = new FlowTable();
    const a = feed(t, [rtp(1)]);
    const b = feed(t, [rtp(2)]);
    expect(a).toBe(b);
    const esp = buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(40));
    esp[9] = 50;
    const p: CapturedPacket = { timestampUs: 5, linkType: LINKTYPE.RAW, interfaceId: 0, data: esp, originalLength: esp.length, offset: 0 };
    const d = decodeFrame(p.linkType, p.data) as DecodedPacket;
    expect(t.add(p, d)).toBe(t.untracked);
    expect(t.untracked.packets).toBe(1);
    expect(t.flows()).toHaveLength(1);
  });

  it('formats flow keys, IPv6 in brackets', () => {
    expect(flowKeyString({ protocol: 'udp', src: '127.0.1.10', srcPort: 5060, dst: '127.0.2.10', dstPort: 5060 })).toBe('udp 127.0.1.10:5060 > 127.0.2.10:5060');
    expect(flowKeyString({ protocol: 'tcp', src: '2001:db8::1', srcPort: 5061, dst: '::1', dstPort: 40000 })).toBe('tcp [2001:db8::1]:5061 > [::1]:40000');
  });

  it('tracks IPv6 flows from memory as well', async () => {
    const t = new FlowTable();
    for (const p of readCaptureBuffer(await readFile(fixture('udp-ipv6-vlan-ipv4-frags.eth.pcap')))) {
      const d = decodeFrame(p.linkType, p.data);
      if (d) t.add(p, d);
    }
    expect(t.flows().map((f) => `${f.kind} ${flowKeyString(f.key)}`)).toEqual([
      'sip udp [2001:db8::1]:5062 > [2001:db8::2]:5062',
      'other udp 10.0.0.5:6000 > 10.0.0.6:6002',
    ]);
  });
});
