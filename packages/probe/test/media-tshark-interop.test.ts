/**
 * Interop with Wireshark: tshark must read the video and text probes as the
 * payload formats they claim to be, field by field.
 * - H.264 (RFC 6184, `-d rtp.pt==99,h264`): STAP-A of SEI/unspecified,
 *   SPS, PPS and slices; the SEI user_data_unregistered UUID is the marker;
 *   the SPS says Constrained Baseline, the level, the size and the frame
 *   rate; slices start where ours do.
 * - T.140 (RFC 4103) plainly as RTP payload, and RED (RFC 2198,
 *   `-d rtp.pt==100,rtp_rfc2198`) block by block: F bits, payload types,
 *   timestamp offsets, lengths and the block octets.
 * - tshark's own t140 dissector where the installed Wireshark has one
 *   (Wireshark 4.0, Debian 12's, has none; the test is reported skipped
 *   there, never passed silently).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { parseH264Payload, T140ProbeSender, VideoProbeSender, type T140ProbePacket, type VideoProbeFrame } from '../src/index.ts';
import { hex, MARKER, requireTshark, rtpFields, tempDir, tshark } from './media-helpers.ts';

const SLOW = { timeout: 90_000 };
const VIDEO_PORT = 5004;
const T140_PORT = 5006;
const RED_PORT = 5008;
const DECODE = ['-d', `udp.port==${VIDEO_PORT},rtp`, '-d', `udp.port==${T140_PORT},rtp`, '-d', `udp.port==${RED_PORT},rtp`, '-d', 'rtp.pt==99,h264', '-d', 'rtp.pt==100,rtp_rfc2198'];

/** tshark -T fields, one row per packet of `filter`, each field a list (occurrences joined by '|'). */
async function fields(file: string, filter: string, names: string[], extra: string[] = []): Promise<string[][][]> {
  const out = await tshark(['-r', file, ...DECODE, ...extra, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', ...names.flatMap((n) => ['-e', n])]);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t').map((f) => (f === '' ? [] : f.split('|'))));
}

/** A GUID as tshark prints it: 8-4-4-4-12 hex digits of the 16 octets. */
const guid = (s: string) => hex(Buffer.from(s)).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

describe('tshark reads the video and text probes', SLOW, () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let file: string;
  let video: VideoProbeFrame[];
  let plain: T140ProbePacket[];
  let red: T140ProbePacket[];

  beforeAll(async () => {
    requireTshark();
    dir = await tempDir();
    file = join(dir.dir, 'probe-media.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    let t = 1_767_225_600_000_000;
    const put = (port: number, p: Buffer) => w.write((t += 1000), buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.10', 40000 + port, '127.0.1.20', port, p));
    const v = new VideoProbeSender({ marker: MARKER, ssrc: 0x1d1d0001, width: 176, height: 144, fps: 10, idrInterval: 3 });
    video = Array.from({ length: 4 }, () => v.nextFrame());
    const a = new T140ProbeSender({ marker: MARKER, ssrc: 0x7e470001 });
    const b = new T140ProbeSender({ marker: MARKER, ssrc: 0x7e470002, red: {} });
    plain = Array.from({ length: 5 }, () => a.nextPacket());
    red = Array.from({ length: 5 }, () => b.nextPacket());
    for (const f of video) for (const p of f.packets) put(VIDEO_PORT, p);
    for (let i = 0; i < 5; i++) {
      put(T140_PORT, plain[i]!.packet);
      put(RED_PORT, red[i]!.packet);
    }
    await w.close();
  });
  afterAll(async () => dir?.cleanup());

  it('H.264: every packet an STAP-A of our NAL units, the marker as the SEI UUID, slices where ours start, nothing malformed', async () => {
    const rows = await fields(file, `udp.dstport==${VIDEO_PORT}`, ['rtp.seq', 'rtp.marker', 'rtp.timestamp', 'h264.nal_unit_hdr', 'h264.payloadtype', 'h264.sei.uuid', 'h264.first_mb_in_slice', 'h264.slice_type', '_ws.malformed']);
    const packets = video.flatMap((f) => f.packets.map((p, i) => ({ f, p, last: i === f.packets.length - 1 })));
    expect(rows).toHaveLength(packets.length);
    let firstMbs: number[] = [];
    rows.forEach((row, k) => {
      const [seq, marker, ts, nalTypes, seiType, uuid, firstMb, sliceType, malformed] = row as string[][];
      const { f, p, last } = packets[k]!;
      const ours = parseH264Payload(rtpFields(p).payload);
      if (!ours.ok) throw ours.error;
      expect(Number(seq![0])).toBe(rtpFields(p).sequence);
      expect(marker).toEqual([last ? '1' : '0']);
      expect(Number(ts![0])).toBe(f.timestamp);
      expect(nalTypes!.map(Number)).toEqual([24, ...ours.value.nalUnits.map((u) => u[0]! & 0x1f)]);
      if (ours.value.nalUnits[0]![0] === 6) {
        expect(seiType).toEqual(['5']); // user_data_unregistered
        expect(uuid).toEqual([guid(MARKER)]);
        firstMbs = [];
      } else expect(uuid).toEqual([]);
      firstMbs.push(Number(firstMb![0]));
      expect(sliceType).toEqual([f.idr ? '7' : '5']);
      expect(malformed).toEqual([]);
      // Slices follow each other in raster order and the frame's first starts at macroblock 0.
      expect(firstMbs[0]).toBe(0);
      expect([...firstMbs].sort((x, y) => x - y)).toEqual(firstMbs);
    });
  });

  it('H.264: the SPS says Constrained Baseline, the level, 11x9 macroblocks and 10 frames per second', async () => {
    const rows = await fields(file, `udp.dstport==${VIDEO_PORT} && h264.profile_idc`, ['h264.profile_idc', 'h264.constraint_set1_flag', 'h264.level_id', 'h264.pic_width_in_mbs_minus1', 'h264.pic_height_in_map_units_minus1', 'h264.num_units_in_tick', 'h264.time_scale', 'h264.pic_order_cnt_type']);
    expect(rows).toHaveLength(video.filter((f) => f.idr).length);
    for (const r of rows) expect(r.map((x) => x[0])).toEqual(['66', '1', '10', '10', '8', '1000', '20000', '2']);
  });

  it('T.140: RTP with payload type 98, 1000 Hz timestamps, the marker bit first, each payload the marker and the text', async () => {
    const rows = await fields(file, `udp.dstport==${T140_PORT}`, ['rtp.p_type', 'rtp.marker', 'rtp.timestamp', 'rtp.payload']);
    expect(rows.map((r) => r.map((x) => x.join('|')))).toEqual(plain.map((p, i) => ['98', i === 0 ? '1' : '0', String(300 * i), hex(Buffer.from(MARKER + p.text))]));
  });

  it('RED: F bits, block payload types, timestamp offsets, lengths and block octets as sent', async () => {
    const rows = await fields(file, `udp.dstport==${RED_PORT}`, ['rtp.p_type', 'rtp.follow', 'rtp.timestamp-offset', 'rtp.block-length', 'rtp.payload']);
    const block = (n: number) => (n < 0 ? '' : hex(Buffer.from(MARKER + red[n]!.text)));
    rows.forEach((r, i) => {
      const [pts, follow, offsets, lengths, payloads] = r as string[][];
      expect(pts).toEqual(['100', '98', '98', '98']);
      expect(follow).toEqual(['1', '1', '0']);
      expect(offsets).toEqual([i >= 2 ? '600' : '0', i >= 1 ? '300' : '0']); // an empty generation has offset 0
      expect(lengths!.map(Number)).toEqual([block(i - 2).length / 2, block(i - 1).length / 2]);
      // The whole RTP payload, then each block; tshark writes <MISSING> for an empty block.
      expect(payloads!.slice(1).map((x) => (x === '<MISSING>' ? '' : x))).toEqual([block(i - 2), block(i - 1), block(i)]);
    });
  });

  const hasT140 = (() => {
    try {
      return execFileSync(requireTshark(), ['-G', 'protocols'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 }).toString().split('\n').some((l) => l.split('\t')[2] === 't140');
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasT140)('tshark\'s own t140 dissector (not in Wireshark 4.0) takes every text/t140 payload', async () => {
    const rows = await fields(file, `udp.dstport==${T140_PORT}`, ['frame.protocols'], ['-d', 'rtp.pt==98,t140']);
    expect(rows).toHaveLength(plain.length);
    for (const r of rows) expect(r[0]![0]).toMatch(/:rtp:t140$/);
  });
});
