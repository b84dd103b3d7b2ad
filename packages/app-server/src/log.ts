import { callIdOf, describeMessage, type SipMessage } from '@imslab/sip';

/** Human log on stderr, one line per event; the runner keeps it per element. */
export class AsLogger {
  constructor(
    readonly kind: string,
    readonly name: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  info(text: string): void {
    this.write(`${new Date().toISOString()} ${this.kind} ${this.name}: ${text}`);
  }

  warn(text: string): void {
    this.info(`WARNING ${text}`);
  }

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
