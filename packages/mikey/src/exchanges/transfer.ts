/**
 * Ticket Transfer exchange (RFC 6043 sec. 4.2), Initiator ↔ Responder,
 * carried in SDP `a=key-mgmt:mikey` (RFC 4567; see sdp.ts):
 *
 *   TRANSFER_INIT = HDR, T, RANDRi, [IDRi], [IDRr], {SP}, TICKET, [KEMAC], V
 *   TRANSFER_RESP = HDR, T, [RANDRr], [IDRr], [RANDRkms], {SP}, [KEMAC], V
 *
 * HDR: GENERIC-ID map (RFC 6043 sec. 6.1.1) with one entry per SRTP crypto
 * session; V flag of TRANSFER_INIT = Ticket Policy flag F. Keys: RFC 6043
 * sec. 5.1.2 from MPKi (TRANSFER_INIT, direction 0x01, RANDRi) and MPKr
 * (TRANSFER_RESP, 0x02, RANDRi and RANDRr); without key forking MPKr = MPKi,
 * with it (ticket flag I, RFC 6043 sec. 5.1.4) the Responder holds MPKr' and
 * TGK' forked for it and the Initiator forks its MPKr and TGK the same way
 * from the IDRr and RANDRkms of TRANSFER_RESP.
 * MAC input: message || IDRi data || IDRr data [|| T of TRANSFER_INIT], the
 * identities being those of the ticket's Ticket Policy (which the KMS
 * vouches for when it resolves the ticket) — except that TRANSFER_RESP binds
 * the identity of the Responder that actually answers.
 *
 * The Responder cannot check TRANSFER_INIT before it has MPKr: it parses
 * the message ({@link parseTransferInit}), resolves the ticket with the KMS,
 * and only then verifies it ({@link completeTransferInit}).
 */
import { DataType, IdRole, RandRole } from '../codes.ts';
import { MikeyProtocolError, MikeyTicketError } from '../errors.ts';
import type { GenericIdEntry, MikeyHeader } from '../header.ts';
import { encodeSrtpSessionData } from '../header.ts';
import { defaultUserOf, idrPayload, identitiesEqual, identityToString, type MikeyIdentity } from '../identity.ts';
import { deriveForkedKeys, deriveTicketMessageKeys } from '../key-derivation.ts';
import { prfHash } from '../prf.ts';
import { signMessage, verifyMessageMac } from '../mac.ts';
import type { MikeyMessage } from '../message.ts';
import type { ReplayCache } from '../replay.ts';
import { srtpPolicyParams } from '../payloads/sp.ts';
import type { SpPayload, TicketPayload, TPayload } from '../payloads/types.ts';
import { readTicketPolicyData } from '../ticket-policy.ts';
import { sameTicket } from '../ticket.ts';
import {
  DEFAULT_ALGORITHMS,
  OneShot,
  checkFresh,
  checkIdentity,
  decodeExpecting,
  findIdr,
  findRandr,
  idOf,
  keyAlgs,
  lastV,
  need,
  random,
  randomCsbId,
  srtpKeysFor,
  timestampPayload,
  type BuiltMessage,
  type CryptoSessionKeys,
  type ExchangeAlgorithms,
  type FreshnessOptions,
} from './common.ts';
import type { RequestResult } from './request.ts';
import type { ResolveResult } from './resolve.ts';

/** One SRTP crypto session announced in the GENERIC-ID map. */
export interface TransferSession {
  /** CS ID (default: position + 1). */
  csId?: number;
  ssrc: number;
  /** ROC and SEQ (S flag) when the stream is already running. */
  roc?: number;
  seq?: number;
  /** Policy_no of the SP payload for this session (default 0). */
  policyNo?: number;
  /** SPI / MKI (default empty). */
  spi?: Uint8Array;
}

/** Input of {@link buildTransferInit}. */
export interface TransferInitInput {
  request: RequestResult;
  sessions: TransferSession[];
  /** SP payloads (default: policy 0 = AES_CM_128_HMAC_SHA1_80). */
  securityPolicies?: SpPayload[];
  nowMs?: number;
  csbId?: number;
  randRi?: Uint8Array;
  algorithms?: Partial<Pick<ExchangeAlgorithms, 'prf' | 'macAlg'>>;
}

/** What the Initiator keeps to verify TRANSFER_RESP. */
export interface TransferInitState {
  readonly header: MikeyHeader;
  readonly sps: SpPayload[];
  readonly ticket: TicketPayload;
  readonly randRi: Uint8Array;
  readonly t: TPayload;
  readonly mpkr: Uint8Array;
  readonly tgk: Uint8Array;
  readonly initiator: MikeyIdentity;
  readonly intendedResponder: MikeyIdentity;
  readonly once: OneShot;
}

/** IDRi and IDRr of a ticket's Ticket Policy (the identities the transfer MACs bind). */
export function ticketParties(ticket: TicketPayload): { initiator: MikeyIdentity; responder: MikeyIdentity } {
  const d = readTicketPolicyData(ticket.tpData);
  const responder = d.responders[0];
  if (!d.initiator || !responder) throw new MikeyProtocolError('missing-payload', 'the ticket policy names no IDRi / IDRr');
  return { initiator: d.initiator, responder };
}

/** RFC 6043 sec. 6.1: the SRTP-ID map SHALL NOT be used in the Ticket Transfer exchange. */
function rejectSrtpIdMap(h: MikeyHeader): void {
  if (h.csIdMap.type === 'srtp-id') throw new MikeyProtocolError('invalid-header', 'the SRTP-ID CS ID map is not allowed in Ticket Transfer (RFC 6043 sec. 6.1)', 12);
}

/** The default SP: policy 0, SRTP AES_CM_128_HMAC_SHA1_80. */
export function defaultSecurityPolicy(): SpPayload {
  return { kind: 'SP', policyNo: 0, protType: 0, params: srtpPolicyParams('AES_CM_128_HMAC_SHA1_80') };
}

/** Builds TRANSFER_INIT (RFC 6043 sec. 4.2.1). */
export function buildTransferInit(i: TransferInitInput): BuiltMessage & { state: TransferInitState } {
  const a = { ...DEFAULT_ALGORITHMS, ...i.algorithms };
  const now = i.nowMs ?? Date.now();
  const csbId = i.csbId ?? randomCsbId();
  const randRi = i.randRi ?? random(16);
  const t = timestampPayload(now);
  const ticket = i.request.ticket;
  const parties = ticketParties(ticket);
  const sps = i.securityPolicies ?? [defaultSecurityPolicy()];
  const entries: GenericIdEntry[] = i.sessions.map((s, n) => ({
    csId: s.csId ?? n + 1,
    protType: 0,
    s: s.roc !== undefined,
    policies: [s.policyNo ?? 0],
    sessionData: encodeSrtpSessionData(s.roc !== undefined ? { ssrc: s.ssrc, roc: s.roc, seq: s.seq ?? 0 } : { ssrc: s.ssrc }),
    spi: s.spi ?? new Uint8Array(0),
  }));
  const header: MikeyHeader = { version: 1, dataType: DataType.TRANSFER_INIT, v: ticket.flags.F, prf: a.prf, csbId, csIdMap: { type: 'generic-id', entries } };
  const message: MikeyMessage = {
    header,
    payloads: [
      t,
      { kind: 'RANDR', role: RandRole.INITIATOR, rand: randRi },
      idrPayload(IdRole.INITIATOR, parties.initiator),
      idrPayload(IdRole.RESPONDER, parties.responder),
      ...sps,
      ticket,
      { kind: 'V', macAlg: a.macAlg, mac: new Uint8Array(0) },
    ],
  };
  const k = deriveTicketMessageKeys(i.request.mpki, csbId, 'initial', { randRi }, keyAlgs(a.prf, 0, a.macAlg));
  const bytes = signMessage(message, k.authKey, { identities: [parties.initiator.data, parties.responder.data] });
  return {
    bytes,
    message,
    state: { header, sps, ticket, randRi, t, mpkr: i.request.mpkr, tgk: i.request.tgk, initiator: parties.initiator, intendedResponder: parties.responder, once: new OneShot() },
  };
}

/** A TRANSFER_INIT whose MAC cannot be checked yet; only the ticket may be used (to resolve it). */
export interface PendingTransferInit {
  readonly bytes: Uint8Array;
  /** The TICKET to send to the KMS in RESOLVE_INIT. */
  readonly ticket: TicketPayload;
  /** Decoded but NOT authenticated; do not act on it before completeTransferInit. */
  readonly unverified: MikeyMessage;
}

/** Responder side, step 1: decodes TRANSFER_INIT (grammar checked) and extracts the ticket. */
export function parseTransferInit(bytes: Uint8Array): PendingTransferInit {
  const { message } = decodeExpecting(bytes, DataType.TRANSFER_INIT);
  return { bytes, ticket: need(message, 'TICKET'), unverified: message };
}

/** Options of {@link completeTransferInit}. */
export interface CompleteTransferOptions extends FreshnessOptions {
  replayCache: ReplayCache;
}

/** An authenticated TRANSFER_INIT with the keys resolved for it. */
export interface VerifiedTransferInit {
  message: MikeyMessage;
  header: MikeyHeader;
  sps: SpPayload[];
  ticket: TicketPayload;
  initiator: MikeyIdentity;
  intendedResponder: MikeyIdentity;
  randRi: Uint8Array;
  t: TPayload;
  mpkr: Uint8Array;
  tgk: Uint8Array;
  /** Key forking: RANDRkms, and the identity (IDRr) the KMS forked the keys for. */
  fork?: { randRkms: Uint8Array; responder: MikeyIdentity };
}

/**
 * Responder side, step 2: with the keys from RESOLVE_RESP, verifies the
 * TRANSFER_INIT MAC, then timestamp, replay and identities.
 */
export function completeTransferInit(p: PendingTransferInit, resolved: ResolveResult, o: CompleteTransferOptions): VerifiedTransferInit {
  const m = p.unverified;
  // The parties come from the ticket the KMS resolved (and so vouched for).
  const parties = ticketParties(resolved.ticket);
  const randRi = need(m, 'RANDR').rand;
  // MPKi protects TRANSFER_INIT; without key forking the KMS sends it as MPKr (they are equal).
  const k = deriveTicketMessageKeys(resolved.mpki, m.header.csbId, 'initial', { randRi }, keyAlgs(m.header.prf, 0, lastV(m).macAlg));
  verifyMessageMac(p.bytes, m, k.authKey, { identities: [parties.initiator.data, parties.responder.data] });
  // Authentic from here on.
  if (!sameTicket(p.ticket, resolved.ticket)) throw new MikeyProtocolError('key-data', 'the keys were resolved for a different ticket');
  rejectSrtpIdMap(m.header);
  checkFresh(m, o, o.replayCache);
  checkIdentity(idOf(findIdr(m, IdRole.INITIATOR)), parties.initiator, 'IDRi');
  checkIdentity(idOf(findIdr(m, IdRole.RESPONDER)), parties.responder, 'IDRr');
  const sps = m.payloads.filter((x): x is SpPayload => x.kind === 'SP');
  const out: VerifiedTransferInit = { message: m, header: m.header, sps, ticket: p.ticket, initiator: parties.initiator, intendedResponder: parties.responder, randRi, t: need(m, 'T'), mpkr: resolved.mpkr, tgk: resolved.tgk };
  if (p.ticket.flags.I && !resolved.deferred) {
    if (!resolved.randRkms) throw new MikeyProtocolError('key-data', 'the ticket forks keys (flag I) but the resolve gave no RANDRkms');
    out.fork = { randRkms: resolved.randRkms, responder: resolved.responder };
  }
  return out;
}

/** Builds TRANSFER_RESP (RFC 6043 sec. 4.2.2) and derives the SRTP keys of every crypto session. */
export function buildTransferResp(v: VerifiedTransferInit, o: { responder: MikeyIdentity; nowMs?: number; randRr?: Uint8Array }): BuiltMessage & { srtp: CryptoSessionKeys[] } {
  const now = o.nowMs ?? Date.now();
  const t = timestampPayload(now);
  const randRr = v.ticket.flags.G ? (o.randRr ?? random(16)) : undefined;
  const macAlg = lastV(v.message).macAlg;
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.TRANSFER_RESP, v: false, prf: v.header.prf, csbId: v.header.csbId, csIdMap: v.header.csIdMap },
    payloads: [t],
  };
  if (randRr) message.payloads.push({ kind: 'RANDR', role: RandRole.RESPONDER, rand: randRr });
  message.payloads.push(idrPayload(IdRole.RESPONDER, o.responder));
  if (v.fork) {
    // The Initiator forks MPKr and TGK with the IDRr and RANDRkms it reads here (RFC 6043 sec. 5.1.4).
    if (!identitiesEqual(v.fork.responder, o.responder)) {
      throw new MikeyProtocolError('key-data', `keys were forked for ${identityToString(v.fork.responder)}, but TRANSFER_RESP would name ${identityToString(o.responder)}`);
    }
    message.payloads.push({ kind: 'RANDR', role: RandRole.KMS, rand: v.fork.randRkms });
  }
  message.payloads.push({ kind: 'V', macAlg, mac: new Uint8Array(0) });
  const k = deriveTicketMessageKeys(v.mpkr, v.header.csbId, 'response', { randRi: v.randRi, randRr }, keyAlgs(v.header.prf, 0, macAlg));
  const bytes = signMessage(message, k.authKey, { identities: [v.initiator.data, o.responder.data], requestTimestamp: v.t });
  return { bytes, message, srtp: srtpKeysFor(v.header, v.sps, v.ticket, v.tgk, v.randRi, randRr) };
}

/** What the Initiator obtains from TRANSFER_RESP. */
export interface TransferResult {
  /** The Responder that answered (may differ from the intended one under the ticket's policy). */
  responder: MikeyIdentity;
  redirected: boolean;
  randRr?: Uint8Array;
  /** Key forking: the RANDRkms the Responder's keys were forked with. */
  randRkms?: Uint8Array;
  srtp: CryptoSessionKeys[];
}

/**
 * Initiator side: verifies TRANSFER_RESP and derives the SRTP keys. A
 * Responder other than the intended one is accepted only as the ticket's
 * resolution policy allows ('any-device-of-user': same user;
 * 'retargeting': any), or as `acceptResponder` decides.
 */
export function verifyTransferResp(bytes: Uint8Array, state: TransferInitState, o: FreshnessOptions & { acceptResponder?: (id: MikeyIdentity) => boolean; userOf?: (id: MikeyIdentity) => string } = {}): TransferResult {
  const { message: m } = decodeExpecting(bytes, DataType.TRANSFER_RESP);
  const responder = idOf(findIdr(m, IdRole.RESPONDER)) ?? state.intendedResponder;
  const randRr = findRandr(m, RandRole.RESPONDER)?.rand;
  // Key forking (flag I): MPKr' and TGK' for the answering Responder and the KMS's RANDRkms.
  // A wrong IDRr or RANDRkms yields other keys, so the MAC below fails.
  let { mpkr, tgk } = state;
  let forkedWith: Uint8Array | undefined;
  if (state.ticket.flags.I) {
    forkedWith = findRandr(m, RandRole.KMS)?.rand;
    if (!forkedWith) throw new MikeyProtocolError('missing-payload', 'the ticket forks keys (flag I) but TRANSFER_RESP carries no RANDRkms');
    ({ mpkr, tgk } = deriveForkedKeys(state.mpkr, state.tgk, responder.data, forkedWith, prfHash(state.ticket.prf)));
  }
  const k = deriveTicketMessageKeys(mpkr, state.header.csbId, 'response', { randRi: state.randRi, randRr }, keyAlgs(state.header.prf, 0, lastV(m).macAlg));
  verifyMessageMac(bytes, m, k.authKey, { identities: [state.initiator.data, responder.data], requestTimestamp: state.t });
  // Authentic from here on.
  if (m.header.csbId !== state.header.csbId) throw new MikeyProtocolError('csb-mismatch', `CSB ID ${m.header.csbId} does not answer TRANSFER_INIT ${state.header.csbId}`);
  rejectSrtpIdMap(m.header);
  checkFresh(m, o);
  state.once.use('TRANSFER_RESP');
  if (state.ticket.flags.G && !randRr) throw new MikeyProtocolError('missing-payload', 'ticket policy G requires RANDRr in TRANSFER_RESP');
  const redirected = !identitiesEqual(responder, state.intendedResponder);
  if (redirected) {
    const policy = readTicketPolicyData(state.ticket.tpData).policy ?? 'designated-device';
    const userOf = o.userOf ?? defaultUserOf;
    const ok = o.acceptResponder ? o.acceptResponder(responder) : policy === 'retargeting' || (policy === 'any-device-of-user' && userOf(responder) === userOf(state.intendedResponder));
    if (!ok) throw new MikeyTicketError('resolver-not-allowed', `${identityToString(responder)} answered a '${policy}' ticket for ${identityToString(state.intendedResponder)}`);
  }
  const srtp = srtpKeysFor(state.header, state.sps, state.ticket, tgk, state.randRi, randRr);
  const out: TransferResult = { responder, redirected, srtp };
  if (randRr) out.randRr = randRr;
  if (forkedWith) out.randRkms = forkedWith;
  return out;
}

/**
 * Deferred delivery (TR 33.828 4.1.2; RFC 6043 sec. 5.1.3 with no RANDRr):
 * the call was answered by a store (voicemail) that cannot resolve the
 * ticket, so no TRANSFER_RESP comes back. The Initiator keys its media from
 * the ticket's TGK and RANDRi alone; the intended Responder derives the same
 * keys later from the stored TRANSFER_INIT ({@link deferredReceiveKeys}).
 */
export function deferredTransferKeys(state: TransferInitState): CryptoSessionKeys[] {
  state.once.use('TRANSFER_RESP');
  return srtpKeysFor(state.header, state.sps, state.ticket, state.tgk, state.randRi, undefined);
}

/** The retriever's side of deferred delivery: keys of a verified stored TRANSFER_INIT resolved with `deferred`. */
export function deferredReceiveKeys(v: VerifiedTransferInit): CryptoSessionKeys[] {
  if (v.fork) throw new MikeyProtocolError('key-data', 'keys forked for a live answer cannot open a stored message: resolve it for deferred delivery');
  return srtpKeysFor(v.header, v.sps, v.ticket, v.tgk, v.randRi, undefined);
}
