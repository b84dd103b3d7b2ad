import { createSocket, type Socket } from 'node:dgram';
import { MediaPortsExhaustedError } from './errors.ts';

/**
 * Hands out even RTP ports from the media range (RFC 3550 sec. 11: RTP on an
 * even port, RTCP on the next odd one), binding a UDP socket on `address` to
 * prove each port free. Round-robin so a just-released port is not reused at once.
 */
export class PortAllocator {
  private readonly inUse = new Set<number>();
  private readonly candidates: number[] = [];
  private cursor = 0;

  constructor(
    private readonly address: string,
    private readonly min: number,
    private readonly max: number,
  ) {
    for (let p = min % 2 === 0 ? min : min + 1; p <= max; p += 2) this.candidates.push(p);
  }

  /** Binds the RTP socket (even port) and, when free and in range, the RTCP socket (port + 1). */
  async allocate(): Promise<{ port: number; rtp: Socket; rtcp: Socket | null }> {
    const n = this.candidates.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.cursor + i) % n;
      const port = this.candidates[idx]!;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const rtp = await bind(this.address, port);
      if (!rtp) {
        this.inUse.delete(port);
        continue;
      }
      const rtcp = port + 1 <= this.max ? await bind(this.address, port + 1) : null;
      this.cursor = idx + 1;
      return { port, rtp, rtcp };
    }
    throw new MediaPortsExhaustedError(`no free even RTP port in ${this.address}:${this.min}-${this.max}`);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }
}

function bind(address: string, port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp4' });
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind({ address, port, exclusive: true }, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}
