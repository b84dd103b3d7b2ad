import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmsDecryptError, OID, decryptContent, encryptContent, listRecipients, parseContentInfo, type ContentCipher } from '../src/index.ts';
import { cmsError, enc, testPki, type TestPki } from './helpers.ts';

const CONTENT = enc('Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\n' + 'x'.repeat(200));
let p: TestPki;
beforeAll(async () => {
  p = await testPki();
}, 60_000);

describe('EnvelopedData and AuthEnvelopedData round trips', () => {
  const cases: Array<[ContentCipher, 'auth-enveloped' | 'enveloped']> = [
    ['aes-128-gcm', 'auth-enveloped'],
    ['aes-256-gcm', 'auth-enveloped'],
    ['aes-128-cbc', 'enveloped'],
    ['aes-256-cbc', 'enveloped'],
  ];
  for (const [cipher, kind] of cases) {
    it(`${cipher}: every recipient (RSA and EC) decrypts, one RecipientInfo each`, async () => {
      const recipients = [p.alice, p.bob, p.carol];
      const der = await encryptContent(CONTENT, recipients.map((r) => r.credential.certificate), { kind, cipher });
      expect(listRecipients(der)).toHaveLength(3);
      for (const r of recipients) {
        const d = await decryptContent(der, r.credential);
        expect(d).toMatchObject({ kind, cipher, contentType: OID.data });
        expect(d.content).toEqual(CONTENT);
      }
      const e = await cmsError(() => decryptContent(der, p.dave.credential));
      expect(e).toBeInstanceOf(CmsDecryptError);
      expect(e.code).toBe('not-a-recipient');
      expect(e.message).toMatch(/not among the 3 recipient/);
    });
  }

  it('AuthEnvelopedData is RFC 5083 / RFC 5084 shaped: version 0, GCMParameters (12-octet nonce, ICV 16), a 16-octet mac', async () => {
    const der = await encryptContent(CONTENT, [p.alice.credential.certificate, p.bob.credential.certificate]);
    const ci = parseContentInfo(der);
    expect(ci.contentType).toBe(OID.authEnvelopedData);
    const fields = (ci.content as asn1js.Sequence).valueBlock.value;
    expect((fields[0] as asn1js.Integer).valueBlock.valueDec).toBe(0);
    const ris = (fields[1] as asn1js.Set).valueBlock.value.map((r) => new pkijs.RecipientInfo({ schema: r }));
    // RSA gets KeyTrans with RSAES-OAEP; EC gets KeyAgree with ECDH + SHA-256 KDF (RFC 8551 sec. 2.3).
    expect(ris.map((r) => r.variant)).toEqual([1, 2]);
    expect((ris[0]!.value as pkijs.KeyTransRecipientInfo).keyEncryptionAlgorithm.algorithmId).toBe(OID.rsaesOaep);
    expect((ris[1]!.value as pkijs.KeyAgreeRecipientInfo).keyEncryptionAlgorithm.algorithmId).toBe(OID.ecdhSha256Kdf);
    const eci = new pkijs.EncryptedContentInfo({ schema: fields[2] });
    expect(eci.contentEncryptionAlgorithm.algorithmId).toBe(OID.aes128Gcm);
    const params = (eci.contentEncryptionAlgorithm.algorithmParams as asn1js.Sequence).valueBlock.value;
    expect((params[0] as asn1js.OctetString).valueBlock.valueHexView).toHaveLength(12);
    expect((params[1] as asn1js.Integer).valueBlock.valueDec).toBe(16);
    expect((fields[3] as asn1js.OctetString).valueBlock.valueHexView).toHaveLength(16);
    // GCM adds no padding: the ciphertext is exactly as long as the content.
    expect(eci.getEncryptedContent().byteLength).toBe(CONTENT.length);
  });

  it('EnvelopedData version follows RFC 5652 sec. 6.1: 0 with only KeyTrans, 2 with KeyAgree', async () => {
    const v = async (certs: pkijs.Certificate[]) => new pkijs.EnvelopedData({ schema: parseContentInfo(await encryptContent(CONTENT, certs, { kind: 'enveloped' })).content }).version;
    expect(await v([p.alice.credential.certificate])).toBe(0);
    expect(await v([p.alice.credential.certificate, p.bob.credential.certificate])).toBe(2);
  });

  it('refuses GCM in EnvelopedData and CBC in AuthEnvelopedData, and an empty recipient list (bad-argument)', async () => {
    const certs = [p.alice.credential.certificate];
    expect((await cmsError(() => encryptContent(CONTENT, certs, { kind: 'enveloped', cipher: 'aes-128-gcm' }))).code).toBe('bad-argument');
    expect((await cmsError(() => encryptContent(CONTENT, certs, { kind: 'auth-enveloped', cipher: 'aes-128-cbc' }))).code).toBe('bad-argument');
    expect((await cmsError(() => encryptContent(CONTENT, []))).code).toBe('bad-argument');
  });
});

describe('tampering', () => {
  it('AuthEnvelopedData: any flipped bit in the ciphertext or the tag is integrity-failure', async () => {
    const der = await encryptContent(CONTENT, [p.bob.credential.certificate]);
    // The mac is the last 16 octets; the ciphertext sits right before its OCTET STRING header (04 10).
    const macAt = der.length - 16;
    const ctAt = macAt - 2 - CONTENT.length;
    for (const at of [ctAt, ctAt + 50, macAt - 3, macAt, der.length - 1]) {
      const bad = Uint8Array.from(der);
      bad[at]! ^= 0x80;
      const e = await cmsError(() => decryptContent(bad, p.bob.credential));
      expect(e.code, `offset ${at}`).toBe('integrity-failure');
    }
  });

  it('AuthEnvelopedData: a wrapped key changed for one recipient gives key-unwrap-failed to that one only', async () => {
    const der = await encryptContent(CONTENT, [p.alice.credential.certificate, p.bob.credential.certificate]);
    const ktri = new pkijs.RecipientInfo({ schema: ((parseContentInfo(der).content as asn1js.Sequence).valueBlock.value[1] as asn1js.Set).valueBlock.value[0] }).value as pkijs.KeyTransRecipientInfo;
    const ek = Buffer.from(ktri.encryptedKey.valueBlock.valueHexView);
    const at = Buffer.from(der).indexOf(ek);
    const bad = Uint8Array.from(der);
    bad[at + 10]! ^= 0x01;
    expect((await cmsError(() => decryptContent(bad, p.alice.credential))).code).toBe('key-unwrap-failed');
    expect((await decryptContent(bad, p.bob.credential)).content).toEqual(CONTENT);
  });

  it('EnvelopedData (CBC): a changed last block fails the padding or changes the plaintext, never silently passes as the original', async () => {
    const der = await encryptContent(CONTENT, [p.carol.credential.certificate], { kind: 'enveloped' });
    for (let bit = 0; bit < 8; bit++) {
      const bad = Uint8Array.from(der);
      bad[der.length - 1]! ^= 1 << bit;
      try {
        const d = await decryptContent(bad, p.carol.credential);
        expect(d.content).not.toEqual(CONTENT);
      } catch (e) {
        expect((e as CmsDecryptError).code).toBe('integrity-failure');
      }
    }
  });
});
