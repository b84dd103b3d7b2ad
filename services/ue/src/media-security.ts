import {
  contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, isSrtpProfileName, parseCryptoAttribute,
  type CryptoAttribute, type SrtpContextOptions, type SrtpProfileName,
} from '@imslab/srtp';
import type { SecurityMode } from './config.ts';
import type { ReceivedGmk } from '@imslab/mikey';

/**
 * SDES media security negotiation (RFC 4568) with or without the 3GPP
 * end-to-access-edge marker `a=3ge2ae` (TS 24.229 / TS 33.328: the UE
 * requests, the P-CSCF's IMS-ALG reports `applied` when it terminates SRTP at
 * the access edge), and the types shared with MIKEY-TICKET (mikey-ticket.ts)
 * and the mode-level negotiation (negotiation.ts).
 */

/** The SDP transport profile of the audio stream. */
export type SdpProfile = 'RTP/AVP' | 'RTP/SAVP';
/** Values of the `a=3ge2ae` attribute. */
export type E2aeMark = 'requested' | 'applied';
/** Our reading of e2ae for a call. */
export type E2aeStatus = 'requested' | 'applied' | 'not-applied' | null;

/** The security-relevant lines of one audio m= section. */
export interface MediaSecurityLines {
  /** Transport profile, e.g. RTP/AVP or RTP/SAVP. */
  profile: string;
  /** Values of `a=crypto:` lines (after the colon). */
  crypto: string[];
  /** Other attribute values, e.g. `3ge2ae:requested`. */
  attributes: string[];
  /** Values of `a=key-mgmt:` lines (RFC 4567 sec. 3.1, e.g. `mikey <base64>`), media level first, then session level. */
  keyMgmt?: string[];
  /** SDP direction of the stream (default sendrecv). */
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

/** How the SRTP keys were agreed. */
export type KeyManagement = 'sdes' | 'mikey-ticket' | 'mikey-sakke';
/** What the UE believes it negotiated (TR 33.828 sec. 4.1.1 protection levels). */
export type SecurityAchieved = 'none' | 'e2ae' | 'e2e' | 'e2m2e';

/** Keying material for one direction; enough to build an SrtpContext. */
export interface SrtpKey {
  suite: SrtpProfileName;
  attribute: CryptoAttribute;
  /** Master key || salt, base64, as in the SDP (for the key log). */
  keySaltBase64: string;
  keyMgmt: KeyManagement;
  /** SRTP MKI carried by every packet under this key (MIKEY-SAKKE group keys: GMK-ID || GUK-ID). */
  mki?: Uint8Array;
}

/** Where receive keys come from when packets name theirs by MKI. */
export interface MkiKeySource {
  mkiLength: number;
  /** The key of an MKI, or undefined when it names no key we hold. */
  keyFor(mki: Uint8Array): SrtpKey | undefined;
}

/** A member's group keys as the call uses them (group-master-keys.ts has the one implementation). */
export interface GroupKeySet extends MkiKeySource {
  add(k: ReceivedGmk, activate?: boolean): void;
  activatePending(): boolean;
  readonly currentGmkId: number | undefined;
  heldIds(): string[];
  txKey(): SrtpKey;
}

/** Result of a finished offer/answer. */
export interface SecurityOutcome {
  sdpProfile: SdpProfile;
  suite: string | null;
  /** Key we protect with (ours), null for RTP. */
  tx: SrtpKey | null;
  /** Key we verify with (the peer's), null for RTP. */
  rx: SrtpKey | null;
  /** The `a=3ge2ae` value in the peer's SDP. */
  peerE2ae: E2aeMark | null;
  e2ae: E2aeStatus;
  /** How the keys were agreed; null for RTP. */
  keyManagement: KeyManagement | null;
  achieved: SecurityAchieved;
  /** The peer identity the KMS vouched for (MIKEY-TICKET only). */
  kmsAuthenticatedPeer?: string | undefined;
  /** Set when the call is kept but not protected as requested. */
  warning?: string | undefined;
  /** We only receive (retrieving a stored message): send no media. */
  receiveOnly?: boolean;
  /** The call reached a store (voicemail): media keyed for later delivery to the intended responder. */
  deferred?: boolean;
  /** PoC calls: the client-server keys of floor control (SRTCP), ours (tx) and the PoC server's (rx); never the group key (poc-e2e), the leg's SDES keys (poc-e2m2e). */
  floor?: { tx: SrtpKey; rx: SrtpKey };
  /** poc-e2e: receive keys by MKI, and the group's GMKs (re-keying adds to them). */
  rxByMki?: MkiKeySource;
  /** Other members' SRTP reaches us as they sent it, through a relay we may have joined late (e2e conference, PoC e2e): receive contexts guess a new SSRC's ROC. */
  lateJoin?: boolean;
  gmk?: GroupKeySet;
}

/** Our offer, kept until the answer arrives. */
export interface PendingOffer {
  mode: SecurityMode;
  lines: MediaSecurityLines;
  keys: Map<number, SrtpKey>;
}

/** The suite we offer (RFC 4568 sec. 6.2.1 mandatory-to-implement). */
export const OFFERED_SUITE: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80';
export const E2AE_NOT_CONFIRMED = 'e2ae requested but the P-CSCF did not confirm sdes-srtp;mediasec at registration';
/** Why an e2ae offer's answer is refused when it does not say a=3ge2ae:applied (see completeOffer). */
export const E2AE_NOT_APPLIED = 'e2ae requested but not applied: our SDES key went on past the access edge (refused: e2ae fails closed)';

/** An SrtpKey of a key||salt, written as an inline key so the SRTP layer and the key log need nothing else. */
function inlineKey(suite: SrtpProfileName, keySalt: Buffer, keyMgmt: KeyManagement, tag: number, mki?: Uint8Array): SrtpKey {
  return {
    suite, attribute: { tag, suite, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }, keySaltBase64: keySalt.toString('base64'), keyMgmt,
    ...(mki ? { mki: Buffer.from(mki) } : {}),
  };
}

function newKey(suite: SrtpProfileName, tag: number): SrtpKey {
  return inlineKey(suite, generateKeySalt(suite), 'sdes', tag);
}

/**
 * The SrtpKey of a master key and salt that key management derived (MIKEY:
 * tickets, GMKs, CSKs), with the MKI its packets carry, if any.
 */
export function derivedSrtpKey(k: { masterKey: Uint8Array; masterSalt: Uint8Array; mki?: Uint8Array }, suite: SrtpProfileName, keyMgmt: KeyManagement, tag = 1): SrtpKey {
  return inlineKey(suite, Buffer.concat([k.masterKey, k.masterSalt]), keyMgmt, tag, k.mki);
}

/**
 * ROC guesses a UE makes for a stream it joins late: a conference or PoC
 * server in e2e mode passes on other members' SRTP as it is, and nothing
 * tells a joiner their senders' rollover counters (RFC 3711 sec. 3.3.1).
 * Four covers a join up to 4 * 2^16 packets (about 87 minutes of 20 ms
 * audio) into a stream.
 */
export const LATE_JOIN_ROC_SEARCH = 4;

/** SrtpContext options for a key; `lateJoin`: a receiving context on relayed group media, which guesses a new SSRC's ROC. */
export function contextOptions(key: SrtpKey, lateJoin = false): SrtpContextOptions {
  const base = contextOptionsFromCrypto(key.attribute);
  const o = lateJoin && !base.kdr ? { ...base, rocSearch: LATE_JOIN_ROC_SEARCH } : base;
  return key.mki ? { ...o, mki: key.mki } : o;
}

/** The `a=3ge2ae` value among attributes, or null. */
export function e2aeMarkOf(lines: MediaSecurityLines): E2aeMark | null {
  for (const a of lines.attributes) {
    const m = /^3ge2ae:\s*(\S+)/i.exec(a);
    if (m) {
      const v = m[1]!.toLowerCase();
      if (v === 'requested' || v === 'applied') return v;
    }
  }
  return null;
}

/**
 * Our offer for a security mode. `e2ae` needs the P-CSCF's confirmation of
 * `sdes-srtp;mediasec` at registration; without it the call fails with
 * E2AE_NOT_CONFIRMED (a value, not a throw).
 */
export function createOffer(mode: SecurityMode, ctx: { e2aeConfirmed: boolean }): { ok: true; offer: PendingOffer } | { ok: false; reason: string } {
  if (mode === 'none') return { ok: true, offer: { mode, lines: { profile: 'RTP/AVP', crypto: [], attributes: [] }, keys: new Map() } };
  if (mode === 'e2ae' && !ctx.e2aeConfirmed) return { ok: false, reason: E2AE_NOT_CONFIRMED };
  const key = newKey(OFFERED_SUITE, 1);
  return {
    ok: true,
    offer: {
      mode,
      lines: { profile: 'RTP/SAVP', crypto: [formatCryptoAttribute(key.attribute)], attributes: mode === 'e2ae' ? ['3ge2ae:requested'] : [] },
      keys: new Map([[1, key]]),
    },
  };
}

/** What SDES achieved: e2ae when the access edge reported it applied, otherwise end to end as far as the UE can tell. */
function sdesAchieved(e2ae: E2aeStatus): SecurityAchieved {
  return e2ae === 'applied' ? 'e2ae' : 'e2e';
}

function e2aeReading(mode: SecurityMode, peer: E2aeMark | null): { e2ae: E2aeStatus; warning?: string } {
  if (mode === 'e2ae') {
    return peer === 'applied' ? { e2ae: 'applied' } : { e2ae: 'not-applied', warning: `e2ae requested but not applied (peer SDP has ${peer ? `a=3ge2ae:${peer}` : 'no a=3ge2ae'})` };
  }
  return { e2ae: peer };
}

/**
 * Completes our offer with the peer's answer (RFC 4568 sec. 7.1.3: the answer
 * selects one of our crypto lines by tag and carries the answerer's key).
 * SDES fails closed, as MIKEY does: an RTP/AVP answer to our SRTP offer (a
 * hop that stripped a=crypto and rewrote the profile, TR 33.828 4.1.1's
 * threat) fails the call; so does an SRTP answer without a usable crypto line,
 * and an answer to an e2ae offer without a=3ge2ae:applied (E2AE_NOT_APPLIED).
 */
export function completeOffer(offer: PendingOffer, answer: MediaSecurityLines): { ok: true; outcome: SecurityOutcome } | { ok: false; reason: string } {
  const peerE2ae = e2aeMarkOf(answer);
  const reading = e2aeReading(offer.mode, peerE2ae);
  if (answer.profile !== 'RTP/SAVP') {
    if (offer.lines.profile === 'RTP/SAVP') return { ok: false, reason: `${offer.mode} requested but the answer is ${answer.profile}: media would not be protected (refused: SDES fails closed)` };
    return { ok: true, outcome: { sdpProfile: 'RTP/AVP', suite: null, tx: null, rx: null, peerE2ae, e2ae: reading.e2ae, keyManagement: null, achieved: 'none', warning: reading.warning } };
  }
  if (offer.lines.profile !== 'RTP/SAVP') return { ok: false, reason: 'offered RTP/AVP but the answer is RTP/SAVP' };
  // e2ae (TS 33.328; TS 24.229 7.5.2): only a=3ge2ae:applied says the P-CSCF
  // kept our key and terminated SRTP. Without it our key went on in the SDP,
  // into a core whose SIP is readable (a P-CSCF that stripped our request,
  // issue 13, or one whose policy forbids e2ae): the user asked for e2ae, so
  // the call is refused, as SDES and MIKEY fail closed, never carried on as
  // "e2e" under a key others read.
  if (offer.mode === 'e2ae' && reading.e2ae !== 'applied') return { ok: false, reason: `${E2AE_NOT_APPLIED}; the answer has ${peerE2ae ? `a=3ge2ae:${peerE2ae}` : 'no a=3ge2ae'}` };
  for (const value of answer.crypto) {
    let attr: CryptoAttribute;
    try {
      attr = parseCryptoAttribute(value);
    } catch {
      continue;
    }
    const ours = offer.keys.get(attr.tag);
    if (!ours || ours.suite !== attr.suite || !isSrtpProfileName(attr.suite)) continue;
    const rx = toKey(attr);
    if (!rx) continue;
    return { ok: true, outcome: { sdpProfile: 'RTP/SAVP', suite: attr.suite, tx: ours, rx, peerE2ae, e2ae: reading.e2ae, keyManagement: 'sdes', achieved: sdesAchieved(reading.e2ae), warning: reading.warning } };
  }
  return { ok: false, reason: `the RTP/SAVP answer has no a=crypto line matching our offer (tag 1 ${OFFERED_SUITE})` };
}

function toKey(attr: CryptoAttribute): SrtpKey | null {
  if (!isSrtpProfileName(attr.suite) || attr.keyParams.length === 0) return null;
  try {
    contextOptionsFromCrypto(attr);
  } catch {
    return null;
  }
  return { suite: attr.suite, attribute: attr, keySaltBase64: attr.keyParams[0]!.keySalt.toString('base64'), keyMgmt: 'sdes' };
}

export function joinWarnings(...w: Array<string | undefined>): string | undefined {
  const s = w.filter(Boolean).join('; ');
  return s || undefined;
}

/**
 * Answers the peer's offer (RFC 4568 sec. 7.1.2): for RTP/SAVP pick the first
 * a=crypto line whose suite we support, answer with the same tag and suite and
 * a fresh key of ours; RTP/AVP is answered with RTP/AVP. `mode` is our own
 * policy: wanting security and getting an RTP/AVP offer is refused with 488
 * (SDES fails closed). Fails with 488 too when an SRTP offer has no usable
 * crypto line.
 */
export function answerOffer(
  offer: MediaSecurityLines,
  mode: SecurityMode,
): { ok: true; lines: MediaSecurityLines; outcome: SecurityOutcome } | { ok: false; status: 488; reason: string } {
  const peerE2ae = e2aeMarkOf(offer);
  const reading = e2aeReading(mode, peerE2ae);
  if (offer.profile === 'RTP/AVP') {
    if (mode !== 'none') return { ok: false, status: 488, reason: `${mode} required but the offer is RTP/AVP: media would not be protected (refused: SDES fails closed)` };
    return {
      ok: true,
      lines: { profile: 'RTP/AVP', crypto: [], attributes: [] },
      outcome: { sdpProfile: 'RTP/AVP', suite: null, tx: null, rx: null, peerE2ae, e2ae: reading.e2ae, keyManagement: null, achieved: 'none', warning: reading.warning },
    };
  }
  if (offer.profile !== 'RTP/SAVP') return { ok: false, status: 488, reason: `unsupported media profile ${offer.profile}` };
  for (const value of offer.crypto) {
    let attr: CryptoAttribute;
    try {
      attr = parseCryptoAttribute(value);
    } catch {
      continue;
    }
    const rx = toKey(attr);
    if (!rx) continue;
    const tx = newKey(rx.suite, attr.tag);
    return {
      ok: true,
      lines: { profile: 'RTP/SAVP', crypto: [formatCryptoAttribute(tx.attribute)], attributes: [] },
      outcome: { sdpProfile: 'RTP/SAVP', suite: rx.suite, tx, rx, peerE2ae, e2ae: reading.e2ae, keyManagement: 'sdes', achieved: sdesAchieved(reading.e2ae === 'applied' || peerE2ae === 'applied' ? 'applied' : reading.e2ae), warning: reading.warning },
    };
  }
  return { ok: false, status: 488, reason: offer.crypto.length ? 'no supported a=crypto suite in the RTP/SAVP offer' : 'RTP/SAVP offer without a=crypto (no key management we support)' };
}
