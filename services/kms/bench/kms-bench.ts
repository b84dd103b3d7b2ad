/**
 * KMS throughput: Ticket Request + Ticket Resolve round trips per second
 * (RFC 6043 sec. 4.1 and 4.3, both ends' MIKEY work included) against an
 * in-process KMS over HTTPS on loopback with one keep-alive client, and the
 * same KMS logic called directly (no HTTP, no TLS) as the reference measured
 * in the same run. Bounded: at most `maxRoundTrips` and `maxMs` per part.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsClient, devicePskId, kmsIdentityUri } from '@imslab/kms-client';
import {
  KmsTicketCodec,
  ReplayCache,
  buildRequestInit,
  buildResolveInit,
  naiIdentity,
  uriIdentity,
  verifyRequestResp,
  verifyResolveResp,
} from '@imslab/mikey';
import { ensurePki } from '@imslab/topology';
import { Kms, kmsIdentities, parseKmsConfig, SubscriberDirectory } from '../src/index.ts';
import { issueTicket, type TicketContext } from '../src/ticket-issuer.ts';
import { resolveTicket } from '../src/ticket-resolver.ts';

/** Options of {@link runKmsBench}. */
export interface KmsBenchOptions {
  /** Loopback address of the KMS (default 127.0.6.250). */
  address?: string;
  /** Upper bound of measured round trips per part (default 2000). */
  maxRoundTrips?: number;
  /** Upper bound of measuring time per part in ms (default 4000). */
  maxMs?: number;
}

/** Result of {@link runKmsBench}. */
export interface KmsBenchResult {
  /** Request + resolve round trips per second over HTTPS (keep-alive). */
  roundTripsPerSecond: number;
  /** The same KMS logic without HTTPS, per second (reference). */
  directPerSecond: number;
  /** roundTripsPerSecond / directPerSecond. */
  ratio: number;
  roundTrips: number;
  elapsedMs: number;
}

const DOMAIN = 'ims.test';

/** Runs the benchmark; prints nothing. */
export async function runKmsBench(o: KmsBenchOptions = {}): Promise<KmsBenchResult> {
  const address = o.address ?? '127.0.6.250';
  const maxRoundTrips = o.maxRoundTrips ?? 2000;
  const maxMs = o.maxMs ?? 4000;
  const dir = mkdtempSync(join(tmpdir(), 'imslab-kms-bench-'));
  const alice = { uri: `sip:alice@${DOMAIN}`, name: 'alice', secret: new Uint8Array(randomBytes(32)) };
  const bob = { uri: `sip:bob@${DOMAIN}`, name: 'bob-1', secret: new Uint8Array(randomBytes(32)) };
  const pki = ensurePki(join(dir, 'pki'), [{ name: 'kms', ips: [address] }]);
  const cfg = parseKmsConfig({
    name: 'kms',
    address,
    httpsPort: 8443,
    controlPort: 8000,
    domain: DOMAIN,
    tls: { caFile: pki.caFile, certFile: pki.certFile('kms'), keyFile: pki.keyFile('kms') },
    masterKey: randomBytes(32).toString('hex'),
    users: [alice, bob].map((d) => ({ uri: d.uri, user: d.uri.slice(4, d.uri.indexOf('@')), forwarding: {}, devices: [{ name: d.name, secret: Buffer.from(d.secret).toString('hex') }] })),
    auditLog: join(dir, 'kms-audit.jsonl'),
    runDir: dir,
  });
  const kmsId = uriIdentity(kmsIdentityUri(`https://${address}:8443`));
  const ids = {
    alice: uriIdentity(alice.uri),
    alicePsk: naiIdentity(devicePskId(alice.name, DOMAIN)),
    bob: uriIdentity(bob.uri),
    bobPsk: naiIdentity(devicePskId(bob.name, DOMAIN)),
  };
  const request = () => buildRequestInit({ initiator: ids.alice, kms: kmsId, psk: alice.secret, pskId: ids.alicePsk, responders: [ids.bob], policy: 'any-device-of-user' });

  /** Runs `once` until either bound; returns count and ms. */
  async function measure(once: () => Promise<void> | void): Promise<{ n: number; ms: number }> {
    for (let i = 0; i < 20; i++) await once(); // warm-up (JIT, TLS session, keep-alive socket)
    const t0 = performance.now();
    let n = 0;
    while (n < maxRoundTrips && performance.now() - t0 < maxMs) {
      await once();
      n++;
    }
    return { n, ms: performance.now() - t0 };
  }

  const kms = await Kms.start(cfg, { log: () => {} });
  const client = new KmsClient({ url: kms.httpsUrl, caFile: pki.caFile });
  try {
    const https = await measure(async () => {
      const req = request();
      const t = verifyRequestResp(await client.request(req.bytes), req.state);
      const res = buildResolveInit({ ticket: t.ticket, responder: ids.bob, kms: kmsId, psk: bob.secret, pskId: ids.bobPsk });
      verifyResolveResp(await client.resolve(res.bytes), res.state);
    });
    // Reference: the same issue/resolve logic, same MIKEY work on both ends, no HTTP/TLS.
    const ctx: TicketContext = {
      dir: new SubscriberDirectory(cfg.users, DOMAIN),
      codec: new KmsTicketCodec({ masterKeys: { 1: cfg.masterKey }, currentKeyId: 1 }),
      kmsIds: kmsIdentities(address, 8443, 'kms', DOMAIN),
      replayCache: new ReplayCache(),
      now: Date.now,
    };
    const direct = await measure(() => {
      const req = request();
      const t = verifyRequestResp(issueTicket(req.bytes, ctx, { op: 'issue', client: 'bench' }), req.state);
      const res = buildResolveInit({ ticket: t.ticket, responder: ids.bob, kms: kmsId, psk: bob.secret, pskId: ids.bobPsk });
      verifyResolveResp(resolveTicket(res.bytes, ctx, { op: 'resolve', client: 'bench' }), res.state);
    });
    const roundTripsPerSecond = (https.n * 1000) / https.ms;
    const directPerSecond = (direct.n * 1000) / direct.ms;
    return { roundTripsPerSecond, directPerSecond, ratio: roundTripsPerSecond / directPerSecond, roundTrips: https.n, elapsedMs: https.ms };
  } finally {
    client.close();
    await kms.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `tsx services/kms/bench/kms-bench.ts` prints the figures.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runKmsBench();
  console.log(
    `kms: ${Math.round(r.roundTripsPerSecond)} request+resolve round trips/s over HTTPS keep-alive (${r.roundTrips} in ${(r.elapsedMs / 1000).toFixed(2)} s); ` +
      `direct ${Math.round(r.directPerSecond)}/s; ratio ${r.ratio.toFixed(2)}`,
  );
}
