import sdpTransform from 'sdp-transform';
import type { MediaSecurityLines } from './media-security.ts';

/** G.711 PCMU (RFC 3551 sec. 6): the only codec the UE sends. */
export const PCMU = { payload: 0, codec: 'PCMU', rate: 8000 } as const;

/** What our offer or answer contains. */
export interface LocalSdpSpec {
  address: string;
  port: number;
  sessionId: number;
  sessionVersion: number;
  security: MediaSecurityLines;
}

/**
 * Builds our SDP with sdp-transform: c=IN IP4 address, one m=audio line with
 * PCMU only, ptime 20, sendrecv, and the security lines (profile, a=crypto,
 * a=key-mgmt at media level as RFC 4567 sec. 3.1 allows, extra attributes
 * such as a=3ge2ae).
 */
export function buildSdp(spec: LocalSdpSpec): string {
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: spec.sessionId, sessionVersion: spec.sessionVersion, netType: 'IN', ipVer: 4, address: spec.address },
    name: 'imslab',
    connection: { version: 4, ip: spec.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: 'audio',
        port: spec.port,
        protocol: spec.security.profile,
        payloads: String(PCMU.payload),
        rtp: [{ ...PCMU }],
        fmtp: [],
        ptime: 20,
        direction: spec.security.direction ?? 'sendrecv',
        crypto: spec.security.crypto.map((value) => {
          const [id, suite, ...rest] = value.split(' ');
          const [config = '', ...session] = rest;
          return { id: Number(id), suite: suite ?? '', config, ...(session.length ? { sessionConfig: session.join(' ') } : {}) };
        }),
        invalid: [...(spec.security.keyMgmt ?? []).map((v) => ({ value: `key-mgmt:${v}` })), ...spec.security.attributes.map((value) => ({ value }))],
      },
    ],
  });
}

/** The peer's audio stream as far as we use it. */
export interface RemoteSdp {
  address: string;
  port: number;
  payloads: number[];
  security: MediaSecurityLines;
}

/**
 * Reads the first active audio stream of the peer's SDP. Fails (as a value)
 * when there is none, when it lacks a connection address, or when PCMU is not
 * offered: the caller then answers 488 Not Acceptable Here.
 */
export function parseRemoteSdp(body: string): { ok: true; sdp: RemoteSdp } | { ok: false; reason: string } {
  let s: sdpTransform.SessionDescription;
  try {
    s = sdpTransform.parse(body);
  } catch (e) {
    return { ok: false, reason: `unparsable SDP: ${(e as Error).message}` };
  }
  const m = (s.media ?? []).find((x) => x.type === 'audio' && x.port !== 0);
  if (!m) return { ok: false, reason: 'SDP has no active audio stream' };
  const address = m.connection?.ip ?? s.connection?.ip;
  if (!address) return { ok: false, reason: 'SDP has no c= address for the audio stream' };
  const payloads = String(m.payloads ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (!payloads.includes(PCMU.payload)) return { ok: false, reason: `SDP audio offers payload types ${payloads.join(',') || 'none'}, not PCMU (0)` };
  const invalid = (x: { invalid?: Array<{ value: string }> }) => (x.invalid ?? []).map((a) => a.value);
  // RFC 4567 sec. 3.1: a=key-mgmt at session level applies to every stream; a media-level one overrides it.
  const isKeyMgmt = (a: string) => /^key-mgmt:/i.test(a);
  const keyValue = (a: string) => a.replace(/^key-mgmt:\s?/i, '');
  const sessionAttrs = invalid(s as { invalid?: Array<{ value: string }> });
  const mediaAttrs = invalid(m as { invalid?: Array<{ value: string }> });
  return {
    ok: true,
    sdp: {
      address,
      port: m.port,
      payloads,
      security: {
        profile: m.protocol,
        crypto: (m.crypto ?? []).map((c) => `${c.id} ${c.suite} ${c.config}${c.sessionConfig ? ` ${c.sessionConfig}` : ''}`),
        attributes: [...sessionAttrs, ...mediaAttrs].filter((a) => !isKeyMgmt(a)),
        keyMgmt: [...mediaAttrs.filter(isKeyMgmt).map(keyValue), ...sessionAttrs.filter(isKeyMgmt).map(keyValue)],
        direction: (m.direction ?? (s as { direction?: string }).direction ?? 'sendrecv') as NonNullable<MediaSecurityLines['direction']>,
      },
    },
  };
}
