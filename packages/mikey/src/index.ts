/**
 * @imslab/mikey: MIKEY (RFC 3830) and MIKEY-TICKET (RFC 6043) on node:crypto
 * only: message and payload codecs, the MIKEY PRF and key derivation,
 * SDP a=key-mgmt (RFC 4567), this project's KMS ticket format and the
 * PSK-variant Ticket Request / Transfer / Resolve exchanges; MIKEY-SAKKE
 * (RFC 6509) I_MESSAGEs carrying a GMK or a CSK (TS 33.180).
 */
export * from './codes.ts';
export * from './errors.ts';
export { decodeHeader, encodeHeader, encodeSrtpSessionData, decodeSrtpSessionData, csCount, HDR_FIXED_LENGTH, type MikeyHeader, type CsIdMap, type SrtpIdEntry, type GenericIdEntry, type SrtpSessionData } from './header.ts';
export type * from './payloads/types.ts';
export { decodeMessage, decodeMessageWithOffsets, encodeMessage, MAX_MESSAGE_LENGTH, type MikeyMessage, type DecodeOptions, type LocatedMessage } from './message.ts';
export { MAX_PAYLOADS, PAYLOAD_CODE } from './payloads/chain.ts';
export { decodeKeyDataList, encodeKeyDataList, MAX_KEY_DATA } from './payloads/kemac.ts';
export { srtpPolicyParams, srtpProfileOf, srtpKeyLengths, type SrtpPolicyProfile } from './payloads/sp.ts';
export { noTicketFlags, ticketFlagViolations, packPolicyBits, unpackPolicyBits } from './payloads/ticket.ts';
export { ntpFromMs, msFromNtp, ntp32FromMs, msFromTimestamp, NTP_UNIX_OFFSET_S } from './payloads/timestamp.ts';
export { validateGrammar, MESSAGE_GRAMMAR } from './grammar.ts';
export { mikeyPrf, prfHash, MAX_PRF_OUTPUT, type PrfHash } from './prf.ts';
export * from './key-derivation.ts';
export { kemacIv, sealKemac, openKemac } from './kemac-crypto.ts';
export { computeMac, signMessage, verifyMessageMac, macBindingBytes, type MacBinding } from './mac.ts';
export { ReplayCache, checkTimestamp, DEFAULT_WINDOW_MS, DEFAULT_REPLAY_CAPACITY, type ReplayCacheOptions } from './replay.ts';
export { encodeKeyMgmtAttribute, decodeKeyMgmtAttribute, keyMgmtLine, MIKEY_KMPID, type KeyMgmtAttribute } from './sdp.ts';
export { uriIdentity, naiIdentity, byteIdentity, identityToString, identitiesEqual, idrPayload, identityOf, defaultUserOf, type MikeyIdentity } from './identity.ts';
export { resolutionPolicyExt, resolutionPolicyOf, buildTicketPolicyData, readTicketPolicyData, defaultTicketFlags, IMSLAB_TICKET, type ResolutionPolicy, type TicketPolicyData } from './ticket-policy.ts';
export { KmsTicketCodec, sameTicket, TICKET_FORMAT_VERSION, TICKET_ID_LENGTH, MAX_TICKET_DATA, type KmsTicketCodecOptions, type TicketKeys, type TicketSealInput, type OpenedTicket } from './ticket.ts';
export { DEFAULT_ALGORITHMS, type ExchangeAlgorithms, type BuiltMessage, type FreshnessOptions, type CryptoSessionKeys } from './exchanges/common.ts';
export { buildRequestInit, verifyRequestInit, buildRequestResp, verifyRequestResp, type RequestInitInput, type RequestInitState, type PskLookup, type PskLookupResult, type KmsVerifyOptions, type VerifiedRequestInit, type RequestRespOptions, type IssuedTicket, type RequestResult } from './exchanges/request.ts';
export { buildTransferInit, parseTransferInit, completeTransferInit, buildTransferResp, verifyTransferResp, deferredTransferKeys, deferredReceiveKeys, ticketParties, defaultSecurityPolicy, type TransferSession, type TransferInitInput, type TransferInitState, type PendingTransferInit, type CompleteTransferOptions, type VerifiedTransferInit, type TransferResult } from './exchanges/transfer.ts';
export { buildResolveInit, verifyResolveInit, buildResolveResp, verifyResolveResp, type ResolvedKeys, type ResolveInitInput, type ResolveInitState, type ResolveVerifyOptions, type VerifiedResolveInit, type ResolveResult } from './exchanges/resolve.ts';
export { buildErrorMessage, readErrorMessage } from './exchanges/error.ts';
export { decodeSakke, encodeSakke } from './payloads/sakke.ts';
export { GmkStore, gukIdOf, gmkIdOf, gmkSrtpKeys, purposeTag, GMK_PURPOSE_TAG, GMK_CS_ID, GUK_ID_FC, GMK_MKI_LENGTH, type GmkSrtpKeys, type HeldGmk } from './gmk.ts';
export { CSK_PURPOSE_TAG, CSK_CS_ID, CSK_LENGTH, isCskId, newCskId, cskSrtpKeys } from './csk.ts';
export { buildGmkIMessage, receiveGmkIMessage, sameGmk, buildCskIMessage, receiveCskIMessage, type GmkIMessageInput, type BuiltGmkIMessage, type ReceiveGmkOptions, type ReceivedGmk, type CskIMessageInput, type BuiltCskIMessage, type ReceiveCskOptions, type ReceivedCsk } from './exchanges/sakke.ts';
