import {
  buildTransferInit, buildTransferResp, completeTransferInit, decodeKeyMgmtAttribute, defaultUserOf, encodeKeyMgmtAttribute, identitiesEqual,
  identityToString, MIKEY_KMPID, parseTransferInit, readTicketPolicyData, verifyTransferResp,
  type CryptoSessionKeys, type MikeyIdentity, type ResolutionPolicy, type TransferInitState,
} from '@imslab/mikey';
import { isSrtpProfileName } from '@imslab/srtp';
import { KmsFailure, type KmsAgent } from './kms-agent.ts';
import type { SrtpKey } from './media-security.ts';

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
  const keySalt = Buffer.concat([k.masterKey, k.masterSalt]);
  return {
    suite: k.profile,
    attribute: { tag: k.csId, suite: k.profile, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] },
    keySaltBase64: keySalt.toString('base64'),
    keyMgmt: 'mikey-ticket',
  };
}

function pickKeys(srtp: CryptoSessionKeys[], txCs: number, rxCs: number): { tx: SrtpKey; rx: SrtpKey } {
  const tx = srtp.find((k) => k.csId === txCs);
  const rx = srtp.find((k) => k.csId === rxCs);
  if (!tx || !rx) throw new Error(`the CS ID map lacks crypto session ${!tx ? txCs : rxCs} (one session per direction expected)`);
  return { tx: srtpKeyFromMikey(tx), rx: srtpKeyFromMikey(rx) };
}

/** The first `mikey` value among a=key-mgmt values, or undefined. */
export function mikeyValueOf(keyMgmt: readonly string[] | undefined): string | undefined {
  return (keyMgmt ?? []).find((v) => v.trimStart().startsWith(`${MIKEY_KMPID} `));
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
