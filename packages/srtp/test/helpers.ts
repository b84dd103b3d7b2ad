/** Shared test helpers: vector loading (copied from shared/vectors, `source` fields kept) and packet builders. */
import { readFileSync } from 'node:fs';
import { buildRtp, RTCP_PACKET_TYPE, RTP_VERSION, writeU16, writeU32 } from '@imslab/rtp';
import { SRTP_PROFILES, type SrtpProfileName } from '../src/index.ts';

/** Parses one of the JSON vector files copied into test/vectors/. */
export function loadVectors<T = any>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as T;
}

/** Hex (either case, as written in the vector files) to bytes. */
export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}

export const ALL_PROFILES = Object.keys(SRTP_PROFILES) as SrtpProfileName[];

/** Deterministic master key and salt for a profile. */
export function keysFor(profile: SrtpProfileName, seed = 1): { masterKey: Buffer; masterSalt: Buffer } {
  const p = SRTP_PROFILES[profile];
  const fill = (n: number, k: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + k * 17 + seed) & 0xff));
  return { masterKey: fill(p.keyLength, 1), masterSalt: fill(p.saltLength, 2) };
}

/** An RTP packet (RFC 3550 sec. 5.1) with optional CSRCs and a one-byte-header extension (0xBEDE, RFC 8285); @imslab/rtp's buildRtp. */
export function rtpPacket(opts: { seq: number; ssrc?: number; ts?: number; pt?: number; payload?: Buffer; csrcs?: number[]; ext?: Buffer }): Buffer {
  const payload = opts.payload ?? Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 7 + opts.seq) & 0xff));
  return buildRtp({
    payloadType: opts.pt ?? 0, sequence: opts.seq, timestamp: opts.ts ?? opts.seq * 160, ssrc: opts.ssrc ?? 0x11223344,
    csrcs: opts.csrcs, extension: opts.ext ? { profile: 0xbede, data: opts.ext } : undefined,
  }, payload);
}

/**
 * A compound-looking RTCP receiver report (RFC 3550 sec. 6.4.2) with some
 * body: RC 1, length word, sender SSRC, then `bodyLen` patterned octets
 * (@imslab/rtp builds sender reports only).
 */
export function rtcpPacket(ssrc = 0x11223344, bodyLen = 24): Buffer {
  const p = Buffer.alloc(8 + bodyLen);
  p[0] = (RTP_VERSION << 6) | 1;
  p[1] = RTCP_PACKET_TYPE.RR;
  writeU16(p, 2, (p.length >> 2) - 1);
  writeU32(p, 4, ssrc);
  for (let i = 8; i < p.length; i++) p[i] = (i * 13) & 0xff;
  return p;
}
