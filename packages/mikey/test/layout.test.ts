/**
 * Octet layouts of HDR, every payload and the Key Data sub-payload, as the
 * facts file describes them (RFC 3830 sec. 6, RFC 6043 sec. 6), checked on
 * hand-assembled octets in both directions.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeKeyDataList,
  decodeMessage,
  decodeSrtpSessionData,
  encodeKeyDataList,
  encodeMessage,
  encodeSrtpSessionData,
  noTicketFlags,
  packPolicyBits,
  unpackPolicyBits,
  type MikeyHeader,
  type MikeyMessage,
  type Payload,
} from '../src/index.ts';
import { facts, hex, toHex } from './helpers.ts';

const hdr = (over: Partial<MikeyHeader> = {}): MikeyHeader => ({ version: 1, dataType: 0, v: false, prf: 0, csbId: 0x01020304, csIdMap: { type: 'empty', nCs: 0 }, ...over });
/** Empty-map HDR octets with this next payload. */
const hdrBytes = (next: number): string => `0100${next.toString(16).padStart(2, '0')}00010203040001`;

/** Encodes `HDR(empty map) + payload` and checks the payload octets; decodes back. */
function check(p: Payload, payloadHex: string): void {
  const m: MikeyMessage = { header: hdr(), payloads: [p] };
  const code = encodeMessage(m)[2]!;
  const bytes = encodeMessage(m);
  expect(toHex(bytes.subarray(10))).toBe(payloadHex.replace(/\s+/g, ''));
  expect(toHex(bytes.subarray(0, 10))).toBe(hdrBytes(code));
  expect(decodeMessage(bytes)).toEqual(m);
}

describe('HDR layout (RFC 3830 6.1)', () => {
  it('fixed 10 octets at the offsets of the facts file', () => {
    const layout = facts.common_header_HDR.layout as { offset: number; field: string }[];
    expect(facts.common_header_HDR.fixed_length_octets).toBe(10);
    const b = encodeMessage({ header: hdr({ dataType: 14, v: true, prf: 1, csbId: 0xcafebabe, csIdMap: { type: 'empty', nCs: 3 } }), payloads: [{ kind: 'T', tsType: 2, value: 7n }] });
    const at = (f: string): number => layout.find((x) => x.field === f)!.offset;
    expect(b[at('version')]).toBe(1);
    expect(b[at('data type')]).toBe(14);
    expect(b[at('next payload')]).toBe(5);
    expect(b[at('V')]! & 0x80).toBe(0x80);
    expect(b[at('PRF func')]! & 0x7f).toBe(1);
    expect(Buffer.from(b).readUInt32BE(at('CSB ID'))).toBe(0xcafebabe);
    expect(b[at('#CS')]).toBe(3);
    expect(b[at('CS ID map type')]).toBe(1);
    expect(at('CS ID map info')).toBe(10);
  });
  it('SRTP-ID map: #CS x (Policy_no 8 | SSRC 32 | ROC 32)', () => {
    const m: MikeyMessage = { header: hdr({ csIdMap: { type: 'srtp-id', entries: [{ policyNo: 1, ssrc: 0xdeadbeef, roc: 2 }, { policyNo: 3, ssrc: 4, roc: 0xffffffff }] } }), payloads: [] };
    const b = encodeMessage(m);
    expect(toHex(b)).toBe('0100000001020304' + '0200' + '01deadbeef00000002' + '0300000004ffffffff');
    expect(decodeMessage(b)).toEqual(m);
  });
  it('GENERIC-ID map (RFC 6043 6.1.1): CS ID | Prot type | S #P | Ps | Session Data Length | Session Data | SPI Length | SPI', () => {
    const sd = encodeSrtpSessionData({ ssrc: 0x11223344, roc: 5, seq: 0x0102 });
    expect(toHex(sd)).toBe('11223344000000050102');
    expect(decodeSrtpSessionData(sd)).toEqual({ ssrc: 0x11223344, roc: 5, seq: 0x0102 });
    const m: MikeyMessage = {
      header: hdr({ csIdMap: { type: 'generic-id', entries: [{ csId: 1, protType: 0, s: true, policies: [0, 7], sessionData: sd, spi: hex('aabb') }, { csId: 2, protType: 0, s: false, policies: [], sessionData: hex('00000009'), spi: new Uint8Array(0) }] } }),
      payloads: [],
    };
    const b = encodeMessage(m);
    expect(toHex(b.subarray(8))).toBe('0202' + '01' + '00' + '82' + '0007' + '000a' + toHex(sd) + '02aabb' + '02' + '00' + '00' + '0004' + '00000009' + '00');
    expect(decodeMessage(b)).toEqual(m);
  });
  it('Empty map (RFC 4563): no map info', () => {
    const m: MikeyMessage = { header: hdr({ csIdMap: { type: 'empty', nCs: 0 } }), payloads: [] };
    expect(encodeMessage(m).length).toBe(10);
  });
});

describe('payload layouts', () => {
  it('T: Next payload | TS type | TS value (64 or 32 bits)', () => {
    check({ kind: 'T', tsType: 0, value: 0xc8e350ea00000000n }, '00 00 c8e350ea00000000');
    check({ kind: 'T', tsType: 2, value: 0x01020304n }, '00 02 01020304');
    check({ kind: 'T', tsType: 3, value: 0xc8e350ean }, '00 03 c8e350ea');
  });
  it('RAND: Next payload | RAND len | RAND', () => {
    check({ kind: 'RAND', rand: hex('00112233445566778899aabbccddeeff') }, '00 10 00112233445566778899aabbccddeeff');
  });
  it('ID / CERT: Next payload | Type | len(16) | data', () => {
    check({ kind: 'ID', idType: 1, data: new TextEncoder().encode('sip:a@b') }, '00 01 0007 7369703a614062');
    check({ kind: 'CERT', certType: 2, data: hex('3082') }, '00 02 0002 3082');
  });
  it('IDR (RFC 6043 6.6): Next payload | ID Role | ID Type | ID len(16) | ID Data', () => {
    check({ kind: 'IDR', role: 3, idType: 2, data: hex('0102') }, '00 03 02 0002 0102');
  });
  it('TR (RFC 6043 6.4): Next payload | TS Role | TS Type | TS Value', () => {
    check({ kind: 'TR', role: 3, tsType: 0, value: 1n }, '00 03 00 0000000000000001');
  });
  it('RANDR (RFC 6043 6.8): Next payload | RAND Role | RAND length | RAND', () => {
    check({ kind: 'RANDR', role: 2, rand: hex('abcd') }, '00 02 02 abcd');
  });
  it('KEMAC: Next payload | Encr alg | Encr data len(16) | Encr data | MAC alg | MAC', () => {
    check({ kind: 'KEMAC', encrAlg: 1, encrData: hex('0102'), macAlg: 1, mac: new Uint8Array(20).fill(9) }, '00 01 0002 0102 01' + '09'.repeat(20));
    check({ kind: 'KEMAC', encrAlg: 0, encrData: hex(''), macAlg: 0, mac: new Uint8Array(0) }, '00 00 0000 00');
  });
  it('Key data sub-payload: Next payload | Type(4) KV(4) | Key data len | Key | [Salt len | Salt] | [KV data]', () => {
    const keys = [
      { keyType: 0, key: hex('0a0b'), kv: { kvType: 1 as const, spi: hex('77') } },
      { keyType: 3, key: hex('0c'), salt: hex('0d0e'), kv: { kvType: 2 as const, validFrom: hex('01'), validTo: hex('0203') } },
      { keyType: 6, key: hex('ff'), kv: { kvType: 0 as const } },
    ];
    const b = encodeKeyDataList(keys);
    expect(toHex(b)).toBe('14' + '01' + '0002' + '0a0b' + '0177' + '14' + '32' + '0001' + '0c' + '0002' + '0d0e' + '0101' + '020203' + '00' + '60' + '0001' + 'ff');
    expect(decodeKeyDataList(b)).toEqual(keys);
  });
  it('SP: Next payload | Policy no | Prot type | Policy param length(16) | (Type | Length | Value)*', () => {
    check({ kind: 'SP', policyNo: 4, protType: 0, params: [{ type: 0, value: hex('06') }, { type: 20, value: hex('10') }] }, '00 04 00 0006 000106 140110');
  });
  it('V: Next payload | Auth alg | Ver data', () => {
    check({ kind: 'V', macAlg: 2, mac: new Uint8Array(32).fill(1) }, '00 02' + '01'.repeat(32));
  });
  it('SIGN: S type(4) | Signature len(12) | Signature, no next payload field', () => {
    const m: MikeyMessage = { header: hdr(), payloads: [{ kind: 'T', tsType: 2, value: 1n }, { kind: 'SIGN', sType: 2, signature: hex('a1a2a3') }] };
    const b = encodeMessage(m);
    expect(toHex(b.subarray(10))).toBe('04' + '02' + '00000001' + '2003a1a2a3');
    expect(decodeMessage(b)).toEqual(m);
  });
  it('ERR: Next payload | Error no | Reserved(16)', () => {
    check({ kind: 'ERR', errorNo: 14 }, '00 0e 0000');
    check({ kind: 'ERR', errorNo: 3, reserved: 0x1234 }, '00 03 1234');
  });
  it('GENERAL_EXT: Next payload | Type | Length(16) | Data', () => {
    check({ kind: 'GENERAL_EXT', extType: 3, data: hex('0102') }, '00 03 0002 0102');
  });
  it('PKE: Next payload | C(2) | Data len(14) | Data', () => {
    check({ kind: 'PKE', cache: 2, data: hex('beef') }, '00 8002 beef');
  });
  it('CHASH: Next payload | Hash func | hash', () => {
    check({ kind: 'CHASH', hashFunc: 1, hash: new Uint8Array(16).fill(0xee) }, '00 01' + 'ee'.repeat(16));
  });
  it('DH: Next payload | DH-Group | DH-value | Reserv(4) KV(4) | KV data', () => {
    check({ kind: 'DH', group: 1, value: new Uint8Array(96).fill(2), kv: { kvType: 1, spi: hex('09') } }, '00 01' + '02'.repeat(96) + '01 0109');
  });
  it('TP / TICKET (RFC 6043 6.10): Ticket Type(16) | Subtype | Version | PRF(7) D..O | Res(5) | TP Data length | TP Data [| Ticket Data | Initiator Data]', () => {
    const flags = { ...noTicketFlags(), D: true, O: true };
    // PRF 1, D=1: 0000001 1 ; E..L = 0 ; M N O Res = 001 00000
    expect(packPolicyBits(1, flags)).toBe(0x030020);
    expect(unpackPolicyBits(0x030020)).toEqual({ prf: 1, flags, reserved: 0 });
    const tpData: Payload[] = [{ kind: 'IDR', role: 1, idType: 0, data: hex('61') }];
    check({ kind: 'TP', ticketType: 2, subtype: 1, version: 1, prf: 1, flags, tpData }, '00 0002 01 01 030020 0007 0e 00 01 00 0001 61');
    check({ kind: 'TICKET', ticketType: 1, subtype: 1, version: 1, prf: 0, flags: noTicketFlags(), tpData: [], ticketData: hex('c0ffee'), initiatorData: [{ kind: 'V', macAlg: 0, mac: new Uint8Array(0) }, { kind: 'V', macAlg: 0, mac: new Uint8Array(0) }] }, '00 0001 01 01 000000 0001 00 0003 c0ffee 0005 09 09 00 00 00');
    // Zero-length TP Data and Initiator Data.
    check({ kind: 'TICKET', ticketType: 0xf000, subtype: 0, version: 0, prf: 0x7f, flags: noTicketFlags(), ticketData: hex('') }, '00 f000 00 00 fe0000 0000 0000 0000');
  });
  it('every flag sits at its bit (D is the LSB of the PRF octet, O is bit 5 of the third octet)', () => {
    const letters = Object.keys(noTicketFlags()) as (keyof ReturnType<typeof noTicketFlags>)[];
    letters.forEach((f, i) => {
      const bits = packPolicyBits(0, { ...noTicketFlags(), [f]: true });
      expect(bits, f).toBe(1 << (16 - i));
    });
  });
});
