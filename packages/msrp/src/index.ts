/**
 * @imslab/msrp: MSRP (RFC 4975) and MSRP relays (RFC 4976). Pure protocol
 * code (frames, the streaming parser, URIs, headers, chunking and
 * reassembly, REPORTs, SDP with RFC 5547 file transfer) plus the transport
 * part: a client connection on node:net / node:tls with TLS key logging,
 * AUTH to a relay, and endpoint sessions.
 */
export * from './errors.ts';
export { MSRP, MSRP_STATUS } from './constants.ts';
export * from './uri.ts';
export * from './frame.ts';
export * from './headers.ts';
export { MsrpStreamParser, parseFrames, type ParseEvent, type ParserOptions } from './parser.ts';
export { inspectFrame, type FrameInfo, type InspectResult } from './validate.ts';
export { newTransactionId, newMessageId, newSessionId } from './ids.ts';
export { buildSend, buildReport, buildResponse, buildAuth, transactionIdFor, type SendSpec } from './build.ts';
export { chunkMessage, MessageAssembler, Reassembler, type Chunk, type AddResult, type AssemblyState } from './chunking.ts';
export * from './sdp.ts';
export { MsrpConnection, connectMsrp, type ConnectOptions, type TlsOptions, type RequestHandler, type MsrpConnectionEvents } from './connection.ts';
export { authenticate, type AuthOptions, type AuthResult } from './auth.ts';
export { MsrpSession, routeTo, type SessionOptions, type SendOptions, type ReceivedMessage, type ReceivedReport, type MsrpSessionEvents } from './session.ts';
export { MsrpServer, listenMsrp, type ListenOptions, type ListenTlsOptions, type MsrpPeer, type MsrpServerEvents } from './server.ts';
