/**
 * Ticket Request exchange, PSK variant (RFC 6043 sec. 4.1), Initiator ↔ KMS:
 *
 *   REQUEST_INIT_PSK = HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V
 *   REQUEST_RESP     = HDR, T, [IDRkms], TICKET, KEMAC, V
 *
 * HDR: V = 1 on the request, #CS = 0, CS ID map = Empty map (RFC 6043 sec. 6.1).
 * Keys: RFC 6043 sec. 5.1.2 from the Initiator–KMS pre-shared key, label
 * direction 0x01 (request) / 0x02 (response), RANDRi of the request.
 * MAC input (RFC 6043 sec. 5.5): message up to the MAC || IDRi data || IDRkms
 * data [|| T of the request, for the response].
 * KEMAC: MPKi, [MPKr], TGK encrypted with AES-CM (IV from the response's T),
 * NULL MAC (the V payload authenticates it).
 */
import { DataType, IdRole, KeyDataType, MacAlg, RandRole } from '../codes.ts';
import { MikeyAuthError, MikeyProtocolError, MikeyTicketError } from '../errors.ts';
import { idrPayload, type MikeyIdentity } from '../identity.ts';
import { openKemac, sealKemac } from '../kemac-crypto.ts';
import { deriveTicketMessageKeys } from '../key-derivation.ts';
import { signMessage, verifyMessageMac } from '../mac.ts';
import type { MikeyMessage } from '../message.ts';
import type { ReplayCache } from '../replay.ts';
import type { KeyData, TicketPayload, TPayload, TpPayload } from '../payloads/types.ts';
import { IMSLAB_TICKET, buildTicketPolicyData, defaultTicketFlags, readTicketPolicyData, type ResolutionPolicy } from '../ticket-policy.ts';
import type { KmsTicketCodec, TicketKeys } from '../ticket.ts';
import {
  DEFAULT_ALGORITHMS,
  OneShot,
  checkFresh,
  checkIdentity,
  decodeExpecting,
  findIdr,
  idOf,
  keyAlgs,
  lastV,
  need,
  random,
  randomCsbId,
  timestampPayload,
  type BuiltMessage,
  type ExchangeAlgorithms,
  type FreshnessOptions,
} from './common.ts';

/** Input of {@link buildRequestInit}. */
export interface RequestInitInput {
  initiator: MikeyIdentity;
  kms: MikeyIdentity;
  /** Secret shared by the Initiator and the KMS. */
  psk: Uint8Array;
  /** IDRpsk: identifies the PSK to the KMS (optional, RFC 6043 sec. 4.1.1). */
  pskId?: MikeyIdentity;
  /** Intended Responder(s), as IDRr in TP Data. */
  responders: MikeyIdentity[];
  policy: ResolutionPolicy;
  /** Desired validity (default now .. now + 1 h). */
  validFromMs?: number;
  validToMs?: number;
  nowMs?: number;
  csbId?: number;
  randRi?: Uint8Array;
  algorithms?: Partial<ExchangeAlgorithms>;
}

/** What the Initiator keeps to verify REQUEST_RESP. */
export interface RequestInitState {
  readonly psk: Uint8Array;
  readonly csbId: number;
  readonly randRi: Uint8Array;
  readonly t: TPayload;
  readonly prf: number;
  readonly initiator: MikeyIdentity;
  readonly kms: MikeyIdentity;
  readonly once: OneShot;
}

/** Builds REQUEST_INIT_PSK (RFC 6043 sec. 4.1.1). */
export function buildRequestInit(i: RequestInitInput): BuiltMessage & { state: RequestInitState } {
  const a = { ...DEFAULT_ALGORITHMS, ...i.algorithms };
  const now = i.nowMs ?? Date.now();
  const csbId = i.csbId ?? randomCsbId();
  const randRi = i.randRi ?? random(16);
  const t = timestampPayload(now);
  const tp: TpPayload = {
    kind: 'TP',
    ...IMSLAB_TICKET,
    prf: a.prf,
    flags: defaultTicketFlags({ D: true }),
    tpData: buildTicketPolicyData({ initiator: i.initiator, validFromMs: i.validFromMs ?? now, validToMs: i.validToMs ?? now + 3_600_000, responders: i.responders, policy: i.policy }),
  };
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.REQUEST_INIT_PSK, v: true, prf: a.prf, csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [t, { kind: 'RANDR', role: RandRole.INITIATOR, rand: randRi }, idrPayload(IdRole.INITIATOR, i.initiator), idrPayload(IdRole.KMS, i.kms), tp],
  };
  if (i.pskId) message.payloads.push(idrPayload(IdRole.PSK, i.pskId));
  message.payloads.push({ kind: 'V', macAlg: a.macAlg, mac: new Uint8Array(0) });
  const k = deriveTicketMessageKeys(i.psk, csbId, 'initial', { randRi }, keyAlgs(a.prf, a.encrAlg, a.macAlg));
  const bytes = signMessage(message, k.authKey, { identities: [i.initiator.data, i.kms.data] });
  return { bytes, message, state: { psk: i.psk, csbId, randRi, t, prf: a.prf, initiator: i.initiator, kms: i.kms, once: new OneShot() } };
}

/** The KMS's answer to "which PSK?" for a claimed identity. */
export interface PskLookupResult {
  psk: Uint8Array;
  /** The identity this PSK belongs to (the authenticated peer once the MAC verifies). */
  identity: MikeyIdentity;
}

/** Looks up a pre-shared key from what the message claims (IDRi/IDRr and IDRpsk); undefined = unknown. */
export type PskLookup = (claim: { identity?: MikeyIdentity; pskId?: MikeyIdentity }) => PskLookupResult | undefined;

/** Options of {@link verifyRequestInit}. */
export interface KmsVerifyOptions extends FreshnessOptions {
  kms: MikeyIdentity;
  lookupPsk: PskLookup;
  replayCache: ReplayCache;
}

/** An authenticated REQUEST_INIT_PSK. */
export interface VerifiedRequestInit {
  message: MikeyMessage;
  initiator: MikeyIdentity;
  psk: Uint8Array;
  csbId: number;
  prf: number;
  macAlg: number;
  randRi: Uint8Array;
  t: TPayload;
  tp: TpPayload;
  responders: MikeyIdentity[];
  policy: ResolutionPolicy;
  validFromMs?: number;
  validToMs?: number;
}

/**
 * KMS side: verifies REQUEST_INIT_PSK. Before the MAC only the PSK-selecting
 * claims (IDRi, IDRpsk) and the key-derivation inputs (CSB ID, PRF, RANDRi)
 * are read; then timestamp, replay, identities and the Ticket Policy.
 */
export function verifyRequestInit(bytes: Uint8Array, o: KmsVerifyOptions): VerifiedRequestInit {
  const { message: m } = decodeExpecting(bytes, DataType.REQUEST_INIT_PSK);
  const claimed = idOf(findIdr(m, IdRole.INITIATOR));
  const found = o.lookupPsk({ identity: claimed, pskId: idOf(findIdr(m, IdRole.PSK)) });
  if (!found) throw new MikeyAuthError('unknown-key', 'no pre-shared key for the claimed Initiator');
  const randRi = need(m, 'RANDR').rand;
  const v = lastV(m);
  const k = deriveTicketMessageKeys(found.psk, m.header.csbId, 'initial', { randRi }, keyAlgs(m.header.prf, 0, v.macAlg));
  verifyMessageMac(bytes, m, k.authKey, { identities: [found.identity.data, o.kms.data] });
  // Authentic from here on.
  checkFresh(m, o, o.replayCache);
  checkIdentity(claimed, found.identity, 'IDRi');
  checkIdentity(idOf(findIdr(m, IdRole.KMS)), o.kms, 'IDRkms');
  const tp = need(m, 'TP');
  if (tp.ticketType !== IMSLAB_TICKET.ticketType) throw new MikeyTicketError('unsupported-ticket-type', `ticket type ${tp.ticketType} requested; this KMS issues type 2`);
  const d = readTicketPolicyData(tp.tpData);
  if (d.responders.length === 0) throw new MikeyProtocolError('missing-payload', 'TP Data names no Responder (IDRr)', 15);
  const out: VerifiedRequestInit = {
    message: m,
    initiator: found.identity,
    psk: found.psk,
    csbId: m.header.csbId,
    prf: m.header.prf,
    macAlg: v.macAlg,
    randRi,
    t: need(m, 'T'),
    tp,
    responders: d.responders,
    policy: d.policy ?? 'designated-device',
  };
  if (d.validFromMs !== undefined) out.validFromMs = d.validFromMs;
  if (d.validToMs !== undefined) out.validToMs = d.validToMs;
  return out;
}

/** Options of {@link buildRequestResp}. */
export interface RequestRespOptions {
  codec: KmsTicketCodec;
  kms: MikeyIdentity;
  nowMs?: number;
  /** Longest validity granted (default 24 h); longer requests are shortened (flag K set). */
  maxValidityMs?: number;
  /** Key lengths (default 32-octet MPK and TGK). */
  mpkLength?: number;
  tgkLength?: number;
  /** KEMAC encryption (default AES-CM-128). */
  encrAlg?: number;
  /** Issue this policy instead of the requested one (flag K set). */
  policy?: ResolutionPolicy;
  /**
   * Key forking (RFC 6043 sec. 5.1.4, Ticket Policy flag I): each resolving
   * Responder gets its own MPKr' and TGK'. Default: on for every policy that
   * lets more than one device resolve ('any-device-of-user', 'retargeting').
   */
  keyForking?: boolean;
  /** The TGK to issue (a group's key, TR 33.828 4.1.3) instead of a fresh one. */
  tgk?: Uint8Array;
}

/** REQUEST_RESP and what was issued (the KMS may log or store it). */
export interface IssuedTicket extends BuiltMessage {
  ticket: TicketPayload;
  keys: TicketKeys;
  validFromMs: number;
  validToMs: number;
  policy: ResolutionPolicy;
}

/** KMS side: issues a ticket and builds REQUEST_RESP (RFC 6043 sec. 4.1.2). */
export function buildRequestResp(req: VerifiedRequestInit, o: RequestRespOptions): IssuedTicket {
  const now = o.nowMs ?? Date.now();
  const maxValidity = o.maxValidityMs ?? 86_400_000;
  const from = Math.max(req.validFromMs ?? now, now);
  const wantTo = req.validToMs ?? from + 3_600_000;
  const to = Math.min(wantTo, now + maxValidity);
  if (!(to > from)) throw new MikeyTicketError('policy-mismatch', 'requested validity is empty or already over');
  const policy = o.policy ?? req.policy;
  const changed = to !== wantTo || policy !== req.policy || (req.validFromMs !== undefined && from !== req.validFromMs);
  const forking = o.keyForking ?? (policy === 'any-device-of-user' || policy === 'retargeting');
  // With forking the Initiator needs MPKr apart from MPKi: the Responder gets MPKr' (derived from MPKr),
  // yet must still check TRANSFER_INIT, which MPKi protects (RFC 6043 sec. 4.3.2 sends it MPKi too).
  const keys: TicketKeys = { mpki: random(o.mpkLength ?? 32), tgk: o.tgk ?? random(o.tgkLength ?? 32) };
  if (forking) keys.mpkr = random(o.mpkLength ?? 32);
  const ticket = o.codec.seal({
    initiator: req.initiator,
    responder: req.responders[0]!,
    policy,
    validFromMs: from,
    validToMs: to,
    issuedAtMs: now,
    keys,
    kms: o.kms,
    flags: forking ? { K: changed, I: true } : { K: changed },
    prf: req.tp.prf <= 1 ? req.tp.prf : req.prf,
  });
  const t = timestampPayload(now);
  const encrAlg = o.encrAlg ?? DEFAULT_ALGORITHMS.encrAlg;
  const k = deriveTicketMessageKeys(req.psk, req.csbId, 'response', { randRi: req.randRi }, keyAlgs(req.prf, encrAlg, req.macAlg));
  // KEMAC = E(encr_key, MPKi || [MPKr] || TGK), RFC 6043 sec. 4.1.2.
  const keyData: KeyData[] = [{ keyType: KeyDataType.MPK, key: keys.mpki, kv: { kvType: 0 } }];
  if (keys.mpkr) keyData.push({ keyType: KeyDataType.MPK, key: keys.mpkr, kv: { kvType: 0 } });
  keyData.push({ keyType: KeyDataType.TGK, key: keys.tgk, kv: { kvType: 0 } });
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.REQUEST_RESP, v: false, prf: req.prf, csbId: req.csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [
      t,
      idrPayload(IdRole.KMS, o.kms),
      ticket,
      sealKemac(keyData, k, { encrAlg, macAlg: MacAlg.NULL, csbId: req.csbId, t: t.value }),
      { kind: 'V', macAlg: req.macAlg, mac: new Uint8Array(0) },
    ],
  };
  const bytes = signMessage(message, k.authKey, { identities: [req.initiator.data, o.kms.data], requestTimestamp: req.t });
  return { bytes, message, ticket, keys, validFromMs: from, validToMs: to, policy };
}

/** What the Initiator obtains from REQUEST_RESP. */
export interface RequestResult {
  ticket: TicketPayload;
  mpki: Uint8Array;
  /** MPKr, equal to MPKi unless the KMS sent a separate one. */
  mpkr: Uint8Array;
  tgk: Uint8Array;
  tgkSalt?: Uint8Array;
  initiator: MikeyIdentity;
  kms: MikeyIdentity;
  /** Ticket Policy as the KMS issued it (clear part of the ticket). */
  responders: MikeyIdentity[];
  policy?: ResolutionPolicy;
  validFromMs?: number;
  validToMs?: number;
}

/** Initiator side: verifies REQUEST_RESP against the state of its request and opens the KEMAC. */
export function verifyRequestResp(bytes: Uint8Array, state: RequestInitState, o: FreshnessOptions = {}): RequestResult {
  const { message: m } = decodeExpecting(bytes, DataType.REQUEST_RESP);
  const kemac = need(m, 'KEMAC');
  // Keys from the request's CSB ID: a response to another request fails the MAC.
  const k = deriveTicketMessageKeys(state.psk, state.csbId, 'response', { randRi: state.randRi }, keyAlgs(state.prf, kemac.encrAlg, lastV(m).macAlg));
  verifyMessageMac(bytes, m, k.authKey, { identities: [state.initiator.data, state.kms.data], requestTimestamp: state.t });
  // Authentic from here on.
  if (m.header.csbId !== state.csbId) throw new MikeyProtocolError('csb-mismatch', `CSB ID ${m.header.csbId} does not answer request ${state.csbId}`);
  checkFresh(m, o);
  state.once.use('REQUEST_RESP');
  checkIdentity(idOf(findIdr(m, IdRole.KMS)), state.kms, 'IDRkms');
  const t = need(m, 'T');
  const keys = openKemac(kemac, k, { csbId: state.csbId, t: t.value });
  const mpks = keys.filter((x) => x.keyType === KeyDataType.MPK);
  const tgk = keys.find((x) => x.keyType === KeyDataType.TGK || x.keyType === KeyDataType.TGK_SALT);
  if (mpks.length < 1 || !tgk) throw new MikeyProtocolError('key-data', 'REQUEST_RESP KEMAC must carry MPKi and a TGK');
  const ticket = need(m, 'TICKET');
  if (ticket.flags.I && mpks.length < 2) throw new MikeyProtocolError('key-data', 'a key-forking ticket (flag I) needs MPKr in the REQUEST_RESP KEMAC, next to MPKi');
  const d = readTicketPolicyData(ticket.tpData);
  const out: RequestResult = { ticket, mpki: mpks[0]!.key, mpkr: (mpks[1] ?? mpks[0]!).key, tgk: tgk.key, initiator: state.initiator, kms: state.kms, responders: d.responders };
  if (tgk.salt) out.tgkSalt = tgk.salt;
  if (d.policy) out.policy = d.policy;
  if (d.validFromMs !== undefined) out.validFromMs = d.validFromMs;
  if (d.validToMs !== undefined) out.validToMs = d.validToMs;
  return out;
}
