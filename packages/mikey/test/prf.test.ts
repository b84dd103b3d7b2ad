/**
 * MIKEY PRF and key derivation (RFC 3830 sec. 4.1.2-4.1.4, RFC 6043 sec. 5.1,
 * App. A). The only example is the self-computed one of the facts file
 * (`mikey_prf_self_computed`, marked there as NOT an official vector).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  KdfConst,
  deriveForkedKeys,
  deriveRfc3830MessageKeys,
  deriveSrtpFromTgk,
  deriveSrtpFromTicketTgk,
  deriveTicketMessageKeys,
  mikeyPrf,
  prfHash,
  rfc3830MessageLabel,
  rfc3830TgkLabel,
  rfc6043ForkLabel,
  rfc6043MessageLabelTail,
  rfc6043MpkLabel,
  rfc6043TgkLabel,
  rfc6043TpkLabelTail,
  rfc6043VrLabel,
  MikeyProtocolError,
} from '../src/index.ts';
import { facts, hex, toHex } from './helpers.ts';

const ex = facts.mikey_prf_self_computed;

describe('MIKEY PRF (RFC 3830 4.1.2) against the self-computed example of the facts file', () => {
  it('TGK case: TEK (0x2AD01C64) and salt (0x39A2C14B) for CS ID 1 (RFC 3830 4.1.3)', () => {
    const c = ex.tgk_case;
    const csbId = parseInt(c.csb_id, 16);
    expect(toHex(rfc3830TgkLabel(KdfConst.TEK, c.cs_id, csbId, hex(c.rand)))).toBe(c.label_tek);
    expect(toHex(rfc3830TgkLabel(KdfConst.SALT, c.cs_id, csbId, hex(c.rand)))).toBe(c.label_salt);
    const k = deriveSrtpFromTgk(hex(c.tgk), { csId: c.cs_id, csbId, rand: hex(c.rand) });
    expect(toHex(k.masterKey)).toBe(c.tek_128);
    expect(toHex(k.masterSalt)).toBe(c.salt_112);
  });
  it('PSK case: encr, auth, salt keys with label const || 0xFF || CSB ID || RAND (RFC 3830 4.1.4)', () => {
    const c = ex.psk_case;
    const csbId = parseInt(c.csb_id, 16);
    expect(toHex(rfc3830MessageLabel(KdfConst.ENCR, csbId, hex(c.rand)))).toBe(c.label_encr);
    expect(toHex(rfc3830MessageLabel(KdfConst.AUTH, csbId, hex(c.rand)))).toBe(c.label_auth);
    expect(toHex(rfc3830MessageLabel(KdfConst.SALT_KEY, csbId, hex(c.rand)))).toBe(c.label_salt);
    const k = deriveRfc3830MessageKeys(hex(c.psk_256bit), csbId, hex(c.rand), { encrAlg: 1, macAlg: 1, hash: 'sha1' });
    expect(toHex(k.encrKey)).toBe(c.encr_key_128);
    expect(toHex(k.authKey)).toBe(c.auth_key_160);
    expect(toHex(k.saltKey)).toBe(c.salt_key_112);
  });
  it('long inkey (48 octets = two 256-bit blocks, outputs XORed)', () => {
    const c = ex.long_inkey_case;
    expect(toHex(mikeyPrf(hex(c.inkey), hex(c.label), 32))).toBe(c.out_256);
  });
  it('matches a direct transcription of P(s, label, m) for SHA-1 and SHA-256, any length', () => {
    const P = (h: 'sha1' | 'sha256', s: Buffer, label: Buffer, m: number): Buffer => {
      let a = label;
      const out: Buffer[] = [];
      for (let i = 0; i < m; i++) {
        a = createHmac(h, s).update(a).digest();
        out.push(createHmac(h, s).update(Buffer.concat([a, label])).digest());
      }
      return Buffer.concat(out);
    };
    const inkey = Buffer.from(Array.from({ length: 70 }, (_, i) => (i * 13 + 5) & 0xff));
    const label = Buffer.from('0102030405', 'hex');
    for (const h of ['sha1', 'sha256'] as const) {
      for (const n of [0, 1, 14, 20, 21, 32, 33, 64, 100]) {
        const bits = h === 'sha1' ? 160 : 256;
        const m = Math.ceil((n * 8) / bits);
        const want = Buffer.alloc(m * (bits / 8));
        for (let o = 0; o < inkey.length; o += 32) {
          const p = P(h, inkey.subarray(o, o + 32), label, m);
          for (let i = 0; i < want.length; i++) want[i]! ^= p[i]!;
        }
        expect(toHex(mikeyPrf(inkey, label, n, h)), `${h} ${n}`).toBe(want.subarray(0, n).toString('hex'));
      }
    }
  });
  it('PRF func codes: 0 MIKEY-1 (SHA-1), 1 PRF-HMAC-SHA-256; others refused with Invalid PRF', () => {
    expect(prfHash(0)).toBe('sha1');
    expect(prfHash(1)).toBe('sha256');
    expect(() => prfHash(2)).toThrow(MikeyProtocolError);
    try {
      prfHash(5);
    } catch (e) {
      expect((e as MikeyProtocolError).errNo).toBe(2);
    }
  });
});

describe('RFC 6043 labels (facts: key_derivation_constants)', () => {
  const ri = hex('a1a2a3');
  const rr = hex('b1b2');
  it('5.1.2 message keys: const || 0xFF || CSB ID || 0x01/0x02 || len RANDRi || RANDRi || len RANDRr || RANDRr', () => {
    expect(toHex(rfc6043MessageLabelTail(0x01020304, 'initial', { randRi: ri }))).toBe('ff01020304' + '01' + '03a1a2a3' + '00');
    expect(toHex(rfc6043MessageLabelTail(0x01020304, 'response', { randRi: ri, randRr: rr }))).toBe('ff01020304' + '02' + '03a1a2a3' + '02b1b2');
    const k = deriveTicketMessageKeys(hex('00'.repeat(32)), 0x01020304, 'initial', { randRi: ri }, { encrAlg: 3, macAlg: 2, hash: 'sha256' });
    expect([k.encrKey.length, k.authKey.length, k.saltKey.length]).toEqual([32, 32, 14]);
    expect(toHex(k.authKey)).toBe(toHex(mikeyPrf(hex('00'.repeat(32)), hex('2d22ac75' + 'ff01020304' + '01' + '03a1a2a3' + '00'), 32, 'sha256')));
  });
  it('5.1.3 TEK from TGK: const || CS ID || 0xFFFFFFFF || 0x03 || len RANDRi || RANDRi || len RANDRr || RANDRr', () => {
    expect(toHex(rfc6043TgkLabel(KdfConst.TEK, 2, { randRi: ri, randRr: rr }))).toBe('2ad01c64' + '02' + 'ffffffff' + '03' + '03a1a2a3' + '02b1b2');
    const k = deriveSrtpFromTicketTgk(hex('11'.repeat(32)), { csId: 2, randRi: ri, randRr: rr, hash: 'sha256', saltLength: 12 });
    expect(toHex(k.masterKey)).toBe(toHex(mikeyPrf(hex('11'.repeat(32)), rfc6043TgkLabel(0x2ad01c64, 2, { randRi: ri, randRr: rr }), 16, 'sha256')));
    expect(toHex(k.masterSalt)).toBe(toHex(mikeyPrf(hex('11'.repeat(32)), rfc6043TgkLabel(0x39a2c14b, 2, { randRi: ri, randRr: rr }), 12, 'sha256')));
  });
  it('5.1.4 forking: const || 0xFF || 0xFFFFFFFF || 0x00 || len IDData(16) || IDData || len RANDRkms || RANDRkms', () => {
    expect(toHex(rfc6043ForkLabel(KdfConst.MPKR_FORK, hex('6263'), hex('0f')))).toBe('2b288856' + 'ff' + 'ffffffff' + '00' + '0002' + '6263' + '010f');
    const f = deriveForkedKeys(hex('01'.repeat(32)), hex('02'.repeat(16)), hex('6263'), hex('0f'));
    expect(toHex(f.tgk)).toBe(toHex(mikeyPrf(hex('02'.repeat(16)), rfc6043ForkLabel(0x1512b54a, hex('6263'), hex('0f')), 16)));
    expect(f.mpkr.length).toBe(32);
  });
  it('App. A: MPK labels (0x06), TPK labels (0x05) and the Vr label (0x04)', () => {
    expect(toHex(rfc6043MpkLabel('initiator', hex('aa')))).toBe('220e99a2ff' + 'ffffffff' + '06' + '01aa');
    expect(toHex(rfc6043MpkLabel('responder', hex('aa')))).toBe('1f4d675bff' + 'ffffffff' + '06' + '01aa');
    expect(toHex(rfc6043TpkLabelTail(hex('aa')))).toBe('ff' + 'ffffffff' + '05' + '01aa');
    expect(toHex(rfc6043VrLabel())).toBe('2d22ac75' + 'ff' + 'ffffffff' + '04');
  });
});
