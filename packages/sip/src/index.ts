/**
 * @imslab/sip: SIP messages (RFC 3261 sec. 7, 20, 25), digest authentication
 * (RFC 2617/7616), transaction state machines (sec. 17, RFC 6026) and dialog
 * helpers (sec. 12). Pure: no sockets; the UE supplies transports.
 */
export * from './errors.ts';
export * from './timers.ts';
export * from './ids.ts';
export * from './header-names.ts';
export * from './params.ts';
export * from './uri.ts';
export * from './name-addr.ts';
export * from './via.ts';
export * from './message.ts';
export * from './parser.ts';
export * from './validate.ts';
export * from './serializer.ts';
export * from './framing.ts';
export * from './digest.ts';
export * from './status-codes.ts';
export * from './builders.ts';
export * from './dialog.ts';
export * from './memory-transport.ts';
export * from './transaction/types.ts';
export * from './transaction/invite-client.ts';
export * from './transaction/non-invite-client.ts';
export * from './transaction/invite-server.ts';
export * from './transaction/non-invite-server.ts';
export * from './transaction/matching.ts';
export * from './transaction/runtime.ts';
export * from './transaction/client-transaction.ts';
export * from './transaction/server-transaction.ts';
export * from './transaction/transaction-layer.ts';
