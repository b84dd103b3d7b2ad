/**
 * Malformed input ends in typed errors with offsets, never a crash or a hang:
 * truncation at every offset, random corruption, oversized input, broken
 * next-payload chains, payloads after V or SIGN, grammar violations
 * (RFC 3830 sec. 6, RFC 6043 sec. 4).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodeMessageWithOffsets,
  encodeMessage,
  MAX_MESSAGE_LENGTH,
  MikeyError,
  MikeyParseError,
  MikeyPayloadOrderError,
  MikeySizeError,
  MikeyTruncatedError,
  MikeyUnsupportedError,
  validateGrammar,
  decodeKeyDataList,
  type MikeyMessage,
} from '../src/index.ts';
import { Gen } from './gen.ts';
import { caught, fullFlow, hex, rfc4567Examples, world } from './helpers.ts';

const flow = fullFlow(world());
const ex = rfc4567Examples();
const samples: [string, Uint8Array][] = [
  ['RFC 4567 offer', ex.offer],
  ['RFC 4567 answer', ex.answer],
  ['REQUEST_INIT', flow.reqInit.bytes],
  ['REQUEST_RESP', flow.reqResp.bytes],
  ['TRANSFER_INIT', flow.trInit.bytes],
  ['RESOLVE_INIT', flow.resInit.bytes],
  ['RESOLVE_RESP', flow.resResp.bytes],
  ['TRANSFER_RESP', flow.trResp.bytes],
];

describe('truncation', () => {
  it.each(samples)('%s: every proper prefix → MikeyParseError with an offset inside the prefix', (_n, bytes) => {
    for (let n = 0; n < bytes.length; n++) {
      const e = caught(() => decodeMessage(bytes.subarray(0, n)));
      expect(e, `prefix ${n}`).toBeInstanceOf(MikeyParseError);
      const pe = e as MikeyParseError;
      expect(pe.offset).toBeGreaterThanOrEqual(0);
      expect(pe.offset).toBeLessThanOrEqual(n);
      expect(pe.expected.length).toBeGreaterThan(0);
    }
  });
  it('a cut inside a field names the field and its payload type', () => {
    const e = caught(() => decodeMessage(ex.offer.subarray(0, 40))) as MikeyTruncatedError;
    expect(e).toBeInstanceOf(MikeyTruncatedError);
    expect(e.payloadType).toBe(11); // inside RAND (offset 29..47)
    expect(e.expected).toMatch(/RAND/);
    expect(e.offset).toBe(31);
    const h = caught(() => decodeMessage(ex.offer.subarray(0, 6))) as MikeyTruncatedError;
    expect(h.payloadType).toBe(-1);
    expect(h.expected).toMatch(/CSB ID/);
  });
});

describe('corruption', () => {
  it('10 000 randomly corrupted messages: only MikeyError subclasses, no hang', () => {
    const g = new Gen(42);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const [, base] = samples[i % samples.length]!;
      const b = Uint8Array.from(base);
      const flips = 1 + g.int(3);
      for (let j = 0; j < flips; j++) b[g.int(b.length - 1)] = g.int(255);
      try {
        decodeMessage(b);
        kinds.set('ok', (kinds.get('ok') ?? 0) + 1);
      } catch (e) {
        expect(e).toBeInstanceOf(MikeyError);
        kinds.set((e as Error).name, (kinds.get((e as Error).name) ?? 0) + 1);
      }
    }
    expect(kinds.get('MikeyTruncatedError')).toBeGreaterThan(0);
  });
  it('random garbage of random lengths', () => {
    const g = new Gen(7);
    for (let i = 0; i < 3000; i++) {
      const b = g.bytes(300);
      if (b.length > 0) b[0] = 1;
      const e = caught(() => decodeMessage(b));
      if (e !== undefined) expect(e).toBeInstanceOf(MikeyError);
    }
  });
});

describe('size bounds', () => {
  it('messages over the limit are refused before parsing', () => {
    const e = caught(() => decodeMessage(new Uint8Array(MAX_MESSAGE_LENGTH + 1))) as MikeySizeError;
    expect(e).toBeInstanceOf(MikeySizeError);
    expect(e.limit).toBe(MAX_MESSAGE_LENGTH);
    expect(() => decodeMessage(ex.offer, { maxLength: 100 })).toThrow(MikeySizeError);
  });
  it('more than 64 payloads in a chain → MikeySizeError', () => {
    const t = { kind: 'T' as const, tsType: 2, value: 1n };
    const b = encodeMessage({ header: { version: 1, dataType: 0, v: false, prf: 0, csbId: 1, csIdMap: { type: 'empty', nCs: 0 } }, payloads: Array.from({ length: 64 }, () => t) });
    // Re-link the last payload to one more T.
    const more = new Uint8Array([...b, 0, 2, 0, 0, 0, 1]);
    more[b.length - 6] = 5;
    expect(() => decodeMessage(more)).toThrow(MikeySizeError);
  });
  it('more than 32 key data sub-payloads in a KEMAC → MikeySizeError', () => {
    const one = [0x14, 0x00, 0x00, 0x01, 0xaa];
    const b = new Uint8Array([...Array.from({ length: 33 }, () => one).flat(), 0x00, 0x00, 0x00, 0x01, 0xbb]);
    expect(() => decodeKeyDataList(b)).toThrow(MikeySizeError);
  });
  it('version other than 1 and unknown layout codes → MikeyUnsupportedError at the right offset', () => {
    const b = Uint8Array.from(ex.offer);
    b[0] = 2;
    expect((caught(() => decodeMessage(b)) as MikeyUnsupportedError).offset).toBe(0);
    const c = Uint8Array.from(ex.offer);
    c[9] = 7; // CS ID map type
    expect(caught(() => decodeMessage(c))).toMatchObject({ offset: 9, name: 'MikeyUnsupportedError' });
    const d = Uint8Array.from(ex.offer);
    d[20] = 9; // T: TS type
    expect(caught(() => decodeMessage(d))).toMatchObject({ offset: 20, payloadType: 5, name: 'MikeyUnsupportedError' });
    const v = Uint8Array.from(ex.answer);
    v[50] = 5; // V: auth alg
    expect(caught(() => decodeMessage(v))).toMatchObject({ offset: 50, payloadType: 9, name: 'MikeyUnsupportedError' });
  });
});

describe('payload order', () => {
  it('next payload 0 before the end: trailing octets → MikeyPayloadOrderError', () => {
    const b = Uint8Array.from(ex.offer);
    b[66] = 0; // SP says "last" but KEMAC follows
    const e = caught(() => decodeMessage(b)) as MikeyPayloadOrderError;
    expect(e).toBeInstanceOf(MikeyPayloadOrderError);
    expect(e.offset).toBe(71);
    expect(e.found).toMatch(/61 trailing/);
    expect(() => decodeMessage(new Uint8Array([...ex.answer, 0]))).toThrow(MikeyPayloadOrderError);
  });
  it('next payload naming an unknown type → MikeyUnsupportedError at the octet that named it', () => {
    const b = Uint8Array.from(ex.offer);
    b[47] = 99; // ID's next payload
    expect(caught(() => decodeMessage(b))).toMatchObject({ name: 'MikeyUnsupportedError', offset: 47 });
    const c = Uint8Array.from(ex.offer);
    c[2] = 20; // HDR → Key data sub-payload at top level
    expect(caught(() => decodeMessage(c))).toMatchObject({ name: 'MikeyPayloadOrderError', offset: 2 });
  });
  it('a payload after V → MikeyPayloadOrderError at V’s next-payload octet', () => {
    const b = new Uint8Array([...ex.answer, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01]);
    b[49] = 5; // V's next payload: T
    const e = caught(() => decodeMessage(b)) as MikeyPayloadOrderError;
    expect(e).toBeInstanceOf(MikeyPayloadOrderError);
    expect(e.offset).toBe(49);
    expect(e.payloadType).toBe(9);
  });
  it('bytes after SIGN → MikeyPayloadOrderError', () => {
    const m: MikeyMessage = { header: { version: 1, dataType: 2, v: false, prf: 0, csbId: 1, csIdMap: { type: 'empty', nCs: 0 } }, payloads: [{ kind: 'SIGN', sType: 0, signature: hex('0102') }] };
    const b = encodeMessage(m);
    expect(() => decodeMessage(new Uint8Array([...b, 0]))).toThrow(MikeyPayloadOrderError);
  });
  it('TP/TICKET nested in TP Data → MikeyPayloadOrderError', () => {
    const tp = flow.reqInit.message.payloads.find((p) => p.kind === 'TP')!;
    const b = Uint8Array.from(flow.reqInit.bytes);
    const { offsets } = decodeMessageWithOffsets(b);
    const i = flow.reqInit.message.payloads.indexOf(tp);
    const first = offsets[i]! + 1 + 2 + 1 + 1 + 3 + 2; // TP Data First Payload octet
    b[first] = 16;
    expect(caught(() => decodeMessage(b))).toMatchObject({ name: 'MikeyPayloadOrderError', offset: first });
  });
  it('grammar (RFC 6043 4.1.1): payloads out of order or missing → MikeyPayloadOrderError with the payload offset', () => {
    const m = structuredClone(flow.reqInit.message);
    const [t, randr, ...rest] = m.payloads;
    m.payloads = [randr!, t!, ...rest];
    const { message, offsets } = decodeMessageWithOffsets(encodeMessage(m));
    const e = caught(() => validateGrammar(message, offsets)) as MikeyPayloadOrderError;
    expect(e).toBeInstanceOf(MikeyPayloadOrderError);
    expect(e.offset).toBe(offsets[0]);
    expect(e.expected).toMatch(/^T in REQUEST_INIT_PSK/);
    const noTp = structuredClone(flow.reqInit.message);
    noTp.payloads = noTp.payloads.filter((p) => p.kind !== 'TP');
    expect(() => validateGrammar(noTp)).toThrow(/TP in REQUEST_INIT_PSK/);
    const extra = structuredClone(flow.trResp.message);
    extra.payloads.splice(1, 0, { kind: 'RAND', rand: hex('00') });
    expect(() => validateGrammar(extra)).toThrow(MikeyPayloadOrderError);
  });
});
