import { beforeAll, describe, expect, it } from 'vitest';
import {
  CPIM_CONTENT_TYPE,
  RFC3428_UNKNOWN_PATH_LIMIT,
  buildCpim,
  buildMimeEntity,
  buildSecureMessage,
  listRecipients,
  openSecureMessage,
  sealCpim,
  signContent,
  smimeContentType,
  type SealOptions,
} from '../src/index.ts';
import { cmsError, dec, enc, testPki, type TestPki } from './helpers.ts';

const T0 = new Date('2026-12-02T10:00:00Z');
let p: TestPki;
beforeAll(async () => {
  p = await testPki();
}, 60_000);

const text = (from = 'sip:alice@ims.example') => ({
  from: { name: 'Alice', uri: from },
  to: [{ uri: 'sip:bob@ims.example' }, { uri: 'sip:carol@ims.example' }],
  contentType: 'text/plain;charset=utf-8',
  body: 'marker-4.3-e2e: lunch at noon?',
});
const open = (body: Uint8Array, contentType: string, who: keyof TestPki, extra: Partial<Parameters<typeof openSecureMessage>[2]> = {}) =>
  openSecureMessage(body, contentType, { recipient: p[who].credential, trustAnchors: [p.ca.credential.certificate], now: T0, ...extra });
const seal = (extra: Partial<SealOptions> = {}): SealOptions => ({
  signer: p.alice.credential,
  recipients: [p.bob.credential.certificate, p.carol.credential.certificate],
  signingTime: T0,
  ...extra,
});

describe('RFC 8591 layering: CPIM, signed, then encrypted', () => {
  it('one body for N recipients: every recipient opens the same bytes and sees the sender proven', async () => {
    const m = await buildSecureMessage(text(), seal());
    expect(m.contentType).toBe('application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m');
    expect(m.contentDisposition).toBe('attachment; filename=smime.p7m; handling=required');
    expect(m.layers).toEqual(['authEnveloped-data', 'signed-data']);
    expect(listRecipients(m.body)).toHaveLength(2);
    // The marker is nowhere in the body: only the recipients can read it.
    expect(Buffer.from(m.body).includes(Buffer.from('marker-4.3-e2e'))).toBe(false);
    for (const who of ['bob', 'carol'] as const) {
      const o = await open(m.body, m.contentType, who);
      expect(o.layers).toEqual(['authEnveloped-data', 'signed-data']);
      expect(o.encryption).toEqual({ kind: 'auth-enveloped', cipher: 'aes-128-gcm' });
      expect(o.signer?.identities).toEqual(['sip:alice@ims.example']);
      expect(o.signer?.signingTime).toEqual(T0);
      expect(o.cpim.from.uri).toBe('sip:alice@ims.example');
      // The CPIM DateTime and the signed signing-time are the same instant.
      expect(o.cpim.dateTime).toEqual(T0);
      expect(dec(o.cpim.body)).toBe('marker-4.3-e2e: lunch at noon?');
      expect(o.cpimBytes).toEqual(m.cpim);
    }
  });

  it('EnvelopedData for peers without AuthEnvelopedData, and signed-only', async () => {
    const env = await buildSecureMessage(text(), seal({ encryption: 'enveloped' }));
    expect(env.contentType).toBe(smimeContentType('enveloped-data'));
    expect((await open(env.body, env.contentType, 'bob')).layers).toEqual(['enveloped-data', 'signed-data']);
    const signed = await buildSecureMessage(text(), seal({ encryption: 'none' }));
    expect(signed.contentType).toBe(smimeContentType('signed-data'));
    const o = await open(signed.body, signed.contentType, 'dave');
    expect(o.layers).toEqual(['signed-data']);
    expect(o.encryption).toBeUndefined();
    expect((await cmsError(() => open(signed.body, signed.contentType, 'dave', { requireEncryption: true }))).code).toBe('not-encrypted');
  });

  it('a signed and encrypted MESSAGE body for one short text exceeds RFC 3428 sec. 8\'s 1300 bytes', async () => {
    const plain = buildCpim({ ...text(), to: [{ uri: 'sip:bob@ims.example' }], body: 'hi', dateTime: T0 });
    const sizes: Record<string, number> = { 'plain CPIM': plain.length };
    for (const [label, recipients, signer] of [
      ['RSA sender, 1 RSA recipient', [p.carol], p.alice],
      ['EC sender, 1 EC recipient', [p.dave], p.bob],
      ['RSA sender, 3 recipients', [p.bob, p.carol, p.dave], p.alice],
    ] as const) {
      const m = await buildSecureMessage({ ...text(signer === p.alice ? 'sip:alice@ims.example' : 'sip:bob@ims.example'), to: [{ uri: 'sip:x@ims.example' }], body: 'hi' }, seal({ signer: signer.credential, recipients: recipients.map((r) => r.credential.certificate) }));
      sizes[label] = m.body.length;
    }
    // RFC 3428 sec. 8: above 1300 bytes on an unknown path a MESSAGE must go over a congestion-controlled transport (TCP/TLS).
    expect(sizes['RSA sender, 1 RSA recipient']).toBeGreaterThan(RFC3428_UNKNOWN_PATH_LIMIT);
    // Even the smallest keys exceed it: the signer's certificate travels inside (RFC 3261 sec. 23.2).
    expect(sizes['EC sender, 1 EC recipient']).toBeGreaterThan(RFC3428_UNKNOWN_PATH_LIMIT);
    expect(sizes['RSA sender, 3 recipients']).toBeGreaterThan(sizes['RSA sender, 1 RSA recipient']!);
    expect(sizes['plain CPIM']).toBeLessThan(RFC3428_UNKNOWN_PATH_LIMIT);
    console.info(`MESSAGE body sizes (bytes): ${JSON.stringify(sizes)}`);
  });
});

describe('refusals', () => {
  it('a recipient the sender did not list: not-a-recipient', async () => {
    const m = await buildSecureMessage(text(), seal());
    expect((await cmsError(() => open(m.body, m.contentType, 'dave'))).code).toBe('not-a-recipient');
  });

  it('a signer whose certificate is not the CPIM From: identity-mismatch', async () => {
    // Alice signs a message that claims to be from Bob.
    const m = await buildSecureMessage(text('sip:bob@ims.example'), seal());
    const e = await cmsError(() => open(m.body, m.contentType, 'carol'));
    expect(e.code).toBe('identity-mismatch');
    expect(e.message).toMatch(/CPIM From is sip:bob@ims.example/);
  });

  it('a SIP identity that is not the signer: identity-mismatch', async () => {
    const m = await buildSecureMessage(text(), seal());
    expect((await open(m.body, m.contentType, 'bob', { sipIdentity: 'sip:alice@ims.example' })).cpim.from.uri).toBe('sip:alice@ims.example');
    expect((await cmsError(() => open(m.body, m.contentType, 'bob', { sipIdentity: 'sip:mallory@ims.example' }))).code).toBe('identity-mismatch');
  });

  it('an impostor certificate from another CA for the same URI: untrusted-certificate', async () => {
    const m = await buildSecureMessage(text(), seal({ signer: p.mallory.credential }));
    expect((await cmsError(() => open(m.body, m.contentType, 'bob'))).code).toBe('untrusted-certificate');
  });

  it('a replay long after the signing time: signing-time-expired', async () => {
    const m = await buildSecureMessage(text(), seal());
    const later = new Date(T0.getTime() + 8 * 24 * 3600_000);
    expect((await cmsError(() => open(m.body, m.contentType, 'bob', { now: later }))).code).toBe('signing-time-expired');
  });

  it('plain CPIM when a signature is required: not-signed; allowed when not required', async () => {
    const cpim = buildCpim({ ...text(), dateTime: T0 });
    expect((await cmsError(() => open(cpim, CPIM_CONTENT_TYPE, 'bob'))).code).toBe('not-signed');
    expect((await open(cpim, CPIM_CONTENT_TYPE, 'bob', { requireSignature: false })).layers).toEqual([]);
  });

  it('a Content-Type that lies about the smime-type, or is something else: unexpected-content-type', async () => {
    const m = await buildSecureMessage(text(), seal());
    expect((await cmsError(() => open(m.body, smimeContentType('enveloped-data'), 'bob'))).code).toBe('unexpected-content-type');
    expect((await cmsError(() => open(m.body, smimeContentType('signed-data'), 'bob'))).code).toBe('unexpected-content-type');
    expect((await cmsError(() => open(m.body, 'text/plain', 'bob'))).code).toBe('unexpected-content-type');
    expect((await cmsError(() => open(m.body, 'garbage', 'bob'))).code).toBe('mime-malformed');
  });

  it('a signed body that is not CPIM inside: cpim-malformed', async () => {
    const inner = buildMimeEntity([{ name: 'Content-Type', value: CPIM_CONTENT_TYPE }], enc('not cpim at all'));
    const der = await signContent(inner, p.alice.credential, { signingTime: T0 });
    expect((await cmsError(() => open(der, smimeContentType('signed-data'), 'bob'))).code).toBe('cpim-malformed');
  });

  it('an encrypted body for a receiver with no credential is a caller error (bad-argument)', async () => {
    const m = await sealCpim(buildCpim({ ...text(), dateTime: T0 }), seal());
    const e = await cmsError(() => openSecureMessage(m.body, m.contentType, { trustAnchors: [p.ca.credential.certificate], now: T0 }));
    expect(e.code).toBe('bad-argument');
  });
});
