/**
 * MIKEY-TICKET throughput in one process: complete Ticket Request + Ticket
 * Transfer + Ticket Resolve exchanges (RFC 6043 sec. 4, PSK variant) per
 * second, each message encoded, decoded and verified by its receiver, the
 * ticket sealed and opened by the KMS, and the SRTP keys derived on both sides.
 *
 *   npx tsx packages/mikey/bench/mikey-bench.ts [seconds, default 2]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  KmsTicketCodec,
  ReplayCache,
  buildRequestInit,
  buildRequestResp,
  buildResolveInit,
  buildResolveResp,
  buildTransferInit,
  buildTransferResp,
  completeTransferInit,
  parseTransferInit,
  uriIdentity,
  verifyRequestInit,
  verifyRequestResp,
  verifyResolveInit,
  verifyResolveResp,
  verifyTransferResp,
  type MikeyIdentity,
  type PskLookup,
} from '../src/index.ts';

/** Result of {@link runMikeyBench}. */
export interface MikeyBenchResult {
  /** Complete REQUEST + TRANSFER + RESOLVE exchanges (6 messages) per second. */
  ticketExchangesPerSecond: number;
}

/** One KMS, one Initiator, one Responder; `run()` performs one full exchange. */
function setup(): () => void {
  const alice = uriIdentity('sip:alice@ims.example');
  const bob = uriIdentity('sip:bob@ims.example');
  const kms = uriIdentity('https://kms.ims.example');
  const psks = new Map<string, Uint8Array>([
    ['sip:alice@ims.example', new Uint8Array(32).fill(1)],
    ['sip:bob@ims.example', new Uint8Array(32).fill(2)],
  ]);
  const key = (id: MikeyIdentity): string => new TextDecoder().decode(id.data);
  const lookupPsk: PskLookup = ({ identity }) => {
    const psk = identity && psks.get(key(identity));
    return psk && identity ? { psk, identity } : undefined;
  };
  const codec = new KmsTicketCodec({ masterKeys: { 1: new Uint8Array(32).fill(9) }, currentKeyId: 1 });
  const kmsCache = new ReplayCache({ capacity: 1_000_000 });
  const bobCache = new ReplayCache({ capacity: 1_000_000 });
  return () => {
    const now = Date.now();
    const reqInit = buildRequestInit({ initiator: alice, kms, psk: psks.get(key(alice))!, responders: [bob], policy: 'any-device-of-user', nowMs: now });
    const vReq = verifyRequestInit(reqInit.bytes, { kms, lookupPsk, replayCache: kmsCache, nowMs: now });
    const request = verifyRequestResp(buildRequestResp(vReq, { codec, kms, nowMs: now }).bytes, reqInit.state, { nowMs: now });
    const trInit = buildTransferInit({ request, sessions: [{ ssrc: 0x01020304 }], nowMs: now });
    const pending = parseTransferInit(trInit.bytes);
    const resInit = buildResolveInit({ ticket: pending.ticket, responder: bob, kms, psk: psks.get(key(bob))!, nowMs: now });
    const vRes = verifyResolveInit(resInit.bytes, { kms, lookupPsk, replayCache: kmsCache, codec, nowMs: now });
    const resolved = verifyResolveResp(buildResolveResp(vRes, { kms, nowMs: now }).bytes, resInit.state, { nowMs: now });
    const vTr = completeTransferInit(pending, resolved, { replayCache: bobCache, nowMs: now });
    const trResp = buildTransferResp(vTr, { responder: bob, nowMs: now });
    const out = verifyTransferResp(trResp.bytes, trInit.state, { nowMs: now });
    if (out.srtp[0]!.masterKey[0] !== trResp.srtp[0]!.masterKey[0]) throw new Error('key mismatch');
  };
}

/** Runs full exchanges for about `seconds` (after a short warm-up) and reports the rate. */
export async function runMikeyBench(seconds = 2): Promise<MikeyBenchResult> {
  const run = setup();
  for (let i = 0; i < 50; i++) run();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) run();
    n += 20;
    await new Promise<void>((r) => setImmediate(r));
  }
  return { ticketExchangesPerSecond: (n * 1000) / (performance.now() - start) };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const secs = Number(process.argv[2] ?? 2);
  runMikeyBench(secs).then((r) => console.log(`mikey-ticket: ${Math.round(r.ticketExchangesPerSecond)} REQUEST+TRANSFER+RESOLVE exchanges/s in process (${fileURLToPath(import.meta.url)})`));
}
