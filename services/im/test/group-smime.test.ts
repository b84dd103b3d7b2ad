import { createSocket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueUserCertificate, loadCredential, openSecureMessage, parseCertificates, CmsError, type IssuedCredential } from '@imslab/cms';
import { createRequest, createResponse, newCallId, newTag, parseMessage, serializeMessage, type SipRequest, type SipResponse } from '@imslab/sip';
import { SipLogger } from '@imslab/app-server';
import { Ue } from '@imslab/ue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLogger, tempDir, ueConfig, waitFor } from '../../ue/test/helpers.ts';
import { ImServer, parseImConfig } from '../src/index.ts';
import { sha256 } from '../src/message-store.ts';

/**
 * The whole S/MIME group path without the network: alice's UE encrypts one
 * message to bob and carol (`recipients`, one RecipientInfo each), the IM
 * server forwards that body unchanged, and bob's and carol's keys each open
 * the forwarded copy and verify alice's signature; a user not listed cannot.
 */
const A = '127.0.13.1';
const B = '127.0.13.2';
const HOST = '127.0.13.3';
const TIMEOUT = 60_000;

let dir: string;
let ca: IssuedCredential;
const users: Record<string, IssuedCredential> = {};
beforeAll(async () => {
  dir = tempDir('imslab-im-pki-');
  ca = await createCa({ commonName: 'imslab IM test CA' });
  for (const u of ['alice', 'bob', 'carol', 'dave']) users[u] = await issueUserCertificate(ca.credential, { uris: [`sip:${u}@ims.test`], keyType: u === 'carol' ? 'ec' : 'rsa' });
  writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
  for (const [u, c] of Object.entries(users)) {
    writeFileSync(join(dir, `${u}.pem`), c.certificatePem);
    writeFileSync(join(dir, `${u}.key`), c.privateKeyPem);
  }
}, TIMEOUT);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const messaging = (user: string) => ({
  certFile: join(dir, `${user}.pem`), keyFile: join(dir, `${user}.key`), caFile: join(dir, 'ca.pem'),
  directory: Object.fromEntries(['alice', 'bob', 'carol', 'dave'].map((u) => [`sip:${u}@ims.test`, [join(dir, `${u}.pem`)]])),
});

describe('group S/MIME through the IM server', () => {
  it('one CMS for every member: forwarded byte for byte, opened by bob and carol, not by dave', async () => {
    const runDir = tempDir();
    // alice's "P-CSCF" is bob's UE (direct UE to UE over TCP, as the UE's own messaging tests do): it answers the MESSAGE.
    const alice = await Ue.start(ueConfig('alice', A, B, { transport: 'tcp', runDir, messaging: messaging('alice') }), { logger: quietLogger('alice') });
    const bobUe = await Ue.start(ueConfig('bob', B, A, { transport: 'tcp', runDir, messaging: messaging('bob') }), { logger: quietLogger('bob') });
    const scscf = createSocket('udp4');
    let srv: ImServer | undefined;
    try {
      let captured: SipRequest | undefined;
      alice.messaging.onSend = (req) => {
        captured = req;
      };
      const sent = await alice.messaging.send({ to: 'sip:im-team@ims.test', text: 'for the team', security: 'smime', recipients: ['sip:bob@ims.test', 'sip:carol@ims.test'] });
      expect(sent.structure).toBe('auth-enveloped');
      expect(sent.recipients).toHaveLength(2);
      // Without recipients, a group URI has no certificate: refused before sending.
      await expect(alice.messaging.send({ to: 'sip:im-team@ims.test', text: 'x', security: 'smime' })).rejects.toThrow(/no certificate for sip:im-team@ims.test/);
      expect(captured).toBeDefined();
      const body = Buffer.from(captured!.body);
      const contentType = captured!.headers.get('Content-Type')!;

      // The IM server, with a stand-in S-CSCF that answers 200 to every forward.
      await new Promise<void>((r) => scscf.bind(0, HOST, () => r()));
      const forwards: SipRequest[] = [];
      const answers: SipResponse[] = [];
      scscf.on('message', (buf, rinfo) => {
        const p = parseMessage(buf);
        if (!p.ok) return;
        if (p.message.kind === 'response') answers.push(p.message);
        else {
          forwards.push(p.message);
          scscf.send(serializeMessage(createResponse(p.message, 200)), rinfo.port, rinfo.address);
        }
      });
      const cfg = parseImConfig({
        name: 'im', address: HOST, sipPort: 5060, controlPort: 8000, domain: 'ims.test', scscf: { address: HOST, port: scscf.address().port },
        groups: [{ user: 'im-team', members: ['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test'] }],
      });
      srv = await ImServer.start(cfg, new SipLogger('im', 'im', () => undefined));
      const req = createRequest({
        method: 'MESSAGE', uri: 'sip:im-team@ims.test', via: { transport: 'UDP', host: HOST, port: scscf.address().port }, from: `<sip:alice@ims.test>;tag=${newTag()}`,
        to: '<sip:im-team@ims.test>', callId: newCallId(HOST), cseq: 1, headers: [['P-Asserted-Identity', '<sip:alice@ims.test>']], body, contentType,
      });
      scscf.send(serializeMessage(req), cfg.sipPort, HOST);
      await waitFor('two forwards', () => forwards.length === 2 && answers.length === 1);
      expect(answers[0]!.status).toBe(202);
      const trustAnchors = parseCertificates(ca.certificatePem);
      for (const f of forwards) {
        expect(Buffer.compare(f.body, body)).toBe(0);
        expect(f.headers.get('Content-Type')).toBe(contentType);
        const who = /^sip:([a-z]+)@/.exec(f.uri)![1]!;
        const opened = await openSecureMessage(new Uint8Array(f.body), contentType, {
          recipient: loadCredential({ certificate: users[who]!.certificatePem, privateKey: users[who]!.privateKeyPem }), trustAnchors, sipIdentity: 'sip:alice@ims.test',
        });
        expect(Buffer.from(opened.cpim.body).toString()).toContain('for the team');
        expect(opened.signer?.identities).toEqual(['sip:alice@ims.test']);
      }
      await expect(openSecureMessage(new Uint8Array(body), contentType, {
        recipient: loadCredential({ certificate: users['dave']!.certificatePem, privateKey: users['dave']!.privateKeyPem }), trustAnchors, sipIdentity: 'sip:alice@ims.test',
      })).rejects.toBeInstanceOf(CmsError);
      const rec = srv.status().messages[0]!;
      expect(rec.bodySha256).toBe(sha256(body));
      expect(rec.forwards.every((f) => f.bodySha256 === rec.bodySha256 && f.status === 200)).toBe(true);
      // bob's UE (alice's next hop here) opened its copy too.
      const atBob = await waitFor('bob recorded it', () => bobUe.messaging.received.find((m) => m.callId === sent.callId && m.state !== 'opening'));
      expect(atBob).toMatchObject({ accepted: true, signatureVerified: true });
    } finally {
      await srv?.close();
      await new Promise<void>((r) => scscf.close(() => r()));
      await alice.shutdown();
      await bobUe.shutdown();
    }
  }, TIMEOUT);
});
