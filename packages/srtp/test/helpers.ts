/** Shared test helpers: vector loading (copied from shared/vectors, `source` fields kept) and packet builders. */
import { readFileSync } from 'node:fs';
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

/** Builds an RTP packet (RFC 3550 sec. 5.1) with optional CSRCs and header extension. */
export function rtpPacket(opts: { seq: number; ssrc?: number; ts?: number; pt?: number; payload?: Buffer; csrcs?: number[]; ext?: Buffer }): Buffer {
  const csrcs = opts.csrcs ?? [];
  const ext = opts.ext;
  const payload = opts.payload ?? Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 7 + opts.seq) & 0xff));
  const hdr = Buffer.alloc(12 + 4 * csrcs.length + (ext ? 4 + ext.length : 0));
  hdr[0] = 0x80 | (ext ? 0x10 : 0) | csrcs.length;
  hdr[1] = opts.pt ?? 0;
  hdr.writeUInt16BE(opts.seq & 0xffff, 2);
  hdr.writeUInt32BE((opts.ts ?? opts.seq * 160) >>> 0, 4);
  hdr.writeUInt32BE((opts.ssrc ?? 0x11223344) >>> 0, 8);
  csrcs.forEach((c, i) => hdr.writeUInt32BE(c >>> 0, 12 + 4 * i));
  if (ext) {
    const off = 12 + 4 * csrcs.length;
    hdr.writeUInt16BE(0xbede, off);
    hdr.writeUInt16BE(ext.length / 4, off + 2);
    ext.copy(hdr, off + 4);
  }
  return Buffer.concat([hdr, payload]);
}

/** A compound-looking RTCP receiver report (RFC 3550 sec. 6.4.2) with some body. */
export function rtcpPacket(ssrc = 0x11223344, bodyLen = 24): Buffer {
  const p = Buffer.alloc(8 + bodyLen);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE((p.length >> 2) - 1, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  for (let i = 8; i < p.length; i++) p[i] = (i * 13) & 0xff;
  return p;
}
