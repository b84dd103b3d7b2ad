import { acceptStream, closeQuietly, refuseStream, type ExtraMediaSpec, type OfferedStream } from '@imslab/app-server';
import type { PocMode } from './config.ts';
import type { PocStreamStatus } from './contract.ts';
import type { RtpPair } from './media-ports.ts';
import { FORWARDED_STREAM_TYPES, StreamLeg, streamStatus } from './stream-leg.ts';

/** What the server does with one offered stream after the audio: take it, or refuse it (port 0 in the answer) saying why. */
export type StreamPlan = { stream: OfferedStream; accept: true } | { stream: OfferedStream; accept: false; reason: string };

/**
 * Which of a member's further streams the server takes (pure). Only in e2e
 * groups: there every stream is SRTP under the group key and forwarding
 * needs no key; e2m2e would need a key per stream at the server to decrypt
 * and re-encrypt it, which the client-server key exchange does not give. The
 * audio joins either way.
 */
export function planStreams(streams: readonly OfferedStream[], mode: PocMode): StreamPlan[] {
  const taken = new Set<string>();
  return streams.map((stream) => {
    const reason = refusal(stream, mode, taken);
    if (reason) return { stream, accept: false, reason };
    taken.add(stream.type);
    return { stream, accept: true };
  });
}

function refusal(s: OfferedStream, mode: PocMode, taken: ReadonlySet<string>): string | null {
  if (s.port === 0) return 'disabled in the offer';
  if (mode === 'e2m2e') return `e2m2e carries the audio only (re-encrypting ${s.type} would need a key per stream at the server)`;
  if (!FORWARDED_STREAM_TYPES.includes(s.type)) return `only ${FORWARDED_STREAM_TYPES.join(' and ')} are forwarded besides the audio`;
  if (s.profile !== 'RTP/SAVP') return `SRTP only (RTP/SAVP); ${s.profile} offered`;
  if (s.payloadTypes.length === 0 || s.payloadTypes.length !== s.formats.length) return 'its formats are not RTP payload types';
  // The stream's key is the group's, which no answer carries: an SDES key offered for it could not be answered.
  if (s.crypto.length > 0) return 'a=crypto offered: the stream is under the group key, which the server neither holds nor answers';
  if (!s.address) return 'no c= address';
  if (taken.has(s.type)) return `a second ${s.type} stream (one of each type is forwarded)`;
  return null;
}

/** The answer's sections and the member's accepted streams, from a plan and the port pairs bound for its accepted entries. */
export interface PlannedStreams {
  extraMedia: ExtraMediaSpec[];
  legs: StreamLeg[];
  /** Every offered stream after the audio, in order, refused ones included. */
  status: PocStreamStatus[];
}

/**
 * Binds one RTP/RTCP port pair per accepted stream (`bind`: the server's
 * port range). A stream whose pair cannot be bound is refused rather than
 * failing the call: the audio still joins.
 */
export async function bindStreams(plan: readonly StreamPlan[], bind: () => Promise<RtpPair>): Promise<Array<StreamPlan & { pair?: RtpPair }>> {
  const out: Array<StreamPlan & { pair?: RtpPair }> = [];
  for (const p of plan) {
    if (!p.accept) {
      out.push(p);
      continue;
    }
    try {
      out.push({ ...p, pair: await bind() });
    } catch (e) {
      out.push({ stream: p.stream, accept: false, reason: (e as Error).message });
    }
  }
  return out;
}

/** Closes the pairs {@link bindStreams} bound (the call ended meanwhile, or its answer could not carry them). */
export function closeBound(bound: ReadonlyArray<{ pair?: RtpPair }>): void {
  for (const b of bound) {
    if (!b.pair) continue;
    closeQuietly(b.pair.rtp);
    closeQuietly(b.pair.rtcp);
  }
}

/**
 * The answer's further sections (each accepted stream on our port with its
 * offered formats, RTP/SAVP, no key lines; each refused one on port 0) and
 * the legs of the accepted streams.
 */
export function answerStreams(bound: ReadonlyArray<StreamPlan & { pair?: RtpPair }>): PlannedStreams {
  const r: PlannedStreams = { extraMedia: [], legs: [], status: [] };
  for (const b of bound) {
    if (b.accept && b.pair) {
      const leg = new StreamLeg(b.stream, b.pair.rtp, b.pair.rtcp, b.pair.port, { address: b.stream.address!, port: b.stream.port });
      r.extraMedia.push(acceptStream(b.stream, { port: b.pair.port, profile: 'RTP/SAVP' }));
      r.legs.push(leg);
      r.status.push(leg.stats);
    } else {
      r.extraMedia.push(refuseStream(b.stream));
      r.status.push(streamStatus(b.stream, 0, b.accept ? 'no port pair' : b.reason));
    }
  }
  return r;
}

/**
 * Our answer with the further streams: `build` writes it with the given
 * sections. Should the writer refuse a section (an offered format line it
 * cannot carry), their sockets are closed and every further stream is
 * refused instead: the member still joins with its audio. `failed` says why.
 */
export function answerWith(bound: ReadonlyArray<StreamPlan & { pair?: RtpPair }>, build: (extraMedia: ExtraMediaSpec[]) => string): { sdp: string; streams: PlannedStreams; failed?: Error } {
  const streams = answerStreams(bound);
  try {
    return { sdp: build(streams.extraMedia), streams };
  } catch (e) {
    closeBound(bound);
    const refused = answerStreams(bound.map((b) => ({ stream: b.stream, accept: false as const, reason: `the answer could not carry it: ${(e as Error).message}` })));
    return { sdp: build(refused.extraMedia), streams: refused, failed: e as Error };
  }
}
