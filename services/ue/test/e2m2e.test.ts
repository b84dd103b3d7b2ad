import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse, type SipRequest } from '@imslab/sip';
import { isRequest, SipPeer } from '@imslab/sip/test-peer';
import { Ue, type SecurityMode } from '../src/index.ts';
import { FixtureKms } from './kms-fixture.ts';
import { makeCert, quietLogger, status, tempDir, ueConfig, waitFor } from './helpers.ts';

const KMS = '127.0.5.70';
const UE = '127.0.5.71';
const MIDDLE = '127.0.5.72';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Alice with the fixture KMS; her "P-CSCF" is a scripted peer standing in for a transcoder that answers with SDES. */
async function setup() {
  const runDir = tempDir('imslab-ue-e2m2e-');
  const cert = makeCert(runDir, [KMS, UE]);
  const psk = randomBytes(32);
  const kms = await FixtureKms.start(KMS, 8443, cert, [{ nai: 'alice@ims.test', user: 'sip:alice@ims.test', psk }]);
  cleanup.push(() => kms.close());
  const peer = await SipPeer.open(MIDDLE, 5060); // the UE's P-CSCF port (ueConfig)
  cleanup.push(() => peer.close());
  const ue = await Ue.start(
    ueConfig('alice', UE, MIDDLE, { runDir, tls: cert, controlPort: 8030, kms: { url: kms.url, identity: 'sip:alice@ims.test', secret: psk.toString('hex') } }),
    { logger: quietLogger('alice') },
  );
  cleanup.push(() => ue.shutdown());
  return { ue, peer };
}

const sdesAnswer = (port: number) =>
  [
    'v=0', `o=- 7 7 IN IP4 ${MIDDLE}`, 's=transcoder', `c=IN IP4 ${MIDDLE}`, 't=0 0', `m=audio ${port} RTP/SAVP 0`, 'a=rtpmap:0 PCMU/8000',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${randomBytes(30).toString('base64')}`, '',
  ].join('\r\n');

async function callThroughTranscoder(mode: SecurityMode) {
  const { ue, peer } = await setup();
  const call = ue.calls.placeCall('sip:bob@ims.test', mode);
  const invite = (await waitFor('INVITE', () => peer.all(isRequest('INVITE'))[0], 5000)) as SipRequest;
  await peer.send(createResponse(invite, 200, { toTag: 'tc', headers: [['Contact', `<sip:tc@${MIDDLE}:5060>`]], body: sdesAnswer(41010) }), UE, 5060);
  return { ue, peer, call, offer: invite.body.toString() };
}

describe('e2e-or-e2m2e: a trusted middle element may answer with SDES', () => {
  it('offers a=key-mgmt:mikey and a=crypto; an SDES answer is accepted as e2m2e', async () => {
    const { ue, call, offer } = await callThroughTranscoder('e2e-or-e2m2e');
    expect(offer).toMatch(/m=audio \d+ RTP\/SAVP 0/);
    expect(offer).toMatch(/a=key-mgmt:mikey [A-Za-z0-9+/=]+\r\n/);
    expect(offer).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
    await waitFor('sending', () => status(ue, call.callId)?.state === 'confirmed' && status(ue, call.callId)!.media.txPackets > 3);
    expect(status(ue, call.callId)).toMatchObject({ securityAchieved: 'e2m2e', keyManagement: 'sdes', kmsAuthenticatedPeer: null, sdpProfile: 'RTP/SAVP' });
  });

  it('e2e offers a=key-mgmt:mikey only; an SDES answer ends the call (ACK, BYE) without sending RTP', async () => {
    const { ue, peer, call, offer } = await callThroughTranscoder('e2e');
    expect(offer).toMatch(/a=key-mgmt:mikey /);
    expect(offer).not.toMatch(/a=crypto/);
    await waitFor('failed', () => status(ue, call.callId)?.state === 'failed');
    expect(status(ue, call.callId)!.failure!.reason).toMatch(/end-to-end security required but the answer has no a=key-mgmt:mikey \(it carries SDES a=crypto/);
    await waitFor('BYE', () => peer.all(isRequest('BYE')).length === 1);
    expect(status(ue, call.callId)!.media.txPackets).toBe(0);
  });
});
