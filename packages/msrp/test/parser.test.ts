/**
 * The streaming parser (RFC 4975 sec. 5 and 9 framing): arbitrary splits,
 * bodies that hold end-lines of other transactions or "-------<id>" not
 * followed by a flag and CRLF, per-frame errors that keep the stream, and
 * fatal errors that stop it.
 */
import { describe, expect, it } from 'vitest';
import { buildSend, MsrpStreamParser, parseFrames, serializeFrame, type MsrpRequest, type MsrpUri } from '../src/index.ts';
import { feed, summary } from './helpers.ts';

const alice: MsrpUri = { scheme: 'msrps', host: '127.9.0.2', port: 2855, sessionId: 'alice1', transport: 'tcp', params: [] };
const bob: MsrpUri = { scheme: 'msrps', host: '127.9.0.3', port: 2855, sessionId: 'bob1', transport: 'tcp', params: [] };

function send(body: string | Buffer, tid = 'tid00001', flag: '$' | '+' | '#' = '$'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return serializeFrame(buildSend({ toPath: [bob], fromPath: [alice], messageId: 'msg00001', body: b, contentType: 'text/plain', byteRange: { start: 1, end: b.length, total: b.length }, transactionId: tid, continuation: flag }));
}

function onlyFrame(bytes: Buffer): MsrpRequest {
  const { events, complete } = parseFrames(bytes);
  expect(complete).toBe(true);
  expect(events).toHaveLength(1);
  const e = events[0]!;
  if (e.kind !== 'frame' || e.frame.kind !== 'request') throw new Error(`unexpected ${JSON.stringify(summary(events))}`);
  return e.frame;
}

describe('MsrpStreamParser framing', () => {
  it('gives the same frames for every split of a stream of three frames', () => {
    const stream = Buffer.concat([send('one', 'tidAAAA1'), send('two\r\nlines', 'tidBBBB2', '+'), send('', 'tidCCCC3')]);
    const whole = summary(parseFrames(stream).events);
    expect(whole).toHaveLength(3);
    for (let cut = 1; cut < stream.length; cut++) {
      const p = new MsrpStreamParser();
      const ev = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))];
      expect(summary(ev)).toEqual(whole);
    }
    expect(summary(feed(stream, () => 1).events)).toEqual(whole);
  });

  it('a body holding the end-line of another transaction, or our id without a flag, is data and round-trips (sec. 7.1)', () => {
    const body = 'before\r\n-------otherid1$\r\nafter\r\n-------tid00001X\r\n-------tid00001\r\nend';
    const raw = send(body);
    expect(onlyFrame(raw).body!.toString()).toBe(body);
    expect(serializeFrame(onlyFrame(raw)).equals(raw)).toBe(true);
  });

  it('a body that ends in CRLF keeps it (data CRLF end-line)', () => {
    expect(onlyFrame(send('line\r\n')).body!.toString()).toBe('line\r\n');
  });

  it('an empty body and a frame without a body (REPORT-like) differ', () => {
    expect(onlyFrame(send('')).body!.length).toBe(0);
    const noBody = Buffer.from('MSRP tid00009 REPORT\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1234\r\nStatus: 000 200 OK\r\n-------tid00009$\r\n');
    expect(onlyFrame(noBody).body).toBeUndefined();
  });

  it('keeps binary bodies intact', () => {
    const b = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
    expect(onlyFrame(send(b)).body!.equals(b)).toBe(true);
  });

  it('a malformed header skips that frame only (non-fatal) and the next frame parses', () => {
    const bad = Buffer.from('MSRP tidBAD01 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nthis is not a header\r\nContent-Type: text/plain\r\n\r\nxx\r\n-------tidBAD01$\r\n');
    const { events } = parseFrames(Buffer.concat([bad, send('ok')]));
    expect(summary(events)).toMatchObject([{ invalid: 'bad-header', tid: 'tidBAD01' }, { frame: { body: Buffer.from('ok') } }]);
  });

  it('a bare LF or CR inside a header value is a malformed header (RFC 4975 sec. 9: utf8text has no CR or LF), as the serializer refuses it', () => {
    for (const ch of ['\n', '\r']) {
      const bad = Buffer.from(`MSRP tidLF0001 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1${ch}injected: yes\r\nContent-Type: text/plain\r\n\r\nxx\r\n-------tidLF0001$\r\n`);
      const { events } = parseFrames(Buffer.concat([bad, send('ok')]));
      expect(summary(events)).toMatchObject([{ invalid: 'bad-header', tid: 'tidLF0001' }, { frame: { body: Buffer.from('ok') } }]);
    }
  });

  it('a response with a body is refused (sec. 9: responses carry none), the stream goes on', () => {
    const r = Buffer.from('MSRP tidRSP01 200 OK\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n\r\nbody\r\n-------tidRSP01$\r\n');
    expect(summary(parseFrames(Buffer.concat([r, send('x')])).events)).toMatchObject([{ invalid: 'unexpected-body' }, { frame: {} }]);
  });

  it.each([
    ['garbage before a frame', 'HELLO\r\n', 'bad-start-line'],
    ['a bad transaction id', 'MSRP a! SEND\r\n', 'bad-transaction-id'],
    ['a lower-case method', 'MSRP tid00001 send\r\n', 'bad-start-line'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n', 'bad-start-line'],
  ])('%s is fatal (framing lost)', (_, text, code) => {
    const p = new MsrpStreamParser();
    const ev = p.push(Buffer.from(text));
    expect(summary(ev)).toEqual([{ error: code }]);
    expect(p.failure?.fatal).toBe(true);
    expect(p.push(send('x'))).toEqual([]);
  });

  it('limits: a start line without CRLF, a huge header block, a huge body', () => {
    expect(summary(new MsrpStreamParser({ maxStartLine: 64 }).push(Buffer.from(`MSRP ${'a'.repeat(100)}`)))).toEqual([{ error: 'line-too-long' }]);
    const hdr = Buffer.from(`MSRP tidHDR01 SEND\r\nTo-Path: ${'x'.repeat(5000)}\r\n-------tidHDR01$\r\n`);
    expect(summary(parseFrames(hdr, { maxHeaderBytes: 1000 }).events)).toEqual([{ invalid: 'headers-too-large', tid: 'tidHDR01' }]);
    const { events, parser } = feed(Buffer.concat([send(Buffer.alloc(20000, 0x61)), send('after', 'tidAFTER1')]), () => 999, { maxBodyBytes: 10000 });
    expect(summary(events)).toMatchObject([{ invalid: 'body-too-large' }, { frame: { body: Buffer.from('after') } }]);
    expect(parser.idle).toBe(true);
  });

  it('end() inside a frame is a fatal truncation; between frames it is clean', () => {
    const p = new MsrpStreamParser();
    p.push(send('abc').subarray(0, 30));
    expect(summary(p.end())).toEqual([{ error: 'stream-failed' }]);
    const q = new MsrpStreamParser();
    q.push(send('abc'));
    expect(q.end()).toEqual([]);
  });

  it('our own end-line inside the body, wherever it stands, is refused on receipt as the builder refuses to send it (sec. 7.1)', () => {
    for (const body of ['x-------tid00001$\r\n and more', 'a -------tid00001+ no CRLF', 'ends -------tid00001#']) {
      // Written by hand: our builder will not send it.
      const raw = Buffer.from(`MSRP tid00001 SEND\r\nTo-Path: msrp://b:2/t;tcp\r\nFrom-Path: msrp://a:1/s;tcp\r\nMessage-ID: m1234\r\nContent-Type: text/plain\r\n\r\n${body}\r\n-------tid00001$\r\n`);
      const events = new MsrpStreamParser().push(raw);
      expect(events.map((e) => e.kind), body).toEqual(['invalid']);
      expect(events[0]!.kind === 'invalid' && events[0]!.error.code).toBe('unexpected-body');
      expect(() => send(body)).toThrow(/end-line/);
    }
  });

  it('a status code below 100 is refused for that frame, and the stream goes on', () => {
    const events = new MsrpStreamParser().push(Buffer.from('MSRP tid00001 013 odd\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n-------tid00001$\r\n' + 'MSRP tid00002 200 OK\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n-------tid00002$\r\n'));
    expect(events.map((e) => e.kind)).toEqual(['invalid', 'frame']);
    expect(events[0]!.kind === 'invalid' && events[0]!.error.code).toBe('bad-status');
  });
});
