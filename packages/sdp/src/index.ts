/**
 * @imslab/sdp: the one SDP layer of imslab. Parsing and writing go through
 * sdp-transform; this package adds typed access to what the testbed reads
 * (media sections, connection address and port, RTP/AVP vs RTP/SAVP,
 * direction, rtcp-mux, a=3ge2ae), reads a=crypto with @imslab/srtp's SDES
 * codec (RFC 4568) and a=key-mgmt with @imslab/mikey's (RFC 4567), and says
 * what is wrong when a description cannot be used.
 */
export { SdpError, SdpParseError, SdpMediaError, SdpAttributeError, SdpBuildError } from './errors.ts';
export { splitAttribute, formatAttribute, type SdpAttribute } from './attribute.ts';
export { parseSdp, SessionDescription, MediaSection, type SdpDirection, type ParseOptions } from './description.ts';
export { readCryptoValue, type SdesLine } from './crypto.ts';
export { keyMgmtProtocol, isMikeyKeyMgmt, decodeMikeyKeyMgmt } from './key-mgmt.ts';
export { buildAudioSdp, PCMU, type AudioSdpSpec, type ExtraMediaSpec, type RtpCodec } from './build.ts';
