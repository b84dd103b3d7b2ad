/**
 * Ticket Resolve exchange, PSK variant (RFC 6043 sec. 4.3), Responder ↔ KMS:
 *
 *   RESOLVE_INIT_PSK = HDR, T, RANDRr, [IDRr], [IDRkms], TICKET, [IDRpsk], V
 *   RESOLVE_RESP     = HDR, T, [IDRkms], KEMAC, [IDRr], [RANDRkms], V
 *
 * HDR: V = 1 on the request, #CS = 0, Empty map. Keys: RFC 6043 sec. 5.1.2
 * from the Responder–KMS pre-shared key, direction 0x01 / 0x02, with RANDRr
 * in the RANDRr slot (RANDRi empty). MAC input: message || IDRr data ||
 * IDRkms data [|| T of the request]. KEMAC: MPKr, TGK.
 *
 * The KMS opens the ticket with its {@link KmsTicketCodec} (ticket MAC and
 * validity) and then applies the ticket's resolution policy to the
 * authenticated Responder.
 */
import { DataType, IdRole, KeyDataType, MacAlg, RandRole } from '../codes.ts';
import { MikeyAuthError, MikeyProtocolError, MikeyTicketError } from '../errors.ts';
import { defaultUserOf, idrPayload, identitiesEqual, identityToString, type MikeyIdentity } from '../identity.ts';
import { openKemac, sealKemac } from '../kemac-crypto.ts';
import { deriveForkedKeys, deriveTicketMessageKeys } from '../key-derivation.ts';
import { prfHash } from '../prf.ts';
import { signMessage, verifyMessageMac } from '../mac.ts';
import type { MikeyMessage } from '../message.ts';
import type { ReplayCache } from '../replay.ts';
import type { KeyData, TicketPayload, TPayload } from '../payloads/types.ts';
import type { KmsTicketCodec, OpenedTicket } from '../ticket.ts';
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
  timestampPayload,
  type BuiltMessage,
  type ExchangeAlgorithms,
  type FreshnessOptions,
} from './common.ts';
import type { PskLookup } from './request.ts';

/** Input of {@link buildResolveInit}. */
export interface ResolveInitInput {
  /** The TICKET received in TRANSFER_INIT (see parseTransferInit). */
  ticket: TicketPayload;
  responder: MikeyIdentity;
  kms: MikeyIdentity;
  /** Secret shared by the Responder and the KMS. */
  psk: Uint8Array;
  pskId?: MikeyIdentity;
  nowMs?: number;
  csbId?: number;
  randRr?: Uint8Array;
  algorithms?: Partial<ExchangeAlgorithms>;
}

/** What the Responder keeps to verify RESOLVE_RESP. */
export interface ResolveInitState {
  readonly psk: Uint8Array;
  readonly csbId: number;
  readonly randRr: Uint8Array;
  readonly t: TPayload;
  readonly prf: number;
  readonly responder: MikeyIdentity;
  readonly kms: MikeyIdentity;
  readonly ticket: TicketPayload;
  readonly once: OneShot;
}

/** Builds RESOLVE_INIT_PSK (RFC 6043 sec. 4.3.1). */
export function buildResolveInit(i: ResolveInitInput): BuiltMessage & { state: ResolveInitState } {
  const a = { ...DEFAULT_ALGORITHMS, ...i.algorithms };
  const now = i.nowMs ?? Date.now();
  const csbId = i.csbId ?? randomCsbId();
  const randRr = i.randRr ?? random(16);
  const t = timestampPayload(now);
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.RESOLVE_INIT_PSK, v: true, prf: a.prf, csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [t, { kind: 'RANDR', role: RandRole.RESPONDER, rand: randRr }, idrPayload(IdRole.RESPONDER, i.responder), idrPayload(IdRole.KMS, i.kms), i.ticket],
  };
  if (i.pskId) message.payloads.push(idrPayload(IdRole.PSK, i.pskId));
  message.payloads.push({ kind: 'V', macAlg: a.macAlg, mac: new Uint8Array(0) });
  const k = deriveTicketMessageKeys(i.psk, csbId, 'initial', { randRr }, keyAlgs(a.prf, a.encrAlg, a.macAlg));
  const bytes = signMessage(message, k.authKey, { identities: [i.responder.data, i.kms.data] });
  return { bytes, message, state: { psk: i.psk, csbId, randRr, t, prf: a.prf, responder: i.responder, kms: i.kms, ticket: i.ticket, once: new OneShot() } };
}

/** Options of {@link verifyResolveInit}. */
export interface ResolveVerifyOptions extends FreshnessOptions {
  kms: MikeyIdentity;
  lookupPsk: PskLookup;
  replayCache: ReplayCache;
  codec: KmsTicketCodec;
  /** User of a device identity, for 'any-device-of-user' (default {@link defaultUserOf}). */
  userOf?: (id: MikeyIdentity) => string;
  /** Extra check for 'retargeting' (default: any authenticated Responder may resolve). */
  mayRetarget?: (ticket: OpenedTicket, responder: MikeyIdentity) => boolean;
}

/** An authenticated, authorised RESOLVE_INIT_PSK. */
export interface VerifiedResolveInit {
  message: MikeyMessage;
  responder: MikeyIdentity;
  psk: Uint8Array;
  csbId: number;
  prf: number;
  macAlg: number;
  randRr: Uint8Array;
  t: TPayload;
  ticket: OpenedTicket;
  /** True when the resolving Responder is not the ticket's IDRr (allowed by the policy). */
  redirected: boolean;
}

/**
 * KMS side: verifies RESOLVE_INIT_PSK (MAC first, then timestamp and
 * replay), opens the ticket (ticket MAC, validity) and applies the
 * resolution policy. Refusals: {@link MikeyAuthError}, {@link MikeyTicketError}
 * ('expired', 'resolver-not-allowed', ...), {@link MikeyTimestampError},
 * {@link MikeyReplayError}.
 */
export function verifyResolveInit(bytes: Uint8Array, o: ResolveVerifyOptions): VerifiedResolveInit {
  const { message: m } = decodeExpecting(bytes, DataType.RESOLVE_INIT_PSK);
  const claimed = idOf(findIdr(m, IdRole.RESPONDER));
  const found = o.lookupPsk({ identity: claimed, pskId: idOf(findIdr(m, IdRole.PSK)) });
  if (!found) throw new MikeyAuthError('unknown-key', 'no pre-shared key for the claimed Responder');
  const randRr = need(m, 'RANDR').rand;
  const v = lastV(m);
  const k = deriveTicketMessageKeys(found.psk, m.header.csbId, 'initial', { randRr }, keyAlgs(m.header.prf, 0, v.macAlg));
  verifyMessageMac(bytes, m, k.authKey, { identities: [found.identity.data, o.kms.data] });
  // Authentic from here on.
  const now = o.nowMs ?? Date.now();
  checkFresh(m, o, o.replayCache);
  checkIdentity(claimed, found.identity, 'IDRr');
  checkIdentity(idOf(findIdr(m, IdRole.KMS)), o.kms, 'IDRkms');
  const ticket = o.codec.open(need(m, 'TICKET'), now);
  const responder = found.identity;
  let redirected = false;
  if (!identitiesEqual(responder, ticket.responder)) {
    redirected = true;
    const userOf = o.userOf ?? defaultUserOf;
    const allowed =
      ticket.policy === 'any-device-of-user' ? userOf(responder) === userOf(ticket.responder) : ticket.policy === 'retargeting' ? (o.mayRetarget?.(ticket, responder) ?? true) : false;
    if (!allowed) {
      throw new MikeyTicketError('resolver-not-allowed', `${identityToString(responder)} may not resolve a '${ticket.policy}' ticket issued for ${identityToString(ticket.responder)}`);
    }
  }
  return { message: m, responder, psk: found.psk, csbId: m.header.csbId, prf: m.header.prf, macAlg: v.macAlg, randRr, t: need(m, 'T'), ticket, redirected };
}

/** Keys a RESOLVE_RESP hands to the Responder (the KMS may audit a fingerprint of them). */
export interface ResolvedKeys {
  mpkr: Uint8Array;
  tgk: Uint8Array;
  /** Set when the ticket forks keys (flag I): the RANDRkms the keys were forked with. */
  randRkms?: Uint8Array;
}

/**
 * KMS side: builds RESOLVE_RESP (RFC 6043 sec. 4.3.2). Without key forking
 * the KEMAC carries MPKr (= MPKi) and the TGK. With key forking (ticket flag
 * I, sec. 5.1.4) the KMS draws RANDRkms and sends MPKi || MPKr' || TGK',
 * where MPKr' and TGK' are forked from MPKr and TGK for the resolving
 * Responder's identity (IDData = IDRr) and RANDRkms; IDRr and RANDRkms go
 * with them so the Responder can relay both in TRANSFER_RESP.
 */
export function buildResolveResp(req: VerifiedResolveInit, o: { kms: MikeyIdentity; nowMs?: number; encrAlg?: number; randRkms?: Uint8Array; deferred?: boolean }): BuiltMessage & { keys: ResolvedKeys } {
  const now = o.nowMs ?? Date.now();
  const t = timestampPayload(now);
  const encrAlg = o.encrAlg ?? DEFAULT_ALGORITHMS.encrAlg;
  const k = deriveTicketMessageKeys(req.psk, req.csbId, 'response', { randRr: req.randRr }, keyAlgs(req.prf, encrAlg, req.macAlg));
  const tk = req.ticket.keys;
  const mpk = (key: Uint8Array): KeyData => ({ keyType: KeyDataType.MPK, key, kv: { kvType: 0 } });
  const tgkData = (key: Uint8Array): KeyData => (tk.tgkSalt ? { keyType: KeyDataType.TGK_SALT, key, salt: tk.tgkSalt, kv: { kvType: 0 } } : { keyType: KeyDataType.TGK, key, kv: { kvType: 0 } });
  let keys: ResolvedKeys;
  let keyData: KeyData[];
  // Deferred delivery: the Initiator is gone and will never see a RANDRkms, so the keys cannot be forked.
  if (req.ticket.flags.I && !o.deferred) {
    if (!tk.mpkr) throw new MikeyTicketError('malformed', 'a key-forking ticket (flag I) must carry MPKr');
    const randRkms = o.randRkms ?? random(16);
    const forked = deriveForkedKeys(tk.mpkr, tk.tgk, req.responder.data, randRkms, prfHash(req.ticket.prf));
    keys = { ...forked, randRkms };
    keyData = [mpk(tk.mpki), mpk(forked.mpkr), tgkData(forked.tgk)];
  } else {
    keys = { mpkr: tk.mpkr ?? tk.mpki, tgk: tk.tgk };
    // MPKi || [MPKr] || TGK: the Responder checks TRANSFER_INIT with MPKi (equal to MPKr unless the ticket has both).
    keyData = tk.mpkr ? [mpk(tk.mpki), mpk(tk.mpkr), tgkData(tk.tgk)] : [mpk(tk.mpki), tgkData(tk.tgk)];
  }
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.RESOLVE_RESP, v: false, prf: req.prf, csbId: req.csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [
      t,
      idrPayload(IdRole.KMS, o.kms),
      sealKemac(keyData, k, { encrAlg, macAlg: MacAlg.NULL, csbId: req.csbId, t: t.value }),
      idrPayload(IdRole.RESPONDER, req.responder),
    ],
  };
  if (keys.randRkms) message.payloads.push({ kind: 'RANDR', role: RandRole.KMS, rand: keys.randRkms });
  message.payloads.push({ kind: 'V', macAlg: req.macAlg, mac: new Uint8Array(0) });
  const bytes = signMessage(message, k.authKey, { identities: [req.responder.data, o.kms.data], requestTimestamp: req.t });
  return { bytes, message, keys };
}

/** What the Responder obtains from RESOLVE_RESP. */
export interface ResolveResult {
  ticket: TicketPayload;
  /** MPKi, which protects TRANSFER_INIT (equal to mpkr without key forking). */
  mpki: Uint8Array;
  /** MPKr, or MPKr' forked for this Responder (protects TRANSFER_RESP). */
  mpkr: Uint8Array;
  /** TGK, or TGK' forked for this Responder. */
  tgk: Uint8Array;
  tgkSalt?: Uint8Array;
  responder: MikeyIdentity;
  kms: MikeyIdentity;
  /** RANDRkms the keys were forked with (key forking only); goes into TRANSFER_RESP. */
  randRkms?: Uint8Array;
  /** Resolved for deferred delivery (a stored message): the ticket's own keys, not forked. */
  deferred?: boolean;
}

/** Responder side: verifies RESOLVE_RESP against its request state and opens the KEMAC. */
export function verifyResolveResp(bytes: Uint8Array, state: ResolveInitState, o: FreshnessOptions & { deferred?: boolean } = {}): ResolveResult {
  const { message: m } = decodeExpecting(bytes, DataType.RESOLVE_RESP);
  const kemac = need(m, 'KEMAC');
  const k = deriveTicketMessageKeys(state.psk, state.csbId, 'response', { randRr: state.randRr }, keyAlgs(state.prf, kemac.encrAlg, lastV(m).macAlg));
  verifyMessageMac(bytes, m, k.authKey, { identities: [state.responder.data, state.kms.data], requestTimestamp: state.t });
  // Authentic from here on.
  if (m.header.csbId !== state.csbId) throw new MikeyProtocolError('csb-mismatch', `CSB ID ${m.header.csbId} does not answer request ${state.csbId}`);
  checkFresh(m, o);
  state.once.use('RESOLVE_RESP');
  checkIdentity(idOf(findIdr(m, IdRole.KMS)), state.kms, 'IDRkms');
  checkIdentity(idOf(findIdr(m, IdRole.RESPONDER)), state.responder, 'IDRr');
  const keys = openKemac(kemac, k, { csbId: state.csbId, t: need(m, 'T').value });
  const mpks = keys.filter((x) => x.keyType === KeyDataType.MPK);
  const tgk = keys.find((x) => x.keyType === KeyDataType.TGK || x.keyType === KeyDataType.TGK_SALT);
  if (mpks.length < 1 || !tgk) throw new MikeyProtocolError('key-data', 'RESOLVE_RESP KEMAC must carry MPKr and a TGK');
  const randRkms = findRandr(m, RandRole.KMS)?.rand;
  // Key forking (ticket flag I, RFC 6043 sec. 5.1.4): MPKi, MPKr' and TGK', plus RANDRkms to relay to the Initiator.
  if (state.ticket.flags.I && !o.deferred && (mpks.length < 2 || !randRkms)) throw new MikeyProtocolError('key-data', 'RESOLVE_RESP for a key-forking ticket (flag I) must carry MPKi, MPKr\' and RANDRkms');
  const out: ResolveResult = { ticket: state.ticket, mpki: mpks[0]!.key, mpkr: (mpks[1] ?? mpks[0]!).key, tgk: tgk.key, responder: state.responder, kms: state.kms };
  if (randRkms) out.randRkms = randRkms;
  if (o.deferred) out.deferred = true;
  if (tgk.salt) out.tgkSalt = tgk.salt;
  return out;
}
