/**
 * Fuzzing the two MIKEY endpoints: mutated REQUEST_INIT / RESOLVE_INIT
 * bodies over HTTPS must always be refused with a 4xx, never crash or hang
 * the KMS, and never hit an error class the KMS did not anticipate. A second
 * round mutates behind the MAC (re-signed with the right PSK) so the ticket
 * and policy code is reached, not only the parser. Seeded: reproducible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '@imslab/kms-client';
import { IdType, uriIdentity, type MikeyIdentity, type ResolutionPolicy, type TicketPayload } from '@imslab/mikey';
import type { KmsStatus } from '../src/index.ts';
import { controlGet, getTicket, requestInit, resolveInit, startWorld, type KmsWorld } from './helpers.ts';
import { prng } from '@imslab/fuzz';

function mutate(base: Uint8Array, other: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const b = Uint8Array.from(base);
  const at = int(b.length);
  switch (int(10)) {
    case 0: // bit flips
      for (let i = 0, n = 1 + int(8); i < n; i++) b[int(b.length)]! ^= 1 << int(8);
      return b;
    case 1: // one byte replaced
      b[at] = int(256);
      return b;
    case 2: // truncated
      return b.subarray(0, int(b.length));
    case 3: // random tail
      return Uint8Array.from([...b, ...bytes(1 + int(64))]);
    case 4: // inserted bytes
      return Uint8Array.from([...b.subarray(0, at), ...bytes(1 + int(16)), ...b.subarray(at)]);
    case 5: // deleted range
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + int(32))]);
    case 6: // spliced with the other message
      return Uint8Array.from([...b.subarray(0, at), ...other.subarray(int(other.length))]);
    case 7: // a 16-bit field forced to an extreme (length fields)
      b[at] = rnd() < 0.5 ? 0xff : 0;
      if (at + 1 < b.length) b[at + 1] = rnd() < 0.5 ? 0xff : 0;
      return b;
    case 8: // noise
      return bytes(1 + int(600));
    default: // a segment duplicated
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + 1 + int(40)), ...b.subarray(at)]);
  }
}

let w: KmsWorld;
beforeAll(async () => {
  w = await startWorld('127.0.6.11');
});
afterAll(async () => {
  await w?.close();
});

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (!(e instanceof KmsError)) throw e;
    if (e.status === null) throw e;
    return e.status;
  }
}

describe('fuzz', () => {
  it('200 mutated bodies per endpoint: always 4xx, the KMS stays healthy', async () => {
    const rnd = prng(0x33828);
    const bob = uriIdentity('sip:bob@ims.test');
    const t = await getTicket(w, w.devices.alice, bob, 'any-device-of-user');
    const req = requestInit(w, w.devices.alice, bob, 'any-device-of-user').bytes;
    const res = resolveInit(w, w.devices.bob1, t.ticket).bytes;
    // Send both originals once: a mutation that happens to change nothing (a bit flipped twice)
    // is then a replay and must be refused too.
    await w.client.request(req);
    await w.client.resolve(res);
    const seen = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      for (const [path, base, other] of [
        ['request', req, res],
        ['resolve', res, req],
      ] as const) {
        const body = mutate(base, other, rnd);
        const s = await status(path === 'request' ? w.client.request(body) : w.client.resolve(body));
        seen.set(s, (seen.get(s) ?? 0) + 1);
        if (s < 400 || s > 499) throw new Error(`mutation ${i} on /mikey/${path} answered ${s}: ${Buffer.from(body).toString('hex')}`);
      }
    }
    expect([...seen.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    expect((await controlGet(w, '/health')).body).toEqual({ ok: true, name: 'kms' });
    expect((await controlGet<KmsStatus>(w, '/status')).body.unexpected).toBe(0);
    // Still serving real requests.
    await getTicket(w, w.devices.alice, bob, 'retargeting');
  });

  it('300 authentic messages with mutated contents (ticket data, policy, identities): always 4xx', async () => {
    const rnd = prng(6043);
    const int = (n: number) => Math.floor(rnd() * n);
    const bob = uriIdentity('sip:bob@ims.test');
    const good = await getTicket(w, w.devices.alice, bob, 'any-device-of-user');
    const policies: ResolutionPolicy[] = ['designated-device', 'any-device-of-user', 'retargeting'];
    let sent = 0;
    for (let i = 0; i < 300; i++) {
      let p: Promise<unknown>;
      try {
        if (i % 2 === 0) {
          // A ticket whose data or clear policy was changed, presented by a legitimate device.
          const data = mutate(good.ticket.ticketData, good.ticket.ticketData, rnd);
          const ticket: TicketPayload = { ...good.ticket, ticketData: data, ...(rnd() < 0.3 ? { ticketType: int(4), subtype: int(3), version: int(3) } : {}) };
          if (rnd() < 0.3) ticket.tpData = [...(good.ticket.tpData ?? [])].reverse();
          p = w.client.resolve(resolveInit(w, w.devices.bob2, ticket).bytes);
        } else {
          // A request for odd responders, policies and validity, correctly signed.
          const kinds: MikeyIdentity[] = [
            { idType: IdType.BYTE_STRING, data: Uint8Array.from({ length: int(40) }, () => int(256)) },
            { idType: IdType.NAI, data: new TextEncoder().encode(['', '@', 'bob-1@', '@ims.test', 'x'.repeat(200), 'bob-1@IMS.TEST'][int(6)]!) },
            { idType: IdType.URI, data: new TextEncoder().encode(['sip:', 'sip:@', 'tel:+1', 'sip:bob@ims.test;gr=x', 'sips:carol@ims.test', 'sip:bob'][int(6)]!) },
          ];
          const now = Date.now();
          const responders = Array.from({ length: int(3) }, () => kinds[int(kinds.length)]!);
          const validity = rnd() < 0.5 ? { validFromMs: now + (int(5) - 2) * 3_600_000, validToMs: now + (int(5) - 2) * 3_600_000 } : {};
          p = w.client.request(requestInit(w, w.devices.alice, bob, policies[int(3)]!, { responders, ...validity }).bytes);
        }
      } catch {
        continue; // the encoder refused the mutation: nothing to send
      }
      sent++;
      const s = await status(p);
      if (s === 200) continue; // a mutation can still be a valid request (e.g. bob-1@IMS.TEST, designated)
      expect(s).toBeGreaterThanOrEqual(400);
      expect(s).toBeLessThan(500);
    }
    expect(sent).toBeGreaterThan(200);
    expect((await controlGet<KmsStatus>(w, '/status')).body.unexpected).toBe(0);
    expect((await controlGet(w, '/health')).status).toBe(200);
  });
});
