import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSecureMessage, decryptContent, encryptContent, parseMimeEntity, signContent, verifySignedContent } from '../src/index.ts';
import { cmsError, enc, hasOpenssl, openssl, tempDir, testPki, type TestPki } from './helpers.ts';

// OpenSSL's `cms` command (Debian's openssl 3.0) is the independent implementation:
// what we write it must read, and what it writes we must read, both ways.
const CONTENT = enc('Content-Type: message/cpim\r\n\r\nFrom: <sip:alice@ims.example>\r\nTo: <sip:bob@ims.example>\r\n\r\nContent-Type: text/plain\r\n\r\nmarker-openssl');
const TIMEOUT = 60_000;

describe.skipIf(!hasOpenssl)('interop with openssl cms', () => {
  let p: TestPki;
  let dir: string;
  let cleanup: () => void;
  const f = (name: string): string => join(dir, name);
  beforeAll(async () => {
    p = await testPki();
    ({ dir, cleanup } = tempDir());
    writeFileSync(f('ca.pem'), p.ca.certificatePem);
    for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
      writeFileSync(f(`${who}.pem`), p[who].certificatePem);
      writeFileSync(f(`${who}.key`), p[who].privateKeyPem);
    }
    writeFileSync(f('content.bin'), CONTENT);
  }, TIMEOUT);
  afterAll(() => cleanup?.());

  for (const who of ['alice', 'bob'] as const) {
    it(`ours signs (${who === 'alice' ? 'RSA' : 'ECDSA'}) -> openssl cms -verify accepts with the CA and returns the content`, async () => {
      writeFileSync(f(`ours-signed-${who}.der`), await signContent(CONTENT, p[who].credential));
      const out = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', `ours-signed-${who}.der`, '-CAfile', 'ca.pem'], dir);
      expect(out).toEqual(Buffer.from(CONTENT));
    }, TIMEOUT);

    it(`openssl cms -sign (${who === 'alice' ? 'RSA' : 'ECDSA'}) -> ours verifies, with openssl's signing time`, async () => {
      openssl(['cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-in', 'content.bin', '-signer', `${who}.pem`, '-inkey', `${who}.key`, '-outform', 'DER', '-out', `osl-signed-${who}.der`], dir);
      const v = await verifySignedContent(readFileSync(f(`osl-signed-${who}.der`)), { trustAnchors: [p.ca.credential.certificate], expectedIdentity: `sip:${who}@ims.example` });
      expect(Buffer.from(v.content)).toEqual(Buffer.from(CONTENT));
      expect(Math.abs(v.signingTime!.getTime() - Date.now())).toBeLessThan(120_000);
    }, TIMEOUT);
  }

  it('openssl cms -verify refuses our signature once a byte of the content changes', async () => {
    const der = Uint8Array.from(await signContent(CONTENT, p.alice.credential));
    der[Buffer.from(der).indexOf(Buffer.from('marker-openssl'))]! ^= 0x20;
    writeFileSync(f('ours-tampered.der'), der);
    expect(() => openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'ours-tampered.der', '-CAfile', 'ca.pem'], dir)).toThrow(/exited/);
  }, TIMEOUT);

  for (const [kind, cipher] of [['auth-enveloped', 'aes-128-gcm'], ['auth-enveloped', 'aes-256-gcm'], ['enveloped', 'aes-128-cbc']] as const) {
    it(`ours encrypts (${cipher}, RSA-OAEP + ECDH recipients) -> openssl cms -decrypt recovers the bytes for each`, async () => {
      const name = `ours-${cipher}.der`;
      writeFileSync(f(name), await encryptContent(CONTENT, [p.alice.credential.certificate, p.bob.credential.certificate], { kind, cipher }));
      for (const who of ['alice', 'bob']) {
        const out = openssl(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', name, '-recip', `${who}.pem`, '-inkey', `${who}.key`], dir);
        expect(out).toEqual(Buffer.from(CONTENT));
      }
      expect(() => openssl(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', name, '-recip', 'carol.pem', '-inkey', 'carol.key'], dir)).toThrow(/exited/);
    }, TIMEOUT);
  }

  for (const cipher of ['aes-128-gcm', 'aes-256-gcm', 'aes-128-cbc', 'aes-256-cbc']) {
    it(`openssl cms -encrypt -${cipher} (RSA-OAEP + ECDH with OpenSSL's default SHA-1 KDF) -> ours decrypts for each`, async () => {
      const name = `osl-${cipher}.der`;
      openssl(['cms', '-encrypt', '-binary', `-${cipher}`, '-in', 'content.bin', '-outform', 'DER', '-out', name,
        '-recip', 'alice.pem', '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-recip', 'bob.pem'], dir);
      for (const who of ['alice', 'bob'] as const) {
        const d = await decryptContent(readFileSync(f(name)), p[who].credential);
        expect(d.cipher).toBe(cipher);
        expect(d.kind).toBe(cipher.endsWith('gcm') ? 'auth-enveloped' : 'enveloped');
        expect(Buffer.from(d.content)).toEqual(Buffer.from(CONTENT));
      }
      expect((await cmsError(() => decryptContent(readFileSync(f(name)), p.dave.credential))).code).toBe('not-a-recipient');
    }, TIMEOUT);
  }

  it('openssl cms -encrypt with RSA PKCS#1 v1.5 key transport (its default) -> ours refuses it clearly: unsupported-algorithm', async () => {
    openssl(['cms', '-encrypt', '-binary', '-aes-128-cbc', '-in', 'content.bin', '-outform', 'DER', '-out', 'osl-pkcs1.der', '-recip', 'carol.pem'], dir);
    const e = await cmsError(() => decryptContent(readFileSync(f('osl-pkcs1.der')), p.carol.credential));
    expect(e.code).toBe('unsupported-algorithm');
    expect(e.message).toMatch(/PKCS#1 v1.5/);
  }, TIMEOUT);

  it('a whole MESSAGE body: openssl decrypts our AuthEnvelopedData, then verifies the SignedData inside', async () => {
    const m = await buildSecureMessage({ from: { uri: 'sip:alice@ims.example' }, to: { uri: 'sip:bob@ims.example' }, contentType: 'text/plain', body: 'marker-openssl-e2e' },
      { signer: p.alice.credential, recipients: [p.bob.credential.certificate] });
    writeFileSync(f('message.der'), m.body);
    const signedEntity = openssl(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', 'message.der', '-recip', 'bob.pem', '-inkey', 'bob.key'], dir);
    const entity = parseMimeEntity(new Uint8Array(signedEntity));
    expect(entity.headers[0]?.value).toMatch(/smime-type=signed-data/);
    writeFileSync(f('message-signed.der'), entity.body);
    const inner = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'message-signed.der', '-CAfile', 'ca.pem'], dir);
    expect(inner.toString()).toContain('Content-Type: message/cpim');
    expect(inner.toString()).toContain('marker-openssl-e2e');
  }, TIMEOUT);
});
