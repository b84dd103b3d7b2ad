/**
 * The RFC 4975 examples in /work/shared/vectors/rfc4975 (sec. 5.1 Figure 3,
 * sec. 11.1, 11.2, 11.4, 11.5, 11.6; see its index.json): framed whole and
 * byte by byte, re-serialised byte-identical, checked with inspectFrame,
 * and reassembled. The printed Byte-Ranges that disagree with the printed
 * bodies are caught by the reassembler; the *.corrected.msrp files agree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectFrame, MessageAssembler, MsrpStreamParser, serializeFrame, type MsrpFrame, type MsrpRequest } from '../src/index.ts';

const DIR = '/work/shared/vectors/rfc4975';
interface Entry { file: string; rfc4975_section: string; length: number; byte_range_consistent?: boolean | null }
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { files: Entry[] };
const bytes = (f: string) => readFileSync(join(DIR, f));

function frameOf(b: Buffer, split = 0): MsrpFrame {
  const p = new MsrpStreamParser();
  const events = split === 0 ? p.push(b) : Array.from({ length: Math.ceil(b.length / split) }, (_, i) => p.push(b.subarray(i * split, (i + 1) * split))).flat();
  expect(events).toHaveLength(1);
  const ev = events[0]!;
  if (ev.kind !== 'frame') throw new Error(`${ev.kind}: ${ev.error.message}`);
  expect(p.idle).toBe(true);
  return ev.frame;
}

describe('RFC 4975 examples (vectors/rfc4975)', () => {
  it.each(index.files.map((e) => [e.file, e] as const))('%s frames whole and byte by byte, and re-serialises byte-identical', (file, e) => {
    const b = bytes(file);
    expect(b.length).toBe(e.length);
    const whole = frameOf(b);
    expect(frameOf(b, 1)).toEqual(whole);
    expect(frameOf(b, 7)).toEqual(whole);
    expect(serializeFrame(whole).equals(b)).toBe(true);
  });

  it('sec. 11.1 step 4: SEND from Alice to Bob, and the 200 OK of step 5', () => {
    const send = frameOf(bytes('11.1_step4_SEND.corrected.msrp')) as MsrpRequest;
    expect(send).toMatchObject({ kind: 'request', method: 'SEND', transactionId: 'd93kswow', continuation: '$' });
    expect(send.body!.toString()).toBe("Hi, I'm Alice!");
    const info = inspectFrame(send);
    if (!info.ok) throw info.error;
    expect(info.info.toPath[0]).toMatchObject({ scheme: 'msrp', host: 'bob.example.com', port: 8888, sessionId: '9di4eae923wzd', transport: 'tcp' });
    expect(info.info.messageId).toBe('12339sdqwer');
    expect(info.info.byteRange).toEqual({ start: 1, end: 14, total: 14 });
    const ok = frameOf(bytes('11.1_step5_200OK.msrp'));
    expect(ok).toMatchObject({ kind: 'response', status: 200, comment: 'OK', transactionId: 'd93kswow' });
    expect(inspectFrame(ok).ok).toBe(true);
  });

  it('sec. 11.6: SEND asking for a success report, and the REPORT (Status 000 200 OK, no body)', () => {
    const send = inspectFrame(frameOf(bytes('11.6_SEND_success_report.msrp')));
    if (!send.ok) throw send.error;
    expect(send.info).toMatchObject({ successReport: true, failureReport: 'no', contentType: 'text/html' });
    const rep = frameOf(bytes('11.6_REPORT.msrp')) as MsrpRequest;
    expect(rep.body).toBeUndefined();
    const info = inspectFrame(rep);
    if (!info.ok) throw info.error;
    expect(info.info.status).toEqual({ namespace: 0, code: 200, reason: 'OK' });
    expect(info.info.messageId).toBe('12339sdqwer');
  });

  it('sec. 11.5: Failure-Report no, Success-Report no', () => {
    const info = inspectFrame(frameOf(bytes('11.5_SEND_system.corrected.msrp')));
    if (!info.ok) throw info.error;
    expect(info.info).toMatchObject({ successReport: false, failureReport: 'no' });
  });

  it('sec. 5.1 Figure 3: the two chunks frame (+ then $) and reassemble to 8 bytes, though the snippet lacks To-Path/From-Path', () => {
    const c1 = frameOf(bytes('5.1_chunk1_SEND.msrp')) as MsrpRequest;
    const c2 = frameOf(bytes('5.1_chunk2_SEND.msrp')) as MsrpRequest;
    expect(c1.continuation).toBe('+');
    expect(c2.continuation).toBe('$');
    // Sec. 9 ABNF: To-Path and From-Path are mandatory; the figure is a snippet.
    const bad = inspectFrame(c1);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('missing-header');
    const m = new MessageAssembler('4564dpWd');
    expect(m.add({ byteRange: { start: 1, end: undefined, total: 8 }, data: c1.body!, continuation: '+' })).toEqual({ ok: true, state: 'partial' });
    const done = m.add({ byteRange: { start: 5, end: 8, total: 8 }, data: c2.body!, continuation: '$' });
    expect(done.ok && done.state === 'complete' && done.body.toString()).toBe('abcdEFGH');
  });

  it('sec. 11.4 (corrected totals): two CPIM chunks reassemble to 147 bytes', () => {
    const m = new MessageAssembler('12339sdqwer');
    let last;
    for (const f of ['11.4_chunk1_SEND_cpim.corrected.msrp', '11.4_chunk2_SEND_cpim.corrected.msrp']) {
      const fr = frameOf(bytes(f)) as MsrpRequest;
      const info = inspectFrame(fr);
      if (!info.ok) throw info.error;
      last = m.add({ byteRange: info.info.byteRange!, data: fr.body!, continuation: fr.continuation });
      expect(last.ok).toBe(true);
    }
    expect(last!.ok && last!.state === 'complete' && last!.body.length).toBe(147);
    expect(last!.ok && last!.state === 'complete' && last!.body.toString().endsWith('ABCD1234567890')).toBe(true);
  });

  it.each(index.files.filter((e) => e.byte_range_consistent === false).map((e) => [e.file, e.rfc4975_section] as const))(
    '%s (%s): the printed Byte-Range disagrees with the printed body, and the reassembler says so',
    (file) => {
      const fr = frameOf(bytes(file)) as MsrpRequest;
      const info = inspectFrame(fr);
      if (!info.ok) throw info.error;
      const r = new MessageAssembler(info.info.messageId!).add({ byteRange: info.info.byteRange!, data: fr.body!, continuation: fr.continuation });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(['range-length-mismatch', 'range-gap']).toContain(r.error.code);
    },
  );

  it('the frame of the Kamailio msrp module README (an RFC 4976 relay path with three To-Path URIs)', () => {
    const text = [
      'MSRP 6aef SEND',
      'To-Path: msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp msrps://bob.example.net:8145/foo;tcp',
      'From-Path: msrps://alice.example.org:7965/bar;tcp',
      'Success-Report: yes',
      'Byte-Range: 1-*/*',
      'Message-ID: 87652',
      'Content-Type: text/plain',
      '',
      "Hi Bob, I'm about to send you a photo.",
      '-------6aef$',
      '',
    ].join('\r\n');
    const info = inspectFrame(frameOf(Buffer.from(text)));
    if (!info.ok) throw info.error;
    expect(info.info.toPath.map((u) => u.sessionId)).toEqual(['kjfjan', 'aeiug', 'foo']);
    expect(info.info.byteRange).toEqual({ start: 1, end: undefined, total: undefined });
  });
});
