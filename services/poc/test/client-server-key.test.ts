import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataType, decodeMessage } from '@imslab/mikey';
import { CskReceiver, CskRefusal, type SakkeKeySource } from '../src/client-server-key.ts';
import { cskWorld, SERVER_URI, type CskWorld } from './csk-world.ts';

/*
 * The PoC server opening its members' client-server keys (TS 33.180 7.3)
 * with the receiver secret key a KMS stand-in provisions (csk-world.ts).
 */
const ALICE = 'sip:alice@ims.test';
const MALLORY = 'sip:mallory@ims.test';

let w: CskWorld;
beforeAll(() => {
  w = cskWorld();
});

describe('the PoC server opens client-server keys (MIKEY-SAKKE)', () => {
  it('fetches its own key once with a REQUEST_INIT_PSK and derives the SRTP key alice derived', async () => {
    const source = w.kms();
    const r = new CskReceiver(w.cfg(), 'ims.test', () => source);
    const a = w.offer(ALICE);
    const csk = await r.open(a.keyMgmt, ALICE);
    expect(Buffer.from(csk.srtp.masterKey).equals(Buffer.from(a.built.srtp.masterKey))).toBe(true);
    expect(Buffer.from(csk.srtp.masterSalt).equals(Buffer.from(a.built.srtp.masterSalt))).toBe(true);
    expect(csk.cskId >>> 28).toBe(2);
    await r.open(w.offer(ALICE).keyMgmt, ALICE);
    expect(source.asked).toHaveLength(1);
    expect(decodeMessage(source.asked[0]!).header.dataType).toBe(DataType.REQUEST_INIT_PSK);
  });

  it('refuses a replay, a CSK signed by someone else than the asserted caller, one for another server, a stale one and unreadable key-mgmt', async () => {
    const r = new CskReceiver(w.cfg(), 'ims.test', () => w.kms());
    const a = w.offer(ALICE);
    await r.open(a.keyMgmt, ALICE);
    await expect(r.open(a.keyMgmt, ALICE)).rejects.toThrow(CskRefusal);
    // mallory (a user of the same KMS) cannot pass her CSK off as alice's: IDRi is hers, not the asserted caller.
    await expect(r.open(w.offer(MALLORY).keyMgmt, ALICE)).rejects.toThrow(/refused/);
    // ...nor claim to be alice with her own key: the signature does not verify under alice's identifier.
    await expect(r.open(w.offer(ALICE, { key: w.userKey(MALLORY, new Date()) }).keyMgmt, ALICE)).rejects.toThrow(/signature/i);
    await expect(r.open(w.offer(ALICE, { to: 'sip:other-poc@ims.test' }).keyMgmt, ALICE)).rejects.toThrow(/refused/);
    await expect(r.open('mikey !!!', ALICE)).rejects.toThrow(/unreadable/);
    await expect(r.open(w.offer(ALICE, { nowMs: Date.now() - 3_600_000 }).keyMgmt, ALICE)).rejects.toThrow(CskRefusal);
  });

  it('without a pre-shared key, or while the KMS is unreachable, refuses with the reason and tries the KMS again on the next offer', async () => {
    await expect(new CskReceiver(w.cfg({ secret: null }), 'ims.test', () => w.kms()).open(w.offer(ALICE).keyMgmt, ALICE)).rejects.toThrow(/no pre-shared key/);
    const source = w.kms({ fail: 1 });
    const r = new CskReceiver(w.cfg(), 'ims.test', () => source);
    await expect(r.open(w.offer(ALICE).keyMgmt, ALICE)).rejects.toThrow(/connection refused/);
    await expect(r.open(w.offer(ALICE).keyMgmt, ALICE)).resolves.toMatchObject({ initiator: ALICE });
    expect(source.asked).toHaveLength(2);
  });

  it('refuses a provision for another identity or wrapped under another device key', async () => {
    const wrongUser: SakkeKeySource = { sakkeKeys: async () => new TextEncoder().encode(JSON.stringify(w.provision('sip:bob@ims.test', new Date()))), close() {} };
    await expect(new CskReceiver(w.cfg(), 'ims.test', () => wrongUser).open(w.offer(ALICE).keyMgmt, ALICE)).rejects.toThrow(new RegExp(`not ${SERVER_URI}`));
    const otherPsk = new CskReceiver(w.cfg({ secret: randomBytes(32).toString('hex') }), 'ims.test', () => w.kms());
    await expect(otherPsk.open(w.offer(ALICE).keyMgmt, ALICE)).rejects.toThrow(/transport key/);
  });
});
