/** IP fragment reassembly: a SIP message larger than the MTU still gives away every key in its SDP. */
import { describe, expect, it } from 'vitest';
import { buildUdpFrame, decodeFrame, LINKTYPE } from '@imslab/capture';
import { generateKeySalt } from '@imslab/srtp';
import { IpReassembler } from '../src/ip-fragments.ts';
import { scanFrames } from './scan-helpers.ts';

/** A raw IPv4 UDP packet cut into fragments of `size` payload octets (a multiple of 8), in RFC 791 form. */
function fragments4(packet: Buffer, size: number, id = 0x4242): Buffer[] {
  const ihl = (packet[0]! & 15) * 4;
  const body = packet.subarray(ihl);
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const part = body.subarray(off, off + size);
    const h = Buffer.from(packet.subarray(0, ihl));
    h.writeUInt16BE(ihl + part.length, 2);
    h.writeUInt16BE(id, 4);
    h.writeUInt16BE((off + size < body.length ? 0x2000 : 0) | (off / 8), 6);
    out.push(Buffer.concat([h, part]));
  }
  return out;
}

/** A raw IPv6 UDP packet cut into fragments with a fragment header (RFC 8200 sec. 4.5). */
function fragments6(packet: Buffer, size: number, id = 0x01020304): Buffer[] {
  const body = packet.subarray(40);
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const part = body.subarray(off, off + size);
    const h = Buffer.from(packet.subarray(0, 40));
    const fh = Buffer.alloc(8);
    fh[0] = packet[6]!; // the upper-layer protocol
    fh.writeUInt16BE(off | (off + size < body.length ? 1 : 0), 2);
    fh.writeUInt32BE(id, 4);
    h[6] = 44;
    h.writeUInt16BE(8 + part.length, 4);
    out.push(Buffer.concat([h, fh, part]));
  }
  return out;
}

function sipWithKeys(n: number): { sip: Buffer; keys: string[] } {
  const keys = Array.from({ length: n }, () => generateKeySalt('AES_CM_128_HMAC_SHA1_80').toString('base64'));
  const sdp = ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 40000 RTP/SAVP 0', ...keys.map((k, i) => `a=crypto:${i + 1} AES_CM_128_HMAC_SHA1_80 inline:${k}`), ''].join('\r\n');
  const sip = Buffer.from(['INVITE sip:b@x SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bK1', 'Call-ID: frag@x', `Content-Length: ${sdp.length}`, '', sdp].join('\r\n'));
  return { sip, keys };
}

describe('IP fragments', () => {
  it('IPv4: fragments in any order give back the datagram; the SIP in it is read whole', () => {
    const { sip, keys } = sipWithKeys(40);
    const whole = buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 5080, '10.0.0.2', 15060, sip);
    const frags = fragments4(whole, 1480);
    expect(frags.length).toBeGreaterThanOrEqual(2);
    const r = new IpReassembler();
    const order = [frags.length - 1, ...frags.keys()].slice(0, frags.length);
    const got = order.map((i, k) => r.push(LINKTYPE.RAW, frags[i]!, k));
    expect(got.slice(0, -1)).toEqual(Array(frags.length - 1).fill(null));
    expect(decodeFrame(LINKTYPE.RAW, got.at(-1)!)!.payload.equals(sip)).toBe(true);
    expect(r.size).toBe(0);
    // Through the scanner: every key of the SDP, though most were past the first fragment.
    const { signalling } = scanFrames(order.map((i) => frags[i]!), [], LINKTYPE.RAW);
    expect(signalling.plaintextSip).toBe(1);
    expect(signalling.exposedSdesKeys).toEqual(keys);
  });

  it('IPv6: fragment headers, out of order', () => {
    const { sip, keys } = sipWithKeys(30);
    const whole = buildUdpFrame(LINKTYPE.RAW, '2001:db8::1', 5080, '2001:db8::2', 15060, sip);
    const frags = fragments6(whole, 1232);
    const { signalling } = scanFrames([...frags].reverse(), [], LINKTYPE.RAW);
    expect(signalling.exposedSdesKeys).toEqual(keys);
    expect(signalling.sipFlows).toEqual(['udp [2001:db8::1]:5080 > [2001:db8::2]:15060']);
  });

  it('holds what never completes only for a while, and passes what is no fragment straight through', () => {
    const r = new IpReassembler();
    const whole = buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(3000));
    expect(r.push(LINKTYPE.RAW, whole, 0)).toBe(whole);
    for (let id = 0; id < 1000; id++) r.push(LINKTYPE.RAW, fragments4(whole, 1480, id)[0]!, id * 1000);
    expect(r.size).toBeLessThanOrEqual(256);
    r.push(LINKTYPE.RAW, fragments4(whole, 1480, 5000)[0]!, 3_600_000_000);
    expect(r.size).toBe(1);
  });
});
