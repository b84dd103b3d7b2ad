import { describe, expect, it } from 'vitest';
import sdpTransform from 'sdp-transform';
import { answerOffer, buildSdp, completeOffer, createOffer, E2AE_NOT_APPLIED, E2AE_NOT_CONFIRMED, parseRemoteSdp, type MediaSecurityLines } from '../src/index.ts';

function roundTrip(lines: MediaSecurityLines, port = 40000): MediaSecurityLines {
  const sdp = buildSdp({ address: '127.0.1.100', port, sessionId: 1, sessionVersion: 0, security: lines });
  const r = parseRemoteSdp(sdp);
  if (!r.ok) throw new Error(r.reason);
  return r.sdp.security;
}

describe('SDP offer/answer and media security', () => {
  it('an e2ae offer is RTP/SAVP with one AES_CM_128_HMAC_SHA1_80 crypto line and a=3ge2ae:requested at media level', () => {
    const o = createOffer('e2ae', { e2aeConfirmed: true });
    if (!o.ok) throw new Error(o.reason);
    const sdp = buildSdp({ address: '127.0.1.100', port: 40000, sessionId: 1, sessionVersion: 0, security: o.offer.lines });
    expect(sdp).toContain('c=IN IP4 127.0.1.100');
    expect(sdp).toContain('m=audio 40000 RTP/SAVP 0');
    expect(sdp).toContain('a=rtpmap:0 PCMU/8000');
    expect(sdp).toContain('a=ptime:20');
    expect(sdp).toContain('a=sendrecv');
    expect(sdp).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}\r\n/);
    const media = sdpTransform.parse(sdp).media[0]!;
    expect(media.invalid).toEqual([{ value: '3ge2ae:requested' }]);
    expect(sdp.indexOf('a=3ge2ae')).toBeGreaterThan(sdp.indexOf('m=audio'));
  });

  it('e2ae without confirmation is refused with the documented reason; sdes-e2e has no 3ge2ae; none is RTP/AVP', () => {
    expect(createOffer('e2ae', { e2aeConfirmed: false })).toEqual({ ok: false, reason: E2AE_NOT_CONFIRMED });
    const s = createOffer('sdes-e2e', { e2aeConfirmed: false });
    expect(s.ok && s.offer.lines.attributes).toEqual([]);
    expect(s.ok && s.offer.lines.profile).toBe('RTP/SAVP');
    const n = createOffer('none', { e2aeConfirmed: false });
    expect(n.ok && n.offer.lines).toEqual({ profile: 'RTP/AVP', crypto: [], attributes: [] });
  });

  it('the answerer picks the first supported suite, keeps its tag, uses a fresh key', () => {
    const offer: MediaSecurityLines = {
      profile: 'RTP/SAVP',
      crypto: [
        '1 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm',
        '2 AES_256_CM_HMAC_SHA1_80 inline:' + Buffer.alloc(46, 7).toString('base64'),
        '3 AES_CM_128_HMAC_SHA1_80 inline:' + Buffer.alloc(30, 9).toString('base64'),
      ],
      attributes: ['3ge2ae:applied'],
    };
    const a = answerOffer(roundTrip(offer), 'none');
    if (!a.ok) throw new Error(a.reason);
    expect(a.lines.profile).toBe('RTP/SAVP');
    expect(a.lines.crypto).toHaveLength(1);
    expect(a.lines.crypto[0]).toMatch(/^2 AES_256_CM_HMAC_SHA1_80 inline:/);
    expect(a.outcome.suite).toBe('AES_256_CM_HMAC_SHA1_80');
    expect(a.outcome.rx!.keySaltBase64).toBe(Buffer.alloc(46, 7).toString('base64'));
    expect(a.outcome.tx!.keySaltBase64).not.toBe(a.outcome.rx!.keySaltBase64);
    expect(a.outcome.peerE2ae).toBe('applied');
  });

  it('answers RTP/AVP with RTP/AVP, refuses it with 488 when we want security (SDES fails closed), and rejects unusable SRTP offers with 488', () => {
    const avp = answerOffer({ profile: 'RTP/AVP', crypto: [], attributes: [] }, 'none');
    expect(avp.ok && avp.lines.profile).toBe('RTP/AVP');
    expect(avp.ok && avp.outcome.achieved).toBe('none');
    for (const mode of ['sdes-e2e', 'e2ae'] as const) {
      const refused = answerOffer({ profile: 'RTP/AVP', crypto: [], attributes: [] }, mode);
      expect(refused).toMatchObject({ ok: false, status: 488 });
      expect(!refused.ok && refused.reason).toMatch(/SDES fails closed/);
    }
    const none = answerOffer({ profile: 'RTP/SAVP', crypto: ['1 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm'], attributes: [] }, 'none');
    expect(none).toMatchObject({ ok: false, status: 488 });
    expect(answerOffer({ profile: 'RTP/SAVP', crypto: [], attributes: [] }, 'none')).toMatchObject({ ok: false, status: 488 });
  });

  it('the offerer reads e2ae from the answer: applied, or refused (e2ae fails closed)', () => {
    const o = createOffer('e2ae', { e2aeConfirmed: true });
    if (!o.ok) throw new Error(o.reason);
    const offered = roundTrip(o.offer.lines);
    const ans = answerOffer(offered, 'none');
    if (!ans.ok) throw new Error(ans.reason);
    // No a=3ge2ae:applied (a P-CSCF that stripped our request, issue 13): our key went on, so the call is refused.
    const plain = completeOffer(o.offer, roundTrip(ans.lines));
    expect(plain).toEqual({ ok: false, reason: `${E2AE_NOT_APPLIED}; the answer has no a=3ge2ae` });
    const echoed = completeOffer(o.offer, { ...ans.lines, attributes: ['3ge2ae:requested'] });
    expect(!echoed.ok && echoed.reason).toBe(`${E2AE_NOT_APPLIED}; the answer has a=3ge2ae:requested`);
    // The same answer to an sdes-e2e offer is fine: nobody was asked to keep the key.
    const e2e = createOffer('sdes-e2e', { e2aeConfirmed: true });
    if (!e2e.ok) throw new Error(e2e.reason);
    const e2eAns = answerOffer(roundTrip(e2e.offer.lines), 'none');
    if (!e2eAns.ok) throw new Error(e2eAns.reason);
    expect(completeOffer(e2e.offer, roundTrip(e2eAns.lines))).toMatchObject({ ok: true, outcome: { achieved: 'e2e' } });
    const applied = completeOffer(o.offer, { ...ans.lines, attributes: ['3ge2ae:applied'] });
    expect(applied.ok && applied.outcome.e2ae).toBe('applied');
    expect(applied.ok && applied.outcome.warning).toBeUndefined();
    expect(applied.ok && applied.outcome.tx!.keySaltBase64).toBe(o.offer.keys.get(1)!.keySaltBase64);
    const wrongTag = completeOffer(o.offer, { ...ans.lines, crypto: [ans.lines.crypto[0]!.replace(/^1 /, '5 ')] });
    expect(wrongTag.ok).toBe(false);
    // A stripped answer (RTP/AVP to our SRTP offer) fails the call: SDES fails closed.
    const avp = completeOffer(o.offer, { profile: 'RTP/AVP', crypto: [], attributes: [] });
    expect(avp.ok).toBe(false);
    expect(!avp.ok && avp.reason).toMatch(/e2ae requested but the answer is RTP\/AVP: media would not be protected \(refused: SDES fails closed\)/);
  });

  it('rejects SDP without PCMU or without audio', () => {
    expect(parseRemoteSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n')).toMatchObject({ ok: false });
    expect(parseRemoteSdp('v=0\r\n')).toMatchObject({ ok: false });
  });
});
