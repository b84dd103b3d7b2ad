/**
 * Issue 12 point 7 for the analysis-side CMS sniffer (findCms): 10,000 hostile
 * message bodies (valid CMS mutated, cut at every length class, with lying
 * BER lengths, inside SIP-like text or base64; hostile bodies full of OIDs
 * or nested indefinite lengths; random bytes). Seeded (@imslab/fuzz's prng).
 * Properties: it never throws; every hit is internally consistent (its bytes
 * are the body's bytes at its offset, its SHA-256 is theirs, hits do not
 * overlap, an error is a clear sentence, never a JavaScript crash message);
 * a body whose ContentInfo start is intact is never silently dropped; the
 * unmodified bodies are found exactly with their recipients (control).
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSecureMessage, createCa, issueUserCertificate, listRecipients, type IssuedCredential } from '@imslab/cms';
import { findCmsLoaded, loadCmsReader, type SniffedCms } from '../src/cms-sniff.ts';
import { prng } from '@imslab/fuzz';

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;
function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`fuzz property failed: ${what}`);
}

const KINDS = new Set(['signed-data', 'enveloped-data', 'auth-enveloped-data']);
/** What a JavaScript crash says, as opposed to a refusal that explains the bytes. */
const CRASH = /Cannot read propert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid array length|out of range/i;

let gcm: Buffer;
let cbc: Buffer;
let signed: Buffer;
beforeAll(async () => {
  await loadCmsReader();
  const ca = await createCa({ commonName: 'sniff fuzz CA', keyType: 'ec' });
  const user = async (uri: string): Promise<IssuedCredential> => issueUserCertificate(ca.credential, { uris: [uri], keyType: 'ec' });
  const bob = await user('sip:bob@ims.example');
  const dave = await user('sip:dave@ims.example');
  const carol = await user('sip:carol@ims.example');
  const msg = { from: { uri: 'sip:bob@ims.example' }, to: { uri: 'sip:dave@ims.example' }, contentType: 'text/plain', body: 'sniff' };
  const opts = { signer: bob.credential, recipients: [dave.credential.certificate, carol.credential.certificate] };
  gcm = Buffer.from((await buildSecureMessage(msg, opts)).body);
  cbc = Buffer.from((await buildSecureMessage(msg, { ...opts, encryption: 'enveloped' })).body);
  signed = Buffer.from((await buildSecureMessage(msg, { ...opts, encryption: 'none' })).body);
}, 60_000);

/** Every hit is consistent with the body it came from. */
function checkHits(body: Buffer, hits: SniffedCms[], what: string): void {
  must(Array.isArray(hits), `${what}: an array`);
  let end = -1;
  for (const h of hits) {
    must(KINDS.has(h.kind), `${what}: kind ${h.kind}`);
    must(Number.isInteger(h.offset) && h.offset >= 0, `${what}: offset`);
    must(h.der.length > 0 && h.sha256 === createHash('sha256').update(h.der).digest('hex'), `${what}: sha256 of der`);
    must(h.recipients.every((r) => typeof r === 'string' && r.length > 0), `${what}: recipients`);
    if (h.error !== undefined) must(h.error.length > 0 && !CRASH.test(h.error), `${what}: error ${h.error}`);
    if (h.encoding === 'binary') {
      must(body.subarray(h.offset, h.offset + h.der.length).equals(h.der), `${what}: der is the body's bytes at its offset`);
      must(h.offset >= end, `${what}: hits do not overlap`);
      end = h.offset + h.der.length;
    } else {
      must(h.encoding === 'base64', `${what}: encoding`);
    }
  }
}

function mutate(b: Buffer, rnd: () => number, from = 0): Buffer {
  const out = Buffer.from(b);
  const pos = from + int(rnd, Math.max(1, out.length - from));
  switch (int(rnd, 7)) {
    case 0: out[pos] = out[pos]! ^ (1 << int(rnd, 8)); return out;
    case 1: out[pos] = int(rnd, 256); return out;
    case 2: return Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + int(rnd, 8))]);
    case 3: return Buffer.concat([out.subarray(0, pos), Buffer.from([int(rnd, 256)]), out.subarray(pos)]);
    case 4: out[pos] = pick(rnd, [0x80, 0x81, 0x82, 0x84, 0x85, 0x89, 0xff, 0x00]); return out; // a BER length that lies
    case 5: return out.subarray(0, Math.max(from, pos)); // truncation
    default: return Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + 1 + int(rnd, 30)), out.subarray(pos)]); // duplicated span
  }
}

describe('CMS sniffer fuzz (10,000 bodies)', () => {
  it('unmodified bodies are found exactly, binary, inside SIP text and as base64 (control)', () => {
    for (const der of [gcm, cbc, signed]) {
      const wrapped = Buffer.concat([Buffer.from('MESSAGE sip:x SIP/2.0\r\nContent-Type: application/pkcs7-mime\r\n\r\n'), der, Buffer.from('\r\n')]);
      const [hit, ...more] = findCmsLoaded(wrapped);
      expect(more).toEqual([]);
      expect(hit!.error).toBeUndefined();
      expect(hit!.der.equals(der)).toBe(true);
      expect(hit!.offset).toBe(wrapped.indexOf(der));
      expect(hit!.recipients).toEqual(der === signed ? [] : listRecipients(der));
      const b64 = Buffer.from(der.toString('base64').replace(/.{76}/g, '$&\r\n'));
      const [h64] = findCmsLoaded(b64);
      expect(h64).toMatchObject({ encoding: 'base64', sha256: hit!.sha256, kind: hit!.kind });
    }
  });

  it('10,000 hostile bodies: never a throw, every hit consistent, no intact ContentInfo silently dropped', () => {
    const rnd = prng(0x5652);
    const tally: Record<string, number> = {};
    const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
    let slowest = 0;
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const base = pick(rnd, [gcm, cbc, signed]);
      let body: Buffer;
      let intactAt = -1;
      const c = [0, 1, 2, 2, 2, 2, 2, 2, 2, 5, 6, 6, 7, 8, 8, 8, 8, 8, 8, 8][i % 20]!;
      // The expensive classes (a whole ContentInfo that @imslab/cms then parses, 1-3 ms each) are 3 in 20.
      if (c === 0) {
        // Mutated after the ContentInfo's header and OID: the candidate is still there and must be reported.
        body = mutate(base, rnd, 24);
        intactAt = 0;
      } else if (c === 1) {
        body = mutate(mutate(base, rnd), rnd);
      } else if (c === 2) {
        // Cut at every length class, behind some SIP text.
        const prefix = Buffer.from(pick(rnd, ['', 'x', 'Content-Type: application/pkcs7-mime\r\n\r\n']));
        body = Buffer.concat([prefix, base.subarray(0, pick(rnd, [0, 1, 2, 3, 4, 13, 14, 15, 16, 17, 20, base.length >> 1, base.length - 1, int(rnd, base.length)]))]);
        if (body.length >= prefix.length + 20) intactAt = prefix.length;
      } else if (c === 5) {
        // Hostile: the SignedData OID after SEQUENCE headers, thousands of times, with lying lengths.
        const unit = Buffer.from(pick(rnd, ['3080060' + '92a864886f70d010702', '3082ffff06092a864886f70d010703', '30840fffffff060b2a864886f70d0109100117', '30060609' + '2a864886f70d010702']), 'hex');
        body = Buffer.concat(Array.from({ length: 1 + int(rnd, 3000) }, () => unit));
      } else if (c === 6) {
        // Nested indefinite lengths, deeper than any limit, after the OID.
        const depth = pick(rnd, [10, 70, 5000, 100_000]);
        body = Buffer.concat([Buffer.from('308006092a864886f70d010702', 'hex'), Buffer.alloc(depth * 2, Buffer.from('3080', 'hex')), Buffer.alloc(int(rnd, 2) ? depth * 2 : 0)]);
      } else if (c === 7) {
        // Base64 that lies: valid text of mutated DER, or of random bytes behind "M".
        const inner = rnd() < 0.5 ? mutate(base, rnd) : Buffer.concat([Buffer.from([0x30]), Buffer.from(Array.from({ length: int(rnd, 300) }, () => int(rnd, 256)))]);
        body = Buffer.from(inner.toString('base64').replace(/.{64}/g, `$&${pick(rnd, ['\r\n', '\n', ' \n', '\r\n\r\n'])}`));
      } else {
        body = Buffer.from(Array.from({ length: int(rnd, 600) }, () => int(rnd, 256)));
      }
      const what = `body ${i} (class ${c})`;
      const t = performance.now();
      let hits: SniffedCms[];
      try {
        hits = findCmsLoaded(body);
      } catch (e) {
        throw new Error(`${what}: findCmsLoaded threw ${e instanceof Error ? e.stack : String(e)}`);
      }
      slowest = Math.max(slowest, performance.now() - t);
      checkHits(body, hits, what);
      if (intactAt >= 0) must(hits.some((h) => h.offset === intactAt && h.encoding === 'binary'), `${what}: the ContentInfo at ${intactAt} was dropped`);
      count(hits.length === 0 ? 'none' : hits.every((h) => h.error === undefined) ? 'clean' : 'with-error');
    }
    console.log(`cms sniff fuzz: 10000 bodies in ${(performance.now() - t0).toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms: ${JSON.stringify(tally)}`);
    expect(tally.clean ?? 0).toBeGreaterThan(100);
    expect(tally['with-error'] ?? 0).toBeGreaterThan(1000);
    // Hostile bodies cost bounded work (MAX_CANDIDATES, MAX_DEPTH).
    expect(slowest).toBeLessThan(500);
  }, 60_000);
});
