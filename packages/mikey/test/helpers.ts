/** Shared fixtures: facts loader, hex helpers, and a KMS / Initiator / Responder world running the full PSK ticket flow. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  identitiesEqual,
  parseTransferInit,
  uriIdentity,
  verifyRequestInit,
  verifyRequestResp,
  verifyResolveInit,
  verifyResolveResp,
  verifyTransferResp,
  type MikeyIdentity,
  type PskLookup,
  type ResolutionPolicy,
} from '../src/index.ts';

/** The facts file copied from shared/vectors (keeps its `sources`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const facts: any = JSON.parse(readFileSync(fileURLToPath(new URL('./vectors/mikey_rfc3830_rfc6043_facts.json', import.meta.url)), 'utf8'));

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The two RFC 4567 sec. 5.1 example messages (octets). */
export function rfc4567Examples(): { offer: Uint8Array; answer: Uint8Array; offerLine: string; answerLine: string } {
  const k = facts.key_mgmt_sdp_rfc4567;
  const b = (line: string): Uint8Array => new Uint8Array(Buffer.from(line.split(' ')[1]!, 'base64'));
  return { offer: b(k.example_offer_5_1), answer: b(k.example_answer_5_1), offerLine: k.example_offer_5_1, answerLine: k.example_answer_5_1 };
}

export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Parties, PSKs and a KMS. */
export function world(now = T0) {
  const alice = uriIdentity('sip:alice@ims.example;gr=urn:uuid:aaaa');
  const bob = uriIdentity('sip:bob@ims.example;gr=urn:uuid:b0b1');
  const bob2 = uriIdentity('sip:bob@ims.example;gr=urn:uuid:b0b2');
  const carol = uriIdentity('sip:carol@ims.example');
  const kms = uriIdentity('https://kms.ims.example');
  const psks = new Map<string, Uint8Array>([
    [Buffer.from(alice.data).toString(), new Uint8Array(32).fill(0xa1)],
    [Buffer.from(bob.data).toString(), new Uint8Array(32).fill(0xb1)],
    [Buffer.from(bob2.data).toString(), new Uint8Array(32).fill(0xb2)],
    [Buffer.from(carol.data).toString(), new Uint8Array(32).fill(0xc1)],
  ]);
  const pskOf = (id: MikeyIdentity): Uint8Array => psks.get(Buffer.from(id.data).toString())!;
  const lookupPsk: PskLookup = ({ identity }) => {
    if (!identity) return undefined;
    const psk = psks.get(Buffer.from(identity.data).toString());
    return psk ? { psk, identity } : undefined;
  };
  const codec = new KmsTicketCodec({ masterKeys: { 7: new Uint8Array(32).fill(0x4b) }, currentKeyId: 7 });
  const kmsCache = new ReplayCache();
  const bobCache = new ReplayCache();
  return { alice, bob, bob2, carol, kms, pskOf, lookupPsk, codec, kmsCache, bobCache, now };
}

export type World = ReturnType<typeof world>;

/** Every message of one full flow, with the results of each step. */
export function fullFlow(w: World, o: { policy?: ResolutionPolicy; resolver?: MikeyIdentity; now?: number } = {}) {
  const now = o.now ?? w.now;
  const resolver = o.resolver ?? w.bob;
  const reqInit = buildRequestInit({ initiator: w.alice, kms: w.kms, psk: w.pskOf(w.alice), responders: [w.bob], policy: o.policy ?? 'designated-device', nowMs: now });
  const vReq = verifyRequestInit(reqInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: w.kmsCache, nowMs: now });
  const reqResp = buildRequestResp(vReq, { codec: w.codec, kms: w.kms, nowMs: now });
  const request = verifyRequestResp(reqResp.bytes, reqInit.state, { nowMs: now });
  const trInit = buildTransferInit({ request, sessions: [{ ssrc: 0x11223344 }, { ssrc: 0x55667788 }], nowMs: now });
  const pending = parseTransferInit(trInit.bytes);
  const resInit = buildResolveInit({ ticket: pending.ticket, responder: resolver, kms: w.kms, psk: w.pskOf(resolver), nowMs: now });
  const vRes = verifyResolveInit(resInit.bytes, { kms: w.kms, lookupPsk: w.lookupPsk, replayCache: w.kmsCache, codec: w.codec, nowMs: now });
  const resResp = buildResolveResp(vRes, { kms: w.kms, nowMs: now });
  const resolved = verifyResolveResp(resResp.bytes, resInit.state, { nowMs: now });
  const vTr = completeTransferInit(pending, resolved, { replayCache: w.bobCache, nowMs: now });
  const trResp = buildTransferResp(vTr, { responder: resolver, nowMs: now });
  const transfer = verifyTransferResp(trResp.bytes, trInit.state, { nowMs: now });
  return { reqInit, vReq, reqResp, request, trInit, pending, resInit, vRes, resResp, resolved, vTr, trResp, transfer, sameResponder: identitiesEqual(resolver, w.bob) };
}

/** The error `f` throws, or undefined when it returns: for checking an error's class and fields. */
export function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
