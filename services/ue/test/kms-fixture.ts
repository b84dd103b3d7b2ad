import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import {
  buildRequestResp, buildResolveResp, defaultUserOf, identitiesEqual, identityToString, KmsTicketCodec, MikeyError, naiIdentity, ReplayCache,
  uriIdentity, verifyRequestInit, verifyResolveInit, type MikeyIdentity, type OpenedTicket, type PskLookup, type TicketPayload,
} from '@imslab/mikey';
import { kmsIdentityUri } from '@imslab/kms-client';

/** One device the fixture KMS knows: its NAI (IDRpsk), its user's SIP URI, its PSK. */
export interface FixtureDevice {
  nai: string;
  user: string;
  psk: Buffer;
}

/**
 * A tiny in-test KMS built from @imslab/mikey's KMS-side functions behind
 * node:https, speaking the services/kms wire format (POST /mikey/request and
 * /mikey/resolve, application/mikey; refusals as JSON `{ error, code }`).
 * Policy: 'designated-device' = only the device NAI in IDRr;
 * 'any-device-of-user' = devices of IDRr's user; 'retargeting' = anyone.
 * `refuseResolve` forces every resolve to be refused with that reason.
 */
export class FixtureKms {
  readonly kmsId: MikeyIdentity;
  readonly codec = new KmsTicketCodec({ masterKeys: { 1: randomBytes(32) }, currentKeyId: 1 });
  readonly replay = new ReplayCache();
  readonly log: Array<{ op: 'request' | 'resolve'; ok: boolean; who?: string; reason?: string }> = [];
  refuseResolve: string | undefined;
  private readonly devices = new Map<string, FixtureDevice>();

  private constructor(
    readonly url: string,
    private readonly server: Server,
  ) {
    this.kmsId = uriIdentity(kmsIdentityUri(url));
  }

  static async start(address: string, port: number, tls: { certFile: string; keyFile: string }, devices: FixtureDevice[]): Promise<FixtureKms> {
    const server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    const kms = new FixtureKms(`https://${address}:${port}`, server);
    for (const d of devices) kms.devices.set(d.nai, d);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (status: number, type: string, body: Buffer | string) => {
          res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        };
        const bytes = new Uint8Array(Buffer.concat(chunks));
        const op = req.url === '/mikey/request' ? 'request' : req.url === '/mikey/resolve' ? 'resolve' : undefined;
        if (req.method !== 'POST' || !op) return send(404, 'application/json', JSON.stringify({ error: `no endpoint ${req.method} ${req.url}`, code: 'not-found' }));
        const ctx: { device?: FixtureDevice } = {};
        try {
          const out = op === 'request' ? kms.request(bytes, ctx) : kms.resolve(bytes, ctx);
          kms.log.push({ op, ok: true, who: ctx.device?.nai });
          send(200, 'application/mikey', Buffer.from(out));
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          kms.log.push({ op, ok: false, who: ctx.device?.nai, reason });
          send(e instanceof MikeyError ? 403 : 400, 'application/json', JSON.stringify({ error: reason, code: 'refused' }));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
    return kms;
  }

  private lookup(ctx: { device?: FixtureDevice }): PskLookup {
    return ({ identity, pskId }) => {
      const d = pskId ? this.devices.get(identityToString(pskId)) : undefined;
      if (!d) return undefined;
      if (identity && defaultUserOf(identity) !== defaultUserOf(uriIdentity(d.user))) return undefined;
      ctx.device = d;
      return { psk: d.psk, identity: identity ?? uriIdentity(d.user) };
    };
  }

  private request(bytes: Uint8Array, ctx: { device?: FixtureDevice }): Uint8Array {
    const v = verifyRequestInit(bytes, { kms: this.kmsId, lookupPsk: this.lookup(ctx), replayCache: this.replay });
    return buildRequestResp(v, { codec: this.codec, kms: this.kmsId }).bytes;
  }

  private resolve(bytes: Uint8Array, ctx: { device?: FixtureDevice }): Uint8Array {
    if (this.refuseResolve) throw new Error(this.refuseResolve);
    // A designated-device ticket names the device NAI while the resolver names its user URI:
    // present the ticket's Responder as the resolver's user when the PSK is that very device's.
    const codec = {
      open: (t: TicketPayload, now: number): OpenedTicket => {
        const o = this.codec.open(t, now);
        const d = ctx.device;
        if (o.policy === 'designated-device' && d && identitiesEqual(o.responder, naiIdentity(d.nai))) return { ...o, responder: uriIdentity(d.user) };
        return o;
      },
    } as unknown as KmsTicketCodec;
    const v = verifyResolveInit(bytes, { kms: this.kmsId, lookupPsk: this.lookup(ctx), replayCache: this.replay, codec, mayRetarget: () => true });
    return buildResolveResp(v, { kms: this.kmsId }).bytes;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
