import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapForDevice, type SakkeKeyProvision } from '@imslab/kms-client';
import { decodeMessage, encodeMessage, MikeyError, receiveGmkIMessage, ReplayCache, uriIdentity, verifyRequestResp, type ReceivedGmk } from '@imslab/mikey';
import { eccsiValidate, fromHex, mikeySakkeIdentifier, validateSakkeRsk } from '@imslab/sakke';
import { SakkeKms } from '../src/sakke-kms.ts';
import { requestInit, startWorld, type KmsWorld, type TestDevice } from './helpers.ts';

/*
 * MIKEY-SAKKE at the KMS (TS 33.180 as imslab builds it): key provisioning
 * over the HTTPS interface, the group management server's GMK I_MESSAGEs,
 * epochs and removal, and the refusals. The member side is @imslab/mikey's
 * receiveGmkIMessage, as the UE uses it.
 */

const POC = uriIdentity('sip:poc-team@ims.test');
const CONF = uriIdentity('sip:conf-team@ims.test');
let w: KmsWorld;

beforeAll(async () => {
  w = await startWorld('127.0.6.61');
}, 60_000);
afterAll(async () => w?.close());

async function provision(d: TestDevice): Promise<SakkeKeyProvision> {
  const init = requestInit(w, d, d.identity, 'any-device-of-user');
  return JSON.parse(Buffer.from(await w.client.sakkeKeys(init.bytes)).toString('utf8')) as SakkeKeyProvision;
}

async function gmkMessage(d: TestDevice, group = POC): Promise<Uint8Array> {
  return w.client.groupMasterKey(requestInit(w, d, group, 'group').bytes);
}

function open(bytes: Uint8Array, d: TestDevice, p: SakkeKeyProvision, replay = new ReplayCache()): ReceivedGmk {
  return receiveGmkIMessage(bytes, {
    uri: d.uri, rsk: new Uint8Array(unwrapForDevice(d.secret, Buffer.from(p.rsk, 'base64'))), kmsPublicKey: fromHex(p.sakkePublicKey),
    kpakFor: (k) => (k === p.kmsUri ? fromHex(p.kpak) : undefined), trustedInitiators: ['sip:gms@ims.test'], replay,
  });
}

async function refusal(p: Promise<unknown>): Promise<{ status: number | null; code: string; reason: string }> {
  try {
    await p;
  } catch (e) {
    return e as { status: number | null; code: string; reason: string };
  }
  throw new Error('expected a refusal');
}

describe('key provisioning (POST /sakke/keys)', () => {
  it('gives a device its user\'s RSK and ECCSI key for this month, wrapped under its own transport key; both validate', async () => {
    const d = w.devices.alice;
    const p = await provision(d);
    const id = mikeySakkeIdentifier(d.uri, new Date());
    expect(p.identifier.toLowerCase()).toBe(Buffer.from(id).toString('hex'));
    const rsk = unwrapForDevice(d.secret, Buffer.from(p.rsk, 'base64'));
    expect(() => validateSakkeRsk(fromHex(p.sakkePublicKey), id, rsk)).not.toThrow();
    expect(() => eccsiValidate(fromHex(p.kpak), id, unwrapForDevice(d.secret, Buffer.from(p.ssk, 'base64')), fromHex(p.pvt))).not.toThrow();
    // Another device's PSK does not unwrap it (the TLS key log of the link would not expose the key either).
    expect(() => unwrapForDevice(w.devices.bob1.secret, Buffer.from(p.rsk, 'base64'))).toThrow(/transport key/);
    expect(p.rsk).not.toContain(Buffer.from(rsk).toString('base64').slice(0, 16));
  });

  it('refuses keys for another user: a device gets only its own user\'s', async () => {
    const init = requestInit(w, w.devices.alice, w.devices.bob1.identity, 'any-device-of-user');
    expect(await refusal(w.client.sakkeKeys(init.bytes))).toMatchObject({ status: 400, code: 'provision-self-only' });
  });

  it('the KMS keys derive from its master key: a restarted KMS has the same Z and KPAK', () => {
    const a = new SakkeKms(w.cfg.masterKey, 'https://kms', 'ims.test');
    const b = new SakkeKms(w.cfg.masterKey, 'https://kms', 'ims.test');
    const other = new SakkeKms(new Uint8Array(32).fill(1), 'https://kms', 'ims.test');
    expect(Buffer.from(a.sakkePublicKey).equals(Buffer.from(b.sakkePublicKey))).toBe(true);
    expect(Buffer.from(a.eccsi.kpak).equals(Buffer.from(b.eccsi.kpak))).toBe(true);
    expect(Buffer.from(a.sakkePublicKey).equals(Buffer.from(other.sakkePublicKey))).toBe(false);
  });
});

describe('group master keys (POST /gms/gmk)', () => {
  it('every member gets the same GMK and GMK-ID, each in an I_MESSAGE only it can open', async () => {
    const [a, b] = [w.devices.alice, w.devices.bob1];
    const ga = open(await gmkMessage(a), a, await provision(a));
    const gb = open(await gmkMessage(b), b, await provision(b));
    expect(Buffer.from(ga.gmk).equals(Buffer.from(gb.gmk))).toBe(true);
    expect(ga.gmkId).toBe(gb.gmkId);
    expect(ga.gmkId >>> 28).toBe(0);
    expect(Buffer.from(ga.rand).equals(Buffer.from(gb.rand))).toBe(true);
    expect(ga.gukId).not.toBe(gb.gukId);
  });

  it('a message for bob is refused by alice, a replay is refused, one altered octet breaks the signature', async () => {
    const [a, b] = [w.devices.alice, w.devices.bob1];
    const pa = await provision(a);
    const forBob = await gmkMessage(b);
    expect(() => open(forBob, a, pa)).toThrow(/IDRr is sip:bob@ims.test/);
    const mine = await gmkMessage(a);
    const replay = new ReplayCache();
    open(mine, a, pa, replay);
    expect(() => open(mine, a, pa, replay)).toThrow(MikeyError);
    const m = decodeMessage(mine);
    const altered = encodeMessage({ ...m, payloads: m.payloads.map((x) => (x.kind === 'RAND' ? { ...x, rand: x.rand.map((v, i) => (i === 0 ? v ^ 1 : v)) } : x)) });
    expect(() => open(altered, a, pa)).toThrow(/signature-invalid|does not verify/);
  });

  it('refuses a non-member, a conference URI (keyed by tickets) and gives no group ticket for a PoC group', async () => {
    expect(await refusal(gmkMessage(w.devices.dave))).toMatchObject({ status: 403, code: 'not-a-member' });
    expect(await refusal(gmkMessage(w.devices.alice, CONF))).toMatchObject({ status: 403, code: 'wrong-keying' });
    expect(await refusal(w.client.request(requestInit(w, w.devices.alice, POC, 'group').bytes))).toMatchObject({ status: 403, code: 'wrong-keying' });
  });

  it('removing a member opens a new epoch: the others get a new GMK, the removed one is refused; the conference re-keys alike', async () => {
    const [a, c] = [w.devices.alice, w.devices.carol];
    const pa = await provision(a);
    const before = open(await gmkMessage(a), a, pa);
    const first = requestInit(w, a, CONF, 'group');
    const tgkBefore = verifyRequestResp(await w.client.request(first.bytes), first.state, {}).tgk;
    for (const group of ['sip:poc-team@ims.test', 'sip:conf-team@ims.test']) {
      const r = await fetch(`${w.kms.controlUrl}/groups/remove`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group, member: 'sip:carol@ims.test' }) });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ epoch: 1, removed: ['sip:carol@ims.test'] });
    }
    const after = open(await gmkMessage(a), a, pa);
    expect(after.gmkId).not.toBe(before.gmkId);
    expect(Buffer.from(after.gmk).equals(Buffer.from(before.gmk))).toBe(false);
    expect(await refusal(gmkMessage(c))).toMatchObject({ status: 403, code: 'removed-member' });
    expect(await refusal(w.client.request(requestInit(w, c, CONF, 'group').bytes))).toMatchObject({ status: 403, code: 'removed-member' });
    const init = requestInit(w, a, CONF, 'group');
    const tgkAfter = verifyRequestResp(await w.client.request(init.bytes), init.state, {}).tgk;
    expect(Buffer.from(tgkAfter).equals(Buffer.from(tgkBefore))).toBe(false);
    const again = await fetch(`${w.kms.controlUrl}/groups/remove`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group: 'sip:poc-team@ims.test', member: 'sip:carol@ims.test' }) });
    expect(again.status).toBe(409);
    const bad = await fetch(`${w.kms.controlUrl}/groups/remove`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group: 'sip:poc-team@ims.test' }) });
    expect(bad.status).toBe(400);
    const status = (await (await fetch(`${w.kms.controlUrl}/status`)).json()) as { gmks: number; provisioned: number; groups: Array<{ uri: string; epoch: number }> };
    expect(status.gmks).toBeGreaterThan(0);
    expect(status.groups.find((g) => g.uri === 'sip:poc-team@ims.test')?.epoch).toBe(1);
  });
});
