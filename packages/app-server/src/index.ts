/**
 * @imslab/app-server: what the testbed's SIP application servers share.
 * They sit in the core behind the S-CSCF and only answer calls.
 */
export { SipLogger } from './sip-log.ts';
export { readSipDatagram } from './sip-datagram.ts';
export { SipEndpoint, SipPortInUseError, type InviteHandler } from './sip-endpoint.ts';
export { UasCall, type EndReason } from './uas-call.ts';
export { readOffer, buildAnswer, SdpError, readExtraStreams, acceptStream, refuseStream, answerDirection, type OfferedMedia, type AnswerSpec, type OfferedStream, type ExtraMediaSpec } from './sdp-media.ts';
export { bindRtp, closeQuietly } from './rtp-socket.ts';
export { userOf, uriParam } from './sip-names.ts';
