/** MSRP URIs: RFC 4975 sec. 6 / 9 syntax and the sec. 6.1 comparison rules. */
import { describe, expect, it } from 'vitest';
import { formatMsrpUri, msrpUrisEqual, parseMsrpUri, parseMsrpUriList, uriAddress, type MsrpUri } from '../src/index.ts';

const p = (s: string): MsrpUri => {
  const r = parseMsrpUri(s);
  if (!r.ok) throw r.error;
  return r.uri;
};

describe('MSRP URI syntax (RFC 4975 sec. 9)', () => {
  it('parses the sec. 11.1 URI and formats it back', () => {
    const u = p('msrp://bob.example.com:8888/9di4eae923wzd;tcp');
    expect(u).toEqual({ scheme: 'msrp', user: undefined, host: 'bob.example.com', port: 8888, sessionId: '9di4eae923wzd', transport: 'tcp', params: [] });
    expect(formatMsrpUri(u)).toBe('msrp://bob.example.com:8888/9di4eae923wzd;tcp');
  });

  it('relay URIs without session-id, userinfo, IPv6, parameters, session ids with "/" "+" "="', () => {
    expect(p('msrps://relay.example.net;tcp')).toMatchObject({ scheme: 'msrps', host: 'relay.example.net', port: undefined, sessionId: undefined });
    expect(p('msrps://alice@atlanta.example.com:2855/a/b+c=;tcp;foo=bar')).toMatchObject({ user: 'alice', sessionId: 'a/b+c=', params: ['foo=bar'] });
    const v6 = p('msrp://[2001:db8::1]:9000/s1;TCP');
    expect(v6).toMatchObject({ host: '2001:db8::1', port: 9000, transport: 'tcp' });
    expect(formatMsrpUri(v6)).toBe('msrp://[2001:db8::1]:9000/s1;tcp');
    expect(uriAddress(p('msrps://h;tcp'))).toEqual({ host: 'h', port: 2855, tls: true });
  });

  it.each([
    'sip:bob@example.com',
    'msrp://bob.example.com:8888/abc', // no ;transport (mandatory)
    'msrp://bob.example.com:99999/a;tcp',
    'msrp://bob.example.com:88a/a;tcp',
    'msrp://bob example/a;tcp',
    'msrp://h/a b;tcp',
    'msrp://[::1/a;tcp',
    'msrp://h/a;t-c',
    'msrp://;tcp',
  ])('refuses %s with a typed error', (s) => {
    const r = parseMsrpUri(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('bad-uri');
  });

  it('URI lists are space separated', () => {
    const r = parseMsrpUriList('msrps://a:1/x;tcp  msrps://b:2/y;tcp');
    expect(r.ok && r.uris.map((u) => u.sessionId)).toEqual(['x', 'y']);
    expect(parseMsrpUriList('').ok).toBe(false);
  });
});

describe('MSRP URI comparison (RFC 4975 sec. 6.1)', () => {
  const base = 'msrp://example.com:7777/iau39soe2843z;tcp';
  it.each([
    ['MSRP://EXAMPLE.COM:7777/iau39soe2843z;TCP', true, 'scheme, host and transport are case-insensitive'],
    ['msrp://user@example.com:7777/iau39soe2843z;tcp', true, 'userinfo is ignored'],
    ['msrp://ex%61mple.com:7777/iau39soe2843z;tcp', true, 'percent-encoded unreserved characters are decoded'],
    ['msrp://example.com:7777/iau39soe2843z;tcp;x=1', true, 'other parameters do not matter'],
    ['msrp://example.com/iau39soe2843z;tcp', false, 'an explicit port never equals an absent one'],
    ['msrp://example.com:7778/iau39soe2843z;tcp', false, 'ports differ'],
    ['msrp://example.com:7777/IAU39SOE2843Z;tcp', false, 'session-id is case-sensitive'],
    ['msrp://example.com:7777;tcp', false, 'no session-id never equals one with a session-id'],
    ['msrps://example.com:7777/iau39soe2843z;tcp', false, 'schemes differ'],
    ['msrp://example.com:7777/iau39soe2843z;sctp', false, 'transports differ'],
  ])('%s vs base: %s (%s)', (other, equal) => {
    expect(msrpUrisEqual(p(base), p(other))).toBe(equal);
    expect(msrpUrisEqual(p(other), p(base))).toBe(equal);
  });
});
