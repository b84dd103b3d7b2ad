import { ElementLogger } from '@imslab/element-kit';
import { callIdOf, describeMessage, type SipMessage } from '@imslab/sip';

/** An element log that also writes one line per SIP message sent or received. */
export class SipLogger extends ElementLogger {
  sip(direction: 'in' | 'out', m: SipMessage, peer: string): void {
    let callId = '?';
    try {
      callId = callIdOf(m);
    } catch {
      // unvalidated message
    }
    const what = m.kind === 'request' ? m.method : `${describeMessage(m)} (${m.headers.get('CSeq') ?? '?'})`;
    this.info(`${direction === 'in' ? '<-' : '->'} ${what} call-id=${callId} ${direction === 'in' ? 'from' : 'to'} ${peer}`);
  }
}
