/** TCP signalling reassembly: bounded memory, holes given up, state dropped at FIN/RST. */
import { describe, expect, it } from 'vitest';
import { TcpSignalling } from '../src/tcp-streams.ts';

function collector() {
  const got = { sip: [] as string[], msrp: 0, tls: 0 };
  const t = new TcpSignalling({ sip: (_f, m) => got.sip.push(m.toString('latin1').split('\r\n')[0]!), msrp: () => got.msrp++, tls: (_f, n) => (got.tls += n) });
  return { t, got };
}

const sip = (n: number, body = '') => Buffer.from(`OPTIONS sip:x${n}@y SIP/2.0\r\nCall-ID: ${n}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

describe('TcpSignalling', () => {
  it('gives up a hole after 1 MiB waiting and reads on from the next message', () => {
    const { t, got } = collector();
    const a = sip(1);
    t.segment('f', 1, 0x18, a);
    // A lost segment of 100 octets, then 1.1 MiB of messages after it.
    let at = 1 + a.length + 100;
    const big = 'x'.repeat(60_000);
    for (let n = 2; at < 1 + a.length + 100 + 1_150_000; n++) {
      const m = sip(n, big);
      t.segment('f', at, 0x18, m);
      at += m.length;
    }
    expect(got.sip[0]).toBe('OPTIONS sip:x1@y SIP/2.0');
    expect(got.sip.length).toBeGreaterThan(15);
  });

  it('drops a message announcing a body larger than any real one, and resynchronises', () => {
    const { t, got } = collector();
    const bogus = Buffer.from('OPTIONS sip:x@y SIP/2.0\r\nContent-Length: 999999999\r\n\r\n');
    const next = sip(7);
    t.segment('f', 10, 0x18, Buffer.concat([bogus, next]));
    expect(got.sip).toEqual(['OPTIONS sip:x7@y SIP/2.0']);
  });

  it('forgets a direction at FIN and RST; a new SYN on the same ports starts over', () => {
    const { t, got } = collector();
    t.segment('f', 100, 0x02, Buffer.alloc(0));
    t.segment('f', 101, 0x18, sip(1).subarray(0, 20));
    expect(t.size).toBe(1);
    t.segment('f', 121, 0x11, Buffer.alloc(0)); // FIN
    expect(t.size).toBe(0);
    t.segment('f', 5000, 0x02, Buffer.alloc(0));
    t.segment('f', 5001, 0x18, sip(2));
    t.segment('f', 5001 + sip(2).length, 0x04, Buffer.alloc(0)); // RST
    expect(got.sip).toEqual(['OPTIONS sip:x2@y SIP/2.0']);
    expect(t.size).toBe(0);
  });
});
