/**
 * MIKEY-SAKKE I_MESSAGE (RFC 6509) carrying a GMK (TS 33.180): the SAKKE
 * payload codec, the message layout, the member's verification and the
 * refusals: wrong signer identity, forgery, replay, stale timestamp, wrong
 * receiver, unknown KMS, unknown GMK-ID.
 */
import { describe, expect, it } from 'vitest';
import { eccsiSign, mikeySakkeIdentifier } from '@imslab/sakke';
import {
  decodeMessage,
  encodeMessage,
  GmkStore,
  gmkSrtpKeys,
  gukIdOf,
  IdRole,
  MikeyAuthError,
  MikeyPayloadOrderError,
  MikeyProtocolError,
  MikeyReplayError,
  MikeySakkeError,
  MikeyTimestampError,
  receiveGmkIMessage,
  ReplayCache,
  type MikeyMessage,
  type Payload,
} from '../src/index.ts';
import { GMS_URI, KMS_URI, NOW, sakkeWorld, uriOf } from './sakke-world.ts';
import { caught } from './helpers.ts';

const w = sakkeWorld();
const toAlice = w.build('alice');

/** Re-signs a changed message with a given ECCSI key, as an attacker holding that key would. */
function resign(m: MikeyMessage, signerUri: string, key = w.gmsKey): Uint8Array {
  const draft = encodeMessage(m);
  const sig = eccsiSign(draft.subarray(0, draft.length - 129), { kpak: w.kpak, id: mikeySakkeIdentifier(signerUri, new Date(NOW)), key });
  return encodeMessage({ ...m, payloads: m.payloads.map((p) => (p.kind === 'SIGN' ? { ...p, signature: sig } : p)) });
}

describe('I_MESSAGE layout (RFC 6509 sec. 2.1, 4.2; TS 33.180 E.2)', () => {
  it('HDR data type 26, PRF-HMAC-SHA-256, CSB ID = GUK-ID; T, RAND, IDRi, IDRr, IDRkmsi, IDRkmsr, SP, SAKKE, SIGN', () => {
    const m = decodeMessage(toAlice.bytes);
    expect(m.header.dataType).toBe(26);
    expect(m.header.prf).toBe(1);
    expect(m.header.csbId).toBe(gukIdOf(w.gmk, w.gmkId, uriOf('alice')));
    expect(m.header.csbId).not.toBe(w.gmkId);
    expect(m.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR2', 'IDR6', 'IDR7', 'SP', 'SAKKE', 'SIGN']);
    const sakke = m.payloads.find((p) => p.kind === 'SAKKE')!;
    expect(sakke).toMatchObject({ params: 1, idScheme: 1 });
    expect(sakke.kind === 'SAKKE' && sakke.data.length).toBe(273);
    const sign = m.payloads.at(-1)!;
    expect(sign.kind === 'SIGN' && [sign.sType, sign.signature.length]).toEqual([2, 129]);
    expect(encodeMessage(m)).toEqual(toAlice.bytes);
  });
  it('the SAKKE payload octets: next payload, params, ID scheme, 16-bit length, data', () => {
    const m = decodeMessage(toAlice.bytes);
    const i = m.payloads.findIndex((p) => p.kind === 'SAKKE');
    const off = toAlice.bytes.length - 131 - 278; // SIGN is 2 + 129 octets, SAKKE 5 + 273
    expect(i).toBe(7);
    expect([...toAlice.bytes.subarray(off, off + 5)]).toEqual([4, 1, 1, 273 >> 8, 273 & 0xff]);
  });
  it('the same GMK to another member hides the GMK-ID behind another GUK-ID', () => {
    expect(decodeMessage(w.build('bob').bytes).header.csbId).not.toBe(decodeMessage(toAlice.bytes).header.csbId);
  });
});

describe('member receives the GMK', () => {
  it('alice verifies and opens it: GMK, GMK-ID, SRTP keys equal to the sender side', () => {
    const r = receiveGmkIMessage(toAlice.bytes, w.opts('alice'));
    expect(r.gmk).toEqual(w.gmk);
    expect(r.gmkId).toBe(w.gmkId);
    expect(r.initiator).toBe(GMS_URI);
    expect(r.kmsInitiator).toBe(KMS_URI);
    expect(r.profile).toBe('AES_CM_128_HMAC_SHA1_80');
    const sender = gmkSrtpKeys({ gmk: w.gmk, gmkId: w.gmkId, gukId: toAlice.gukId, rand: toAlice.rand });
    expect(r.srtp).toEqual(sender);
    expect(r.srtp.masterKey.length).toBe(16);
    expect(r.srtp.masterSalt.length).toBe(14);
    expect([...r.srtp.mki.subarray(0, 4)]).toEqual([0x01, 0x23, 0xab, 0xcd]);
  });
  it('alice and bob send under different SRTP master keys from the same GMK (different GUK-ID), and each derives the other\'s from the MKI alone', () => {
    const a = receiveGmkIMessage(toAlice.bytes, w.opts('alice'));
    const toBob = w.build('bob', { rand: toAlice.rand });
    const b = receiveGmkIMessage(toBob.bytes, w.opts('bob'));
    expect(b.gmk).toEqual(a.gmk);
    expect(b.srtp.masterKey).not.toEqual(a.srtp.masterKey);
    const atBob = new GmkStore();
    atBob.put(b);
    expect(atBob.keysForMki(a.srtp.mki, { senders: [uriOf('alice'), uriOf('bob')] })).toEqual({ ...a.srtp, sender: uriOf('alice') });
    const atAlice = new GmkStore();
    atAlice.put(a);
    expect(atAlice.keysForMki(b.srtp.mki)).toEqual(b.srtp);
  });
  it('a RAND that differs per member breaks the group: the listener derives another key than the talker uses', () => {
    const a = receiveGmkIMessage(toAlice.bytes, w.opts('alice'));
    const b = receiveGmkIMessage(w.build('bob').bytes, w.opts('bob'));
    const atBob = new GmkStore();
    atBob.put(b);
    expect(atBob.keysForMki(a.srtp.mki).masterKey).not.toEqual(a.srtp.masterKey);
  });
});

describe('refusals', () => {
  it('signed under the wrong identity: mallory signs with her valid key but claims to be the GMS', () => {
    const m = decodeMessage(toAlice.bytes);
    const forged = resign(m, uriOf('mallory'), w.malloryKey);
    const e = caught(() => receiveGmkIMessage(forged, w.opts('alice')));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect((e as MikeySakkeError).reason).toBe('signature-invalid');
    expect((e as MikeySakkeError).errNo).toBe(0);
  });
  it('mallory signs as herself: a valid signature, but not from a trusted group management server', () => {
    const m = decodeMessage(toAlice.bytes);
    const asMallory: MikeyMessage = { ...m, payloads: m.payloads.map((p): Payload => (p.kind === 'IDR' && p.role === IdRole.INITIATOR ? { ...p, data: new TextEncoder().encode(uriOf('mallory')) } : p)) };
    const bytes = resign(asMallory, uriOf('mallory'), w.malloryKey);
    expect((caught(() => receiveGmkIMessage(bytes, w.opts('alice'))) as MikeySakkeError).reason).toBe('untrusted-initiator');
    // With no initiator list it verifies: the signature itself is valid.
    expect(receiveGmkIMessage(bytes, w.opts('alice', { trustedInitiators: undefined })).initiator).toBe(uriOf('mallory'));
  });
  it.each([
    ['a CSB ID (GUK-ID) bit', 7],
    ['a RAND bit', 25], // HDR 10, T 10, RAND header 2
    ['a SAKKE data bit', -200],
    ['a signature bit (s)', -100],
    ['a PVT bit in the signature', -10],
  ])('forged: flipping %s fails the signature', (_n, at) => {
    const b = Uint8Array.from(toAlice.bytes);
    const i = at < 0 ? b.length + at : at;
    b[i]! ^= 0x01;
    const e = caught(() => receiveGmkIMessage(b, w.opts('alice')));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect(['signature-invalid']).toContain((e as MikeySakkeError).reason);
  });
  it('replayed: the second delivery of the same I_MESSAGE is refused', () => {
    const o = w.opts('alice', { replay: new ReplayCache() });
    receiveGmkIMessage(toAlice.bytes, o);
    expect(caught(() => receiveGmkIMessage(toAlice.bytes, o))).toBeInstanceOf(MikeyReplayError);
  });
  it('stale: a message 10 minutes old is outside the window', () => {
    expect(caught(() => receiveGmkIMessage(toAlice.bytes, w.opts('alice', { nowMs: NOW + 10 * 60_000 })))).toBeInstanceOf(MikeyTimestampError);
  });
  it('addressed to someone else: bob refuses alice\'s message (identity-mismatch) before any crypto', () => {
    const e = caught(() => receiveGmkIMessage(toAlice.bytes, w.opts('bob')));
    expect(e).toBeInstanceOf(MikeyProtocolError);
    expect((e as MikeyProtocolError).reason).toBe('identity-mismatch');
  });
  it('a SAKKE payload encapsulated to bob but re-signed by the GMS for alice fails decapsulation', () => {
    const forBob = decodeMessage(w.build('bob').bytes).payloads.find((p) => p.kind === 'SAKKE')!;
    const m = decodeMessage(toAlice.bytes);
    const swapped = resign({ ...m, payloads: m.payloads.map((p) => (p.kind === 'SAKKE' ? forBob : p)) }, GMS_URI);
    expect((caught(() => receiveGmkIMessage(swapped, w.opts('alice'))) as MikeySakkeError).reason).toBe('sakke-failed');
  });
  it('unknown KMS: no KPAK for IDRkmsi', () => {
    expect((caught(() => receiveGmkIMessage(toAlice.bytes, w.opts('alice', { kpakFor: () => undefined }))) as MikeySakkeError).reason).toBe('unknown-kms');
  });
  it('a non-ECCSI SIGN type is an unsupported algorithm', () => {
    const m = decodeMessage(toAlice.bytes);
    const b = encodeMessage({ ...m, payloads: m.payloads.map((p) => (p.kind === 'SIGN' ? { ...p, sType: 0 } : p)) });
    expect((caught(() => receiveGmkIMessage(b, w.opts('alice'))) as MikeyAuthError).reason).toBe('unsupported-algorithm');
  });
  it('a message without SAKKE payload breaks the RFC 6509 grammar', () => {
    const m = decodeMessage(toAlice.bytes);
    const b = encodeMessage({ ...m, payloads: m.payloads.filter((p) => p.kind !== 'SAKKE') });
    expect(caught(() => receiveGmkIMessage(b, w.opts('alice')))).toBeInstanceOf(MikeyPayloadOrderError);
  });
  it('unknown GMK-ID: an MKI naming a GMK-ID the member never received is refused', () => {
    const a = receiveGmkIMessage(toAlice.bytes, w.opts('alice'));
    const store = new GmkStore();
    store.put(a);
    const mki = Uint8Array.from(a.srtp.mki);
    mki[3]! ^= 0x01;
    const e = caught(() => store.keysForMki(mki));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect((e as MikeySakkeError).reason).toBe('unknown-gmk-id');
    expect((e as Error).message).toContain('0x0123abcd');
    const wrongGuk = Uint8Array.from(a.srtp.mki);
    wrongGuk[7]! ^= 0x01;
    const e2 = caught(() => store.keysForMki(wrongGuk, { senders: [uriOf('alice'), uriOf('bob')] }));
    expect((e2 as MikeySakkeError).reason).toBe('unknown-gmk-id');
    expect((e2 as Error).message).toMatch(/no member's/);
  });
  it('a GMK-ID without the group purpose tag is refused by the builder and the store', () => {
    expect(caught(() => w.build('alice', { gmkId: 0x1000_0001 }))).toBeInstanceOf(MikeyProtocolError);
    expect((caught(() => new GmkStore().put({ gmk: w.gmk, gmkId: 0x2000_0000, gukId: 1, rand: new Uint8Array(16) })) as MikeySakkeError).reason).toBe('unknown-gmk-id');
  });
});
