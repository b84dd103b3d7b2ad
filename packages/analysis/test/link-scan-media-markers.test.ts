import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, markerFor, probePayload, T140ProbeSender, VideoProbeSender } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext, type SrtpProfileName } from '@imslab/srtp';
import { loadKeyRing, scanLink, type MediaFlowReport } from '../src/index.ts';
import { expectAccounted } from './scan-helpers.ts';

/**
 * The probe marker of each kind of probe media, read from SRTP packets whose
 * tag verified: audio carries it at payload offset 0, video (an H.264 STAP-A)
 * at 6, text/t140 at 0 and text/red at 1 + 4R (R redundant generations).
 * Each under AES-CM (predicted keystream), AES-GCM and with an MKI (PoC group
 * keys), whose packets are decrypted one by one.
 */
const dir = mkdtempSync(join(tmpdir(), 'imslab-media-markers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CALL = 'some-call';
const T0 = 1_700_000_000_000_000;

interface Suite {
  title: string;
  profile: SrtpProfileName;
  /** MKI in hex, as a group key's log entry has it. */
  mki?: string;
}

const SUITES: Suite[] = [
  { title: 'AES_CM_128_HMAC_SHA1_80', profile: 'AES_CM_128_HMAC_SHA1_80' },
  { title: 'AES_CM_128_HMAC_SHA1_80 with an MKI', profile: 'AES_CM_128_HMAC_SHA1_80', mki: '00010002' },
  { title: 'AEAD_AES_128_GCM', profile: 'AEAD_AES_128_GCM' },
  { title: 'AEAD_AES_128_GCM with an MKI', profile: 'AEAD_AES_128_GCM', mki: '0a0b0c0d' },
];

/** One stream: its RTP packets (before SRTP) and the marker they carry. */
interface Stream {
  name: string;
  packets: Buffer[];
  marker: string;
  /** Packets carrying no readable marker (truncated). */
  unmarked?: number;
}

function audio(): Stream {
  const marker = markerFor(CALL, 'orig');
  const packets = Array.from({ length: 40 }, (_, i) => buildRtp({ payloadType: 0, sequence: 100 + i, timestamp: 160 * i, ssrc: 0x1001 }, probePayload(marker, i)));
  return { name: 'audio', packets, marker };
}

function video(): Stream {
  const marker = markerFor(CALL, 'orig', 'video');
  const sender = new VideoProbeSender({ marker, ssrc: 0x1002, firstSequence: 65_500 });
  const packets: Buffer[] = [];
  for (let f = 0; f < 3; f++) packets.push(...sender.nextFrame().packets);
  return { name: 'video', packets, marker };
}

function text(ssrc: number, generations: number | null): Stream {
  const marker = markerFor(CALL, 'orig', 'text');
  const sender = new T140ProbeSender({ marker, ssrc, ...(generations === null ? {} : { red: { generations } }) });
  expect(sender.markerOffset).toBe(generations === null ? 0 : 1 + 4 * generations);
  const packets = Array.from({ length: 25 }, () => sender.nextPacket().packet);
  return { name: generations === null ? 'text/t140' : `text/red R=${generations}`, packets, marker };
}

/** A video stream some of whose packets are cut short of the marker's end (offset 6 + 16 octets): their tags verify, they carry no marker. */
function truncatedVideo(): Stream {
  const s = video();
  // The stream's first packet too, before its marker's place is known.
  const cut = new Map([[0, 21], [5, 0], [6, 5], [7, 15], [8, 16], [9, 21], [20, 10]]);
  const packets = s.packets.map((p, i) => (cut.has(i) ? p.subarray(0, 12 + cut.get(i)!) : p));
  return { name: 'video, truncated packets', packets, marker: s.marker, unmarked: cut.size };
}

async function scan(suite: Suite, streams: Stream[]): Promise<{ flows: Map<string, MediaFlowReport>; keyId: string }> {
  const ks = generateKeySalt(suite.profile);
  const { masterKey, masterSalt } = splitKeySalt(suite.profile, ks);
  const ctx = new SrtpContext({ profile: suite.profile, masterKey, masterSalt, ...(suite.mki ? { mki: Buffer.from(suite.mki, 'hex') } : {}) });
  const tag = suite.title.replace(/\W+/g, '-');
  const keyLog = join(dir, `${tag}.srtp-keys.jsonl`);
  writeFileSync(keyLog, formatKeyLogEntry({
    kind: 'srtp', owner: 'alice', callId: CALL, dir: 'tx', suite: suite.profile, keySalt: ks.toString('base64'),
    keyMgmt: suite.mki ? 'mikey-sakke' : 'sdes', ...(suite.mki ? { mki: suite.mki } : {}), at: new Date(0).toISOString(),
  }));
  const file = join(dir, `${tag}.pcap`);
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  let t = T0;
  // The streams interleaved, each on a flow of its own, all under the one key.
  const longest = Math.max(...streams.map((s) => s.packets.length));
  for (let i = 0; i < longest; i++) {
    streams.forEach((s, k) => {
      const p = s.packets[i];
      if (p) w.write((t += 1000), buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 40000 + 2 * k, '127.0.1.11', 30000 + 2 * k, ctx.protectRtp(p)));
    });
  }
  await w.close();
  const ring = loadKeyRing([keyLog]);
  expect(ring.errors).toEqual([]);
  const report = await scanLink('access', file, ring.keys);
  expect(report.error).toBeUndefined();
  const flows = new Map<string, MediaFlowReport>();
  streams.forEach((s, k) => {
    const f = report.media.find((m) => m.src === `127.0.1.100:${40000 + 2 * k}`);
    expect(f, s.name).toBeDefined();
    expectAccounted(f!);
    flows.set(s.name, f!);
  });
  return { flows, keyId: ring.keys[0]!.id };
}

/** Every packet of the flow verified and decrypted under the key; the marker counted on every packet that carries it, and only it. */
function expectMarked(f: MediaFlowReport, s: Stream, keyId: string): void {
  const n = s.packets.length;
  const marked = n - (s.unmarked ?? 0);
  expect(f.packets, s.name).toBe(n);
  expect(f.srtp, s.name).toEqual({ [keyId]: n });
  expect(f.srtpVerified, s.name).toBe(n);
  expect(f.srtpDecrypted, s.name).toBe(n);
  expect(f.plaintext + f.unknown + f.replayed + f.plaintextUnmarked, s.name).toBe(0);
  expect(Object.keys(f.markers), s.name).toEqual([s.marker]);
  expect(f.markers[s.marker]!.srtp, s.name).toEqual({ [keyId]: marked });
  expect(f.markers[s.marker]!.plaintext, s.name).toBe(0);
  expect(f.markers[s.marker]!.plaintextSpan, s.name).toBeNull();
  expect(f.markers[s.marker]!.srtpSpan, s.name).not.toBeNull();
}

describe('probe markers of audio, video and text read from verified SRTP', () => {
  for (const suite of SUITES) {
    it(`reads each stream's marker where its media puts it: ${suite.title}`, async () => {
      const streams = [audio(), video(), text(0x1003, null), text(0x1004, 2), text(0x1005, 7), text(0x1006, 8)];
      expect(new Set(streams.map((s) => s.marker)).size).toBe(3);
      const { flows, keyId } = await scan(suite, streams);
      for (const s of streams) expectMarked(flows.get(s.name)!, s, keyId);
    });

    it(`counts a truncated video packet as SRTP without a marker, and does not throw: ${suite.title}`, async () => {
      const streams = [truncatedVideo(), audio()];
      const { flows, keyId } = await scan(suite, streams);
      for (const s of streams) expectMarked(flows.get(s.name)!, s, keyId);
    });
  }

  it('finds no marker in a flow of video packets all cut short', async () => {
    const s = video();
    const cuts = [0, 1, 5, 6, 15, 16, 17, 21, 0, 21];
    const packets = cuts.map((c, i) => s.packets[i]!.subarray(0, 12 + c));
    for (const suite of SUITES) {
      const { flows, keyId } = await scan(suite, [{ name: 'cut', packets, marker: s.marker }]);
      const f = flows.get('cut')!;
      expect(f.srtp, suite.title).toEqual({ [keyId]: packets.length });
      expect(f.srtpDecrypted, suite.title).toBe(packets.length);
      expect(f.markers, suite.title).toEqual({});
    }
  });
});
