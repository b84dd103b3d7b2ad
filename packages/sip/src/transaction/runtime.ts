import type { TimerName } from '../timers.ts';
import type { SipMessage } from '../message.ts';

/**
 * How a transaction reaches the network. The UA supplies one per transaction:
 * for a client transaction it sends toward the next hop, for a server
 * transaction back on the flow the request arrived on (sec. 18.2.2).
 */
export interface TxnSender {
  /** Sends one message. Throwing or rejecting means a transport error (sec. 17.1.4, 17.2.4). */
  send(message: SipMessage): void | Promise<void>;
  /** TCP/TLS/SCTP: no retransmissions, zero wait timers. */
  readonly reliable: boolean;
}

/** Timer bookkeeping shared by the runtime wrappers: at most one instance of each named timer. */
export class TimerSet {
  private readonly handles = new Map<TimerName, ReturnType<typeof setTimeout>>();

  start(name: TimerName, ms: number, fire: (name: TimerName) => void): void {
    this.stop(name);
    const h = setTimeout(() => {
      this.handles.delete(name);
      fire(name);
    }, ms);
    // Timers must not keep a process alive on their own (the UE exits on SIGTERM).
    h.unref?.();
    this.handles.set(name, h);
  }

  stop(name: TimerName): void {
    const h = this.handles.get(name);
    if (h !== undefined) clearTimeout(h);
    this.handles.delete(name);
  }

  clear(): void {
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
  }

  /** Names of the armed timers (for tests). */
  armed(): TimerName[] {
    return [...this.handles.keys()];
  }
}

/** Sends through a sender, turning a throw or a rejection into a callback. */
export function safeSend(sender: TxnSender, message: SipMessage, onError: (err: Error) => void): void {
  try {
    const r = sender.send(message);
    if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
  } catch (e) {
    onError(e instanceof Error ? e : new Error(String(e)));
  }
}
