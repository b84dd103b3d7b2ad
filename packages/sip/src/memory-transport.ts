import type { SipMessage } from './message.ts';
import { parseMessage } from './parser.ts';
import { serializeMessage } from './serializer.ts';
import type { TxnSender } from './transaction/runtime.ts';

/** A datagram in flight inside a MemoryNetwork. */
export interface MemoryPacket {
  from: string;
  to: string;
  data: Buffer;
}

/**
 * In-memory, socket-free network for UA-to-UA tests (like SIP.js's test
 * transport). Messages are serialised and re-parsed on delivery, so the
 * parser and serializer are exercised; delivery is asynchronous (a microtask),
 * never re-entrant. Behaves like UDP: unreliable unless created otherwise.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryEndpoint>();
  private readonly droppers: Array<{ match: (p: MemoryPacket, m: SipMessage | null) => boolean; remaining: number }> = [];
  /** Every packet sent, dropped or not. */
  readonly log: Array<MemoryPacket & { dropped: boolean }> = [];

  constructor(readonly reliable = false) {}

  /** Attaches an endpoint at `address` (any string, e.g. `alice:5060`). */
  endpoint(address: string): MemoryEndpoint {
    if (this.endpoints.has(address)) throw new Error(`memory endpoint ${address} already exists`);
    const ep = new MemoryEndpoint(this, address);
    this.endpoints.set(address, ep);
    return ep;
  }

  /** Drops the next `count` packets that match (simulated loss). */
  drop(match: (p: MemoryPacket, m: SipMessage | null) => boolean, count = 1): void {
    this.droppers.push({ match, remaining: count });
  }

  /** @internal */
  deliver(p: MemoryPacket): void {
    const parsed = parseMessage(p.data);
    const m = parsed.ok ? parsed.message : null;
    const d = this.droppers.find((x) => x.remaining > 0 && x.match(p, m));
    if (d) d.remaining--;
    this.log.push({ ...p, dropped: !!d });
    if (d) return;
    const target = this.endpoints.get(p.to);
    if (!target) return;
    void Promise.resolve().then(() => target.receive(p));
  }

  /** @internal */
  detach(address: string): void {
    this.endpoints.delete(address);
  }
}

/** One attached address of a MemoryNetwork. */
export class MemoryEndpoint {
  /** Called with each parsed message and the sender's address. */
  onMessage: (message: SipMessage, from: string) => void = () => undefined;
  /** Called with the raw bytes of packets that did not parse. */
  onMalformed: (data: Buffer, from: string, error: string) => void = () => undefined;

  constructor(
    private readonly network: MemoryNetwork,
    readonly address: string,
  ) {}

  /** Sends raw bytes (for malformed-input tests). */
  sendRaw(data: Buffer | string, to: string): void {
    this.network.deliver({ from: this.address, to, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  }

  /** Serialises and sends a message. */
  send(message: SipMessage, to: string): void {
    this.sendRaw(serializeMessage(message), to);
  }

  /** A TxnSender bound to a destination. */
  senderTo(to: string): TxnSender {
    return { reliable: this.network.reliable, send: (m) => this.send(m, to) };
  }

  close(): void {
    this.network.detach(this.address);
  }

  /** @internal */
  receive(p: MemoryPacket): void {
    const r = parseMessage(p.data);
    if (r.ok) this.onMessage(r.message, p.from);
    else this.onMalformed(p.data, p.from, r.error.message);
  }
}
