import { describe, expect, it } from 'vitest';
import { CpimParseError, buildCpim, parseCpim } from '../src/index.ts';
import { mutate, prng } from './helpers.ts';

// RFC 8591 point 7 of the issue: the CPIM parser is total. Thousands of mutated
// messages either parse or fail with CpimParseError, never anything else.
describe('CPIM parser under mutation', () => {
  const seed = buildCpim({
    from: { name: 'Alice', uri: 'sip:alice@ims.example' },
    to: [{ uri: 'sip:bob@ims.example' }],
    dateTime: new Date('2026-12-02T10:00:00Z'),
    subject: [{ value: 'lunch?', lang: 'en' }],
    ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }],
    extraHeaders: [{ name: 'imdn.Message-ID', value: 'abc' }],
    contentType: 'text/plain;charset=utf-8',
    contentId: '<m1@ims.example>',
    body: 'marker-CPIM-FUZZ',
  });

  it('gives a message or a CpimParseError for 5000 mutations', () => {
    const rnd = prng(3862);
    const outcomes = { parsed: 0, refused: 0 };
    for (let i = 0; i < 5000; i++) {
      let input = seed;
      const rounds = 1 + Math.floor(rnd() * 4);
      for (let r = 0; r < rounds; r++) input = mutate(input, rnd);
      try {
        const m = parseCpim(input);
        expect(typeof m.from.uri).toBe('string');
        outcomes.parsed++;
      } catch (e) {
        if (!(e instanceof CpimParseError)) throw new Error(`mutation ${i} threw ${String(e)}`);
        outcomes.refused++;
      }
    }
    // Both branches must have been exercised for the test to mean anything.
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('refuses every truncation that cuts the headers', () => {
    const headerEnd = seed.length - 'marker-CPIM-FUZZ'.length - 4;
    for (let n = 0; n < headerEnd; n++) expect(() => parseCpim(seed.subarray(0, n))).toThrow(CpimParseError);
  });

  it('gives a message or a CpimParseError for random bytes', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 200)).map(() => (rnd() < 0.2 ? [13, 10, 58, 32, 60, 62][Math.floor(rnd() * 6)]! : Math.floor(rnd() * 256)));
      try {
        parseCpim(b);
      } catch (e) {
        if (!(e instanceof CpimParseError)) throw new Error(`random input ${i} threw ${String(e)}`);
      }
    }
  });
});
