/**
 * SAKKE encapsulate/decapsulate and ECCSI sign/verify per second, ours and
 * libwolfssl's (interop/wolf-helper.c looping N times, timed inside the C
 * helper so process start-up does not count) in the same run, as issue 11
 * asks (a ratio against libwolfssl, never an absolute target).
 */
import { performance } from 'node:perf_hooks';
import {
  eccsiIssue,
  eccsiKmsKeys,
  eccsiSign,
  eccsiVerify,
  generateSakkeMasterSecret,
  generateSsv,
  mikeySakkeIdentifier,
  sakkeDecapsulate,
  sakkeEncapsulate,
  sakkeKmsPublicKey,
  sakkeRsk,
} from '../src/index.ts';
import { runWolf, wolfVersion } from '../interop/wolf.ts';

/** One operation's figures. */
export interface SakkeBenchRow {
  op: 'sakke-encapsulate' | 'sakke-decapsulate' | 'eccsi-sign' | 'eccsi-verify';
  oursOpsPerSec: number;
  wolfOpsPerSec: number;
  /** ours / wolfSSL (1 = as fast as libwolfssl). */
  ratio: number;
  iterations: number;
}

/** The bench's result. */
export interface SakkeBenchResult {
  rows: SakkeBenchRow[];
  wolfVersion: string;
}

/** Options: iterations per operation (SAKKE is ~100x slower than ECCSI, so it gets fewer). */
export interface SakkeBenchOptions {
  sakkeIterations?: number;
  eccsiIterations?: number;
}

function timeOurs(n: number, f: () => void): number {
  f(); // warm-up (JIT, caches)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (n * 1000) / (performance.now() - t0);
}

function timeWolf(r: ReturnType<typeof runWolf>, n: number): number {
  if ('failed' in r || r.ns === undefined) throw new Error(`wolf-helper failed in the bench: ${'failed' in r ? r.failed : 'no timing'}`);
  return (n * 1e9) / r.ns;
}

/** Runs the four operations, ours then libwolfssl's, on the same keys. */
export function runSakkeBench(o: SakkeBenchOptions = {}): SakkeBenchResult {
  const ns = Math.max(2, o.sakkeIterations ?? 10);
  const ne = Math.max(2, o.eccsiIterations ?? 200);
  const id = mikeySakkeIdentifier('sip:bench@ims.example', new Date());
  const z = generateSakkeMasterSecret();
  const Z = sakkeKmsPublicKey(z);
  const rsk = sakkeRsk(z, id);
  const ssv = generateSsv();
  const sed = sakkeEncapsulate(ssv, id, Z);
  const kms = eccsiKmsKeys();
  const key = eccsiIssue(kms, id);
  const msg = new Uint8Array(300).fill(0x5a); // about an I_MESSAGE's size
  const sig = eccsiSign(msg, { kpak: kms.kpak, id, key });

  const row = (op: SakkeBenchRow['op'], ours: number, wolf: number, iterations: number): SakkeBenchRow => ({ op, oursOpsPerSec: ours, wolfOpsPerSec: wolf, ratio: ours / wolf, iterations });
  return {
    wolfVersion: wolfVersion(),
    rows: [
      row('sakke-encapsulate', timeOurs(ns, () => sakkeEncapsulate(ssv, id, Z)), timeWolf(runWolf('sakke-encap', [Z, id, ssv, ns]), ns), ns),
      row('sakke-decapsulate', timeOurs(ns, () => sakkeDecapsulate(sed, id, rsk, Z)), timeWolf(runWolf('sakke-decap', [Z, id, rsk, sed, ns]), ns), ns),
      row('eccsi-sign', timeOurs(ne, () => eccsiSign(msg, { kpak: kms.kpak, id, key })), timeWolf(runWolf('eccsi-sign', [kms.kpak, id, key.ssk, key.pvt, msg, ne]), ne), ne),
      row('eccsi-verify', timeOurs(ne, () => eccsiVerify(msg, sig, id, kms.kpak)), timeWolf(runWolf('eccsi-verify', [kms.kpak, id, msg, sig, ne]), ne), ne),
    ],
  };
}

/** A small table of the result. */
export function formatSakkeBench(r: SakkeBenchResult): string {
  const lines = [`SAKKE / ECCSI (ours vs libwolfssl ${r.wolfVersion}, same run)`, `${'operation'.padEnd(20)}${'ours ops/s'.padStart(12)}${'wolfSSL ops/s'.padStart(15)}${'ratio'.padStart(9)}`];
  for (const x of r.rows) lines.push(`${x.op.padEnd(20)}${x.oursOpsPerSec.toFixed(1).padStart(12)}${x.wolfOpsPerSec.toFixed(1).padStart(15)}${x.ratio.toFixed(3).padStart(9)}`);
  return lines.join('\n');
}
