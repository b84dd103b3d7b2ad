import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFloorControlPacket, encodeFloorMessage, type FloorMessage } from '@imslab/floor-control';
import { sleep, until } from '@imslab/sip/test-peer';
import { SrtpContext } from '@imslab/srtp';
import { FloorClient } from '../src/floor-client.ts';
import { contextOptions, createOffer, type SrtpKey } from '../src/media-security.ts';
import { MediaSession } from '../src/media-session.ts';
import { PortAllocator } from '../src/port-allocator.ts';
import { Logger } from '../src/log.ts';

/*
 * The floor status's requestToGrantMs (the PoC bench's floor grant figure
 * is read from it): one entry per granted request, from PTT pressed to
 * Floor Granted received, a queued request's wait included; a denied,
 * withdrawn or unanswered request leaves none. A fake PoC server answers
 * over real UDP on 127.0.17.62 after a delay the test chooses.
 */

const ADDRESS = '127.0.17.62';
const sdesKey = (): SrtpKey => {
  const o = createOffer('sdes-e2e', { e2aeConfirmed: false });
  if (!o.ok) throw new Error(o.reason);
  return o.offer.keys.get(1)!;
};

/** Receives the member's floor control (SRTCP under its key) and answers under ours. */
class FakeFloorServer {
  readonly floor: FloorMessage[] = [];
  private constructor(private readonly rtp: Socket, private readonly rtcp: Socket, readonly port: number, private readonly memberKey: SrtpContext, private readonly ourKey: SrtpContext) {
    rtcp.on('message', (d) => {
      const r = this.memberKey.unprotectRtcp(d);
      const f = r.ok ? decodeFloorControlPacket(r.packet) : undefined;
      if (f?.ok) this.floor.push(...f.messages);
    });
  }

  static async open(port: number, memberKey: SrtpKey, ourKey: SrtpKey): Promise<FakeFloorServer> {
    const bind = (p: number) => new Promise<Socket>((resolve) => {
      const s = createSocket('udp4');
      s.bind(p, ADDRESS, () => resolve(s));
    });
    return new FakeFloorServer(await bind(port), await bind(port + 1), port, new SrtpContext(contextOptions(memberKey)), new SrtpContext(contextOptions(ourKey)));
  }

  count(type: string): number {
    return this.floor.filter((m) => m.type === type).length;
  }

  send(m: Omit<FloorMessage, 'ssrc' | 'ackRequired'>, to: number): void {
    this.rtcp.send(this.ourKey.protectRtcp(encodeFloorMessage({ ssrc: 99, ackRequired: false, ...m })), to + 1, ADDRESS);
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

describe('FloorClient: PTT to Floor Granted, timed at the UE', () => {
  const opened: Array<{ close(): void }> = [];
  afterEach(() => opened.splice(0).forEach((x) => x.close()));

  async function setup() {
    const memberKey = sdesKey();
    const serverKey = sdesKey();
    const server = await FakeFloorServer.open(43000, memberKey, serverKey);
    opened.push(server);
    const media = await MediaSession.open(ADDRESS, new PortAllocator(ADDRESS, 43010, 43020));
    opened.push({ close: () => media.stop() });
    const group = sdesKey();
    media.configure({ remote: { address: ADDRESS, port: server.port }, txMarker: 'IMSLAB0000000003', expectedRxMarker: 'IMSLAB0000000004', tx: group, rx: group });
    const client = new FloorClient(media, { tx: memberKey, rx: serverKey }, new Logger('test', () => undefined), 'call-grant');
    opened.push({ close: () => client.stop() });
    return { server, client, me: media.localPort };
  }

  const granted = { type: 'floor-granted' as const, fields: { duration: 30, floorPriority: 0 } };

  it('records one time per grant, at least the delay the server waited, and none for a denied request', async () => {
    const { server, client, me } = await setup();
    expect(client.status().requestToGrantMs).toEqual([]);

    client.act('request');
    await until(() => server.count('floor-request') === 1, 'Floor Request');
    await sleep(60);
    server.send(granted, me);
    await until(() => client.status().state === 'has-permission', 'granted');
    const first = client.status().requestToGrantMs!;
    expect(first).toHaveLength(1);
    expect(first[0]).toBeGreaterThanOrEqual(60);

    client.act('release');
    await until(() => server.count('floor-release') === 1, 'Floor Release');
    server.send({ type: 'floor-idle', fields: { messageSequenceNumber: 2 } }, me);
    await until(() => client.status().state === 'has-no-permission', 'idle');

    // Denied: the request ends without a grant, so no time.
    client.act('request');
    await until(() => server.count('floor-request') === 2, 'second Floor Request');
    server.send({ type: 'floor-deny', fields: { rejectCause: { cause: 1 } } }, me);
    await until(() => client.status().received['floor-deny'] === 1, 'Floor Deny');
    expect(client.status().requestToGrantMs).toEqual(first);

    // A Floor Granted that answers no request of ours (a late duplicate) is not timed either.
    server.send(granted, me);
    await until(() => client.status().received['floor-granted'] === 2, 'stray Floor Granted');
    expect(client.status().state).toBe('has-no-permission');
    expect(client.status().requestToGrantMs).toEqual(first);

    // An immediate answer: a small time, appended after the first.
    client.act('request');
    await until(() => server.count('floor-request') === 3, 'third Floor Request');
    server.send(granted, me);
    await until(() => client.status().state === 'has-permission', 'granted again');
    const both = client.status().requestToGrantMs!;
    expect(both).toHaveLength(2);
    expect(both[0]).toBe(first[0]);
    expect(both[1]).toBeLessThan(first[0]!);
  });

  it('counts a queued request\'s wait up to its grant; a request withdrawn from the queue leaves no time', async () => {
    const { server, client, me } = await setup();
    client.act('request');
    await until(() => server.count('floor-request') === 1, 'Floor Request');
    server.send({ type: 'floor-queue-position-info', fields: { queueInfo: { position: 1, priorityLevel: 0 } } }, me);
    await until(() => client.status().state === 'queued', 'queued');
    client.act('release'); // withdraws the queued request
    expect(client.status().state).toBe('has-no-permission');
    server.send(granted, me);
    await until(() => client.status().received['floor-granted'] === 1, 'late Floor Granted');
    expect(client.status().requestToGrantMs).toEqual([]);

    client.act('request');
    await until(() => server.count('floor-request') === 2, 'second Floor Request');
    server.send({ type: 'floor-queue-position-info', fields: { queueInfo: { position: 1, priorityLevel: 0 } } }, me);
    await until(() => client.status().state === 'queued', 'queued again');
    await sleep(50);
    server.send(granted, me);
    await until(() => client.status().state === 'has-permission', 'granted from the queue');
    const t = client.status().requestToGrantMs!;
    expect(t).toHaveLength(1);
    expect(t[0]).toBeGreaterThanOrEqual(50);
  });
});
