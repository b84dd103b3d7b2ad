/**
 * MIKEY-SAKKE (RFC 6509): the one-message exchange that carries a Group
 * Master Key to a group member, as TS 33.180 annex E.2 builds it for MCPTT:
 *
 *   I_MESSAGE = HDR, T, RAND, IDRi, IDRr, IDRkmsi, IDRkmsr, {SP}, SAKKE, SIGN
 *
 * (RFC 6509 sec. 2.1). HDR: data type 26, PRF-HMAC-SHA-256, CSB ID = the
 * receiver's GUK-ID, empty CS ID map (#CS 0: TS 33.180's default profile;
 * the SP payload names the SRTP profile). SAKKE: parameter set 1, ID scheme
 * 1, the GMK encapsulated as SSV to the receiver's RFC 6509 sec. 3.2
 * identifier. SIGN: type 2, an ECCSI signature by the initiator (the group
 * management server) over the whole message up to the signature field
 * (RFC 3830 sec. 5.2: everything but the Signature itself).
 *
 * Identities: IDRi / IDRr / IDRkmsi / IDRkmsr carry URIs (ID type 1); the
 * ECCSI and SAKKE identifiers are "YYYY-MM\0URI\0" for the month of T.
 */
import { eccsiSign, eccsiVerify, mikeySakkeIdentifier, sakkeDecapsulate, sakkeEncapsulate, SakkeError, type EccsiUserKey } from '@imslab/sakke';
import { bytesEqual } from '../bytes.ts';
import { DataType, IdRole, IdType, PrfFunc, SakkeIdRole, SakkeIdScheme, SakkeParams, SignType, dataTypeName } from '../codes.ts';
import { MikeyAuthError, MikeyProtocolError, MikeySakkeError } from '../errors.ts';
import { validateGrammar } from '../grammar.ts';
import { gmkIdOf, gmkSrtpKeys, GMK_PURPOSE_TAG, gukIdOf, purposeTag, type GmkSrtpKeys } from '../gmk.ts';
import { decodeMessageWithOffsets, encodeMessage, type MikeyMessage } from '../message.ts';
import { srtpKeyLengths, srtpPolicyParams, srtpProfileOf, type SrtpPolicyProfile } from '../payloads/sp.ts';
import { msFromTimestamp } from '../payloads/timestamp.ts';
import type { IdrPayload, Payload, SakkePayload, SignPayload } from '../payloads/types.ts';
import { checkTimestamp, DEFAULT_WINDOW_MS, type ReplayCache } from '../replay.ts';
import { random, timestampPayload, type BuiltMessage } from './common.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Input of {@link buildGmkIMessage}: who sends which GMK to whom. */
export interface GmkIMessageInput {
  /** The Group Master Key: the SAKKE SSV, 16 octets (n = 128). */
  gmk: Uint8Array;
  /** 32-bit GMK-ID, purpose tag 0 in its 4 most significant bits. */
  gmkId: number;
  /** The initiator (group management server): its URI, KMS URI, KPAK and ECCSI key for this month's identifier. */
  initiator: { uri: string; kmsUri: string; kpak: Uint8Array; key: EccsiUserKey };
  /** The receiving member: its URI, KMS URI and its KMS's SAKKE public key Z. */
  responder: { uri: string; kmsUri: string; kmsPublicKey: Uint8Array };
  /** SRTP profile for the SP payload (default AES_CM_128_HMAC_SHA1_80). */
  profile?: SrtpPolicyProfile;
  /** Message time (default now). */
  nowMs?: number;
  /** RAND (default 16 random octets). */
  rand?: Uint8Array;
}

/** A built I_MESSAGE and the values the sender keeps. */
export interface BuiltGmkIMessage extends BuiltMessage {
  gukId: number;
  rand: Uint8Array;
}

function idr(role: number, uri: string): IdrPayload {
  return { kind: 'IDR', role, idType: IdType.URI, data: enc.encode(uri) };
}

/** The octets the ECCSI signature covers: the message up to (and including the header of) SIGN. */
function signedPart(bytes: Uint8Array, sigLength: number): Uint8Array {
  return bytes.subarray(0, bytes.length - sigLength);
}

/** Builds and signs a MIKEY-SAKKE I_MESSAGE carrying a GMK to one member (RFC 6509 sec. 2.1, TS 33.180 E.2). */
export function buildGmkIMessage(i: GmkIMessageInput): BuiltGmkIMessage {
  if (purposeTag(i.gmkId) !== GMK_PURPOSE_TAG) throw new MikeyProtocolError('unsupported-parameter', `GMK-ID must carry purpose tag ${GMK_PURPOSE_TAG} (group)`);
  const nowMs = i.nowMs ?? Date.now();
  const at = new Date(nowMs);
  const rand = i.rand ?? random(16);
  const gukId = gukIdOf(i.gmk, i.gmkId, i.responder.uri);
  const sed = sakkeEncapsulate(i.gmk, mikeySakkeIdentifier(i.responder.uri, at), i.responder.kmsPublicKey);
  const payloads: Payload[] = [
    timestampPayload(nowMs),
    { kind: 'RAND', rand },
    idr(IdRole.INITIATOR, i.initiator.uri),
    idr(IdRole.RESPONDER, i.responder.uri),
    idr(SakkeIdRole.KMS_INITIATOR, i.initiator.kmsUri),
    idr(SakkeIdRole.KMS_RESPONDER, i.responder.kmsUri),
    { kind: 'SP', policyNo: 0, protType: 0, params: srtpPolicyParams(i.profile ?? 'AES_CM_128_HMAC_SHA1_80') },
    { kind: 'SAKKE', params: SakkeParams.PARAMETER_SET_1, idScheme: SakkeIdScheme.TEL_URI_MONTHLY_KEYS, data: sed },
  ];
  const header: MikeyMessage['header'] = { version: 1, dataType: DataType.SAKKE, v: false, prf: PrfFunc.HMAC_SHA_256, csbId: gukId, csIdMap: { type: 'empty', nCs: 0 } };
  // Encode with a placeholder of the signature's length: SIGN's length field is part of what is signed.
  const sigLength = 129;
  const draft = encodeMessage({ header, payloads: [...payloads, { kind: 'SIGN', sType: SignType.ECCSI, signature: new Uint8Array(sigLength) }] });
  const signature = eccsiSign(signedPart(draft, sigLength), { kpak: i.initiator.kpak, id: mikeySakkeIdentifier(i.initiator.uri, at), key: i.initiator.key });
  const message: MikeyMessage = { header, payloads: [...payloads, { kind: 'SIGN', sType: SignType.ECCSI, signature }] };
  return { bytes: encodeMessage(message), message, gukId, rand };
}

/** How a member checks and opens an I_MESSAGE. */
export interface ReceiveGmkOptions {
  /** This member's URI (must equal IDRr). */
  uri: string;
  /** This member's RSK for this month's identifier, and its KMS's public key Z. */
  rsk: Uint8Array;
  kmsPublicKey: Uint8Array;
  /** KPAK of the initiator's KMS, by KMS URI (IDRkmsi); `undefined` = unknown KMS. */
  kpakFor: (kmsUri: string) => Uint8Array | undefined;
  /** Initiators this member takes GMKs from (e.g. its group management server); absent = any signer whose signature verifies. */
  trustedInitiators?: readonly string[];
  /** Replay protection (RFC 3830 sec. 5.4); one cache per member. */
  replay: ReplayCache;
  nowMs?: number;
  windowMs?: number;
}

/** What a verified I_MESSAGE gives the member. */
export interface ReceivedGmk {
  gmk: Uint8Array;
  gmkId: number;
  gukId: number;
  rand: Uint8Array;
  initiator: string;
  kmsInitiator: string;
  timestampMs: number;
  profile: SrtpPolicyProfile | undefined;
  /** SRTP master key, salt and MKI for this member (TS 33.180 clause 7.4.2). */
  srtp: GmkSrtpKeys;
}

function find<K extends Payload['kind']>(ps: Payload[], kind: K, pred: (p: Extract<Payload, { kind: K }>) => boolean = () => true): Extract<Payload, { kind: K }> | undefined {
  return ps.find((p): p is Extract<Payload, { kind: K }> => p.kind === kind && pred(p as Extract<Payload, { kind: K }>));
}

function uriOf(p: IdrPayload | undefined, what: string): string {
  if (p === undefined) throw new MikeyProtocolError('missing-payload', `${what} is required in a GMK I_MESSAGE`);
  if (p.idType !== IdType.URI) throw new MikeyProtocolError('identity-mismatch', `${what} must be a URI (ID type 1)`, 7);
  return dec.decode(p.data);
}

/**
 * Parses and verifies a MIKEY-SAKKE I_MESSAGE and returns the GMK:
 * grammar (RFC 6509 sec. 2.1), IDRr is this member, timestamp window,
 * ECCSI signature under IDRi's identifier and the KPAK of IDRkmsi, replay
 * (after the signature, so forgeries cannot fill the cache), SAKKE params,
 * decapsulation (RFC 6508 sec. 6.2.2), GMK-ID purpose tag. Each refusal is
 * a typed {@link MikeyError}; nothing from the message is used before the
 * signature verified.
 */
export function receiveGmkIMessage(bytes: Uint8Array, o: ReceiveGmkOptions): ReceivedGmk {
  const { message, offsets } = decodeMessageWithOffsets(bytes);
  const h = message.header;
  if (h.dataType !== DataType.SAKKE) throw new MikeyProtocolError('unexpected-data-type', `expected SAKKE (26), got ${dataTypeName(h.dataType)}`, 11);
  validateGrammar(message, offsets);
  const ps = message.payloads;
  const t = find(ps, 'T')!;
  const sign = find(ps, 'SIGN') as SignPayload;
  const sakke = find(ps, 'SAKKE') as SakkePayload;
  const initiator = uriOf(find(ps, 'IDR', (p) => p.role === IdRole.INITIATOR), 'IDRi');
  const responder = uriOf(find(ps, 'IDR', (p) => p.role === IdRole.RESPONDER), 'IDRr');
  const kmsInitiator = uriOf(find(ps, 'IDR', (p) => p.role === SakkeIdRole.KMS_INITIATOR), 'IDRkmsi');
  if (responder !== o.uri) throw new MikeyProtocolError('identity-mismatch', `IDRr is ${responder}, not this member (${o.uri})`, 7);
  const nowMs = o.nowMs ?? Date.now();
  const windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
  const messageMs = checkTimestamp(t, nowMs, windowMs);
  if (sign.sType !== SignType.ECCSI) throw new MikeyAuthError('unsupported-algorithm', `SIGN type ${sign.sType}; MIKEY-SAKKE uses ECCSI (2)`, 4);
  if (o.trustedInitiators !== undefined && !o.trustedInitiators.includes(initiator)) throw new MikeySakkeError('untrusted-initiator', `${initiator} is not a group management server of this member`);
  const kpak = o.kpakFor(kmsInitiator);
  if (kpak === undefined) throw new MikeySakkeError('unknown-kms', `no KPAK known for KMS ${kmsInitiator}`);
  // The month of the identifiers is the month of T (RFC 6509 sec. 3.2).
  const at = new Date(msFromTimestamp(t.tsType, t.value) ?? messageMs);
  const v = eccsiVerify(signedPart(bytes, sign.signature.length), sign.signature, mikeySakkeIdentifier(initiator, at), kpak);
  if (!v.valid) throw new MikeySakkeError('signature-invalid', `ECCSI signature of ${initiator} (KMS ${kmsInitiator}) does not verify: ${v.error.message}`);
  o.replay.check(`sakke:${Buffer.from(sign.signature.subarray(0, 64)).toString('hex')}`, messageMs, nowMs);
  if (sakke.params !== SakkeParams.PARAMETER_SET_1 || sakke.idScheme !== SakkeIdScheme.TEL_URI_MONTHLY_KEYS) throw new MikeySakkeError('unsupported-sakke-params', `SAKKE params ${sakke.params}, ID scheme ${sakke.idScheme}; supported: 1, 1`);
  let gmk: Uint8Array;
  try {
    gmk = sakkeDecapsulate(sakke.data, mikeySakkeIdentifier(o.uri, at), o.rsk, o.kmsPublicKey);
  } catch (e) {
    if (e instanceof SakkeError) throw new MikeySakkeError('sakke-failed', e.message);
    throw e;
  }
  const gmkId = gmkIdOf(gmk, h.csbId, o.uri);
  if (purposeTag(gmkId) !== GMK_PURPOSE_TAG) throw new MikeySakkeError('unknown-gmk-id', `GMK-ID 0x${gmkId.toString(16)} has purpose tag ${purposeTag(gmkId)}, not a group key`);
  const sp = find(ps, 'SP');
  const profile = sp === undefined ? undefined : srtpProfileOf(sp);
  const lengths: { keyLength?: number; saltLength?: number } = profile === undefined ? {} : srtpKeyLengths(profile);
  const rand = find(ps, 'RAND')!.rand;
  return { gmk, gmkId, gukId: h.csbId, rand, initiator, kmsInitiator, timestampMs: messageMs, profile, srtp: gmkSrtpKeys({ gmk, gmkId, gukId: h.csbId, rand, keyLength: lengths.keyLength, saltLength: lengths.saltLength }) };
}

/** Whether two received GMK contexts are the same key (same GMK and GMK-ID). */
export function sameGmk(a: { gmk: Uint8Array; gmkId: number }, b: { gmk: Uint8Array; gmkId: number }): boolean {
  return a.gmkId === b.gmkId && bytesEqual(a.gmk, b.gmk);
}
