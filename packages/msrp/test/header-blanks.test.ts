/**
 * Header values with runs of blanks (issue 13 fuzzing found it): the header
 * line was matched with a lazy `(.*?)[ \t]*$`, quadratic in a run of blanks
 * inside the value (16,000 blanks: 400 ms per frame on this machine, within
 * the 16 kB header limit). The value is now trimmed by hand.
 */
import { describe, expect, it } from 'vitest';
import { MsrpStreamParser } from '../src/index.ts';

const frame = (toPath: string) =>
  Buffer.from(`MSRP abcd1234 SEND\r\nTo-Path:${toPath}\r\nFrom-Path: msrps://a.example/sa;tcp\r\nMessage-ID: m1\r\nByte-Range: 1-*/*\r\n-------abcd1234$\r\n`, 'latin1');

function toPathOf(bytes: Buffer): string | undefined {
  const ev = new MsrpStreamParser().push(bytes);
  const f = ev.find((e) => e.kind === 'frame');
  return f && f.kind === 'frame' ? f.frame.headers.find((h) => h.name === 'To-Path')?.value : undefined;
}

describe('MSRP header values and blanks', () => {
  it('trims blanks around the value, keeps those inside', () => {
    expect(toPathOf(frame(' \t msrps://b.example/sb;tcp \t '))).toBe('msrps://b.example/sb;tcp');
    expect(toPathOf(frame('msrps://b.example/sb   x;tcp'))).toBe('msrps://b.example/sb   x;tcp');
    expect(toPathOf(frame('   '))).toBe('');
  });

  it('a run of 16,000 blanks inside a value is one linear pass (the fuzzers\' 50 ms hang bound)', () => {
    const bytes = frame(` msrps://b.example/sb${' '.repeat(16_000)}1;tcp`);
    const t0 = performance.now();
    expect(toPathOf(bytes)).toMatch(/^msrps:\/\/b\.example\/sb {16000}1;tcp$/);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});
