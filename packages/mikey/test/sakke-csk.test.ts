/**
 * The client-server key of TS 33.180 clause 7.3 in a MIKEY-SAKKE I_MESSAGE
 * (RFC 6509): an MCPTT client sends a CSK it generated to the MCPTT server,
 * SAKKE to the server's identity, ECCSI-signed with its own key. The
 * layout (CSB ID = CSK-ID), the server's verification and SRTP keys equal
 * to the client's, and the refusals: wrong receiver, IDRi not the
 * authenticated sender, a signer of an unknown KMS, tampering, replay,
 * stale T, a GMK taken for a CSK or a CSK for a GMK, bad CSK-IDs.
 */
import { describe, expect, it } from 'vitest';
import { eccsiSign, mikeySakkeIdentifier } from '@imslab/sakke';
import {
  buildCskIMessage,
  CSK_PURPOSE_TAG,
  cskSrtpKeys,
  decodeMessage,
  encodeMessage,
  isCskId,
  MikeyProtocolError,
  MikeyReplayError,
  MikeySakkeError,
  MikeyTimestampError,
  newCskId,
  purposeTag,
  receiveCskIMessage,
  receiveGmkIMessage,
  ReplayCache,
  type MikeyMessage,
} from '../src/index.ts';
import { cskWorld, GMS_URI, KMS_URI, NOW, OTHER_KMS_URI, SERVER_URI, sakkeWorld, uriOf } from './sakke-world.ts';
import { caught } from './helpers.ts';

const w = sakkeWorld();
const c = cskWorld(w);
const fromAlice = c.build('alice');

function reason(e: unknown): string | undefined {
  return e instanceof MikeySakkeError || e instanceof MikeyProtocolError ? e.reason : undefined;
}

describe('CSK I_MESSAGE layout (RFC 6509 sec. 2.1; TS 33.180 clause 7.3)', () => {
  it('HDR data type 26, PRF-HMAC-SHA-256, CSB ID = the CSK-ID, #CS 0; IDRi the client, IDRr the server; SP, SAKKE, ECCSI SIGN', () => {
    const m = decodeMessage(fromAlice.bytes);
    expect(m.header).toMatchObject({ dataType: 26, prf: 1, csbId: c.cskId, csIdMap: { type: 'empty', nCs: 0 } });
    expect(m.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR2', 'IDR6', 'IDR7', 'SP', 'SAKKE', 'SIGN']);
    const ids = m.payloads.flatMap((p) => (p.kind === 'IDR' ? [new TextDecoder().decode(p.data)] : []));
    expect(ids).toEqual([uriOf('alice'), SERVER_URI, KMS_URI, KMS_URI]);
    expect(m.payloads.find((p) => p.kind === 'SAKKE')).toMatchObject({ params: 1, idScheme: 1 });
    const sign = m.payloads.at(-1)!;
    expect(sign.kind === 'SIGN' && [sign.sType, sign.signature.length]).toEqual([2, 129]);
    expect(encodeMessage(m)).toEqual(fromAlice.bytes);
  });
  it('newCskId: 28 random bits under purpose tag 2, unsigned', () => {
    const ids = Array.from({ length: 64 }, () => newCskId());
    for (const id of ids) {
      expect(purposeTag(id)).toBe(CSK_PURPOSE_TAG);
      expect(id).toBeGreaterThanOrEqual(0x2000_0000);
      expect(id).toBeLessThanOrEqual(0x2fff_ffff);
      expect(isCskId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBeGreaterThan(60);
  });
});

describe('the MCPTT server receives the CSK', () => {
  it('verifies and opens it: CSK, CSK-ID, RAND, sender, and SRTP keys equal to the client\'s', () => {
    const r = receiveCskIMessage(fromAlice.bytes, c.opts('alice'));
    expect(r.csk).toEqual(c.csk);
    expect(r.cskId).toBe(c.cskId);
    expect(r.rand).toEqual(fromAlice.rand);
    expect(r.initiator).toBe(uriOf('alice'));
    expect(r.kmsInitiator).toBe(KMS_URI);
    expect(Math.abs(r.timestampMs - NOW)).toBeLessThanOrEqual(1);
    expect(r.profile).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(r.srtp).toEqual(fromAlice.srtp);
    expect(r.srtp).toEqual(cskSrtpKeys({ csk: c.csk, cskId: c.cskId, rand: fromAlice.rand }));
    expect([r.srtp.masterKey.length, r.srtp.masterSalt.length]).toEqual([16, 14]);
    expect(Object.keys(r.srtp).sort()).toEqual(['masterKey', 'masterSalt']);
  });
  it('an AES-256-GCM profile gives 32-octet keys and 12-octet salts on both sides; another RAND gives other keys', () => {
    const b = c.build('alice', { profile: 'AEAD_AES_256_GCM' });
    const r = receiveCskIMessage(b.bytes, c.opts('alice'));
    expect(r.profile).toBe('AEAD_AES_256_GCM');
    expect(r.srtp).toEqual(b.srtp);
    expect([r.srtp.masterKey.length, r.srtp.masterSalt.length]).toEqual([32, 12]);
    expect(b.srtp.masterKey.subarray(0, 16)).not.toEqual(fromAlice.srtp.masterKey);
  });
  it('the client\'s SRTP keys depend on the CSK, the CSK-ID and the RAND only, not on T or the signature', () => {
    const b = buildCskIMessage({ csk: c.csk, cskId: c.cskId, initiator: { uri: uriOf('alice'), kmsUri: KMS_URI, kpak: w.kpak, key: c.clientKey.alice }, responder: { uri: SERVER_URI, kmsUri: KMS_URI, kmsPublicKey: w.Z }, nowMs: NOW + 5000, rand: fromAlice.rand });
    expect(b.bytes).not.toEqual(fromAlice.bytes);
    expect(decodeMessage(b.bytes).header.csbId).toBe(c.cskId);
    expect(b.srtp).toEqual(fromAlice.srtp);
  });
  it('the asserted identity matches IDRi case-insensitively', () => {
    expect(receiveCskIMessage(fromAlice.bytes, c.opts('alice', { expectedInitiator: 'SIP:Alice@IMS.example' })).initiator).toBe(uriOf('alice'));
  });
});

describe('refusals', () => {
  it('addressed to another server: IDRr is not this server (identity-mismatch), before any crypto', () => {
    const e = caught(() => receiveCskIMessage(fromAlice.bytes, c.opts('alice', { uri: 'sip:other-server@ims.example', kpakFor: () => { throw new Error('no crypto expected'); } })));
    expect(e).toBeInstanceOf(MikeyProtocolError);
    expect(reason(e)).toBe('identity-mismatch');
    expect((e as Error).message).toContain('not this server');
    // Sent to alice instead of the server: the server refuses it the same way.
    const toAlice = c.build('bob', { responder: { uri: uriOf('alice'), kmsUri: KMS_URI, kmsPublicKey: w.Z } });
    expect(reason(caught(() => receiveCskIMessage(toAlice.bytes, c.opts('bob'))))).toBe('identity-mismatch');
  });
  it('IDRi is not the identity the sender was authenticated as: refused (untrusted-initiator, Auth failure) before the KPAK is looked up', () => {
    const e = caught(() => receiveCskIMessage(fromAlice.bytes, c.opts('bob', { kpakFor: () => { throw new Error('no KPAK look-up expected'); } })));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect(reason(e)).toBe('untrusted-initiator');
    expect((e as MikeySakkeError).errNo).toBe(0);
    expect((e as Error).message).toContain(uriOf('bob'));
  });
  it('signed by alice with her valid key but claiming IDRi bob: the signature fails under bob\'s identifier', () => {
    const asBob = c.build('alice', { initiator: { uri: uriOf('bob'), kmsUri: KMS_URI, kpak: w.kpak, key: c.clientKey.alice } });
    const e = caught(() => receiveCskIMessage(asBob.bytes, c.opts('bob')));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect(reason(e)).toBe('signature-invalid');
  });
  it('without expectedInitiator any valid signer is taken, and IDRi names it', () => {
    expect(receiveCskIMessage(c.build('bob').bytes, c.opts('alice', { expectedInitiator: undefined })).initiator).toBe(uriOf('bob'));
  });
  it('a stranger of a KMS the server does not know: unknown-kms; claiming the server\'s KMS: signature-invalid', () => {
    const initiator = { uri: c.stranger.uri, kmsUri: OTHER_KMS_URI, kpak: c.stranger.kpak, key: c.stranger.key };
    const own = c.build('alice', { initiator });
    expect(reason(caught(() => receiveCskIMessage(own.bytes, c.opts('alice', { expectedInitiator: c.stranger.uri }))))).toBe('unknown-kms');
    const claimed = c.build('alice', { initiator: { ...initiator, kmsUri: KMS_URI } });
    expect(reason(caught(() => receiveCskIMessage(claimed.bytes, c.opts('alice', { expectedInitiator: c.stranger.uri }))))).toBe('signature-invalid');
  });
  const idrKmsr = Buffer.from(fromAlice.bytes).lastIndexOf(KMS_URI);
  it.each([
    ['a CSB ID (CSK-ID) bit', 7],
    ['a CSB ID purpose-tag bit', 4],
    ['a RAND bit', 25], // HDR 10, T 10, RAND header 2
    ['an IDRkmsr octet', idrKmsr + 10],
    ['a SAKKE data bit', -200],
    ['a signature bit (s)', -100],
    ['a PVT bit in the signature', -10],
  ])('tampered: flipping %s fails the signature', (_n, at) => {
    const b = Uint8Array.from(fromAlice.bytes);
    const i = at < 0 ? b.length + at : at;
    b[i]! ^= 0x10;
    const e = caught(() => receiveCskIMessage(b, c.opts('alice')));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect(reason(e)).toBe('signature-invalid');
  });
  it('replayed: the second delivery of the same I_MESSAGE is refused', () => {
    const o = c.opts('alice', { replay: new ReplayCache() });
    expect(receiveCskIMessage(fromAlice.bytes, o).csk).toEqual(c.csk);
    expect(caught(() => receiveCskIMessage(fromAlice.bytes, o))).toBeInstanceOf(MikeyReplayError);
  });
  it('stale: a message 10 minutes old is outside the window; so is one from 10 minutes ahead', () => {
    expect(caught(() => receiveCskIMessage(fromAlice.bytes, c.opts('alice', { nowMs: NOW + 10 * 60_000 })))).toBeInstanceOf(MikeyTimestampError);
    expect(caught(() => receiveCskIMessage(fromAlice.bytes, c.opts('alice', { nowMs: NOW - 10 * 60_000 })))).toBeInstanceOf(MikeyTimestampError);
  });
  it('a GMK I_MESSAGE (genuine, addressed to the server) is refused on its purpose tag, not taken as a CSK', () => {
    const gmk = c.gmkToServer();
    const e = caught(() => receiveCskIMessage(gmk.bytes, c.opts('alice', { expectedInitiator: GMS_URI })));
    expect(e).toBeInstanceOf(MikeyProtocolError);
    expect(reason(e)).toBe('csb-mismatch');
    expect((e as Error).message).toMatch(/purpose tag 0, not 2/);
  });
  it('a CSK I_MESSAGE is refused by the GMK receiver on its purpose tag, not taken as a GMK', () => {
    const e = caught(() => receiveGmkIMessage(fromAlice.bytes, { uri: SERVER_URI, rsk: c.serverRsk, kmsPublicKey: w.Z, kpakFor: (u) => (u === KMS_URI ? w.kpak : undefined), replay: new ReplayCache(), nowMs: NOW + 1000 }));
    expect(e).toBeInstanceOf(MikeySakkeError);
    expect(reason(e)).toBe('unknown-gmk-id');
    expect((e as Error).message).toMatch(/purpose tag 2/);
  });
  it('the builder refuses a CSK-ID without purpose tag 2 or out of range, and a CSK that is not 16 octets', () => {
    for (const cskId of [w.gmkId, 0x1234_5678, 0x3000_0000, -1, 0x1_2000_0000, 0x2000_0000 + 0.5]) {
      const e = caught(() => c.build('alice', { cskId }));
      expect(e, `CSK-ID ${cskId}`).toBeInstanceOf(MikeyProtocolError);
      expect(reason(e)).toBe('unsupported-parameter');
    }
    for (const csk of [new Uint8Array(15), new Uint8Array(32)]) expect(reason(caught(() => c.build('alice', { csk })))).toBe('unsupported-parameter');
  });
  it('a re-signed message with the CSB ID changed to a GMK-ID is refused on the purpose tag after the signature', () => {
    // What a client would get by signing a CSK under a CSB ID of another purpose with its own key: authentic, still refused.
    const m = decodeMessage(fromAlice.bytes);
    const changed: MikeyMessage = { ...m, header: { ...m.header, csbId: 0x0456cdef } };
    const draft = encodeMessage(changed);
    const sig = eccsiSign(draft.subarray(0, draft.length - 129), { kpak: w.kpak, id: mikeySakkeIdentifier(uriOf('alice'), new Date(NOW)), key: c.clientKey.alice });
    const bytes = encodeMessage({ ...changed, payloads: changed.payloads.map((p) => (p.kind === 'SIGN' ? { ...p, signature: sig } : p)) });
    expect(reason(caught(() => receiveCskIMessage(bytes, c.opts('alice'))))).toBe('csb-mismatch');
  });
});
