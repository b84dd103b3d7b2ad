/**
 * @imslab/sip/test-peer: the one raw-UDP SIP peer of the tests and benches
 * (a UAC or UAS that sends exactly what a test says, and records what it gets).
 */
export { SipPeer } from './sip-peer.ts';
export { isRequest, isResponse } from './match.ts';
export { offerSdp, RtpSink, type SdpSpec } from './media.ts';
export { UacCall, type UacSpec } from './uac-call.ts';
export { sleep, until } from './wait.ts';
