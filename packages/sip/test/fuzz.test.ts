import { describe, expect, it } from 'vitest';
import { parseMessage, StreamFramer } from '../src/index.ts';
import { BASIC_INVITE, TORTURE_INVALID, TORTURE_VALID } from './fixtures.ts';
import { prng } from '@imslab/fuzz';

const SPECIALS = [':', ';', ',', '<', '>', '"', '\\', '\r\n', '\r\n ', '=', '@', ' ', '\t', '\0', '%', '[', ']', 'SIP/2.0', 'z9hG4bK', '\u00ff'];

function mutate(seed: number, base: string): Buffer {
  const r = prng(seed);
  let s = base;
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 8)) {
      case 0: s = s.slice(0, at) + SPECIALS[Math.floor(r() * SPECIALS.length)] + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 20)); break;
      case 2: s = s.slice(0, at); break;
      case 3: { const line = s.split('\r\n')[1 + Math.floor(r() * 8)] ?? ''; s = s.replace('\r\n', `\r\n${line}\r\n`.repeat(1 + Math.floor(r() * 50))); break; }
      case 4: s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at + 1); break;
      case 5: s = s.replace(/Content-Length: \d+/, `Content-Length: ${Math.floor(r() * 1e6) - 1000}`); break;
      case 6: s = s.replace(/Via: ([^\r]*)/, (_m, v: string) => `Via: ${Array(200).fill(v.slice(0, 200)).join(', ')}`); break;
      default: s = s.slice(0, at) + '"'.repeat(Math.floor(r() * 5)) + '<'.repeat(Math.floor(r() * 3)) + s.slice(at); break;
    }
  }
  return Buffer.from(s, 'latin1');
}

describe('parser robustness', () => {
  it('never throws and stays fast on 200 mutated messages', () => {
    const bases = [BASIC_INVITE, ...TORTURE_VALID.map((c) => c.text), ...TORTURE_INVALID.map((c) => c.text)];
    let parsed = 0;
    let worst = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const input = mutate(seed, bases[seed % bases.length]!);
      const t0 = performance.now();
      const r = parseMessage(input);
      worst = Math.max(worst, performance.now() - t0);
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) parsed++;
      else expect(r.error.message.length).toBeGreaterThan(0);
      const f = new StreamFramer();
      expect(() => f.push(input)).not.toThrow();
    }
    expect(worst).toBeLessThan(100);
    // Some mutations are harmless, most are not: both paths are exercised.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(200);
  });

  it('handles pure random bytes and pathological inputs', () => {
    const r = prng(42);
    for (let i = 0; i < 50; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(r() * 2000) }, () => Math.floor(r() * 256)));
      expect(parseMessage(buf).ok).toBe(false);
    }
    const manyVias = BASIC_INVITE.replace(/Via: ([^\r]*)/, (_m, v: string) => Array(5000).fill(`Via: ${v}`).join('\r\n'));
    expect(parseMessage(manyVias).ok).toBe(false);
    const t0 = performance.now();
    parseMessage('INVITE sip:a@b SIP/2.0\r\nTo: ' + '"'.repeat(100_000) + '\r\n\r\n');
    parseMessage('INVITE sip:a@b SIP/2.0\r\nTo: ' + '<'.repeat(100_000) + '\r\n\r\n');
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
