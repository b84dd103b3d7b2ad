/**
 * What an application server reads from an SDP offer and writes in its
 * answer, through @imslab/sdp.
 */
import { buildAudioSdp, parseSdp, type SdpDirection } from '@imslab/sdp';

export { SdpError } from '@imslab/sdp';

/** What an application server needs from an SDP offer: where the audio goes and how it is keyed. */
export interface OfferedMedia {
  address: string;
  port: number;
  /** RTP/AVP or RTP/SAVP. */
  profile: string;
  /** a=crypto lines (RFC 4568) as `tag suite key-params [session-params]`. */
  crypto: string[];
  /** a=key-mgmt values (RFC 4567), e.g. `mikey <base64>`, media level first. */
  keyMgmt: string[];
  direction: SdpDirection;
  /** Other attributes by name (a=3ge2ae and the like); a media-level one wins over a session-level one. */
  attributes: Record<string, string>;
}

/**
 * Reads the first audio stream in use of an offer.
 * @throws SdpError saying what is missing or malformed
 */
export function readOffer(sdp: string): OfferedMedia {
  const d = parseSdp(sdp);
  const m = d.requireAudio('the offer');
  const attributes: Record<string, string> = {};
  for (const a of [...d.attributes, ...m.attributes]) if (a.name !== 'key-mgmt') attributes[a.name] = a.value;
  return { address: m.connectionAddress!, port: m.port, profile: m.protocol, crypto: m.crypto, keyMgmt: m.keyMgmt, direction: m.direction, attributes };
}

/** Our answer: PCMU on one audio stream, the given profile, direction and security lines. */
export interface AnswerSpec {
  address: string;
  port: number;
  profile: string;
  direction: SdpDirection;
  crypto?: string[];
  keyMgmt?: string[];
  attributes?: string[];
}

/**
 * The SDP of our answer.
 * @throws SdpBuildError for a value SDP cannot carry
 */
export function buildAnswer(a: AnswerSpec): string {
  return buildAudioSdp({ address: a.address, port: a.port, protocol: a.profile, direction: a.direction, crypto: a.crypto ?? [], keyMgmt: a.keyMgmt ?? [], attributes: a.attributes ?? [] });
}
