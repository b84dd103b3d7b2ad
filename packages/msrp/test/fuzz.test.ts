/**
 * Issue 12 point 7: bad MSRP input gets a clear, typed refusal, loses no
 * earlier message and crashes nothing. Seeded (@imslab/fuzz's prng), so a
 * failure replays from its iteration number.
 *
 * - The streaming frame parser (10,000 streams): valid frames, then one frame
 *   mutated in a structured way (bit flips, truncation at every length class,
 *   insertions and deletions, duplicated and garbled headers, lying and absurd
 *   Byte-Range values, wrong end-lines, bad start lines, oversized lines),
 *   then more valid frames; plus pure random bytes. Properties: every event is
 *   a frame, a non-fatal `invalid` or one final fatal `error` with an
 *   MsrpParseError of a known code and a message (never the parser's
 *   "internal parser error" catch-all); every frame before the bad one comes
 *   out byte-identical; when the parser is back at a frame boundary after the
 *   bad frame, every later frame comes out byte-identical too; after a fatal
 *   error nothing more comes out (the documented "close the connection").
 * - Byte-Range (10,000 header values, 10,000 chunks): parseByteRange returns
 *   only consistent ranges or a bad-byte-range error; the reassembler refuses
 *   every lie it can detect with the matching MsrpByteRangeError, a refused
 *   chunk changes nothing, and the honest message still completes intact.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '@imslab/fuzz';
import {
  buildReport, buildResponse, buildSend, chunkMessage, formatByteRange, inspectFrame, MessageAssembler, MsrpByteRangeError,
  MsrpParseError, MsrpStreamParser, parseByteRange, parseFrames, Reassembler, serializeFrame, TRANSACTION_ID,
  type AddResult, type Chunk, type MsrpUri, type ParseEvent,
} from '../src/index.ts';

/** A cheap assertion for the hot loops (vitest's expect costs too much 100,000 times over). */
function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`fuzz property failed: ${what}`);
}
const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;

const PARSE_CODES = new Set([
  'bad-start-line', 'bad-transaction-id', 'line-too-long', 'headers-too-large', 'bad-header', 'body-too-large', 'unexpected-body',
  'missing-header', 'header-order', 'duplicate-header', 'bad-uri', 'bad-byte-range', 'bad-status', 'bad-value', 'stream-failed',
]);
const RANGE_CODES = new Set(['range-length-mismatch', 'range-beyond-total', 'range-total-mismatch', 'range-overlap', 'range-gap', 'range-after-end', 'message-too-large']);

const alice: MsrpUri = { scheme: 'msrp', host: 'a.example', port: 7777, sessionId: 'sa1', transport: 'tcp', params: [] };
const bob: MsrpUri = { scheme: 'msrps', host: 'b.example', sessionId: 'sb1', transport: 'tcp', params: [] };
const TRICKS = ['\r\n', '-------', '$', '+', '#', 'MSRP ', ': ', '\r\n-------', '\n', '\r', '\r\n\r\n', '\0'];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function tid(rnd: () => number): string {
  return Array.from({ length: 4 + int(rnd, 12) }, () => pick(rnd, [...ALNUM])).join('');
}

function randomBody(rnd: () => number): Buffer {
  const parts: Buffer[] = [];
  for (let n = int(rnd, 8); n > 0; n--) {
    const r = rnd();
    if (r < 0.3) parts.push(Buffer.from(pick(rnd, TRICKS)));
    else if (r < 0.4) parts.push(Buffer.from(`\r\n-------${tid(rnd)}$\r\n`));
    else parts.push(Buffer.from(Array.from({ length: int(rnd, 40) }, () => int(rnd, 256))));
  }
  return Buffer.concat(parts);
}

/** A well-formed SEND, REPORT or response; the Buffer is its wire form. */
function validFrame(rnd: () => number): Buffer {
  const t = tid(rnd);
  const r = rnd();
  if (r < 0.6) {
    let body = randomBody(rnd);
    // The sender must pick an id whose end-line the body does not hold (RFC 4975 sec. 7.1); the builder refuses otherwise.
    if (body.includes(`-------${t}`)) body = Buffer.from('x');
    const flag = pick(rnd, ['$', '+', '#'] as const);
    return serializeFrame(buildSend({
      toPath: [bob], fromPath: [alice], messageId: `m${tid(rnd)}`, body, contentType: 'text/plain',
      byteRange: { start: 1, end: body.length, total: rnd() < 0.5 ? body.length : undefined }, continuation: flag, transactionId: t,
    }));
  }
  if (r < 0.8) {
    const rep = buildReport({ sendFromPath: [alice], localUri: bob, messageId: `m${tid(rnd)}`, byteRange: { start: 1, end: 10, total: 10 }, status: 200 });
    return serializeFrame({ ...rep, transactionId: t });
  }
  return serializeFrame(buildResponse({ transactionId: t, fromPath: [alice] }, bob, pick(rnd, [200, 400, 403, 413, 481])));
}

const LYING_RANGES = [
  '1-5/3', '0-4/4', '-1-4/4', '5-2/10', '1-99999999999999999999/99999999999999999999', '1-9007199254740993/9007199254740993', '1-*/*',
  '18446744073709551616-1/2', 'a-b/c', '1-4/', '1-4', '', ' ', '1 - 4 / 4', '1-4/4;x', '١-٤/٤', '1-0x10/16', '1e3-2e3/3e3', '+1-4/4',
  '1-4/4\r', '*-*/*', '999999999999999-999999999999999/999999999999999', `${'9'.repeat(400)}-1/1`, '2-1/1', '1-0/0', '3-2/5',
];

function lyingRange(rnd: () => number): string {
  if (rnd() < 0.6) return pick(rnd, LYING_RANGES);
  const n = (): string => pick(rnd, [String(int(rnd, 100)), String(-int(rnd, 100)), '*', '9'.repeat(1 + int(rnd, 30)), 'x', '', String(2 ** 53 + int(rnd, 9))]);
  return `${n()}-${n()}/${n()}`;
}

/** One structured mutation of a frame's wire form. */
function mutateFrame(rnd: () => number, frame: Buffer): Buffer {
  const text = frame.toString('latin1');
  const headEnd = text.indexOf('\r\n');
  const lines = text.split('\r\n');
  const at = int(rnd, Math.max(1, frame.length));
  switch (int(rnd, 14)) {
    case 0: { // bit flip
      const b = Buffer.from(frame);
      b[at] = b[at]! ^ (1 << int(rnd, 8));
      return b;
    }
    case 1: { // truncation at a length class: start line, headers, body, end-line, last bytes
      const classes = [0, 1, 4, 5, headEnd, headEnd + 1, headEnd + 2, frame.length - 3, frame.length - 2, frame.length - 1, frame.length - int(rnd, 20), at];
      return frame.subarray(0, Math.max(0, Math.min(frame.length, pick(rnd, classes))));
    }
    case 2: // deletion of a span
      return Buffer.concat([frame.subarray(0, at), frame.subarray(Math.min(frame.length, at + 1 + int(rnd, 12)))]);
    case 3: // insertion of a framing trick or random byte
      return Buffer.concat([frame.subarray(0, at), rnd() < 0.7 ? Buffer.from(pick(rnd, TRICKS), 'latin1') : Buffer.from([int(rnd, 256)]), frame.subarray(at)]);
    case 4: { // duplicated header line
      const h = 1 + int(rnd, Math.max(1, lines.length - 3));
      lines.splice(h, 0, lines[h] ?? '');
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 5: { // garbled header line: no colon, bad name, NUL, bare LF, lower-case path
      const h = 1 + int(rnd, Math.max(1, lines.length - 3));
      const l = lines[h] ?? '';
      lines[h] = pick(rnd, [l.replace(':', ''), `@${l}`, `${l}\0`, l.replace(': ', ':\n'), ` ${l}`, l.toLowerCase(), `X-${'a'.repeat(20_000)}: v`, ': empty-name']);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 6: { // a Byte-Range that lies, is absurd or is not a number
      const value = lyingRange(rnd);
      const i = lines.findIndex((l) => l.startsWith('Byte-Range:'));
      if (i >= 0) lines[i] = `Byte-Range: ${value}`;
      else lines.splice(Math.min(3, lines.length - 1), 0, `Byte-Range: ${value}`);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 7: { // wrong boundary: the end-line names another transaction, has a bad flag, misses its CRLF or a dash
      const last = lines.length - 2; // lines ends with '' after the final CRLF
      const id = (lines[0] ?? '').split(' ')[1] ?? 'xxxx';
      lines[last] = pick(rnd, [`-------${id}X$`, `-------${tid(rnd)}$`, `-------${id}!`, `------${id}$`, `--------${id}$`, `-------${id}`, `-------${id}$$`]);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 8: // CRLF -> LF somewhere
      return Buffer.from(text.replace('\r\n', pick(rnd, ['\n', '\r', '\r\r\n'])), 'latin1');
    case 9: { // oversize start line or header block
      const extra = 'A'.repeat(pick(rnd, [1100, 17_000]));
      return rnd() < 0.5 ? Buffer.from(text.replace(' ', ` ${extra}`), 'latin1') : Buffer.from(text.replace('\r\n', `\r\nX-Pad: ${extra}\r\n`), 'latin1');
    }
    case 10: { // bad transaction id in the start line
      const id = (lines[0] ?? '').split(' ')[1] ?? '';
      return Buffer.from(text.replace(` ${id} `, ` ${pick(rnd, ['abc', 'a'.repeat(33), 'ab$d', '-abc', '', 'a b c', 'ab\0cd'])} `), 'latin1');
    }
    case 11: { // bad method or status
      const [m, id, rest] = (lines[0] ?? '').split(' ');
      lines[0] = `${m} ${id} ${pick(rnd, ['send', 'SEND X', '20', '2000', 'S3ND', '', '200\0', rest?.toLowerCase() ?? ''])}`;
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 12: { // a body where none belongs (responses), or a blank line in the headers
      const i = text.indexOf('\r\n-------');
      return Buffer.from(`${text.slice(0, i)}\r\n\r\nunexpected body${text.slice(i)}`, 'latin1');
    }
    default: { // the start line itself garbled
      const b = Buffer.from(frame);
      b[int(rnd, Math.max(1, headEnd))] = int(rnd, 256);
      return b;
    }
  }
}

/** Feeds `bytes` whole or in random pieces; returns the events. */
function run(parser: MsrpStreamParser, bytes: Buffer, rnd: () => number, split: boolean): ParseEvent[] {
  if (!split) return parser.push(bytes);
  const out: ParseEvent[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + int(rnd, 97);
    out.push(...parser.push(bytes.subarray(i, i + n)));
    i += n;
  }
  return out;
}

/** Every event is well-formed: typed error, known code, a message, no internal crash, fatal only last. */
function checkEvents(events: ParseEvent[], what: string): void {
  events.forEach((e, i) => {
    if (e.kind === 'frame') {
      const r = inspectFrame(e.frame); // total: a value, never an exception
      if (!r.ok) must(r.error instanceof MsrpParseError && PARSE_CODES.has(r.error.code) && r.error.message.length > 0, `${what}: inspectFrame refusal typed`);
      // Whatever the parser accepts can be sent on (a relay or a chat server forwards it).
      let wire: Buffer | undefined;
      try { wire = serializeFrame(e.frame); } catch (err) { must(false, `${what}: accepted frame ${e.frame.transactionId} cannot be serialised: ${(err as Error).message}`); }
      const again = parseFrames(wire!).events;
      must(again.length === 1 && again[0]!.kind === 'frame' && serializeFrame(again[0]!.frame).equals(wire!), `${what}: accepted frame ${e.frame.transactionId} round-trips`);
      return;
    }
    must(e.error instanceof MsrpParseError, `${what}: an MsrpParseError`);
    must(PARSE_CODES.has(e.error.code), `${what}: known code ${e.error.code}`);
    must(e.error.message.length > 0, `${what}: a message`);
    // The parser's defence-in-depth catch: reaching it means a real crash inside.
    must(!/internal parser error/.test(e.error.message), `${what}: ${e.error.message}`);
    if (e.kind === 'invalid') {
      must(!e.error.fatal && TRANSACTION_ID.test(e.transactionId), `${what}: invalid is non-fatal and names its transaction`);
    } else {
      must(e.error.fatal && i === events.length - 1, `${what}: a fatal error is fatal and the last event`);
    }
  });
}

/** The events are exactly these frames, byte for byte. */
function sameFrames(events: ParseEvent[], frames: Buffer[], what: string): void {
  must(events.length === frames.length, `${what}: ${events.length} events for ${frames.length} frames`);
  events.forEach((e, k) => must(e.kind === 'frame' && serializeFrame(e.frame).equals(frames[k]!), `${what}: frame ${k} intact`));
}

describe('MSRP stream parser fuzz (10,000 streams)', () => {
  it('delivers every frame before a malformed one intact, refuses the bad one with a typed error, and resyncs at frame boundaries', () => {
    const rnd = prng(0x4975);
    const tally = { streams: 0, invalid: 0, fatal: 0, resynced: 0, midFrame: 0, random: 0 };
    const invalidCodes = new Set<string>();
    const fatalCodes = new Set<string>();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const what = `stream ${i}`;
      const prefix = Array.from({ length: int(rnd, 4) }, () => validFrame(rnd));
      const suffix = Array.from({ length: 1 + int(rnd, 2) }, () => validFrame(rnd));
      let bad: Buffer;
      if (i % 10 === 9) {
        // Pure random bytes (half of them behind a plausible start line).
        bad = Buffer.from(Array.from({ length: int(rnd, 300) }, () => int(rnd, 256)));
        if (rnd() < 0.5) bad = Buffer.concat([Buffer.from(`MSRP ${tid(rnd)} SEND\r\n`), bad]);
        tally.random++;
      } else {
        bad = validFrame(rnd);
        for (let m = 1 + int(rnd, 2); m > 0; m--) bad = mutateFrame(rnd, bad);
      }
      const pre = Buffer.concat(prefix);
      const split = (i & 1) === 1;
      const parser = new MsrpStreamParser();
      const before = run(parser, pre, rnd, split);
      const atBad = run(parser, bad, rnd, split);
      const boundaryAfterBad = parser.idle && !parser.failure;
      const failedAfterBad = parser.failure !== undefined;
      const after = run(parser, Buffer.concat(suffix), rnd, split);
      const atEnd = parser.end();
      const events = [...before, ...atBad, ...after, ...atEnd];
      checkEvents(events, what);
      tally.streams++;
      for (const e of events) if (e.kind === 'error') fatalCodes.add(e.error.code);

      // Loses no earlier message: every frame before the bad one, byte for byte.
      sameFrames(before, prefix, `${what}: earlier frames`);
      for (const e of atBad) {
        if (e.kind === 'invalid') {
          tally.invalid++;
          invalidCodes.add(e.error.code);
          // The refusal names the transaction the bad frame's start line gave.
          must(e.transactionId === bad.toString('latin1').split('\r\n')[0]!.split(' ')[1], `${what}: invalid names the bad frame's transaction`);
        }
      }
      if (failedAfterBad) {
        tally.fatal++;
        const f = parser.failure!;
        must(events.filter((e) => e.kind === 'error').every((e) => e.kind === 'error' && e.error === f), `${what}: one fatal error, the parser's failure`);
        // Documented: framing is lost, the stream yields nothing more (close the connection).
        must(after.length === 0 && atEnd.length === 0 && parser.push(pre).length === 0, `${what}: nothing after a fatal error`);
      } else if (boundaryAfterBad) {
        // Resync: back at a frame boundary after the bad bytes, so every later frame comes out intact.
        tally.resynced++;
        sameFrames(after, suffix, `${what}: later frames`);
        must(atEnd.length === 0, `${what}: clean end`);
      } else {
        // Still inside the bad frame (its end-line was lost): it never vanishes silently; something
        // later closes it or the stream fails (at the latest when it ends).
        tally.midFrame++;
        must(after.length + atEnd.length > 0, `${what}: an open bad frame is reported`);
      }
    }
    const ms = performance.now() - t0;
    console.log(`msrp parser fuzz: ${JSON.stringify(tally)} invalid codes ${[...invalidCodes].join(',')} fatal codes ${[...fatalCodes].join(',')} in ${ms.toFixed(0)} ms`);
    // The mutations reach every outcome: refusal and resync, fatal loss of framing, a frame left open.
    expect(tally.invalid).toBeGreaterThan(500);
    expect(tally.fatal).toBeGreaterThan(500);
    expect(tally.resynced).toBeGreaterThan(3000);
    expect(tally.midFrame).toBeGreaterThan(100);
    for (const c of ['bad-header', 'unexpected-body', 'headers-too-large']) expect(invalidCodes.has(c), c).toBe(true);
    for (const c of ['bad-start-line', 'bad-transaction-id', 'line-too-long', 'stream-failed']) expect(fatalCodes.has(c), c).toBe(true);
  });

  it('a malformed frame between valid ones: the documented refusals, case by case', () => {
    const before = validFrame(prng(1));
    const after = validFrame(prng(2));
    const send = (extra: string, body = 'hi') => `MSRP abcd1234 SEND\r\nTo-Path: msrps://b.example/sb1;tcp\r\nFrom-Path: msrp://a.example:7777/sa1;tcp\r\n${extra}Message-ID: m1234\r\nContent-Type: text/plain\r\n\r\n${body}\r\n-------abcd1234$\r\n`;
    const cases: Array<[string, string, 'invalid' | 'error', string]> = [
      ['garbled header', send('no colon here\r\n'), 'invalid', 'bad-header'],
      ['response with a body', 'MSRP abcd1234 200 OK\r\nTo-Path: msrp://a.example:7777/sa1;tcp\r\nFrom-Path: msrps://b.example/sb1;tcp\r\n\r\nbody\r\n-------abcd1234$\r\n', 'invalid', 'unexpected-body'],
      ['header block too large', send(`X-Pad: ${'a'.repeat(17_000)}\r\n`), 'invalid', 'headers-too-large'],
      ['bad transaction id', send('').replace('abcd1234 SEND', 'ab SEND'), 'error', 'bad-transaction-id'],
      ['lower-case method', send('').replace('SEND', 'send'), 'error', 'bad-start-line'],
      ['not MSRP at all', 'HTTP/1.1 200 OK\r\n\r\n', 'error', 'bad-start-line'],
      ['start line too long', `MSRP ${'a'.repeat(2000)}`, 'error', 'line-too-long'],
    ];
    for (const [what, bad, kind, code] of cases) {
      const p = new MsrpStreamParser();
      const ev = [...p.push(Buffer.concat([before, Buffer.from(bad, 'latin1'), after])), ...p.end()];
      checkEvents(ev, what);
      expect(ev[0]!.kind === 'frame' && serializeFrame(ev[0]!.frame).equals(before), what).toBe(true);
      expect(ev[1]!.kind, what).toBe(kind);
      expect(ev[1]!.kind !== 'frame' && ev[1]!.error.code, what).toBe(code);
      if (kind === 'invalid') {
        // Resynced: the next frame is intact and the stream is clean.
        expect(ev[2]!.kind === 'frame' && serializeFrame(ev[2]!.frame).equals(after), what).toBe(true);
        expect(ev.length, what).toBe(3);
        expect(p.idle).toBe(true);
      } else {
        expect(ev.length, what).toBe(2);
        expect(p.failure?.fatal).toBe(true);
      }
    }
    // A Byte-Range that lies is framed well: the parser delivers it, inspectFrame refuses it with bad-byte-range.
    const p = new MsrpStreamParser();
    const ev = p.push(Buffer.from(send('Byte-Range: 1-99999999999999999999/5\r\n'), 'latin1'));
    expect(ev.length).toBe(1);
    const r = ev[0]!.kind === 'frame' ? inspectFrame(ev[0]!.frame) : undefined;
    expect(r?.ok === false && r.error.code).toBe('bad-byte-range');
  });
});

describe('Byte-Range fuzz', () => {
  it('parseByteRange: 10,000 values, only consistent ranges or a bad-byte-range error', () => {
    const rnd = prng(0x7311);
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      let text: string;
      const r = rnd();
      if (r < 0.5) text = lyingRange(rnd);
      else if (r < 0.7) text = `${1 + int(rnd, 50)}-${int(rnd, 60)}/${int(rnd, 70)}`;
      else if (r < 0.9) text = formatByteRange({ start: 1 + int(rnd, 1000), end: rnd() < 0.5 ? undefined : int(rnd, 2000), total: rnd() < 0.3 ? undefined : int(rnd, 3000) });
      else text = Buffer.from(Array.from({ length: int(rnd, 30) }, () => int(rnd, 128))).toString('latin1');
      const res = parseByteRange(text);
      if (res.ok) {
        ok++;
        const { start, end, total } = res.value;
        must(Number.isSafeInteger(start) && start >= 1, `${text}: start`);
        must(end === undefined || (Number.isSafeInteger(end) && end >= start - 1), `${text}: end`);
        must(total === undefined || Number.isSafeInteger(total), `${text}: total`);
        must(end === undefined || total === undefined || end <= total, `${text}: end within total`);
        // Round trip: what was accepted writes back to the same range.
        const again = parseByteRange(formatByteRange(res.value));
        must(again.ok && again.value.start === start && again.value.end === end && again.value.total === total, `${text}: round trip`);
      } else {
        refused++;
        must(res.error instanceof MsrpParseError && res.error.code === 'bad-byte-range' && !res.error.fatal && res.error.message.length > 0, `${text}: typed refusal`);
      }
    }
    expect(ok).toBeGreaterThan(2000);
    expect(refused).toBeGreaterThan(2000);
  });

  interface Snap { bytes: number; ranges: Array<[number, number]>; data: Buffer }
  const snap = (m: MessageAssembler): Snap => ({ bytes: m.receivedBytes, ranges: m.receivedRanges(), data: m.receivedData() });
  const same = (a: Snap, b: Snap): boolean => a.bytes === b.bytes && a.data.equals(b.data) && JSON.stringify(a.ranges) === JSON.stringify(b.ranges);
  /** Byte n (1-based) as the assembler holds it, or undefined. */
  const held = (s: Snap, n: number): number | undefined => {
    let off = 0;
    for (const [a, b] of s.ranges) {
      if (n >= a && n <= b) return s.data[off + n - a];
      off += b - a + 1;
    }
    return undefined;
  };
  const checkRefusal = (r: AddResult, what: string): MsrpByteRangeError => {
    must(!r.ok, `${what}: refused`);
    must(r.error instanceof MsrpByteRangeError && RANGE_CODES.has(r.error.code) && r.error.message.length > 0, `${what}: typed refusal (${r.error.code})`);
    return r.error;
  };

  it('the reassembler refuses 10,000 lying chunks without losing a byte already received; the honest message completes intact', () => {
    const rnd = prng(0x7311 + 1);
    const MAX = 4096;
    const codes: Record<string, number> = {};
    let lies = 0;
    let honest = 0;
    let messages = 0;
    while (lies < 10_000) {
      messages++;
      const body = Buffer.from(Array.from({ length: 1 + int(rnd, 300) }, () => int(rnd, 256)));
      const total = body.length;
      const chunks = chunkMessage(body, 1 + int(rnd, 64));
      // Honest chunks in random order, some repeated (a resend after an interruption is legitimate).
      const order = [...chunks, ...chunks.filter(() => rnd() < 0.2)].sort(() => rnd() - 0.5);
      const m = new MessageAssembler(`msg${messages}`, MAX);
      let completed: Buffer | undefined;
      let accepted = 0;
      for (const c of order) {
        // Lies between honest chunks, each of a kind the receiver can always detect.
        for (let k = int(rnd, 5); k > 0 && accepted > 0; k--) {
          const before = snap(m);
          const s = 1 + int(rnd, total);
          const e = s + int(rnd, total - s + 1) - 1;
          const slice = body.subarray(s - 1, e);
          let lie: Chunk;
          let expected: string[];
          const kind = int(rnd, 6);
          if (kind === 0) {
            // The range announces more or fewer bytes than the chunk has.
            lie = { byteRange: { start: s, end: e + 1 + int(rnd, 5), total }, data: slice, continuation: '$' };
            expected = ['range-length-mismatch'];
          } else if (kind === 1) {
            // The total changes mid-message.
            lie = { byteRange: { start: s, end: e, total: total + 1 + int(rnd, 1000) }, data: slice, continuation: pick(rnd, ['+', '$'] as const) };
            expected = ['range-total-mismatch'];
          } else if (kind === 2) {
            // The range runs past the total.
            const extra = Buffer.alloc(1 + int(rnd, 8), 0x41);
            lie = { byteRange: { start: s, end: total + extra.length + (total - s), total }, data: Buffer.concat([body.subarray(s - 1), extra]), continuation: '+' };
            expected = ['range-beyond-total', 'message-too-large'];
          } else if (kind === 3) {
            // Rewrites a byte already received with another value.
            const [a, b] = before.ranges[int(rnd, before.ranges.length)]!;
            const n = a + int(rnd, b - a + 1);
            const lo = Math.max(1, n - int(rnd, 8));
            const hi = Math.min(total, n + int(rnd, 8));
            const data = Buffer.from(body.subarray(lo - 1, hi));
            data[n - lo] = data[n - lo]! ^ (1 + int(rnd, 255));
            lie = { byteRange: { start: lo, end: hi, total }, data, continuation: '+' };
            expected = ['range-overlap'];
          } else if (kind === 4) {
            // Absurd sizes: a start or a total beyond what the receiver takes.
            const huge = pick(rnd, [MAX + 1, 2 ** 32, Number.MAX_SAFE_INTEGER - 1]);
            lie = { byteRange: { start: huge, end: undefined, total: undefined }, data: slice, continuation: '+' };
            expected = ['message-too-large', 'range-beyond-total'];
          } else {
            // More data than the range announces on a last chunk.
            lie = { byteRange: { start: s, end: s, total }, data: Buffer.concat([slice, Buffer.from('zz')]), continuation: '$' };
            expected = ['range-length-mismatch'];
          }
          if (completed) expected = ['range-after-end'];
          const r = m.add(lie);
          const err = checkRefusal(r, `lie ${lies} (kind ${kind})`);
          must(expected.includes(err.code), `lie ${lies} (kind ${kind}): ${err.message}`);
          codes[err.code] = (codes[err.code] ?? 0) + 1;
          // A refused chunk changes nothing.
          must(same(snap(m), before), `lie ${lies}: state unchanged`);
          lies++;
        }
        const r = m.add(c);
        honest++;
        if (completed) {
          must(checkRefusal(r, 'after completion').code === 'range-after-end', 'after completion');
          continue;
        }
        if (!r.ok) {
          // Only a last chunk that arrives before the others: stored, refused as a gap so far.
          must(r.error.code === 'range-gap', `honest chunk refused: ${r.error.message}`);
        } else if (r.state === 'complete') {
          completed = r.body;
        }
        accepted++;
      }
      // Loses no byte: the honest message, whole and exact.
      must(completed?.equals(body), `message ${messages} completes intact`);
    }
    console.log(`reassembler fuzz: ${lies} lies refused over ${messages} messages (${honest} honest chunks): ${JSON.stringify(codes)}`);
    for (const c of ['range-length-mismatch', 'range-total-mismatch', 'range-beyond-total', 'range-overlap', 'message-too-large']) expect(codes[c] ?? 0, c).toBeGreaterThan(100);
  });

  it('random chunks (10,000): never an exception; a refused chunk changes nothing, an accepted one is held exactly', () => {
    const rnd = prng(0x7311 + 2);
    const outcomes: Record<string, number> = {};
    let m = new Reassembler(2048);
    for (let i = 0; i < 10_000; i++) {
      if (i % 25 === 0) m = new Reassembler(2048);
      const id = `id${int(rnd, 3)}`;
      const start = pick(rnd, [1, 1 + int(rnd, 40), 1 + int(rnd, 4000), 2 ** 31, Number.MAX_SAFE_INTEGER]);
      const len = int(rnd, 40);
      const data = Buffer.from(Array.from({ length: len }, () => pick(rnd, [0x41, 0x42, int(rnd, 256)])));
      const end = pick(rnd, [undefined, start + len - 1, start + len - 1 + int(rnd, 5) - 2, int(rnd, 100)]);
      const total = pick(rnd, [undefined, start + len - 1, int(rnd, 120), 2 ** 40]);
      const continuation = pick(rnd, ['$', '+', '#'] as const);
      const asm = m.get(id);
      const before = asm ? snap(asm) : undefined;
      const r = m.add(id, { byteRange: { start, end, total }, data, continuation });
      const now = m.get(id);
      if (!r.ok) {
        checkRefusal(r, `chunk ${i}`);
        outcomes[r.error.code] = (outcomes[r.error.code] ?? 0) + 1;
        // range-gap is the one refusal that stores its chunk (the session answers 200 and reports the hole).
        if (r.error.code !== 'range-gap' && before) must(same(snap(now!), before), `chunk ${i}: state unchanged`);
        if (r.error.code === 'range-gap') {
          const s = snap(now!);
          for (let k = 0; k < len; k++) must(held(s, start + k) === data[k], `chunk ${i}: gap chunk stored`);
        }
      } else {
        outcomes[r.state] = (outcomes[r.state] ?? 0) + 1;
        if (r.state === 'partial') {
          const s = snap(now!);
          for (let k = 0; k < len; k++) must(held(s, start + k) === data[k], `chunk ${i} byte ${k}`);
        } else if (r.state === 'complete') {
          must(now === undefined, `chunk ${i}: completed message forgotten`);
          for (let k = 0; k < len; k++) must(r.body[start - 1 + k] === data[k], `chunk ${i}: byte ${k} in the body`);
        }
      }
    }
    console.log(`random chunks: ${JSON.stringify(outcomes)}`);
    expect(outcomes.partial ?? 0).toBeGreaterThan(500);
    expect(outcomes.complete ?? 0).toBeGreaterThan(50);
  });
});
