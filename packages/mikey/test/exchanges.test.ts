/**
 * The three MIKEY-TICKET exchanges, PSK variant (RFC 6043 sec. 4): keys
 * agree end to end, header rules, resolution policies, and every refusal
 * path: tampering with every octet, replays, stale timestamps, expired and
 * forged tickets, wrong keys and identities.
 */
import { describe, expect, it } from 'vitest';
import {
  buildRequestInit,
  buildRequestResp,
  buildResolveInit,
  buildResolveResp,
  buildTransferInit,
  buildTransferResp,
  completeTransferInit,
  decodeMessage,
  decodeMessageWithOffsets,
  deferredReceiveKeys,
  deferredTransferKeys,
  deriveForkedKeys,
  deriveSrtpFromTicketTgk,
  idrPayload,
  deriveTicketMessageKeys,
  KmsTicketCodec,
  MikeyAuthError,
  MikeyError,
  MikeyReplayError,
  MikeyTicketError,
  MikeyTimestampError,
  parseTransferInit,
  ReplayCache,
  signMessage,
  srtpPolicyParams,
  uriIdentity,
  validateGrammar,
  verifyRequestInit,
  verifyRequestResp,
  verifyResolveInit,
  verifyResolveResp,
  verifyTransferResp,
  type MikeyMessage,
} from '../src/index.ts';
import { OneShot } from '../src/exchanges/common.ts';
import { caught, fullFlow, T0, toHex, world, type World } from './helpers.ts';

describe('full flow (mode 1: Ticket Request + Transfer + Resolve)', () => {
  const w = world();
  const f = fullFlow(w);
  it('Initiator and Responder derive the same SRTP master keys, per crypto session (RFC 6043 5.1.3)', () => {
    expect(f.transfer.srtp.length).toBe(2);
    expect(f.transfer.srtp).toEqual(f.trResp.srtp);
    expect(f.transfer.srtp.map((s) => [s.csId, s.ssrc, s.profile])).toEqual([
      [1, 0x11223344, 'AES_CM_128_HMAC_SHA1_80'],
      [2, 0x55667788, 'AES_CM_128_HMAC_SHA1_80'],
    ]);
    expect(toHex(f.transfer.srtp[0]!.masterKey)).not.toBe(toHex(f.transfer.srtp[1]!.masterKey));
    // Independent recomputation from the issued TGK, RANDRi (flag H) and RANDRr (flag G).
    const want = deriveSrtpFromTicketTgk(f.reqResp.keys.tgk, { csId: 1, randRi: f.trInit.state.randRi, randRr: f.transfer.randRr, hash: 'sha256' });
    expect(toHex(f.transfer.srtp[0]!.masterKey)).toBe(toHex(want.masterKey));
    expect(f.transfer.srtp[0]!.masterSalt.length).toBe(14);
    expect(f.transfer.redirected).toBe(false);
  });
  it('each side learns the authenticated identities', () => {
    expect(f.vReq.initiator).toEqual(w.alice);
    expect(f.vReq.responders).toEqual([w.bob]);
    expect(f.vRes.responder).toEqual(w.bob);
    expect(f.vRes.ticket.initiator).toEqual(w.alice);
    expect(f.vTr.initiator).toEqual(w.alice);
    expect(f.transfer.responder).toEqual(w.bob);
    expect(toHex(f.resolved.tgk)).toBe(toHex(f.request.tgk));
    expect(toHex(f.resolved.mpkr)).toBe(toHex(f.request.mpkr));
  });
  it('header rules of RFC 6043 6.1 and the message grammars hold', () => {
    for (const b of [f.reqInit.bytes, f.resInit.bytes]) {
      const h = decodeMessage(b).header;
      expect([h.v, h.csIdMap]).toEqual([true, { type: 'empty', nCs: 0 }]);
    }
    for (const b of [f.reqResp.bytes, f.resResp.bytes, f.trResp.bytes]) expect(decodeMessage(b).header.v).toBe(false);
    const ti = decodeMessage(f.trInit.bytes).header;
    expect(ti.csIdMap.type).toBe('generic-id');
    expect(ti.v).toBe(f.request.ticket.flags.F);
    expect(decodeMessage(f.trResp.bytes).header.csIdMap).toEqual(ti.csIdMap);
    for (const b of [f.reqInit.bytes, f.reqResp.bytes, f.trInit.bytes, f.resInit.bytes, f.resResp.bytes, f.trResp.bytes]) {
      const lm = decodeMessageWithOffsets(b);
      validateGrammar(lm.message, lm.offsets);
      expect([11, 13, 14, 16, 18, 15]).toContain(lm.message.header.dataType);
    }
  });
  it('the ticket is opaque: neither the TGK nor the MPK travel in the clear', () => {
    for (const b of [f.reqResp.bytes, f.trInit.bytes, f.resInit.bytes, f.resResp.bytes]) {
      expect(Buffer.from(b).includes(Buffer.from(f.reqResp.keys.tgk))).toBe(false);
      expect(Buffer.from(b).includes(Buffer.from(f.reqResp.keys.mpki))).toBe(false);
    }
  });
  it('AEAD_AES_256_GCM policy (RFC 7714 sec. 14.3): 32-octet key, 12-octet salt', () => {
    const w2 = world();
    const reqInit = buildRequestInit({ initiator: w2.alice, kms: w2.kms, psk: w2.pskOf(w2.alice), responders: [w2.bob], policy: 'designated-device', nowMs: T0 });
    const vReq = verifyRequestInit(reqInit.bytes, { kms: w2.kms, lookupPsk: w2.lookupPsk, replayCache: w2.kmsCache, nowMs: T0 });
    const request = verifyRequestResp(buildRequestResp(vReq, { codec: w2.codec, kms: w2.kms, nowMs: T0 }).bytes, reqInit.state, { nowMs: T0 });
    const tr = buildTransferInit({ request, sessions: [{ ssrc: 1, policyNo: 5, roc: 0, seq: 100 }], securityPolicies: [{ kind: 'SP', policyNo: 5, protType: 0, params: srtpPolicyParams('AEAD_AES_256_GCM') }], nowMs: T0 });
    const pending = parseTransferInit(tr.bytes);
    const ri = buildResolveInit({ ticket: pending.ticket, responder: w2.bob, kms: w2.kms, psk: w2.pskOf(w2.bob), nowMs: T0 });
    const vr = verifyResolveInit(ri.bytes, { kms: w2.kms, lookupPsk: w2.lookupPsk, replayCache: w2.kmsCache, codec: w2.codec, nowMs: T0 });
    const resolved = verifyResolveResp(buildResolveResp(vr, { kms: w2.kms, nowMs: T0 }).bytes, ri.state, { nowMs: T0 });
    const vt = completeTransferInit(pending, resolved, { replayCache: new ReplayCache(), nowMs: T0 });
    const resp = buildTransferResp(vt, { responder: w2.bob, nowMs: T0 });
    const out = verifyTransferResp(resp.bytes, tr.state, { nowMs: T0 });
    expect(out.srtp[0]).toMatchObject({ profile: 'AEAD_AES_256_GCM', ssrc: 1 });
    expect([out.srtp[0]!.masterKey.length, out.srtp[0]!.masterSalt.length]).toEqual([32, 12]);
    expect(out.srtp).toEqual(resp.srtp);
  });
});

describe('resolution policies', () => {
  it("'designated-device': another device of the same user is refused", () => {
    const w = world();
    const e = caught(() => fullFlow(w, { policy: 'designated-device', resolver: w.bob2 }));
    expect(e).toBeInstanceOf(MikeyTicketError);
    expect((e as MikeyTicketError).reason).toBe('resolver-not-allowed');
  });
  it("'any-device-of-user': another device of the user resolves; another user does not", () => {
    const w = world();
    const f = fullFlow(w, { policy: 'any-device-of-user', resolver: w.bob2 });
    expect(f.vRes.redirected).toBe(true);
    expect(f.transfer.redirected).toBe(true);
    expect(f.transfer.responder).toEqual(w.bob2);
    expect(f.transfer.srtp).toEqual(f.trResp.srtp);
    expect(caught(() => fullFlow(world(), { policy: 'any-device-of-user', resolver: world().carol }))).toMatchObject({ reason: 'resolver-not-allowed' });
  });
  it("'retargeting': another user resolves (unless the KMS's mayRetarget says no)", () => {
    const w = world();
    const f = fullFlow(w, { policy: 'retargeting', resolver: w.carol });
    expect(f.transfer.responder).toEqual(w.carol);
    expect(f.transfer.srtp).toEqual(f.trResp.srtp);
    const w2 = world();
    const g = fullFlowUntilResolve(w2, 'retargeting', w2.carol);
    expect(caught(() => verifyResolveInit(g.resInit.bytes, { kms: w2.kms, lookupPsk: w2.lookupPsk, replayCache: new ReplayCache(), codec: w2.codec, nowMs: T0, mayRetarget: () => false }))).toMatchObject({ reason: 'resolver-not-allowed' });
  });
  it('the Initiator refuses a TRANSFER_RESP from a Responder the policy does not allow', () => {
    const w = world();
    const f = fullFlow(w, { policy: 'any-device-of-user', resolver: w.bob2 });
    // Same message, but the Initiator insists on the designated device.
    const state = { ...f.trInit.state, once: new OneShot() };
    expect(caught(() => verifyTransferResp(f.trResp.bytes, state, { nowMs: T0, acceptResponder: () => false }))).toMatchObject({ reason: 'resolver-not-allowed' });
  });
});

describe('key forking (RFC 6043 sec. 5.1.4, ticket flag I)', () => {
  it("tickets that several devices may resolve fork keys; 'designated-device' tickets do not", () => {
    const w = world();
    expect(fullFlow(w, { policy: 'designated-device' }).request.ticket.flags.I).toBe(false);
    for (const policy of ['any-device-of-user', 'retargeting'] as const) {
      const f = fullFlow(world(), { policy });
      expect(f.request.ticket.flags.I).toBe(true);
      expect(f.request.ticket.flags.E).toBe(true);
      expect(toHex(f.request.mpkr)).not.toBe(toHex(f.request.mpki));
      expect(f.resolved.randRkms?.length).toBe(16);
      expect(f.transfer.srtp).toEqual(f.trResp.srtp);
    }
  });

  it("the KMS hands out MPKr' and TGK' = PRF(MPKr/TGK, IDRr, RANDRkms), never the ticket's MPKr and TGK", () => {
    const w = world();
    const f = fullFlow(w, { policy: 'any-device-of-user', resolver: w.bob2 });
    const expected = deriveForkedKeys(f.request.mpkr, f.request.tgk, w.bob2.data, f.resolved.randRkms!, 'sha256');
    expect(toHex(f.resolved.tgk)).toBe(toHex(expected.tgk));
    expect(toHex(f.resolved.mpkr)).toBe(toHex(expected.mpkr));
    expect(toHex(f.resolved.tgk)).not.toBe(toHex(f.request.tgk));
    expect(toHex(f.resolved.mpki)).toBe(toHex(f.request.mpki));
    // RANDRkms travels in RESOLVE_RESP and TRANSFER_RESP (RFC 6043 sec. 4.2.2, 4.3.2).
    expect(decodeMessage(f.resResp.bytes).payloads.some((p) => p.kind === 'RANDR' && p.role === 3)).toBe(true);
    expect(toHex(f.transfer.randRkms!)).toBe(toHex(f.resolved.randRkms!));
  });

  it('two devices resolving one ticket get different keys; neither can produce the other’s TRANSFER_RESP', () => {
    const w = world();
    const request = fullFlow(w, { policy: 'any-device-of-user' }).request;
    const trInit = buildTransferInit({ request, sessions: [{ ssrc: 1 }, { ssrc: 2 }], nowMs: T0 });
    const answer = (dev: typeof w.bob, randRkms?: Uint8Array) => {
      const pending = parseTransferInit(trInit.bytes);
      const resInit = buildResolveInit({ ticket: pending.ticket, responder: dev, kms: w.kms, psk: w.pskOf(dev), nowMs: T0 });
      const vRes = verifyResolveInit(resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 });
      const resolved = verifyResolveResp(buildResolveResp(vRes, { kms: w.kms, nowMs: T0, randRkms }).bytes, resInit.state, { nowMs: T0 });
      const v = completeTransferInit(pending, resolved, { replayCache: new ReplayCache(), nowMs: T0 });
      return { resolved, resp: buildTransferResp(v, { responder: dev, nowMs: T0 }) };
    };
    const one = answer(w.bob);
    const two = answer(w.bob2);
    expect(toHex(one.resolved.tgk)).not.toBe(toHex(two.resolved.tgk));
    expect(toHex(one.resolved.mpkr)).not.toBe(toHex(two.resolved.mpkr));
    // Same RANDRkms, different IDRr: still different keys (IDData enters the derivation).
    const same = answer(w.bob2, one.resolved.randRkms);
    expect(toHex(same.resolved.tgk)).not.toBe(toHex(one.resolved.tgk));
    // The Initiator accepts either answer (one per fork) and agrees with it on the SRTP keys.
    for (const x of [one, two]) {
      const state = { ...trInit.state, once: new OneShot() };
      expect(verifyTransferResp(x.resp.bytes, state, { nowMs: T0 }).srtp).toEqual(x.resp.srtp);
    }
    // bob-2 answering under bob's identity (with its own keys) fails the MAC at the Initiator.
    const m = decodeMessage(two.resp.bytes);
    const forged = m.payloads.map((p) => (p.kind === 'IDR' && p.role === 2 ? idrPayload(2, w.bob) : p));
    const k = deriveTicketMessageKeys(two.resolved.mpkr, m.header.csbId, 'response', { randRi: trInit.state.randRi, randRr: (m.payloads.find((p) => p.kind === 'RANDR' && p.role === 2) as { rand: Uint8Array }).rand }, { encrAlg: 0, macAlg: 2, hash: 'sha256' });
    // Control: re-signing the unchanged message this way is accepted, so the failure below is the identity's.
    const control = signMessage({ header: m.header, payloads: m.payloads }, k.authKey, { identities: [w.alice.data, w.bob2.data], requestTimestamp: trInit.state.t });
    expect(verifyTransferResp(control, { ...trInit.state, once: new OneShot() }, { nowMs: T0 }).responder).toEqual(w.bob2);
    const bytes = signMessage({ header: m.header, payloads: forged }, k.authKey, { identities: [w.alice.data, w.bob.data], requestTimestamp: trInit.state.t });
    expect(caught(() => verifyTransferResp(bytes, { ...trInit.state, once: new OneShot() }, { nowMs: T0 }))).toBeInstanceOf(MikeyAuthError);
  });

  it('TRANSFER_RESP without RANDRkms for a forking ticket is refused', () => {
    const w = world();
    const f = fullFlow(w, { policy: 'retargeting', resolver: w.carol });
    const m = decodeMessage(f.trResp.bytes);
    const stripped = m.payloads.filter((p) => !(p.kind === 'RANDR' && p.role === 3));
    const k = deriveTicketMessageKeys(f.resolved.mpkr, m.header.csbId, 'response', { randRi: f.trInit.state.randRi, randRr: f.transfer.randRr }, { encrAlg: 0, macAlg: 2, hash: 'sha256' });
    const bytes = signMessage({ header: m.header, payloads: stripped }, k.authKey, { identities: [w.alice.data, w.carol.data], requestTimestamp: f.trInit.state.t });
    expect(caught(() => verifyTransferResp(bytes, { ...f.trInit.state, once: new OneShot() }, { nowMs: T0 }))).toMatchObject({ message: expect.stringContaining('RANDRkms') });
  });
});

describe('deferred delivery (TR 33.828 4.1.2: a stored TRANSFER_INIT, resolved later)', () => {
  it('the Initiator keys from TGK and RANDRi alone; the intended Responder derives the same keys from the stored message', () => {
    const w = world();
    const request = fullFlow(w, { policy: 'any-device-of-user' }).request;
    const trInit = buildTransferInit({ request, sessions: [{ ssrc: 7 }, { ssrc: 0 }], nowMs: T0 });
    const sent = deferredTransferKeys(trInit.state);
    // Later: bob-2 retrieves the stored TRANSFER_INIT and resolves it for deferred delivery (no forking).
    const pending = parseTransferInit(trInit.bytes);
    const resInit = buildResolveInit({ ticket: pending.ticket, responder: w.bob2, kms: w.kms, psk: w.pskOf(w.bob2), nowMs: T0 + 60_000 });
    const vRes = verifyResolveInit(resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 + 60_000 });
    const resp = buildResolveResp(vRes, { kms: w.kms, nowMs: T0 + 60_000, deferred: true });
    expect(resp.keys.randRkms).toBeUndefined();
    const resolved = verifyResolveResp(resp.bytes, resInit.state, { nowMs: T0 + 60_000, deferred: true });
    const v = completeTransferInit(pending, resolved, { replayCache: new ReplayCache(), nowMs: T0 + 60_000, windowMs: 3_600_000 });
    expect(v.initiator).toEqual(w.alice);
    expect(deferredReceiveKeys(v)).toEqual(sent);
    // Once keyed for deferred delivery, a late TRANSFER_RESP is not accepted.
    expect(() => verifyTransferResp(new Uint8Array(8), trInit.state, { nowMs: T0 })).toThrow();
  });

  it('keys forked for a live answer do not open a stored message', () => {
    const w = world();
    const f = fullFlow(w, { policy: 'any-device-of-user' });
    expect(() => deferredReceiveKeys(f.vTr)).toThrow(/deferred delivery/);
    expect(deferredTransferKeys({ ...f.trInit.state, once: new OneShot() })).not.toEqual(f.transfer.srtp);
  });
});

function fullFlowUntilResolve(w: World, policy: 'designated-device' | 'any-device-of-user' | 'retargeting', resolver = w.bob, o: { requestAt?: number; resolveAt?: number; validFromMs?: number; validToMs?: number } = {}) {
  const tr = o.requestAt ?? T0;
  const reqInit = buildRequestInit({ initiator: w.alice, kms: w.kms, psk: w.pskOf(w.alice), responders: [w.bob], policy, nowMs: tr, validFromMs: o.validFromMs, validToMs: o.validToMs });
  const vReq = verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: tr });
  const request = verifyRequestResp(buildRequestResp(vReq, { codec: w.codec, kms: w.kms, nowMs: tr }).bytes, reqInit.state, { nowMs: tr });
  const at = o.resolveAt ?? tr;
  const trInit = buildTransferInit({ request, sessions: [{ ssrc: 9 }], nowMs: at });
  const pending = parseTransferInit(trInit.bytes);
  const resInit = buildResolveInit({ ticket: pending.ticket, responder: resolver, kms: w.kms, psk: w.pskOf(resolver), nowMs: at });
  return { request, trInit, pending, resInit };
}

describe('tickets', () => {
  it('expired ticket → MikeyTicketError expired at the KMS', () => {
    const w = world();
    const g = fullFlowUntilResolve(w, 'designated-device', w.bob, { resolveAt: T0 + 2 * 3_600_000 });
    const e = caught(() => verifyResolveInit(g.resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 + 2 * 3_600_000 }));
    expect(e).toBeInstanceOf(MikeyTicketError);
    expect((e as MikeyTicketError).reason).toBe('expired');
  });
  it('ticket not yet valid → MikeyTicketError not-yet-valid', () => {
    const w = world();
    const g = fullFlowUntilResolve(w, 'designated-device', w.bob, { validFromMs: T0 + 600_000, validToMs: T0 + 900_000 });
    expect(caught(() => verifyResolveInit(g.resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 }))).toMatchObject({ reason: 'not-yet-valid' });
  });
  it('requested validity beyond the maximum is shortened and flagged K', () => {
    const w = world();
    const reqInit = buildRequestInit({ initiator: w.alice, kms: w.kms, psk: w.pskOf(w.alice), responders: [w.bob], policy: 'designated-device', nowMs: T0, validToMs: T0 + 10 * 86_400_000 });
    const vReq = verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 });
    const issued = buildRequestResp(vReq, { codec: w.codec, kms: w.kms, nowMs: T0, maxValidityMs: 3_600_000 });
    expect(issued.validToMs).toBe(T0 + 3_600_000);
    expect(issued.ticket.flags.K).toBe(true);
    const r = verifyRequestResp(issued.bytes, reqInit.state, { nowMs: T0 });
    expect(r.validToMs).toBe(T0 + 3_600_000);
  });
  it('a forged ticket (policy widened in the clear, or ticket data altered, re-sent in a correctly MACed RESOLVE_INIT) → ticket MAC failure', () => {
    const w = world();
    const g = fullFlowUntilResolve(w, 'designated-device', w.bob2);
    const t = g.pending.ticket;
    const widened = { ...t, tpData: t.tpData!.map((p) => (p.kind === 'GENERAL_EXT' ? { ...p, data: Uint8Array.from(p.data, (b, j) => (j === p.data.length - 1 ? 3 : b)) } : p)) };
    const altered = { ...t, ticketData: Uint8Array.from(t.ticketData, (b, j) => (j === 45 ? b ^ 0x80 : b)) };
    for (const ticket of [widened, altered]) {
      const ri = buildResolveInit({ ticket, responder: w.bob2, kms: w.kms, psk: w.pskOf(w.bob2), nowMs: T0 });
      const e = caught(() => verifyResolveInit(ri.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 }));
      expect(e).toBeInstanceOf(MikeyAuthError);
      expect((e as MikeyAuthError).reason).toBe('ticket-mac-mismatch');
    }
    // A ticket from another KMS (different master key).
    const other = new KmsTicketCodec({ masterKeys: { 7: new Uint8Array(32).fill(9) }, currentKeyId: 7 });
    const g2 = fullFlowUntilResolve(w, 'designated-device', w.bob);
    expect(caught(() => verifyResolveInit(g2.resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: other, nowMs: T0 }))).toMatchObject({ reason: 'ticket-mac-mismatch' });
  });
  it('the Responder refuses keys resolved for another ticket', () => {
    const w = world();
    const a = fullFlow(w);
    const b = fullFlowUntilResolve(world(), 'designated-device');
    // Keys of another ticket: the TRANSFER_INIT MAC fails.
    expect(caught(() => completeTransferInit(b.pending, a.resolved, { replayCache: new ReplayCache(), nowMs: T0 }))).toBeInstanceOf(MikeyAuthError);
    // Right keys, but labelled with another ticket (API misuse): refused after the MAC.
    expect(caught(() => completeTransferInit(parseTransferInit(a.trInit.bytes), { ...a.resolved, ticket: b.pending.ticket }, { replayCache: new ReplayCache(), nowMs: T0 }))).toMatchObject({ name: 'MikeyProtocolError', reason: 'key-data' });
  });
});

describe('RFC 6043 sec. 6.1 header rule', () => {
  it('a correctly MACed TRANSFER_INIT with an SRTP-ID map is refused (SHALL NOT)', () => {
    const w = world();
    const f = fullFlow(w);
    const m = structuredClone(f.trInit.message);
    m.header.csIdMap = { type: 'srtp-id', entries: [{ policyNo: 0, ssrc: 1, roc: 0 }] };
    const k = deriveTicketMessageKeys(f.request.mpki, m.header.csbId, 'initial', { randRi: f.trInit.state.randRi }, { encrAlg: 0, macAlg: 2, hash: 'sha256' });
    const bytes = signMessage(m, k.authKey, { identities: [w.alice.data, w.bob.data] });
    expect(caught(() => completeTransferInit(parseTransferInit(bytes), f.resolved, { replayCache: new ReplayCache(), nowMs: T0 }))).toMatchObject({ name: 'MikeyProtocolError', reason: 'invalid-header' });
  });
});

describe('replay and freshness', () => {
  it('REQUEST_INIT, RESOLVE_INIT and TRANSFER_INIT replays → MikeyReplayError', () => {
    const w = world();
    const f = fullFlow(w);
    expect(caught(() => verifyRequestInit(f.reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: w.kmsCache, nowMs: T0 + 1000 }))).toMatchObject({ name: 'MikeyReplayError', reason: 'replayed' });
    expect(caught(() => verifyResolveInit(f.resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: w.kmsCache, codec: w.codec, nowMs: T0 + 1000 }))).toBeInstanceOf(MikeyReplayError);
    expect(caught(() => completeTransferInit(parseTransferInit(f.trInit.bytes), f.resolved, { replayCache: w.bobCache, nowMs: T0 + 1000 }))).toBeInstanceOf(MikeyReplayError);
  });
  it('responses are accepted once per request state', () => {
    const w = world();
    const f = fullFlow(w);
    expect(caught(() => verifyRequestResp(f.reqResp.bytes, f.reqInit.state, { nowMs: T0 }))).toBeInstanceOf(MikeyReplayError);
    expect(caught(() => verifyResolveResp(f.resResp.bytes, f.resInit.state, { nowMs: T0 }))).toBeInstanceOf(MikeyReplayError);
    expect(caught(() => verifyTransferResp(f.trResp.bytes, f.trInit.state, { nowMs: T0 }))).toBeInstanceOf(MikeyReplayError);
  });
  it('stale or future timestamps → MikeyTimestampError (after the MAC check)', () => {
    const w = world();
    const reqInit = buildRequestInit({ initiator: w.alice, kms: w.kms, psk: w.pskOf(w.alice), responders: [w.bob], policy: 'designated-device', nowMs: T0 });
    expect(caught(() => verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 + 6 * 60_000 }))).toBeInstanceOf(MikeyTimestampError);
    expect(caught(() => verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 - 6 * 60_000 }))).toBeInstanceOf(MikeyTimestampError);
    expect(verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 + 6 * 60_000, windowMs: 10 * 60_000 }).initiator).toEqual(w.alice);
  });
});

describe('keys and identities', () => {
  it('unknown Initiator, wrong PSK, wrong KMS identity', () => {
    const w = world();
    const stranger = uriIdentity('sip:mallory@evil.example');
    const r1 = buildRequestInit({ initiator: stranger, kms: w.kms, psk: new Uint8Array(32), responders: [w.bob], policy: 'designated-device', nowMs: T0 });
    expect(caught(() => verifyRequestInit(r1.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 }))).toMatchObject({ reason: 'unknown-key' });
    const r2 = buildRequestInit({ initiator: w.alice, kms: w.kms, psk: w.pskOf(w.bob), responders: [w.bob], policy: 'designated-device', nowMs: T0 });
    expect(caught(() => verifyRequestInit(r2.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 }))).toMatchObject({ reason: 'mac-mismatch', payloadType: 9 });
    const r3 = buildRequestInit({ initiator: w.alice, kms: uriIdentity('https://other-kms.example'), psk: w.pskOf(w.alice), responders: [w.bob], policy: 'designated-device', nowMs: T0 });
    expect(caught(() => verifyRequestInit(r3.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 }))).toBeInstanceOf(MikeyAuthError);
  });
  it('a Responder cannot resolve with another Responder’s identity', () => {
    const w = world();
    const g = fullFlowUntilResolve(w, 'designated-device', w.bob);
    // carol claims to be bob but only knows her own PSK.
    const forged = buildResolveInit({ ticket: g.pending.ticket, responder: w.bob, kms: w.kms, psk: w.pskOf(w.carol), nowMs: T0 });
    expect(caught(() => verifyResolveInit(forged.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 }))).toMatchObject({ reason: 'mac-mismatch' });
  });
  it('a response for another request fails its MAC (keys bind the CSB ID and RAND of the request)', () => {
    const w = world();
    const a = fullFlow(w);
    const b = fullFlow(world());
    expect(caught(() => verifyResolveResp(a.resResp.bytes, { ...b.resInit.state, once: new OneShot() }, { nowMs: T0 }))).toMatchObject({ reason: 'mac-mismatch' });
    expect(caught(() => verifyTransferResp(a.trResp.bytes, { ...b.trInit.state, once: new OneShot() }, { nowMs: T0 }))).toMatchObject({ reason: 'mac-mismatch' });
    expect(caught(() => verifyRequestResp(a.reqInit.bytes, { ...b.reqInit.state, once: new OneShot() }, { nowMs: T0 }))).toMatchObject({ reason: 'unexpected-data-type', errNo: 11 });
  });
});

describe('tampering: every octet of every MACed message', () => {
  const w = world();
  const f = fullFlow(w);
  type Verify = (b: Uint8Array) => unknown;
  const verifiers: [string, Uint8Array, Verify][] = [
    ['REQUEST_INIT', f.reqInit.bytes, (b) => verifyRequestInit(b, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), nowMs: T0 })],
    ['REQUEST_RESP', f.reqResp.bytes, (b) => verifyRequestResp(b, { ...f.reqInit.state, once: new OneShot() }, { nowMs: T0 })],
    ['TRANSFER_INIT', f.trInit.bytes, (b) => completeTransferInit(parseTransferInit(b), f.resolved, { replayCache: new ReplayCache(), nowMs: T0 })],
    ['RESOLVE_INIT', f.resInit.bytes, (b) => verifyResolveInit(b, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: new ReplayCache(), codec: w.codec, nowMs: T0 })],
    ['RESOLVE_RESP', f.resResp.bytes, (b) => verifyResolveResp(b, { ...f.resInit.state, once: new OneShot() }, { nowMs: T0 })],
    ['TRANSFER_RESP', f.trResp.bytes, (b) => verifyTransferResp(b, { ...f.trInit.state, once: new OneShot() }, { nowMs: T0 })],
  ];
  it.each(verifiers)('%s: the untouched message verifies; each flipped octet is refused, as a MAC failure whenever it still parses', (_name, bytes, verify) => {
    verify(bytes);
    let macFailures = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = Uint8Array.from(bytes);
      b[i]! ^= 0x01;
      const e = caught(() => verify(b));
      expect(e, `octet ${i} accepted`).toBeInstanceOf(MikeyError);
      let m: MikeyMessage | undefined;
      try {
        const lm = decodeMessageWithOffsets(b);
        validateGrammar(lm.message, lm.offsets);
        m = lm.message;
      } catch {
        m = undefined;
      }
      const sameShape = m !== undefined && m.header.dataType === bytes[1] && m.header.prf <= 1;
      if (sameShape) {
        expect(e, `octet ${i}: ${(e as Error).message}`).toBeInstanceOf(MikeyAuthError);
        macFailures++;
      }
    }
    expect(macFailures).toBeGreaterThan(bytes.length / 2);
  });
});
