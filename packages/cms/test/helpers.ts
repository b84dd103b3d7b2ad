/**
 * Test fixtures: a small PKI made once per test file (key generation is the
 * slow part), users with SIP URIs in subjectAltName, a rogue CA, and a
 * seeded PRNG and mutator for the fuzz tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CmsError, createCa, issueUserCertificate, type CpimInput, type IssuedCredential } from '../src/index.ts';
import { prng } from '@imslab/fuzz';

export { prng };

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface TestPki {
  ca: IssuedCredential;
  /** RSA 2048, like the testbed PKI's keys. */
  alice: IssuedCredential;
  /** EC P-256. */
  bob: IssuedCredential;
  /** RSA; a group member. */
  carol: IssuedCredential;
  /** EC; never a recipient. */
  dave: IssuedCredential;
  /** A certificate for alice's URI from a CA nobody trusts. */
  mallory: IssuedCredential;
}

let pki: Promise<TestPki> | undefined;

/**
 * A fixed validity window around the tests' fixed instants (T0 = 2026-12-02):
 * certificates valid "from yesterday" made every test that verifies at T0 a
 * time bomb that went off the day after it was written. UTCTime ends in 2049.
 */
export const TEST_VALIDITY = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2049-12-31T00:00:00Z') } as const;

export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const ca = await createCa({ commonName: 'imslab test CA', ...TEST_VALIDITY });
    const rogue = await createCa({ commonName: 'rogue CA', keyType: 'ec', ...TEST_VALIDITY });
    return {
      ca,
      alice: await issueUserCertificate(ca.credential, { uris: ['sip:alice@ims.example'], keyType: 'rsa', ...TEST_VALIDITY }),
      bob: await issueUserCertificate(ca.credential, { uris: ['sip:bob@ims.example'], keyType: 'ec', ...TEST_VALIDITY }),
      carol: await issueUserCertificate(ca.credential, { uris: ['sip:carol@ims.example'], keyType: 'rsa', ...TEST_VALIDITY }),
      dave: await issueUserCertificate(ca.credential, { uris: ['sip:dave@ims.example'], keyType: 'ec', ...TEST_VALIDITY }),
      mallory: await issueUserCertificate(rogue.credential, { uris: ['sip:alice@ims.example'], keyType: 'ec', ...TEST_VALIDITY }),
    };
  })();
  return pki;
}

/** Runs `fn` and returns the CmsError it throws; fails the test on success or on any other exception. */
export async function cmsError(fn: () => unknown): Promise<CmsError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CmsError) return e;
    throw new Error(`expected a CmsError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a CmsError, but the call succeeded');
}

/** One random mutation: flip a bit, set a byte, delete, insert, truncate or duplicate a span. */
export function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const b = Uint8Array.from(input);
  const pos = Math.floor(rnd() * Math.max(1, b.length));
  switch (Math.floor(rnd() * 7)) {
    case 0:
      if (b.length) b[pos] = b[pos]! ^ (1 << Math.floor(rnd() * 8));
      return b;
    case 1:
      if (b.length) b[pos] = Math.floor(rnd() * 256);
      return b;
    case 2:
      return Uint8Array.from([...b.subarray(0, pos), ...b.subarray(pos + 1 + Math.floor(rnd() * 8))]);
    case 3:
      return Uint8Array.from([...b.subarray(0, pos), Math.floor(rnd() * 256), ...b.subarray(pos)]);
    case 4:
      return b.subarray(0, pos);
    case 5: {
      const len = Math.floor(rnd() * 16);
      return Uint8Array.from([...b.subarray(0, pos + len), ...b.subarray(pos)]);
    }
    default:
      // DER length octets are where parsers break: make a length byte huge.
      if (b.length) b[pos] = 0x84 + Math.floor(rnd() * 4);
      return b;
  }
}

export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

/** Runs openssl with an explicit timeout; returns stdout, throws with stderr on failure. */
export function openssl(args: string[], cwd: string): Buffer {
  try {
    return execFileSync('openssl', args, { cwd, timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; status?: number };
    throw new Error(`openssl ${args.join(' ')} exited ${err.status}: ${err.stderr?.toString() ?? ''}`);
  }
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-cms-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** CPIM messages that reach every part of the grammar: the seeds of the CPIM fuzzers (suite and bench). */
export const CPIM_SEEDS: readonly CpimInput[] = [
  {
    from: { name: 'Alice', uri: 'sip:alice@ims.example' }, to: [{ uri: 'sip:bob@ims.example' }, { name: 'Bob "B" \\ x', uri: 'tel:+15551234' }],
    cc: [{ uri: 'sip:carol@ims.example' }], dateTime: new Date('2026-12-02T10:00:00.123Z'), subject: [{ value: 'lunch?', lang: 'en' }, { value: 'déjeuner ?', lang: 'fr' }],
    ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }], require: ['imdn.Message-ID'], extraHeaders: [{ name: 'imdn.Message-ID', value: 'abc123' }],
    contentType: 'text/plain;charset=utf-8', contentId: '<m1@ims.example>', body: 'hello\r\n\r\nwith a blank line inside',
  },
  { from: { uri: 'sip:bob@ims.example' }, to: { uri: 'sip:dave@ims.example' }, contentType: 'application/octet-stream', body: new Uint8Array([0, 13, 10, 13, 10, 255, 254]) },
  { from: { uri: 'im:x@y' }, to: { uri: 'im:z@y' }, subject: 'é', contentType: 'message/imdn+xml', contentHeaders: [{ name: 'Content-Disposition', value: 'notification' }], body: '' },
];
