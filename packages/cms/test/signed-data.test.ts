import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmsVerifyError, OID, createCa, issueUserCertificate, parseContentInfo, signContent, verifySignedContent } from '../src/index.ts';
import { TEST_VALIDITY, cmsError, dec, enc, testPki, type TestPki } from './helpers.ts';

const CONTENT = enc('Content-Type: message/cpim\r\n\r\nFrom: <sip:alice@ims.example>\r\nTo: <sip:bob@ims.example>\r\n\r\nContent-Type: text/plain\r\n\r\nhello');
const T0 = new Date('2026-12-02T10:00:00Z');
let p: TestPki;
beforeAll(async () => {
  p = await testPki();
}, 60_000);

const verifyAt = (der: Uint8Array, now: Date, extra: Partial<Parameters<typeof verifySignedContent>[1]> = {}) =>
  verifySignedContent(der, { trustAnchors: [p.ca.credential.certificate], now, ...extra });

describe('SignedData (RFC 5652 sec. 5)', () => {
  for (const who of ['alice', 'bob'] as const) {
    it(`signs and verifies with ${who === 'alice' ? 'RSA' : 'ECDSA P-256'}, returning content, signer and signing time`, async () => {
      const der = await signContent(CONTENT, p[who].credential, { signingTime: T0 });
      const v = await verifyAt(der, new Date(T0.getTime() + 60_000));
      expect(v.content).toEqual(CONTENT);
      expect(v.contentType).toBe(OID.data);
      expect(v.signerIdentities).toEqual([`sip:${who}@ims.example`]);
      expect(v.signingTime?.getTime()).toBe(T0.getTime());
    });
  }

  it('carries content-type, message-digest and signing-time as signed attributes, DER-ordered, and the signer certificate', async () => {
    const der = await signContent(CONTENT, p.alice.credential, { signingTime: T0 });
    const sd = new pkijs.SignedData({ schema: parseContentInfo(der).content });
    const si = sd.signerInfos[0]!;
    const types = si.signedAttrs!.attributes.map((a) => a.type);
    expect(new Set(types)).toEqual(new Set([OID.contentTypeAttr, OID.messageDigestAttr, OID.signingTimeAttr]));
    const encodings = si.signedAttrs!.attributes.map((a) => Buffer.from(a.toSchema().toBER(false)));
    expect([...encodings].sort(Buffer.compare)).toEqual(encodings);
    const digest = si.signedAttrs!.attributes.find((a) => a.type === OID.messageDigestAttr)!.values[0] as asn1js.OctetString;
    expect(Buffer.from(digest.valueBlock.valueHexView)).toEqual(Buffer.from(await crypto.subtle.digest('SHA-256', Uint8Array.from(CONTENT))));
    expect(si.digestAlgorithm.algorithmId).toBe(OID.sha256);
    expect(sd.certificates).toHaveLength(1);
  });

  it('verifies a detached signature against the given content only', async () => {
    const der = await signContent(CONTENT, p.bob.credential, { signingTime: T0, detached: true });
    const v = await verifyAt(der, T0, { detachedContent: CONTENT });
    expect(dec(v.content)).toBe(dec(CONTENT));
    expect((await cmsError(() => verifyAt(der, T0, { detachedContent: enc('other') }))).code).toBe('bad-signature');
    expect((await cmsError(() => verifyAt(der, T0))).code).toBe('malformed');
  });
});

describe('SignedData refusals', () => {
  it('a flipped bit in the signature value: bad-signature', async () => {
    for (const who of ['alice', 'bob'] as const) {
      const der = await signContent(CONTENT, p[who].credential, { signingTime: T0 });
      const sd = new pkijs.SignedData({ schema: parseContentInfo(der).content });
      const sig = Buffer.from(sd.signerInfos[0]!.signature.valueBlock.valueHexView);
      const at = Buffer.from(der).lastIndexOf(sig);
      const bad = Uint8Array.from(der);
      bad[at + sig.length - 1]! ^= 0x01;
      const e = await cmsError(() => verifyAt(bad, T0));
      expect(e).toBeInstanceOf(CmsVerifyError);
      expect(e.code).toBe('bad-signature');
    }
  });

  it('changed content (same length): bad-signature from the message digest', async () => {
    const der = await signContent(CONTENT, p.alice.credential, { signingTime: T0 });
    const at = Buffer.from(der).indexOf(Buffer.from('hello'));
    const bad = Uint8Array.from(der);
    bad.set(enc('HELLO'), at);
    expect((await cmsError(() => verifyAt(bad, T0))).code).toBe('bad-signature');
  });

  it('a signer from a CA nobody trusts: untrusted-certificate', async () => {
    const der = await signContent(CONTENT, p.mallory.credential, { signingTime: T0 });
    const e = await cmsError(() => verifyAt(der, T0));
    expect(e.code).toBe('untrusted-certificate');
  });

  it('a signing time older than the window: signing-time-expired; ahead of it: signing-time-future', async () => {
    const der = await signContent(CONTENT, p.alice.credential, { signingTime: T0 });
    const window = { maxAgeMs: 3600_000, maxFutureMs: 60_000 };
    expect((await verifyAt(der, new Date(T0.getTime() + 3599_000), { signingTimeWindow: window })).signingTime).toEqual(T0);
    expect((await cmsError(() => verifyAt(der, new Date(T0.getTime() + 3601_000), { signingTimeWindow: window }))).code).toBe('signing-time-expired');
    expect((await cmsError(() => verifyAt(der, new Date(T0.getTime() - 61_000), { signingTimeWindow: window }))).code).toBe('signing-time-future');
  });

  it('an identity other than the certificate names: identity-mismatch (exact comparison)', async () => {
    const der = await signContent(CONTENT, p.alice.credential, { signingTime: T0 });
    expect((await verifyAt(der, T0, { expectedIdentity: 'sip:alice@ims.example' })).signerIdentities).toContain('sip:alice@ims.example');
    for (const other of ['sip:bob@ims.example', 'sip:Alice@ims.example', 'sip:alice@ims.example;user=phone', 'tel:+15551234']) {
      const e = await cmsError(() => verifyAt(der, T0, { expectedIdentity: other }));
      expect(e.code).toBe('identity-mismatch');
      expect((e as CmsVerifyError).signerIdentities).toEqual(['sip:alice@ims.example']);
    }
  });

  it('a certificate expired at verification time: untrusted-certificate', async () => {
    const old = await issueUserCertificate(p.ca.credential, { uris: ['sip:old@ims.example'], keyType: 'ec', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z') });
    const der = await signContent(CONTENT, old.credential, { signingTime: T0 });
    expect((await cmsError(() => verifyAt(der, T0))).code).toBe('untrusted-certificate');
  });

  it('a TLS-only certificate (extendedKeyUsage without emailProtection): certificate-purpose (RFC 8550 sec. 4.4.4)', async () => {
    const tls = await issueUserCertificate(p.ca.credential, { uris: ['sip:pcscf@ims.example'], keyType: 'ec', extKeyUsage: ['1.3.6.1.5.5.7.3.1'], ...TEST_VALIDITY });
    const der = await signContent(CONTENT, tls.credential, { signingTime: T0 });
    expect((await cmsError(() => verifyAt(der, T0))).code).toBe('certificate-purpose');
  });

  it('a key whose keyUsage cannot sign (the CA\'s keyCertSign-only key): certificate-purpose (RFC 5280 sec. 4.2.1.3)', async () => {
    const der = await signContent(CONTENT, p.ca.credential, { signingTime: T0 });
    const e = await cmsError(() => verifyAt(der, T0));
    expect(e.code).toBe('certificate-purpose');
    expect(e.message).toMatch(/keyUsage/);
  });

  it('an EC-rooted CA works as the trust anchor too', async () => {
    const ecCa = await createCa({ keyType: 'ec', ...TEST_VALIDITY });
    const u = await issueUserCertificate(ecCa.credential, { uris: ['sip:u@ims.example'], ...TEST_VALIDITY });
    const der = await signContent(CONTENT, u.credential, { signingTime: T0 });
    expect((await verifySignedContent(der, { trustAnchors: [ecCa.credential.certificate], now: T0 })).signerIdentities).toEqual(['sip:u@ims.example']);
  });

  it('not a SignedData at all: unexpected-content-type; not DER: malformed', async () => {
    const data = new pkijs.ContentInfo({ contentType: OID.data, content: new asn1js.OctetString({ valueHex: new Uint8Array([1]) }) }).toSchema().toBER(false);
    expect((await cmsError(() => verifyAt(new Uint8Array(data), T0))).code).toBe('unexpected-content-type');
    expect((await cmsError(() => verifyAt(enc('hello'), T0))).code).toBe('malformed');
    expect((await cmsError(() => verifyAt(new Uint8Array(0), T0))).code).toBe('malformed');
  });
});
