/**
 * Malformed MIKEY-SAKKE I_MESSAGEs, in the style of malformed.test.ts:
 * every truncation and random corruption of a valid message ends in a
 * typed MikeyError (parse error, grammar, signature, timestamp, ...),
 * never another exception, a hang or an accepted GMK.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, MikeyError, MikeyParseError, receiveGmkIMessage } from '../src/index.ts';
import { Gen } from './gen.ts';
import { sakkeWorld } from './sakke-world.ts';

const w = sakkeWorld();
const good = w.build('alice').bytes;

function outcome(b: Uint8Array): unknown {
  try {
    return receiveGmkIMessage(b, w.opts('alice'));
  } catch (e) {
    return e;
  }
}

describe('malformed MIKEY-SAKKE I_MESSAGE', { timeout: 120_000 }, () => {
  it('every proper prefix is a MikeyParseError with an offset inside it', () => {
    for (let n = 0; n < good.length; n++) {
      let e: unknown;
      try {
        decodeMessage(good.subarray(0, n));
      } catch (x) {
        e = x;
      }
      expect(e, `prefix ${n}`).toBeInstanceOf(MikeyParseError);
      expect((e as MikeyParseError).offset).toBeLessThanOrEqual(n);
    }
  });
  it('200 random corruptions (1-4 octets each) are refused with a MikeyError, none accepted', () => {
    const g = new Gen(0x5a11e);
    for (let k = 0; k < 200; k++) {
      const b = Uint8Array.from(good);
      const flips = 1 + g.int(3);
      for (let f = 0; f < flips; f++) b[g.int(b.length - 1)] = g.int(255);
      if (Buffer.compare(Buffer.from(b), Buffer.from(good)) === 0) continue;
      const r = outcome(b);
      expect(r, `case ${k}`).toBeInstanceOf(MikeyError);
    }
  });
  it('random octets of every length up to 600 are refused with a MikeyError', () => {
    const g = new Gen(0xbadc0de);
    for (let k = 0; k < 300; k++) {
      const b = new Uint8Array(g.int(600)).map(() => g.int(255));
      expect(outcome(b)).toBeInstanceOf(MikeyError);
    }
  });
});
