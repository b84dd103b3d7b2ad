/**
 * One decrypted RTP stream as audio: G.711 payloads decoded and placed by
 * RTP timestamp (RFC 3550 sec 5.1: the sampling instant of the first octet;
 * for G.711 one timestamp unit is one sample, RFC 3551 sec 4.5.14), so
 * reordered packets land where they belong and lost ones leave silence.
 * Packets of other payload types in the stream (comfort noise, DTMF events)
 * are left out: their time is silence.
 */
import { RtpHeaderView } from '@imslab/rtp';
import { G711_SAMPLE_RATE, g711Table } from './g711.ts';
import { WavFile } from './wav-file.ts';

/**
 * A timestamp jump forward larger than this (one minute) is taken as a
 * discontinuity (a new timestamp base, e.g. after a sender restart), not as
 * a minute of silence: the audio carries on right after what came before.
 */
const MAX_GAP_SAMPLES = 60 * G711_SAMPLE_RATE;
/** Likewise a jump backwards larger than five seconds: no real reordering is that deep. */
const MAX_BACK_SAMPLES = 5 * G711_SAMPLE_RATE;

/** What became of a stream's audio. */
export interface StreamAudioReport {
  /** The WAV file (absolute path). */
  file: string;
  /** Samples in it at 8000 Hz (duration = samples / 8000 s). */
  samples: number;
  /** G.711 packets placed. */
  packets: number;
  /** Packets from before the stream's first timestamp (reordered ahead of the first one), left out. */
  early: number;
  /** Timestamp jumps taken as a new base instead of silence. */
  discontinuities: number;
}

/** See module comment. */
export class StreamAudio {
  private readonly wav: WavFile;
  private readonly view = new RtpHeaderView();
  /** Extended (unwrapped) timestamp of the newest packet and its 32-bit value. */
  private lastTs = 0;
  private lastExt = 0;
  /** Added to the extended timestamp to get the sample position; moved at discontinuities. */
  private shift = 0;
  private started = false;
  private packets = 0;
  private early = 0;
  private discontinuities = 0;

  constructor(readonly file: string) {
    this.wav = new WavFile(file, G711_SAMPLE_RATE);
  }

  /** Places a decrypted RTP packet; false when its payload type is not G.711 (nothing written). */
  add(rtp: Uint8Array): boolean {
    const v = this.view;
    if (v.wrap(rtp) !== null) return false;
    const table = g711Table(v.payloadType);
    if (!table) return false;
    const ts = v.timestamp;
    if (!this.started) {
      this.started = true;
      this.lastTs = ts;
      this.lastExt = 0;
      this.shift = 0;
    }
    // Signed 32-bit distance from the newest timestamp: unwraps across 2^32 (RFC 1982 arithmetic).
    const d = (ts - this.lastTs) | 0;
    const ext = this.lastExt + d;
    let at = ext + this.shift;
    const end = this.wav.samples;
    if (at - end > MAX_GAP_SAMPLES || end - at > MAX_BACK_SAMPLES + (v.payloadEnd - v.payloadOffset)) {
      this.shift += end - at;
      at = end;
      this.discontinuities++;
      this.lastTs = ts;
      this.lastExt = ext;
    } else if (d > 0) {
      this.lastTs = ts;
      this.lastExt = ext;
    }
    if (at < 0) {
      this.early++;
      return true;
    }
    this.wav.put(at, v.bytes, v.payloadOffset, v.payloadEnd, table);
    this.packets++;
    return true;
  }

  /** Writes the header and closes the file. */
  close(): StreamAudioReport {
    this.wav.close();
    return { file: this.file, samples: this.wav.samples, packets: this.packets, early: this.early, discontinuities: this.discontinuities };
  }
}
