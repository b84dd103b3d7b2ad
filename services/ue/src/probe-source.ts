/**
 * What a UE's media session sends, per kind of media: the PCMU probe every
 * 20 ms, the video probe (H.264, @imslab/probe video.ts) frame by frame, or
 * the text probe (T.140 with RFC 2198 redundancy, RFC 4103) every 300 ms.
 * Each returns plain RTP packets carrying the call's marker for this kind of
 * media; the session protects and sends them.
 */
import { randomBytes } from 'node:crypto';
import {
  markerFor, PCMU_PAYLOAD_TYPE, probePayload, SAMPLES_PER_PACKET, T140ProbeSender, VideoProbeSender, type ProbeMediaType,
} from '@imslab/probe';
import { buildRtp, initialSequenceNumber } from '@imslab/rtp';

/** The kinds of media a call may carry besides its audio. */
export const EXTRA_MEDIA_TYPES = ['video', 'text'] as const;
export type ExtraMediaType = (typeof EXTRA_MEDIA_TYPES)[number];

/**
 * A UE's video: 64x48 at 10 frames/s. The probe is I_PCM (uncompressed), so
 * QCIF would be about 780 kbit/s and 12 packets a frame for each stream;
 * this is about 210 kbit/s and 3 packets, enough to show what protects it.
 */
export const UE_VIDEO = { width: 64, height: 48, fps: 10 } as const;
/** RFC 4103's recommended two redundant generations, 300 ms apart. */
export const UE_TEXT = { intervalMs: 300, red: { generations: 2 } } as const;

/** One kind of probe media as a session sends it. */
export interface ProbeSource {
  readonly type: ProbeMediaType;
  /** Milliseconds between sends. */
  readonly intervalMs: number;
  /** The plain RTP packets of send number `index` (0, 1, ...), with `marker` in each payload. */
  packets(index: number, marker: string): Buffer[];
  /** The RTP timestamp of send number `index` (for sender reports). */
  timestampAt(index: number): number;
}

/** The PCMU probe (@imslab/probe tone.ts): one 160-sample packet per 20 ms. */
class AudioSource implements ProbeSource {
  readonly type = 'audio';
  readonly intervalMs = 20;
  private seq: number;
  private readonly ts0 = randomBytes(4).readUInt32BE(0);

  constructor(private readonly ssrc: number, firstSequence: number) {
    this.seq = firstSequence;
  }

  packets(index: number, marker: string): Buffer[] {
    const p = buildRtp({ payloadType: PCMU_PAYLOAD_TYPE, marker: index === 0, sequence: this.seq, timestamp: this.timestampAt(index), ssrc: this.ssrc }, probePayload(marker, index));
    this.seq = (this.seq + 1) & 0xffff;
    return [p];
  }

  timestampAt(index: number): number {
    return (this.ts0 + index * SAMPLES_PER_PACKET) >>> 0;
  }
}

/**
 * Video or text: the probe sender of @imslab/probe, made again (its
 * sequence numbers going on) when the marker changes. Its frames or packets
 * are numbered by what was sent: while a PoC member does not hold the floor
 * nothing is made, so its RTP timestamps pause with it.
 */
class SenderSource implements ProbeSource {
  readonly intervalMs: number;
  private sender: { marker: string; next: () => Buffer[]; timestampOf: (i: number) => number } | undefined;
  private sent = 0;
  private made = 0;
  private readonly ts0 = randomBytes(4).readUInt32BE(0);

  constructor(readonly type: ExtraMediaType, private readonly ssrc: number, private readonly seq0: number) {
    this.intervalMs = type === 'video' ? 1000 / UE_VIDEO.fps : UE_TEXT.intervalMs;
  }

  packets(_index: number, marker: string): Buffer[] {
    if (this.sender?.marker !== marker) this.sender = this.make(marker);
    const out = this.sender.next();
    this.sent += out.length;
    this.made++;
    return out;
  }

  timestampAt(): number {
    return this.sender ? this.sender.timestampOf(Math.max(0, this.made - 1)) : this.ts0;
  }

  private make(marker: string): NonNullable<SenderSource['sender']> {
    this.made = 0;
    const common = { marker, ssrc: this.ssrc, firstSequence: (this.seq0 + this.sent) & 0xffff, firstTimestamp: this.ts0 };
    if (this.type === 'video') {
      const v = new VideoProbeSender({ ...common, ...UE_VIDEO });
      return { marker, next: () => v.nextFrame().packets, timestampOf: (i) => v.timestampOf(i) };
    }
    const t = new T140ProbeSender({ ...common, ...UE_TEXT });
    return { marker, next: () => [t.nextPacket().packet], timestampOf: (i) => t.timestampOf(i) };
  }
}

/**
 * The source of one kind of media for a session whose SSRC is `ssrc`; its
 * first RTP sequence number is `firstSequence` (a test of how receivers
 * handle a rollover), else random below 2^15 (initialSequenceNumber).
 */
export function probeSource(type: ProbeMediaType, ssrc: number, firstSequence = initialSequenceNumber()): ProbeSource {
  return type === 'audio' ? new AudioSource(ssrc, firstSequence) : new SenderSource(type, ssrc, firstSequence);
}

/**
 * The format lines of an extra stream's m= section (m=, b=, a=rtpmap,
 * a=fmtp, ...), from the same senders: what the UE offers is what it sends.
 */
export function probeSdpLines(type: ExtraMediaType, port: number, profile: string): string[] {
  const marker = markerFor('sdp', 'orig', type);
  return type === 'video'
    ? new VideoProbeSender({ marker, ssrc: 0, ...UE_VIDEO }).sdpLines(port, profile)
    : new T140ProbeSender({ marker, ssrc: 0, ...UE_TEXT }).sdpLines(port, profile);
}
