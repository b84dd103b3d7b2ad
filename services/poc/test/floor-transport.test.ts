import { encodeFloorMessage, type FloorMessage } from '@imslab/floor-control';
import { buildSenderReport } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { describe, expect, it } from 'vitest';
import { readFloorControl, writeFloorControl } from '../src/floor-transport.ts';

/* Floor control between a member and the server: SRTCP under the member's client-server key (TS 33.180), never the group key. */

const key = (seed: number) => ({ profile: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: Uint8Array.from({ length: 16 }, (_, i) => seed + i), masterSalt: Uint8Array.from({ length: 14 }, (_, i) => seed * 2 + i) });
const clientServer = key(1);
const group = key(100);
const request: FloorMessage = { type: 'floor-request', ackRequired: false, ssrc: 0x11223344, fields: { floorPriority: 3 } };

describe('readFloorControl', () => {
  it('reads a Floor Request protected under the member\'s key', () => {
    const wire = writeFloorControl(new SrtpContext(clientServer), request);
    expect(readFloorControl(new SrtpContext(clientServer), wire)).toEqual({ ok: true, messages: [request] });
  });

  it('refuses floor control under another key (the group key): authentication fails', () => {
    const wire = writeFloorControl(new SrtpContext(group), request);
    const r = readFloorControl(new SrtpContext(clientServer), wire);
    expect(r).toEqual({ ok: false, reason: 'SRTCP auth-failed' });
  });

  it('refuses a replayed datagram', () => {
    const rx = new SrtpContext(clientServer);
    const wire = writeFloorControl(new SrtpContext(clientServer), request);
    expect(readFloorControl(rx, wire).ok).toBe(true);
    expect(readFloorControl(rx, wire)).toEqual({ ok: false, reason: 'SRTCP replayed' });
  });

  it('refuses plain (unprotected) floor control', () => {
    const r = readFloorControl(new SrtpContext(clientServer), Buffer.from(encodeFloorMessage(request)));
    expect(r.ok).toBe(false);
  });

  it('refuses malformed floor control inside authentic SRTCP, saying where, without throwing', () => {
    const plain = Buffer.from(encodeFloorMessage(request));
    // A field length that overruns the packet: valid RTCP framing, broken MCPT fields.
    plain[13] = 0xff;
    const wire = new SrtpContext(clientServer).protectRtcp(plain);
    const r = readFloorControl(new SrtpContext(clientServer), wire);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^floor control [a-z-]+ at octet \d+: /);
  });

  it('reads a sender report as no floor control (the member\'s RTCP shares the key)', () => {
    const wire = new SrtpContext(clientServer).protectRtcp(buildSenderReport(1, 2, 3, 4));
    expect(readFloorControl(new SrtpContext(clientServer), wire)).toEqual({ ok: true, messages: [] });
  });

  it('never throws on junk', () => {
    const rx = new SrtpContext(clientServer);
    for (const junk of [Buffer.alloc(0), Buffer.from([0x80]), Buffer.from('INVITE sip:x SIP/2.0'), Buffer.alloc(64, 0x81)]) {
      expect(readFloorControl(rx, junk).ok).toBe(false);
    }
  });
});
