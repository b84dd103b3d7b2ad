/**
 * KmsTicketCodec (ticket type 2, this project's format modelled on RFC 6043
 * App. A), KEMAC encryption (RFC 3830 sec. 4.2.3), Ticket Policy flags
 * (RFC 6043 sec. 6.10) and the replay cache (RFC 3830 sec. 5.4).
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EncrAlg,
  KmsTicketCodec,
  MacAlg,
  MikeyAuthError,
  MikeyEncodeError,
  MikeyReplayError,
  MikeyTicketError,
  MikeyTimestampError,
  ReplayCache,
  checkTimestamp,
  decodeMessage,
  defaultTicketFlags,
  deriveRfc3830MessageKeys,
  encodeMessage,
  kemacIv,
  noTicketFlags,
  ntpFromMs,
  msFromNtp,
  openKemac,
  readTicketPolicyData,
  sealKemac,
  signMessage,
  ticketFlagViolations,
  uriIdentity,
  verifyMessageMac,
  type KeyData,
  type MikeyMessage,
  type TicketPayload,
  type TicketSealInput,
} from '../src/index.ts';
import { T0, hex, toHex } from './helpers.ts';

const alice = uriIdentity('sip:alice@ims.example');
const bob = uriIdentity('sip:bob@ims.example');
const mk7 = new Uint8Array(32).fill(7);
const mk8 = new Uint8Array(32).fill(8);

function input(over: Partial<TicketSealInput> = {}): TicketSealInput {
  return {
    initiator: alice,
    responder: bob,
    policy: 'any-device-of-user',
    validFromMs: T0,
    validToMs: T0 + 3_600_000,
    issuedAtMs: T0,
    keys: { mpki: hex('11'.repeat(32)), tgk: hex('22'.repeat(32)) },
    kms: uriIdentity('https://kms.example'),
    ...over,
  };
}

function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay).includes(Buffer.from(needle));
}

describe('KmsTicketCodec', () => {
  const codec = new KmsTicketCodec({ masterKeys: { 7: mk7 }, currentKeyId: 7 });
  it('seals and opens: type 2 / subtype 1 / version 1, identities, validity, policy, keys', () => {
    const t = codec.seal(input({ keys: { mpki: hex('11'.repeat(32)), mpkr: hex('33'.repeat(32)), tgk: hex('22'.repeat(16)), tgkSalt: hex('44'.repeat(14)) } }));
    expect([t.ticketType, t.subtype, t.version]).toEqual([2, 1, 1]);
    expect(ticketFlagViolations(t.flags)).toEqual([]);
    const o = codec.open(t, T0 + 1000);
    expect(o.initiator).toEqual(alice);
    expect(o.responder).toEqual(bob);
    expect(o.policy).toBe('any-device-of-user');
    expect([o.validFromMs, o.validToMs, o.issuedAtMs, o.keyId]).toEqual([T0, T0 + 3_600_000, T0, 7]);
    expect(toHex(o.keys.mpki)).toBe('11'.repeat(32));
    expect(toHex(o.keys.mpkr!)).toBe('33'.repeat(32));
    expect(toHex(o.keys.tgk)).toBe('22'.repeat(16));
    expect(toHex(o.keys.tgkSalt!)).toBe('44'.repeat(14));
    // Keys are not in the clear; the clear Ticket Policy shows identities, validity and policy.
    expect(includes(t.ticketData, hex('22'.repeat(16)))).toBe(false);
    expect(includes(t.ticketData, hex('11'.repeat(32)))).toBe(false);
    const d = readTicketPolicyData(t.tpData);
    expect(d.initiator).toEqual(alice);
    expect(d.responders).toEqual([bob]);
    expect([d.validFromMs, d.validToMs, d.policy]).toEqual([T0, T0 + 3_600_000, 'any-device-of-user']);
  });
  it('two tickets with the same content differ (random ticket id / RAND)', () => {
    expect(toHex(codec.seal(input()).ticketData)).not.toBe(toHex(codec.seal(input()).ticketData));
  });
  it('expired / not yet valid → MikeyTicketError', () => {
    const t = codec.seal(input());
    expect(() => codec.open(t, T0 + 3_600_001)).toThrow(expect.objectContaining({ reason: 'expired', name: 'MikeyTicketError' }));
    expect(() => codec.open(t, T0 - 1)).toThrow(expect.objectContaining({ reason: 'not-yet-valid' }));
    expect(codec.open(t, T0 - 500, 1000).policy).toBe('any-device-of-user');
  });
  it('every modified octet of Ticket Data, and any change of the clear Ticket Policy, is refused; MAC first', () => {
    const t = codec.seal(input());
    let auth = 0;
    for (let i = 0; i < t.ticketData.length; i++) {
      const d = Uint8Array.from(t.ticketData);
      d[i]! ^= 0x01;
      let err: unknown;
      try {
        codec.open({ ...t, ticketData: d }, T0);
      } catch (e) {
        err = e;
      }
      expect(err, `octet ${i}`).toBeDefined();
      if (err instanceof MikeyAuthError) auth++;
      // Only the THDR key id / length octets and chain structure can fail before the MAC check.
      if (i >= 8 && !(err instanceof MikeyAuthError)) expect((err as Error).name, `octet ${i}`).toMatch(/Parse|Truncated|Unsupported|PayloadOrder|Size|Auth/);
    }
    expect(auth).toBeGreaterThan(t.ticketData.length * 0.8);
    const changed: TicketPayload = { ...t, tpData: readTicketPolicyData(t.tpData) && t.tpData!.map((p) => (p.kind === 'GENERAL_EXT' ? { ...p, data: Uint8Array.from(p.data, (b, j) => (j === p.data.length - 1 ? 3 : b)) } : p)) };
    expect(() => codec.open(changed, T0)).toThrow(expect.objectContaining({ reason: 'ticket-mac-mismatch' }));
    expect(() => codec.open({ ...t, flags: { ...t.flags, J: true } }, T0)).toThrow(MikeyAuthError);
    expect(() => codec.open({ ...t, prf: 0 }, T0)).toThrow(MikeyAuthError);
  });
  it('unknown ticket type and unknown master key id', () => {
    const t = codec.seal(input());
    expect(() => codec.open({ ...t, ticketType: 1 }, T0)).toThrow(expect.objectContaining({ reason: 'unsupported-ticket-type', errNo: 14 }));
    const other = new KmsTicketCodec({ masterKeys: { 8: mk8 }, currentKeyId: 8 });
    expect(() => other.open(t, T0)).toThrow(expect.objectContaining({ reason: 'unknown-key-id' }));
    const sameIdOtherKey = new KmsTicketCodec({ masterKeys: { 7: mk8 }, currentKeyId: 7 });
    expect(() => sameIdOtherKey.open(t, T0)).toThrow(expect.objectContaining({ reason: 'ticket-mac-mismatch' }));
  });
  it('master key rotation: tickets sealed under an older key id still open', () => {
    const t = codec.seal(input());
    const rotated = new KmsTicketCodec({ masterKeys: new Map([[7, mk7], [8, mk8]]), currentKeyId: 8 });
    expect(rotated.open(t, T0).keyId).toBe(7);
    expect(rotated.open(rotated.seal(input()), T0).keyId).toBe(8);
  });
  it('refuses bad configuration and empty validity', () => {
    expect(() => new KmsTicketCodec({ masterKeys: { 1: new Uint8Array(16) }, currentKeyId: 1 })).toThrow(MikeyEncodeError);
    expect(() => new KmsTicketCodec({ masterKeys: { 1: mk7 }, currentKeyId: 2 })).toThrow(MikeyEncodeError);
    expect(() => codec.seal(input({ validToMs: T0 }))).toThrow(MikeyEncodeError);
    expect(() => codec.seal(input({ flags: { G: true, F: false } }))).toThrow(/G => F/);
  });
});

describe('Ticket Policy flag dependencies (RFC 6043 sec. 6.10)', () => {
  it('each rule is reported', () => {
    const f = noTicketFlags();
    expect(ticketFlagViolations(f)).toEqual(['NOT D => L', 'NOT G => H']);
    expect(ticketFlagViolations({ ...f, D: true, H: true, G: true })).toEqual(['G => F']);
    expect(ticketFlagViolations({ ...f, D: true, H: true, I: true })).toEqual(['I => E']);
    expect(ticketFlagViolations({ ...f, L: true, H: true, K: true })).toEqual(['K => D']);
    expect(ticketFlagViolations({ ...f, D: true, H: true, M: true })).toEqual(['M => F']);
    expect(ticketFlagViolations(defaultTicketFlags())).toEqual([]);
  });
});

describe('KEMAC encryption (RFC 3830 4.2.3) and MAC (4.2.4)', () => {
  it('IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000', () => {
    const s = hex('000102030405060708090a0b0c0d');
    const iv = kemacIv(s, 0xcd177e50, 0xc8e350ea00000000n);
    const want = Buffer.alloc(16);
    const x = Buffer.from('0000cd177e50c8e350ea00000000', 'hex');
    for (let i = 0; i < 14; i++) want[i] = s[i]! ^ x[i]!;
    expect(toHex(iv)).toBe(want.toString('hex'));
    expect(toHex(iv.subarray(14))).toBe('0000');
  });
  it('AES-CM-128 / AES-CM-256 / NULL seal and open; the ciphertext is AES-CTR with that IV', () => {
    const keys: KeyData[] = [{ keyType: 0, key: hex('aa'.repeat(16)), kv: { kvType: 1, spi: hex('01') } }];
    for (const encrAlg of [EncrAlg.AES_CM_128, EncrAlg.AES_CM_256, EncrAlg.NULL]) {
      const k = deriveRfc3830MessageKeys(hex('99'.repeat(32)), 5, hex('12'.repeat(16)), { encrAlg, macAlg: MacAlg.HMAC_SHA_1_160, hash: 'sha1' });
      const p = sealKemac(keys, k, { encrAlg, macAlg: MacAlg.HMAC_SHA_1_160, csbId: 5, t: 77n });
      expect(openKemac(p, k, { csbId: 5, t: 77n })).toEqual(keys);
      if (encrAlg !== EncrAlg.NULL) {
        const c = createCipheriv(encrAlg === 1 ? 'aes-128-ctr' : 'aes-256-ctr', k.encrKey, kemacIv(k.saltKey, 5, 77n));
        expect(toHex(c.update(p.encrData))).toBe('0001' + '0010' + 'aa'.repeat(16) + '0101');
        // A different T gives a different keystream.
        expect(() => openKemac(p, k, { csbId: 5, t: 78n })).toThrow();
      }
    }
  });
  it('an RFC 3830 PSK I_MESSAGE with the MAC in KEMAC verifies, and fails after any change', () => {
    const psk = hex('5a'.repeat(16));
    const rand = hex('4a28da979ee21a7651a0d7f19136d98c');
    const k = deriveRfc3830MessageKeys(psk, 0xcd177e50, rand, { encrAlg: 1, macAlg: 1, hash: 'sha1' });
    const t = ntpFromMs(T0);
    const m: MikeyMessage = {
      header: { version: 1, dataType: 0, v: true, prf: 0, csbId: 0xcd177e50, csIdMap: { type: 'srtp-id', entries: [{ policyNo: 0, ssrc: 0x1234, roc: 0 }] } },
      payloads: [{ kind: 'T', tsType: 0, value: t }, { kind: 'RAND', rand }, { kind: 'ID', idType: 0, data: new TextEncoder().encode('alice@example') }, sealKemac([{ keyType: 0, key: hex('77'.repeat(16)), kv: { kvType: 0 } }], k, { encrAlg: 1, macAlg: 1, csbId: 0xcd177e50, t })],
    };
    const b = signMessage(m, k.authKey, { identities: [] });
    const d = decodeMessage(b);
    verifyMessageMac(b, d, k.authKey, { identities: [] });
    const x = Uint8Array.from(b);
    x[25]! ^= 1;
    expect(() => verifyMessageMac(x, decodeMessage(x), k.authKey, { identities: [] })).toThrow(MikeyAuthError);
    expect(toHex(encodeMessage(d))).toBe(toHex(b));
  });
});

describe('freshness (RFC 3830 sec. 5.4)', () => {
  it('NTP timestamps round-trip with ms precision', () => {
    for (const ms of [0, T0, T0 + 999, Date.UTC(2036, 1, 7)]) expect(msFromNtp(ntpFromMs(ms))).toBe(ms);
  });
  it('timestamp window', () => {
    const t = { kind: 'T' as const, tsType: 0, value: ntpFromMs(T0) };
    expect(checkTimestamp(t, T0 + 299_000)).toBe(T0);
    expect(() => checkTimestamp(t, T0 + 301_000)).toThrow(MikeyTimestampError);
    expect(() => checkTimestamp(t, T0 - 301_000)).toThrow(expect.objectContaining({ errNo: 1 }));
    expect(() => checkTimestamp({ kind: 'T', tsType: 2, value: 5n }, T0)).toThrow(/cannot be checked/);
  });
  it('replay cache: rejects a repeat within the window, forgets after it, bounded in size', () => {
    const c = new ReplayCache({ windowMs: 1000, capacity: 3 });
    c.check('a', T0, T0);
    expect(() => c.check('a', T0, T0 + 500)).toThrow(expect.objectContaining({ reason: 'replayed' }));
    c.check('b', T0, T0);
    c.check('c', T0, T0);
    expect(() => c.check('d', T0, T0 + 10)).toThrow(expect.objectContaining({ reason: 'cache-full' }));
    // Once the window has passed, old entries are purged to make room.
    c.check('d', T0 + 2000, T0 + 2000);
    expect(c.size).toBe(1);
    c.check('a', T0 + 2000, T0 + 2001);
    expect(() => c.check('a', T0 + 2000, T0 + 2002)).toThrow(MikeyReplayError);
  });
});

describe('ticket errors carry the ERR code to answer with', () => {
  it('errNo', () => {
    expect(new MikeyTicketError('unsupported-ticket-type', 'x').errNo).toBe(14);
    expect(new MikeyTicketError('policy-mismatch', 'x').errNo).toBe(15);
    expect(new MikeyAuthError('mac-mismatch', 'x').errNo).toBe(3);
  });
});
