import { createResponse, parseMessage, type SipMessage } from '@imslab/sip';
import type { SipLogger } from './sip-log.ts';

/**
 * One SIP datagram as an application server receives it: a keep-alive is
 * nothing, a malformed message is logged and (a request other than ACK)
 * answered with the parser's status, never thrown; a good one is logged and
 * returned.
 */
export function readSipDatagram(buf: Buffer, host: string, port: number, log: SipLogger, send: (m: SipMessage) => Promise<void>): SipMessage | null {
  if (buf.length <= 4 && buf.toString().trim() === '') return null; // keep-alive
  const parsed = parseMessage(buf);
  if (!parsed.ok) {
    log.warn(`malformed SIP from ${host}:${port}: ${parsed.error.message}`);
    const partial = parsed.partial;
    if (partial?.kind === 'request' && partial.method !== 'ACK') {
      try {
        void send(createResponse(partial, parsed.error.status, { reason: 'Bad Request' })).catch(() => undefined);
      } catch {
        // not even enough to answer
      }
    }
    return null;
  }
  log.sip('in', parsed.message, `${host}:${port}`);
  return parsed.message;
}
