import {
  buildTransferInit, buildTransferResp, completeTransferInit, decodeKeyMgmtAttribute, deferredReceiveKeys, deferredTransferKeys, defaultUserOf,
  deriveSrtpFromTicketTgk, encodeKeyMgmtAttribute, identitiesEqual, prfHash, ReplayCache,
  identityToString, parseTransferInit, readTicketPolicyData, verifyTransferResp,
  type CryptoSessionKeys, type MikeyIdentity, type ResolutionPolicy, type TransferInitState,
} from '@imslab/mikey';
import { isMikeyKeyMgmt } from '@imslab/sdp';
import { isSrtpProfileName } from '@imslab/srtp';
import { KmsFailure, type KmsAgent } from './kms-agent.ts';
import { derivedSrtpKey, type SrtpKey } from './media-security.ts';

/**
 * MIKEY-TICKET (RFC 6043) in SDP offer/answer (RFC 4567): the caller's
 * Ticket Request and TRANSFER_INIT, the callee's Ticket Resolve and
 * TRANSFER_RESP, the caller's check of TRANSFER_RESP, and the SRTP keys
 * derived from the TGK (RFC 6043 sec. 5.1.3).
 *
 * Crypto sessions (the GENERIC-ID CS ID map of TRANSFER_INIT, RFC 6043
 * sec. 6.1.1): one per direction. CS 1 is the offerer's stream (its SSRC),
 * CS 2 the answerer's (SSRC 0: not known when offering); each side protects
 * with its own CS and verifies with the other.
 */

/** CS ID of the offerer's (Initiator's) stream. */
export const OFFERER_CS = 1;
/** CS ID of the answerer's (Responder's) stream. */
export const ANSWERER_CS = 2;

/** The caller's MIKEY state between offer and answer. */
export interface MikeyPendingOffer {
  /** Value of our `a=key-mgmt` line: `mikey <base64 TRANSFER_INIT>`. */
  keyMgmt: string;
  state: TransferInitState;
  policy: ResolutionPolicy;
}

/** Keys and the KMS-vouched peer of a finished MIKEY-TICKET exchange. */
export interface MikeyKeys {
  tx: SrtpKey;
  rx: SrtpKey;
  peer: string;
}

/** An SrtpKey for one crypto session's master key and salt (as an inline key, so the SRTP layer needs nothing new). */
export function srtpKeyFromMikey(k: CryptoSessionKeys): SrtpKey {
  if (!isSrtpProfileName(k.profile)) throw new Error(`MIKEY crypto session ${k.csId} uses ${k.profile}, which the SRTP layer does not support`);
  return derivedSrtpKey({ masterKey: k.masterKey, masterSalt: k.masterSalt }, k.profile, 'mikey-ticket', k.csId);
}

function pickKeys(srtp: CryptoSessionKeys[], txCs: number, rxCs: number): { tx: SrtpKey; rx: SrtpKey } {
  const tx = srtp.find((k) => k.csId === txCs);
  const rx = srtp.find((k) => k.csId === rxCs);
  if (!tx || !rx) throw new Error(`the CS ID map lacks crypto session ${!tx ? txCs : rxCs} (one session per direction expected)`);
  return { tx: srtpKeyFromMikey(tx), rx: srtpKeyFromMikey(rx) };
}

/** The first `mikey` value among a=key-mgmt values (RFC 4567 sec. 3.1), or undefined. */
export function mikeyValueOf(keyMgmt: readonly string[] | undefined): string | undefined {
  return (keyMgmt ?? []).find(isMikeyKeyMgmt);
}

/**
 * Caller: Ticket Request to the KMS for `responder` under `policy`, then
 * TRANSFER_INIT announcing both crypto sessions. Throws KmsFailure.
 */
export async function createMikeyOffer(kms: KmsAgent, o: { responder: MikeyIdentity; policy: ResolutionPolicy; ssrc: number }): Promise<MikeyPendingOffer> {
  const request = await kms.requestTicket(o.responder, o.policy);
  let init;
  try {
    init = buildTransferInit({ request, sessions: [{ csId: OFFERER_CS, ssrc: o.ssrc }, { csId: ANSWERER_CS, ssrc: 0 }] });
  } catch (e) {
    throw new KmsFailure('bad-response', `cannot build TRANSFER_INIT from the issued ticket: ${(e as Error).message}`);
  }
  return { keyMgmt: encodeKeyMgmtAttribute(init.bytes), state: init.state, policy: request.policy ?? o.policy };
}

/**
 * Caller: verifies TRANSFER_RESP (RFC 6043 sec. 4.2.2) and derives the keys.
 * A Responder other than the intended one is accepted as the ticket's
 * policy allows: 'retargeting' anyone, 'any-device-of-user' the same user,
 * 'designated-device' whoever answers with MPKr, which the KMS released only
 * to the designated device (the Responder names its user, not its device).
 */
export function completeMikeyOffer(p: MikeyPendingOffer, value: string): { ok: true; keys: MikeyKeys } | { ok: false; reason: string } {
  try {
    const { bytes } = decodeKeyMgmtAttribute(value);
    const intended = p.state.intendedResponder;
    const r = verifyTransferResp(bytes, p.state, {
      acceptResponder: (id) => p.policy === 'retargeting' || p.policy === 'designated-device' || defaultUserOf(id) === defaultUserOf(intended),
    });
    return { ok: true, keys: { ...pickKeys(r.srtp, OFFERER_CS, ANSWERER_CS), peer: identityToString(r.responder) } };
  } catch (e) {
    return { ok: false, reason: `TRANSFER_RESP rejected: ${(e as Error).message}` };
  }
}

/** The callee's answer, or why it must refuse the offer (always 488; `kmsRefusal` set when the KMS said no). */
export type MikeyAnswer =
  | { ok: true; keyMgmt: string; keys: MikeyKeys; redirected: boolean }
  | { ok: false; reason: string; kmsRefusal?: string };

/**
 * Callee: decodes TRANSFER_INIT, resolves the ticket with the KMS using this
 * device's PSK (RFC 6043 sec. 4.3), verifies TRANSFER_INIT with MPKr, and
 * builds TRANSFER_RESP naming our user (RFC 6043 sec. 4.2.2). Never throws.
 */
export async function answerMikeyOffer(kms: KmsAgent | undefined, value: string): Promise<MikeyAnswer> {
  let pending;
  try {
    pending = parseTransferInit(decodeKeyMgmtAttribute(value).bytes);
  } catch (e) {
    return { ok: false, reason: `unusable a=key-mgmt:mikey: ${(e as Error).message}` };
  }
  if (!kms) return { ok: false, reason: 'MIKEY-TICKET offered but this UE has no KMS configured' };
  let resolved;
  try {
    resolved = await kms.resolveTicket(pending.ticket);
  } catch (e) {
    const f = e instanceof KmsFailure ? e : new KmsFailure('unreachable', (e as Error).message);
    return f.kind === 'refused' ? { ok: false, reason: f.message, kmsRefusal: f.reason } : { ok: false, reason: f.message };
  }
  try {
    const v = completeTransferInit(pending, resolved, { replayCache: kms.replay });
    const resp = buildTransferResp(v, { responder: kms.user });
    const policy = readTicketPolicyData(v.ticket.tpData);
    return {
      ok: true,
      keyMgmt: encodeKeyMgmtAttribute(resp.bytes),
      keys: { ...pickKeys(resp.srtp, ANSWERER_CS, OFFERER_CS), peer: identityToString(v.initiator) },
      redirected: !policy.responders.some((r) => identitiesEqual(r, kms.user) || identitiesEqual(r, kms.device)),
    };
  } catch (e) {
    return { ok: false, reason: `TRANSFER_INIT rejected: ${(e as Error).message}` };
  }
}

/**
 * Caller, deferred delivery (TR 33.828 4.1.2): the call was answered by a
 * store (recvonly, no TRANSFER_RESP). Keys from the ticket's TGK and RANDRi
 * only, so that the intended Responder can derive them later from the stored
 * TRANSFER_INIT; the store itself never can.
 */
export function deferredMikeyKeys(p: MikeyPendingOffer): MikeyKeys {
  return { ...pickKeys(deferredTransferKeys(p.state), OFFERER_CS, ANSWERER_CS), peer: identityToString(p.state.intendedResponder) };
}

/** A stored message opened by its intended receiver: the key of the depositor's stream and who deposited it. */
export type StoredMessageKeys = { ok: true; rx: SrtpKey; depositor: string } | { ok: false; reason: string; kmsRefusal?: string };

/**
 * Retriever: the store's answer carries the deposited TRANSFER_INIT. Resolve
 * its ticket for deferred delivery (only the intended user's devices may),
 * verify the message with MPKi (so the depositor is authenticated), and
 * derive the key of the depositor's stream (CS 1). Never throws.
 */
export async function openStoredMessage(kms: KmsAgent | undefined, value: string): Promise<StoredMessageKeys> {
  let pending;
  try {
    pending = parseTransferInit(decodeKeyMgmtAttribute(value).bytes);
  } catch (e) {
    return { ok: false, reason: `the stored message's a=key-mgmt is unusable: ${(e as Error).message}` };
  }
  if (!kms) return { ok: false, reason: 'a protected stored message needs the KMS, and this UE has none configured' };
  let resolved;
  try {
    resolved = await kms.resolveTicket(pending.ticket, { deferred: true });
  } catch (e) {
    const f = e instanceof KmsFailure ? e : new KmsFailure('unreachable', (e as Error).message);
    return f.kind === 'refused' ? { ok: false, reason: `the KMS refused the stored message's key: ${f.message}`, kmsRefusal: f.reason } : { ok: false, reason: f.message };
  }
  try {
    // A stored message is old by design: its timestamp is checked against the ticket's life, not the live window.
    const v = completeTransferInit(pending, resolved, { replayCache: new ReplayCache(), windowMs: 24 * 3_600_000 });
    const keys = deferredReceiveKeys(v).find((k) => k.csId === OFFERER_CS);
    if (!keys) return { ok: false, reason: `the stored message has no crypto session ${OFFERER_CS} (the depositor's stream)` };
    return { ok: true, rx: srtpKeyFromMikey(keys), depositor: identityToString(v.initiator) };
  } catch (e) {
    return { ok: false, reason: `the stored TRANSFER_INIT failed verification: ${(e as Error).message}` };
  }
}

/**
 * Group key (TR 33.828 4.1.3): the KMS hands every member of a conference the
 * same TGK in a ticket for the conference URI; every member derives the one
 * SRTP master key from it (RFC 6043 sec. 5.1.3 with no RANDRi/RANDRr: the
 * key depends on the group, not on a member). Senders differ by SSRC.
 */
export async function groupSrtpKey(kms: KmsAgent, conference: MikeyIdentity): Promise<SrtpKey> {
  const request = await kms.requestTicket(conference, 'group');
  const k = deriveSrtpFromTicketTgk(request.tgk, { csId: 1, hash: prfHash(request.ticket.prf) });
  return srtpKeyFromMikey({ csId: 1, profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
}
