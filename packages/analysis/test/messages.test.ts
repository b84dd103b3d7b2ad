import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSecureMessage, createCa, encryptContent, issueUserCertificate, signContent, type IssuedCredential } from '@imslab/cms';
import { markerFor } from '@imslab/probe';
import { analyseMessages, findCms, MESSAGE_VERDICT_PATTERN, messageStoresIn, type AddressOwner, type MessageAnalysisInput } from '../src/index.ts';
import { LinkCapture, msrpSend, sipMessage, sipOk, tlsConversation, tmp, udpFragments4, writeText } from './messages-fixtures.ts';

const ELEMENTS: Record<string, { name: string; kind: string }> = {
  '127.0.1.100': { name: 'alice', kind: 'ue' },
  '127.0.1.10': { name: 'p-cscf-a', kind: 'pcscf' },
  '127.0.2.20': { name: 's-cscf', kind: 'scscf' },
  '127.0.3.10': { name: 'p-cscf-b', kind: 'pcscf' },
  '127.0.3.100': { name: 'bob', kind: 'ue' },
  '127.0.3.101': { name: 'carol', kind: 'ue' },
  '127.0.2.50': { name: 'im-server', kind: 'im-server' },
  '127.0.2.60': { name: 'msrp-relay', kind: 'msrp-relay' },
  '127.0.2.70': { name: 'chat-server', kind: 'chat-server' },
  'fd00:1::100': { name: 'alice', kind: 'ue' },
  'fd00:1::10': { name: 'p-cscf-a', kind: 'pcscf' },
};
const owner: AddressOwner = (a) => ELEMENTS[a];
const ALICE = '127.0.1.100';
const PCSCF_A = '127.0.1.10';
const SCSCF = '127.0.2.20';
const PCSCF_B = '127.0.3.10';
const BOB = '127.0.3.100';
const CAROL = '127.0.3.101';
const IM = '127.0.2.50';
const RELAY = '127.0.2.60';
const CHAT = '127.0.2.70';

interface Pki {
  ca: IssuedCredential;
  alice: IssuedCredential;
  bob: IssuedCredential;
  carol: IssuedCredential;
  /** A server's certificate: a recipient that is no user. */
  server: IssuedCredential;
}
let pki: Pki;
let userCerts: string[];

beforeAll(async () => {
  const ca = await createCa({ commonName: 'imslab test CA', keyType: 'ec' });
  const user = (uri: string) => issueUserCertificate(ca.credential, { uris: [uri], keyType: 'ec' });
  pki = { ca, alice: await user('sip:alice@ims.test'), bob: await user('sip:bob@ims.test'), carol: await user('sip:carol@ims.test'), server: await user('sip:im-server@ims.test') };
  userCerts = [pki.alice.certificatePem + pki.bob.certificatePem, pki.carol.certificatePem];
}, 60_000);

const marker = (n: string) => markerFor(`message-${n}`, 'orig');

/** A signed and encrypted MESSAGE body (RFC 8591) whose CPIM text carries `m`. */
async function secureBody(m: string, to: IssuedCredential[] = [pki.bob]) {
  return buildSecureMessage(
    { from: { uri: 'sip:alice@ims.test' }, to: [{ uri: 'sip:bob@ims.test' }], contentType: 'text/plain;charset=utf-8', body: `hello ${m}` },
    { signer: pki.alice.credential, recipients: to.map((t) => t.credential.certificate) },
  );
}

/** The pager-mode path alice -> P-CSCF-A -> S-CSCF -> P-CSCF-B -> bob: one MESSAGE per hop over TCP, bodies per hop. */
async function pagerPath(dir: string, callId: string, bodies: { a: Buffer; core1: Buffer; core2: Buffer; b: Buffer }, contentType: string): Promise<Record<string, string>> {
  const msg = (body: Buffer) => sipMessage({ callId, contentType, body });
  const access = new LinkCapture(join(dir, 'access-a.pcapng'), 'access-a');
  access.tcp([ALICE, 40001], [PCSCF_A, 5060], [{ c2s: true, data: msg(bodies.a) }, { c2s: false, data: sipOk(callId) }], { mss: 700 });
  await access.close();
  const core = new LinkCapture(join(dir, 'core.pcapng'), 'core');
  core.tcp([PCSCF_A, 40002], [SCSCF, 5060], [{ c2s: true, data: msg(bodies.core1) }]);
  core.tcp([SCSCF, 40003], [PCSCF_B, 5060], [{ c2s: true, data: msg(bodies.core2) }], { mss: 500, reorder: true });
  await core.close();
  const accessB = new LinkCapture(join(dir, 'access-b.pcapng'), 'access-b');
  accessB.tcp([PCSCF_B, 40004], [BOB, 5060], [{ c2s: true, data: msg(bodies.b) }]);
  await accessB.close();
  return { 'access-a': join(dir, 'access-a.pcapng'), core: join(dir, 'core.pcapng'), 'access-b': join(dir, 'access-b.pcapng') };
}

const base = (captures: Record<string, string>, extra: Partial<MessageAnalysisInput> = {}): MessageAnalysisInput => ({ captures, owner, messages: [], userCertificates: userCerts, ...extra });

describe('message verdicts from the captures', () => {
  it('none: the marker readable in a plaintext MESSAGE over UDP, and across TCP segments cut inside the marker', async () => {
    const dir = tmp('msg-plain');
    const m1 = marker('udp');
    const m2 = marker('tcp');
    const udp = new LinkCapture(join(dir, 'access-a.pcapng'), 'access-a');
    udp.udp(ALICE, 5060, PCSCF_A, 5060, sipMessage({ callId: 'plain-1', contentType: 'text/plain', body: `hi ${m1}` }));
    // A raw TCP stream (not SIP) whose marker is cut between two segments, sent out of order.
    const raw = Buffer.from(`chat text ${'x'.repeat(13)}${m2} more`);
    udp.tcp([ALICE, 40010], [CHAT, 9999], [{ c2s: true, data: raw }], { mss: 30, reorder: true });
    await udp.close();
    const r = await analyseMessages(base({ 'access-a': join(dir, 'access-a.pcapng') }, { messages: [{ marker: m1, alias: 'udp' }, { marker: m2, alias: 'tcp' }] }));
    expect(r.problems).toEqual([]);
    const [a, b] = r.messages;
    expect(a!.verdict).toBe('none');
    expect(a!.links['access-a']!.protection).toBe('plaintext');
    expect(a!.links['access-a']!.plaintext[0]).toMatchObject({ carrier: 'sip', srcElement: 'alice', dstElement: 'p-cscf-a', inside: 'raw' });
    expect(a!.reasons[0]).toContain('readable in the clear on access-a');
    expect(b!.verdict).toBe('none');
    expect(b!.links['access-a']!.plaintext[0]).toMatchObject({ carrier: 'tcp', dstElement: 'chat-server' });
  });

  it('e2e: the same CMS (signed, AuthEnvelopedData to bob) on every link, byte-identical through three servers', async () => {
    const dir = tmp('msg-e2e');
    const m = marker('e2e');
    const sealed = await secureBody(m);
    const body = Buffer.from(sealed.body);
    const captures = await pagerPath(dir, 'e2e-1@alice', { a: body, core1: body, core2: body, b: body }, sealed.contentType);
    const r = await analyseMessages(base(captures, { messages: [{ marker: m, alias: 'smime', callIds: ['e2e-1@alice'], recipients: ['sip:bob@ims.test'], links: ['access-a', 'core', 'access-b'] }] }));
    expect(r.problems).toEqual([]);
    const rep = r.messages[0]!;
    expect(rep.verdict, rep.reasons.join('\n')).toBe('e2e');
    expect(MESSAGE_VERDICT_PATTERN.test(rep.verdict)).toBe(true);
    expect(Object.values(rep.links).map((l) => l.protection)).toEqual(['cms', 'cms', 'cms']);
    const c = rep.links.core!.cms[0]!;
    expect(c).toMatchObject({ kind: 'auth-enveloped-data', carrier: 'sip', insideTls: false, callId: 'e2e-1@alice', recipientIdentities: ['sip:bob@ims.test'], allRecipientsUsers: true, attributedBy: 'call-id' });
    expect(rep.servers.map((s) => [s.element, s.identical])).toEqual([['p-cscf-a', true], ['p-cscf-b', true], ['s-cscf', true]]);
    expect(rep.readBy).toEqual(['sip:bob@ims.test']);
  }, 30_000);

  it('not e2e when the CMS changes between hops (re-encrypted at the S-CSCF), or a recipient is no user', async () => {
    const dir = tmp('msg-changed');
    const m = marker('changed');
    const first = Buffer.from((await secureBody(m)).body);
    const again = Buffer.from((await secureBody(m)).body); // same text, new CEK: different bytes
    const sealed = await secureBody(m);
    const captures = await pagerPath(dir, 'chg-1@alice', { a: first, core1: first, core2: again, b: again }, sealed.contentType);
    const r = await analyseMessages(base(captures, { messages: [{ marker: m, callIds: ['chg-1@alice'] }] }));
    const rep = r.messages[0]!;
    expect(rep.verdict).toBe('unknown');
    expect(rep.servers.find((s) => s.element === 's-cscf')!.identical).toBe(false);
    expect(rep.reasons.join('\n')).toContain('the CMS changed at s-cscf');

    // Encrypted to a server's certificate too: that recipient is not among the users.
    const dir2 = tmp('msg-server-recipient');
    const m2 = marker('server-recipient');
    const toServer = Buffer.from((await secureBody(m2, [pki.bob, pki.server])).body);
    const captures2 = await pagerPath(dir2, 'srv-1@alice', { a: toServer, core1: toServer, core2: toServer, b: toServer }, sealed.contentType);
    const r2 = await analyseMessages(base(captures2, { messages: [{ marker: m2, callIds: ['srv-1@alice'] }] }));
    expect(r2.messages[0]!.verdict).toBe('unknown');
    expect(r2.messages[0]!.reasons.join('\n')).toContain("has a recipient that is no user's certificate");
    // Without the users' certificates, nothing shows the recipients are users.
    const r3 = await analyseMessages({ captures: captures2, owner, messages: [{ marker: m2, callIds: ['srv-1@alice'] }] });
    expect(r3.messages[0]!.verdict).toBe('unknown');
    expect(r3.messages[0]!.reasons.join('\n')).toContain("no users' certificates were given");
  }, 30_000);

  it('group IM: the exploder forwards the same CMS under new Call-IDs (tied by its bytes), and its store holds ciphertext only', async () => {
    const dir = tmp('msg-group');
    const m = marker('group');
    const sealed = await secureBody(m, [pki.bob, pki.carol]);
    const body = Buffer.from(sealed.body);
    const core = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    core.tcp([SCSCF, 40020], [IM, 5060], [{ c2s: true, data: sipMessage({ callId: 'grp-1@alice', contentType: sealed.contentType, body }) }]);
    core.tcp([IM, 40021], [PCSCF_B, 5060], [{ c2s: true, data: sipMessage({ callId: 'im-x1', to: 'sip:bob@ims.test', contentType: sealed.contentType, body }) }]);
    core.tcp([IM, 40022], [PCSCF_B, 5060], [{ c2s: true, data: sipMessage({ callId: 'im-x2', to: 'sip:carol@ims.test', contentType: sealed.contentType, body }) }]);
    await core.close();
    const store = join(dir, 'im-store');
    mkdirSync(store);
    writeFileSync(join(store, 'carol-1.bin'), body);
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, {
      messages: [{ marker: m, callIds: ['grp-1@alice'], recipients: ['sip:bob@ims.test', 'sip:carol@ims.test'] }],
      stores: [{ element: 'im-server', kind: 'im-server', path: store }],
    }));
    const rep = r.messages[0]!;
    expect(rep.verdict, rep.reasons.join('\n')).toBe('e2e');
    expect(rep.links.core!.cms.map((c) => c.attributedBy).sort()).toEqual(['call-id', 'same-bytes', 'same-bytes']);
    expect(rep.servers).toEqual([expect.objectContaining({ element: 'im-server', identical: true })]);
    expect(rep.stores).toEqual([]);
  }, 30_000);

  it('a marker in an element store means that element reads it: e2e on the wire becomes unknown', async () => {
    const dir = tmp('msg-store');
    const m = marker('stored');
    const sealed = await secureBody(m);
    const body = Buffer.from(sealed.body);
    const captures = await pagerPath(dir, 'st-1@alice', { a: body, core1: body, core2: body, b: body }, sealed.contentType);
    const store = join(dir, 'logs');
    mkdirSync(store);
    writeFileSync(join(store, 's-cscf.log'), `debug: decrypted body hello ${m}\n`);
    const bobStore = join(dir, 'bob');
    mkdirSync(bobStore);
    writeFileSync(join(bobStore, 'inbox.txt'), `hello ${m}\n`);
    const r = await analyseMessages(base(captures, {
      messages: [{ marker: m, callIds: ['st-1@alice'] }],
      stores: [{ element: 's-cscf', path: join(store, 's-cscf.log') }, { element: 'bob', kind: 'ue', path: bobStore }],
      storeBase: dir,
    }));
    const rep = r.messages[0]!;
    expect(rep.verdict).toBe('unknown');
    expect(rep.stores).toEqual([{ element: 's-cscf', file: join('logs', 's-cscf.log') }, { element: 'bob', kind: 'ue', file: join('bob', 'inbox.txt') }]);
    expect(rep.reasons).toContain(`s-cscf holds the message in plaintext at rest (${join('logs', 's-cscf.log')}): it reads it`);
    expect(rep.readBy).toEqual(['s-cscf']);
  }, 30_000);

  it('e2e found by opening the CMS with a user credential when no Call-ID is given; MSRP chunks joined', async () => {
    const dir = tmp('msg-msrp-cms');
    const m = marker('msrp-cms');
    const sealed = await secureBody(m);
    const body = Buffer.from(sealed.body);
    const half = Math.floor(body.length / 2);
    const link = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    const chunks = (tid: string) => [
      { c2s: true, data: msrpSend({ tid: `${tid}a`, messageId: 'msg-77', body: body.subarray(0, half), total: body.length, last: false, contentType: sealed.contentType }) },
      { c2s: true, data: msrpSend({ tid: `${tid}b`, messageId: 'msg-77', body: body.subarray(half), start: half + 1, total: body.length, contentType: sealed.contentType }) },
    ];
    link.tcp([ALICE, 40030], [RELAY, 2855], chunks('tr01'));
    // The relay's leg gives no total until the last chunk (`1-*/*`, RFC 4975 sec. 7.1.1).
    link.tcp([RELAY, 40031], [BOB, 2855], chunks('tr02').map((c, i) => (i === 0 ? { c2s: true, data: msrpSend({ tid: 'tr02a', messageId: 'msg-77', body: body.subarray(0, half), total: '*', last: false }) } : c)));
    await link.close();
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m }], userCredentials: [pki.bob.credential] }));
    const rep = r.messages[0]!;
    expect(rep.verdict, rep.reasons.join('\n')).toBe('e2e');
    expect(rep.links.core!.cms.map((c) => [c.carrier, c.msrpMessageId, c.attributedBy])).toEqual([['msrp', 'msg-77', 'decrypted'], ['msrp', 'msg-77', 'decrypted']]);
    expect(rep.servers).toEqual([expect.objectContaining({ element: 'msrp-relay', identical: true })]);
    // Another message that shares the Message-ID: the opened CMS holds not its marker, so it is not tied to it.
    const r4 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: marker('other'), msrpMessageIds: ['msg-77'] }], userCredentials: [pki.bob.credential] }));
    expect(r4.messages[0]!.verdict).toBe('unknown');
    expect(r4.messages[0]!.links.core!.cms).toEqual([]);
    // Without the credential and without an id, nothing ties the CMS to the message.
    const r2 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m }] }));
    expect(r2.messages[0]!.verdict).toBe('unknown');
    // With its Message-ID, it is tied again.
    const r3 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m, msrpMessageIds: ['msg-77'] }] }));
    expect(r3.messages[0]!.verdict).toBe('e2e');
  }, 30_000);

  it('a MESSAGE larger than the MTU over UDP in IPv4 fragments is read whole; IPv6 flows are named by their owners', async () => {
    const dir = tmp('msg-frag');
    const m1 = marker('fragmented');
    const m2 = marker('v6');
    const sealed = await secureBody(m1);
    const big = sipMessage({ callId: 'frag-1', contentType: sealed.contentType, body: sealed.body });
    expect(big.length).toBeGreaterThan(1300);
    const link = new LinkCapture(join(dir, 'access-a.pcapng'), 'access-a');
    for (const f of udpFragments4(ALICE, 5060, PCSCF_A, 5060, big, 512)) link.raw(f);
    link.tcp(['fd00:1::100', 40080], ['fd00:1::10', 5060], [{ c2s: true, data: sipMessage({ callId: 'v6-1', contentType: 'text/plain', body: `hi ${m2}` }) }]);
    await link.close();
    const r = await analyseMessages(base({ 'access-a': join(dir, 'access-a.pcapng') }, { messages: [{ marker: m1, callIds: ['frag-1'] }, { marker: m2 }] }));
    expect(r.problems).toEqual([]);
    expect(r.messages[0]!.verdict, r.messages[0]!.reasons.join('\n')).toBe('e2e');
    expect(r.messages[0]!.links['access-a']!.cms[0]).toMatchObject({ flow: `udp ${ALICE}:5060 > ${PCSCF_A}:5060`, srcElement: 'alice', dstElement: 'p-cscf-a' });
    expect(r.messages[1]!.verdict).toBe('none');
    expect(r.messages[1]!.links['access-a']!.plaintext[0]).toMatchObject({ src: '[fd00:1::100]:40080', srcElement: 'alice', dstElement: 'p-cscf-a' });
  }, 30_000);

  it('a signed-only body is readable (none); an EnvelopedData (AES-CBC) body is e2e', async () => {
    const dir = tmp('msg-kinds');
    const m1 = marker('signed-only');
    const m2 = marker('enveloped');
    const signed = Buffer.from(await signContent(Buffer.from(`Content-Type: text/plain\r\n\r\nhi ${m1}`), pki.alice.credential));
    const enveloped = Buffer.from(await encryptContent(Buffer.from(`Content-Type: text/plain\r\n\r\nhi ${m2}`), [pki.bob.credential.certificate], { kind: 'enveloped' }));
    const link = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'k-1', contentType: 'application/pkcs7-mime; smime-type=signed-data', body: signed }));
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'k-2', contentType: 'application/pkcs7-mime; smime-type=enveloped-data', body: enveloped }));
    // Signed only, in base64: the marker is encoded, not protected.
    const m3 = marker('signed-base64');
    const signed64 = Buffer.from(await signContent(Buffer.from(`Content-Type: text/plain\r\n\r\nhi ${m3}`), pki.alice.credential)).toString('base64').replace(/.{76}/g, '$&\r\n');
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'k-3', contentType: 'application/pkcs7-mime; smime-type=signed-data', body: `${signed64}\r\n` }));
    await link.close();
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m1, callIds: ['k-1'] }, { marker: m2, callIds: ['k-2'] }, { marker: m3 }] }));
    expect(r.messages[0]!.verdict).toBe('none');
    expect(r.messages[2]!.verdict).toBe('none');
    expect(r.messages[2]!.links.core!.cms[0]).toMatchObject({ kind: 'signed-data', callId: 'k-3' });
    expect(r.messages[1]!.verdict, r.messages[1]!.reasons.join('\n')).toBe('e2e');
    expect(r.messages[1]!.links.core!.cms[0]!.kind).toBe('enveloped-data');
  }, 30_000);
});

describe('messages inside TLS', () => {
  let server: IssuedCredential;
  beforeAll(async () => {
    // A certificate with digitalSignature in its key usage: TLS 1.2 (ECDHE-ECDSA) insists on it.
    server = await issueUserCertificate((await createCa({ commonName: 'tls CA', keyType: 'ec' })).credential, { uris: ['sip:p-cscf-a.ims.test'], keyType: 'ec' });
  }, 30_000);

  it('hop-by-hop(msrp-relay): MSRP over TLS on both legs, the marker readable only with the key logs', async () => {
    const dir = tmp('msg-tls');
    const m = marker('msrp-tls');
    const send = msrpSend({ tid: 'tls1', messageId: 'm-tls', body: `hello ${m}` });
    const leg1 = await tlsConversation(server.certificatePem, server.privateKeyPem, [send], [Buffer.from('MSRP tls1 200 OK\r\nTo-Path: msrp://x\r\nFrom-Path: msrp://y\r\n-------tls1$\r\n')]);
    const leg2 = await tlsConversation(server.certificatePem, server.privateKeyPem, [send]);
    const link = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    link.tcp([ALICE, 40040], [RELAY, 2855], leg1.wire);
    link.tcp([RELAY, 40041], [BOB, 2855], leg2.wire);
    await link.close();
    const keys = [writeText(dir, 'alice.tls-keys.log', leg1.keyLog), writeText(dir, 'relay.tls-keys.log', leg2.keyLog)];
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m, alias: 'msrp' }], tlsKeyLogs: keys }));
    expect(r.problems).toEqual([]);
    const rep = r.messages[0]!;
    expect(rep.verdict, rep.reasons.join('\n')).toBe('hop-by-hop(msrp-relay)');
    expect(MESSAGE_VERDICT_PATTERN.test(rep.verdict)).toBe(true);
    expect(rep.links.core!.protection).toBe('tls');
    expect(rep.links.core!.tls.map((t) => [t.srcElement, t.dstElement, t.carrier]).sort()).toEqual([['alice', 'msrp-relay', 'msrp'], ['msrp-relay', 'bob', 'msrp']]);
    expect(r.links[0]!.tlsOpened).toEqual([`tcp ${ALICE}:40040 > ${RELAY}:2855`, `tcp ${RELAY}:40041 > ${BOB}:2855`]);
    expect(rep.readBy).toEqual(['alice', 'bob', 'msrp-relay']);

    // Without the key logs: nothing readable, TLS not opened: unknown, never a protection claim.
    const r2 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m }] }));
    expect(r2.messages[0]!.verdict).toBe('unknown');
    expect(r2.problems).toEqual([]);
    expect(r2.links[0]!.unopenedTls.map((u) => [u.flow, u.why])).toEqual([
      [`tcp ${ALICE}:40040 > ${RELAY}:2855`, 'no TLS key log given'], [`tcp ${RELAY}:40041 > ${BOB}:2855`, 'no TLS key log given'],
    ]);
    // A key log that is not there: a problem, and the TLS stays unopened.
    const r4 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m }], tlsKeyLogs: [join(dir, 'missing.log')] }));
    expect(r4.messages[0]!.verdict).toBe('unknown');
    expect(r4.problems).toEqual([`core: TLS not opened: TLS key log ${join(dir, 'missing.log')} not readable: ENOENT`]);
    expect(r4.links[0]!.unopenedTls).toHaveLength(2);
    // With only one leg's key log: the other leg is a stream the key logs do not open.
    const r3 = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, { messages: [{ marker: m }], tlsKeyLogs: [keys[0]!] }));
    expect(r3.messages[0]!.verdict).toBe('hop-by-hop(msrp-relay)');
    expect(r3.links[0]!.unopenedTls.map((u) => [u.flow, u.why])).toEqual([[`tcp ${RELAY}:40041 > ${BOB}:2855`, 'the key logs hold no secrets for it']]);
    expect(r3.messages[0]!.reasons.join('\n')).toContain('TLS not opened on core');
  }, 30_000);

  it('chat: TLS to the chat server, which stores the plaintext: hop-by-hop(chat-server) with the store in the reasons', async () => {
    const dir = tmp('msg-chat');
    const m = marker('chat');
    const send = msrpSend({ tid: 'chat1', messageId: 'chat-1', body: `room text ${m}` });
    const leg = await tlsConversation(server.certificatePem, server.privateKeyPem, [send]);
    const link = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    link.tcp([ALICE, 40050], [CHAT, 2855], leg.wire);
    await link.close();
    const store = join(dir, 'chat-store');
    mkdirSync(store);
    writeFileSync(join(store, 'room.jsonl'), JSON.stringify({ text: `room text ${m}` }) + '\n');
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng') }, {
      messages: [{ marker: m }], tlsKeyLogs: [writeText(dir, 'k.log', leg.keyLog)], stores: [{ element: 'chat-server', path: store }], storeBase: dir,
    }));
    const rep = r.messages[0]!;
    expect(rep.verdict).toBe('hop-by-hop(chat-server)');
    expect(rep.reasons).toContain(`chat-server holds the message in plaintext at rest (${join('chat-store', 'room.jsonl')}): it reads it`);
  }, 30_000);

  it('e2e with the CMS inside TLS on the access link and in plain TCP in the core', async () => {
    const dir = tmp('msg-cms-tls');
    const m = marker('cms-tls');
    const sealed = await secureBody(m);
    const msg = sipMessage({ callId: 'ct-1@alice', contentType: sealed.contentType, body: sealed.body });
    const leg = await tlsConversation(server.certificatePem, server.privateKeyPem, [msg], [sipOk('ct-1@alice')]);
    const access = new LinkCapture(join(dir, 'access-a.pcapng'), 'access-a');
    access.tcp([ALICE, 40060], [PCSCF_A, 5061], leg.wire);
    await access.close();
    const core = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    core.tcp([PCSCF_A, 40061], [SCSCF, 5060], [{ c2s: true, data: msg }]);
    await core.close();
    const captures = { 'access-a': join(dir, 'access-a.pcapng'), core: join(dir, 'core.pcapng') };
    const r = await analyseMessages(base(captures, { messages: [{ marker: m, callIds: ['ct-1@alice'] }], tlsKeyLogs: [writeText(dir, 'k.log', leg.keyLog)] }));
    const rep = r.messages[0]!;
    expect(rep.verdict, rep.reasons.join('\n')).toBe('e2e');
    expect(rep.links['access-a']!.cms[0]).toMatchObject({ insideTls: true, srcElement: 'alice', dstElement: 'p-cscf-a' });
    expect(rep.servers).toEqual([expect.objectContaining({ element: 'p-cscf-a', identical: true })]);
    // The same over TLS 1.2 (Kamailio's default): the directions of the decrypted stream stay right.
    const leg12 = await tlsConversation(server.certificatePem, server.privateKeyPem, [msg], [sipOk('ct-1@alice')], 'TLSv1.2');
    const access12 = new LinkCapture(join(dir, 'access-a12.pcapng'), 'access-a');
    access12.tcp([ALICE, 40062], [PCSCF_A, 5061], leg12.wire);
    await access12.close();
    const keys12 = writeText(dir, 'k12.log', leg12.keyLog);
    expect(leg12.keyLog).toMatch(/^CLIENT_RANDOM /m);
    const r12 = await analyseMessages(base({ ...captures, 'access-a': join(dir, 'access-a12.pcapng') }, { messages: [{ marker: m, callIds: ['ct-1@alice'] }], tlsKeyLogs: [keys12] }));
    expect(r12.messages[0]!.verdict, r12.messages[0]!.reasons.join('\n')).toBe('e2e');
    expect(r12.messages[0]!.links['access-a']!.cms[0]).toMatchObject({ insideTls: true, srcElement: 'alice', dstElement: 'p-cscf-a' });
    // Without the key log the access link's TLS is not opened: the CMS is seen only in the core, and the verdict stays unknown.
    const r2 = await analyseMessages(base(captures, { messages: [{ marker: m, callIds: ['ct-1@alice'] }] }));
    expect(r2.messages[0]!.verdict).toBe('unknown');
    expect(r2.messages[0]!.reasons.join('\n')).toContain('TLS not opened on access-a');
  }, 30_000);
});

describe('bad input never throws out of analyseMessages', () => {
  it('truncated CMS, garbage with CMS OIDs, base64 garbage, missing and cut captures, a bad marker, a bad certificate', async () => {
    const dir = tmp('msg-bad');
    const m = marker('bad');
    const sealed = await secureBody(m);
    const cut = Buffer.from(sealed.body).subarray(0, 200);
    const oid = Buffer.from('06092a864886f70d010703', 'hex');
    const garbage = Buffer.concat([Buffer.from([0x30, 0x82, 0x00, 0x20]), oid, Buffer.alloc(40, 0xff)]);
    const link = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'bad-1', contentType: sealed.contentType, body: cut }));
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'bad-1', contentType: sealed.contentType, body: garbage }));
    link.udp(PCSCF_A, 5060, SCSCF, 5060, sipMessage({ callId: 'bad-1', contentType: 'text/plain', body: 'MIIB' + 'A'.repeat(200) + '\r\n' }));
    link.udp(PCSCF_A, 5060, SCSCF, 5060, Buffer.from('MESSAGE sip:x SIP/2.0\r\nCall-ID: bad-1\r\n')); // no end of headers
    link.tcp([PCSCF_A, 40070], [SCSCF, 2855], [
      { c2s: true, data: Buffer.from('MSRP zzzz SEND\r\nMessage-ID: q\r\nByte-Range: 5-1/x\r\n\r\n0\x82\r\n-------zzzz$\r\n') },
      // Byte-Ranges that lie: past the total, a total never reached, and one chunk claiming the whole of a larger message.
      { c2s: true, data: msrpSend({ tid: 'lie1', messageId: 'q2', body: cut, start: 900, total: 100 }) },
      { c2s: true, data: msrpSend({ tid: 'lie2', messageId: 'q3', body: cut, start: 1, total: 999_999_999, last: false }) },
      { c2s: true, data: msrpSend({ tid: 'lie3', messageId: 'q3', body: cut, start: 150, total: 180 }) },
    ]);
    await link.close();
    const truncatedFile = join(dir, 'cut.pcapng');
    writeFileSync(truncatedFile, (await import('node:fs')).readFileSync(join(dir, 'core.pcapng')).subarray(0, 300));
    const r = await analyseMessages(base({ core: join(dir, 'core.pcapng'), cut: truncatedFile, missing: join(dir, 'nope.pcap') }, {
      messages: [{ marker: m, callIds: ['bad-1'] }, { marker: 'not-a-marker' }],
      userCertificates: [...userCerts, 'not a certificate'],
      stores: [{ element: 'im-server', path: join(dir, 'no-such-dir') }],
    }));
    const rep = r.messages[0]!;
    expect(rep.verdict).toBe('unknown');
    expect(rep.reasons.join('\n')).toMatch(/cut short/);
    expect(rep.reasons.join('\n')).toMatch(/does not read/);
    expect(r.problems.filter((p) => p.startsWith('core: ')).every((p) => p.includes('CMS on'))).toBe(true);
    expect(r.problems.some((p) => p.startsWith('missing: '))).toBe(true);
    expect(r.problems.some((p) => p.startsWith('cut: '))).toBe(true);
    expect(r.problems.some((p) => p.includes('not a probe marker'))).toBe(true);
    expect(r.problems.some((p) => p.includes('a user certificate does not read'))).toBe(true);
    expect(r.problems.some((p) => p.startsWith('store of im-server: ') && p.includes('not found'))).toBe(true);
    expect(r.messages[1]!.verdict).toBe('unknown');
  }, 30_000);

  it("messageStoresIn: a run's logs directory by element", () => {
    const logs = tmp('msg-logs');
    for (const f of ['p-cscf-a.log', 'p-cscf.log', 'im-server-store', 'chat-server', 'kms-audit.jsonl', 'other.log']) {
      if (f.includes('.')) writeFileSync(join(logs, f), '');
      else mkdirSync(join(logs, f));
    }
    const stores = messageStoresIn(logs, [{ name: 'p-cscf', kind: 'pcscf' }, { name: 'p-cscf-a', kind: 'pcscf' }, { name: 'im-server' }, { name: 'chat-server' }, { name: 'kms' }]);
    expect(stores.map((s) => [s.element, s.path.slice(logs.length + 1)])).toEqual([
      ['chat-server', 'chat-server'], ['im-server', 'im-server-store'], ['kms', 'kms-audit.jsonl'], ['p-cscf-a', 'p-cscf-a.log'], ['p-cscf', 'p-cscf.log'],
    ]);
    expect(messageStoresIn(join(logs, 'nope'), [])).toEqual([]);
  });

  it('findCms: binary and base64 bodies, cut and hostile bytes', async () => {
    const sealed = await secureBody(marker('sniff'));
    const der = Buffer.from(sealed.body);
    const [found] = await findCms(Buffer.concat([Buffer.from('prefix'), der, Buffer.from('suffix')]));
    expect(found).toMatchObject({ kind: 'auth-enveloped-data', offset: 6, encoding: 'binary' });
    expect(found!.der.equals(der)).toBe(true);
    expect(found!.recipients).toHaveLength(1);
    const b64 = Buffer.from(`--b\r\nContent-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n${der.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b--\r\n`);
    expect((await findCms(b64))[0]).toMatchObject({ kind: 'auth-enveloped-data', encoding: 'base64', sha256: found!.sha256 });
    expect((await findCms(der.subarray(0, der.length - 10)))[0]!.error).toMatch(/cut short/);
    expect(await findCms(Buffer.alloc(0))).toEqual([]);
    const hostile = Buffer.concat(Array.from({ length: 500 }, () => Buffer.from('30800609 2a864886f70d010702'.replace(' ', ''), 'hex')));
    await expect(findCms(hostile)).resolves.toEqual(expect.any(Array));
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(der);
      for (let k = 0; k < 8; k++) {
        const j = (i * 131 + k * 977) % b.length;
        b[j] = b[j]! ^ (1 + ((i + k) % 255));
      }
      await expect(findCms(b)).resolves.toEqual(expect.any(Array));
    }
  }, 30_000);
});
