/**
 * The SIP methods of the UE, in a file of their own: the transport's RFC
 * 3261 sec. 8.2 screen (uas-screen.ts) and the call logic both need them,
 * and the call logic's context depends on the SIP stack.
 */

/** Methods we implement (Allow header, sec. 20.5). */
export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE';
/** Methods this UA knows but does not serve: answered 405 with Allow (RFC 3261 sec. 8.2.1); any other gets 501. */
export const KNOWN_UNSERVED_METHODS: ReadonlySet<string> = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'PRACK', 'PUBLISH']);
