import { describe, expect, it } from 'vitest';
import { judgeMessage, MESSAGE_VERDICT_PATTERN, type CmsSighting, type MarkerSighting, type MessageEvidence } from '../src/index.ts';

const M = 'IMSLAB0123456789';
const KINDS: Record<string, string> = { alice: 'ue', bob: 'ue', 'p-cscf-a': 'pcscf', 's-cscf': 'scscf', 'im-server': 'im-server' };

function hop(link: string, src: string, dst: string) {
  return { link, flow: `tcp ${src}:1 > ${dst}:2`, src: `${src}:1`, dst: `${dst}:2`, srcElement: src, dstElement: dst };
}
function seen(link: string, src: string, dst: string, inside: 'raw' | 'tls'): MarkerSighting {
  return { ...hop(link, src, dst), marker: M, inside, carrier: 'sip', count: 1 };
}
function cms(link: string, src: string, dst: string, over: Partial<CmsSighting> = {}): CmsSighting {
  return {
    ...hop(link, src, dst), carrier: 'sip', insideTls: false, callId: 'c', kind: 'auth-enveloped-data', sha256: 'aa'.repeat(32), bytes: 900,
    recipients: ['issuer CA serial 01'], recipientIdentities: ['sip:bob@ims.test'], allRecipientsUsers: true, ...over,
  };
}
function ev(over: Partial<MessageEvidence>): MessageEvidence {
  return { marker: M, links: ['access-a', 'core', 'access-b'], markers: [], cms: [], unopenedTls: [], stores: [], kindOf: (e) => KINDS[e], haveUserCertificates: true, ...over };
}
const path = (over: Partial<CmsSighting> = {}) => [cms('access-a', 'alice', 'p-cscf-a'), cms('core', 'p-cscf-a', 's-cscf', over), cms('access-b', 's-cscf', 'bob', over)];

describe('judgeMessage', () => {
  it('the weakest sighting wins: plaintext anywhere is none, even beside TLS and CMS', () => {
    const r = judgeMessage(ev({ markers: [seen('core', 'p-cscf-a', 's-cscf', 'raw'), seen('access-a', 'alice', 'p-cscf-a', 'tls')], cms: path() }));
    expect(r.verdict).toBe('none');
    expect(r.links.core!.protection).toBe('plaintext');
    expect(r.links['access-a']!.protection).toBe('tls');
    expect(r.links['access-b']!.protection).toBe('cms');
  });

  it('hop-by-hop names the servers terminating TLS, plus any element storing it; only users when no server is', () => {
    const a = judgeMessage(ev({ markers: [seen('access-a', 'alice', 'p-cscf-a', 'tls'), seen('core', 'p-cscf-a', 's-cscf', 'tls')] }));
    expect(a.verdict).toBe('hop-by-hop(p-cscf-a+s-cscf)');
    expect(MESSAGE_VERDICT_PATTERN.test(a.verdict)).toBe(true);
    const b = judgeMessage(ev({ markers: [seen('access-a', 'alice', 'bob', 'tls')] }));
    expect(b.verdict).toBe('hop-by-hop(alice+bob)');
    const c = judgeMessage(ev({ markers: [seen('access-a', 'alice', 'p-cscf-a', 'tls')], stores: [{ element: 'im-server', file: 'logs/im-server.log' }] }));
    expect(c.verdict).toBe('hop-by-hop(im-server+p-cscf-a)');
    expect(c.reasons).toContain('im-server holds the message in plaintext at rest (logs/im-server.log): it reads it');
  });

  it('e2e only when every condition holds; each failure is unknown with its reason', () => {
    expect(judgeMessage(ev({ cms: path(), expectedRecipients: ['sip:bob@ims.test'], expectedLinks: ['access-a', 'core', 'access-b'] })).verdict).toBe('e2e');
    const cases: Array<[Partial<MessageEvidence>, RegExp]> = [
      [{ cms: path(), expectedLinks: ['access-a', 'core', 'access-b', 'access-c'] }, /no CMS of the message was seen on access-c/],
      [{ cms: path(), expectedRecipients: ['sip:bob@ims.test', 'sip:carol@ims.test'] }, /not encrypted to sip:carol@ims.test/],
      [{ cms: path({ kind: 'signed-data', recipients: [] }) }, /SignedData only/],
      [{ cms: path({ error: 'auth-enveloped-data cut short' }) }, /does not read: auth-enveloped-data cut short/],
      [{ cms: path({ allRecipientsUsers: false }) }, /no user's certificate/],
      [{ cms: path(), haveUserCertificates: false }, /no users' certificates were given/],
      [{ cms: path({ sha256: 'bb'.repeat(32) }) }, /the CMS changed at p-cscf-a/],
      [{ cms: path(), unopenedTls: [{ ...hop('core', 'p-cscf-a', 's-cscf'), why: 'no TLS key log given' }] }, /TLS not opened on core/],
      [{ cms: path().slice(1), unopenedTls: [{ ...hop('access-a', 'alice', 'p-cscf-a'), why: 'no TLS key log given' }] }, /TLS not opened on access-a/],
      [{ cms: path(), stores: [{ element: 's-cscf', file: 'x' }] }, /stored in plaintext by s-cscf/],
      [{}, /read nowhere and no CMS/],
    ];
    for (const [over, why] of cases) {
      const r = judgeMessage(ev(over));
      expect(r.verdict, String(why)).toBe('unknown');
      expect(r.reasons.join('\n')).toMatch(why);
    }
  });

  it('a TLS stream off the path (a UE to the KMS, between two servers the message did not cross) does not weaken e2e', () => {
    // ... nor a server's connection to itself (the MSRP relay between two sessions it holds).
    const r = judgeMessage(ev({ cms: path(), unopenedTls: [{ ...hop('access-a', 'alice', 'kms'), why: 'x' }, { ...hop('core', 'kms', 'im-server'), why: 'x' }, { ...hop('core', 's-cscf', 's-cscf'), why: 'x' }] }));
    expect(r.verdict).toBe('e2e');
  });

  it("a user's own store is no finding; e2e not seen arriving at a user says so", () => {
    const r = judgeMessage(ev({ cms: path(), stores: [{ element: 'bob', kind: 'ue', file: 'inbox' }] }));
    expect(r.verdict).toBe('e2e');
    expect(r.reasons.join('\n')).toContain("bob (a user's device) holds it in plaintext (inbox)");
    const s = judgeMessage(ev({ cms: [cms('access-a', 'alice', 'p-cscf-a'), cms('core', 'p-cscf-a', 'im-server')] }));
    expect(s.verdict).toBe('e2e');
    expect(s.reasons.join('\n')).toContain("not seen arriving at a user's device");
  });
});
