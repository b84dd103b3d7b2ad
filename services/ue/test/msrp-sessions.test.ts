/**
 * Session-mode messaging between two UEs through the real MSRP relay
 * (Kamailio's msrp module, Debian kamailio + kamailio-tls-modules): each UE
 * is the other's "P-CSCF" (direct SIP), and each reaches the relay over TLS,
 * AUTHs with its SIP credentials and puts the Use-Path in its a=path. The
 * whole network runs the same flows in scenarios/4.3/msrp-*.yaml; this test
 * pins the UE's side: the records, the file-selector check, and the refusals.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { markerFor } from '@imslab/probe';
import { ensurePki } from '@imslab/topology';
import { startRelay, type RelayHandle } from '../../../packages/msrp/test/kamailio-relay.ts';
import { Ue } from '../src/index.ts';
import { makeFile } from '../src/file-transfer.ts';
import { MsrpSessions } from '../src/msrp-sessions.ts';
import type { ReceivedMessage } from '../src/messaging.ts';
import { quietLogger, tempDir, ueConfig, waitFor } from './helpers.ts';

const RELAY = '127.9.6.1';
const A = '127.9.6.2';
const B = '127.9.6.3';
const dir = tempDir('imslab-ue-msrp-');
let relay: RelayHandle;
let pkiDir = '';

beforeAll(async () => {
  relay = await startRelay({ dir, ip: RELAY, users: { alice: 'secret', bob: 'secret' } });
  // The UEs' TLS certificates from the relay's PKI, so each trusts the other's CA.
  pkiDir = ensurePki(join(dir, 'pki'), [{ name: 'msrp-relay', ips: [RELAY] }, { name: 'alice', ips: [A] }, { name: 'bob', ips: [B] }]).dir;
}, 30_000);
afterAll(async () => {
  await relay?.stop();
});

let running: Ue[] = [];
afterEach(async () => {
  await Promise.all(running.map((u) => u.shutdown()));
  running = [];
});

async function ue(name: 'alice' | 'bob', address: string, peer: string, withRelay = true): Promise<Ue> {
  const tls = { caFile: join(pkiDir, 'ca.pem'), certFile: join(pkiDir, `${name}.pem`), keyFile: join(pkiDir, `${name}.key`) };
  const u = await Ue.start(ueConfig(name, address, peer, { tls, ...(withRelay ? { msrpRelay: { host: RELAY, port: relay.port } } : {}) }), { logger: quietLogger(name) });
  running.push(u);
  return u;
}

const receivedBy = (u: Ue, callId: string): Promise<ReceivedMessage> =>
  waitFor(`${u.cfg.name} recorded ${callId}`, () => u.messaging.received.find((m) => m.callId === callId && m.state !== 'opening'), 10_000);

describe('session mode (MSRP through the Kamailio relay) between two UEs', () => {
  it('a CPIM message: INVITE with m=message, SEND with a success REPORT, BYE; recorded by the peer with its Message-ID', async () => {
    const alice = await ue('alice', A, B);
    const bob = await ue('bob', B, A);
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'hello bob', security: 'none', mode: 'session' });
    expect(sent).toMatchObject({ status: 200, state: 'answered', mode: 'session', transport: 'msrp-tls', structure: 'cpim' });
    expect(sent.msrpMessageId).toMatch(/^\S+$/);
    const got = await receivedBy(bob, sent.callId);
    expect(got).toMatchObject({ mode: 'session', msrpMessageId: sent.msrpMessageId, accepted: true, structure: 'cpim', cpimFrom: 'sip:alice@ims.test', bodySha256: sent.bodySha256 });
    expect(got.text).toBe(`hello bob ${markerFor(sent.callId, 'orig')}`);
    // The bodiless SEND that opens the relay's path (RFC 4975 sec. 5.4) is no message.
    expect(bob.messaging.received.filter((m) => m.callId === sent.callId)).toHaveLength(1);
  }, 30_000);

  it('a file (RFC 5547): chunked, checked against the offer\'s size and SHA-1', async () => {
    const alice = await ue('alice', A, B);
    const bob = await ue('bob', B, A);
    const file = { name: 'photo.png', type: 'image/png', size: 300_000 };
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'a picture', security: 'none', mode: 'session', file });
    expect(sent).toMatchObject({ status: 200, structure: 'file', file: { name: 'photo.png', type: 'image/png', size: 300_000 } });
    const got = await receivedBy(bob, sent.callId);
    expect(got).toMatchObject({ accepted: true, structure: 'file', file: { name: 'photo.png', type: 'image/png', size: 300_000, matchesSelector: true } });
    const bytes = makeFile(file, `a picture ${markerFor(sent.callId, 'orig')}`);
    expect(sent.file!.sha1).toBe(createHash('sha1').update(bytes).digest('hex').toUpperCase().match(/../g)!.join(':'));
  }, 30_000);

  it('without a relay configured the sender refuses with a sentence naming the fix, and sends nothing', async () => {
    const alice = await ue('alice', A, B, false);
    const e = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'x', security: 'none', mode: 'session' }).catch((x: Error) => x);
    expect((e as Error).name).toBe('MsrpUnavailableError');
    expect((e as Error).message).toMatch(/no MSRP relay configured/);
  });

  it('the callee answers 480 when its relay refuses it (wrong password), and the sender reports that status', async () => {
    const alice = await ue('alice', A, B);
    const bobCfg = ueConfig('bob', B, A, { tls: { caFile: join(pkiDir, 'ca.pem'), certFile: join(pkiDir, 'bob.pem'), keyFile: join(pkiDir, 'bob.key') }, msrpRelay: { host: RELAY, port: relay.port }, password: 'wrong' });
    const bob = await Ue.start(bobCfg, { logger: quietLogger('bob') });
    running.push(bob);
    const sent = await alice.messaging.send({ to: 'sip:bob@ims.test', text: 'x', security: 'none', mode: 'session' });
    expect(sent).toMatchObject({ status: 480, state: 'failed' });
  }, 30_000);

  it('isOffer: only an out-of-dialog INVITE whose SDP has an m=message MSRP section', () => {
    const sdp = (m: string) => Buffer.from(`v=0\r\no=- 1 1 IN IP4 ${A}\r\ns=-\r\nc=IN IP4 ${A}\r\nt=0 0\r\n${m}`);
    const req = (body: Buffer, toTag = false) => ({ method: 'INVITE', body, headers: { get: (h: string) => (h.toLowerCase() === 'to' ? `<sip:bob@ims.test>${toTag ? ';tag=x' : ''}` : undefined), getAll: () => [] } });
    const msrp = sdp(`m=message 2855 TCP/TLS/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrps://${A}:2855/abc;tcp\r\n`);
    const audio = sdp('m=audio 40000 RTP/AVP 0\r\n');
    expect(MsrpSessions.isOffer(req(msrp) as never)).toBe(true);
    expect(MsrpSessions.isOffer(req(audio) as never)).toBe(false);
    expect(MsrpSessions.isOffer(req(Buffer.alloc(0)) as never)).toBe(false);
  });
});
