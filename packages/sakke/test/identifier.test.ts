/** The RFC 6509 sec. 3.2 identifier: "YYYY-MM" 0x00 URI 0x00, the month in UTC. */
import { describe, expect, it } from 'vitest';
import { identifierIsCurrent, mikeySakkeIdentifier, parseMikeySakkeIdentifier, SakkeError, toHex } from '../src/index.ts';
import { bytes, rfc6507 } from './vectors.ts';

describe('MIKEY-SAKKE identifier', () => {
  it('reproduces the identifier of the RFC 6507 / 6508 Appendix A examples', () => {
    expect(toHex(mikeySakkeIdentifier('tel:+447700900123', new Date(Date.UTC(2011, 1, 14))))).toBe(toHex(bytes(rfc6507.ID)));
  });
  it('uses the UTC month, zero-padded', () => {
    const id = mikeySakkeIdentifier('sip:alice@ims.example', new Date('2026-01-31T23:30:00-02:00'));
    expect(new TextDecoder().decode(id)).toBe('2026-02\x00sip:alice@ims.example\x00');
  });
  it('parses back to year, month, URI and scheme', () => {
    const p = parseMikeySakkeIdentifier(bytes(rfc6507.ID));
    expect(p).toEqual({ year: 2011, month: 2, uri: 'tel:+447700900123', scheme: 'tel' });
    expect(identifierIsCurrent(p, new Date(Date.UTC(2011, 1, 28)))).toBe(true);
    expect(identifierIsCurrent(p, new Date(Date.UTC(2011, 2, 1)))).toBe(false);
  });
  it.each([
    ['no trailing NUL', '2011-02\x00tel:+447700900123'],
    ['month 13', '2011-13\x00tel:+447700900123\x00'],
    ['no URI scheme', '2011-02\x00447700900123\x00'],
    ['embedded NUL', '2011-02\x00tel:+44\x00770\x00'],
    ['short date', '2011-2\x00tel:+447700900123\x00'],
  ])('refuses %s', (_n, s) => {
    expect(() => parseMikeySakkeIdentifier(new TextEncoder().encode(s))).toThrow(SakkeError);
  });
  it('refuses to build from a non-URI or an invalid date', () => {
    expect(() => mikeySakkeIdentifier('alice', new Date())).toThrow(SakkeError);
    expect(() => mikeySakkeIdentifier('sip:a@b', new Date(Number.NaN))).toThrow(SakkeError);
  });
});
