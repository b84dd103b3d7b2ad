import { randomBytes } from 'node:crypto';
import { KmsTicketCodec, ReplayCache, buildRequestInit, buildRequestResp, buildTransferInit, uriIdentity, verifyRequestInit, verifyRequestResp } from '@imslab/mikey';

/**
 * The MIKEY message of attack `forge-ticket`: a well-formed TRANSFER_INIT
 * (RFC 6043 sec. 4.2.1) from `caller` to `callee`, whose ticket the attacker
 * issued itself, playing a KMS of its own (its own master key and its own
 * PSK with the "caller"), so it holds every key the message carries. Only
 * the real KMS can tell: the callee must resolve the ticket there, and the
 * ticket's MAC does not verify under the KMS's master keys. Built with our
 * MIKEY library exactly as an honest party would, so that nothing but the
 * ticket's origin is wrong.
 */
export function forgedTransferInit(caller: string, callee: string): string {
  const kms = uriIdentity('https://kms.attacker.invalid');
  const initiator = uriIdentity(caller);
  const psk = randomBytes(32);
  const codec = new KmsTicketCodec({ masterKeys: { 1: randomBytes(32) }, currentKeyId: 1 });
  const init = buildRequestInit({ initiator, kms, psk, responders: [uriIdentity(callee)], policy: 'any-device-of-user' });
  const verified = verifyRequestInit(init.bytes, { kms, lookupPsk: () => ({ psk, identity: initiator }), replayCache: new ReplayCache() });
  const request = verifyRequestResp(buildRequestResp(verified, { codec, kms }).bytes, init.state);
  return Buffer.from(buildTransferInit({ request, sessions: [{ ssrc: randomBytes(4).readUInt32BE(0) }] }).bytes).toString('base64');
}
