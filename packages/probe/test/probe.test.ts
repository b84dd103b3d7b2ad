import { describe, expect, it } from 'vitest';
import { findMarker, markerFor, probePayload, linearToUlaw, ulawToLinear, parseKeyLog, formatKeyLogEntry } from '../src/index.ts';

describe('probe marker', () => {
  it('differs per call and per direction, and is found in a payload', () => {
    const a = markerFor('call-1', 'orig');
    const b = markerFor('call-1', 'term');
    const c = markerFor('call-2', 'orig');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toMatch(/^IMSLAB[0-9a-f]{10}$/);
    const p = probePayload(a, 7);
    expect(p.length).toBe(160);
    expect(findMarker(p)).toBe(a);
  });
  it('differs per kind of media; audio keeps the marker of a call with one stream', () => {
    const audio = markerFor('call-1', 'orig');
    expect(markerFor('call-1', 'orig', 'audio')).toBe(audio);
    const all = [audio, markerFor('call-1', 'orig', 'video'), markerFor('call-1', 'orig', 'text'), markerFor('call-1', 'term', 'video')];
    expect(new Set(all).size).toBe(4);
    for (const m of all) expect(m).toMatch(/^IMSLAB[0-9a-f]{10}$/);
  });
  it('is not found in random or encrypted-looking bytes', () => {
    const noise = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) & 0xff));
    expect(findMarker(noise)).toBeNull();
    expect(findMarker(Buffer.from('IMSLABzzzzzzzzzz'))).toBeNull();
  });
});

describe('G.711 mu-law', () => {
  it('round-trips within the quantisation step (ITU-T G.711)', () => {
    for (const s of [0, 100, -100, 1000, -5000, 32000, -32000]) {
      const back = ulawToLinear(linearToUlaw(s));
      expect(Math.abs(back - s)).toBeLessThanOrEqual(Math.max(8, Math.abs(s) / 16));
    }
    expect(linearToUlaw(0)).toBe(0xff);
  });
});

describe('SRTP key log', () => {
  it('parses what it formats and reports bad lines by number', () => {
    const line = formatKeyLogEntry({ kind: 'srtp', owner: 'alice', callId: 'x', dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: 'QUJD', keyMgmt: 'sdes', at: 'now' });
    const { entries, errors } = parseKeyLog(line + 'garbage\n{"kind":"tls"}\n');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.owner).toBe('alice');
    expect(errors).toEqual([expect.stringMatching(/^line 2: not JSON/), expect.stringMatching(/^line 3: not an SRTP/)]);
  });
});
