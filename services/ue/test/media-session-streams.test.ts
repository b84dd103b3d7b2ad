import { afterEach, describe, expect, it } from 'vitest';
import { markerFor, parseH264Payload, readProbeMarker, T140ProbeReceiver } from '@imslab/probe';
import { RtpHeaderView } from '@imslab/rtp';
import { generateKeySalt, SrtpContext } from '@imslab/srtp';
import { parseSdp } from '@imslab/sdp';
import { contextOptions, type SrtpKey } from '../src/media-security.ts';
import { MediaSession } from '../src/media-session.ts';
import { PortAllocator } from '../src/port-allocator.ts';
import { UE_TEXT, UE_VIDEO } from '../src/probe-source.ts';
import { buildSdp, parseRemoteSdp } from '../src/sdp.ts';

/*
 * A call's video and text streams (a PoC member's, under the group key):
 * each a MediaSession of its own kind, sending the probe of @imslab/probe
 * under the call's key with an SSRC of its own, received and counted by the
 * peer's session of the same kind.
 */

const SUITE = 'AES_CM_128_HMAC_SHA1_80';
function key(): SrtpKey {
  const keySalt = generateKeySalt(SUITE);
  return { suite: SUITE, attribute: { tag: 1, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }, keySaltBase64: keySalt.toString('base64'), keyMgmt: 'mikey-sakke' };
}

const address = '127.0.17.63';
let port = 42600;
const opened: MediaSession[] = [];
afterEach(() => opened.splice(0).forEach((m) => m.stop()));

async function open(type: 'audio' | 'video' | 'text'): Promise<MediaSession> {
  const m = await MediaSession.open(address, new PortAllocator(address, port, port + 9), type);
  port += 10;
  opened.push(m);
  return m;
}

/** Every datagram arriving at a session's RTP port, as it arrived. */
function tap(m: MediaSession): Buffer[] {
  const got: Buffer[] = [];
  (m as unknown as { rtp: { on(e: 'message', f: (b: Buffer) => void): void } }).rtp.on('message', (b) => got.push(Buffer.from(b)));
  return got;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('MediaSession: video and text streams', () => {
  for (const type of ['video', 'text'] as const) {
    it(`${type}: SRTP under the call's key, the ${type} marker in every packet, counted by the peer's ${type} session`, async () => {
      const k = key();
      const [a, b] = [await open(type), await open(type)];
      const wire = tap(b);
      const txMarker = markerFor('streams-call', 'orig', type);
      a.configure({ remote: { address, port: b.localPort }, txMarker, expectedRxMarker: markerFor('streams-call', 'term', type), tx: k, rx: k });
      b.configure({ remote: { address, port: a.localPort }, txMarker: markerFor('streams-call', 'term', type), expectedRxMarker: txMarker, tx: k, rx: k, send: false });
      a.start();
      b.start();
      await until(() => b.counters.rxMarkerPackets >= (type === 'video' ? 9 : 3));
      expect(b.counters).toMatchObject({ rxAuthFailed: 0, rxMalformed: 0, rxMarkersSeen: [txMarker] });
      // What crossed the wire: SRTP (no marker readable), under the key, decrypting to the probe of this kind.
      const rx = new SrtpContext(contextOptions(k));
      const view = new RtpHeaderView();
      const t140 = new T140ProbeReceiver({ redPayloadType: 100 });
      for (const d of wire.slice(0, 6)) {
        expect(d.includes(Buffer.from('IMSLAB'))).toBe(false);
        const r = rx.unprotectRtp(d);
        if (!r.ok) throw new Error(`packet did not verify: ${r.reason}`);
        expect(view.wrap(r.packet)).toBeNull();
        expect(view.ssrc).toBe(a.ssrc);
        expect(readProbeMarker(type, view.payload())).toBe(txMarker);
        if (type === 'video') expect(parseH264Payload(view.payload()).ok).toBe(true);
        else expect(t140.receive({ payloadType: view.payloadType, sequence: view.sequence, timestamp: view.timestamp, payload: view.payload() })).toBeNull();
      }
    });
  }

  it('an audio session of the same call does not count the video marker as its own', async () => {
    const k = key();
    const [v, audio] = [await open('video'), await open('audio')];
    const marker = markerFor('streams-call-2', 'orig', 'video');
    v.configure({ remote: { address, port: audio.localPort }, txMarker: marker, expectedRxMarker: 'IMSLAB0000000000', tx: k, rx: k });
    audio.configure({ remote: { address, port: v.localPort }, txMarker: markerFor('streams-call-2', 'term'), expectedRxMarker: markerFor('streams-call-2', 'orig'), tx: k, rx: k, send: false });
    v.start();
    await until(() => audio.counters.rxPackets >= 3);
    expect(audio.counters.rxMarkerPackets).toBe(0);
    expect(audio.counters.rxMarkersSeen).toEqual([marker]);
  });
});

describe('the UE\'s SDP with video and text', () => {
  it('offers m=audio, m=video (H.264) and m=text (red + t140) in order, and reads an answer\'s streams back, port 0 as refused', () => {
    const sdp = buildSdp({ address, port: 40000, sessionId: 1, sessionVersion: 0, security: { profile: 'RTP/SAVP', crypto: [], keyMgmt: ['mikey AQID'], attributes: [] }, extra: [{ type: 'video', port: 40002 }, { type: 'text', port: 40004 }] });
    const d = parseSdp(sdp);
    expect(d.media.map((m) => `${m.type} ${m.port} ${m.protocol} ${m.payloadTypes.join(',')}`)).toEqual(['audio 40000 RTP/SAVP 0', 'video 40002 RTP/SAVP 99', 'text 40004 RTP/SAVP 100,98']);
    expect(sdp).toContain(`a=framerate:${UE_VIDEO.fps}`);
    expect(sdp).toContain(`a=fmtp:100 ${Array(UE_TEXT.red.generations + 1).fill(98).join('/')}`);
    const answer = sdp.replace('m=video 40002', 'm=video 0').replace('m=text 40004', 'm=text 51000');
    const r = parseRemoteSdp(answer);
    if (!r.ok) throw new Error(r.reason);
    expect(r.sdp.extra).toEqual([{ type: 'video', address, port: 0 }, { type: 'text', address, port: 51000 }]);
  });
});
