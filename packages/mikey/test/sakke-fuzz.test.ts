/**
 * Issue 13 point 3 and issue 11 point 9: the MIKEY-SAKKE I_MESSAGE parser
 * (RFC 6509, receiveGmkIMessage) on 10,000 seeded mutated I_MESSAGEs, plus
 * forged and replayed ones. The message fuzzer of property.test.ts reaches
 * the I_MESSAGE only as one fixture among nine (about 900 inputs) and
 * sakke-malformed.test.ts corrupts 200; this file gives it its own 10,000.
 *
 * - Parse path (10,000 inputs: @imslab/fuzz mutations of three I_MESSAGEs
 *   built by buildGmkIMessage, and 2% random octets): receiveGmkIMessage with
 *   no KPAK known for any KMS, so decode, grammar, IDRi/IDRr/IDRkmsi, the
 *   timestamp window and the SIGN type all run and a well-formed message
 *   stops at 'unknown-kms' before any cryptography. Every input ends in a
 *   MikeyError (a MikeyParseError's offset inside the input), never anything
 *   else, never a value, and none takes 50 ms (an input over the bound is
 *   re-timed twice and its fastest run kept, so a GC pause does not count).
 * - Forged: the first 200 mutated inputs that parse whole, verified with the
 *   real KPAK (an ECCSI verification costs several ms, too slow for all of
 *   them): each altered message is refused with a MikeyError, none
 *   gives a GMK. A message signed by another user of the same KMS (mallory)
 *   in the group management server's name is refused as signature-invalid.
 * - Replayed: the same I_MESSAGE twice to one member is refused the second
 *   time (MikeyReplayError); sent to another member, it is refused as an
 *   identity mismatch.
 * - The same parse path and forgeries for the client-server key I_MESSAGE
 *   (TS 33.180 clause 7.3, receiveCskIMessage at the MCPTT server), from
 *   three CSK I_MESSAGEs built by buildCskIMessage under a seed of its own:
 *   the receiver is shared with the GMK one, but its options and the
 *   purpose check differ.
 * Seeded: a failure names its input index, which replays alone.
 */
import { describe, expect, it } from 'vitest';
import { mutateBytes, pickOne, prng, randInt } from '@imslab/fuzz';
import { MikeyError, MikeyParseError, MikeyProtocolError, MikeyReplayError, MikeySakkeError, receiveCskIMessage, receiveGmkIMessage, ReplayCache, type ReceiveCskOptions, type ReceiveGmkOptions } from '../src/index.ts';
import { cskWorld, GMS_URI, KMS_URI, NOW, sakkeWorld } from './sakke-world.ts';

const INPUTS = 10_000;
const BOUND_MS = 50;
const FORGERIES = 200;
const SEED = 0x6509;
/** Seed of the CSK run: other mutations than the GMK run's. */
const CSK_SEED = 0x33180;

const w = sakkeWorld();
const c = cskWorld(w);
const seeds = [w.build('alice').bytes, w.build('alice', { profile: 'AEAD_AES_128_GCM' }).bytes, w.build('alice', { rand: new Uint8Array(32).fill(7) }).bytes];
const cskSeeds = [c.build('alice').bytes, c.build('alice', { profile: 'AEAD_AES_256_GCM' }).bytes, c.build('alice', { rand: new Uint8Array(32).fill(7) }).bytes];
/** Octets spliced into mutations besides the seeds: a data type, IDR, SAKKE and SIGN payload starts. */
const tokens = [Uint8Array.of(26), Uint8Array.of(0x0e, 0x01, 0x01), Uint8Array.of(0x0e, 0x06, 0x01), Uint8Array.of(0x1a), Uint8Array.of(0x04, 0x01, 0x01, 0x01)];
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Input i of a run, from its own seeded source: replays alone. */
function input(i: number, seed0: number, bases: readonly Uint8Array[]): { bytes: Uint8Array; seed: Uint8Array } {
  const rnd = prng((Math.imul(seed0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0);
  const seed = pickOne(rnd, bases);
  if (rnd() < 0.02) return { bytes: Uint8Array.from({ length: randInt(rnd, 700) }, () => randInt(rnd, 256)), seed };
  return { bytes: mutateBytes(rnd, seed, [...bases, ...tokens], 8192), seed };
}

/** What receiving gave: the error thrown, or the key when it was accepted. */
function attempt(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    return e;
  }
}

function receive(b: Uint8Array, o: ReceiveGmkOptions): unknown {
  return attempt(() => receiveGmkIMessage(b, o));
}

/** One fuzz run over a receiver: `parseOnly` receives without any KPAK, `verify` with the real one. */
interface FuzzRun {
  name: string;
  seed: number;
  bases: readonly Uint8Array[];
  parseOnly: (b: Uint8Array) => unknown;
  verify: (b: Uint8Array) => unknown;
}

function fuzz(run: FuzzRun): void {
  const tally: Record<string, number> = {};
  let worst = 0;
  let forgeries = 0;
  for (let i = 0; i < INPUTS; i++) {
    const { bytes, seed } = input(i, run.seed, run.bases);
    const what = `${run.name} input #${i} (seed ${run.seed}) ${hex(bytes).slice(0, 200)}`;
    let ms = Infinity;
    let r: unknown;
    for (let k = 0; k < 3 && ms >= BOUND_MS; k++) {
      const t0 = performance.now();
      r = run.parseOnly(bytes);
      ms = Math.min(ms, performance.now() - t0);
    }
    worst = Math.max(worst, ms);
    if (ms >= BOUND_MS) throw new Error(`${what}: ${ms.toFixed(1)} ms, over the ${BOUND_MS} ms bound`);
    if (!(r instanceof MikeyError)) throw new Error(`${what}: ${r instanceof Error ? `threw ${r.name}: ${r.message}\n${r.stack}` : 'accepted without a KPAK'}`);
    if (r instanceof MikeyParseError && (r.offset < 0 || r.offset > bytes.length)) throw new Error(`${what}: parse error offset ${r.offset} outside 0..${bytes.length}`);
    const parsedWhole = r instanceof MikeySakkeError && r.reason === 'unknown-kms';
    const kind = parsedWhole ? 'parsed' : r instanceof MikeyParseError ? 'parse-error' : r.name;
    tally[kind] = (tally[kind] ?? 0) + 1;
    // A forgery: parses whole but is not what the signer signed. With the real KPAK it never gives a key.
    if (parsedWhole && forgeries < FORGERIES && !eq(bytes, seed)) {
      forgeries++;
      const v = run.verify(bytes);
      if (!(v instanceof MikeyError)) throw new Error(`${what}: a forged I_MESSAGE ${v instanceof Error ? `threw ${v.name}: ${v.message}` : 'was accepted'}`);
      tally[`forged:${v instanceof MikeySakkeError ? v.reason : v.name}`] = (tally[`forged:${v instanceof MikeySakkeError ? v.reason : v.name}`] ?? 0) + 1;
    }
  }
  console.log(`${run.name} fuzz: ${INPUTS} inputs, worst ${worst.toFixed(2)} ms: ${JSON.stringify(tally)}`);
  // The mutations reach past the decoder (messages that parse whole) and the decoder refuses most.
  expect(tally.parsed ?? 0).toBeGreaterThan(INPUTS / 50);
  expect(tally['parse-error'] ?? 0).toBeGreaterThan(INPUTS / 2);
  expect(forgeries).toBe(FORGERIES);
  expect(worst).toBeLessThan(BOUND_MS);
}

describe('MIKEY-SAKKE I_MESSAGE fuzz', { timeout: 120_000 }, () => {
  it(`${INPUTS.toLocaleString('en')} mutated I_MESSAGEs: each parses or is refused with a MikeyError, none over ${BOUND_MS} ms; altered ones never verify`, () => {
    const parseOnly: ReceiveGmkOptions = { ...w.opts('alice'), kpakFor: () => undefined, nowMs: NOW + 1000 };
    fuzz({ name: 'sakke I_MESSAGE', seed: SEED, bases: seeds, parseOnly: (b) => receive(b, { ...parseOnly, replay: new ReplayCache() }), verify: (b) => receive(b, w.opts('alice')) });
  });

  it(`${INPUTS.toLocaleString('en')} mutated CSK I_MESSAGEs at the MCPTT server: the same, through receiveCskIMessage`, () => {
    // No expected initiator on the parse path, so a well-formed message with a mutated IDRi still reaches 'unknown-kms'.
    const parseOnly: ReceiveCskOptions = { ...c.opts('alice'), expectedInitiator: undefined, kpakFor: () => undefined };
    fuzz({ name: 'sakke CSK I_MESSAGE', seed: CSK_SEED, bases: cskSeeds, parseOnly: (b) => attempt(() => receiveCskIMessage(b, { ...parseOnly, replay: new ReplayCache() })), verify: (b) => attempt(() => receiveCskIMessage(b, c.opts('alice'))) });
  });

  it('a forged signer and replays are refused; the genuine message is accepted once', () => {
    const genuine = w.build('alice');
    const alice = w.opts('alice');
    const got = receive(genuine.bytes, alice);
    expect(got).not.toBeInstanceOf(Error);
    expect((got as { gmk: Uint8Array }).gmk).toEqual(w.gmk);
    // Replayed to the same member: refused by the replay cache.
    expect(receive(genuine.bytes, alice)).toBeInstanceOf(MikeyReplayError);
    // Replayed to another member: not addressed to it.
    const toBob = receive(genuine.bytes, w.opts('bob'));
    expect(toBob).toBeInstanceOf(MikeyProtocolError);
    expect((toBob as MikeyProtocolError).reason).toBe('identity-mismatch');
    // Mallory (a valid key of the same KMS) signs in the group management server's name.
    const forged = w.build('alice', { initiator: { uri: GMS_URI, kmsUri: KMS_URI, kpak: w.kpak, key: w.malloryKey } });
    const f = receive(forged.bytes, w.opts('alice'));
    expect(f).toBeInstanceOf(MikeySakkeError);
    expect((f as MikeySakkeError).reason).toBe('signature-invalid');
  });
});

describe('I_MESSAGE regressions from the 1,000,000-input bench', () => {
  it('a header and nothing else (iteration 723588, seed 0x1309f1) is refused at an offset inside the message', () => {
    const bytes = Buffer.from('011a00010e0601660001', 'hex');
    let err: unknown;
    try {
      receiveGmkIMessage(bytes, {} as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MikeyError);
    const off = (err as MikeyError & { offset: number }).offset;
    expect(off).toBeGreaterThanOrEqual(0);
    expect(off).toBeLessThan(bytes.length);
  });
});
