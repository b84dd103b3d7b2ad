import { beforeAll, describe, expect, it } from 'vitest';
import { CmsError, buildSecureMessage, decryptContent, listRecipients, openSecureMessage, parseContentInfo, smimeContentType, verifySignedContent, type SipBody } from '../src/index.ts';
import { mutate, prng, testPki, type TestPki } from './helpers.ts';

// Issue 12 point 7: malformed CMS, truncated or mutated DER, never anything but a
// typed CmsError (or, where a mutation happens to leave a valid object, a result).
const T0 = new Date('2026-12-02T10:00:00Z');
let p: TestPki;
let gcm: SipBody;
let cbc: SipBody;
let signed: SipBody;
beforeAll(async () => {
  p = await testPki();
  const msg = { from: { uri: 'sip:alice@ims.example' }, to: { uri: 'sip:bob@ims.example' }, contentType: 'text/plain', body: 'fuzz' };
  // EC sender and recipient keep each attempt fast; the RSA paths are covered by the round-trip tests.
  const opts = { signer: p.bob.credential, recipients: [p.dave.credential.certificate], signingTime: T0 };
  gcm = await buildSecureMessage({ ...msg, from: { uri: 'sip:bob@ims.example' } }, opts);
  cbc = await buildSecureMessage({ ...msg, from: { uri: 'sip:bob@ims.example' } }, { ...opts, encryption: 'enveloped' });
  signed = await buildSecureMessage({ ...msg, from: { uri: 'sip:bob@ims.example' } }, { ...opts, encryption: 'none' });
}, 60_000);

async function outcome(fn: () => Promise<unknown>, what: string): Promise<'ok' | string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof CmsError)) throw new Error(`${what} threw a non-CmsError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    expect(e.message.length).toBeGreaterThan(0);
    return e.code;
  }
}

describe('CMS parsers under mutation', () => {
  const open = (body: Uint8Array, ct: string) => openSecureMessage(body, ct, { recipient: p.dave.credential, trustAnchors: [p.ca.credential.certificate], now: T0 });

  for (const [label, get] of [['AuthEnvelopedData', () => gcm], ['EnvelopedData', () => cbc], ['SignedData', () => signed]] as const) {
    it(`${label}: every truncation is refused with a typed error`, async () => {
      const m = get();
      const codes = new Set<string>();
      for (let n = 0; n < m.body.length; n += 3) {
        const code = await outcome(() => open(m.body.subarray(0, n), m.contentType), `truncation to ${n}`);
        expect(code).not.toBe('ok');
        codes.add(code);
      }
      expect(codes.has('malformed')).toBe(true);
    }, 120_000);

    it(`${label}: 1500 random mutations end in a result or a typed error`, async () => {
      const m = get();
      const rnd = prng(label.length * 5652);
      const tally: Record<string, number> = {};
      for (let i = 0; i < 1500; i++) {
        let input = m.body;
        for (let r = 1 + Math.floor(rnd() * 3); r > 0; r--) input = mutate(input, rnd);
        const code = await outcome(() => open(input, m.contentType), `mutation ${i}`);
        tally[code] = (tally[code] ?? 0) + 1;
      }
      // The integrity checks must be what catches most mutations that still parse.
      expect(Object.keys(tally).length).toBeGreaterThan(1);
      expect(tally.malformed).toBeGreaterThan(0);
    }, 120_000);
  }

  it('the lower-level entry points are total too: parseContentInfo, listRecipients, decryptContent, verifySignedContent', async () => {
    const rnd = prng(5083);
    for (let i = 0; i < 1500; i++) {
      const base = [gcm.body, cbc.body, signed.body][i % 3]!;
      const input = mutate(mutate(base, rnd), rnd);
      await outcome(async () => parseContentInfo(input), 'parseContentInfo');
      await outcome(async () => listRecipients(input), 'listRecipients');
      await outcome(() => decryptContent(input, p.dave.credential), 'decryptContent');
      await outcome(() => verifySignedContent(input, { trustAnchors: [p.ca.credential.certificate], now: T0 }), 'verifySignedContent');
    }
  }, 120_000);

  it('random bytes and DER-looking garbage under every smime-type', async () => {
    const rnd = prng(8591);
    for (let i = 0; i < 600; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 300)).map(() => Math.floor(rnd() * 256));
      if (b.length > 4 && rnd() < 0.5) b.set([0x30, 0x82, (b.length - 4) >> 8, (b.length - 4) & 0xff]);
      for (const t of ['signed-data', 'enveloped-data', 'authEnveloped-data'] as const) {
        expect(await outcome(() => open(b, smimeContentType(t)), `garbage ${i}`)).not.toBe('ok');
      }
    }
  }, 120_000);
});
