import { linearToUlaw, MARKER_LENGTH, MARKER_PREFIX, SAMPLES_PER_PACKET, ulawToLinear } from '@imslab/probe';

/**
 * Conference audio mixing for the e2m2e bridge: G.711 µ-law (PCMU) codec
 * helpers and the per-step mixer that gives every participant the sum of
 * everybody else, stamped with one contributor's probe marker.
 */

/** The µ-law code of linear 0 (positive zero); also what an idle PCMU channel carries. */
const ULAW_SILENCE = 0xff;

// Tables from the probe's G.711 codec (one implementation of the ITU-T algorithm in the repository).
const DECODE = new Int16Array(256);
for (let b = 0; b < 256; b++) DECODE[b] = ulawToLinear(b);

/** Index = int16 sample + 32768. */
const ENCODE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) ENCODE[i] = linearToUlaw(i - 32768);

export function ulawDecode(b: number): number {
  return DECODE[b & 0xff]!;
}

export function ulawEncode(s: number): number {
  if (Number.isNaN(s)) return ULAW_SILENCE;
  const i = Math.max(-32768, Math.min(32767, Math.round(s)));
  return ENCODE[i + 32768]!;
}

export function decodeFrame(payload: Uint8Array): Int16Array {
  const n = payload.length;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = DECODE[payload[i]!]!;
  return out;
}

export function encodeFrame(pcm: Int16Array): Buffer {
  const n = pcm.length;
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = ENCODE[pcm[i]! + 32768]!;
  return out;
}

const PREFIX = Buffer.from(MARKER_PREFIX, 'ascii');

function isLowerHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

/**
 * Offset of the first well-formed probe marker (`IMSLAB` + 10 lower-case hex
 * digits, the same rule as the probe's `findMarker`) in `payload`, or -1.
 */
export function markerOffset(payload: Uint8Array): number {
  const buf = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = buf.indexOf(PREFIX);
  while (at >= 0 && at + MARKER_LENGTH <= buf.length) {
    let ok = true;
    for (let i = at + PREFIX.length; i < at + MARKER_LENGTH; i++) {
      if (!isLowerHex(buf[i]!)) {
        ok = false;
        break;
      }
    }
    if (ok) return at;
    at = buf.indexOf(PREFIX, at + 1);
  }
  return -1;
}

interface Contribution {
  readonly payload: Uint8Array;
  readonly pcm: Int16Array;
  /** Offset of the payload's probe marker, or -1. */
  readonly marker: number;
}

/**
 * One conference mixing step (the e2m2e bridge decrypts every leg, mixes,
 * re-encrypts per leg): `inputs` holds the latest 20 ms PCMU payload of each
 * participant (absent/silent participants simply missing). Returns for every
 * participant id in `to` the PCMU payload of the sum of all OTHER
 * participants' audio (saturating at int16), so nobody hears themselves.
 * With exactly one other contributor the output is a byte-identical copy of
 * that contributor's payload; with none it is 160 octets of µ-law silence.
 *
 * Marker stamping: the mixed payload carries the probe marker of ONE
 * contributor, chosen round-robin by `seq` among that output's contributors
 * sorted by id; the marker bytes are copied from that contributor's input at
 * the offset they had there. If the chosen contributor carries no marker the
 * mix is left unstamped.
 */
export function mixFor(
  inputs: ReadonlyMap<string, Uint8Array>,
  to: readonly string[],
  seq: number,
): Map<string, Buffer> {
  const ids = [...inputs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const contributions = new Map<string, Contribution>();
  let length = 0;
  for (const id of ids) {
    const payload = inputs.get(id)!;
    contributions.set(id, { payload, pcm: decodeFrame(payload), marker: markerOffset(payload) });
    if (payload.length > length) length = payload.length;
  }

  // Sum of everybody once; each listener's mix is this minus their own audio
  // (exact in int32), saturated only at the end.
  const total = new Int32Array(length);
  for (const c of contributions.values()) {
    const pcm = c.pcm;
    for (let i = 0; i < pcm.length; i++) total[i]! += pcm[i]!;
  }

  const out = new Map<string, Buffer>();
  const mixed = new Int16Array(length);
  for (const listener of to) {
    const others = ids.filter((id) => id !== listener);
    if (others.length === 0) {
      out.set(listener, Buffer.alloc(SAMPLES_PER_PACKET, ULAW_SILENCE));
      continue;
    }
    if (others.length === 1) {
      out.set(listener, Buffer.from(contributions.get(others[0]!)!.payload));
      continue;
    }

    // Mixed length = longest contributor (shorter ones count as silence past their end).
    let n = 0;
    for (const id of others) n = Math.max(n, contributions.get(id)!.payload.length);
    const own = contributions.get(listener)?.pcm;
    for (let i = 0; i < n; i++) {
      let v = total[i]!;
      if (own !== undefined && i < own.length) v -= own[i]!;
      mixed[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const buf = encodeFrame(mixed.subarray(0, n));

    const k = others.length;
    const turn = Number.isFinite(seq) ? ((Math.trunc(seq) % k) + k) % k : 0;
    const chosen = contributions.get(others[turn]!)!;
    if (chosen.marker >= 0) {
      buf.set(chosen.payload.subarray(chosen.marker, chosen.marker + MARKER_LENGTH), chosen.marker);
    }
    out.set(listener, buf);
  }
  return out;
}
