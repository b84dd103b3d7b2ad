import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentTypeName, decryptContent, loadCredential, parseCertificate, parseContentInfo, verifySignedContent } from '../src/index.ts';
import { cmsError, dec } from './helpers.ts';

// RFC 4134 (Examples of S/MIME Messages) App. B, extracted byte for byte into
// /work/shared/vectors/rfc4134 (see its index.json). Legacy algorithms only.
const DIR = '/work/shared/vectors/rfc4134';
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { files: Array<{ file: string; rfc4134_section: string; description: string }> };
const bin = (f: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, f)));
const EX_CONTENT = 'This is some sample content.';

describe('RFC 4134 CMS examples', () => {
  const expected: Record<string, string> = {
    '3.1.bin': 'data', '3.2.bin': 'data',
    '4.1.bin': 'signedData', '4.2.bin': 'signedData', '4.3.bin': 'signedData', '4.4.bin': 'signedData', '4.5.bin': 'signedData',
    '4.6.bin': 'signedData', '4.7.bin': 'signedData', '4.10.bin': 'signedData', '4.11.bin': 'signedData',
    '5.1.bin': 'envelopedData', '5.2.bin': 'envelopedData', '6.0.bin': 'digestedData', '7.1.bin': 'encryptedData', '7.2.bin': 'encryptedData',
  };
  it('the index lists every CMS sample this test reads', () => {
    expect(index.files.map((f) => f.file)).toEqual(expect.arrayContaining(Object.keys(expected)));
  });
  for (const [file, type] of Object.entries(expected)) {
    it(`sec. ${file.replace('.bin', '')} parses as ${type} (3.1 is BER with indefinite lengths)`, () => {
      expect(contentTypeName(parseContentInfo(bin(file)).contentType)).toBe(type);
    });
  }

  const carl = parseCertificate(bin('CarlRSASelf.cer'));
  for (const file of ['4.2.bin', '4.5.bin']) {
    it(`sec. ${file.replace('.bin', '')}: AliceRSA's signature verifies with the chain to CarlRSASelf`, async () => {
      const v = await verifySignedContent(bin(file), { trustAnchors: [carl], acceptSha1: true, signingTimeWindow: false, now: new Date('2026-12-02Z') });
      expect(dec(v.content)).toBe(EX_CONTENT);
      expect(v.signerIdentities).toEqual(['mailto:AliceRSA@example.com']);
    });
  }

  it('sec. 4.2 is refused for its SHA-1 digest unless SHA-1 is accepted explicitly (RFC 8551 sec. 2.1)', async () => {
    expect((await cmsError(() => verifySignedContent(bin('4.2.bin'), { trustAnchors: [carl], signingTimeWindow: false }))).code).toBe('unsupported-algorithm');
  });

  it('sec. 4.2 carries no signing-time, so the RFC 8591 profile refuses it: missing-signing-time', async () => {
    expect((await cmsError(() => verifySignedContent(bin('4.2.bin'), { trustAnchors: [carl], acceptSha1: true }))).code).toBe('missing-signing-time');
  });

  it('sec. 4.2 against a trust anchor that is not its CA: untrusted-certificate', async () => {
    const other = parseCertificate(bin('CarlDSSSelf.cer'));
    expect((await cmsError(() => verifySignedContent(bin('4.2.bin'), { trustAnchors: [other], acceptSha1: true, signingTimeWindow: false }))).code).toBe('untrusted-certificate');
  });

  it('sec. 4.1 (DSA): unsupported-algorithm, not a crash (WebCrypto has no DSA)', async () => {
    expect((await cmsError(() => verifySignedContent(bin('4.1.bin'), { trustAnchors: [carl], acceptSha1: true, signingTimeWindow: false }))).code).toBe('unsupported-algorithm');
  });

  it('sec. 4.11 (certificates only, no signer): malformed', async () => {
    expect((await cmsError(() => verifySignedContent(bin('4.11.bin'), { trustAnchors: [carl], signingTimeWindow: false }))).message).toMatch(/no SignerInfo/);
  });

  it('sec. 5.1 (EnvelopedData to BobRSA, 3DES): Bob is a recipient but the algorithm is refused; Alice is not a recipient', async () => {
    const bob = loadCredential({ certificate: bin('BobRSASignByCarl.cer'), privateKey: bin('BobPrivRSAEncrypt.pri') });
    const alice = loadCredential({ certificate: bin('AliceRSASignByCarl.cer'), privateKey: bin('AlicePrivRSASign.pri') });
    expect((await cmsError(() => decryptContent(bin('5.1.bin'), bob))).code).toBe('unsupported-algorithm');
    expect((await cmsError(() => decryptContent(bin('5.1.bin'), alice))).code).toBe('not-a-recipient');
  });
});
