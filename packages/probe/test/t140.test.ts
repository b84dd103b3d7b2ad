/**
 * The text probe: T.140 over RTP (RFC 4103) with and without RFC 2198
 * redundancy: payload layout octet by octet, the marker offset, reassembly
 * with recovery from redundancy and U+FFFD for text lost for good, SDP, and
 * bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeRedPayload, markerOffset, parseRedPayload, parseT140Block, probeText, ProbeMediaConfigError, ProbeMediaDecodeError, readProbeMarker, T140_LINE_SEPARATOR,
  T140_LOST_TEXT, T140ProbeReceiver, T140ProbeSender, type T140ProbeOptions,
} from '../src/index.ts';
import { hex, MARKER, OTHER_MARKER, rtpFields } from './media-helpers.ts';

const M = Buffer.from(MARKER).toString('hex');
const block = (n: number) => Buffer.from(MARKER + probeText(n)).toString('hex');

function packets(opts: Partial<T140ProbeOptions>, n: number) {
  const s = new T140ProbeSender({ marker: MARKER, ssrc: 0x7e47, ...opts });
  return { sender: s, sent: Array.from({ length: n }, () => s.nextPacket()) };
}

describe('text/t140 (RFC 4103)', () => {
  const { sender, sent } = packets({ firstSequence: 65534, firstTimestamp: 100 }, 12);

  it('each payload is one T140block: the marker, then the text (UTF-8)', () => {
    expect(markerOffset('text')).toBe(0);
    expect(sender.markerOffset).toBe(0);
    expect(hex(rtpFields(sent[0]!.packet).payload)).toBe(`${M}${Buffer.from('#0 ').toString('hex')}`);
    expect(sent[9]!.text).toBe(`#9${T140_LINE_SEPARATOR}`);
    expect(hex(rtpFields(sent[9]!.packet).payload)).toBe(`${M}2339e280a8`); // U+2028 is E2 80 A8
    for (const p of sent) expect(readProbeMarker('text', rtpFields(p.packet).payload)).toBe(MARKER);
  });

  it('1000 Hz timestamps 300 ms apart, consecutive sequence numbers, the marker bit on the first packet only', () => {
    sent.forEach((p, i) => {
      const h = rtpFields(p.packet);
      expect(h.timestamp).toBe(100 + 300 * i);
      expect(h.sequence).toBe((65534 + i) & 0xffff);
      expect(h.payloadType).toBe(98);
      expect(h.marker).toBe(i === 0);
    });
  });

  it('offers m=text with t140/1000 and the character rate the marker needs (cps, default 30)', () => {
    expect(sender.sdpLines(49172)).toEqual(['m=text 49172 RTP/AVP 98', 'a=rtpmap:98 t140/1000', 'a=fmtp:98 cps=87']);
    const slow = new T140ProbeSender({ marker: MARKER, ssrc: 1, intervalMs: 1000, text: () => 'x' });
    expect(slow.sdpLines(5, 'RTP/SAVP')).toEqual(['m=text 5 RTP/SAVP 98', 'a=rtpmap:98 t140/1000']);
  });

  it('is reassembled in order across the sequence wrap; a lost packet is one U+FFFD', () => {
    const rx = new T140ProbeReceiver();
    for (const p of [...sent].reverse()) expect(rx.receive(rtpFields(p.packet))).toBeNull();
    const all = sent.map((p) => p.text).join('');
    expect(rx.result()).toEqual({ text: all, markers: [MARKER], packets: 12, blocksWithoutMarker: 0, recovered: 0, lost: [] });
    const lossy = new T140ProbeReceiver();
    sent.forEach((p, i) => i !== 3 && i !== 4 && lossy.receive(rtpFields(p.packet)));
    const r = lossy.result();
    expect(r.text).toBe(sent.slice(0, 3).map((p) => p.text).join('') + T140_LOST_TEXT + sent.slice(5).map((p) => p.text).join(''));
    expect(r.lost).toEqual([{ firstSequence: 1, lastSequence: 2, packets: 2 }]);
  });
});

describe('text/red (RFC 2198) with two redundant generations', () => {
  const { sender, sent } = packets({ red: {} }, 12);

  it('lays out headers, the oldest generation first, the primary last; the marker right after the headers', () => {
    expect(sender.markerOffset).toBe(9);
    expect(markerOffset('text', 2)).toBe(9);
    // Packet 0: two empty generations (nothing sent before), primary.
    expect(hex(rtpFields(sent[0]!.packet).payload)).toBe(`e2000000e200000062${block(0)}`);
    // Packet 2: PT 98 | F, offsets 600 and 300 ms (14 bits), 19-octet blocks (10 bits).
    expect(hex(rtpFields(sent[2]!.packet).payload)).toBe(`e2096013e204b01362${block(0)}${block(1)}${block(2)}`);
    for (const p of sent) {
      const h = rtpFields(p.packet);
      expect(h.payloadType).toBe(100);
      expect(h.payload.subarray(9, 25).toString()).toBe(MARKER);
      expect(readProbeMarker('text', h.payload)).toBe(MARKER);
    }
  });

  it('parses back to its blocks, and encodes them again to the same octets', () => {
    const payload = rtpFields(sent[5]!.packet).payload;
    const r = parseRedPayload(payload);
    if (!r.ok) throw r.error;
    expect(r.value.redundant.map((b) => [b.payloadType, b.timestampOffset, Buffer.from(b.data).toString()])).toEqual([
      [98, 600, MARKER + probeText(3)],
      [98, 300, MARKER + probeText(4)],
    ]);
    expect(Buffer.from(r.value.primary.data).toString()).toBe(MARKER + probeText(5));
    expect(hex(encodeRedPayload(r.value))).toBe(hex(payload));
  });

  it('offers text/red before text/t140, its fmtp naming the primary and both redundant generations', () => {
    expect(sender.sdpLines(49172)).toEqual(['m=text 49172 RTP/AVP 100 98', 'a=rtpmap:100 red/1000', 'a=fmtp:100 98/98/98', 'a=rtpmap:98 t140/1000', 'a=fmtp:98 cps=87']);
  });

  it('recovers two lost packets in a row from redundancy; three in a row lose text, marked with one U+FFFD', () => {
    const all = sent.map((p) => p.text).join('');
    const receive = (drop: number[]) => {
      const rx = new T140ProbeReceiver({ redPayloadType: 100 });
      sent.forEach((p, i) => !drop.includes(i) && expect(rx.receive(rtpFields(p.packet))).toBeNull());
      return rx.result();
    };
    expect(receive([])).toMatchObject({ text: all, recovered: 0, lost: [] });
    expect(receive([0, 4, 5, 9])).toMatchObject({ text: all, recovered: 4, lost: [], markers: [MARKER] });
    const r = receive([3, 4, 5]);
    expect(r.text).toBe(sent.slice(0, 3).map((p) => p.text).join('') + T140_LOST_TEXT + sent.slice(4).map((p) => p.text).join(''));
    expect(r.lost).toEqual([{ firstSequence: 3, lastSequence: 3, packets: 1 }]);
    expect(r.recovered).toBe(2);
  });

  it('a duplicate packet changes nothing; two probes in one stream both show up', () => {
    const rx = new T140ProbeReceiver({ redPayloadType: 100 });
    for (const p of [sent[0]!, sent[1]!, sent[1]!]) rx.receive(rtpFields(p.packet));
    const other = new T140ProbeSender({ marker: OTHER_MARKER, ssrc: 2, firstSequence: 2, red: {} });
    rx.receive(rtpFields(other.nextPacket().packet));
    expect(rx.result()).toMatchObject({ packets: 3, markers: [MARKER, OTHER_MARKER], text: '#0 #1 #0 ', lost: [] });
  });
});

describe('bad input and bad options', () => {
  const redErr = (h: string) => {
    const r = parseRedPayload(Buffer.from(h, 'hex'));
    if (r.ok) throw new Error('parsed');
    expect(r.error).toBeInstanceOf(ProbeMediaDecodeError);
    return [r.error.code, r.error.offset];
  };

  it('says what is wrong with a RED payload, and where', () => {
    expect(redErr('')).toEqual(['no-primary', 0]);
    expect(redErr('e2000003')).toEqual(['no-primary', 4]);
    expect(redErr('e20000')).toEqual(['truncated-red-header', 0]);
    expect(redErr('e200000562414243')).toEqual(['red-block-overrun', 5]);
    const ok = parseRedPayload(Buffer.from('62', 'hex'));
    expect(ok.ok && [ok.value.redundant.length, ok.value.primary.payloadType, ok.value.primary.data.length]).toEqual([0, 98, 0]);
  });

  it('refuses text that is not UTF-8, blocks of another payload type, and unknown payload types', () => {
    const b = parseT140Block(Buffer.from('49c328', 'hex'), 7);
    expect(!b.ok && [b.error.code, b.error.offset, b.error.message]).toEqual(['bad-utf8', 7, 't140 payload, octet 7: a T140block of 3 octets is not valid UTF-8 (RFC 4103: T.140 text is UTF-8)']);
    const rx = new T140ProbeReceiver({ redPayloadType: 100 });
    expect(rx.receive({ sequence: 1, timestamp: 0, payloadType: 98, payload: Buffer.from('ff', 'hex') })?.code).toBe('bad-utf8');
    expect(rx.receive({ sequence: 2, timestamp: 0, payloadType: 100, payload: Buffer.from('e300000162ff41', 'hex') })?.code).toBe('unexpected-payload-type');
    expect(rx.receive({ sequence: 3, timestamp: 0, payloadType: 100, payload: Buffer.from('e200000162ff41', 'hex') })).toMatchObject({ code: 'bad-utf8', offset: 5, format: 'red' });
    expect(rx.receive({ sequence: 4, timestamp: 0, payloadType: 0, payload: Buffer.from('41', 'hex') })?.message).toMatch(/payload type 0 is neither text\/t140 \(98\) nor text\/red \(100\)/);
    expect(rx.result()).toMatchObject({ packets: 0, text: '' });
    // Text without a marker is kept and counted.
    rx.receive({ sequence: 5, timestamp: 0, payloadType: 98, payload: Buffer.from('hello') });
    expect(rx.result()).toMatchObject({ text: 'hello', blocksWithoutMarker: 1 });
  });

  it('refuses options it cannot honour', () => {
    const make = (o: Partial<T140ProbeOptions>) => () => new T140ProbeSender({ marker: MARKER, ssrc: 1, ...o });
    expect(make({ payloadType: 0 })).toThrow(ProbeMediaConfigError);
    expect(make({ red: { payloadType: 98 } })).toThrow(/red.payloadType=98: text\/red needs a payload type of its own/);
    expect(make({ red: { generations: 9 } })).toThrow(/red.generations=9/);
    expect(make({ red: {}, intervalMs: 9000 })).toThrow(/intervalMs=9000/);
    expect(() => make({ text: () => 'x'.repeat(1100) })().nextPacket()).toThrow(/at most 1023/);
    expect(() => encodeRedPayload({ redundant: [{ payloadType: 98, timestampOffset: 16384, data: new Uint8Array(0) }], primary: { payloadType: 98, data: new Uint8Array(0) } })).toThrow(/14 bits/);
  });
});
