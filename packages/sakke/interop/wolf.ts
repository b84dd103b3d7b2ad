/**
 * Builds and runs interop/wolf-helper.c against Debian's libwolfssl (the
 * independent ECCSI/SAKKE implementation, see DESIGN.md). The helper is
 * compiled with gcc into a fresh temp dir on first use. Anything missing
 * (gcc, the headers, ECCSI/SAKKE in the library) is a {@link WolfUnavailableError}
 * that says what to install: the interop test fails with it, never skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../src/index.ts';

const SOURCE = fileURLToPath(new URL('./wolf-helper.c', import.meta.url));
const INCLUDE = '/usr/include/wolfssl/wolfcrypt';
const INSTALL = 'apt-get install -y libwolfssl-dev gcc libc6-dev (scripts/setup.sh installs them)';

/** The helper cannot be built or run on this machine. */
export class WolfUnavailableError extends Error {
  constructor(message: string) {
    super(`libwolfssl interop unavailable: ${message}; install with: ${INSTALL}`);
    this.name = 'WolfUnavailableError';
  }
}

let built: string | undefined;

/** Path of the compiled helper (built once per process). */
export function wolfHelper(): string {
  if (built !== undefined) return built;
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0) throw new WolfUnavailableError('gcc not found');
  for (const h of ['sakke.h', 'eccsi.h']) if (!existsSync(join(INCLUDE, h))) throw new WolfUnavailableError(`${join(INCLUDE, h)} is missing`);
  const opts = existsSync('/usr/include/wolfssl/options.h') ? readFileSync('/usr/include/wolfssl/options.h', 'utf8') : '';
  for (const d of ['WOLFCRYPT_HAVE_ECCSI', 'WOLFCRYPT_HAVE_SAKKE']) if (!opts.includes(`#define ${d}`)) throw new WolfUnavailableError(`this libwolfssl build lacks ${d} (/usr/include/wolfssl/options.h)`);
  const dir = mkdtempSync(join(tmpdir(), 'imslab-wolf-'));
  const out = join(dir, 'wolf-helper');
  const cc = spawnSync('gcc', ['-O2', '-o', out, SOURCE, '-lwolfssl'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new WolfUnavailableError(`gcc failed: ${cc.stderr.trim()}`);
  built = out;
  return out;
}

/** Output of one helper run. */
export interface WolfResult {
  /** The `result` line's value (hex, or 1/0 for verify). */
  result: string;
  /** Elapsed nanoseconds when run with a loop count > 1. */
  ns?: number;
}

/** Runs the helper; a wolfSSL failure (exit 3) is returned as `failed` with its stderr. */
export function runWolf(cmd: 'eccsi-sign' | 'eccsi-verify' | 'sakke-encap' | 'sakke-decap', args: (Uint8Array | number)[]): WolfResult | { failed: string } {
  const argv = [cmd, ...args.map((a) => (typeof a === 'number' ? String(a) : toHex(a)))];
  const r = spawnSync(wolfHelper(), argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status === 3) return { failed: r.stderr.trim() };
  if (r.status !== 0) throw new Error(`wolf-helper ${cmd} exited ${r.status}: ${r.stderr.trim()}`);
  const res = /^result (\S+)$/m.exec(r.stdout);
  if (!res) throw new Error(`wolf-helper ${cmd}: no result in ${JSON.stringify(r.stdout)}`);
  const ns = /^ns (\d+)$/m.exec(r.stdout);
  return ns ? { result: res[1]!, ns: Number(ns[1]) } : { result: res[1]! };
}

/** The libwolfssl package version, for reports. */
export function wolfVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libwolfssl-dev'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
