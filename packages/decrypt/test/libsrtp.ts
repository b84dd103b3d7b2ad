/**
 * libsrtp2 as an independent SRTP sender: @imslab/srtp's interop helper
 * (packages/srtp/test/interop/srtp_tool.c) compiled against the Debian
 * package libsrtp2-dev, fed packets as hex lines in one session, so ROC and
 * SRTCP index carry over from packet to packet as in a real sender.
 * A missing gcc or libsrtp2 fails the test (never a silent skip).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOL_SRC = fileURLToPath(new URL('../../srtp/test/interop/srtp_tool.c', import.meta.url));

/** Compiles the tool into `dir`; returns its path. */
export function buildSrtpTool(dir: string): string {
  const out = join(dir, 'srtp_tool');
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', out, TOOL_SRC, '-lsrtp2'], { encoding: 'utf8' });
  if (r.error) throw new Error(`libsrtp interop needs gcc (${r.error.message}): apt-get install gcc libsrtp2-dev`);
  if (r.status !== 0) throw new Error(`compiling ${TOOL_SRC} failed (apt-get install libsrtp2-dev?):\n${r.stderr}`);
  return out;
}

/** Protects `packets` with libsrtp in one session; `unsupported` when this libsrtp build lacks the suite (GCM without a crypto backend). */
export function libsrtpProtect(tool: string, mode: 'protect' | 'protect_rtcp', suite: string, keySalt: Buffer, packets: Buffer[], mki?: Buffer): Buffer[] | 'unsupported' {
  const args = [mode, suite, keySalt.toString('hex'), ...(mki ? [mki.toString('hex')] : [])];
  const r = spawnSync(tool, args, { input: packets.map((p) => p.toString('hex')).join('\n') + '\n', encoding: 'utf8' });
  if (r.status === 3) return 'unsupported';
  if (r.status !== 0) throw new Error(`srtp_tool ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const bad = lines.find((l) => l.startsWith('ERR'));
  if (bad) throw new Error(`libsrtp refused a packet: ${bad}`);
  return lines.map((l) => Buffer.from(l, 'hex'));
}
