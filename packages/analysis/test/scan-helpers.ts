/**
 * In-memory scanning for the "every packet accounted for" tests: frames go
 * straight into the link scanner (no capture file), keys are made here, and
 * every flow of every scan is checked to add up.
 */
import { expect } from 'vitest';
import { buildUdpFrame, LINKTYPE, type CapturedPacket } from '@imslab/capture';
import { markerFor, probePayload } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext, SrtpVerifier, type SrtpProfileName } from '@imslab/srtp';
import type { LoggedKey } from '../src/keys.ts';
import { MediaScanner, type LinkReport, type MediaFlowReport } from '../src/link-scan.ts';

export const T0 = 1_700_000_000_000_000;
export const DT = 20_000;

/** A logged key (as the key ring would hold it) and a sender context under it. */
export function makeKey(id: string, profile: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80'): { key: LoggedKey; ctx: () => SrtpContext } {
  const ks = generateKeySalt(profile);
  const { masterKey, masterSalt } = splitKeySalt(profile, ks);
  return {
    key: {
      id,
      entry: { kind: 'srtp', owner: id.split('/')[0]!, callId: 'c', dir: 'tx', suite: profile, keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: '' },
      verifier: new SrtpVerifier(profile, masterKey, masterSalt),
    },
    ctx: () => new SrtpContext({ profile, masterKey, masterSalt }),
  };
}

/** RTP packets of one call direction: probe payloads with `marker`, sequence numbers from `seq0`. */
export function rtpStream(opts: { n: number; ssrc?: number; seq0?: number; marker?: string; payload?: (i: number) => Buffer }): Buffer[] {
  const marker = opts.marker ?? markerFor('call-under-test', 'orig');
  return Array.from({ length: opts.n }, (_, i) => buildRtp(
    { payloadType: 0, sequence: ((opts.seq0 ?? 0) + i) & 0xffff, timestamp: i * 160, ssrc: opts.ssrc ?? 0x11112222 },
    opts.payload ? opts.payload(i) : probePayload(marker, i),
  ));
}

export function udp(payload: Buffer, src = '127.0.1.100:40000', dst = '127.0.1.11:30000'): Buffer {
  const [sa, sp] = src.split(':');
  const [da, dp] = dst.split(':');
  return buildUdpFrame(LINKTYPE.ETHERNET, sa!, Number(sp), da!, Number(dp), payload);
}

export function packet(data: Buffer, i: number, linkType: number = LINKTYPE.ETHERNET): CapturedPacket {
  return { timestampUs: T0 + i * DT, linkType, interfaceId: 0, data, originalLength: data.length, offset: 0 };
}

/** Scans frames (in order, 20 ms apart) with the given keys. */
export function scanFrames(frames: Buffer[], keys: LoggedKey[], linkType: number = LINKTYPE.ETHERNET): Pick<LinkReport, 'media' | 'signalling'> {
  const s = new MediaScanner(keys);
  frames.forEach((f, i) => s.packet(packet(f, i, linkType)));
  const media = s.finish();
  for (const f of media) expectAccounted(f);
  return { media, signalling: s.signalling };
}

export const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** The invariants: every RTP packet in exactly one class, every RTCP packet too. */
export function expectAccounted(f: MediaFlowReport): void {
  expect(f.plaintext + sum(f.srtp) + f.replayed + f.unknown + f.plaintextUnmarked, `${f.flow}: classes add up to packets`).toBe(f.packets);
  expect(f.rtcpPlain + sum(f.srtcp) + f.srtcpUnknown, `${f.flow}: RTCP classes add up`).toBe(f.rtcp);
  expect(f.srtpVerified).toBe(sum(f.srtp));
  expect(f.replayedPlaintext).toBeLessThanOrEqual(f.replayed);
  expect(f.unauthenticated).toBeLessThanOrEqual(f.unknown);
}
