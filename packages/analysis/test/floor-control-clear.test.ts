import { describe, expect, it } from 'vitest';
import { encodeFloorMessage } from '@imslab/floor-control';
import { markerFor } from '@imslab/probe';
import { buildSenderReport } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext, SrtpVerifier } from '@imslab/srtp';
import type { LoggedKey } from '../src/keys.ts';
import { expectAccounted, rtpStream, scanFrames, udp } from './scan-helpers.ts';

/*
 * PoC floor control (RTCP APP MCPT, TS 24.380) readable without a key is a
 * finding of the link scan (`floorControlClear`): plain RTCP, alone or in a
 * compound, and SRTCP sent with encryption off (E=0). Encrypted SRTCP shows
 * only its header (RFC 3711 sec. 3.4) and is not counted.
 */

const MARKER = markerFor('floor-clear@test', 'orig');
const PROFILE = 'AES_CM_128_HMAC_SHA1_80';

describe('floor control readable in the clear', () => {
  it('counts plain and E=0 floor control on a flow, never encrypted SRTCP', () => {
    const ks = generateKeySalt(PROFILE);
    const { masterKey, masterSalt } = splitKeySalt(PROFILE, ks);
    const key: LoggedKey = {
      id: 'alice/tx/floor', verifier: new SrtpVerifier(PROFILE, masterKey, masterSalt),
      entry: { kind: 'srtp', owner: 'alice', callId: 'c', dir: 'tx', suite: PROFILE, keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: '' },
    };
    const encrypted = new SrtpContext({ profile: PROFILE, masterKey, masterSalt });
    const clearSrtcp = new SrtpContext({ profile: PROFILE, masterKey, masterSalt, unencryptedSrtcp: true });
    const request = Buffer.from(encodeFloorMessage({ type: 'floor-request', ackRequired: false, ssrc: 0x11112222, fields: { userId: 'sip:alice@ims.test' } }));
    const sr = buildSenderReport(0x11112222, 160, 10, 1600, 1_700_000_000_000);
    const rtcp = [
      request, Buffer.concat([sr, request]), // plain: readable
      encrypted.protectRtcp(request), encrypted.protectRtcp(Buffer.concat([sr, request])), // encrypted SRTCP: header only
      clearSrtcp.protectRtcp(request), // authenticated, but E=0: readable
      encrypted.protectRtcp(sr), // no floor control at all
    ];
    const rtp = rtpStream({ n: 20, marker: MARKER }).map((p) => encrypted.protectRtp(p));
    const { media } = scanFrames([...rtp, ...rtcp].map((p) => udp(p)), [key]);
    const f = media[0]!;
    expect([f.rtcp, f.rtcpPlain, f.srtcp[key.id], f.floorControlClear]).toEqual([6, 2, 4, 3]);
    expectAccounted(f);
  });
});
