/**
 * The ticket this project's KMS issues: TICKET payload (RFC 6043 sec. 6.10)
 * of Ticket Type 2 ("3GPP base ticket"), Subtype 1, Version 1, whose Ticket
 * Data is modelled on the MIKEY base ticket of RFC 6043 App. A
 * (THDR, T, RAND, KEMAC, [IDRpsk], V) with the resolution data added:
 *
 *   THDR:  Next Payload(8) | THDR Data length(16) = 5 | format(8) = 1 | KMS key id(32)
 *   T      time of issue (NTP-UTC)
 *   RAND   16 octets: ticket id and key-derivation input
 *   IDRi   IDR role 1, IDRr  IDR role 2
 *   TRs, TRe  validity (TR roles 2, 3, NTP-UTC)
 *   GENERAL_EXT  resolution policy (ticket-policy.ts)
 *   KEMAC  AES-CM-256 encrypted key data: MPK (MPKi), [MPK (MPKr)], TGK or TGK+SALT;
 *          MAC alg NULL
 *   V      HMAC-SHA-256-256 over the Ticket Policy part of the TICKET payload
 *          (Ticket Type .. TP Data) || the Ticket Data up to the MAC
 *
 * Keys: RFC 6043 App. A.2.1 with the KMS master key as TPK,
 * label = const || 0xFF || 0xFFFFFFFF || 0x05 || len RAND || RAND, PRF-HMAC-SHA-256.
 * AES-CM IV per RFC 3830 sec. 4.2.3 with CSB ID 0xFFFFFFFF and T the issue time.
 * The MAC is verified before any field other than the key id and RAND
 * (both key-selection inputs) is looked at.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Reader, Writer, bytesEqual } from './bytes.ts';
import { EncrAlg, IdRole, KeyDataType, MacAlg, PayloadType, PrfFunc, TsRole, TsType } from './codes.ts';
import { MikeyAuthError, MikeyEncodeError, MikeyTicketError } from './errors.ts';
import { idrPayload, identitiesEqual, identityOf, type MikeyIdentity } from './identity.ts';
import { openKemac, sealKemac } from './kemac-crypto.ts';
import { deriveTicketProtectionKeys, type MessageKeys } from './key-derivation.ts';
import { computeMac } from './mac.ts';
import { decodeChain, nestedChainCodec } from './payloads/chain.ts';
import { encodeTicketPolicyPart } from './payloads/ticket.ts';
import { msFromNtp, ntpFromMs } from './payloads/timestamp.ts';
import type { KeyData, Payload, TicketFlags, TicketPayload } from './payloads/types.ts';
import { IMSLAB_TICKET, buildTicketPolicyData, defaultTicketFlags, readTicketPolicyData, resolutionPolicyExt, resolutionPolicyOf, type ResolutionPolicy } from './ticket-policy.ts';

/** THDR format version of this ticket data layout. */
export const TICKET_FORMAT_VERSION = 1;
/** Length of the ticket RAND (ticket id). */
export const TICKET_ID_LENGTH = 16;
/** Largest Ticket Data this codec accepts. */
export const MAX_TICKET_DATA = 4096;

const CSB_NONE = 0xffffffff;
const ALGS = { encrAlg: EncrAlg.AES_CM_256, macAlg: MacAlg.HMAC_SHA_256_256, hash: 'sha256' } as const;

/** Keys carried in a ticket. Without key forking MPKr is absent and equals MPKi (RFC 6043 sec. 5.1). */
export interface TicketKeys {
  mpki: Uint8Array;
  mpkr?: Uint8Array;
  tgk: Uint8Array;
  tgkSalt?: Uint8Array;
}

/** What the KMS puts in a ticket. */
export interface TicketSealInput {
  initiator: MikeyIdentity;
  responder: MikeyIdentity;
  policy: ResolutionPolicy;
  validFromMs: number;
  validToMs: number;
  issuedAtMs: number;
  keys: TicketKeys;
  /** IDRkms, copied into TP Data. */
  kms?: MikeyIdentity;
  /** Flag overrides (defaults: {@link defaultTicketFlags}). */
  flags?: Partial<TicketFlags>;
  /** PRF func for keys derived from the TGK (default PRF-HMAC-SHA-256). */
  prf?: number;
  /** Ticket id (16 random octets by default). */
  ticketId?: Uint8Array;
}

/** A verified, decrypted ticket. */
export interface OpenedTicket {
  ticketId: Uint8Array;
  keyId: number;
  issuedAtMs: number;
  validFromMs: number;
  validToMs: number;
  initiator: MikeyIdentity;
  responder: MikeyIdentity;
  policy: ResolutionPolicy;
  keys: TicketKeys;
  flags: TicketFlags;
  prf: number;
}

/** Options of {@link KmsTicketCodec}. */
export interface KmsTicketCodecOptions {
  /** KMS master keys (32 octets each) by key id; several allow rotation. */
  masterKeys: ReadonlyMap<number, Uint8Array> | Readonly<Record<number, Uint8Array>>;
  /** Key id used to seal new tickets. */
  currentKeyId: number;
}

function thdr(keyId: number, next: number): Uint8Array {
  return new Writer().u8(next, 'THDR next').u16(5, 'THDR length').u8(TICKET_FORMAT_VERSION, 'format').u32(keyId, 'key id').finish();
}

/**
 * Seals and opens this project's tickets with a KMS master key
 * (encrypt-then-MAC; see the module comment for the layout).
 */
export class KmsTicketCodec {
  private readonly keys = new Map<number, Uint8Array>();
  readonly currentKeyId: number;

  constructor(o: KmsTicketCodecOptions) {
    const entries = o.masterKeys instanceof Map ? [...o.masterKeys.entries()] : Object.entries(o.masterKeys).map(([k, v]) => [Number(k), v] as const);
    for (const [id, key] of entries) {
      if (!(key instanceof Uint8Array) || key.length !== 32) throw new MikeyEncodeError(`master key ${id}`, 'must be 32 octets');
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new MikeyEncodeError('master key id', `${id} is not a 32-bit unsigned integer`);
      this.keys.set(id, Uint8Array.from(key));
    }
    if (!this.keys.has(o.currentKeyId)) throw new MikeyEncodeError('currentKeyId', `no master key with id ${o.currentKeyId}`);
    this.currentKeyId = o.currentKeyId;
  }

  private protectionKeys(keyId: number, rand: Uint8Array): MessageKeys {
    const mk = this.keys.get(keyId);
    if (!mk) throw new MikeyTicketError('unknown-key-id', `no KMS master key with id ${keyId}`);
    return deriveTicketProtectionKeys(mk, rand, ALGS);
  }

  /** Builds a sealed TICKET payload (Ticket Policy in the clear, keys encrypted, everything MAC'd). */
  seal(i: TicketSealInput): TicketPayload {
    if (!(i.validToMs > i.validFromMs)) throw new MikeyEncodeError('ticket validity', 'validTo must be after validFrom');
    const ticketId = i.ticketId ?? new Uint8Array(randomBytes(TICKET_ID_LENGTH));
    const flags = defaultTicketFlags(i.flags);
    const prf = i.prf ?? PrfFunc.HMAC_SHA_256;
    const tp = buildTicketPolicyData({ kms: i.kms, initiator: i.initiator, validFromMs: i.validFromMs, validToMs: i.validToMs, responders: [i.responder], policy: i.policy });
    const ticket: TicketPayload = { kind: 'TICKET', ...IMSLAB_TICKET, prf, flags, tpData: tp, ticketData: new Uint8Array(0) };
    const t = ntpFromMs(i.issuedAtMs);
    const k = this.protectionKeys(this.currentKeyId, ticketId);
    const keyData: KeyData[] = [{ keyType: KeyDataType.MPK, key: i.keys.mpki, kv: { kvType: 0 } }];
    if (i.keys.mpkr) keyData.push({ keyType: KeyDataType.MPK, key: i.keys.mpkr, kv: { kvType: 0 } });
    keyData.push(i.keys.tgkSalt ? { keyType: KeyDataType.TGK_SALT, key: i.keys.tgk, salt: i.keys.tgkSalt, kv: { kvType: 0 } } : { keyType: KeyDataType.TGK, key: i.keys.tgk, kv: { kvType: 0 } });
    const body: Payload[] = [
      { kind: 'T', tsType: TsType.NTP_UTC, value: t },
      { kind: 'RAND', rand: ticketId },
      idrPayload(IdRole.INITIATOR, i.initiator),
      idrPayload(IdRole.RESPONDER, i.responder),
      { kind: 'TR', role: TsRole.VALID_FROM, tsType: TsType.NTP_UTC, value: ntpFromMs(i.validFromMs) },
      { kind: 'TR', role: TsRole.VALID_TO, tsType: TsType.NTP_UTC, value: ntpFromMs(i.validToMs) },
      resolutionPolicyExt(i.policy),
      sealKemac(keyData, k, { encrAlg: ALGS.encrAlg, macAlg: MacAlg.NULL, csbId: CSB_NONE, t }),
      { kind: 'V', macAlg: ALGS.macAlg, mac: new Uint8Array(32) },
    ];
    // Ticket Data = THDR || payload chain; the chain is the nested encoding without its First Payload octet.
    const chain = nestedChainCodec.encode(body, 'ticket data').subarray(1);
    const data = new Uint8Array(8 + chain.length);
    data.set(thdr(this.currentKeyId, PayloadType.T));
    data.set(chain, 8);
    if (data.length > MAX_TICKET_DATA) throw new MikeyEncodeError('ticket data', `${data.length} octets exceed ${MAX_TICKET_DATA}`);
    const policyPart = encodeTicketPolicyPart(ticket, nestedChainCodec);
    const mac = computeMac(ALGS.macAlg, k.authKey, concat2(policyPart, data.subarray(0, data.length - 32)));
    data.set(mac, data.length - 32);
    ticket.ticketData = data;
    return ticket;
  }

  /**
   * Verifies and decrypts a ticket. Order: ticket type, THDR key id, payload
   * structure, MAC (→ {@link MikeyAuthError} 'ticket-mac-mismatch'), then
   * contents, consistency with the clear Ticket Policy, and validity at
   * `nowMs` (→ {@link MikeyTicketError} 'expired' / 'not-yet-valid').
   *
   * @param skewMs tolerance for the start of validity (default 0)
   */
  open(ticket: TicketPayload, nowMs: number, skewMs = 0): OpenedTicket {
    if (ticket.ticketType !== IMSLAB_TICKET.ticketType || ticket.subtype !== IMSLAB_TICKET.subtype || ticket.version !== IMSLAB_TICKET.version) {
      throw new MikeyTicketError('unsupported-ticket-type', `ticket type ${ticket.ticketType} subtype ${ticket.subtype} version ${ticket.version} (expected 2/1/1)`);
    }
    const data = ticket.ticketData;
    if (data.length > MAX_TICKET_DATA) throw new MikeyTicketError('malformed', `ticket data of ${data.length} octets exceeds ${MAX_TICKET_DATA}`);
    const r = new Reader(data, 0, PayloadType.TICKET);
    const next = r.u8('THDR next payload');
    const h = r.sub(r.u16('THDR Data length'), 'THDR data');
    const fmt = h.u8('ticket format');
    const keyId = h.u32('KMS key id');
    if (fmt !== TICKET_FORMAT_VERSION || h.remaining !== 0) throw new MikeyTicketError('unsupported-ticket-type', `ticket format ${fmt} with ${h.remaining} extra THDR octets`);
    const body = decodeChain(r, next, 0, { nested: true });
    const v = body[body.length - 1];
    if (!v || v.kind !== 'V' || v.macAlg !== ALGS.macAlg) throw new MikeyAuthError('missing-verification', 'ticket data does not end with an HMAC-SHA-256 V payload', PayloadType.TICKET);
    const rand = body.find((p) => p.kind === 'RAND');
    if (!rand || rand.kind !== 'RAND' || rand.rand.length !== TICKET_ID_LENGTH) throw new MikeyTicketError('malformed', 'ticket data has no 16-octet RAND');
    const k = this.protectionKeys(keyId, rand.rand);
    const policyPart = encodeTicketPolicyPart(ticket, nestedChainCodec);
    const mac = computeMac(ALGS.macAlg, k.authKey, concat2(policyPart, data.subarray(0, data.length - 32)));
    if (!timingSafeEqual(mac, data.subarray(data.length - 32))) throw new MikeyAuthError('ticket-mac-mismatch', 'ticket MAC does not verify (forged or modified ticket)', PayloadType.TICKET);
    // Authentic from here on.
    const kinds = body.map((p) => (p.kind === 'IDR' || p.kind === 'TR' ? `${p.kind}${p.role}` : p.kind)).join(',');
    if (next !== PayloadType.T || kinds !== 'T,RAND,IDR1,IDR2,TR2,TR3,GENERAL_EXT,KEMAC,V') throw new MikeyTicketError('malformed', `unexpected ticket data payloads ${kinds}`);
    const [t, , idri, idrr, trs, tre, ext, kemac] = body as [Payload, Payload, Payload, Payload, Payload, Payload, Payload, Payload];
    if (t.kind !== 'T' || idri.kind !== 'IDR' || idrr.kind !== 'IDR' || trs.kind !== 'TR' || tre.kind !== 'TR' || kemac.kind !== 'KEMAC') throw new MikeyTicketError('malformed', 'ticket data payload kinds');
    if (t.tsType !== TsType.NTP_UTC || trs.tsType !== TsType.NTP_UTC || tre.tsType !== TsType.NTP_UTC) throw new MikeyTicketError('malformed', 'ticket timestamps must be NTP-UTC');
    const policy = resolutionPolicyOf(ext);
    if (!policy) throw new MikeyTicketError('malformed', 'ticket has no resolution policy');
    const keyData = openKemac(kemac, k, { csbId: CSB_NONE, t: t.value });
    const keys = keysFrom(keyData);
    const out: OpenedTicket = {
      ticketId: rand.rand,
      keyId,
      issuedAtMs: msFromNtp(t.value),
      validFromMs: msFromNtp(trs.value),
      validToMs: msFromNtp(tre.value),
      initiator: identityOf(idri),
      responder: identityOf(idrr),
      policy,
      keys,
      flags: ticket.flags,
      prf: ticket.prf,
    };
    checkClearPolicy(ticket, out);
    if (nowMs > out.validToMs) throw new MikeyTicketError('expired', `ticket expired at ${new Date(out.validToMs).toISOString()}`);
    if (nowMs + skewMs < out.validFromMs) throw new MikeyTicketError('not-yet-valid', `ticket valid from ${new Date(out.validFromMs).toISOString()}`);
    return out;
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

function keysFrom(kd: KeyData[]): TicketKeys {
  const mpks = kd.filter((k) => k.keyType === KeyDataType.MPK);
  const tgks = kd.filter((k) => k.keyType === KeyDataType.TGK || k.keyType === KeyDataType.TGK_SALT);
  if (mpks.length < 1 || mpks.length > 2 || tgks.length !== 1 || kd.length !== mpks.length + 1) throw new MikeyTicketError('malformed', 'ticket key data must be MPKi, [MPKr], TGK');
  const out: TicketKeys = { mpki: mpks[0]!.key, tgk: tgks[0]!.key };
  if (mpks[1]) out.mpkr = mpks[1].key;
  if (tgks[0]!.salt) out.tgkSalt = tgks[0]!.salt;
  return out;
}

/** The clear Ticket Policy (already MAC'd) must agree with the sealed fields. */
function checkClearPolicy(ticket: TicketPayload, o: OpenedTicket): void {
  const d = readTicketPolicyData(ticket.tpData);
  const bad: string[] = [];
  if (d.initiator && !identitiesEqual(d.initiator, o.initiator)) bad.push('IDRi');
  if (d.responders.length > 0 && !d.responders.some((r) => identitiesEqual(r, o.responder))) bad.push('IDRr');
  if (d.validFromMs !== undefined && d.validFromMs !== o.validFromMs) bad.push('TRs');
  if (d.validToMs !== undefined && d.validToMs !== o.validToMs) bad.push('TRe');
  if (d.policy !== undefined && d.policy !== o.policy) bad.push('resolution policy');
  if (bad.length > 0) throw new MikeyTicketError('policy-mismatch', `Ticket Policy disagrees with the ticket data on ${bad.join(', ')}`);
}

/** True when two TICKET payloads are the same ticket (same Ticket Policy part and Ticket Data). */
export function sameTicket(a: TicketPayload, b: TicketPayload): boolean {
  return bytesEqual(a.ticketData, b.ticketData) && bytesEqual(encodeTicketPolicyPart(a, nestedChainCodec), encodeTicketPolicyPart(b, nestedChainCodec));
}
