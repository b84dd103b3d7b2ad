/**
 * @imslab/capture: read and write pcap/pcapng, decode frames down to
 * UDP/TCP, recognise SIP/TLS/MSRP/RTP/RTCP payloads and track flows.
 * RTP and RTCP themselves are read and built with @imslab/rtp.
 */
export * from './errors.ts';
export * from './linktypes.ts';
export type { CapturedPacket } from './packet.ts';
export { readCapture, readCaptureBuffer, CaptureFileReader, READ_CHUNK_BYTES } from './read-capture.ts';
export type { CaptureContainer } from './capture-parser.ts';
export { decodeFrame, TCP_FLAGS, type DecodedPacket } from './decode-frame.ts';
export { locateIp, ipOffset, isIpv6 } from './link-layer.ts';
export { looksLikeTls, looksLikeDtls, looksLikeSip, looksLikeMsrp } from './signatures.ts';
export { FlowTable, flowKeyString, type FlowKind, type FlowKey, type FlowStats, type RtpStreamStats } from './flow-table.ts';
export { SipStreamReassembler } from './sip-stream.ts';
export { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.ts';
export { PcapWriter } from './pcap-writer.ts';
export type { PcapFileOptions } from './pcap-format.ts';
export { mergeCaptures, type MergeOptions, type MergeResult } from './merge.ts';
export { loadTlsKeyLog, normaliseTlsKeyLog, writeTlsKeyLogBlock, TlsKeyLogError, type TlsKeyLog, type TlsKeyLogSources } from './decryption-secrets.ts';
export { buildUdpFrame, buildTcpFrame, type TcpBuildFields } from './frame-builder.ts';
