import { createSocket, type Socket } from 'node:dgram';
import { ControlServer, ElementLogger, HttpError } from '@imslab/element-kit';
import type { AttackerConfig } from './config.ts';

/** Datagrams one POST /send may carry, and the largest one. */
export const MAX_DATAGRAMS = 1000;
export const MAX_DATAGRAM_BYTES = 65_507;

/** What POST /send asks for: datagrams to one destination, `intervalMs` apart. */
export interface SendRequest {
  to: { address: string; port: number };
  datagrams: Buffer[];
  intervalMs: number;
}

/** The body of POST /send checked: a clear 400 for anything else. */
export function readSendRequest(body: unknown): SendRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const to = typeof b['to'] === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(b['to']) : null;
  if (!to || Number(to[2]) < 1 || Number(to[2]) > 65535) throw new HttpError(400, 'field "to" must be "<IPv4 address>:<port>", e.g. "127.0.3.100:40000"');
  const list = b['datagrams'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_DATAGRAMS || !list.every((d) => typeof d === 'string')) {
    throw new HttpError(400, `field "datagrams" must be a list of 1 to ${MAX_DATAGRAMS} base64 strings, one UDP payload each`);
  }
  const datagrams = (list as string[]).map((d, i) => {
    const buf = Buffer.from(d, 'base64');
    if (buf.length === 0 || buf.length > MAX_DATAGRAM_BYTES) throw new HttpError(400, `datagrams[${i}] must be base64 of 1 to ${MAX_DATAGRAM_BYTES} octets`);
    return buf;
  });
  const interval = b['intervalMs'] ?? 20;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 0 || interval > 1000) throw new HttpError(400, 'field "intervalMs" must be an integer from 0 to 1000');
  return { to: { address: to[1]!, port: Number(to[2]) }, datagrams, intervalMs: interval };
}

/** The address of ours on the destination's /24 network (the networks do not route on the docker target). */
export function sourceFor(addresses: readonly string[], destination: string): string | undefined {
  const net = destination.split('.').slice(0, 3).join('.');
  return addresses.find((a) => a.split('.').slice(0, 3).join('.') === net);
}

/**
 * The attacker (issue 13): a host of its own on each network that sends
 * what a scenario gives it (replayed or tampered SRTP a link tap captured,
 * plaintext RTP) to a UE or a server, from its own address. It holds no key
 * and reads nothing; the targets' counters and the captures show whether
 * the defences held. Every send is logged.
 */
export class Attacker {
  private constructor(
    readonly cfg: AttackerConfig,
    private readonly sockets: Map<string, Socket>,
    private readonly control: ControlServer,
    private readonly log: ElementLogger,
  ) {}

  static async start(cfg: AttackerConfig, log = new ElementLogger('attacker', cfg.name)): Promise<Attacker> {
    const sockets = new Map<string, Socket>();
    try {
      for (const a of cfg.addresses) {
        const s = createSocket('udp4');
        s.on('error', (e) => log.warn(`UDP on ${a}: ${e.message}`));
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(0, a, () => {
            s.off('error', reject);
            resolve();
          });
        });
        sockets.set(a, s);
      }
    } catch (e) {
      for (const s of sockets.values()) s.close();
      throw e;
    }
    let self: Attacker | undefined;
    const control = new ControlServer(cfg.addresses[0]!, cfg.controlPort, { 'POST /send': (_req, body) => self!.send(readSendRequest(body)) }, { log });
    self = new Attacker(cfg, sockets, control, log);
    try {
      await control.start();
    } catch (e) {
      for (const s of sockets.values()) s.close();
      throw e;
    }
    log.info(`on ${cfg.addresses.join(', ')}; control http://${cfg.addresses[0]}:${cfg.controlPort}`);
    return self;
  }

  /** Sends the datagrams in order, `intervalMs` apart; resolves with how many left. */
  async send(r: SendRequest): Promise<{ sent: number; from: string }> {
    const from = sourceFor(this.cfg.addresses, r.to.address);
    if (!from) throw new HttpError(409, `no address of ours on the network of ${r.to.address} (ours: ${this.cfg.addresses.join(', ')})`);
    const socket = this.sockets.get(from)!;
    this.log.info(`sending ${r.datagrams.length} datagram(s) from ${from} to ${r.to.address}:${r.to.port}, ${r.intervalMs} ms apart`);
    let sent = 0;
    for (const d of r.datagrams) {
      await new Promise<void>((resolve) => socket.send(d, r.to.port, r.to.address, (e) => {
        if (e) this.log.warn(`send to ${r.to.address}:${r.to.port}: ${e.message}`);
        else sent++;
        resolve();
      }));
      if (r.intervalMs > 0) await new Promise((res) => setTimeout(res, r.intervalMs));
    }
    return { sent, from };
  }

  async close(): Promise<void> {
    await this.control.close();
    for (const s of this.sockets.values()) s.close();
  }
}
