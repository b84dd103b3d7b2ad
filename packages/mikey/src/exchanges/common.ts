/**
 * Shared pieces of the MIKEY-TICKET exchanges (RFC 6043 sec. 4), PSK
 * variant: algorithms, decoding with grammar and data-type checks,
 * payload look-ups, freshness, and SRTP keys per crypto session.
 */
import { randomBytes } from 'node:crypto';
import { bytesEqual } from '../bytes.ts';
import { EncrAlg, MacAlg, PrfFunc, TsType, dataTypeName } from '../codes.ts';
import { MikeyAuthError, MikeyProtocolError, MikeyReplayError } from '../errors.ts';
import { validateGrammar } from '../grammar.ts';
import type { GenericIdEntry, MikeyHeader } from '../header.ts';
import { identityOf, identityToString, type MikeyIdentity } from '../identity.ts';
import { deriveSrtpFromTicketTgk, type MessageKeyAlgs } from '../key-derivation.ts';
import { decodeMessageWithOffsets, type LocatedMessage, type MikeyMessage } from '../message.ts';
import { prfHash } from '../prf.ts';
import { checkTimestamp, DEFAULT_WINDOW_MS, type ReplayCache } from '../replay.ts';
import { srtpKeyLengths, srtpProfileOf, type SrtpPolicyProfile } from '../payloads/sp.ts';
import { ntpFromMs } from '../payloads/timestamp.ts';
import type { IdrPayload, KemacPayload, Payload, RandrPayload, SpPayload, TicketPayload, TPayload, VPayload } from '../payloads/types.ts';

/** Algorithms protecting exchange messages. */
export interface ExchangeAlgorithms {
  /** HDR PRF func (0 MIKEY-1, 1 PRF-HMAC-SHA-256). */
  prf: number;
  /** KEMAC Encr alg (AES-CM-128 or AES-CM-256). */
  encrAlg: number;
  /** V MAC alg (HMAC-SHA-1-160 or HMAC-SHA-256-256). */
  macAlg: number;
}

/** Defaults: PRF-HMAC-SHA-256, AES-CM-128, HMAC-SHA-256-256 (RFC 6043 additions). */
export const DEFAULT_ALGORITHMS: Readonly<ExchangeAlgorithms> = { prf: PrfFunc.HMAC_SHA_256, encrAlg: EncrAlg.AES_CM_128, macAlg: MacAlg.HMAC_SHA_256_256 };

/** A built message: its octets (what goes on the wire) and its decoded form. */
export interface BuiltMessage {
  bytes: Uint8Array;
  message: MikeyMessage;
}

/** Clock and freshness options of verifiers. */
export interface FreshnessOptions {
  /** Local time in ms (default Date.now()). */
  nowMs?: number;
  /** Allowed clock skew (default 5 min). */
  windowMs?: number;
}

/** Random 32-bit CSB ID. */
export function randomCsbId(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** Random octets as a plain Uint8Array. */
export function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** T payload (NTP-UTC) for a time. */
export function timestampPayload(ms: number): TPayload {
  return { kind: 'T', tsType: TsType.NTP_UTC, value: ntpFromMs(ms) };
}

/** Message key algorithms for a header PRF and the given encr/MAC algs. */
export function keyAlgs(prf: number, encrAlg: number, macAlg: number): MessageKeyAlgs {
  return { encrAlg, macAlg, hash: prfHash(prf) };
}

/** Decodes, checks the data type and the grammar (RFC 6043 sec. 4). */
export function decodeExpecting(bytes: Uint8Array, dataType: number): LocatedMessage {
  const lm = decodeMessageWithOffsets(bytes);
  if (lm.message.header.dataType !== dataType) {
    throw new MikeyProtocolError('unexpected-data-type', `expected ${dataTypeName(dataType)}, got ${dataTypeName(lm.message.header.dataType)}`, 11);
  }
  validateGrammar(lm.message, lm.offsets);
  return lm;
}

/** The payload of a kind (first match), or undefined. */
export function find<K extends Payload['kind']>(m: MikeyMessage, kind: K): Extract<Payload, { kind: K }> | undefined {
  return m.payloads.find((p) => p.kind === kind) as Extract<Payload, { kind: K }> | undefined;
}

/** The payload of a kind, or a protocol error. */
export function need<K extends Payload['kind']>(m: MikeyMessage, kind: K): Extract<Payload, { kind: K }> {
  const p = find(m, kind);
  if (!p) throw new MikeyProtocolError('missing-payload', `${dataTypeName(m.header.dataType)} lacks a ${kind} payload`);
  return p;
}

/** The IDR payload with a role, or undefined. */
export function findIdr(m: MikeyMessage | readonly Payload[], role: number): IdrPayload | undefined {
  const list = Array.isArray(m) ? m : (m as MikeyMessage).payloads;
  return list.find((p): p is IdrPayload => p.kind === 'IDR' && p.role === role);
}

/** The RANDR payload with a role, or undefined. */
export function findRandr(m: MikeyMessage, role: number): RandrPayload | undefined {
  return m.payloads.find((p): p is RandrPayload => p.kind === 'RANDR' && p.role === role);
}

/** The identity of an IDR payload when present. */
export function idOf(p: IdrPayload | undefined): MikeyIdentity | undefined {
  return p ? identityOf(p) : undefined;
}

/** Throws identity-mismatch when `claimed` is present and differs from `expected`. */
export function checkIdentity(claimed: MikeyIdentity | undefined, expected: MikeyIdentity, what: string): void {
  if (claimed && !(claimed.idType === expected.idType && bytesEqual(claimed.data, expected.data))) {
    throw new MikeyProtocolError('identity-mismatch', `${what} ${identityToString(claimed)} is not ${identityToString(expected)}`, 7);
  }
}

/** The V payload (the last one, by grammar). */
export function lastV(m: MikeyMessage): VPayload {
  const v = m.payloads[m.payloads.length - 1];
  if (!v || v.kind !== 'V') throw new MikeyAuthError('missing-verification', 'message does not end with V');
  return v;
}

/** The KEMAC payload, or a protocol error. */
export function needKemac(m: MikeyMessage): KemacPayload {
  return need(m, 'KEMAC');
}

/** Timestamp window check then replay-cache insertion keyed by data type and MAC. */
export function checkFresh(m: MikeyMessage, o: FreshnessOptions, cache?: ReplayCache): number {
  const now = o.nowMs ?? Date.now();
  const t = need(m, 'T');
  const ms = checkTimestamp(t, now, o.windowMs ?? cache?.windowMs ?? DEFAULT_WINDOW_MS);
  if (cache) cache.check(`${m.header.dataType}:${Buffer.from(lastV(m).mac).toString('hex')}`, ms, now);
  return ms;
}

/** Single-use guard for the state kept between a request and its response. */
export class OneShot {
  private used = false;
  /** Throws a replay error on the second call. */
  use(what: string): void {
    if (this.used) throw new MikeyReplayError('replayed', `${what} was already accepted for this request`);
    this.used = true;
  }
}

/** SRTP master key and salt of one crypto session. */
export interface CryptoSessionKeys {
  csId: number;
  /** SSRC from the GENERIC-ID session data, when present. */
  ssrc?: number;
  profile: SrtpPolicyProfile;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

/**
 * SRTP keys for every crypto session of a GENERIC-ID map, RFC 6043 sec. 5.1.3
 * (RANDRi when flag H, RANDRr when flag G), lengths from the SP the session
 * names (default AES_CM_128_HMAC_SHA1_80).
 */
export function srtpKeysFor(header: MikeyHeader, sps: readonly SpPayload[], ticket: TicketPayload, tgk: Uint8Array, randRi: Uint8Array, randRr: Uint8Array | undefined): CryptoSessionKeys[] {
  if (header.csIdMap.type !== 'generic-id') return [];
  const hash = prfHash(ticket.prf);
  return header.csIdMap.entries.map((e: GenericIdEntry) => {
    const sp = sps.find((s) => e.policies.includes(s.policyNo));
    const profile = (sp && srtpProfileOf(sp)) ?? 'AES_CM_128_HMAC_SHA1_80';
    const len = srtpKeyLengths(profile);
    const k = deriveSrtpFromTicketTgk(tgk, {
      csId: e.csId,
      randRi: ticket.flags.H ? randRi : undefined,
      randRr: ticket.flags.G ? randRr : undefined,
      tekLength: len.keyLength,
      saltLength: len.saltLength,
      hash,
    });
    const out: CryptoSessionKeys = { csId: e.csId, profile, ...k };
    if (e.protType === 0 && e.sessionData.length >= 4) out.ssrc = Buffer.from(e.sessionData).readUInt32BE(0);
    return out;
  });
}
