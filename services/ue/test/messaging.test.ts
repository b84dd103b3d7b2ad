import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueUserCertificate, loadCredential, parseMimeEntity, sealCpim, buildCpim, verifySignedContent, type IssuedCredential } from '@imslab/cms';
import { prng } from '@imslab/fuzz';
import { findMarker, markerFor } from '@imslab/probe';
import { createRequest, newCallId, type SipRequest } from '@imslab/sip';
import { ensurePki } from '@imslab/topology';
import { Ue, type TransportName } from '../src/index.ts';
import { Messaging, MessageTooLargeError, type ReceivedMessage } from '../src/messaging.ts';
import { ensureSmimeCredentials } from '../src/messaging-pki.ts';
import { makeCert, quietLogger, tempDir, ueConfig, waitFor } from './helpers.ts';

const A = '127.0.12.1';
const B = '127.0.12.2';
const TIMEOUT = 60_000;
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Pki {
  dir: string;
  ca: IssuedCredential;
  users: Record<'alice' | 'bob' | 'carol', IssuedCredential>;
}

let pki: Pki;
beforeAll(async () => {
  const dir = tempDir('imslab-msg-pki-');
  const ca = await createCa({ commonName: 'imslab messaging test CA' });
  const users = {
    alice: await issueUserCertificate(ca.credential, { uris: ['sip:alice@ims.test'], keyType: 'rsa' }),
    bob: await issueUserCertificate(ca.credential, { uris: ['sip:bob@ims.test'], keyType: 'rsa' }),
    carol: await issueUserCertificate(ca.credential, { uris: ['sip:carol@ims.test'], keyType: 'ec' }),
  };
  writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
  for (const [u, c] of Object.entries(users)) {
    writeFileSync(join(dir, `${u}.pem`), c.certificatePem);
    writeFileSync(join(dir, `${u}.key`), c.privateKeyPem);
  }
  pki = { dir, ca, users };
}, TIMEOUT);

/** The `messaging` section of a user's config; `directory` overrides who is whose certificate. */
function messaging(user: string, o: { directory?: Record<string, string>; envelopedOnly?: string[] } = {}) {
  const f = (n: string) => join(pki.dir, n);
  const dir = o.directory ?? { alice: 'alice', bob: 'bob', carol: 'carol' };
  return {
    certFile: f(`${user}.pem`), keyFile: f(`${user}.key`), caFile: f('ca.pem'),
    directory: Object.fromEntries(Object.entries(dir).map(([who, cert]) => [`sip:${who}@ims.test`, [f(`${cert}.pem`)]])),
    ...(o.envelopedOnly ? { envelopedOnly: o.envelopedOnly } : {}),
  };
}

let running: Ue[] = [];
afterEach(async () => {
  await Promise.all(running.map((u) => u.shutdown()));
  running = [];
});

/** alice and bob, each the other's "P-CSCF" (direct UE to UE). */
async function pair(transport: TransportName, o: { aliceMessaging?: unknown; bobMessaging?: unknown } = {}) {
  const runDir = tempDir();
  const tls = transport === 'tls' ? makeCert(runDir, [A, B]) : undefined;
  const extra = { transport, runDir, ...(tls ? { tls } : {}) };
  const alice = await Ue.start(ueConfig('alice', A, B, { ...extra, messaging: o.aliceMessaging === undefined ? messaging('alice') : o.aliceMessaging }), { logger: quietLogger('alice') });
  running.push(alice);
  const bob = await Ue.start(ueConfig('bob', B, A, { ...extra, messaging: o.bobMessaging === undefined ? messaging('bob') : o.bobMessaging }), { logger: quietLogger('bob') });
  running.push(bob);
  return { alice, bob };
}

const receivedBy = (ue: Ue, callId: string): Promise<ReceivedMessage> => waitFor(`${ue.cfg.name} recorded ${callId}`, () => ue.messaging.received.find((m) => m.callId === callId));

async function control(ue: Ue, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`http://${ue.cfg.address}:${ue.cfg.controlPort}${path}`, { method, headers: { connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe('pager mode (RFC 3428) between two UEs', () => {
  it('in the clear: CPIM over UDP, marker readable on the wire, 200 OK, recorded with its plaintext', async () => {
    const { alice, bob } = await pair('udp');
    const r = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', text: 'hello bob', security: 'none' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 200, structure: 'cpim', transport: 'udp' });
    const m = await receivedBy(bob, r.json['callId'] as string);
    expect(m).toMatchObject({ accepted: true, structure: 'cpim', signatureVerified: false, markerInBody: true, cpimFrom: 'sip:alice@ims.test', response: { status: 200 } });
    const marker = markerFor(r.json['callId'] as string, 'orig');
    expect(r.json['marker']).toBeUndefined();
    expect(m.text).toBe(`hello bob ${marker}`);
    expect(m.marker).toBe(marker);
    expect(m.bodySha256).toBe(alice.messaging.sent[0]!.bodySha256);
    const list = await control(bob, 'GET', '/messages');
    expect((list.json['messages'] as ReceivedMessage[])[0]!.text).toContain('hello bob');
    // Redacted (what the runner reads while capturing): no plaintext, no marker anywhere in the answer.
    const res = await fetch(`http://${bob.cfg.address}:${bob.cfg.controlPort}/messages?redact`, { headers: { connection: 'close' } });
    const raw = await res.text();
    expect(raw).not.toContain(marker);
    expect(raw).not.toContain('hello bob');
    expect(JSON.parse(raw).messages[0]).toMatchObject({ markerInText: true, accepted: true, structure: 'cpim' });
    const sentRaw = await (await fetch(`http://${alice.cfg.address}:${alice.cfg.controlPort}/messages?redact`, { headers: { connection: 'close' } })).text();
    expect(sentRaw).not.toContain(marker);
  }, TIMEOUT);

  for (const transport of ['tcp', 'tls'] as const) {
    it(`S/MIME over ${transport}: signed then AuthEnvelopedData (AES-GCM), over 1300 bytes, decrypted and verified with the Date covered`, async () => {
      const { alice, bob } = await pair(transport);
      const r = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', text: 'secret for bob', security: 'smime' });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: 200, structure: 'auth-enveloped', transport });
      expect(r.json['bytes'] as number).toBeGreaterThan(1300);
      const m = await receivedBy(bob, r.json['callId'] as string);
      expect(m).toMatchObject({
        accepted: true, structure: 'auth-enveloped', layers: ['authEnveloped-data', 'signed-data'], signatureVerified: true, dateCovered: true,
        signer: ['sip:alice@ims.test'], markerInBody: false, response: { status: 200 },
      });
      expect(m.cipher).toMatch(/gcm/);
      expect(m.text).toBe(`secret for bob ${markerFor(r.json['callId'] as string, 'orig')}`);
      expect(m.bodySha256).toBe(alice.messaging.sent[0]!.bodySha256);
    }, TIMEOUT);
  }

  it('S/MIME to a peer listed as lacking AuthEnvelopedData: EnvelopedData (AES-CBC)', async () => {
    const { alice, bob } = await pair('tcp', { aliceMessaging: messaging('alice', { envelopedOnly: ['sip:bob@ims.test'] }) });
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'cbc', security: 'smime' });
    expect(sent).toMatchObject({ status: 200, structure: 'enveloped' });
    const m = await receivedBy(bob, sent.callId);
    expect(m).toMatchObject({ accepted: true, structure: 'enveloped', layers: ['enveloped-data', 'signed-data'], signatureVerified: true });
    expect(m.cipher).toMatch(/cbc/);
  }, TIMEOUT);

  it('S/MIME while registered over UDP only: refused before sending, naming RFC 3428\'s 1300 bytes; nothing reaches bob', async () => {
    const { alice, bob } = await pair('udp');
    await expect(alice.messaging.send({ to: 'sip:bob@ims.test', text: 'too big', security: 'smime' })).rejects.toThrow(MessageTooLargeError);
    const r = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', text: 'too big', security: 'smime' });
    expect(r.status).toBe(413);
    expect(r.json['error']).toMatch(/RFC 3428 sec\. 8's limit of 1300 bytes.*registered over UDP only: register over TCP or TLS/);
    expect(r.json).toMatchObject({ limit: 1300, transport: 'udp' });
    expect(r.json['size'] as number).toBeGreaterThan(1300);
    await new Promise((res) => setTimeout(res, 200));
    expect(bob.messaging.received).toHaveLength(0);
    expect(alice.messaging.sent).toHaveLength(0);
  }, TIMEOUT);

  it('wrong recipient: encrypted to carol\'s certificate, bob answers 493 Undecipherable, the refusal is recorded, bob keeps working', async () => {
    const { alice, bob } = await pair('tcp', { aliceMessaging: messaging('alice', { directory: { bob: 'carol' } }) });
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'misaddressed', security: 'smime' });
    expect(sent.status).toBe(493);
    expect(sent.reason).toMatch(/Undecipherable \(not-a-recipient\)/);
    const m = await receivedBy(bob, sent.callId);
    expect(m).toMatchObject({ accepted: false, structure: 'auth-enveloped', signatureVerified: false, refusal: { code: 'not-a-recipient' }, response: { status: 493 } });
    expect(m.text).toBeUndefined();
    // The earlier refusal loses nothing and breaks nothing: a good message still goes through.
    const ok = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'clear', security: 'none' });
    expect(ok.status).toBe(200);
    expect(bob.messaging.received.map((x) => x.accepted)).toEqual([false, true]);
  }, TIMEOUT);

  it('negative-test knobs of POST /message: encryptFor another user -> 493 not-a-recipient; tamper after signing -> 403 bad-signature; neither gives out plaintext', async () => {
    const { alice, bob } = await pair('tcp');
    const a = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', text: 'for carol really', security: 'smime', encryptFor: 'sip:carol@ims.test' });
    expect(a.json).toMatchObject({ status: 493, structure: 'auth-enveloped' });
    const b = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', text: 'pay 10 euros', security: 'smime', tamper: 'signed-content' });
    expect(b.json).toMatchObject({ status: 403 });
    expect(b.json['reason']).toMatch(/bad-signature/);
    const got = (await control(bob, 'GET', '/messages')).json['messages'] as ReceivedMessage[];
    expect(got.map((m) => [m.state, m.refusal?.code, m.text])).toEqual([['refused', 'not-a-recipient', undefined], ['refused', 'bad-signature', undefined]]);
    expect((await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', security: 'none', tamper: 'signed-content' })).status).toBe(400);
  }, TIMEOUT);

  it('no certificate for the recipient in the directory, or no S/MIME credential: 409 naming why, nothing sent', async () => {
    const { alice } = await pair('tcp', { aliceMessaging: messaging('alice', { directory: { carol: 'carol' } }) });
    const r = await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', security: 'smime' });
    expect(r.status).toBe(409);
    expect(r.json['error']).toMatch(/no certificate for sip:bob@ims.test in alice's messaging directory \(known: sip:carol@ims.test\)/);
    expect((await control(alice, 'POST', '/message', { to: 'bob', security: 'smime' })).status).toBe(400);
    expect((await control(alice, 'POST', '/message', { to: 'sip:bob@ims.test', security: 'pgp' })).status).toBe(400);
  }, TIMEOUT);

  it('an encrypted MESSAGE to a UE without S/MIME credential: 493, recorded, no crash', async () => {
    const { alice, bob } = await pair('tcp', { bobMessaging: null });
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'x', security: 'smime' });
    expect(sent.status).toBe(493);
    expect((await receivedBy(bob, sent.callId)).refusal?.code).toBe('no-credential');
  }, TIMEOUT);
});

/** A MESSAGE to bob as it would arrive (for bodies no honest UE sends). */
function incoming(body: Uint8Array, contentType: string, from = 'sip:alice@ims.test'): SipRequest {
  return createRequest({
    method: 'MESSAGE', uri: 'sip:bob@ims.test', via: { transport: 'TCP', host: A, port: 5060 }, from: `<${from}>;tag=t1`, to: '<sip:bob@ims.test>',
    callId: newCallId(A), cseq: 1, headers: [['P-Asserted-Identity', `<${from}>`]], body: Buffer.from(body), contentType,
  });
}

describe('receiving hostile MESSAGE bodies', () => {
  let bob: Messaging;
  beforeAll(() => {
    const cfg = ueConfig('bob', B, A, { transport: 'tcp', messaging: messaging('bob') });
    bob = new Messaging(cfg, undefined as never, undefined as never, quietLogger('bob'), '/dev/null');
  });
  const cpim = (text: string, from = 'sip:alice@ims.test') => buildCpim({ from: { uri: from }, to: [{ uri: 'sip:bob@ims.test' }], dateTime: new Date(Math.floor(Date.now() / 1000) * 1000), contentType: 'text/plain', body: text });

  it('a tampered signature: 403 bad-signature, recorded as refused, no plaintext given out', async () => {
    const sealed = await sealCpim(cpim('pay 10 euros'), { signer: pki.users.alice.credential, recipients: [], encryption: 'none' });
    const body = Uint8Array.from(sealed.body);
    body[Buffer.from(body).indexOf(Buffer.from('10 euros'))]! ^= 0x01;
    const m = await bob.receive(incoming(body, sealed.contentType));
    expect(m).toMatchObject({ accepted: false, structure: 'signed', signatureVerified: false, refusal: { code: 'bad-signature' }, response: { status: 403 } });
    expect(m.text).toBeUndefined();
  });

  it('a signer other than the asserted sender: 403 identity-mismatch', async () => {
    const sealed = await sealCpim(cpim('I am alice', 'sip:carol@ims.test'), { signer: pki.users.carol.credential, recipients: [pki.users.bob.credential.certificate] });
    const m = await bob.receive(incoming(sealed.body, sealed.contentType, 'sip:alice@ims.test'));
    expect(m).toMatchObject({ accepted: false, refusal: { code: 'identity-mismatch' }, response: { status: 403 } });
  });

  it('garbage in every content type: 4xx with a code, never a throw', async () => {
    const garbage = new Uint8Array(Buffer.from('0\x82\x01\x00not der at all'));
    for (const ct of ['application/pkcs7-mime; smime-type=authEnveloped-data', 'application/pkcs7-mime; smime-type=signed-data', 'application/pkcs7-mime; smime-type=enveloped-data', 'message/cpim', 'application/pkcs7-mime; smime-type=compressed-data', 'image/png', '']) {
      const m = await bob.receive(incoming(garbage, ct));
      expect(m.accepted, ct).toBe(false);
      expect(m.response.status, `${ct}: ${JSON.stringify(m.refusal)}`).not.toBe(500);
      expect(m.response.status, ct).toBeGreaterThanOrEqual(400);
      expect(m.response.status, ct).toBeLessThan(500);
      expect(m.refusal?.code, ct).toBeTruthy();
    }
    const empty = await bob.receive(incoming(new Uint8Array(0), 'text/plain'));
    expect(empty.response.status).toBe(400);
  });

  it('500 seeded mutations of a signed and encrypted body: each recorded and answered 4xx (or 200 with the original text), never a 500, never a throw', async () => {
    const sealed = await sealCpim(cpim('the original text'), { signer: pki.users.alice.credential, recipients: [pki.users.bob.credential.certificate] });
    const rnd = prng(12);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 500; i++) {
      const body = Uint8Array.from(sealed.body);
      const kind = i % 3;
      if (kind === 0) for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) body[Math.floor(rnd() * body.length)] = Math.floor(rnd() * 256);
      const mutated = kind === 1 ? body.subarray(0, Math.floor(rnd() * body.length)) : kind === 2 ? Uint8Array.from([...body.subarray(0, 40), ...body.subarray(40 + Math.floor(rnd() * 40))]) : body;
      const m = await bob.receive(incoming(mutated, sealed.contentType));
      expect(m.state).not.toBe('opening');
      expect(m.response.status).not.toBe(500);
      if (m.accepted) expect(m.text).toBe('the original text');
      else expect(m.response.status).toBeGreaterThanOrEqual(400);
      counts[m.refusal?.code ?? 'accepted'] = (counts[m.refusal?.code ?? 'accepted'] ?? 0) + 1;
    }
    expect(Object.keys(counts).length).toBeGreaterThan(1);
  }, TIMEOUT);

  it('text/plain from another UA is accepted as it is', async () => {
    const m = await bob.receive(incoming(new TextEncoder().encode('plain hi'), 'text/plain'));
    expect(m).toMatchObject({ accepted: true, structure: 'text', text: 'plain hi', markerInBody: false });
  });
});

describe.skipIf(!hasOpenssl)('interop: openssl cms reads what the UE sends', () => {
  it('openssl cms -decrypt (bob\'s key) then -verify (the CA) recovers the CPIM with the marker; carol\'s key cannot decrypt', async () => {
    const { alice } = await pair('tcp');
    let req: SipRequest | undefined;
    alice.messaging.onSend = (r) => (req = r);
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'for openssl', security: 'smime' });
    expect(sent.status).toBe(200);
    const dir = tempDir('imslab-msg-osl-');
    writeFileSync(join(dir, 'body.der'), req!.body);
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    // Outer layer: AuthEnvelopedData (AES-GCM) to bob.
    const signedEntity = run(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', 'body.der', '-recip', join(pki.dir, 'bob.pem'), '-inkey', join(pki.dir, 'bob.key')]);
    expect(() => run(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', 'body.der', '-recip', join(pki.dir, 'carol.pem'), '-inkey', join(pki.dir, 'carol.key')])).toThrow();
    // Inner layer: an application/pkcs7-mime signed-data entity, binary.
    const inner = parseMimeEntity(new Uint8Array(signedEntity));
    expect(inner.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value).toMatch(/smime-type=signed-data/);
    writeFileSync(join(dir, 'signed.der'), inner.body);
    const cpimEntity = run(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'signed.der', '-CAfile', join(pki.dir, 'ca.pem'), '-purpose', 'smimesign']);
    const text = cpimEntity.toString('utf8');
    expect(text).toMatch(/^Content-Type: message\/cpim\r\n/);
    expect(text).toContain('From: <sip:alice@ims.test>');
    expect(findMarker(cpimEntity)).toBe(sent.marker);
    // The signing time openssl shows is the CPIM DateTime.
    const printed = run(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'signed.der']).toString('utf8');
    expect(printed).toMatch(/signingTime/);
    // And our own verifier agrees on the same bytes.
    const v = await verifySignedContent(new Uint8Array(inner.body), { trustAnchors: [pki.ca.credential.certificate], expectedIdentity: 'sip:alice@ims.test' });
    expect(text).toContain(`DateTime: ${v.signingTime!.toISOString()}`);
  }, TIMEOUT);

  it('what openssl cms signs and encrypts (RSA-OAEP, AES-GCM), the UE opens and verifies', async () => {
    const dir = tempDir('imslab-msg-osl2-');
    const cpimBytes = buildCpim({ from: { uri: 'sip:alice@ims.test' }, to: [{ uri: 'sip:bob@ims.test' }], dateTime: new Date(Math.floor(Date.now() / 1000) * 1000), contentType: 'text/plain', body: 'from openssl' });
    writeFileSync(join(dir, 'cpim.txt'), Buffer.concat([Buffer.from('Content-Type: message/cpim\r\n\r\n'), Buffer.from(cpimBytes)]));
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    run(['cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-in', 'cpim.txt', '-signer', join(pki.dir, 'alice.pem'), '-inkey', join(pki.dir, 'alice.key'), '-outform', 'DER', '-out', 'signed.der']);
    writeFileSync(join(dir, 'signed-entity.bin'), Buffer.concat([Buffer.from('Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: binary\r\n\r\n'), readFileSync(join(dir, 'signed.der'))]));
    run(['cms', '-encrypt', '-binary', '-aes-128-gcm', '-in', 'signed-entity.bin', '-outform', 'DER', '-out', 'body.der', '-recip', join(pki.dir, 'bob.pem'), '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256']);
    const bob = new Messaging(ueConfig('bob', B, A, { transport: 'tcp', messaging: messaging('bob') }), undefined as never, undefined as never, quietLogger('bob'), '/dev/null');
    const m = await bob.receive(incoming(readFileSync(join(dir, 'body.der')), 'application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m'));
    expect(m).toMatchObject({ accepted: true, structure: 'auth-enveloped', signatureVerified: true, signer: ['sip:alice@ims.test'], text: 'from openssl' });
  }, TIMEOUT);
});

describe('the testbed\'s S/MIME certificates (element.ts renders them into ue.json)', () => {
  it('one per user from the testbed CA: sip: URI subjectAltName, emailProtection; reused, and usable by the CMS layer', () => {
    const dir = tempDir('imslab-msg-tb-');
    expect(ensureSmimeCredentials(dir, [{ user: 'alice', impu: 'sip:alice@ims.test' }])).toBeNull();
    ensurePki(dir, []);
    const files = ensureSmimeCredentials(dir, [{ user: 'alice', impu: 'sip:alice@ims.test' }, { user: 'bob', impu: 'sip:bob@ims.test' }])!;
    const first = readFileSync(files.certFile('alice'), 'utf8');
    expect(existsSync(files.keyFile('bob'))).toBe(true);
    ensureSmimeCredentials(dir, [{ user: 'alice', impu: 'sip:alice@ims.test' }]);
    expect(readFileSync(files.certFile('alice'), 'utf8')).toBe(first);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', files.certFile('alice')]).toString();
    expect(text).toMatch(/URI:sip:alice@ims\.test/);
    expect(text).toMatch(/E-mail Protection/);
    execFileSync('openssl', ['verify', '-purpose', 'smimesign', '-CAfile', join(dir, 'ca.pem'), files.certFile('alice')]);
    const cred = loadCredential({ certificate: first, privateKey: readFileSync(files.keyFile('alice'), 'utf8') });
    expect(cred.keyType).toBe('rsa');
  }, TIMEOUT);
});
