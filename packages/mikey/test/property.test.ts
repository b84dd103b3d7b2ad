/**
 * Issue 13 point 3, MIKEY and tickets: property tests (fast-check) and the
 * mutation fuzzer of packages/fuzz/bench/parsers-bench-sip-sdp-mikey.ts,
 * seeded (a failure prints its seed / input index and replays from it).
 *
 * - Round trips: decodeMessage(encodeMessage(m)) == m and
 *   encodeMessage(decodeMessage(b)) == b for messages built from fast-check
 *   payloads (T, TR, RAND, RANDR, ID, IDR, GENERAL_EXT, ERR, SP, KEMAC, V,
 *   SIGN, TP and TICKET with nested chains); the same for KEMAC key data
 *   lists and a=key-mgmt values; KmsTicketCodec.open(seal(x)) gives back x,
 *   also after the ticket went through a TRANSFER_INIT-like message.
 * - Any single bit flipped in a sealed ticket's data is refused with a
 *   MikeyError (never accepted).
 * - Every decoder (message incl. the MIKEY-SAKKE I_MESSAGE that
 *   receiveGmkIMessage decodes, key data, ticket open, TRANSFER_INIT) on
 *   10,000 hostile inputs (8,000 mutated fixtures + 2,000 fast-check inputs):
 *   a value or the typed error (MikeyParseError for the decoders, a MikeyError
 *   for the ticket codec and exchange), an accepted message re-encodes to the
 *   same octets, and no input takes 50 ms.
 */
import { describe, expect, it } from 'vitest';
import { checkTimed } from '@imslab/fuzz';
import fc from 'fast-check';
import {
  decodeKeyDataList, decodeKeyMgmtAttribute, decodeMessage, encodeKeyDataList, encodeKeyMgmtAttribute, encodeMessage, keyMgmtLine,
  KmsTicketCodec, MikeyError, MikeyParseError, MikeyTicketError, noTicketFlags, parseTransferInit, uriIdentity,
  type KeyData, type KeyValidity, type MikeyHeader, type MikeyMessage, type Payload, type ResolutionPolicy, type TicketPayload,
} from '../src/index.ts';
import { fuzzTarget, mikeyTargets, PER_INPUT_BOUND_MS, SAKKE_I_MESSAGE, type ParserFuzzResult } from '../../fuzz/bench/parsers-bench-sip-sdp-mikey.ts';

const SEED = 0x13f0e1;
const MUTATIONS = 8_000;
const ARBITRARY = 2_000;
const ROUND_TRIPS = 500;

const check = <T>(arb: fc.Arbitrary<T>, numRuns: number, body: (v: T) => void): number => checkTimed(arb, { numRuns, seed: SEED, boundMs: PER_INPUT_BOUND_MS }, body);

const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
const fixed = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u8 = fc.integer({ min: 0, max: 255 });
const big = (octets: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(8 * octets)) - 1n });
const ts = fc.integer({ min: 0, max: 3 }).chain((tsType) => big(tsType < 2 ? 8 : 4).map((value) => ({ tsType, value })));
const kv: fc.Arbitrary<KeyValidity> = fc.oneof(
  fc.constant({ kvType: 0 as const }),
  bytes(8).map((spi) => ({ kvType: 1 as const, spi })),
  fc.tuple(bytes(8), bytes(8)).map(([validFrom, validTo]) => ({ kvType: 2 as const, validFrom, validTo })),
);
const flags = fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }).map((bs) => {
  const f = noTicketFlags();
  (Object.keys(f) as Array<keyof typeof f>).forEach((k, i) => (f[k] = bs[i]!));
  return f;
});
const MAC_LEN = [0, 20, 32];
const mac = fc.integer({ min: 0, max: 2 }).chain((macAlg) => fixed(MAC_LEN[macAlg]!).map((m) => ({ macAlg, mac: m })));

/** A payload that may stand anywhere in a chain (not V, SIGN, TP, TICKET). */
const simple: fc.Arbitrary<Payload> = fc.oneof(
  ts.map((t) => ({ kind: 'T' as const, ...t })),
  fc.tuple(fc.integer({ min: 1, max: 4 }), ts).map(([role, t]) => ({ kind: 'TR' as const, role, ...t })),
  bytes(40).map((rand) => ({ kind: 'RAND' as const, rand })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), bytes(40)).map(([role, rand]) => ({ kind: 'RANDR' as const, role, rand })),
  fc.tuple(fc.integer({ min: 0, max: 2 }), bytes(60)).map(([idType, data]) => ({ kind: 'ID' as const, idType, data })),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 }), bytes(60)).map(([role, idType, data]) => ({ kind: 'IDR' as const, role, idType, data })),
  fc.tuple(u8, bytes(60)).map(([extType, data]) => ({ kind: 'GENERAL_EXT' as const, extType, data })),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.option(fc.integer({ min: 1, max: 0xffff }), { nil: undefined })).map(([errorNo, reserved]) => (reserved === undefined ? { kind: 'ERR' as const, errorNo } : { kind: 'ERR' as const, errorNo, reserved })),
  fc.tuple(u8, fc.integer({ min: 0, max: 1 }), fc.array(fc.tuple(u8, bytes(16)), { maxLength: 6 })).map(([policyNo, protType, ps]) => ({ kind: 'SP' as const, policyNo, protType, params: ps.map(([type, value]) => ({ type, value })) })),
  fc.tuple(fc.integer({ min: 0, max: 3 }), bytes(120), mac).map(([encrAlg, encrData, m]) => ({ kind: 'KEMAC' as const, encrAlg, encrData, ...m })),
);
const v = mac.map((m) => ({ kind: 'V' as const, ...m }));
const sign = fc.tuple(fc.integer({ min: 0, max: 15 }), bytes(140)).map(([sType, signature]) => ({ kind: 'SIGN' as const, sType, signature }));
const nested = (withV: boolean) =>
  fc.option(fc.tuple(fc.array(withV ? fc.oneof(simple, v) : simple, { maxLength: 4 }), fc.option(sign, { nil: undefined })).map(([ps, s]) => (s ? [...ps, s] : ps)), { nil: undefined });
const ticketish: fc.Arbitrary<Payload> = fc
  .record({ ticketType: fc.integer({ min: 0, max: 0xffff }), subtype: u8, version: u8, prf: fc.integer({ min: 0, max: 127 }), flags, reserved: fc.option(fc.integer({ min: 1, max: 31 }), { nil: undefined }), tpData: nested(false), tp: fc.boolean(), ticketData: bytes(200), initiatorData: nested(true) })
  .map((r) => {
    const base = { ticketType: r.ticketType, subtype: r.subtype, version: r.version, prf: r.prf, flags: r.flags, ...(r.reserved === undefined ? {} : { reserved: r.reserved }), ...(r.tpData === undefined ? {} : { tpData: r.tpData }) };
    return r.tp ? { kind: 'TP' as const, ...base } : { kind: 'TICKET' as const, ...base, ticketData: r.ticketData, ...(r.initiatorData === undefined ? {} : { initiatorData: r.initiatorData }) };
  });
const header: fc.Arbitrary<MikeyHeader> = fc.record({
  version: fc.constant(1),
  dataType: fc.constantFrom(0, 1, 6, 11, 13, 14, 15, 16, 18, 26),
  v: fc.boolean(),
  prf: fc.integer({ min: 0, max: 127 }),
  csbId: fc.integer({ min: 0, max: 0xffffffff }),
  csIdMap: fc.oneof(
    fc.array(fc.record({ policyNo: u8, ssrc: fc.integer({ min: 0, max: 0xffffffff }), roc: fc.integer({ min: 0, max: 0xffffffff }) }), { maxLength: 3 }).map((entries) => ({ type: 'srtp-id' as const, entries })),
    u8.map((nCs) => ({ type: 'empty' as const, nCs })),
  ),
});
const message: fc.Arbitrary<MikeyMessage> = fc
  .tuple(header, fc.array(fc.oneof({ arbitrary: simple, weight: 4 }, { arbitrary: ticketish, weight: 1 }), { maxLength: 8 }), fc.oneof(fc.constant(undefined), v, sign))
  .map(([h, ps, last]) => ({ header: h, payloads: last ? [...ps, last] : ps }));

const keyData: fc.Arbitrary<KeyData> = fc.tuple(fc.integer({ min: 0, max: 6 }), bytes(64), bytes(20), kv).map(([keyType, key, salt, k]) => ([1, 3, 5].includes(keyType) ? { keyType, key, salt, kv: k } : { keyType, key, kv: k }));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('round trips', () => {
  it('messages of any payloads: decode(encode(m)) == m and encode(decode(b)) == b', () => {
    const kinds = new Set<string>();
    check(message, ROUND_TRIPS * 2, (m) => {
      for (const p of m.payloads) kinds.add(p.kind);
      const b = encodeMessage(m);
      const d = decodeMessage(b);
      expect(d).toEqual(m);
      expect(hex(encodeMessage(d))).toBe(hex(b));
    });
    expect(kinds.size).toBeGreaterThanOrEqual(14);
  });
  it('KEMAC key data: decodeKeyDataList(encodeKeyDataList(k)) == k', () => {
    check(fc.array(keyData, { minLength: 1, maxLength: 5 }), ROUND_TRIPS, (k) => {
      expect(decodeKeyDataList(encodeKeyDataList(k))).toEqual(k);
    });
  });
  it('a=key-mgmt: the value and the whole line decode back to the message and its octets', () => {
    check(message, ROUND_TRIPS, (m) => {
      const b = encodeMessage(m);
      for (const text of [encodeKeyMgmtAttribute(m), keyMgmtLine(b), ` ${encodeKeyMgmtAttribute(b)}`]) {
        const k = decodeKeyMgmtAttribute(text);
        expect(hex(k.bytes)).toBe(hex(b));
        expect(k.message).toEqual(m);
      }
    });
  });

  const codec = new KmsTicketCodec({ masterKeys: { 7: new Uint8Array(32).fill(0x4b), 9: new Uint8Array(32).fill(0x11) }, currentKeyId: 7 });
  const T_MAX = 2_000_000_000_000; // 2033: within NTP era 0
  const sealInput = fc.record({
    initiator: fc.stringMatching(/^sip:[a-z0-9.]{1,10}@[a-z0-9.]{1,10}$/).map(uriIdentity),
    responder: fc.stringMatching(/^(sip|tel):[a-z0-9.+]{1,16}$/).map(uriIdentity),
    kms: fc.option(fc.constant(uriIdentity('https://kms.ims.example')), { nil: undefined }),
    policy: fc.constantFrom<ResolutionPolicy>('designated-device', 'any-device-of-user', 'retargeting', 'group'),
    validFromMs: fc.integer({ min: 0, max: T_MAX - 10 }),
    span: fc.integer({ min: 1, max: 10 ** 10 }),
    issuedAtMs: fc.integer({ min: 0, max: T_MAX }),
    keys: fc.record({ mpki: bytes(32, 1), mpkr: fc.option(bytes(32, 1), { nil: undefined }), tgk: bytes(32, 1), tgkSalt: fc.option(bytes(14, 1), { nil: undefined }) }),
    ticketId: fixed(16),
  });
  it('tickets: open(seal(x)) gives back x; in a message and out again; expired after validTo', () => {
    check(sealInput, 300, (s) => {
      const keys = Object.fromEntries(Object.entries(s.keys).filter(([, x]) => x !== undefined)) as { mpki: Uint8Array; tgk: Uint8Array };
      const validToMs = Math.min(s.validFromMs + s.span, T_MAX);
      const t = codec.seal({ ...s, kms: s.kms, validToMs, keys });
      const msg = decodeMessage(encodeMessage({ header: { version: 1, dataType: 16, v: false, prf: 1, csbId: 1, csIdMap: { type: 'empty', nCs: 0 } }, payloads: [t] }));
      const again = msg.payloads[0] as TicketPayload;
      for (const ticket of [t, again]) {
        const o = codec.open(ticket, s.validFromMs);
        expect([hex(o.ticketId), o.keyId, o.validFromMs, o.validToMs, o.issuedAtMs, o.policy]).toEqual([hex(s.ticketId), 7, s.validFromMs, validToMs, s.issuedAtMs, s.policy]);
        expect([hex(o.initiator.data), hex(o.responder.data)]).toEqual([hex(s.initiator.data), hex(s.responder.data)]);
        expect(o.keys).toEqual(keys);
        expect(o.flags).toEqual(t.flags);
      }
      expect(() => codec.open(t, validToMs + 1)).toThrow(MikeyTicketError);
    });
  });
  it('tickets: any single bit flipped in the ticket data is refused with a MikeyError', () => {
    const t = codec.seal({ initiator: uriIdentity('sip:a@x'), responder: uriIdentity('sip:b@x'), policy: 'designated-device', validFromMs: 0, validToMs: 2_000_000_000_000, issuedAtMs: 0, keys: { mpki: new Uint8Array(16).fill(1), tgk: new Uint8Array(16).fill(2) } });
    expect(codec.open(t, 1000).policy).toBe('designated-device');
    check(fc.nat({ max: t.ticketData.length * 8 - 1 }), ARBITRARY / 2, (bit) => {
      const data = Uint8Array.from(t.ticketData);
      data[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => codec.open({ ...t, ticketData: data }, 1000)).toThrow(MikeyError);
    });
  });
});

describe('every decoder on 10,000 hostile inputs', () => {
  const results: ParserFuzzResult[] = [];
  it('the fixtures include the MIKEY-SAKKE I_MESSAGE receiveGmkIMessage decodes', () => {
    const m = decodeMessage(SAKKE_I_MESSAGE());
    expect(m.payloads.map((p) => p.kind)).toContain('SAKKE');
    expect(m.payloads[m.payloads.length - 1]!.kind).toBe('SIGN');
  });

  it.each(mikeyTargets().map((t) => [t.name, t] as const))('%s: 8,000 mutated fixtures, typed errors and round trips', (_n, t) => {
    const r = fuzzTarget(t, MUTATIONS, SEED);
    results.push(r);
    expect(r.crashes, `${r.parser}: replay with fuzzTarget(target, n, ${r.seed}), input #${r.failures[0]?.index}: ${JSON.stringify(r.failures[0])}`).toBe(0);
    expect(r.hangs, JSON.stringify(r.failures[0])).toBe(0);
    expect(r.worstMs).toBeLessThan(PER_INPUT_BOUND_MS);
    expect(r.accepted).toBeGreaterThan(0);
    expect(r.rejected).toBeGreaterThan(0);
  });

  it('2,000 arbitrary inputs per decoder: a value or the typed error', () => {
    const worst: number[] = [];
    const typed = (f: () => unknown, cls: abstract new (...a: never[]) => Error) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(cls);
      }
    };
    // Random octets, and random octets behind a valid-looking HDR so that the payload decoders are reached.
    const hdrish = fc.tuple(bytes(300), fc.integer({ min: 0, max: 30 })).map(([b, next]) => Uint8Array.from([1, 0, next, 0, 0, 0, 0, 0, 0, 0, ...b]));
    worst.push(check(fc.oneof(bytes(600), hdrish), ARBITRARY, (b) => typed(() => {
      const m = decodeMessage(b);
      expect(hex(encodeMessage(m))).toBe(hex(b));
    }, MikeyParseError)));
    worst.push(check(bytes(200), ARBITRARY, (b) => typed(() => decodeKeyDataList(b), MikeyParseError)));
    const codec = new KmsTicketCodec({ masterKeys: { 7: new Uint8Array(32) }, currentKeyId: 7 });
    worst.push(check(fc.tuple(bytes(400), fc.integer({ min: 0, max: 3 })), ARBITRARY, ([data, st]) => typed(() => codec.open({ kind: 'TICKET', ticketType: 2, subtype: st, version: 1, prf: 1, flags: noTicketFlags(), ticketData: Uint8Array.from([st === 1 ? 11 : data[0] ?? 0, 0, 5, 1, 0, 0, 0, 7, ...data]) }, 0), MikeyError)));
    worst.push(check(fc.oneof(bytes(400), hdrish), ARBITRARY, (b) => typed(() => parseTransferInit(b), MikeyError)));
    for (const w of worst) expect(w).toBeLessThan(PER_INPUT_BOUND_MS);
    console.log(`MIKEY worst ms per arbitrary input: ${worst.map((w) => w.toFixed(2)).join(', ')}`);
    console.log(results.map((r) => `${r.parser}: ${r.inputs} mutated inputs, ${r.accepted} accepted, ${r.crashes} crashes, worst ${r.worstMs.toFixed(2)} ms`).join('\n'));
  });
});
