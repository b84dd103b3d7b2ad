/**
 * A mono 16-bit PCM WAV file (RIFF/WAVE with a 16-octet "fmt " chunk,
 * WAVE_FORMAT_PCM; Microsoft's Multimedia Programming Interface and Data
 * Specifications 1.0, "WAVE form") written by sample position, so samples
 * may arrive out of order and gaps are silence. Memory is one window of
 * samples per file: writes inside it are copies, a write past it flushes
 * the window to the file with a positional write and moves it. Positions
 * never written read as zero (silence): inside the window it is zero-filled;
 * beyond the end of the file the file system fills holes with zeros.
 * Descriptors stay open between flushes, at most MAX_OPEN_WAVS of them
 * (least recently written closed first), so a capture with many streams
 * neither reopens files per flush nor runs out of descriptors.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { WavWriteError } from './errors.ts';

/** Size of the RIFF header written: RIFF(12) + "fmt "(8+16) + "data"(8). */
export const WAV_HEADER_BYTES = 44;
/** Samples per window: one second at 8 kHz keeps the file writes few and memory small. */
const WINDOW_SAMPLES = 8000;
/** The RIFF size fields are 32 bits: stop at what they can describe. */
export const MAX_WAV_SAMPLES = Math.floor((0xffffffff - WAV_HEADER_BYTES) / 2);
/** WAV samples are little-endian; on a big-endian host the bytes are swapped before writing. */
const SWAP = endianness() === 'BE';
/** Open WAV descriptors at most, over all files. */
const MAX_OPEN_WAVS = 256;
/** Open descriptors, least recently used first (Map keeps insertion order). */
const openFds = new Map<WavFile, number>();

/** The 44-octet header of a mono 16-bit PCM WAV with `samples` samples at `rate` Hz. */
export function wavHeader(samples: number, rate: number): Buffer {
  const data = samples * 2;
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size for PCM
  h.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data, 40);
  return h;
}

/** See module comment. */
export class WavFile {
  private readonly window = new Int16Array(WINDOW_SAMPLES);
  private winStart = 0;
  /** End of what the window holds (relative to winStart), 0 when empty. */
  private winUsed = 0;
  /** One past the highest sample position written so far. */
  private end = 0;
  private closed = false;

  /** Creates (or truncates) the file. @throws WavWriteError */
  constructor(readonly path: string, readonly sampleRate: number) {
    this.io(() => closeSync(openSync(path, 'w')));
  }

  /** Samples in the file so far (one past the highest position written). */
  get samples(): number {
    return this.end;
  }

  /**
   * Writes `table[src[i]]` for i in [from, to) at sample positions `at`,
   * `at + 1`, ...: a decoding table applied on the way, so no intermediate
   * sample buffer is built per packet. Samples past MAX_WAV_SAMPLES are dropped.
   */
  put(at: number, src: Uint8Array, from: number, to: number, table: Int16Array): void {
    if (this.closed) throw new WavWriteError(this.path, 'write after close');
    let n = to - from;
    if (at + n > MAX_WAV_SAMPLES) n = Math.max(0, MAX_WAV_SAMPLES - at);
    if (n <= 0) return;
    if (at < this.winStart) {
      // Late: before the window, already flushed. Written straight to its place; a tail reaching into the window goes into it.
      const k = Math.min(n, this.winStart - at);
      const late = new Int16Array(k);
      for (let i = 0; i < k; i++) late[i] = table[src[from + i]!]!;
      this.writeAt(at, late, k);
      if (k < n) this.put(this.winStart, src, from + k, from + n, table);
    } else {
      if (at + n > this.winStart + WINDOW_SAMPLES) {
        this.flush();
        this.winStart = at;
        // A packet longer than the window (none in practice) goes straight to the file.
        if (n > WINDOW_SAMPLES) {
          const big = new Int16Array(n);
          for (let i = 0; i < n; i++) big[i] = table[src[from + i]!]!;
          this.writeAt(at, big, n);
          this.winStart = at + n;
          this.end = Math.max(this.end, at + n);
          return;
        }
      }
      const w = this.window;
      const base = at - this.winStart;
      for (let i = 0; i < n; i++) w[base + i] = table[src[from + i]!]!;
      if (base + n > this.winUsed) this.winUsed = base + n;
    }
    if (at + n > this.end) this.end = at + n;
  }

  /** Flushes, sets the file to its exact length and writes the header. @throws WavWriteError */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
      this.io(() => {
        const fd = this.fd();
        ftruncateSync(fd, WAV_HEADER_BYTES + this.end * 2);
        writeSync(fd, wavHeader(this.end, this.sampleRate), 0, WAV_HEADER_BYTES, 0);
      });
    } finally {
      this.closed = true;
      this.release();
    }
  }

  /** This file's descriptor, opened (and another closed) when needed. */
  private fd(): number {
    let fd = openFds.get(this);
    if (fd !== undefined) {
      openFds.delete(this);
    } else {
      if (openFds.size >= MAX_OPEN_WAVS) openFds.keys().next().value?.release();
      fd = openSync(this.path, 'r+');
    }
    openFds.set(this, fd);
    return fd;
  }

  private release(): void {
    const fd = openFds.get(this);
    if (fd === undefined) return;
    openFds.delete(this);
    closeSync(fd);
  }

  private flush(): void {
    if (this.winUsed > 0) this.writeAt(this.winStart, this.window, this.winUsed);
    this.window.fill(0);
    this.winUsed = 0;
  }

  private writeAt(at: number, samples: Int16Array, n: number): void {
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, n * 2);
    const out = SWAP ? Buffer.from(bytes).swap16() : bytes;
    this.io(() => {
      const fd = this.fd();
      let done = 0;
      while (done < out.length) done += writeSync(fd, out, done, out.length - done, WAV_HEADER_BYTES + at * 2 + done);
    });
  }

  private io(f: () => void): void {
    try {
      f();
    } catch (err) {
      throw new WavWriteError(this.path, (err as Error).message);
    }
  }
}
