import { uriIdentity, type MikeyIdentity } from '@imslab/mikey';
import type { SecurityMode, TicketPolicy } from './config.ts';
import { KmsAgent, KmsFailure } from './kms-agent.ts';
import { answerOffer, completeOffer, createOffer, derivedSrtpKey, e2aeMarkOf, OFFERED_SUITE, type MediaSecurityLines, type PendingOffer, type SecurityOutcome } from './media-security.ts';
import { answerMikeyOffer, completeMikeyOffer, createMikeyOffer, deferredMikeyKeys, groupSrtpKey, mikeyValueOf, openStoredMessage, type MikeyKeys, type MikeyPendingOffer } from './mikey-ticket.ts';
import type { SrtpKey } from './media-security.ts';
import { GroupMasterKeys } from './group-master-keys.ts';

/**
 * Offer/answer of a call's media security for every SecurityMode: SDES
 * (media-security.ts) for none / e2ae / sdes-e2e, MIKEY-TICKET
 * (mikey-ticket.ts) for e2e, both offered for e2e-or-e2m2e so that a trusted
 * middle element (a transcoder) may answer with SDES (RFC 4567 sec. 3.1
 * lets an offer carry a=key-mgmt and a=crypto; the answer picks one).
 * Failures are values, never throws.
 */

/** What negotiation needs from the UE. */
export interface NegotiationEnv {
  kms: KmsAgent | undefined;
  /** The P-CSCF confirmed `sdes-srtp;mediasec` at registration (e2ae allowed). */
  e2aeConfirmed: boolean;
}

/** What the caller (or the side sending a re-INVITE) wants. */
export interface OfferRequest {
  mode: SecurityMode;
  /** The called party's URI (the ticket's Responder unless designatedDevice applies). */
  target: string;
  policy: TicketPolicy;
  /** Device name (or NAI) for 'designated-device'. */
  designatedDevice?: string | undefined;
  /** Our SSRC (CS 1 of the MIKEY CS ID map). */
  ssrc: number;
}

/** Our offer, kept until the answer. */
export interface LocalOffer {
  mode: SecurityMode;
  lines: MediaSecurityLines;
  sdes?: PendingOffer;
  mikey?: MikeyPendingOffer;
  /** group-e2e: the conference's group key (send and receive). */
  group?: SrtpKey;
  /** poc-e2e: the group's GMKs from the group management server (MIKEY-SAKKE). */
  gmk?: GroupMasterKeys;
  /** poc-e2e: the client-server key (CSK) we sent the PoC server by MIKEY-SAKKE, for floor control both ways. */
  csk?: SrtpKey;
}

export type Failure = { ok: false; reason: string };

/** The host of a SIP URI (the domain of a designated device given by name). */
function domainOf(uri: string): string {
  return /^(?:sips?|tel):(?:[^@;]*@)?([^;>?:]+)/i.exec(uri.replace(/^<|>$/g, ''))?.[1] ?? 'invalid';
}

/**
 * The PoC server of a group's domain, to whose identity the client-server
 * key is encrypted (services/poc element.ts pocServerUri: `sip:poc@<domain>`).
 */
export function pocServerOf(groupUri: string): string {
  return `sip:poc@${domainOf(groupUri)}`;
}

/** The group management server of a group's domain: the only signer a member takes GMKs from. */
export function gmsOf(groupUri: string): string {
  return `sip:gms@${domainOf(groupUri)}`;
}

/** The ticket's intended Responder (IDRr in TP Data). */
export function intendedResponder(r: Pick<OfferRequest, 'target' | 'policy' | 'designatedDevice'>): MikeyIdentity | Failure {
  if (r.policy === 'designated-device') {
    if (!r.designatedDevice) return { ok: false, reason: `policy 'designated-device' needs the device: give "designatedDevice" (e.g. "bob-1") with the call` };
    return KmsAgent.deviceIdentity(r.designatedDevice, domainOf(r.target));
  }
  return uriIdentity(r.target.replace(/^<|>$/g, ''));
}

/** Builds our offer; for e2e modes this includes the Ticket Request with the KMS. */
export async function prepareOffer(env: NegotiationEnv, r: OfferRequest): Promise<{ ok: true; offer: LocalOffer } | Failure> {
  if (r.mode === 'stored-e2e') {
    // Retrieval: receive only; the keys come with the stored message in the answer.
    return { ok: true, offer: { mode: r.mode, lines: { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [], direction: 'recvonly' } } };
  }
  if (r.mode === 'group-e2e' || r.mode === 'poc-e2e') {
    if (!env.kms) return { ok: false, reason: `${r.mode} requested but this UE has no KMS configured (config "kms")` };
    try {
      const target = r.target.replace(/^<|>$/g, '');
      if (r.mode === 'group-e2e') {
        const group = await groupSrtpKey(env.kms, uriIdentity(target));
        return { ok: true, offer: { mode: r.mode, lines: { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [] }, group } };
      }
      // PoC: the GMK comes from the group management server by MIKEY-SAKKE (TS 33.180 7.4); the
      // client-server key for floor control goes to the PoC server by MIKEY-SAKKE too (7.3): only
      // the server can open it, unlike an SDES key on every hop of plaintext SIP. Never the media key.
      const gmk = new GroupMasterKeys(target);
      gmk.add(await env.kms.groupMasterKey(uriIdentity(target), gmsOf(target)));
      const csk = await env.kms.clientServerKey(pocServerOf(target));
      return { ok: true, offer: { mode: r.mode, lines: { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [csk.keyMgmt] }, gmk, csk: derivedSrtpKey(csk.srtp, OFFERED_SUITE, 'mikey-sakke') } };
    } catch (e) {
      return { ok: false, reason: e instanceof KmsFailure ? `group key: ${e.message}` : `group key: ${(e as Error).message}` };
    }
  }
  if (r.mode === 'poc-e2m2e') {
    // The PoC server terminates each leg: one SDES key pair with it keys the media and floor control.
    const sdes = createOffer('sdes-e2e', { e2aeConfirmed: false });
    return sdes.ok ? { ok: true, offer: { mode: r.mode, lines: sdes.offer.lines, sdes: sdes.offer } } : sdes;
  }
  if (r.mode !== 'e2e' && r.mode !== 'e2e-or-e2m2e') {
    const o = createOffer(r.mode, { e2aeConfirmed: env.e2aeConfirmed });
    return o.ok ? { ok: true, offer: { mode: r.mode, lines: o.offer.lines, sdes: o.offer } } : o;
  }
  if (!env.kms) return { ok: false, reason: `${r.mode} requested but this UE has no KMS configured (config "kms")` };
  const responder = intendedResponder(r);
  if ('ok' in responder) return responder;
  let mikey: MikeyPendingOffer;
  try {
    mikey = await createMikeyOffer(env.kms, { responder, policy: r.policy, ssrc: r.ssrc });
  } catch (e) {
    return { ok: false, reason: e instanceof KmsFailure ? e.message : `MIKEY-TICKET offer failed: ${(e as Error).message}` };
  }
  const offer: LocalOffer = { mode: r.mode, lines: { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [mikey.keyMgmt] }, mikey };
  if (r.mode === 'e2e-or-e2m2e') {
    const sdes = createOffer('sdes-e2e', { e2aeConfirmed: false });
    if (sdes.ok) {
      offer.sdes = sdes.offer;
      offer.lines.crypto = sdes.offer.lines.crypto;
    }
  }
  return { ok: true, offer };
}

function mikeyOutcome(keys: MikeyKeys, peerLines: MediaSecurityLines): SecurityOutcome {
  return {
    sdpProfile: 'RTP/SAVP', suite: keys.tx.suite, tx: keys.tx, rx: keys.rx, peerE2ae: e2aeMarkOf(peerLines), e2ae: null,
    keyManagement: 'mikey-ticket', achieved: 'e2e', kmsAuthenticatedPeer: keys.peer,
  };
}

/**
 * Completes our offer with the answer. With e2e an answer without
 * a=key-mgmt:mikey fails (end-to-end was required); with e2e-or-e2m2e an
 * SDES answer is accepted as e2m2e.
 */
export function finishOffer(offer: LocalOffer, answer: MediaSecurityLines): { ok: true; outcome: SecurityOutcome } | Failure {
  if (offer.gmk && offer.mode === 'poc-e2e') return finishPocOffer(offer.gmk, offer, answer);
  if (offer.mode === 'poc-e2m2e') return finishPocE2m2eOffer(offer.sdes!, answer);
  if (offer.group) {
    if (answer.profile !== 'RTP/SAVP' || answer.crypto.length > 0) return { ok: false, reason: `group-e2e requested but the conference answered ${answer.profile}${answer.crypto.length ? ' with its own SDES key (it would decrypt)' : ''}` };
    return { ok: true, outcome: { sdpProfile: 'RTP/SAVP', suite: offer.group.suite, tx: offer.group, rx: offer.group, peerE2ae: null, e2ae: null, keyManagement: 'mikey-ticket', achieved: 'e2e', lateJoin: true } };
  }
  if (offer.mode === 'stored-e2e') return { ok: false, reason: 'stored-e2e answers are opened with finishStoredOffer' };
  if (!offer.mikey) return completeOffer(offer.sdes!, answer);
  if (answer.profile !== 'RTP/SAVP') return { ok: false, reason: `${offer.mode} requested but the answer is ${answer.profile}: media would not be protected` };
  const value = mikeyValueOf(answer.keyMgmt);
  if (value) {
    const done = completeMikeyOffer(offer.mikey, value);
    return done.ok ? { ok: true, outcome: mikeyOutcome(done.keys, answer) } : done;
  }
  if (answer.direction === 'recvonly' && answer.crypto.length === 0) {
    // A store answered (voicemail): no TRANSFER_RESP can come. Key the media for the intended
    // responder alone (deferred delivery, TR 33.828 4.1.2); the store holds only ciphertext.
    const keys = deferredMikeyKeys(offer.mikey);
    return {
      ok: true,
      outcome: {
        ...mikeyOutcome(keys, answer), kmsAuthenticatedPeer: undefined, deferred: true,
        warning: `answered by a store (recvonly, no TRANSFER_RESP): deferred delivery, media keyed for ${keys.peer} only`,
      },
    };
  }
  if (answer.crypto.length > 0 && offer.sdes) {
    const done = completeOffer(offer.sdes, answer);
    if (!done.ok) return done;
    return { ok: true, outcome: { ...done.outcome, achieved: 'e2m2e' } };
  }
  const why = answer.crypto.length > 0 ? ' (it carries SDES a=crypto: a middle element terminated the key exchange, and e2m2e was not accepted)' : '';
  return { ok: false, reason: `end-to-end security required but the answer has no a=key-mgmt:mikey${why}` };
}

/**
 * A PoC server's answer (poc-e2e): RTP/SAVP and no media key of its own (a
 * server that answered with a=key-mgmt would take part in the media key).
 * Floor control is under the CSK we sent it (no key in the answer), or,
 * for an offer with an SDES client-server key, under the pair completed by
 * its a=crypto.
 */
function finishPocOffer(gmk: GroupMasterKeys, offer: LocalOffer, answer: MediaSecurityLines): { ok: true; outcome: SecurityOutcome } | Failure {
  if (answer.profile !== 'RTP/SAVP') return { ok: false, reason: `poc-e2e requested but the PoC server answered ${answer.profile}` };
  if ((answer.keyMgmt ?? []).length > 0) return { ok: false, reason: 'poc-e2e requested but the PoC server answered with a=key-mgmt: it would take part in the media key' };
  let floor: { tx: SrtpKey; rx: SrtpKey };
  if (offer.csk) {
    // The CSK needs no answer (a one-message exchange): a server that answers an SDES key instead did not take it.
    if (answer.crypto.length > 0) return { ok: false, reason: 'poc-e2e: the PoC server answered an SDES key although the client-server key was offered by MIKEY-SAKKE' };
    floor = { tx: offer.csk, rx: offer.csk };
  } else {
    const done = completeOffer(offer.sdes!, answer);
    if (!done.ok) return { ok: false, reason: `poc-e2e: no floor control key in the answer: ${done.reason}` };
    const { tx, rx } = done.outcome;
    if (!tx || !rx) return { ok: false, reason: 'poc-e2e: the answer has no floor control key (a=crypto)' };
    floor = { tx, rx };
  }
  const mine = gmk.txKey();
  return { ok: true, outcome: { sdpProfile: 'RTP/SAVP', suite: mine.suite, tx: mine, rx: null, rxByMki: gmk, gmk, peerE2ae: null, e2ae: null, keyManagement: 'mikey-sakke', achieved: 'e2e', floor, lateJoin: true } };
}

/**
 * A PoC server's answer when it re-encrypts (poc-e2m2e): its SDES key
 * protects what it sends us, media and floor control; ours what we send it.
 * The UE knows the server reads the media: e2m2e.
 */
function finishPocE2m2eOffer(sdes: PendingOffer, answer: MediaSecurityLines): { ok: true; outcome: SecurityOutcome } | Failure {
  if (answer.profile !== 'RTP/SAVP') return { ok: false, reason: `poc-e2m2e requested but the PoC server answered ${answer.profile}` };
  const done = completeOffer(sdes, answer);
  if (!done.ok) return { ok: false, reason: `poc-e2m2e: ${done.reason}` };
  const { tx, rx } = done.outcome;
  if (!tx || !rx) return { ok: false, reason: 'poc-e2m2e: the answer has no usable a=crypto key' };
  return { ok: true, outcome: { ...done.outcome, achieved: 'e2m2e', floor: { tx, rx } } };
}

/** Our answer, or the 488 and why. `kmsRefusal` is the KMS's reason when it refused to resolve the ticket. */
export type AnswerResult =
  | { ok: true; lines: MediaSecurityLines; outcome: SecurityOutcome; keyMgmtOffer?: string }
  | { ok: false; status: 488; reason: string; kmsRefusal?: string };

/**
 * Answers the peer's offer. An offer with a=key-mgmt:mikey is answered with
 * MIKEY-TICKET only: when the ticket cannot be resolved the answer is a 488,
 * never unprotected media. Otherwise SDES / RTP as media-security.ts does.
 */
export async function answerRemoteOffer(env: NegotiationEnv, offer: MediaSecurityLines, mode: SecurityMode): Promise<AnswerResult> {
  const value = offer.profile === 'RTP/SAVP' ? mikeyValueOf(offer.keyMgmt) : undefined;
  if (!value) return answerOffer(offer, mode);
  const a = await answerMikeyOffer(env.kms, value);
  if (!a.ok) return { ok: false, status: 488, reason: a.reason, ...(a.kmsRefusal !== undefined ? { kmsRefusal: a.kmsRefusal } : {}) };
  return { ok: true, lines: { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [a.keyMgmt] }, outcome: mikeyOutcome(a.keys, offer), keyMgmtOffer: value };
}

/** The security setting an offer expresses (what the answerer records in securityHistory). */
export function modeOfOffer(offer: MediaSecurityLines): SecurityMode {
  if (offer.profile !== 'RTP/SAVP') return 'none';
  if (mikeyValueOf(offer.keyMgmt)) return offer.crypto.length > 0 ? 'e2e-or-e2m2e' : 'e2e';
  return e2aeMarkOf(offer) === 'requested' ? 'e2ae' : 'sdes-e2e';
}

/**
 * Retrieval of a stored message (stored-e2e): the answer is sendonly and
 * carries the deposited TRANSFER_INIT; an unprotected message comes as
 * RTP/AVP. Resolves the ticket for deferred delivery at the KMS.
 */
export async function finishStoredOffer(env: NegotiationEnv, answer: MediaSecurityLines): Promise<{ ok: true; outcome: SecurityOutcome } | (Failure & { kmsRefusal?: string })> {
  const value = mikeyValueOf(answer.keyMgmt);
  if (answer.profile !== 'RTP/SAVP' || !value) return { ok: false, reason: `stored-e2e requested but the store answered ${answer.profile}${value ? '' : ' without the stored a=key-mgmt:mikey'}: the message is not end-to-end protected` };
  const r = await openStoredMessage(env.kms, value);
  if (!r.ok) return r;
  return {
    ok: true,
    outcome: { sdpProfile: 'RTP/SAVP', suite: r.rx.suite, tx: null, rx: r.rx, peerE2ae: null, e2ae: null, keyManagement: 'mikey-ticket', achieved: 'e2e', kmsAuthenticatedPeer: r.depositor, receiveOnly: true },
  };
}
