/** SDES a=crypto (RFC 4568): every example of sdes_rfc4568_facts.json, helpers, and clear errors for bad lines. */
import { describe, expect, it } from 'vitest';
import {
  contextOptionsFromCrypto,
  formatCryptoAttribute,
  generateKeySalt,
  KeyLengthError,
  mkiBytes,
  parseCryptoAttribute,
  SdesParseError,
  sessionParamsToOptions,
  splitKeySalt,
  SRTP_PROFILES,
  SrtpContext,
  type SrtpProfileName,
} from '../src/index.ts';
import { loadVectors, rtpPacket } from './helpers.ts';

interface ParsedKey {
  key_salt_b64: string;
  decoded_len: number;
  master_key_hex: string;
  master_salt_hex: string;
  lifetime: string | null;
  lifetime_packets: number | null;
  mki_value: number;
  mki_length_bytes: number;
}
interface Example {
  rfc_section: string;
  line: string;
  kind: string;
  parsed_keys: ParsedKey[];
}

const facts = loadVectors<{ examples: Example[]; crypto_suites: Record<string, { key_salt_octets: number; master_key_bits: number }> }>('sdes_rfc4568_facts.json');

describe('RFC 4568 examples', () => {
  for (const ex of facts.examples) {
    it(`sec. ${ex.rfc_section}: ${ex.line.slice(0, 60)}...`, () => {
      const keyParamOnly = ex.kind === 'key-param only';
      // Key-param-only examples are wrapped in a minimal attribute to go through the same parser.
      const value = keyParamOnly ? `1 AES_CM_128_HMAC_SHA1_80 ${ex.line}` : ex.line.slice('a=crypto:'.length);
      const a = parseCryptoAttribute(value);
      expect(a.keyParams).toHaveLength(ex.parsed_keys.length);
      ex.parsed_keys.forEach((pk, i) => {
        const kp = a.keyParams[i]!;
        expect(kp.method).toBe('inline');
        expect(kp.keySalt.length).toBe(pk.decoded_len);
        expect(kp.keySalt.toString('base64')).toBe(pk.key_salt_b64);
        const keyBytes = pk.master_key_hex.length / 2;
        expect(kp.keySalt.subarray(0, keyBytes).toString('hex')).toBe(pk.master_key_hex);
        expect(kp.keySalt.subarray(keyBytes).toString('hex')).toBe(pk.master_salt_hex);
        expect(kp.lifetime).toBe(pk.lifetime_packets ?? undefined);
        expect(kp.mki).toEqual({ value: pk.mki_value, length: pk.mki_length_bytes });
      });
      // Format is the inverse: the exact text comes back.
      expect(formatCryptoAttribute(a)).toBe(value);
      if (!keyParamOnly) expect(parseCryptoAttribute(ex.line)).toEqual(a); // "a=crypto:" prefix tolerated
      // Implemented suites: splitKeySalt gives the listed key and salt.
      if (a.suite in SRTP_PROFILES) {
        const { masterKey, masterSalt } = splitKeySalt(a.suite as SrtpProfileName, a.keyParams[0]!.keySalt);
        expect(masterKey.toString('hex')).toBe(ex.parsed_keys[0]!.master_key_hex);
        expect(masterSalt.toString('hex')).toBe(ex.parsed_keys[0]!.master_salt_hex);
      }
    });
  }
  it('parses session parameters (sec. 7.1.5 FEC_ORDER)', () => {
    const a = parseCryptoAttribute(facts.examples.find((e) => e.line.includes('FEC_ORDER'))!.line);
    expect(a.sessionParams).toEqual(['FEC_ORDER=FEC_SRTP']);
    expect(sessionParamsToOptions(a.sessionParams)).toEqual({});
  });
});

describe('key||salt helpers', () => {
  it('splitKeySalt and generateKeySalt agree with the suite table for every profile (RFC 4568 sec. 6.2, RFC 6188, RFC 7714 sec. 14.1)', () => {
    for (const [name, p] of Object.entries(SRTP_PROFILES) as Array<[SrtpProfileName, (typeof SRTP_PROFILES)[SrtpProfileName]]>) {
      expect(p.keyLength + p.saltLength).toBe(facts.crypto_suites[name]!.key_salt_octets);
      expect(p.keyLength * 8).toBe(facts.crypto_suites[name]!.master_key_bits);
      const ks = generateKeySalt(name);
      expect(ks.length).toBe(p.keyLength + p.saltLength);
      expect(generateKeySalt(name).equals(ks)).toBe(false);
      const { masterKey, masterSalt } = splitKeySalt(name, ks);
      expect(Buffer.concat([masterKey, masterSalt]).equals(ks)).toBe(true);
    }
  });
  it('splitKeySalt names the expected lengths', () => {
    expect(() => splitKeySalt('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(29))).toThrow(KeyLengthError);
    expect(() => splitKeySalt('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(29))).toThrow('AES_CM_128_HMAC_SHA1_80 key||salt must be 30 octets (16-octet master key + 14-octet master salt), got 29');
    expect(() => splitKeySalt('AEAD_AES_256_GCM', Buffer.alloc(46))).toThrow(/44 octets \(32-octet master key \+ 12-octet master salt\)/);
  });
  it('mkiBytes is big-endian in the given length', () => {
    expect(mkiBytes({ value: 1066, length: 4 }).toString('hex')).toBe('0000042a');
    expect(mkiBytes({ value: 1, length: 1 }).toString('hex')).toBe('01');
  });
  it('contextOptionsFromCrypto builds a working context from an offer', () => {
    const ks = generateKeySalt('AES_256_CM_HMAC_SHA1_32');
    const line = formatCryptoAttribute({ tag: 3, suite: 'AES_256_CM_HMAC_SHA1_32', keyParams: [{ method: 'inline', keySalt: ks, lifetime: 2 ** 31, mki: { value: 2, length: 2 } }], sessionParams: ['KDR=4', 'WSH=256'] });
    expect(line).toMatch(/^3 AES_256_CM_HMAC_SHA1_32 inline:[A-Za-z0-9+/=]+\|2\^31\|2:2 KDR=4 WSH=256$/);
    const o = contextOptionsFromCrypto(parseCryptoAttribute(line));
    expect(o).toMatchObject({ profile: 'AES_256_CM_HMAC_SHA1_32', kdr: 16, replayWindow: 256, keyLifetime: 2 ** 31 });
    expect(Buffer.from(o.mki ?? []).toString('hex')).toBe('0002');
    const tx = new SrtpContext(o);
    const rx = new SrtpContext(o);
    const rtp = rtpPacket({ seq: 9 });
    const r = rx.unprotectRtp(tx.protectRtp(rtp));
    expect(r.ok && r.packet.equals(rtp)).toBe(true);
  });
  it('session parameters: UNENCRYPTED_*, ignorable "-" extensions, refusals', () => {
    expect(sessionParamsToOptions(['UNENCRYPTED_SRTP', 'UNENCRYPTED_SRTCP', '-X_FOO'])).toEqual({ unencryptedSrtp: true, unencryptedSrtcp: true });
    expect(() => sessionParamsToOptions(['UNAUTHENTICATED_SRTP'])).toThrow(/not supported/);
    expect(() => sessionParamsToOptions(['KDR=25'])).toThrow(/0\.\.24/);
    expect(() => sessionParamsToOptions(['WSH=10'])).toThrow(/>= 64/);
    expect(() => sessionParamsToOptions(['FOO'])).toThrow(/unknown SRTP session parameter "FOO"/);
  });
});

describe('bad a=crypto lines give clear errors', () => {
  const key30 = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';
  const cases: Array<[string, RegExp]> = [
    ['', /0 field\(s\); expected "<tag> <crypto-suite> inline:/],
    ['1 AES_CM_128_HMAC_SHA1_80', /2 field\(s\)/],
    [`x AES_CM_128_HMAC_SHA1_80 inline:${key30}`, /tag "x" must be 1 to 9 decimal digits/],
    [`1234567890 AES_CM_128_HMAC_SHA1_80 inline:${key30}`, /tag "1234567890"/],
    [`1 AES-CM inline:${key30}`, /crypto-suite "AES-CM" must consist of letters, digits and "_"/],
    [`1 AES_CM_128_HMAC_SHA1_80 ${key30}`, /expected "<key-method>:<key-info>"/],
    [`1 AES_CM_128_HMAC_SHA1_80 uri:http://x`, /key method "uri" is not supported; SRTP defines only "inline"/],
    ['1 AES_CM_128_HMAC_SHA1_80 inline:not*base64', /is not base64/],
    // A suite of unknown key length: one base64 character decodes to nothing (found by the SDP property test).
    ['3 X_SUITE inline:B', /key\|\|salt "B" decodes to no octets/],
    ['1 AES_CM_128_HMAC_SHA1_80 inline:QUJD', /needs 30 octets of key\|\|salt, the base64 decodes to 3/],
    [`1 AEAD_AES_128_GCM inline:${key30}`, /AEAD_AES_128_GCM needs 28 octets/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|2^020`, /lifetime "2\^020" must be a decimal number or "2\^<n>" without leading zeros/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|2^49`, /exceeds the SRTP maximum of 2\^48/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|1:129`, /MKI length 129 exceeds 128 octets/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|1:`, /MKI "1:" must be "<value>:<length>"/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|256:1`, /MKI value 256 does not fit in 1 octet/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|1:4|2^20`, /MKI "1:4" must come after the lifetime/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|2^20|2^20`, /has no ":"; expected "<mki-value>:<mki-length>"/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|2^20|1:4|x`, /at most "\|lifetime\|mki:length"/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|1:4;inline:${key30}`, /needs an MKI of the same length on every key/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${key30}|1:4;inline:${key30}|2:2`, /needs an MKI of the same length on every key/],
  ];
  for (const [value, message] of cases) {
    it(JSON.stringify(value), () => {
      expect(() => parseCryptoAttribute(value)).toThrow(SdesParseError);
      expect(() => parseCryptoAttribute(value)).toThrow(message);
    });
  }
  it('unknown suites parse without a length check (srtp-crypto-suite-ext, RFC 4568 sec. 9.2)', () => {
    expect(parseCryptoAttribute('7 FUTURE_SUITE inline:QUJD').keyParams[0]!.keySalt.toString()).toBe('ABC');
  });
  it('contextOptionsFromCrypto refuses an unimplemented suite by name', () => {
    const a = parseCryptoAttribute('2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4');
    expect(() => contextOptionsFromCrypto(a)).toThrow(/unknown SRTP profile "F8_128_HMAC_SHA1_80"; expected one of/);
  });
});
