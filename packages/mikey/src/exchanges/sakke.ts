/**
 * MIKEY-SAKKE (RFC 6509): the one-message exchange that carries a key as
 * the SAKKE SSV, signed by the sender with ECCSI:
 *
 *   I_MESSAGE = HDR, T, RAND, IDRi, IDRr, IDRkmsi, IDRkmsr, {SP}, SAKKE, SIGN
 *
 * (RFC 6509 sec. 2.1). TS 33.180 uses it for two keys, built and checked
 * here by one builder and one receiver that differ only in the key and its
 * CSB ID:
 * - a Group Master Key from the group management server to a member
 *   (TS 33.180 clause 7.4, annex E.2): CSB ID = the receiver's GUK-ID, the
 *   GMK-ID hidden behind it (gmk.ts);
 * - a Client-Server Key from an MCPTT client to the MCPTT server (TS 33.180
 *   clause 7.3): CSB ID = the CSK-ID itself, point to point (csk.ts).
 *
 * HDR: data type 26, PRF-HMAC-SHA-256, empty CS ID map (#CS 0: TS 33.180's
 * default profile; the SP payload names the SRTP profile). SAKKE: parameter
 * set 1, ID scheme 1, the key encapsulated as SSV to the receiver's RFC
 * 6509 sec. 3.2 identifier. SIGN: type 2, an ECCSI signature by the
 * initiator over the whole message up to the signature field (RFC 3830
 * sec. 5.2: everything but the Signature itself).
 *
 * Identities: IDRi / IDRr / IDRkmsi / IDRkmsr carry URIs (ID type 1); the
 * ECCSI and SAKKE identifiers are "YYYY-MM\0URI\0" for the month of T.
 */
import { eccsiSign, eccsiVerify, mikeySakkeIdentifier, sakkeDecapsulate, sakkeEncapsulate, SakkeError, type EccsiUserKey } from '@imslab/sakke';
import { bytesEqual } from '../bytes.ts';
import { DataType, IdRole, IdType, PrfFunc, SakkeIdRole, SakkeIdScheme, SakkeParams, SignType, dataTypeName } from '../codes.ts';
import { CSK_LENGTH, CSK_PURPOSE_TAG, cskSrtpKeys, isCskId } from '../csk.ts';
import { MikeyAuthError, MikeyProtocolError, MikeySakkeError } from '../errors.ts';
import { validateGrammar } from '../grammar.ts';
import { gmkIdOf, gmkSrtpKeys, GMK_PURPOSE_TAG, gukIdOf, purposeTag, type GmkSrtpKeys } from '../gmk.ts';
import type { SrtpMasterKeys } from '../key-derivation.ts';
import { decodeMessageWithOffsets, encodeMessage, type MikeyMessage } from '../message.ts';
import { srtpKeyLengths, srtpPolicyParams, srtpProfileOf, type SrtpPolicyProfile } from '../payloads/sp.ts';
import { msFromTimestamp } from '../payloads/timestamp.ts';
import type { IdrPayload, Payload, SakkePayload, SignPayload } from '../payloads/types.ts';
import { checkTimestamp, DEFAULT_WINDOW_MS, type ReplayCache } from '../replay.ts';
import { random, timestampPayload, type BuiltMessage } from './common.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The signer of an I_MESSAGE: its URI, KMS URI, KPAK and ECCSI key for this month's identifier. */
interface SakkeInitiator {
  uri: string;
  kmsUri: string;
  kpak: Uint8Array;
  key: EccsiUserKey;
}

/** The receiver of an I_MESSAGE: its URI, KMS URI and its KMS's SAKKE public key Z. */
interface SakkeResponder {
  uri: string;
  kmsUri: string;
  kmsPublicKey: Uint8Array;
}

/** What every I_MESSAGE input has besides its key: the signer, the receiver, and the message's own values. */
interface IMessageParties {
  initiator: SakkeInitiator;
  responder: SakkeResponder;
  /** SRTP profile for the SP payload (default AES_CM_128_HMAC_SHA1_80). */
  profile?: SrtpPolicyProfile;
  /** Message time (default now). */
  nowMs?: number;
  /** RAND (default 16 random octets). */
  rand?: Uint8Array;
}

/** Input of {@link buildGmkIMessage}: who sends which GMK to whom (initiator: the group management server; responder: the member). */
export interface GmkIMessageInput extends IMessageParties {
  /** The Group Master Key: the SAKKE SSV, 16 octets (n = 128). */
  gmk: Uint8Array;
  /** 32-bit GMK-ID, purpose tag 0 in its 4 most significant bits. */
  gmkId: number;
}

/** A built I_MESSAGE and the values the sender keeps. */
export interface BuiltGmkIMessage extends BuiltMessage {
  gukId: number;
  rand: Uint8Array;
}

/** Input of {@link buildCskIMessage}: which CSK an MCPTT client (the initiator, the signer) sends to its MCPTT server (the responder). */
export interface CskIMessageInput extends IMessageParties {
  /** The Client-Server Key: the SAKKE SSV, 16 octets (n = 128). */
  csk: Uint8Array;
  /** 32-bit CSK-ID, purpose tag 2 in its 4 most significant bits (csk.ts). */
  cskId: number;
}

/** A built CSK I_MESSAGE and what the client keeps: the RAND and its own SRTP keys from the CSK. */
export interface BuiltCskIMessage extends BuiltMessage {
  rand: Uint8Array;
  /** SRTP master key and salt from the CSK (csk.ts {@link cskSrtpKeys}), for the SP payload's profile. */
  srtp: SrtpMasterKeys;
}

/** Input of the shared builder: the key as SSV and the CSB ID that names it to the receiver. */
interface SakkeIMessageInput extends IMessageParties {
  ssv: Uint8Array;
  csbId: number;
}

function idr(role: number, uri: string): IdrPayload {
  return { kind: 'IDR', role, idType: IdType.URI, data: enc.encode(uri) };
}

/** The octets the ECCSI signature covers: the message up to (and including the header of) SIGN. */
function signedPart(bytes: Uint8Array, sigLength: number): Uint8Array {
  return bytes.subarray(0, bytes.length - sigLength);
}

/** SRTP key and salt lengths of the SP payload's profile; none = the KDF's defaults (16, 14). */
function srtpLengthsOf(profile: SrtpPolicyProfile | undefined): { keyLength?: number; saltLength?: number } {
  return profile === undefined ? {} : srtpKeyLengths(profile);
}

/** Builds and signs a MIKEY-SAKKE I_MESSAGE carrying `ssv` under HDR CSB ID `csbId` (RFC 6509 sec. 2.1), for either purpose. */
function buildSakkeIMessage(i: SakkeIMessageInput): BuiltMessage & { rand: Uint8Array } {
  const nowMs = i.nowMs ?? Date.now();
  const at = new Date(nowMs);
  const rand = i.rand ?? random(16);
  const sed = sakkeEncapsulate(i.ssv, mikeySakkeIdentifier(i.responder.uri, at), i.responder.kmsPublicKey);
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
  const header: MikeyMessage['header'] = { version: 1, dataType: DataType.SAKKE, v: false, prf: PrfFunc.HMAC_SHA_256, csbId: i.csbId, csIdMap: { type: 'empty', nCs: 0 } };
  // Encode with a placeholder of the signature's length: SIGN's length field is part of what is signed.
  const sigLength = 129;
  const draft = encodeMessage({ header, payloads: [...payloads, { kind: 'SIGN', sType: SignType.ECCSI, signature: new Uint8Array(sigLength) }] });
  const signature = eccsiSign(signedPart(draft, sigLength), { kpak: i.initiator.kpak, id: mikeySakkeIdentifier(i.initiator.uri, at), key: i.initiator.key });
  const message: MikeyMessage = { header, payloads: [...payloads, { kind: 'SIGN', sType: SignType.ECCSI, signature }] };
  return { bytes: encodeMessage(message), message, rand };
}

/** Builds and signs a MIKEY-SAKKE I_MESSAGE carrying a GMK to one member (RFC 6509 sec. 2.1, TS 33.180 E.2). */
export function buildGmkIMessage(i: GmkIMessageInput): BuiltGmkIMessage {
  if (purposeTag(i.gmkId) !== GMK_PURPOSE_TAG) throw new MikeyProtocolError('unsupported-parameter', `GMK-ID must carry purpose tag ${GMK_PURPOSE_TAG} (group)`);
  // Each member sees the GMK-ID hidden behind its own GUK-ID (gmk.ts).
  const gukId = gukIdOf(i.gmk, i.gmkId, i.responder.uri);
  const { bytes, message, rand } = buildSakkeIMessage({ ssv: i.gmk, csbId: gukId, initiator: i.initiator, responder: i.responder, profile: i.profile, nowMs: i.nowMs, rand: i.rand });
  return { bytes, message, gukId, rand };
}

/**
 * Builds and signs the I_MESSAGE in which an MCPTT client sends a CSK it
 * generated to the MCPTT server (TS 33.180 clause 7.3): SAKKE to the
 * server's identity, ECCSI by the client, HDR CSB ID = the CSK-ID. Returns
 * the client's own SRTP keys from the CSK, which the server derives alike.
 */
export function buildCskIMessage(i: CskIMessageInput): BuiltCskIMessage {
  if (!isCskId(i.cskId)) throw new MikeyProtocolError('unsupported-parameter', `CSK-ID must be a 32-bit value carrying purpose tag ${CSK_PURPOSE_TAG} (client-server key)`);
  // Checked here, not only by SAKKE: a wrong-length CSK is a caller error named as such.
  if (!(i.csk instanceof Uint8Array) || i.csk.length !== CSK_LENGTH) throw new MikeyProtocolError('unsupported-parameter', `the CSK must be ${CSK_LENGTH} octets (the SAKKE SSV, n = 128)`);
  const built = buildSakkeIMessage({ ssv: i.csk, csbId: i.cskId, initiator: i.initiator, responder: i.responder, profile: i.profile, nowMs: i.nowMs, rand: i.rand });
  const lengths = srtpLengthsOf(i.profile ?? 'AES_CM_128_HMAC_SHA1_80');
  return { ...built, srtp: cskSrtpKeys({ csk: i.csk, cskId: i.cskId, rand: built.rand, keyLength: lengths.keyLength, saltLength: lengths.saltLength }) };
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

/** How the MCPTT server checks and opens a client's CSK I_MESSAGE. */
export interface ReceiveCskOptions {
  /** The server's URI (must equal IDRr). */
  uri: string;
  /** The server's RSK for this month's identifier, and its KMS's public key Z. */
  rsk: Uint8Array;
  kmsPublicKey: Uint8Array;
  /** KPAK of the client's KMS, by KMS URI (IDRkmsi); `undefined` = unknown KMS. */
  kpakFor: (kmsUri: string) => Uint8Array | undefined;
  /**
   * The URI the sender was authenticated as (e.g. the SIP P-Asserted-Identity
   * of the request that carried the I_MESSAGE; the URI, not a name-addr).
   * IDRi must name it (compared case-insensitively), so a client cannot
   * hand the server a CSK in another user's name even with a valid key of
   * that user's: the ECCSI signature proves who signed, this binds the
   * signer to the session. Absent = any signer whose signature verifies;
   * a server should always pass it.
   */
  expectedInitiator?: string;
  /** Replay protection (RFC 3830 sec. 5.4); one cache per server. */
  replay: ReplayCache;
  nowMs?: number;
  windowMs?: number;
}

/** What a verified CSK I_MESSAGE gives the server. */
export interface ReceivedCsk {
  csk: Uint8Array;
  cskId: number;
  rand: Uint8Array;
  /** IDRi: the client that generated and signed the CSK. */
  initiator: string;
  kmsInitiator: string;
  timestampMs: number;
  profile: SrtpPolicyProfile | undefined;
  /** SRTP master key and salt from the CSK, equal to the client's {@link BuiltCskIMessage.srtp}. */
  srtp: SrtpMasterKeys;
}

/** Options of the shared receiver: what both receivers' options have in common. */
interface OpenSakkeOptions {
  uri: string;
  rsk: Uint8Array;
  kmsPublicKey: Uint8Array;
  kpakFor: (kmsUri: string) => Uint8Array | undefined;
  replay: ReplayCache;
  nowMs?: number;
  windowMs?: number;
}

/** Which key the message is expected to carry and who receives it, for the wording of refusals. */
interface SakkePurpose {
  key: 'GMK' | 'CSK';
  receiver: 'member' | 'server';
  /**
   * Refuses an IDRi the receiver does not take this key from; runs after
   * the cheap checks and before the KPAK look-up and the signature.
   */
  checkInitiator: (initiator: string) => void;
}

/** A verified, decapsulated I_MESSAGE before its CSB ID is read for either purpose. */
interface OpenedSakkeIMessage {
  ssv: Uint8Array;
  csbId: number;
  rand: Uint8Array;
  initiator: string;
  kmsInitiator: string;
  timestampMs: number;
  profile: SrtpPolicyProfile | undefined;
}

function find<K extends Payload['kind']>(ps: Payload[], kind: K, pred: (p: Extract<Payload, { kind: K }>) => boolean = () => true): Extract<Payload, { kind: K }> | undefined {
  return ps.find((p): p is Extract<Payload, { kind: K }> => p.kind === kind && pred(p as Extract<Payload, { kind: K }>));
}

function uriOf(p: IdrPayload | undefined, what: string, key: SakkePurpose['key']): string {
  if (p === undefined) throw new MikeyProtocolError('missing-payload', `${what} is required in a ${key} I_MESSAGE`);
  if (p.idType !== IdType.URI) throw new MikeyProtocolError('identity-mismatch', `${what} must be a URI (ID type 1)`, 7);
  return dec.decode(p.data);
}

/**
 * Parses and verifies a MIKEY-SAKKE I_MESSAGE and returns its SSV, for
 * either purpose: grammar (RFC 6509 sec. 2.1), IDRr is this receiver,
 * timestamp window, SIGN type, the purpose's initiator check, ECCSI
 * signature under IDRi's identifier and the KPAK of IDRkmsi, replay (after
 * the signature, so forgeries cannot fill the cache), SAKKE params,
 * decapsulation (RFC 6508 sec. 6.2.2). Each refusal is a typed
 * {@link MikeyError}; nothing from the message is used before the signature
 * verified. The caller checks the CSB ID against the purpose.
 */
function openSakkeIMessage(bytes: Uint8Array, o: OpenSakkeOptions, purpose: SakkePurpose): OpenedSakkeIMessage {
  const { message, offsets } = decodeMessageWithOffsets(bytes);
  const h = message.header;
  if (h.dataType !== DataType.SAKKE) throw new MikeyProtocolError('unexpected-data-type', `expected SAKKE (26), got ${dataTypeName(h.dataType)}`, 11);
  validateGrammar(message, offsets);
  const ps = message.payloads;
  const t = find(ps, 'T')!;
  const sign = find(ps, 'SIGN') as SignPayload;
  const sakke = find(ps, 'SAKKE') as SakkePayload;
  const initiator = uriOf(find(ps, 'IDR', (p) => p.role === IdRole.INITIATOR), 'IDRi', purpose.key);
  const responder = uriOf(find(ps, 'IDR', (p) => p.role === IdRole.RESPONDER), 'IDRr', purpose.key);
  const kmsInitiator = uriOf(find(ps, 'IDR', (p) => p.role === SakkeIdRole.KMS_INITIATOR), 'IDRkmsi', purpose.key);
  if (responder !== o.uri) throw new MikeyProtocolError('identity-mismatch', `IDRr is ${responder}, not this ${purpose.receiver} (${o.uri})`, 7);
  const nowMs = o.nowMs ?? Date.now();
  const windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
  const messageMs = checkTimestamp(t, nowMs, windowMs);
  if (sign.sType !== SignType.ECCSI) throw new MikeyAuthError('unsupported-algorithm', `SIGN type ${sign.sType}; MIKEY-SAKKE uses ECCSI (2)`, 4);
  purpose.checkInitiator(initiator);
  const kpak = o.kpakFor(kmsInitiator);
  if (kpak === undefined) throw new MikeySakkeError('unknown-kms', `no KPAK known for KMS ${kmsInitiator}`);
  // The month of the identifiers is the month of T (RFC 6509 sec. 3.2).
  const at = new Date(msFromTimestamp(t.tsType, t.value) ?? messageMs);
  const v = eccsiVerify(signedPart(bytes, sign.signature.length), sign.signature, mikeySakkeIdentifier(initiator, at), kpak);
  if (!v.valid) throw new MikeySakkeError('signature-invalid', `ECCSI signature of ${initiator} (KMS ${kmsInitiator}) does not verify: ${v.error.message}`);
  o.replay.check(`sakke:${Buffer.from(sign.signature.subarray(0, 64)).toString('hex')}`, messageMs, nowMs);
  if (sakke.params !== SakkeParams.PARAMETER_SET_1 || sakke.idScheme !== SakkeIdScheme.TEL_URI_MONTHLY_KEYS) throw new MikeySakkeError('unsupported-sakke-params', `SAKKE params ${sakke.params}, ID scheme ${sakke.idScheme}; supported: 1, 1`);
  let ssv: Uint8Array;
  try {
    ssv = sakkeDecapsulate(sakke.data, mikeySakkeIdentifier(o.uri, at), o.rsk, o.kmsPublicKey);
  } catch (e) {
    if (e instanceof SakkeError) throw new MikeySakkeError('sakke-failed', e.message);
    throw e;
  }
  const sp = find(ps, 'SP');
  const profile = sp === undefined ? undefined : srtpProfileOf(sp);
  const rand = find(ps, 'RAND')!.rand;
  return { ssv, csbId: h.csbId, rand, initiator, kmsInitiator, timestampMs: messageMs, profile };
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
  const r = openSakkeIMessage(bytes, o, {
    key: 'GMK',
    receiver: 'member',
    checkInitiator: (initiator) => {
      if (o.trustedInitiators !== undefined && !o.trustedInitiators.includes(initiator)) throw new MikeySakkeError('untrusted-initiator', `${initiator} is not a group management server of this member`);
    },
  });
  const gmk = r.ssv;
  const gukId = r.csbId;
  const gmkId = gmkIdOf(gmk, gukId, o.uri);
  // The purpose tag passes through the GUK-ID mask, so a CSK (tag 2) or any other key is refused here.
  if (purposeTag(gmkId) !== GMK_PURPOSE_TAG) throw new MikeySakkeError('unknown-gmk-id', `GMK-ID 0x${gmkId.toString(16)} has purpose tag ${purposeTag(gmkId)}, not a group key`);
  const lengths = srtpLengthsOf(r.profile);
  return { gmk, gmkId, gukId, rand: r.rand, initiator: r.initiator, kmsInitiator: r.kmsInitiator, timestampMs: r.timestampMs, profile: r.profile, srtp: gmkSrtpKeys({ gmk, gmkId, gukId, rand: r.rand, keyLength: lengths.keyLength, saltLength: lengths.saltLength }) };
}

/** URIs compared as the caller's asserted identity is matched against IDRi: case-insensitively, surrounding blanks ignored. */
function sameUri(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The MCPTT server's side of TS 33.180 clause 7.3: parses and verifies a
 * client's CSK I_MESSAGE and returns the CSK. The checks of the GMK
 * receiver (grammar, IDRr is this server, timestamp window, ECCSI
 * signature under IDRi and the KPAK of IDRkmsi, replay after the
 * signature, SAKKE params, decapsulation), with IDRi bound to
 * `expectedInitiator` (refused as `untrusted-initiator` before any
 * cryptography), then the CSK-ID (the HDR CSB ID) must carry purpose tag 2:
 * a GMK I_MESSAGE is refused as `csb-mismatch`, never taken as a CSK.
 */
export function receiveCskIMessage(bytes: Uint8Array, o: ReceiveCskOptions): ReceivedCsk {
  const r = openSakkeIMessage(bytes, o, {
    key: 'CSK',
    receiver: 'server',
    checkInitiator: (initiator) => {
      if (o.expectedInitiator !== undefined && !sameUri(initiator, o.expectedInitiator)) throw new MikeySakkeError('untrusted-initiator', `IDRi ${initiator} is not the identity the sender was authenticated as (${o.expectedInitiator})`);
    },
  });
  const cskId = r.csbId;
  if (purposeTag(cskId) !== CSK_PURPOSE_TAG) throw new MikeyProtocolError('csb-mismatch', `CSB ID 0x${cskId.toString(16).padStart(8, '0')} has purpose tag ${purposeTag(cskId)}, not ${CSK_PURPOSE_TAG} (client-server key)`);
  const lengths = srtpLengthsOf(r.profile);
  const csk = r.ssv;
  return { csk, cskId, rand: r.rand, initiator: r.initiator, kmsInitiator: r.kmsInitiator, timestampMs: r.timestampMs, profile: r.profile, srtp: cskSrtpKeys({ csk, cskId, rand: r.rand, keyLength: lengths.keyLength, saltLength: lengths.saltLength }) };
}

/** Whether two received GMK contexts are the same key (same GMK and GMK-ID). */
export function sameGmk(a: { gmk: Uint8Array; gmkId: number }, b: { gmk: Uint8Array; gmkId: number }): boolean {
  return a.gmkId === b.gmkId && bytesEqual(a.gmk, b.gmk);
}
