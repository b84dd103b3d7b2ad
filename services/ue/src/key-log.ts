import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatKeyLogEntry } from '@imslab/probe';

/**
 * The UE's two key logs in runDir: `<name>.tls-keys.log` (SSLKEYLOGFILE
 * lines exactly as Node emits them) and `<name>.srtp-keys.jsonl` (one
 * SrtpKeyLogEntry per line). Appends are synchronous so nothing is lost when
 * the process is killed right after a call.
 */
export class KeyLog {
  readonly tlsPath: string;
  readonly srtpPath: string;

  constructor(
    private readonly name: string,
    runDir: string,
    private readonly onError: (msg: string) => void = () => undefined,
  ) {
    mkdirSync(runDir, { recursive: true });
    this.tlsPath = join(runDir, `${name}.tls-keys.log`);
    this.srtpPath = join(runDir, `${name}.srtp-keys.jsonl`);
  }

  /** One TLS secret line from a `keylog` event. */
  tls(line: Buffer): void {
    try {
      appendFileSync(this.tlsPath, line);
    } catch (e) {
      this.onError(`cannot write ${this.tlsPath}: ${(e as Error).message}`);
    }
  }

  /** One SRTP key: `tx` = ours, `rx` = the peer's. */
  srtp(e: { callId: string; dir: 'tx' | 'rx'; suite: string; keySalt: string; ssrc?: number | undefined; keyMgmt?: string; mki?: Uint8Array | undefined; purpose?: 'floor-control' }): void {
    try {
      appendFileSync(
        this.srtpPath,
        formatKeyLogEntry({
          kind: 'srtp', owner: this.name, callId: e.callId, dir: e.dir, suite: e.suite, keySalt: e.keySalt, ssrc: e.ssrc, keyMgmt: e.keyMgmt ?? 'sdes', at: new Date().toISOString(),
          ...(e.mki ? { mki: Buffer.from(e.mki).toString('hex') } : {}),
          ...(e.purpose ? { purpose: e.purpose } : {}),
        }),
      );
    } catch (err) {
      this.onError(`cannot write ${this.srtpPath}: ${(err as Error).message}`);
    }
  }
}
