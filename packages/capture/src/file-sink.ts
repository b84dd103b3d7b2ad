/**
 * Buffered synchronous file output shared by the writers. The public writer
 * API has a synchronous `write`, so back-pressure is impossible with a
 * stream; instead bytes go into a 1 MiB buffer flushed with writeSync, which
 * keeps memory constant however many packets are written.
 */
import { close, openSync, writeSync } from 'node:fs';
import { CaptureWriteError } from './errors.ts';

/** Size of the write buffer. */
export const WRITE_BUFFER_BYTES = 1 << 20;

/** See module comment. */
export class FileSink {
  private fd: number | null;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private pos = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new CaptureWriteError('io', path, `cannot create file: ${(err as Error).message}`);
    }
  }

  /** The buffer to write reserved bytes into; fetch it after `reserve`, which may replace it. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Reserves `n` bytes and returns their offset in `buffer`. */
  reserve(n: number): number {
    if (this.fd === null) throw new CaptureWriteError('closed', this.path, 'write after close');
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Appends bytes. */
  write(bytes: Buffer): void {
    const at = this.reserve(bytes.length);
    bytes.copy(this.buf, at);
  }

  /** Writes the buffered bytes to the file. */
  flush(): void {
    if (this.fd === null) return;
    let done = 0;
    try {
      while (done < this.pos) done += writeSync(this.fd, this.buf, done, this.pos - done);
    } catch (err) {
      throw new CaptureWriteError('io', this.path, `write failed: ${(err as Error).message}`);
    }
    this.pos = 0;
  }

  /** Flushes and closes; idempotent. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    this.flush();
    const fd = this.fd;
    this.fd = null;
    await new Promise<void>((resolve, reject) =>
      close(fd, (err) => (err ? reject(new CaptureWriteError('io', this.path, `close failed: ${err.message}`)) : resolve())));
  }
}

/** Validates a timestamp for writing: finite, non-negative; fractions of a microsecond are floored. */
export function checkTimestampUs(path: string, us: number): number {
  if (!Number.isFinite(us) || us < 0 || us > Number.MAX_SAFE_INTEGER) {
    throw new CaptureWriteError('bad-timestamp', path, `timestamp ${us} µs is not a non-negative safe integer`);
  }
  return Math.floor(us);
}
