/**
 * Floor control is protected as SRTCP under the member's client-server key
 * (TS 33.180: the server must read floor control but never holds the group
 * key), using @imslab/srtp's SrtpContext.protectRtcp / unprotectRtcp.
 *
 * What an observer sees (RFC 3711 sec. 3.4): SRTCP encrypts everything after
 * the first 8 octets, so V/P/subtype, PT=204 (APP), the length and the
 * sender SSRC stay readable, but the APP name `MCPT` and every floor
 * control field are ciphertext. An analyser can tell "an APP packet from
 * SSRC x" (and its subtype, i.e. the message type, since the subtype sits
 * in the clear count field), not its name or contents. With E=0
 * (UNENCRYPTED_SRTCP) everything stays readable, and findClearFloorControl
 * says so.
 */
import { SrtpContext } from '@imslab/srtp';
import { describe, expect, it } from 'vitest';
import { decodeFloorControlPacket, decodeFloorMessage, encodeFloorMessage, findClearFloorControl, type FloorMessage } from '../src/index.ts';
import { ALICE_SSRC } from './helpers.ts';

const clientServerKey = { masterKey: Uint8Array.from({ length: 16 }, (_, i) => i + 1), masterSalt: Uint8Array.from({ length: 14 }, (_, i) => 0xa0 + i) };
const groupKey = { masterKey: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i), masterSalt: Uint8Array.from({ length: 14 }, (_, i) => i) };
const ctx = (k: typeof clientServerKey, unencryptedSrtcp = false) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, unencryptedSrtcp });

const request: FloorMessage = { type: 'floor-request', ackRequired: false, ssrc: ALICE_SSRC, fields: { floorPriority: 7, userId: 'sip:alice@ims.example' } };
const plain = encodeFloorMessage(request);

describe('Floor Request as SRTCP under the client-server key', () => {
  it('round-trips: the server, holding the same key, decrypts and decodes it', () => {
    const srtcp = ctx(clientServerKey).protectRtcp(plain);
    const r = ctx(clientServerKey).unprotectRtcp(srtcp);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(new Uint8Array(r.packet)).toEqual(plain);
    const d = decodeFloorMessage(r.packet);
    expect(d.ok && d.message).toEqual(request);
  });

  it('the first 8 octets are clear, the APP name and fields are not (RFC 3711 sec. 3.4)', () => {
    const srtcp = ctx(clientServerKey).protectRtcp(plain);
    expect(srtcp.length).toBe(plain.length + 4 + 10); // E|SRTCP index, 80-bit tag
    expect(srtcp.subarray(0, 8)).toEqual(Buffer.from(plain.subarray(0, 8)));
    expect(srtcp.subarray(8, 12).toString('latin1')).not.toBe('MCPT');
    expect(srtcp.subarray(12, plain.length).equals(Buffer.from(plain.subarray(12)))).toBe(false);
    expect(srtcp[plain.length]! & 0x80).toBe(0x80); // E flag: encrypted
    // What stays visible: APP, the subtype (Floor Request = 0) and the sender.
    expect(srtcp[1]).toBe(204);
    expect(srtcp[0]! & 0x1f).toBe(0);
    expect(srtcp.readUInt32BE(4)).toBe(ALICE_SSRC);
  });

  it('an analyser without the key reads no floor control in it', () => {
    const srtcp = ctx(clientServerKey).protectRtcp(plain);
    expect(findClearFloorControl(srtcp)).toBeUndefined();
    expect(decodeFloorMessage(srtcp).ok).toBe(false);
    expect(decodeFloorControlPacket(srtcp).ok).toBe(false);
  });

  it('the group key does not open it', () => {
    const srtcp = ctx(clientServerKey).protectRtcp(plain);
    expect(ctx(groupKey).unprotectRtcp(srtcp)).toEqual({ ok: false, reason: 'auth-failed' });
  });

  it('a tampered packet fails authentication', () => {
    const srtcp = ctx(clientServerKey).protectRtcp(plain);
    srtcp[14] = srtcp[14]! ^ 1;
    expect(ctx(clientServerKey).unprotectRtcp(srtcp)).toEqual({ ok: false, reason: 'auth-failed' });
  });

  it('with encryption off (E=0) floor control is readable by anyone: findClearFloorControl reports it', () => {
    const srtcp = ctx(clientServerKey, true).protectRtcp(plain);
    expect(srtcp[plain.length]! & 0x80).toBe(0);
    expect(findClearFloorControl(srtcp)).toEqual({ messages: [request], trailingOctets: 14 });
  });
});
