/**
 * ITU-T G.711 decoding to 16-bit linear PCM, as lookup tables: mu-law
 * (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8), RFC 3551
 * sec 4.5.14, 8000 Hz, one octet per sample. The formulas are those of the
 * G.711 reference decoder (expansion to 14-bit mu-law / 13-bit A-law
 * magnitudes, scaled to 16 bits as the common g711.c does).
 */

/** RTP payload types of G.711 with a static assignment (RFC 3551 sec 6, table 4). */
export const PT_PCMU = 0;
export const PT_PCMA = 8;
/** Both run at 8000 Hz (RFC 3551 sec 4.5.14). */
export const G711_SAMPLE_RATE = 8000;

function ulaw(code: number): number {
  const u = ~code & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

function alaw(code: number): number {
  // Even bits are inverted on the line (G.711 sec 2): undo with 0x55.
  const a = code ^ 0x55;
  const seg = (a >> 4) & 7;
  let t = (a & 0x0f) << 4;
  t += seg === 0 ? 8 : 0x108;
  if (seg > 1) t <<= seg - 1;
  return a & 0x80 ? t : -t;
}

/** Linear sample of every mu-law octet. */
export const ULAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulaw(i));
/** Linear sample of every A-law octet. */
export const ALAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alaw(i));

/** The decoding table of an RTP payload type, or undefined when it is not G.711. */
export function g711Table(payloadType: number): Int16Array | undefined {
  return payloadType === PT_PCMU ? ULAW_TO_LINEAR : payloadType === PT_PCMA ? ALAW_TO_LINEAR : undefined;
}
