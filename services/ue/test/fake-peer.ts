import { createSocket, type Socket } from 'node:dgram';
import { parseMessage, serializeMessage, type SipMessage } from '@imslab/sip';

/** A scripted SIP peer on one UDP socket, for tests that need precise control of what a UE sees. */
export class FakePeer {
  readonly received: Array<{ m: SipMessage; from: { address: string; port: number } }> = [];
  private constructor(private readonly sock: Socket) {
    sock.on('message', (data, rinfo) => {
      const r = parseMessage(data);
      if (r.ok) this.received.push({ m: r.message, from: { address: rinfo.address, port: rinfo.port } });
    });
  }

  static async start(address: string, port = 5060): Promise<FakePeer> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, address, () => resolve());
    });
    return new FakePeer(sock);
  }

  send(m: SipMessage, address: string, port = 5060): Promise<void> {
    return new Promise((r) => this.sock.send(serializeMessage(m), port, address, () => r()));
  }

  /** Messages matching a predicate. */
  all(pred: (m: SipMessage) => boolean): SipMessage[] {
    return this.received.map((x) => x.m).filter(pred);
  }

  close(): void {
    this.sock.close();
  }
}

export const isRequest = (method: string) => (m: SipMessage) => m.kind === 'request' && m.method === method;
export const isResponse = (status: number, method?: string) => (m: SipMessage) =>
  m.kind === 'response' && m.status === status && (!method || (m.headers.get('CSeq') ?? '').endsWith(method));
