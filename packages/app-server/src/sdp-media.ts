import sdpTransform from 'sdp-transform';

/** What an application server needs from an SDP offer: where the audio goes and how it is keyed. */
export interface OfferedMedia {
  address: string;
  port: number;
  /** RTP/AVP or RTP/SAVP. */
  profile: string;
  /** a=crypto lines (RFC 4568) as `tag suite key-params [session-params]`. */
  crypto: string[];
  /** a=key-mgmt values (RFC 4567), e.g. `mikey <base64>`. */
  keyMgmt: string[];
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Other attributes by name (a=3ge2ae and the like). */
  attributes: Record<string, string>;
}

/** Thrown for an SDP body an application server cannot use (answered 488 with the message). */
export class SdpError extends Error {}

type Media = ReturnType<typeof sdpTransform.parse>['media'][number] & { keyMgmt?: unknown; invalid?: Array<{ value: string }> };

/** Reads the first audio stream of an offer; throws SdpError saying what is missing. */
export function readOffer(sdp: string): OfferedMedia {
  const s = sdpTransform.parse(sdp);
  const m = s.media.find((x) => x.type === 'audio') as Media | undefined;
  if (!m) throw new SdpError('the offer has no m=audio stream');
  const address = m.connection?.ip ?? s.connection?.ip;
  if (!address) throw new SdpError('the offer has no c= address for its audio');
  if (!m.port) throw new SdpError('the audio stream is disabled (port 0)');
  const attributes: Record<string, string> = {};
  const keyMgmt: string[] = [];
  // sdp-transform keeps attributes it does not know in `invalid` (a=key-mgmt, a=3ge2ae).
  for (const a of [...(m.invalid ?? []), ...((s as { invalid?: Array<{ value: string }> }).invalid ?? [])]) {
    const [name, ...rest] = a.value.split(':');
    const value = rest.join(':');
    if (name === 'key-mgmt') keyMgmt.push(value);
    else attributes[name!] = value;
  }
  return {
    address,
    port: m.port,
    profile: m.protocol,
    crypto: (m.crypto ?? []).map((c) => [c.id, c.suite, c.config, c.sessionConfig].filter((x) => x !== undefined && x !== '').join(' ')),
    keyMgmt,
    direction: (m.direction ?? s.direction ?? 'sendrecv') as OfferedMedia['direction'],
    attributes,
  };
}

/** Our answer: PCMU on one audio stream, the given profile, direction and security lines. */
export interface AnswerSpec {
  address: string;
  port: number;
  profile: string;
  direction: OfferedMedia['direction'];
  crypto?: string[];
  keyMgmt?: string[];
  attributes?: string[];
}

export function buildAnswer(a: AnswerSpec): string {
  const id = Math.floor(Date.now() / 1000);
  const lines = [
    'v=0',
    `o=- ${id} ${id} IN IP4 ${a.address}`,
    's=imslab',
    `c=IN IP4 ${a.address}`,
    't=0 0',
    `m=audio ${a.port} ${a.profile} 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    `a=${a.direction}`,
    ...(a.crypto ?? []).map((c) => `a=crypto:${c}`),
    ...(a.keyMgmt ?? []).map((k) => `a=key-mgmt:${k}`),
    ...(a.attributes ?? []).map((x) => `a=${x}`),
  ];
  return lines.join('\r\n') + '\r\n';
}
