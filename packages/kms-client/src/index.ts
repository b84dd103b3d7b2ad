/**
 * @imslab/kms-client: the UE side of the KMS's HTTPS interface (TS 33.328
 * HTTP transport of the RFC 6043 Ticket Request and Ticket Resolve
 * exchanges), and the identity conventions both ends must share.
 */
export { KmsClient, MIKEY_CONTENT_TYPE, DEFAULT_TIMEOUT_MS, type KmsClientOptions } from './kms-client.ts';
export { KmsError, KmsClientOptionsError } from './errors.ts';
export { kmsIdentityUri, devicePskId } from './kms-identity.ts';
export { transportKey, wrapForDevice, unwrapForDevice, type SakkeKeyProvision } from './transport-key.ts';
export { openSakkeProvision, identifierMonth, type HeldSakkeKeys } from './sakke-provision.ts';
