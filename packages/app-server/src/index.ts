/**
 * @imslab/app-server: what the testbed's SIP application servers share.
 * They sit in the core behind the S-CSCF and only answer calls.
 */
export { AsLogger } from './log.ts';
export { SipEndpoint, SipPortInUseError, type InviteHandler } from './sip-endpoint.ts';
export { UasCall, type EndReason } from './uas-call.ts';
export { readOffer, buildAnswer, SdpError, type OfferedMedia, type AnswerSpec } from './sdp-media.ts';
export { bindRtp, closeQuietly } from './rtp-socket.ts';
export { ControlServer, HttpError, startBoth, type ControlRoute } from './control-server.ts';
export { runService } from './service-main.ts';
export { userOf, uriParam } from './sip-names.ts';
