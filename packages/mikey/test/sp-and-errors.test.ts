/**
 * SRTP policy parameters (RFC 3830 sec. 6.10.1, RFC 7714 sec. 14.3 / 15),
 * the Error message (RFC 3830 sec. 5.1.2, 6.12), and the error classes'
 * structured fields.
 */
import { describe, expect, it } from 'vitest';
import {
  buildErrorMessage,
  decodeMessage,
  deriveMpk,
  mikeyPrf,
  MikeyParseError,
  MikeyTimestampError,
  readErrorMessage,
  rfc6043MpkLabel,
  srtpKeyLengths,
  srtpPolicyParams,
  srtpProfileOf,
  type SrtpPolicyProfile,
} from '../src/index.ts';
import { facts, hex, T0, toHex } from './helpers.ts';

describe('SRTP security policy', () => {
  const profiles: SrtpPolicyProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];
  it.each(profiles)('%s: parameters map back to the profile', (p) => {
    expect(srtpProfileOf({ kind: 'SP', policyNo: 0, protType: 0, params: srtpPolicyParams(p) })).toBe(p);
  });
  it('AEAD per RFC 7714 sec. 15 (facts: sp.aead_mapping_rfc7714_15): Encr alg 6, key 16/32, AEAD tag (type 20) 16, SRTP PRF AES-CM', () => {
    const v = (p: SrtpPolicyProfile): Record<number, number> => Object.fromEntries(srtpPolicyParams(p).map((q) => [q.type, q.value[0]!]));
    expect(facts.sp.aead_mapping_rfc7714_15.AEAD_AES_128_GCM).toMatch(/AES-GCM\(6\), session encr key length 16, AEAD tag length \(type 20\) 16/);
    expect(v('AEAD_AES_128_GCM')).toMatchObject({ 0: 6, 1: 16, 20: 16, 5: 0 });
    expect(v('AEAD_AES_256_GCM')).toMatchObject({ 0: 6, 1: 32, 20: 16, 5: 0 });
    expect(srtpKeyLengths('AEAD_AES_256_GCM')).toEqual({ keyLength: 32, saltLength: 12 });
    expect(srtpKeyLengths('AES_CM_128_HMAC_SHA1_80')).toEqual({ keyLength: 16, saltLength: 14 });
  });
  it('defaults of RFC 3830 sec. 6.10.1 apply to missing parameters; unknown combinations give undefined', () => {
    expect(srtpProfileOf({ kind: 'SP', policyNo: 0, protType: 0, params: [] })).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(srtpProfileOf({ kind: 'SP', policyNo: 0, protType: 0, params: [{ type: 0, value: hex('02') }] })).toBeUndefined();
    expect(srtpProfileOf({ kind: 'SP', policyNo: 0, protType: 1, params: [] })).toBeUndefined();
  });
});

describe('Error message', () => {
  it('HDR(6), T, {ERR}: built from codes or from refusals, read back', () => {
    const e = new MikeyTimestampError(400_000, 300_000);
    const { bytes, message } = buildErrorMessage({ csbId: 0x0a0b0c0d, errors: [e, 14], nowMs: T0 });
    expect(decodeMessage(bytes)).toEqual(message);
    expect(toHex(bytes.subarray(0, 10))).toBe('010605000a0b0c0d0001');
    expect(readErrorMessage(bytes)).toEqual({ csbId: 0x0a0b0c0d, errors: [1, 14] });
    expect(() => readErrorMessage(hex('0100000000000001' + '0001'))).toThrow(/not an Error message/);
  });
});

describe('App. A MPK derivation', () => {
  it('uses the 0x220E99A2 / 0x1F4D675B labels', () => {
    const k = hex('01'.repeat(32));
    expect(toHex(deriveMpk(k, 'initiator', hex('aa')))).toBe(toHex(mikeyPrf(k, rfc6043MpkLabel('initiator', hex('aa')), 32, 'sha256')));
    expect(toHex(deriveMpk(k, 'responder', hex('aa'), 16, 'sha1'))).toBe(toHex(mikeyPrf(k, hex('1f4d675bffffffffff0601aa'), 16, 'sha1')));
  });
});

describe('error classes', () => {
  it('MikeyParseError carries offset, expected, payload type, found, and names them in the message', () => {
    const e = new MikeyParseError({ offset: 12, expected: 'RAND len', payloadType: 11, found: '0 octets left' });
    expect([e.offset, e.expected, e.payloadType, e.found, e.name, e.errNo]).toEqual([12, 'RAND len', 11, '0 octets left', 'MikeyParseError', 12]);
    expect(e.message).toBe('MIKEY parse error at offset 12 in payload type 11: expected RAND len, found 0 octets left');
  });
});
