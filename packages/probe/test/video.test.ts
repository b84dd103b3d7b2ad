/**
 * The video probe: H.264 bit syntax (H.264 sec. 7.4.1.1, 9.1), the
 * packetisation (RFC 6184: STAP-A led by the marker NAL unit, marker bit on
 * the last packet of a frame, 90 kHz timestamps, packets within the MTU), the
 * pattern decoded back exactly, loss, and bad input.
 */
import { describe, expect, it } from 'vitest';
import { addEmulationPrevention, BitReader, BitWriter, removeEmulationPrevention } from '../src/h264-bits.ts';
import {
  markerOffset, parseH264Payload, parsePps, parseSps, ProbeMediaConfigError, ProbeMediaDecodeError, readProbeMarker, stapA, VIDEO_MARKER_OFFSET, VideoProbeReceiver,
  VideoProbeSender, videoPatternFrame, type VideoProbeOptions,
} from '../src/index.ts';
import { hex, MARKER, rtpFields } from './media-helpers.ts';

const bits = (f: (w: BitWriter) => void): string => {
  const w = new BitWriter();
  f(w);
  w.trailing();
  return [...w.finish()].map((b) => b.toString(2).padStart(8, '0')).join('').replace(/10*$/, '');
};

describe('H.264 bit syntax', () => {
  it('writes ue(v) and se(v) as Tables 9-2 and 9-3 give them, and reads them back', () => {
    expect(bits((w) => w.ue(0))).toBe('1');
    expect(bits((w) => w.ue(1))).toBe('010');
    expect(bits((w) => w.ue(2))).toBe('011');
    expect(bits((w) => w.ue(3))).toBe('00100');
    expect(bits((w) => w.ue(8))).toBe('0001001');
    expect(bits((w) => w.ue(25))).toBe('000011010'); // mb_type I_PCM in an I slice
    expect(bits((w) => w.se(1))).toBe('010');
    expect(bits((w) => w.se(-1))).toBe('011');
    expect(bits((w) => w.se(-2))).toBe('00101');
    const values = [0, 1, 2, 7, 8, 255, 4096, 65535, 2 ** 30];
    const w = new BitWriter();
    for (const v of values) w.ue(v).se(-v).u(3, v & 7);
    const r = new BitReader(w.trailing().finish());
    for (const v of values) expect([r.ue(), r.se(), r.u(3)]).toEqual([v, -v, v & 7]);
    expect(r.moreRbspData()).toBe(false);
  });

  it('emulation prevention (sec. 7.4.1.1): 0x03 after two zeros before 0..3 and at the end, and removed again', () => {
    // RBSPs end in rbsp_trailing_bits, or in cabac_zero_words after them (then a final 0x03 is appended).
    const cases: Array<[string, string]> = [
      ['00000080', '0000030080'],
      ['00000180', '0000030180'],
      ['00000280', '0000030280'],
      ['00000380', '0000030380'],
      ['00000480', '00000480'],
      ['800000000001', '80000003000003' + '01'],
      ['800000', '80000003'],
      ['8000000000', '800000030000' + '03'],
    ];
    for (const [rbsp, nal] of cases) {
      expect(hex(addEmulationPrevention(Buffer.from(rbsp, 'hex')))).toBe(nal);
      expect(hex(removeEmulationPrevention(Buffer.from(nal, 'hex')) as Uint8Array)).toBe(rbsp);
    }
    const bad = removeEmulationPrevention(Buffer.from('65000001', 'hex'), 1);
    expect(bad).toBeInstanceOf(ProbeMediaDecodeError);
    expect((bad as ProbeMediaDecodeError).code).toBe('bad-emulation-prevention');
    expect((bad as ProbeMediaDecodeError).offset).toBe(4);
  });
});

describe('test pattern', () => {
  it('is deterministic, bars plus a bar one macroblock wide moving one macroblock per frame', () => {
    const a = videoPatternFrame(176, 144, 3);
    expect(videoPatternFrame(176, 144, 3)).toEqual(a);
    expect(a.y[3 * 16 + 5]).toBe(235); // the moving bar, frame 3: macroblock column 3
    expect(a.y[4 * 16 + 5]).not.toBe(235);
    const b = videoPatternFrame(176, 144, 4);
    expect(b.y[4 * 16 + 5]).toBe(235);
    expect(a.cb.length).toBe(88 * 72);
  });
});

function send(opts: Partial<VideoProbeOptions>, frames: number) {
  const s = new VideoProbeSender({ marker: MARKER, ssrc: 0x5eed, ...opts });
  return { sender: s, frames: Array.from({ length: frames }, () => s.nextFrame()) };
}

describe('packetisation (RFC 6184, packetization-mode=1)', () => {
  const { sender, frames } = send({ idrInterval: 5, firstSequence: 65530, firstTimestamp: 2 ** 32 - 9000 }, 12);

  it('puts the marker at octet 6 of every payload: an STAP-A led by the marker NAL unit', () => {
    expect(markerOffset('video')).toBe(VIDEO_MARKER_OFFSET);
    for (const f of frames) {
      f.packets.forEach((p, i) => {
        const { payload } = rtpFields(p);
        expect(payload[0]! & 0x1f).toBe(24); // STAP-A
        expect(payload.subarray(6, 22).toString()).toBe(MARKER);
        expect(readProbeMarker('video', payload)).toBe(MARKER);
        const r = parseH264Payload(payload);
        expect(r.ok && r.value.marker).toBe(MARKER);
        const types = r.ok ? r.value.nalUnits.map((u) => u[0]! & 0x1f) : [];
        // First packet of a frame: SEI (it must precede the first slice, H.264 sec. 7.4.1.2.3); later ones: type 0.
        const slice = f.idr ? 5 : 1;
        expect(types).toEqual(i === 0 ? (f.idr ? [6, 7, 8, slice] : [6, slice]) : [0, slice]);
      });
    }
  });

  it('sets the RTP marker bit on the last packet of each frame only, with 90 kHz timestamps, consecutive sequence numbers and the dynamic payload type', () => {
    let seq = 65530;
    frames.forEach((f, n) => {
      expect(f.timestamp).toBe((2 ** 32 - 9000 + n * 9000) >>> 0);
      f.packets.forEach((p, i) => {
        const h = rtpFields(p);
        expect(h.marker).toBe(i === f.packets.length - 1);
        expect(h.timestamp).toBe(f.timestamp);
        expect(h.payloadType).toBe(99);
        expect(h.sequence).toBe(seq++ & 0xffff);
        expect(p.length).toBeLessThanOrEqual(1200);
      });
    });
    expect(frames.map((f) => f.idr)).toEqual([true, false, false, false, false, true, false, false, false, false, true, false]);
  });

  it('sends only what changed in P frames', () => {
    const bytes = (i: number) => frames[i]!.packets.reduce((n, p) => n + p.length, 0);
    expect(bytes(1)).toBeLessThan(bytes(0) / 3);
  });

  it('offers the stream in SDP as H.264/90000, packetization-mode=1, with the parameter sets', () => {
    const lines = sender.sdpLines(49170, 'RTP/SAVP');
    expect(lines[0]).toBe('m=video 49170 RTP/SAVP 99');
    expect(lines).toContain('a=rtpmap:99 H264/90000');
    const fmtp = lines.find((l) => l.startsWith('a=fmtp:99 '))!;
    expect(fmtp).toMatch(/^a=fmtp:99 profile-level-id=42c00a;packetization-mode=1;sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+$/);
    const [sps64] = fmtp.split('sprop-parameter-sets=')[1]!.split(',');
    const sps = parseSps(Buffer.from(sps64!, 'base64'));
    expect(sps.ok && { w: sps.value.width, h: sps.value.height, fps: sps.value.fps, level: sps.value.levelIdc, profile: sps.value.profileIdc }).toEqual({ w: 176, h: 144, fps: 10, level: 10, profile: 66 });
    expect(parsePps(sender.pps).ok).toBe(true);
    expect(lines.find((l) => l.startsWith('b=AS:'))).toMatch(/^b=AS:\d+$/);
  });

  it('keeps every packet within maxPacketSize, at sizes that need cropping too', () => {
    for (const [width, height, maxPacketSize] of [[170, 100, 600], [320, 240, 1500], [16, 16, 600]] as const) {
      const { frames: fs } = send({ width, height, maxPacketSize, idrInterval: 3 }, 4);
      for (const f of fs) for (const p of f.packets) expect(p.length).toBeLessThanOrEqual(maxPacketSize);
    }
  });
});

describe('receiving', () => {
  function receiveAll(opts: Partial<VideoProbeOptions>, n: number, drop: (seqIndex: number) => boolean = () => false) {
    const { frames } = send(opts, n);
    const rx = new VideoProbeReceiver();
    let k = 0;
    for (const f of frames) for (const p of f.packets) if (!drop(k++)) expect(rx.receive(rtpFields(p))).toBeNull();
    return { sent: frames, got: rx.takeFrames(true) };
  }

  it('decodes every frame back to the exact pattern (cropped sizes too)', () => {
    for (const [width, height] of [[176, 144], [170, 100]] as const) {
      const { sent, got } = receiveAll({ width, height, idrInterval: 4 }, 9);
      expect(got).toHaveLength(9);
      got.forEach((g, i) => {
        expect(g.complete).toBe(true);
        expect(g.errors).toEqual([]);
        expect(g.markers).toEqual([MARKER]);
        expect(g.packetsWithoutMarker).toBe(0);
        expect(g.idr).toBe(sent[i]!.idr);
        expect(g.picture).toEqual(sent[i]!.picture);
      });
    }
  });

  it('a lost packet leaves its frame incomplete, the next IDR frame is whole again', () => {
    const { got } = receiveAll({ idrInterval: 3 }, 6, (k) => k === 3);
    expect(got[0]!.complete).toBe(false);
    expect(got[0]!.lostPackets).toBe(1);
    expect(got[3]!.complete).toBe(true);
    expect(got[3]!.idr).toBe(true);
  });

  it('takes the parameter sets out of band (sprop-parameter-sets) when the stream carries none', () => {
    const { sender, frames } = send({ width: 32, height: 32 }, 1);
    const withoutParameterSets = frames[0]!.packets.map((p) => {
      const h = rtpFields(p);
      const r = parseH264Payload(h.payload);
      if (!r.ok) throw r.error;
      return { ...h, payload: stapA(r.value.nalUnits.filter((u) => (u[0]! & 0x1f) !== 7 && (u[0]! & 0x1f) !== 8)) };
    });
    const blind = new VideoProbeReceiver();
    const told = new VideoProbeReceiver([sender.sps, sender.pps]);
    for (const p of withoutParameterSets) {
      blind.receive(p);
      told.receive(p);
    }
    expect(blind.takeFrames()[0]!.errors[0]!.code).toBe('missing-parameter-set');
    const [f] = told.takeFrames();
    expect(f!.complete).toBe(true);
    expect(f!.picture).toEqual(frames[0]!.picture);
  });

  it('reassembles FU-A fragments (RFC 6184 sec. 5.8) and drops a NAL unit whose fragment is lost', () => {
    const s = new VideoProbeSender({ marker: MARKER, ssrc: 1, width: 16, height: 16 });
    const f = s.nextFrame();
    const units = parseH264Payload(rtpFields(f.packets[0]!).payload);
    if (!units.ok) throw units.error;
    const [, sps, pps, slice] = units.value.nalUnits as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const fu = (part: Uint8Array, start: boolean, end: boolean) => Uint8Array.from([(slice[0]! & 0xe0) | 28, (start ? 0x80 : 0) | (end ? 0x40 : 0) | (slice[0]! & 0x1f), ...part]);
    const parts = [slice.subarray(1, 100), slice.subarray(100, 300), slice.subarray(300)];
    const payloads = [stapA([sps, pps]), fu(parts[0]!, true, false), fu(parts[1]!, false, false), fu(parts[2]!, false, true)];
    const rx = new VideoProbeReceiver();
    payloads.forEach((payload, i) => rx.receive({ sequence: i, timestamp: 0, marker: i === 3, payload }));
    const [whole] = rx.takeFrames();
    expect(whole!.complete).toBe(true);
    expect(whole!.picture).toEqual(f.picture);
    expect(whole!.packetsWithoutMarker).toBe(4);
    const rx2 = new VideoProbeReceiver();
    [0, 1, 3].forEach((i) => rx2.receive({ sequence: i, timestamp: 0, marker: i === 3, payload: payloads[i]! }));
    const [broken] = rx2.takeFrames();
    expect(broken!.complete).toBe(false);
    expect(broken!.picture).toBeNull();
  });
});

describe('bad input and bad options', () => {
  const bad = (hexPayload: string) => {
    const r = parseH264Payload(Buffer.from(hexPayload, 'hex'));
    if (r.ok) throw new Error('parsed');
    expect(r.error).toBeInstanceOf(ProbeMediaDecodeError);
    return [r.error.code, r.error.offset];
  };

  it('says what is wrong with a payload, and where', () => {
    expect(bad('')).toEqual(['empty', 0]);
    expect(bad('85')).toEqual(['forbidden-bit', 0]);
    expect(bad('18000567')).toEqual(['truncated-aggregate', 1]);
    expect(bad('180000')).toEqual(['empty-nal-unit', 1]);
    expect(bad('18000118')).toEqual(['unsupported-packet-type', 3]);
    expect(bad('7c')).toEqual(['truncated-fragment', 1]);
    expect(bad('7cc5ff')).toEqual(['bad-fragment', 1]);
    expect(bad('7ca5ff')).toEqual(['bad-fragment', 1]);
    expect(bad('19')).toEqual(['unsupported-packet-type', 0]);
    expect(bad('1e')).toEqual(['unsupported-packet-type', 0]);
    const e = parseH264Payload(Buffer.from('18000567', 'hex'));
    expect(!e.ok && e.error.message).toMatch(/^h264 payload, octet 1: an STAP-A NAL unit of 5 octets runs 4 past the payload \(RFC 6184 sec. 5.7.1\)$/);
  });

  it('reports slices it cannot decode instead of failing', () => {
    const rx = new VideoProbeReceiver();
    rx.receive({ sequence: 1, timestamp: 0, marker: true, payload: Buffer.from('65000001', 'hex') }); // a start code inside a NAL unit
    const [f] = rx.takeFrames();
    expect(f!.complete).toBe(false);
    expect(f!.errors.map((e) => [e.code, e.offset])).toEqual([['bad-emulation-prevention', 3]]);
    rx.receive({ sequence: 2, timestamp: 9, marker: true, payload: Buffer.from('6588c0', 'hex') }); // an IDR slice naming PPS 0, never received
    expect(rx.takeFrames()[0]!.errors.map((e) => e.code)).toEqual(['missing-parameter-set']);
  });

  it('refuses options it cannot honour', () => {
    const make = (o: Partial<VideoProbeOptions>) => () => new VideoProbeSender({ marker: MARKER, ssrc: 1, ...o });
    expect(make({ width: 175 })).toThrow(ProbeMediaConfigError);
    expect(make({ height: 8 })).toThrow(/height=8: must be an even integer/);
    expect(make({ payloadType: 34 })).toThrow(/payloadType=34: .*dynamic one, 96..127/);
    expect(make({ maxPacketSize: 500 })).toThrow(/maxPacketSize=500/);
    expect(make({ width: 4096, height: 4096 })).toThrow(/no H.264 level/);
    expect(make({ marker: 'IMSLAB' })).toThrow(/marker=IMSLAB: not a probe marker/);
  });
});
