import { describe, expect, it } from 'vitest';
import { decodeFrame, readCapture, SipStreamReassembler } from '../src/index.ts';
import { fixture } from './helpers.ts';

const msg = (start: string, body = '', lengthHeader = 'Content-Length'): string =>
  `${start}\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-x\r\nCall-ID: c1\r\n${lengthHeader}: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('SipStreamReassembler on the TCP fixture', () => {
  it('reassembles an INVITE sent out of order, retransmitted and across the 2^32 sequence wrap; splits two responses in one segment', async () => {
    const c2s = new SipStreamReassembler();
    const s2c = new SipStreamReassembler();
    const out: Record<string, string[]> = { c2s: [], s2c: [] };
    for await (const p of readCapture(fixture('sip-tls-msrp-tcp-reordered.eth.pcapng'))) {
      const d = decodeFrame(p.linkType, p.data)!;
      if (d.protocol !== 'tcp') continue;
      if (d.dstPort === 5060) out.c2s!.push(...c2s.push(d.tcp!.seq, d.payload).map((m) => m.toString('latin1')));
      if (d.srcPort === 5060) out.s2c!.push(...s2c.push(d.tcp!.seq, d.payload).map((m) => m.toString('latin1')));
    }
    expect(out.c2s).toHaveLength(1);
    const invite = out.c2s![0]!;
    expect(invite).toMatch(/^INVITE sip:bob@10\.0\.0\.2 SIP\/2\.0\r\n/);
    const [head, body] = invite.split('\r\n\r\n');
    expect(Number(/Content-Length: (\d+)/.exec(head!)![1])).toBe(Buffer.byteLength(body!));
    expect(body).toMatch(/^v=0\r\n[\s\S]*m=audio 40000 RTP\/AVP 0 8\r\n$/);
    expect(out.s2c!.map((m) => m.split('\r\n')[0])).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    expect(c2s.bufferedBytes + s2c.bufferedBytes).toBe(0);
  });
});

describe('SipStreamReassembler framing (RFC 3261 sec 18.3)', () => {
  it('frames byte by byte, with a body that contains a blank line', () => {
    const m = msg('MESSAGE sip:bob@x SIP/2.0', 'line1\r\n\r\nline3');
    const r = new SipStreamReassembler();
    const got: Buffer[] = [];
    Buffer.from(m).forEach((byte, i) => got.push(...r.push(1000 + i, Buffer.from([byte]))));
    expect(got.map((b) => b.toString())).toEqual([m]);
  });

  it('drops keep-alive CRLFs and honours the compact form `l:`', () => {
    const a = msg('OPTIONS sip:x SIP/2.0', 'abc', 'l');
    const b = msg('SIP/2.0 200 OK');
    const r = new SipStreamReassembler();
    const got = r.push(1, Buffer.from(`\r\n\r\n${a}\r\n${b}`));
    expect(got.map((x) => x.toString())).toEqual([a, b]);
  });

  it('waits for the body announced by Content-Length', () => {
    const m = msg('INVITE sip:x SIP/2.0', 'v=0\r\n');
    const r = new SipStreamReassembler();
    expect(r.push(0, Buffer.from(m.slice(0, -3)))).toEqual([]);
    expect(r.push(m.length - 3, Buffer.from(m.slice(-3))).map((x) => x.toString())).toEqual([m]);
  });

  it('resynchronises when the capture starts in the middle of a message', () => {
    const m = msg('BYE sip:x SIP/2.0');
    const r = new SipStreamReassembler();
    const tail = 'o=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4 RTP/AVP 0\r\n';
    expect(r.push(50, Buffer.from(tail + m)).map((x) => x.toString())).toEqual([m]);
  });

  it('ignores pure retransmissions and trims overlapping ones', () => {
    const m = msg('INFO sip:x SIP/2.0', '0123456789');
    const r = new SipStreamReassembler();
    expect(r.push(0, Buffer.from(m.slice(0, 40)))).toEqual([]);
    expect(r.push(0, Buffer.from(m.slice(0, 40)))).toEqual([]);
    expect(r.push(20, Buffer.from(m.slice(20))).map((x) => x.toString())).toEqual([m]);
  });

  it('skips a hole that is never filled once 1 MiB waits behind it, then frames what follows', () => {
    const r = new SipStreamReassembler();
    expect(r.push(0, Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Le'))).toEqual([]);
    const m = msg('SIP/2.0 486 Busy Here');
    const filler = Buffer.alloc(1 << 20, 0x61);
    // The bytes 33..99 were never captured; what arrives after them piles up until the limit.
    expect(r.push(100, Buffer.from(m))).toEqual([]);
    expect(r.push(100 + m.length, filler).map((x) => x.toString())).toEqual([m]);
    expect(r.bufferedBytes).toBe(0); // the filler is no SIP start line and longer than any header: dropped
  });
});
