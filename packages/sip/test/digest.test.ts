import { describe, expect, it } from 'vitest';
import { buildDigestAuthorization, computeDigestResponse, parseAuthParams, parseDigestChallenge } from '../src/index.ts';

describe('digest authentication', () => {
  it('matches the RFC 2617 sec. 3.5 example', () => {
    const response = computeDigestResponse({
      username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html',
      qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('parses a challenge and builds an Authorization value', () => {
    const c = parseDigestChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.challenge.qop).toEqual(['auth', 'auth-int']);
    expect(c.challenge.algorithm).toBe('MD5');
    const a = buildDigestAuthorization(c.challenge, { username: 'Mufasa', password: 'Circle Of Life' }, { method: 'GET', uri: '/dir/index.html' }, 1, '0a4f113b');
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.startsWith('Digest ')).toBe(true);
    const p = parseAuthParams(a.value.slice(7))!;
    expect(p.get('response')).toBe('6629fae49393a05397450978507c4ef1');
    expect(p.get('nc')).toBe('00000001');
    expect(p.get('qop')).toBe('auth');
    expect(p.get('opaque')).toBe('5ccc069c403ebaf9f0171e9517f40e41');
  });

  it('supports RFC 2069 style (no qop), SHA-256, and reports bad challenges as values', () => {
    const c = parseDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-256, stale=TRUE');
    expect(c.ok && c.challenge.stale).toBe(true);
    if (!c.ok) return;
    const a = buildDigestAuthorization(c.challenge, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:ims.test' });
    expect(a.ok).toBe(true);
    expect(parseDigestChallenge('Basic realm="x"').ok).toBe(false);
    expect(parseDigestChallenge('Digest realm="x"').ok).toBe(false);
    const bad = parseDigestChallenge('Digest realm="r", nonce="n", algorithm=AKAv1-MD5');
    expect(bad.ok).toBe(true);
    if (bad.ok) expect(buildDigestAuthorization(bad.challenge, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:x' }).ok).toBe(false);
  });
});
