/**
 * Issue 13 point 3 and issue 11 point 9, `npm run bench` part for the
 * messaging and push-to-talk parsers: `inputsPerParser` (default 1,000,000)
 * seeded mutations per parser of real messages built with the packages' own
 * encoders, each timed. Input i comes from `prng` seeded with (seed, i), so a
 * crash replays from its iteration alone. A crash is anything thrown that is
 * not the parser's typed error, a typed error that hides a JavaScript crash,
 * or a broken property of an accepted input; an input still over 50 ms when
 * re-timed (twice, fastest kept, so a GC pause does not count) is a hang.
 * Run alone: `npx tsx packages/fuzz/bench/parsers-bench-messaging-floor.ts [inputs]` (`IMSLAB_FUZZ_ONLY=msrp,cms` for some parsers only).
 *
 * Parsers:
 * - msrp.MsrpStreamParser: streams of valid SEND/REPORT/response frames with
 *   one mutated frame (or random bytes) inside, parsed whole and in random
 *   pieces; events must be frames, `invalid` or one final fatal `error`, all
 *   MsrpParseError of a known code (never the "internal parser error"
 *   catch-all); the same events whatever the split; frames before the bad one
 *   byte-identical; inspectFrame on every frame is total.
 * - cpim.parseCpim: mutated RFC 3862 messages (bytes and text); a message whose
 *   body is the input's tail after a blank line, or a CpimParseError with a line.
 * - cms.envelope: mutated, truncated and random DER of AuthEnvelopedData,
 *   EnvelopedData and SignedData: parseContentInfo on every input,
 *   listRecipients (the whole Enveloped/AuthEnvelopedData and RecipientInfo
 *   parse) on every 4th, decryptContent as the real recipient on every 1000th
 *   (WebCrypto key agreement, about 2.5 ms: too slow for every input; a GCM
 *   envelope that decrypts must give exactly the sealed content). Refusals are
 *   CmsErrors of a protocol code whose message and causes are not a TypeError
 *   or RangeError of packages/cms/src in disguise.
 * - floor.decodeFloorMessage: mutated and random TS 24.380 RTCP APP MCPT
 *   packets; a FloorDecodeError value (never thrown) with an offset inside the
 *   packet, or a message that re-encodes to a packet decoding to the same.
 * - floor.compound: decodeFloorControlPacket and findClearFloorControl on
 *   compounds (RR/SR + mutated MCPT, mutated + mutated); never a throw, and
 *   what decodes whole is what the clear-text check finds.
 * - mikey-sakke.I_MESSAGE: mutated RFC 6509 I_MESSAGEs through
 *   receiveGmkIMessage with no KPAK known, so the whole parse (decode,
 *   grammar, IDRi/IDRr/IDRkmsi, timestamp window, SIGN type) runs and a
 *   well-formed message stops at 'unknown-kms' before any crypto; every other
 *   outcome must be a MikeyError. Signature verification is not in this
 *   bench: about a tenth of the inputs parse whole, and an ECCSI verification
 *   (about 3 ms) for each would make a 1,000,000 run five minutes longer
 *   (SAKKE decapsulation, about 100 ms, even more);
 *   packages/mikey/test/sakke-fuzz.test.ts verifies 200 forged ones and replays.
 */
import { fileURLToPath } from 'node:url';
import {
  buildCpim, buildSecureMessage, CmsError, CpimParseError, decryptContent, encryptContent, listRecipients, parseContentInfo, parseCpim,
} from '@imslab/cms';
import { decodeFloorControlPacket, decodeFloorMessage, encodeFloorMessage, findClearFloorControl, FloorDecodeError, type FloorMessage } from '@imslab/floor-control';
import { MikeyError, MikeyParseError, receiveGmkIMessage, ReplayCache, type ReceiveGmkOptions } from '@imslab/mikey';
import {
  buildReport, buildResponse, buildSend, inspectFrame, MsrpParseError, MsrpStreamParser, serializeFrame, type MsrpFrame, type MsrpUri, type ParseEvent,
} from '@imslab/msrp';
import { prng, mutateBytes, mutateText, pickOne, randInt, type Rnd } from '../src/index.ts';
import { CPIM_SEEDS, testPki, type TestPki } from '../../cms/test/helpers.ts';
import { concat, everyMessage, minimalMessages, receiverReport, senderReport } from '../../floor-control/test/helpers.ts';
import { NOW, sakkeWorld } from '../../mikey/test/sakke-world.ts';
import { PER_INPUT_BOUND_MS, SAKKE_I_MESSAGE, type ParserFuzzResult } from './parsers-bench-sip-sdp-mikey.ts';

/** One parser's result: the fields the other fuzz benches report, and what helps replay a finding. */
export interface MessagingFuzzBenchRow extends Pick<ParserFuzzResult, 'parser' | 'inputs' | 'accepted' | 'rejected' | 'crashes' | 'hangs' | 'worstMs' | 'worstInput'> {
  inputsPerSec: number;
  /** The first crash, for replay: seed, iteration, what was thrown, the input. */
  firstCrash?: string;
  /** The first input over the bound, for replay. */
  firstHang?: string;
  /** How many crashes of each kind (the error's first words), to tell one bug from many. */
  crashKinds: Record<string, number>;
}

/** The time bound of one input, ms: the same for every parser fuzz bench. */
const MESSAGING_BOUND_MS = PER_INPUT_BOUND_MS;
const SEED = 0x13_09f1;

/** A property of a parser broken by one input. */
class BrokenProperty extends Error {
  override name = 'BrokenProperty';
}
function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new BrokenProperty(what);
}

const inputRnd = (seed: number, i: number): Rnd => prng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

type Outcome = 'accepted' | 'rejected';

interface Target<T> {
  name: string;
  input(rnd: Rnd, i: number): T;
  run(input: T): Outcome | Promise<Outcome>;
  show(input: T): string;
}

async function drive<T>(t: Target<T>, n: number, seed: number): Promise<MessagingFuzzBenchRow> {
  const row: MessagingFuzzBenchRow = { parser: t.name, inputs: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0, worstMs: 0, worstInput: -1, inputsPerSec: 0, crashKinds: {} };
  const once = async (input: T): Promise<Outcome | Error> => {
    try {
      const r = t.run(input);
      return typeof r === 'string' ? r : await r;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  };
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const input = t.input(inputRnd(seed, i), i);
    const t0 = performance.now();
    const out = await once(input);
    let ms = performance.now() - t0;
    if (out === 'accepted') row.accepted++;
    else if (out === 'rejected') row.rejected++;
    else {
      row.crashes++;
      const kind = `${out.name}: ${out.message.replace(/: \{.*$|[0-9]+/gs, '').slice(0, 140).trim()}`;
      row.crashKinds[kind] = (row.crashKinds[kind] ?? 0) + 1;
      row.firstCrash ??= `seed ${seed} iteration ${i}: ${out.name}: ${out.message.slice(0, 300)} ${(out.stack ?? '').split('\n').slice(1, 3).join(' ').trim()} | input ${t.show(input).slice(0, 400)}`;
    }
    for (let retry = 0; retry < 2 && ms >= MESSAGING_BOUND_MS; retry++) {
      const t1 = performance.now();
      await once(input);
      ms = Math.min(ms, performance.now() - t1);
    }
    if (ms >= MESSAGING_BOUND_MS) {
      row.hangs++;
      row.firstHang ??= `seed ${seed} iteration ${i}: over the bound, ${ms.toFixed(1)} ms | input ${t.show(input).slice(0, 400)}`;
    }
    if (ms > row.worstMs) {
      row.worstMs = ms;
      row.worstInput = i;
    }
    row.inputs++;
    // Let the event loop breathe now and then (the CMS target awaits; the others are synchronous).
    if ((i & 0xffff) === 0xffff) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  row.inputsPerSec = row.inputs / Math.max((performance.now() - start) / 1000, 1e-9);
  return row;
}

// ---------------------------------------------------------------- MSRP

const PARSE_CODES = new Set([
  'bad-start-line', 'bad-transaction-id', 'line-too-long', 'headers-too-large', 'bad-header', 'body-too-large', 'unexpected-body',
  'missing-header', 'header-order', 'duplicate-header', 'bad-uri', 'bad-byte-range', 'bad-status', 'bad-value', 'stream-failed',
]);
const MSRP_EXTRA = ['\r\n', '-------', '$', '+', '#', 'MSRP ', ': ', '\r\n-------', 'Byte-Range: ', '1-*/*', 'To-Path: ', 'From-Path: ', 'msrps://', ';tcp', 'Message-ID: ', 'Content-Type: '];

function msrpFrames(): Buffer[] {
  const alice: MsrpUri = { scheme: 'msrp', host: 'a.example', port: 7777, sessionId: 'sa1', transport: 'tcp', params: [] };
  const bob: MsrpUri = { scheme: 'msrps', host: 'b.example', sessionId: 'sb1', transport: 'tcp', params: [] };
  const relay: MsrpUri = { scheme: 'msrps', host: 'relay.ims.example', port: 2855, sessionId: 'r9', transport: 'tcp', params: [] };
  const bodies = [Buffer.from('hello'), Buffer.from(''), Buffer.from('line one\r\n-------other$\r\nline two'), Buffer.from(Array.from({ length: 300 }, (_, k) => (k * 37) & 0xff))];
  const out: Buffer[] = [];
  bodies.forEach((body, k) => {
    for (const flag of ['$', '+', '#'] as const) {
      out.push(serializeFrame(buildSend({
        toPath: k % 2 ? [relay, bob] : [bob], fromPath: [alice], messageId: `msg${k}${flag === '$' ? 'e' : flag === '+' ? 'p' : 'a'}`, body, contentType: k === 3 ? 'application/octet-stream' : 'text/plain',
        byteRange: { start: 1, end: body.length, total: k === 2 ? undefined : body.length }, continuation: flag, transactionId: `tx${k}${'epa'['$+#'.indexOf(flag)]}abcd`,
      })));
    }
  });
  out.push(serializeFrame({ ...buildReport({ sendFromPath: [alice], localUri: bob, messageId: 'msg0e', byteRange: { start: 1, end: 5, total: 5 }, status: 200 }), transactionId: 'rp0abcdef' }));
  for (const status of [200, 400, 403, 413, 481] as const) out.push(serializeFrame(buildResponse({ transactionId: `rs${status}abcd`, fromPath: [alice] }, bob, status)));
  return out;
}

/** A frame's wire form, or undefined when the frame cannot be written back (see the round-trip check). */
function wire(f: MsrpFrame): Buffer | undefined {
  try {
    return serializeFrame(f);
  } catch {
    return undefined;
  }
}
const summarize = (evs: ParseEvent[]): string => evs.map((e) => (e.kind === 'frame' ? `F${JSON.stringify({ ...e.frame, body: e.frame.kind === 'request' ? e.frame.body?.toString('hex') : undefined })}` : `${e.kind}:${e.error.code}`)).join('\u0000|');

function checkMsrpEvents(evs: ParseEvent[]): void {
  evs.forEach((e, k) => {
    if (e.kind === 'frame') {
      const r = inspectFrame(e.frame);
      if (!r.ok) must(r.error instanceof MsrpParseError && PARSE_CODES.has(r.error.code) && r.error.message.length > 0, `inspectFrame refusal untyped: ${String(r.error)}`);
      // Not checked: that serializeFrame writes every accepted frame back. The builder is stricter than the
      // receiver (it refuses status "013", which the 3DIGIT grammar allows, and a body holding
      // "-------<tid>" not followed by a flag), so such frames parse but are not re-sent as they are.
      return;
    }
    must(e.error instanceof MsrpParseError, `a ${e.kind} event without an MsrpParseError: ${String(e.error)}`);
    must(PARSE_CODES.has(e.error.code), `unknown code ${e.error.code}`);
    must(e.error.message.length > 0 && !/internal parser error/.test(e.error.message), `parser catch-all reached: ${e.error.message}`);
    if (e.kind === 'error') must(e.error.fatal && k === evs.length - 1, 'a fatal error that is not the last event');
    else must(!e.error.fatal, 'an invalid event marked fatal');
  });
}

const msrpTarget = (): Target<{ prefix: Buffer[]; stream: Buffer; cuts: number[] }> => {
  const frames = msrpFrames();
  return {
    name: 'msrp.MsrpStreamParser',
    input(rnd) {
      const prefix = Array.from({ length: randInt(rnd, 3) }, () => pickOne(rnd, frames));
      let bad: Buffer;
      if (rnd() < 0.08) {
        bad = Buffer.from(Array.from({ length: randInt(rnd, 300) }, () => randInt(rnd, 256)));
        if (rnd() < 0.5) bad = Buffer.concat([Buffer.from(`MSRP fz${randInt(rnd, 1e6)}x SEND\r\n`), bad]);
      } else if (rnd() < 0.5) {
        bad = Buffer.from(mutateBytes(rnd, pickOne(rnd, frames), frames));
      } else {
        bad = Buffer.from(mutateText(rnd, pickOne(rnd, frames).toString('latin1'), MSRP_EXTRA, 70_000), 'latin1');
      }
      const stream = Buffer.concat([...prefix, bad, ...Array.from({ length: randInt(rnd, 3) }, () => pickOne(rnd, frames))]);
      const cuts = Array.from({ length: randInt(rnd, 8) }, () => randInt(rnd, stream.length + 1)).sort((a, b) => a - b);
      return { prefix, stream, cuts };
    },
    run({ prefix, stream, cuts }) {
      const p = new MsrpStreamParser();
      const whole = [...p.push(stream), ...p.end()];
      checkMsrpEvents(whole);
      const q = new MsrpStreamParser();
      const split: ParseEvent[] = [];
      let at = 0;
      for (const c of [...cuts, stream.length]) {
        split.push(...q.push(stream.subarray(at, c)));
        at = c;
      }
      split.push(...q.end());
      must(summarize(whole) === summarize(split), 'different events when the stream arrives in pieces');
      // Loses no earlier message: the frames before the bad one come out byte-identical.
      prefix.forEach((f, k) => must(whole[k]?.kind === 'frame' && wire(whole[k].frame)?.equals(f), `frame ${k} before the bad one not intact`));
      return whole.every((e) => e.kind === 'frame') ? 'accepted' : 'rejected';
    },
    show: ({ stream, cuts }) => `${JSON.stringify(stream.toString('latin1'))} cuts ${cuts.join(',')}`,
  };
};

// ---------------------------------------------------------------- CPIM

const CPIM_EXTRA = ['From: ', 'To: ', 'cc: ', 'DateTime: ', 'NS: ', 'Require: ', 'Subject:;lang=', '<sip:a@b>', '"\\"', '2026-13-45T99:99:99Z', 'imdn.', '\r\n\r\n', 'Content-Type: ', ';p="\\'];

const cpimTarget = (): Target<Uint8Array> => {
  const seeds = CPIM_SEEDS;
  const valid = seeds.map((s) => buildCpim(s));
  return {
    name: 'cpim.parseCpim',
    input(rnd) {
      const r = rnd();
      if (r < 0.05) return Uint8Array.from({ length: randInt(rnd, 400) }, () => (rnd() < 0.25 ? pickOne(rnd, [13, 10, 58, 32, 60, 62, 34, 59]) : randInt(rnd, 256)));
      if (r < 0.5) return mutateBytes(rnd, pickOne(rnd, valid), valid);
      return Buffer.from(mutateText(rnd, Buffer.from(pickOne(rnd, valid)).toString('latin1'), CPIM_EXTRA, 70_000), rnd() < 0.8 ? 'latin1' : 'utf8');
    },
    run(b) {
      try {
        const m = parseCpim(b);
        must(m.from.uri.length > 0 && m.to.length > 0 && m.to.every((a) => a.uri.length > 0), 'addresses');
        must(m.contentType.length > 0 && m.headers.length >= 2, 'headers');
        must(eq(b.subarray(b.length - m.body.length), m.body), 'body is not the tail of the input');
        must(m.dateTime === undefined || !Number.isNaN(m.dateTime.getTime()), 'DateTime');
        return 'accepted';
      } catch (e) {
        if (e instanceof BrokenProperty) throw e;
        must(e instanceof CpimParseError, `parseCpim threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        must(e.code === 'cpim-malformed' && Number.isInteger(e.line) && e.line >= 0 && !CRASH.test(e.message), `CpimParseError: ${e.message}`);
        return 'rejected';
      }
    },
    show: (b) => hex(b),
  };
};

// ---------------------------------------------------------------- CMS

/** What a JavaScript crash says, also when a boundary turned it into a CmsError message. */
const CRASH = /Cannot read propert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid array length|out of range/i;

function cmsRefusal(e: unknown, what: string): 'rejected' {
  if (e instanceof BrokenProperty) throw e;
  must(e instanceof CmsError, `${what} threw a non-CmsError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  must(e.code !== 'bad-argument' && e.message.trim().length > 0, `${what}: code ${e.code}: ${e.message}`);
  must(!CRASH.test(e.message), `${what}: a crash in a CmsError's clothing: ${e.message}`);
  for (let c: unknown = e.cause; c instanceof Error; c = c.cause) {
    const ours = /packages\/cms\/src\//.test((c.stack ?? '').split('\n')[1] ?? '');
    must(!(ours && (c instanceof TypeError || c instanceof RangeError || c instanceof ReferenceError)), `${what}: internal ${c.name}: ${c.message}`);
  }
  return 'rejected';
}

interface CmsInput { bytes: Uint8Array; recipients: boolean; decrypt: boolean; base: number }

async function cmsTarget(): Promise<Target<CmsInput>> {
  const p: TestPki = await testPki();
  const T0 = new Date('2026-12-02T10:00:00Z');
  const msg = { from: { uri: 'sip:bob@ims.example' }, to: { uri: 'sip:dave@ims.example' }, contentType: 'text/plain;charset=utf-8', body: 'fuzz me' };
  const opts = { signer: p.bob.credential, recipients: [p.dave.credential.certificate], signingTime: T0 };
  const TINY = new TextEncoder().encode('Content-Type: text/plain\r\n\r\ntiny');
  const bases = [
    await encryptContent(TINY, [p.dave.credential.certificate]),
    await encryptContent(TINY, [p.dave.credential.certificate], { kind: 'enveloped' }),
    (await buildSecureMessage(msg, opts)).body,
    (await buildSecureMessage(msg, { ...opts, encryption: 'enveloped' })).body,
    (await buildSecureMessage(msg, { ...opts, encryption: 'none' })).body,
    (await buildSecureMessage(msg, { ...opts, recipients: [p.carol.credential.certificate, p.dave.credential.certificate] })).body,
  ];
  return {
    name: 'cms.envelope',
    input(rnd, i) {
      const base = randInt(rnd, bases.length);
      const b = bases[base]!;
      const r = rnd();
      let bytes: Uint8Array;
      if (r < 0.04) {
        bytes = Uint8Array.from({ length: randInt(rnd, 400) }, () => randInt(rnd, 256));
        // Half of them DER-looking: a SEQUENCE header whose length may or may not tell the truth.
        if (bytes.length > 4 && rnd() < 0.5) bytes.set([0x30, 0x82, ((bytes.length - 4 + randInt(rnd, 3) - 1) >> 8) & 0xff, (bytes.length - 4) & 0xff]);
      } else if (r < 0.08) {
        bytes = b.subarray(0, randInt(rnd, b.length));
      } else {
        bytes = mutateBytes(rnd, b, bases);
        if (rnd() < 0.3) {
          // A DER length that lies, or a tag changed to another one.
          const c = Uint8Array.from(bytes);
          if (c.length) c[randInt(rnd, c.length)] = pickOne(rnd, [0x80, 0x81, 0x82, 0x83, 0x84, 0x89, 0xff, 0x00, 0x30, 0x31, 0x02, 0x04, 0x06, 0xa0, 0xa1, 0x1f]);
          bytes = c;
        }
      }
      return { bytes, recipients: i % 4 === 1, decrypt: i % 1000 === 999, base };
    },
    async run({ bytes, recipients, decrypt, base }) {
      let out: Outcome = 'accepted';
      try {
        const ci = parseContentInfo(bytes);
        must(typeof ci.contentType === 'string' && ci.content !== undefined, 'ContentInfo without type or content');
      } catch (e) {
        out = cmsRefusal(e, 'parseContentInfo');
      }
      if (recipients) {
        try {
          const l = listRecipients(bytes);
          must(l.length > 0 && l.every((x) => typeof x === 'string' && x.length > 0), 'recipients not described');
        } catch (e) {
          out = cmsRefusal(e, 'listRecipients');
        }
      }
      if (decrypt) {
        try {
          const d = await decryptContent(bytes, p.dave.credential);
          // AES-GCM authenticates: what decrypts is exactly what was sealed.
          if (base === 0) must(d.kind !== 'auth-enveloped' || eq(d.content, TINY), 'GCM gave altered plaintext');
        } catch (e) {
          out = cmsRefusal(e, 'decryptContent');
        }
      }
      return out;
    },
    show: ({ bytes }) => hex(bytes),
  };
}

// ---------------------------------------------------------------- MCPTT floor control

const floorSeeds = (): Uint8Array[] => [...everyMessage().map((x) => x.message), ...minimalMessages()].map(encodeFloorMessage);

/** Mutations a hostile or broken sender could produce (as in packages/floor-control/test/codec-fuzz.test.ts, plus @imslab/fuzz's). */
function floorMutant(rnd: Rnd, seeds: Uint8Array[]): Uint8Array {
  if (rnd() < 0.3) return mutateBytes(rnd, pickOne(rnd, seeds), seeds, 4096);
  let b: Uint8Array = Uint8Array.from(pickOne(rnd, seeds));
  for (let k = 1 + randInt(rnd, 4); k > 0; k--) {
    const op = randInt(rnd, 6);
    const at = randInt(rnd, Math.max(1, b.length));
    if (op === 0) b[at] = randInt(rnd, 256);
    else if (op === 1) b[at] = b[at]! ^ (1 << randInt(rnd, 8));
    else if (op === 2) b = b.subarray(0, at);
    else if (op === 3) b = concat(b, Uint8Array.from({ length: 1 + randInt(rnd, 8) }, () => randInt(rnd, 256)));
    else if (op === 4 && b.length > 12) b[12 + randInt(rnd, b.length - 12)] = pickOne(rnd, [0, 6, 11, 14, 200, 255]);
    else if (b.length >= 4) b[3] = randInt(rnd, 16);
  }
  return b;
}

function floorRandom(rnd: Rnd): Uint8Array {
  const len = randInt(rnd, 64);
  const b = Uint8Array.from({ length: len }, () => randInt(rnd, 256));
  if (len >= 12 && rnd() < 0.5) {
    b[0] = 0x80 | (b[0]! & 0x1f);
    b[1] = 204;
    b[2] = 0;
    b[3] = rnd() < 0.5 ? Math.floor(len / 4) - 1 : b[3]!;
    b.set([0x4d, 0x43, 0x50, 0x54], 8);
  }
  return b;
}

const sameMessages = (a: readonly FloorMessage[], b: readonly FloorMessage[] | undefined): boolean => b !== undefined && a.length === b.length && a.every((m, k) => eq(encodeFloorMessage(m), encodeFloorMessage(b[k]!)));

const floorMessageTarget = (): Target<Uint8Array> => {
  const seeds = floorSeeds();
  return {
    name: 'floor.decodeFloorMessage',
    input: (rnd) => (rnd() < 0.1 ? floorRandom(rnd) : floorMutant(rnd, seeds)),
    run(b) {
      const r = decodeFloorMessage(b);
      if (!r.ok) {
        must(r.error instanceof FloorDecodeError && r.error.offset >= 0 && r.error.offset <= b.length, `decode error ${String(r.error)} (offset outside 0..${b.length})`);
        return 'rejected';
      }
      // A packet we accept is one we can write back: its re-encoding decodes to the same message.
      const again = decodeFloorMessage(encodeFloorMessage(r.message));
      must(again.ok && sameMessages([r.message], [again.message]), 're-encoded message does not decode to itself');
      return 'accepted';
    },
    show: hex,
  };
};

const floorCompoundTarget = (): Target<Uint8Array> => {
  const seeds = floorSeeds();
  return {
    name: 'floor.compound',
    input(rnd) {
      const r = rnd();
      if (r < 0.35) return concat(receiverReport(7), floorMutant(rnd, seeds));
      if (r < 0.5) return concat(senderReport(9), pickOne(rnd, seeds), floorMutant(rnd, seeds));
      if (r < 0.65) return mutateBytes(rnd, concat(receiverReport(7), pickOne(rnd, seeds), pickOne(rnd, seeds)), seeds, 4096);
      return concat(floorMutant(rnd, seeds), floorMutant(rnd, seeds));
    },
    run(d) {
      const r = decodeFloorControlPacket(d);
      if (!r.ok) must(r.error instanceof FloorDecodeError && r.error.offset >= 0 && r.error.offset <= d.length, `compound decode error ${String(r.error)}`);
      const clear = findClearFloorControl(d);
      if (clear) must(clear.messages.length > 0 && clear.trailingOctets >= 0, 'clear-text check found nothing it reports');
      // Whatever decodes as a whole compound is also found by the clear-text check.
      if (r.ok && r.messages.length > 0) must(sameMessages(r.messages, clear?.messages), 'clear-text check misses a decodable compound');
      return r.ok ? 'accepted' : 'rejected';
    },
    show: hex,
  };
};

// ---------------------------------------------------------------- MIKEY-SAKKE I_MESSAGE

const SAKKE_EXTRA_BYTES = [Uint8Array.of(26), Uint8Array.of(0x0e, 0x01, 0x01), Uint8Array.of(0x0e, 0x06, 0x01), Uint8Array.of(0x1a), Uint8Array.of(0x04, 0x01, 0x01, 0x01)];

const sakkeTarget = (): Target<Uint8Array> => {
  const w = sakkeWorld();
  const seeds = [
    w.build('alice').bytes,
    w.build('alice', { profile: 'AEAD_AES_128_GCM' }).bytes,
    w.build('bob', { rand: new Uint8Array(32).fill(7) }).bytes,
    SAKKE_I_MESSAGE(),
  ];
  const others = [...seeds, ...SAKKE_EXTRA_BYTES];
  const base: ReceiveGmkOptions = { ...w.opts('alice'), kpakFor: () => undefined, nowMs: NOW + 1000 };
  return {
    name: 'mikey-sakke.I_MESSAGE',
    input(rnd) {
      if (rnd() < 0.02) return Uint8Array.from({ length: randInt(rnd, 700) }, () => randInt(rnd, 256));
      return mutateBytes(rnd, pickOne(rnd, seeds), others, 8192);
    },
    run(b) {
      try {
        receiveGmkIMessage(b, { ...base, replay: new ReplayCache() });
      } catch (e) {
        must(e instanceof MikeyError, `receiveGmkIMessage threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        if (e instanceof MikeyParseError) must(e.offset >= 0 && e.offset <= b.length, `parse error offset ${e.offset} outside 0..${b.length}`);
        // Parsed whole (grammar, identities, timestamp, SIGN type) and stopped before any crypto: no KPAK for its KMS.
        return e.message.includes('(unknown-kms)') ? 'accepted' : 'rejected';
      }
      throw new BrokenProperty('an I_MESSAGE was accepted without a KPAK to verify it');
    },
    show: hex,
  };
};

// ---------------------------------------------------------------- bench

/**
 * Every messaging and floor-control parser fuzzed with `inputsPerParser`
 * inputs (1,000,000 in `npm run bench`; pass a small count for a smoke test).
 */
export async function runMessagingFuzzBench(inputsPerParser = 1_000_000, seed = SEED, onRow?: (row: MessagingFuzzBenchRow) => void, only?: readonly string[]): Promise<MessagingFuzzBenchRow[]> {
  const n = Math.max(1, Math.floor(inputsPerParser));
  const rows: MessagingFuzzBenchRow[] = [];
  const targets: Array<() => Target<never> | Promise<Target<never>>> = [
    msrpTarget, cpimTarget, cmsTarget, floorMessageTarget, floorCompoundTarget, sakkeTarget,
  ] as unknown as Array<() => Target<never> | Promise<Target<never>>>;
  for (const make of targets) {
    const t = await make();
    // `only`: parser names (or their start, e.g. "msrp"), to re-measure some after a fix.
    if (only?.length && !only.some((o) => t.name.startsWith(o))) continue;
    const row = await drive(t, n, seed);
    rows.push(row);
    onRow?.(row);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the event loop breathe between parsers
  }
  return rows;
}

/** The targets, for replaying one input: `input(inputRnd(seed, i), i)` then `run`. */
export { msrpTarget, cpimTarget, cmsTarget, floorMessageTarget, floorCompoundTarget, sakkeTarget, inputRnd, type Target };

/** One line per parser: inputs, crashes, hangs, worst ms per input, inputs/s (and the first crash or hang, when there is one). */
export function formatMessagingFuzzBench(r: readonly MessagingFuzzBenchRow[]): string {
  return r
    .map((x) => `fuzz ${x.parser.padEnd(26)} ${String(x.inputs).padStart(8)} inputs  ${String(x.crashes).padStart(3)} crashes  ${String(x.hangs).padStart(3)} hangs (>= ${MESSAGING_BOUND_MS} ms)  worst ${x.worstMs.toFixed(2).padStart(7)} ms/input (#${x.worstInput})  ${Math.round(x.inputsPerSec).toString().padStart(8)} inputs/s  (${x.accepted} accepted, ${x.rejected} rejected)${x.crashes ? `\n  crashes by kind: ${JSON.stringify(x.crashKinds)}\n  first crash: ${x.firstCrash}` : ''}${x.firstHang ? `\n  first hang: ${x.firstHang}` : ''}`)
    .join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? process.env.IMSLAB_FUZZ_INPUTS ?? 1_000_000);
  // One line per parser as it finishes (a long run shows its progress).
  const only = process.env.IMSLAB_FUZZ_ONLY?.split(',').map((x) => x.trim()).filter(Boolean);
  await runMessagingFuzzBench(n, SEED, (row) => console.log(formatMessagingFuzzBench([row])), only);
}
