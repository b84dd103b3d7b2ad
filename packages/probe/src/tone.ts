import { MARKER_LENGTH } from './marker.ts';

/** G.711 PCMU at 8 kHz, 20 ms packets: 160 samples per packet (RFC 3551 sec. 4.5.14). */
export const PCMU_PAYLOAD_TYPE = 0;
export const SAMPLES_PER_PACKET = 160;
export const SAMPLE_RATE = 8000;
export const TONE_HZ = 1000;

/** ITU-T G.711 mu-law encoding of one 16-bit linear sample. */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** ITU-T G.711 mu-law decoding to a 16-bit linear sample. */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

/**
 * One probe payload: the marker in the first 16 octets, then a 1 kHz tone
 * (phase continuous across packets, so the audio is a clean beep when played).
 */
export function probePayload(marker: string, packetIndex: number): Buffer {
  const out = Buffer.alloc(SAMPLES_PER_PACKET);
  out.write(marker, 0, MARKER_LENGTH, 'ascii');
  if (SAME_TONE_EVERY_PACKET) {
    TONE_TAIL.copy(out, MARKER_LENGTH);
    return out;
  }
  for (let i = MARKER_LENGTH; i < SAMPLES_PER_PACKET; i++) out[i] = toneSample(packetIndex * SAMPLES_PER_PACKET + i);
  return out;
}

function toneSample(n: number): number {
  return linearToUlaw(8000 * Math.sin((2 * Math.PI * TONE_HZ * n) / SAMPLE_RATE));
}

/**
 * A packet holds a whole number of the tone's periods (160 samples, 20 of
 * 1 kHz at 8 kHz), so every packet's tone is the same bytes: computed once.
 * A UE carrying many calls built it 50 times a second per call, about five
 * times the cost of the packet's SRTP protection (the call-load bench).
 */
const SAME_TONE_EVERY_PACKET = (SAMPLES_PER_PACKET * TONE_HZ) % SAMPLE_RATE === 0;
const TONE_TAIL = Buffer.from(Array.from({ length: SAMPLES_PER_PACKET - MARKER_LENGTH }, (_, i) => toneSample(MARKER_LENGTH + i)));
