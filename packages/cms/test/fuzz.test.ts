/**
 * Issue 12 point 7: malformed CMS, a wrong recipient, a tampered signature or
 * ciphertext, malformed CPIM: a clear, typed refusal, never a crash, never
 * plaintext accepted as verified. Seeded (@imslab/fuzz's prng), so a failure
 * replays from its iteration number.
 *
 * - CPIM parser: 10,000 inputs (mutations of valid messages: bit flips,
 *   truncations, insertions, deletions, duplicated, garbled and re-cased
 *   headers, wrong boundaries, oversized blocks, bad UTF-8; and random bytes).
 * - CMS envelope parser: 10,000 inputs (mutated EnvelopedData,
 *   AuthEnvelopedData and SignedData DER, truncations at every length class,
 *   lying DER lengths, random and DER-looking bytes) through parseContentInfo,
 *   listRecipients and decryptContent as a stranger (3,000 by default,
 *   CMS_FUZZ_INPUTS=10000 for the full run); every 40th also decrypted by the
 *   real recipient; and 600 mutated messages opened whole.
 * - Targeted tampering: a flipped byte in the signature, the signed content,
 *   the ciphertext, the GCM tag and nonce, the recipient identifier, the
 *   wrapped key and the ephemeral key; messages for another recipient.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAuthEnvelopedData } from '../src/auth-enveloped-data.ts';
import {
  CmsDecryptError, CmsError, CmsFormatError, CmsVerifyError, CpimParseError, buildCpim, buildMimeEntity, buildSecureMessage, decryptContent, encryptContent,
  listRecipients, openSecureMessage, parseContentInfo, parseCpim, smimeContentType, verifySignedContent,
  type CmsErrorCode, type SipBody,
} from '../src/index.ts';
import { CPIM_SEEDS, testPki, type TestPki } from './helpers.ts';
import { prng } from '@imslab/fuzz';

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A cheap assertion for the hot loops (vitest's expect costs too much 10,000 times over). */
function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`fuzz property failed: ${what}`);
}

/** What a JavaScript crash says (also when a boundary turned it into a CmsError message), as opposed to a refusal that explains the bytes. */
const CRASH = /Cannot read propert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid array length|out of range/i;

const CODES = new Set<CmsErrorCode>([
  'cpim-malformed', 'mime-malformed', 'malformed', 'unexpected-content-type', 'unsupported-algorithm', 'bad-signature', 'no-signer-certificate',
  'untrusted-certificate', 'certificate-purpose', 'identity-mismatch', 'missing-signing-time', 'signing-time-expired', 'signing-time-future',
  'not-a-recipient', 'key-unwrap-failed', 'integrity-failure', 'not-signed', 'not-encrypted',
]);

/**
 * A refusal as the package documents it: a CmsError of a protocol code (never
 * 'bad-argument' for bytes from the wire) with a message, and not a crash of
 * this package's own code in disguise (the boundary wraps whatever it
 * catches: a TypeError/RangeError thrown from packages/cms/src would show as
 * the cause, or as a message like "Cannot read properties of undefined").
 */
function refusal(e: unknown, what: string): CmsError {
  if (!(e instanceof CmsError)) throw new Error(`${what}: threw a non-CmsError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  must(CODES.has(e.code), `${what}: protocol code, got ${e.code}: ${e.message}`);
  must(e.message.trim().length > 0, `${what}: a message`);
  must(!CRASH.test(e.message), `${what}: a crash in a CmsError's clothing: ${e.message}`);
  for (let c: unknown = e.cause; c instanceof Error; c = c.cause) {
    const ours = /packages\/cms\/src\//.test((c.stack ?? '').split('\n')[1] ?? '');
    must(!(ours && (c instanceof TypeError || c instanceof RangeError || c instanceof ReferenceError)), `${what}: internal crash ${c.name}: ${c.message}\n${c.stack}`);
  }
  return e;
}

async function attempt<T>(fn: () => Promise<T> | T, what: string): Promise<{ ok: true; value: T } | { ok: false; error: CmsError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: refusal(e, what) };
  }
}

/** One random mutation of bytes: the kinds that break parsers. */
function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const b = Uint8Array.from(input);
  const pos = int(rnd, Math.max(1, b.length));
  switch (int(rnd, 9)) {
    case 0: // bit flip
      if (b.length) b[pos] = b[pos]! ^ (1 << int(rnd, 8));
      return b;
    case 1: // byte set
      if (b.length) b[pos] = int(rnd, 256);
      return b;
    case 2: // delete a span
      return Uint8Array.from([...b.subarray(0, pos), ...b.subarray(pos + 1 + int(rnd, 8))]);
    case 3: // insert a byte
      return Uint8Array.from([...b.subarray(0, pos), int(rnd, 256), ...b.subarray(pos)]);
    case 4: { // truncate, at a length class: the first bytes, the middle, the last bytes
      const n = pick(rnd, [0, 1, 2, 3, 4, 5, 8, 16, pos, b.length >> 1, b.length - 1, b.length - 2, b.length - 1 - int(rnd, 32)]);
      return b.subarray(0, Math.max(0, n));
    }
    case 5: { // duplicate a span
      const len = 1 + int(rnd, 24);
      return Uint8Array.from([...b.subarray(0, pos + len), ...b.subarray(pos)]);
    }
    case 6: // a DER length that lies: long form with a huge or truncated count
      if (b.length) b[pos] = pick(rnd, [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x89, 0xff, 0x00, 0x7f]);
      return b;
    case 7: // a tag changed to another universal or context tag
      if (b.length) b[pos] = pick(rnd, [0x30, 0x31, 0x02, 0x04, 0x06, 0x05, 0xa0, 0xa1, 0xa2, 0x80, 0x1f, 0x24]);
      return b;
    default: // trailing garbage
      return Uint8Array.from([...b, ...Array.from({ length: 1 + int(rnd, 8) }, () => int(rnd, 256))]);
  }
}

/**
 * Inputs to the CMS envelope parser. Each costs 1-3 ms of pkijs schema matching on a 2-core machine, so the
 * default run keeps the file near 20 s; CMS_FUZZ_INPUTS=10000 runs the full 10,000 (about 25 s more).
 */
const ENVELOPE_INPUTS = Number(process.env.CMS_FUZZ_INPUTS) || 10_000;
const OPEN_INPUTS = 600;

const T0 = new Date('2026-12-02T10:00:00Z');
let p: TestPki;
const CPIM_TEXT = 'fuzz me: marker-7bd1';
let gcm: SipBody & { cpim: Uint8Array };
let cbc: SipBody & { cpim: Uint8Array };
let signed: SipBody & { cpim: Uint8Array };
let toCarol: SipBody & { cpim: Uint8Array };
let multi: SipBody & { cpim: Uint8Array };
let toMallory: SipBody & { cpim: Uint8Array };
/** A small AuthEnvelopedData and EnvelopedData: the envelope structure dominates their bytes. */
let tinyGcm: Uint8Array;
let tinyCbc: Uint8Array;
const TINY = enc('Content-Type: text/plain\r\n\r\ntiny');

beforeAll(async () => {
  p = await testPki();
  const msg = { from: { uri: 'sip:bob@ims.example' }, to: { uri: 'sip:dave@ims.example' }, contentType: 'text/plain;charset=utf-8', body: CPIM_TEXT };
  // EC sender and recipient keep each attempt fast; carol (RSA) covers KeyTrans.
  const opts = { signer: p.bob.credential, recipients: [p.dave.credential.certificate], signingTime: T0 };
  gcm = await buildSecureMessage(msg, opts);
  cbc = await buildSecureMessage(msg, { ...opts, encryption: 'enveloped' });
  signed = await buildSecureMessage(msg, { ...opts, encryption: 'none' });
  toCarol = await buildSecureMessage(msg, { ...opts, recipients: [p.carol.credential.certificate] });
  multi = await buildSecureMessage(msg, { ...opts, recipients: [p.carol.credential.certificate, p.dave.credential.certificate] });
  toMallory = await buildSecureMessage(msg, { ...opts, recipients: [p.mallory.credential.certificate] });
  tinyGcm = await encryptContent(TINY, [p.dave.credential.certificate]);
  tinyCbc = await encryptContent(TINY, [p.dave.credential.certificate], { kind: 'enveloped' });
}, 60_000);

const openAs = (who: () => TestPki[keyof TestPki], body: Uint8Array, ct: string) =>
  openSecureMessage(body, ct, { recipient: who().credential, trustAnchors: [p.ca.credential.certificate], now: T0 });
const openAsDave = (body: Uint8Array, ct: string) => openAs(() => p.dave, body, ct);

describe('CPIM parser fuzz (10,000 inputs)', () => {
  const seeds = CPIM_SEEDS;
  const valid = seeds.map((s) => buildCpim(s));

  it('unmodified messages round-trip (control)', () => {
    seeds.forEach((s, i) => {
      const m = parseCpim(valid[i]!);
      expect(m.from).toEqual(s.from.name ? s.from : { uri: s.from.uri });
      expect(m.to.map((a) => a.uri)).toEqual((Array.isArray(s.to) ? s.to : [s.to]).map((a) => a.uri));
      expect(m.body).toEqual(typeof s.body === 'string' ? enc(s.body) : s.body);
      expect(m.contentType).toBe(s.contentType);
      expect(buildCpim({ ...s })).toEqual(valid[i]);
    });
  });

  /** Structured mutations that aim at the CPIM grammar rather than at bytes. */
  function mutateCpim(b: Uint8Array, rnd: () => number): Uint8Array {
    const text = Buffer.from(b).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const head = end < 0 ? text : text.slice(0, end);
    const rest = end < 0 ? '' : text.slice(end);
    const lines = head.split('\r\n');
    const h = int(rnd, lines.length);
    switch (int(rnd, 10)) {
      case 0: lines.splice(h, 0, lines[h]!); break; // duplicated header (a second From or DateTime is an error)
      case 1: lines[h] = lines[h]!.replace(':', pick(rnd, ['', '::', ' :', ':;', ':;x', ';a=b:'])); break; // garbled separator
      case 2: lines[h] = pick(rnd, [lines[h]!.toLowerCase(), lines[h]!.toUpperCase(), `.${lines[h]}`, `a.b.${lines[h]}`]); break; // names are case-sensitive
      case 3: lines[h] = `${lines[h]}${pick(rnd, ['\0', '\x7f', '\t', '\r', '\n', '\u00ff', '<', '>', '"', '\\'])}`; break; // control or quoting characters
      case 4: lines.splice(h, 1); break; // a header gone (From or To missing)
      case 5: return Buffer.from(text.replace(pick(rnd, ['\r\n\r\n', '\r\n']), pick(rnd, ['\n\n', '\r\n', '\r\r', '', '\r\n \r\n'])), 'latin1'); // wrong boundaries
      case 6: lines.splice(h, 0, ...Array.from({ length: pick(rnd, [300, 5]) }, (_, k) => `X-H${k}: ${'v'.repeat(pick(rnd, [1, 300]))}`)); break; // too many / too long
      case 7: lines[h] = `${lines[h]!.split(':')[0]}: ${pick(rnd, ['<', '>', '<>', '"unterminated <sip:a@b>', '"\\q" <sip:a@b>', '<sip:a b>', '<nouri>', `"${'\\"'.repeat(2000)}" <sip:a@b>`, `${'a '.repeat(3000)}<sip:a@b>`, '2026-13-45T99:99:99Z', 'imdn <urn:x>', 'a,,b'])}`; break; // bad values
      case 8: lines[h] = `${lines[h]!.split(':')[0]}:${';p="\\'.repeat(pick(rnd, [1, 500]))} v`; break; // parameters that never end
      default: return Buffer.concat([Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(b)]); // not UTF-8
    }
    return Buffer.from(lines.join('\r\n') + rest, 'latin1');
  }

  it('10,000 mutated and random inputs: a CpimMessage whose parts are consistent, or a CpimParseError naming the line', () => {
    const rnd = prng(3862);
    const tally = { parsed: 0, refused: 0, random: 0 };
    const lines = new Set<number>();
    let slowest = 0;
    for (let i = 0; i < 10_000; i++) {
      let input: Uint8Array;
      if (i % 10 === 9) {
        tally.random++;
        input = Uint8Array.from({ length: int(rnd, 400) }, () => (rnd() < 0.25 ? pick(rnd, [13, 10, 58, 32, 60, 62, 34, 59]) : int(rnd, 256)));
        if (rnd() < 0.5) input = Uint8Array.from([...enc('From: <sip:a@b>\r\nTo: <sip:c@d>\r\n'), ...input]);
      } else {
        input = valid[i % valid.length]!;
        for (let r = 1 + int(rnd, 3); r > 0; r--) input = rnd() < 0.5 ? mutateCpim(input, rnd) : mutate(input, rnd);
      }
      const t = performance.now();
      try {
        const m = parseCpim(input);
        tally.parsed++;
        // What parsed is consistent with the bytes: From and To present with absolute URIs, a Content-Type,
        // and a body that is exactly the input after the second blank line.
        must(/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(m.from.uri) && m.to.length > 0 && m.to.every((a) => a.uri.length > 0), `input ${i}: addresses`);
        must(m.contentType.length > 0 && m.headers.length >= 2, `input ${i}: headers`);
        must(eq(input.subarray(input.length - m.body.length), m.body), `input ${i}: body is the tail`);
        must(eq(input.subarray(input.length - m.body.length - 4, input.length - m.body.length), enc('\r\n\r\n')), `input ${i}: body after a blank line`);
        must(m.dateTime === undefined || !Number.isNaN(m.dateTime.getTime()), `input ${i}: DateTime`);
      } catch (e) {
        if (!(e instanceof CpimParseError)) throw new Error(`input ${i} threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
        tally.refused++;
        must(e instanceof CmsError && e.code === 'cpim-malformed' && /^CPIM( line \d+)?: \S/.test(e.message) && !CRASH.test(e.message), `input ${i}: message ${e.message}`);
        must(Number.isInteger(e.line) && e.line >= 0, `input ${i}: line`);
        lines.add(e.line);
      }
      slowest = Math.max(slowest, performance.now() - t);
    }
    console.log(`cpim fuzz: ${JSON.stringify(tally)}, refusals on ${lines.size} distinct lines, slowest parse ${slowest.toFixed(1)} ms`);
    expect(tally.parsed).toBeGreaterThan(500);
    expect(tally.refused).toBeGreaterThan(5000);
    // No input makes the parser crawl (regular expressions on hostile header values).
    expect(slowest).toBeLessThan(250);
  });
});

describe('CMS envelope parser fuzz', () => {
  it('unmodified messages open, verify and round-trip (control)', async () => {
    for (const [what, m, who] of [['gcm', () => gcm, () => p.dave], ['cbc', () => cbc, () => p.dave], ['signed', () => signed, () => p.dave], ['multi/carol', () => multi, () => p.carol], ['multi/dave', () => multi, () => p.dave], ['toCarol', () => toCarol, () => p.carol]] as const) {
      const o = await openAs(who, m().body, m().contentType);
      expect(o.cpimBytes, what).toEqual(m().cpim);
      expect(new TextDecoder().decode(o.cpim.body), what).toBe(CPIM_TEXT);
      expect(o.signer?.identities, what).toContain('sip:bob@ims.example');
      expect(o.layers, what).toEqual(m().layers);
    }
    expect((await decryptContent(tinyGcm, p.dave.credential)).content).toEqual(TINY);
    expect((await decryptContent(tinyCbc, p.dave.credential)).content).toEqual(TINY);
  });

  it(`${ENVELOPE_INPUTS} inputs: parseContentInfo, listRecipients and decryptContent give a result or a typed refusal; a stranger never decrypts; the recipient never gets altered GCM plaintext`, async () => {
    const rnd = prng(5652);
    const bases: Array<[string, () => Uint8Array, Uint8Array | undefined]> = [
      ['tinyGcm', () => tinyGcm, TINY], ['tinyCbc', () => tinyCbc, undefined], ['gcm', () => gcm.body, undefined], ['cbc', () => cbc.body, undefined],
      ['multi', () => multi.body, undefined], ['toCarol', () => toCarol.body, undefined], ['signed', () => signed.body, undefined],
    ];
    const tally: Record<string, number> = {};
    const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
    let recipientTries = 0;
    const t0 = performance.now();
    for (let i = 0; i < ENVELOPE_INPUTS; i++) {
      const [name, get, plain] = bases[i % bases.length]!;
      let input: Uint8Array;
      let kind: string;
      if (i % 25 === 24) {
        kind = 'random';
        input = Uint8Array.from({ length: int(rnd, 400) }, () => int(rnd, 256));
        // Half of them DER-looking: a SEQUENCE header whose length may or may not tell the truth.
        if (input.length > 4 && rnd() < 0.5) input.set([0x30, 0x82, (input.length - 4 + int(rnd, 3) - 1) >> 8 & 0xff, (input.length - 4) & 0xff]);
      } else if (i % 25 === 23) {
        kind = 'truncated';
        const b = get();
        input = b.subarray(0, int(rnd, b.length));
      } else {
        kind = 'mutated';
        input = get();
        for (let r = 1 + int(rnd, 3); r > 0; r--) input = mutate(input, rnd);
      }
      const what = `input ${i} (${kind} ${name})`;
      // One entry point per input (each pkijs parse costs about a millisecond here), rotating; decryptContent
      // as mallory, whose certificate is a recipient of none of these, walks the whole envelope parser and
      // the recipient matching, and must be refused before any key is used.
      const entry = i % 4;
      if (entry === 0) {
        const ci = await attempt(() => parseContentInfo(input), `${what} parseContentInfo`);
        if (!ci.ok) must(ci.error instanceof CmsFormatError, `${what}: parseContentInfo throws CmsFormatError`);
        count(`parse:${ci.ok ? 'ok' : ci.error.code}`);
      } else if (entry === 1) {
        const rl = await attempt(() => listRecipients(input), `${what} listRecipients`);
        if (rl.ok) must(rl.value.length > 0 && rl.value.every((r) => typeof r === 'string' && r.length > 0), `${what}: recipients described`);
        count(`list:${rl.ok ? 'ok' : rl.error.code}`);
      } else {
        const stranger = await attempt(() => decryptContent(input, p.mallory.credential), `${what} decryptContent(stranger)`);
        must(!stranger.ok, `${what}: a stranger decrypted`);
        count(`stranger:${stranger.error.code}`);
        if (stranger.error.code === 'not-a-recipient') must(/is not among the \d+ recipient/.test(stranger.error.message) && stranger.error instanceof CmsDecryptError, `${what}: ${stranger.error.message}`);
      }
      if (i % 40 === 3 && name !== 'signed') {
        recipientTries++;
        const who = name === 'toCarol' ? p.carol : p.dave;
        const r = await attempt(() => decryptContent(input, who.credential), `${what} decryptContent(recipient)`);
        count(`recipient:${r.ok ? 'ok' : r.error.code}`);
        // AES-GCM authenticates: what decrypts is exactly what was sealed (CBC has no integrity of its own; the signature inside guards it).
        if (r.ok && r.value.kind === 'auth-enveloped' && plain) must(eq(r.value.content, plain), `${what}: GCM gave altered plaintext`);
      }
    }
    console.log(`cms envelope fuzz: ${ENVELOPE_INPUTS} inputs (${recipientTries} also as the recipient) in ${(performance.now() - t0).toFixed(0)} ms: ${JSON.stringify(tally)}`);
    expect(tally['stranger:not-a-recipient'] ?? 0).toBeGreaterThan(ENVELOPE_INPUTS / 20);
    expect(tally['stranger:malformed'] ?? 0).toBeGreaterThan(ENVELOPE_INPUTS / 5);
    expect(tally['list:ok'] ?? 0).toBeGreaterThan(ENVELOPE_INPUTS / 100);
  }, 60_000);

  it(`${OPEN_INPUTS} mutated messages opened whole: refused with a typed error, or exactly the original CPIM from the original signer`, async () => {
    const rnd = prng(8591);
    const tally: Record<string, number> = {};
    const bases = [() => gcm, () => cbc, () => signed];
    for (let i = 0; i < OPEN_INPUTS; i++) {
      const m = bases[i % 3]!();
      let input = m.body;
      for (let r = 1 + int(rnd, 2); r > 0; r--) input = mutate(input, rnd);
      // Sometimes the Content-Type lies about the smime-type too.
      const ct = rnd() < 0.1 ? smimeContentType(pick(rnd, ['signed-data', 'enveloped-data', 'authEnveloped-data'] as const)) : m.contentType;
      const r = await attempt(() => openAsDave(input, ct), `open ${i}`);
      tally[r.ok ? 'ok' : r.error.code] = (tally[r.ok ? 'ok' : r.error.code] ?? 0) + 1;
      if (r.ok) {
        // A mutation the checks let through changed nothing that is signed.
        must(eq(r.value.cpimBytes, m.cpim) && r.value.signer?.identities.includes('sip:bob@ims.example'), `open ${i}: altered message accepted`);
      }
    }
    console.log(`open fuzz: ${JSON.stringify(tally)}`);
    expect(tally.malformed ?? 0).toBeGreaterThan(OPEN_INPUTS / 10);
    expect((tally['integrity-failure'] ?? 0) + (tally['bad-signature'] ?? 0)).toBeGreaterThan(OPEN_INPUTS / 20);
  }, 60_000);
});

/** Where `needle` sits in `hay` (it must be there exactly once). */
function locate(hay: Uint8Array, needle: Uint8Array, what: string): number {
  const h = Buffer.from(hay);
  const at = h.indexOf(Buffer.from(needle));
  if (at < 0 || h.indexOf(Buffer.from(needle), at + 1) >= 0) throw new Error(`${what}: not found exactly once`);
  return at;
}
function flipped(b: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(b);
  out[at] = out[at]! ^ mask;
  return out;
}
/** `count` positions spread over [start, start+len). */
const spread = (start: number, len: number, count: number): number[] => Array.from({ length: Math.min(count, len) }, (_, k) => start + Math.floor((k * len) / Math.min(count, len)));

describe('targeted tampering', () => {
  const sdOf = (der: Uint8Array) => new pkijs.SignedData({ schema: parseContentInfo(der).content });

  it('a flipped byte in the signature or in the signed content never verifies (bare and inside a valid envelope)', async () => {
    const sd = sdOf(signed.body);
    const sig = sd.signerInfos[0]!.signature.valueBlock.valueHexView;
    const content = sd.encapContentInfo.eContent!.getValue();
    const sigAt = locate(signed.body, sig, 'signature');
    const contentAt = locate(signed.body, new Uint8Array(content), 'eContent');
    const cases = [
      ...spread(sigAt, sig.length, 24).map((at) => ['signature', at] as const),
      ...spread(contentAt, content.byteLength, 24).map((at) => ['signed content', at] as const),
    ];
    const codes = new Set<string>();
    for (const [what, at] of cases) {
      const bad = flipped(signed.body, at, 1 << (at % 8));
      const v = await attempt(() => verifySignedContent(bad, { trustAnchors: [p.ca.credential.certificate], now: T0 }), `${what} @${at}`);
      must(!v.ok, `${what} @${at}: a tampered SignedData verified`);
      // ECDSA signatures are DER inside: a flip may break that DER, which is refused too.
      expect(['bad-signature', 'malformed'], `${what} @${at}: ${v.error.message}`).toContain(v.error.code);
      if (what === 'signed content') expect(v.error.code, v.error.message).toBe('bad-signature');
      expect(v.error).toBeInstanceOf(v.error.code === 'bad-signature' ? CmsVerifyError : CmsFormatError);
      codes.add(v.error.code);
      const o = await attempt(() => openAsDave(bad, signed.contentType), `${what} @${at} open`);
      must(!o.ok && o.error.code === v.error.code, `${what} @${at}: openSecureMessage`);
    }
    expect(codes.has('bad-signature')).toBe(true);
    // Inside an envelope that decrypts perfectly, the tampered signature is still what refuses the message.
    for (const at of spread(sigAt, sig.length, 6)) {
      const inner = buildMimeEntity([{ name: 'Content-Type', value: smimeContentType('signed-data') }, { name: 'Content-Transfer-Encoding', value: 'binary' }], flipped(signed.body, at, 0x10));
      const body = await encryptContent(inner, [p.dave.credential.certificate]);
      const o = await attempt(() => openAsDave(body, smimeContentType('authEnveloped-data')), `enveloped signature @${at}`);
      must(!o.ok, `signature @${at} inside an envelope: accepted`);
      expect(['bad-signature', 'malformed']).toContain(o.error.code);
    }
  }, 60_000);

  it('a flipped byte in the ciphertext, GCM tag, nonce, wrapped key or ephemeral key never decrypts', async () => {
    const ci = parseContentInfo(gcm.body);
    const parts = decodeAuthEnvelopedData(ci.content);
    const ct = new Uint8Array(parts.encryptedContentInfo.getEncryptedContent());
    const nonce = (parts.encryptedContentInfo.contentEncryptionAlgorithm.algorithmParams as asn1js.Sequence).valueBlock.value[0] as asn1js.OctetString;
    const kari = parts.recipientInfos[0]!.value as pkijs.KeyAgreeRecipientInfo;
    const wrapped = kari.recipientEncryptedKeys.encryptedKeys[0]!.encryptedKey.valueBlock.valueHexView;
    const eph = (kari.originator.value as pkijs.OriginatorPublicKey).publicKey.valueBlock.valueHexView;
    const regions: Array<[string, Uint8Array, number, string[]]> = [
      ['ciphertext', ct, 12, ['integrity-failure']],
      ['GCM tag', parts.mac, 16, ['integrity-failure']],
      ['nonce', nonce.valueBlock.valueHexView, 6, ['integrity-failure']],
      ['wrapped key', wrapped, 8, ['key-unwrap-failed']],
      // Byte 0 is the point format (04): a flip there makes the key unreadable, refused as key-unwrap-failed too.
      ['ephemeral key', eph, 8, ['key-unwrap-failed']],
    ];
    for (const [what, bytes, n, codes] of regions) {
      const at0 = locate(gcm.body, bytes, what);
      for (const at of spread(at0, bytes.length, n)) {
        const bad = flipped(gcm.body, at, 0x80 >> (at % 8));
        const d = await attempt(() => decryptContent(bad, p.dave.credential), `${what} @${at}`);
        must(!d.ok, `${what} @${at}: decrypted`);
        expect(codes, `${what} @${at}: ${d.error.message}`).toContain(d.error.code);
        expect(d.error).toBeInstanceOf(CmsDecryptError);
      }
    }
    // EnvelopedData (CBC) has no integrity of its own: a flipped ciphertext byte may decrypt to garbage,
    // but the signature inside refuses the message; it is never accepted.
    const env = new pkijs.EnvelopedData({ schema: parseContentInfo(cbc.body).content });
    const cbcCt = new Uint8Array(env.encryptedContentInfo.getEncryptedContent());
    const cbcAt = locate(cbc.body, cbcCt, 'cbc ciphertext');
    const seen = new Set<string>();
    for (const at of spread(cbcAt, cbcCt.length, 24)) {
      const o = await attempt(() => openAsDave(flipped(cbc.body, at, 0x04), cbc.contentType), `cbc @${at}`);
      must(!o.ok, `cbc ciphertext @${at}: accepted`);
      seen.add(o.error.code);
    }
    console.log(`cbc ciphertext flips refused as: ${[...seen].join(', ')}`);
    expect(seen.has('integrity-failure') || seen.has('bad-signature') || seen.has('mime-malformed') || seen.has('malformed')).toBe(true);
  }, 60_000);

  it('a flipped recipient identifier, or a message for someone else, is refused as not-a-recipient with a clear message', async () => {
    const serial = p.dave.credential.certificate.serialNumber.valueBlock.valueHexView;
    const at0 = locate(gcm.body, serial, 'recipient serial');
    for (const at of spread(at0, serial.length, serial.length)) {
      const bad = flipped(gcm.body, at, 0x01);
      const d = await attempt(() => decryptContent(bad, p.dave.credential), `rid @${at}`);
      must(!d.ok, `rid @${at}: decrypted`);
      expect(d.error.code).toBe('not-a-recipient');
      expect(d.error.message).toMatch(/is not among the 1 recipient\(s\): issuer imslab test CA serial [0-9a-f]+/);
      const o = await attempt(() => openAsDave(bad, gcm.contentType), `rid @${at} open`);
      must(!o.ok && o.error.code === 'not-a-recipient', `rid @${at}: open`);
    }
    // Addressed to carol (RSA): dave, alice and bob are refused; carol opens it.
    for (const who of [() => p.dave, () => p.alice, () => p.bob, () => p.mallory]) {
      const o = await attempt(() => openAs(who, toCarol.body, toCarol.contentType), 'toCarol');
      must(!o.ok, 'a message for carol opened by someone else');
      expect(o.error).toBeInstanceOf(CmsDecryptError);
      expect(o.error.code).toBe('not-a-recipient');
      expect(o.error.message).toMatch(new RegExp(`is not among the 1 recipient\\(s\\): ${listRecipients(toCarol.body)[0]!.replace(/[()]/g, '\\$&')}`));
    }
    expect((await openAs(() => p.carol, toCarol.body, toCarol.contentType)).cpimBytes).toEqual(toCarol.cpim);
    // mallory's certificate names alice's URI but comes from another CA: alice is not its recipient.
    const m = await attempt(() => openAs(() => p.alice, toMallory.body, toMallory.contentType), 'toMallory');
    must(!m.ok && m.error.code === 'not-a-recipient', 'a message for mallory opened by alice');
    // With two recipients, a third party's refusal lists both.
    const t = await attempt(() => openAs(() => p.alice, multi.body, multi.contentType), 'multi');
    must(!t.ok && t.error.code === 'not-a-recipient', 'multi');
    expect(t.error.message).toMatch(/not among the 2 recipient/);
  }, 60_000);
});
