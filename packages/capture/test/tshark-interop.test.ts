/**
 * Interop with Wireshark 4.x: our reading of the fixtures must agree
 * exactly with tshark's RTP heuristic dissection, tshark must read what we
 * write, and we must read what Wireshark's tools write.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksLikeRtcp, RtpHeaderView } from '@imslab/rtp';
import { decodeFrame, FlowTable, mergeCaptures, readCapture } from '../src/index.ts';
import { RTP_EXPECTED } from '../scripts/make-fixtures.ts';
import { collect, fixture, run, tempDir } from './helpers.ts';

const RTP_FIXTURES = [
  'rtp-3ssrc-gap-wrap.eth.pcap',
  'rtp-3ssrc-gap-wrap.sll.pcap',
  'rtp-3ssrc-gap-wrap.sll2.pcap',
  'rtp-3ssrc-gap-wrap.null.pcap',
  'rtp-3ssrc-gap-wrap.eth.be-nsec.pcap',
  'rtp-3ssrc-gap-wrap.3if.pcapng',
  'rtp-3ssrc-gap-wrap.2sections-be-spb-opb.pcapng',
];

interface RtpView {
  /** "srcport>dstport" → SSRCs in order of appearance and every (ssrc, seq) in packet order. */
  flows: Map<string, { ssrcs: number[]; packets: Array<[number, number]> }>;
  /** "srcport>dstport ssrc" → [packets, lost] */
  streams: Map<string, [number, number]>;
}

function addPacket(v: RtpView, key: string, ssrc: number, seq: number): void {
  let f = v.flows.get(key);
  if (!f) v.flows.set(key, (f = { ssrcs: [], packets: [] }));
  if (!f.ssrcs.includes(ssrc)) f.ssrcs.push(ssrc);
  f.packets.push([ssrc, seq]);
}

async function tsharkView(path: string): Promise<RtpView> {
  const v: RtpView = { flows: new Map(), streams: new Map() };
  const fields = await run('tshark', ['-r', path, '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.ssrc', '-e', 'rtp.seq']);
  for (const line of fields.split('\n')) {
    const [sp, dp, ssrc, seq] = line.split('\t');
    if (ssrc) addPacket(v, `${sp}>${dp}`, Number(ssrc), Number(seq));
  }
  // `-z rtp,streams`: one row per (flow, SSRC) with Pkts and "Lost (x%)".
  const table = await run('tshark', ['-r', path, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams']);
  for (const m of table.matchAll(/\s(\d+)\s+\S+\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+\S+\s+(\d+)\s+(-?\d+) \(/g)) {
    v.streams.set(`${m[1]}>${m[2]} ${Number(m[3])}`, [Number(m[4]), Number(m[5])]);
  }
  return v;
}

async function ourView(path: string): Promise<RtpView> {
  const v: RtpView = { flows: new Map(), streams: new Map() };
  const table = new FlowTable();
  for await (const p of readCapture(path)) {
    const d = decodeFrame(p.linkType, p.data);
    if (!d) continue;
    const flow = table.add(p, d);
    if (flow.kind !== 'rtp' || looksLikeRtcp(d.payload)) continue;
    const h = RtpHeaderView.parse(d.payload);
    if (typeof h !== 'string') addPacket(v, `${d.srcPort}>${d.dstPort}`, h.ssrc, h.sequence);
  }
  for (const f of table.flows()) {
    for (const s of table.rtpStreams(f)) v.streams.set(`${f.key.srcPort}>${f.key.dstPort} ${s.ssrc}`, [s.packets, s.lost]);
  }
  return v;
}

// tshark takes 1-3 s per run on a busy machine; allow for it.
const SLOW = { timeout: 90_000 };

describe('RTP: our flows agree with tshark -o rtp.heuristic_rtp:TRUE', SLOW, () => {
  for (const name of RTP_FIXTURES) {
    it(name, async () => {
      const [theirs, ours] = await Promise.all([tsharkView(fixture(name)), ourView(fixture(name))]);
      // Flow count, SSRCs per flow, and every sequence number in order.
      expect([...ours.flows.keys()].sort()).toEqual([...theirs.flows.keys()].sort());
      expect(ours.flows.size).toBe(RTP_EXPECTED.length);
      for (const [key, f] of theirs.flows) {
        expect(ours.flows.get(key)!.ssrcs, key).toEqual(f.ssrcs);
        expect(ours.flows.get(key)!.packets, key).toEqual(f.packets);
      }
      // Per-SSRC packet and loss counts as in tshark's RTP stream analysis.
      expect(Object.fromEntries(ours.streams)).toEqual(Object.fromEntries(theirs.streams));
      expect(theirs.streams.size).toBe(4);
    });
  }
});

describe('files written by us, read by tshark, and the other way round', SLOW, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('mergeCaptures: tshark sees one named interface per input, packets in time order', async () => {
    const out = join(dir, 'merged.pcapng');
    const inputs = [
      { name: 'access-a', path: fixture('rtp-3ssrc-gap-wrap.eth.pcap') },
      { name: 'core', path: fixture('rtp-3ssrc-gap-wrap.sll2.pcap') },
      { name: 'access-b', path: fixture('rtp-3ssrc-gap-wrap.2sections-be-spb-opb.pcapng') },
    ];
    const { packets } = await mergeCaptures(inputs, out);
    expect(packets).toBe(3 * 73);
    const lines = (await run('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.time_epoch', '-e', 'frame.cap_len']))
      .trim().split('\n').map((l) => l.split('\t'));
    expect(lines).toHaveLength(packets);
    const counts = new Map<string, number>();
    for (const [ifName] of lines) counts.set(ifName!, (counts.get(ifName!) ?? 0) + 1);
    // The third input holds two sections with different link types: the second gets `<name>:<linkType>`.
    expect(Object.fromEntries(counts)).toEqual({ 'access-a': 73, core: 73, 'access-b': 36, 'access-b:276': 37 });
    // tshark's view of time order, parsed from its own text.
    const times = lines.map((l) => Number(l[1]));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    // Our reader sees the same, and the merged packets are byte-identical to the inputs'.
    const ours = await collect(readCapture(out));
    expect(ours.map((p) => p.interfaceName)).toEqual(lines.map((l) => l[0]));
    const firstCore = ours.find((p) => p.interfaceName === 'core')!;
    const [origCore] = await collect(readCapture(inputs[1]!.path));
    expect(firstCore.data.equals(origCore!.data)).toBe(true);
    expect(firstCore.linkType).toBe(276);
  });

  it('reads pcapng written by tshark and nanosecond pcap written by editcap, identically to the source', async () => {
    const src = fixture('rtp-3ssrc-gap-wrap.sll2.pcap');
    const ng = join(dir, 'by-tshark.pcapng');
    const ns = join(dir, 'by-editcap.nsec.pcap');
    await run('tshark', ['-r', src, '-F', 'pcapng', '-w', ng]);
    await run('editcap', ['-F', 'nsecpcap', src, ns]);
    expect((await readFile(ng)).readUInt32BE(0)).toBe(0x0a0d0d0a);
    expect((await readFile(ns)).readUInt32LE(0)).toBe(0xa1b23c4d);
    const want = await collect(readCapture(src));
    for (const path of [ng, ns]) {
      const got = await collect(readCapture(path));
      expect(got.map((p) => [p.timestampUs, p.linkType, p.data.toString('hex')])).toEqual(want.map((p) => [p.timestampUs, p.linkType, p.data.toString('hex')]));
    }
  });
});
