import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kms, parseKmsConfig } from '@imslab/kms';
import { Ue } from '../src/index.ts';
import { makeCert, quietLogger, status, tempDir, ueConfig, waitFor } from './helpers.ts';

/**
 * The UE against the real KMS (services/kms, in process): the identity
 * conventions (IDRi/IDRr user URI, IDRpsk device NAI, IDRkms HTTPS origin)
 * and the resolution policies for forking and forwarding (TR 33.828 4.1.1).
 */
const KMS = '127.0.5.60';
const ALICE = '127.0.5.61';
const BOB = '127.0.5.62';
const CAROL = '127.0.5.63';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function network() {
  const runDir = tempDir('imslab-ue-kms-');
  const cert = makeCert(runDir, [KMS, ALICE, BOB, CAROL]);
  const secrets = { alice: randomBytes(32), 'bob-1': randomBytes(32), carol: randomBytes(32) };
  const dev = (name: keyof typeof secrets) => ({ name, secret: secrets[name].toString('hex') });
  const kms = await Kms.start(
    parseKmsConfig({
      name: 'kms', address: KMS, httpsPort: 8443, controlPort: 8000, domain: 'ims.test', tls: cert, masterKey: randomBytes(32).toString('hex'),
      users: [
        { uri: 'sip:alice@ims.test', user: 'alice', devices: [dev('alice')] },
        { uri: 'sip:bob@ims.test', user: 'bob', forwarding: { unconditional: 'sip:carol@ims.test' }, devices: [dev('bob-1')] },
        { uri: 'sip:carol@ims.test', user: 'carol', devices: [dev('carol')] },
      ],
      auditLog: join(runDir, 'kms-audit.jsonl'), runDir,
    }),
    { log: () => undefined },
  );
  cleanup.push(() => kms.close());
  const ue = async (name: keyof typeof secrets, user: string, address: string, pcscf: string) => {
    const u = await Ue.start(
      ueConfig(name, address, pcscf, {
        user, impu: `sip:${user}@ims.test`, impi: `${user}@ims.test`, runDir, tls: cert, controlPort: 8020,
        kms: { url: `https://${KMS}:8443`, identity: `sip:${user}@ims.test`, secret: secrets[name].toString('hex') },
      }),
      { logger: quietLogger(name) },
    );
    cleanup.push(() => u.shutdown());
    return u;
  };
  return { ue };
}

describe('UE with the real KMS (services/kms)', () => {
  it('e2e to bob-1: any-device-of-user, then designated-device bob-1', async () => {
    const n = await network();
    const alice = await n.ue('alice', 'alice', ALICE, BOB);
    const bob = await n.ue('bob-1', 'bob', BOB, ALICE);
    for (const ticket of [{ policy: 'any-device-of-user' as const }, { policy: 'designated-device' as const, designatedDevice: 'bob-1' }]) {
      const call = alice.calls.placeCall('sip:bob@ims.test', 'e2e', ticket);
      await waitFor('markers both ways', () => (status(alice, call.callId)?.media.rxMarkerPackets ?? 0) > 3 && (status(bob, call.callId)?.media.rxMarkerPackets ?? 0) > 3);
      expect(status(alice, call.callId)).toMatchObject({ securityAchieved: 'e2e', keyManagement: 'mikey-ticket', kmsAuthenticatedPeer: 'sip:bob@ims.test', policy: ticket.policy });
      expect(status(bob, call.callId)).toMatchObject({ securityAchieved: 'e2e', kmsAuthenticatedPeer: 'sip:alice@ims.test' });
      await call.hangup();
    }
  });

  it('a call for bob that reaches carol (forwarded): refused unless the ticket allows retargeting', async () => {
    const n = await network();
    // Alice's "P-CSCF" is carol's UE: the INVITE to sip:bob@ims.test lands at carol, as after forwarding.
    const alice = await n.ue('alice', 'alice', ALICE, CAROL);
    const carol = await n.ue('carol', 'carol', CAROL, ALICE);
    const refused = alice.calls.placeCall('sip:bob@ims.test', 'e2e', { policy: 'any-device-of-user' });
    await waitFor('refused', () => status(alice, refused.callId)?.state === 'failed');
    expect(status(alice, refused.callId)!.failure!.reason).toMatch(/^sip:bob@ims\.test could not resolve the ticket: .*carol/);
    expect(status(carol, refused.callId)!.failure!.reason).toMatch(/^KMS refused: /);
    expect(status(carol, refused.callId)!.media.txPackets).toBe(0);
    const forwarded = alice.calls.placeCall('sip:bob@ims.test', 'e2e', { policy: 'retargeting' });
    await waitFor('markers both ways', () => (status(alice, forwarded.callId)?.media.rxMarkerPackets ?? 0) > 3 && (status(carol, forwarded.callId)?.media.rxMarkerPackets ?? 0) > 3);
    expect(status(alice, forwarded.callId)).toMatchObject({ securityAchieved: 'e2e', kmsAuthenticatedPeer: 'sip:carol@ims.test' });
    await forwarded.hangup();
  });
});
