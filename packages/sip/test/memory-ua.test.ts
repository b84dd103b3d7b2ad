import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryNetwork, TransactionLayer, createAckFor2xx, createInDialogRequest, createRequest, createResponse, createUacDialog,
  createUasDialog, newTag, type Dialog, type MemoryEndpoint, type SipRequest, type SipResponse,
} from '../src/index.ts';

/** A minimal UA built from the package's pieces, enough to run a call over the memory network. */
class MiniUa {
  readonly layer = new TransactionLayer();
  dialog: Dialog | undefined;
  readonly received: string[] = [];
  constructor(readonly ep: MemoryEndpoint, readonly peer: string) {
    ep.onMessage = (m, from) => {
      this.received.push(m.kind === 'request' ? m.method : String(m.status));
      if (m.kind === 'response') {
        this.layer.receiveResponse(m);
        return;
      }
      const d = this.layer.receiveRequest(m, ep.senderTo(from));
      if (d.kind !== 'new') return;
      const req = d.txn.request;
      if (req.method === 'INVITE') {
        const tag = newTag();
        d.txn.respond(createResponse(req, 180, { toTag: tag }));
        this.dialog = createUasDialog(req, tag);
        d.txn.respond(createResponse(req, 200, { toTag: tag, headers: [['Contact', `<sip:ua@${ep.address}>`]] }));
      } else d.txn.respond(createResponse(req, 200));
    };
  }
  call(): Promise<SipResponse> {
    const req: SipRequest = createRequest({
      method: 'INVITE', uri: `sip:ua@${this.peer}`, via: { transport: 'UDP', host: this.ep.address },
      from: `<sip:ua@${this.ep.address}>;tag=${newTag()}`, to: `<sip:ua@${this.peer}>`, callId: `c-${newTag()}`, cseq: 1,
      contact: `<sip:ua@${this.ep.address}>`,
    });
    return new Promise((resolve, reject) => {
      this.layer.sendRequest(req, this.ep.senderTo(this.peer), {
        onResponse: (res) => {
          if (res.status < 200) return;
          this.dialog = createUacDialog(req, res);
          this.ep.send(createAckFor2xx(this.dialog, 1, { via: { transport: 'UDP', host: this.ep.address } }), this.peer);
          resolve(res);
        },
        onTimeout: () => reject(new Error('timeout')),
      });
    });
  }
  bye(): Promise<number> {
    const bye = createInDialogRequest(this.dialog!, 'BYE', { via: { transport: 'UDP', host: this.ep.address } });
    return new Promise((resolve) => this.layer.sendRequest(bye, this.ep.senderTo(this.peer), { onResponse: (r) => resolve(r.status) }));
  }
}

describe('UA to UA over the in-memory transport', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('INVITE/180/200/ACK/BYE completes', async () => {
    const net = new MemoryNetwork();
    const a = new MiniUa(net.endpoint('a.test'), 'b.test');
    const b = new MiniUa(net.endpoint('b.test'), 'a.test');
    const res = await a.call();
    expect(res.status).toBe(200);
    await vi.advanceTimersByTimeAsync(10);
    expect(b.received).toEqual(['INVITE', 'ACK']);
    expect(await a.bye()).toBe(200);
    expect(a.received).toEqual(['180', '200', '200']);
  });

  it('a lost first INVITE is retransmitted by Timer A and the call completes', async () => {
    const net = new MemoryNetwork();
    net.drop((_p, m) => m?.kind === 'request' && m.method === 'INVITE');
    const a = new MiniUa(net.endpoint('a.test'), 'b.test');
    new MiniUa(net.endpoint('b.test'), 'a.test');
    const p = a.call();
    await vi.advanceTimersByTimeAsync(600);
    expect((await p).status).toBe(200);
    expect(net.log.filter((x) => x.dropped).length).toBe(1);
  });

  it('malformed input reaches onMalformed, not the UA', async () => {
    const net = new MemoryNetwork();
    const a = net.endpoint('a.test');
    const b = net.endpoint('b.test');
    const bad = vi.fn();
    b.onMalformed = bad;
    a.sendRaw('INVITE garbage\r\n\r\n', 'b.test');
    await vi.advanceTimersByTimeAsync(1);
    expect(bad).toHaveBeenCalledOnce();
  });
});
