import { callIdOf, describeMessage, type SipMessage } from '@imslab/sip';

/** Human log on stderr, one line per event; the runner stores it. */
export class Logger {
  constructor(
    readonly name: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  info(text: string): void {
    this.write(`${new Date().toISOString()} ue ${this.name}: ${text}`);
  }

  warn(text: string): void {
    this.info(`WARNING ${text}`);
  }

  /** One line per SIP message: direction, method or status, Call-ID, peer. */
  sip(direction: 'in' | 'out', m: SipMessage, peer: string): void {
    let callId = '?';
    try {
      callId = callIdOf(m);
    } catch {
      // unvalidated message: keep '?'
    }
    const what = m.kind === 'request' ? m.method : `${describeMessage(m)} (${m.headers.get('CSeq') ?? '?'})`;
    this.info(`${direction === 'in' ? '<-' : '->'} ${what} call-id=${callId} ${direction === 'in' ? 'from' : 'to'} ${peer}`);
  }
}
