/**
 * @imslab/sakke: ECCSI (RFC 6507) and SAKKE (RFC 6508) with parameter set 1
 * of RFC 6509 Appendix A, and the MIKEY-SAKKE identifier (RFC 6509 sec. 3.2).
 * Pure TypeScript on bigint and node:crypto's SHA-256; no I/O.
 */
export { SakkeError, type SakkeErrorCode } from './errors.ts';
export { fromHex, toHex, os2ip, i2osp } from './bytes.ts';
export { P256, ECCSI_N, SAKKE_PARAMS_1, SAKKE_SED_LENGTH } from './params.ts';
export { hashToIntegerRange } from './hash-to-range.ts';
export { tatePairing, pfpValue, type Fp2 } from './pairing.ts';
export { isOnCurve, decodePoint, encodePoint, type Curve, type Point } from './curve.ts';
export {
  eccsiKmsKeys,
  eccsiIssue,
  eccsiValidate,
  eccsiHs,
  eccsiSign,
  eccsiVerify,
  parseEccsiSignature,
  ECCSI_SIGNATURE_LENGTH,
  type EccsiKmsKeys,
  type EccsiUserKey,
  type EccsiSigner,
  type EccsiVerifyResult,
} from './eccsi.ts';
export {
  generateSakkeMasterSecret,
  sakkeKmsPublicKey,
  decodeSakkeKmsPublicKey,
  sakkeRsk,
  validateSakkeRsk,
  sakkeSenderValues,
  sakkeEncapsulate,
  sakkeDecapsulate,
  parseSakkeEncapsulatedData,
  generateSsv,
  type SakkeSenderValues,
} from './sakke.ts';
export { mikeySakkeIdentifier, parseMikeySakkeIdentifier, identifierIsCurrent, SakkeIdScheme, MAX_IDENTIFIER_LENGTH, type MikeySakkeId } from './identifier.ts';
