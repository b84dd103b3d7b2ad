/**
 * Makes one call from a running baresip over its ctrl_tcp socket and hangs up
 * after a given time of established media. Run INSIDE the caller's network
 * namespace (`ip netns exec NS npx tsx baresip-call.ts ...`): ctrl_tcp listens
 * on that namespace's own 127.0.0.1, which is on no captured link, so the
 * control traffic never shows in a capture.
 *
 *   baresip-call.ts --ctrl 127.0.0.1:4444 --to sip:bob@203.0.113.20:15060 --seconds 5
 *
 * Prints one JSON line: {"callId":...,"established":...,"closed":...}. Exits 1
 * with the reason when the call is not established or not closed in time
 * (every wait is bounded). Only events are awaited, never fixed sleeps, except
 * the call's own duration (the length of audio wanted in the capture).
 */
import { connect, type Socket } from 'node:net';

interface Args {
  ctrl: string;
  to: string;
  seconds: number;
  timeoutMs: number;
}

function parseArgs(argv: string[]): Args {
  const a: Partial<Args> = { timeoutMs: 15_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === '--ctrl') a.ctrl = v;
    else if (k === '--to') a.to = v;
    else if (k === '--seconds') a.seconds = Number(v);
    else if (k === '--timeout-ms') a.timeoutMs = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  if (!a.ctrl || !a.to || !a.seconds) throw new Error('usage: baresip-call.ts --ctrl IP:PORT --to SIP-URI --seconds N [--timeout-ms N]');
  return a as Args;
}

/** ctrl_tcp frames JSON in netstrings: `<length>:<bytes>,`. */
function netstring(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
}

interface Msg {
  event?: boolean;
  response?: boolean;
  type?: string;
  id?: string;
  ok?: boolean;
  data?: string;
  param?: string;
}

class Ctrl {
  private buf = Buffer.alloc(0);
  private msgs: Msg[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const colon = this.buf.indexOf(0x3a);
        if (colon < 0) break;
        const len = Number(this.buf.toString('latin1', 0, colon));
        if (!Number.isInteger(len) || this.buf.length < colon + 2 + len) break;
        const text = this.buf.toString('utf8', colon + 1, colon + 1 + len);
        this.buf = this.buf.subarray(colon + 2 + len);
        try {
          this.msgs.push(JSON.parse(text) as Msg);
        } catch {
          /* not JSON: ignored */
        }
      }
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  send(command: string, params?: string): void {
    this.sock.write(netstring(JSON.stringify({ command, params, token: command })));
  }
  /** Waits (bounded) for a message matching pred. */
  async wait(pred: (m: Msg) => boolean, what: string, ms: number): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.msgs.find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error(`ctrl_tcp closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; events seen: ${this.msgs.map((m) => m.type ?? (m.response ? 'response' : '?')).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const i = a.ctrl.lastIndexOf(':');
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: a.ctrl.slice(0, i), port: Number(a.ctrl.slice(i + 1)) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const c = new Ctrl(sock);
  c.send('dial', a.to);
  const est = await c.wait((m) => m.event === true && m.type === 'CALL_ESTABLISHED', 'CALL_ESTABLISHED', a.timeoutMs);
  const t0 = Date.now();
  // The call's duration: how much audio each direction puts in the capture.
  await new Promise((r) => setTimeout(r, a.seconds * 1000));
  c.send('hangup');
  await c.wait((m) => m.event === true && m.type === 'CALL_CLOSED', 'CALL_CLOSED', a.timeoutMs);
  sock.destroy();
  console.log(JSON.stringify({ callId: est.id ?? null, establishedMs: t0, heldMs: Date.now() - t0 }));
}

main().catch((e: unknown) => {
  console.error(`baresip-call: ${(e as Error).message}`);
  process.exit(1);
});
