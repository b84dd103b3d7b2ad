/**
 * Floor control inside whole datagrams: compound RTCP (RFC 3550 sec. 6.1),
 * several messages per datagram (TS 24.380 clause 8.1.1), and the
 * analyser's clear-text check on RTCP, RTP and garbage.
 */
import { describe, expect, it } from 'vitest';
import { decodeFloorControlPacket, encodeFloorMessage, findClearFloorControl } from '../src/index.ts';
import { ALICE_SSRC, concat, everyMessage, receiverReport, senderReport } from './helpers.ts';

const [request, granted] = everyMessage().map((x) => x.message);
const requestBytes = encodeFloorMessage(request!);
const grantedBytes = encodeFloorMessage(granted!);

/** An RTCP APP packet with another name (e.g. an OMA PoC1 one), skipped by length. */
const poc1 = new Uint8Array([0x80, 204, 0, 3, 0, 0, 0, 1, 0x50, 0x6f, 0x43, 0x31, 1, 2, 3, 4]);

describe('decodeFloorControlPacket', () => {
  it('an APP MCPT after an RR', () => {
    const r = decodeFloorControlPacket(concat(receiverReport(ALICE_SSRC), requestBytes));
    expect(r.ok && r.messages).toEqual([request]);
    expect(r.ok && r.otherPacketTypes).toEqual([201]);
  });

  it('an APP MCPT after an SR, and other APP names skipped', () => {
    const r = decodeFloorControlPacket(concat(senderReport(ALICE_SSRC), poc1, requestBytes));
    expect(r.ok && r.messages).toEqual([request]);
    expect(r.ok && r.otherPacketTypes).toEqual([200, 204]);
  });

  it('two floor control messages in one datagram', () => {
    const r = decodeFloorControlPacket(concat(grantedBytes, requestBytes));
    expect(r.ok && r.messages).toEqual([granted, request]);
  });

  it('a datagram without floor control decodes to no messages', () => {
    const r = decodeFloorControlPacket(receiverReport(1));
    expect(r.ok && r.messages).toEqual([]);
  });

  it('RFC 3550 padding on the last (non floor control) packet is accepted', () => {
    const padded = new Uint8Array([0xa0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4]);
    const r = decodeFloorControlPacket(concat(requestBytes, padded));
    expect(r.ok && r.messages).toEqual([request]);
  });

  it.each([
    ['garbage after the last packet', concat(requestBytes, new Uint8Array([1, 2])), 'bad-length'],
    ['a length that overruns', concat(receiverReport(1), requestBytes.subarray(0, 20)), 'bad-length'],
    ['RTP, not RTCP', new Uint8Array([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), 'not-rtcp'],
    ['padding on a packet that is not the last', concat(new Uint8Array([0xa0, 201, 0, 1, 0, 0, 0, 1]), requestBytes), 'bad-padding'],
    ['padding count larger than the packet', new Uint8Array([0xa0, 201, 0, 1, 0, 0, 0, 9]), 'bad-padding'],
    ['a malformed floor control packet inside a compound', concat(receiverReport(1), requestBytes.subarray(0, 12).map((x, i) => (i === 3 ? 3 : x)), new Uint8Array([40, 2, 0, 0])), 'unknown-field'],
    ['too short', new Uint8Array([0x80]), 'too-short'],
  ] as const)('%s -> %s', (_what, d, code) => {
    const r = decodeFloorControlPacket(d);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe(code);
  });
});

describe('findClearFloorControl', () => {
  it('finds plaintext floor control alone and in a compound', () => {
    expect(findClearFloorControl(requestBytes)).toEqual({ messages: [request], trailingOctets: 0 });
    expect(findClearFloorControl(concat(receiverReport(1), grantedBytes))).toEqual({ messages: [granted], trailingOctets: 0 });
  });

  it('finds nothing in RTCP without floor control, in RTP, or in garbage', () => {
    expect(findClearFloorControl(receiverReport(1))).toBeUndefined();
    expect(findClearFloorControl(new Uint8Array([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff]))).toBeUndefined();
    expect(findClearFloorControl(new Uint8Array(0))).toBeUndefined();
    expect(findClearFloorControl(new Uint8Array(40).fill(0xaa))).toBeUndefined();
  });

  it('counts what follows the RTCP packets (the trailer of unencrypted SRTCP)', () => {
    const trailer = new Uint8Array(14).fill(0x11); // E=0 | index, then a tag
    expect(findClearFloorControl(concat(requestBytes, trailer))).toEqual({ messages: [request], trailingOctets: 14 });
  });
});
