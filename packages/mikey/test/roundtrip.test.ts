/**
 * encode/decode are exact inverses: decode(encode(m)) deep-equals m for
 * seeded random messages with every payload kind, and encode(decode(b))
 * equals b for those and for every message the exchanges produce.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MikeyEncodeError } from '../src/index.ts';
import { Gen } from './gen.ts';
import { fullFlow, rfc4567Examples, toHex, world } from './helpers.ts';

describe('round trips', () => {
  it('1000 random messages: decode(encode(m)) == m and encode(decode(b)) == b', () => {
    const g = new Gen(0x6d696b65);
    const kinds = new Set<string>();
    const maps = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const m = g.message();
      for (const p of m.payloads) kinds.add(p.kind);
      maps.add(m.header.csIdMap.type);
      const b = encodeMessage(m);
      const d = decodeMessage(b);
      expect(d).toEqual(m);
      expect(toHex(encodeMessage(d))).toBe(toHex(b));
    }
    expect([...kinds].sort()).toEqual(['CERT', 'CHASH', 'DH', 'ERR', 'GENERAL_EXT', 'ID', 'IDR', 'KEMAC', 'PKE', 'RAND', 'RANDR', 'SIGN', 'SP', 'T', 'TICKET', 'TP', 'TR', 'V']);
    expect(maps.size).toBe(3);
  });
  it('every message of the ticket exchanges and both RFC 4567 examples', () => {
    const f = fullFlow(world());
    const ex = rfc4567Examples();
    for (const b of [f.reqInit.bytes, f.reqResp.bytes, f.trInit.bytes, f.resInit.bytes, f.resResp.bytes, f.trResp.bytes, ex.offer, ex.answer]) {
      const d = decodeMessage(b);
      expect(toHex(encodeMessage(d))).toBe(toHex(b));
      expect(decodeMessage(encodeMessage(d))).toEqual(d);
    }
    for (const m of [f.reqInit.message, f.reqResp.message, f.trInit.message, f.resInit.message, f.resResp.message, f.trResp.message]) {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }
  });
  it('the encoder refuses what the decoder would not read back', () => {
    const g = new Gen(1);
    const h = g.header();
    const v = g.v();
    const t = { kind: 'T' as const, tsType: 0, value: 1n };
    expect(() => encodeMessage({ header: h, payloads: [v, t] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: [g.sign(), t] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: [{ kind: 'T', tsType: 9, value: 0n }] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: [{ kind: 'T', tsType: 2, value: 1n << 32n }] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: [{ kind: 'V', macAlg: 1, mac: new Uint8Array(19) }] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: [{ kind: 'RAND', rand: new Uint8Array(256) }] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: { ...h, version: 2 }, payloads: [] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: { ...h, csbId: 2 ** 32 }, payloads: [] })).toThrow(MikeyEncodeError);
    const tp = { kind: 'TP' as const, ticketType: 1, subtype: 1, version: 1, prf: 0, flags: g.flags() };
    expect(() => encodeMessage({ header: h, payloads: [{ ...tp, tpData: [tp] }] })).toThrow(MikeyEncodeError);
    expect(() => encodeMessage({ header: h, payloads: Array.from({ length: 65 }, () => t) })).toThrow(MikeyEncodeError);
  });
});
