import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpError } from '@imslab/element-kit';
import { Attacker, readSendRequest, sourceFor } from '../src/index.ts';

const A = '127.9.7.66';
const B = '127.9.8.66';
const TARGET = '127.9.8.100';
let attacker: Attacker | undefined;
afterAll(async () => attacker?.close());

describe('the attacker element', () => {
  it('refuses a bad send request with a sentence saying what is wrong', () => {
    const bad = (body: unknown) => {
      try {
        readSendRequest(body);
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        return (e as HttpError).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ to: 'bob', datagrams: ['AA=='] })).toMatch(/"to" must be "<IPv4 address>:<port>"/);
    expect(bad({ to: '127.0.0.1:0', datagrams: ['AA=='] })).toMatch(/"to"/);
    expect(bad({ to: '127.0.0.1:9', datagrams: [] })).toMatch(/"datagrams" must be a list of 1 to 1000/);
    expect(bad({ to: '127.0.0.1:9', datagrams: [''] })).toMatch(/datagrams\[0\] must be base64 of 1 to/);
    expect(bad({ to: '127.0.0.1:9', datagrams: ['AA=='], intervalMs: -1 })).toMatch(/"intervalMs"/);
  });

  it('sends from its address on the destination\'s network, in order, and says where from', async () => {
    expect(sourceFor([A, B], TARGET)).toBe(B);
    expect(sourceFor([A], TARGET)).toBeUndefined();
    attacker = await Attacker.start({ name: 'attacker', addresses: [A, B], controlPort: 8066 }, { info: () => undefined, warn: () => undefined } as never);
    const rx = createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, TARGET, r));
    const got: Array<{ data: string; from: string }> = [];
    rx.on('message', (m, r) => got.push({ data: m.toString(), from: r.address }));
    const r = await attacker.send(readSendRequest({ to: `${TARGET}:${rx.address().port}`, datagrams: ['one', 'two', 'three'].map((s) => Buffer.from(s).toString('base64')), intervalMs: 1 }));
    expect(r).toEqual({ sent: 3, from: B });
    for (let i = 0; i < 50 && got.length < 3; i++) await new Promise((res) => setTimeout(res, 10));
    expect(got).toEqual([{ data: 'one', from: B }, { data: 'two', from: B }, { data: 'three', from: B }]);
    rx.close();
    await expect(attacker.send(readSendRequest({ to: '127.9.9.1:9', datagrams: ['AA=='] }))).rejects.toThrow(/no address of ours on the network of 127\.9\.9\.1/);
  });
});
