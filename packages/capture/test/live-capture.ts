/**
 * Live loopback captures for tests: tcpdump started and stopped cleanly,
 * and a wait until what it wrote stops growing. Needs root (or
 * CAP_NET_RAW), as in the lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CaptureFormatError, readCaptureBuffer } from '../src/index.ts';
import { requireTool } from './helpers.ts';

/** Starts tcpdump with `args` and resolves once it reports that it is listening. */
export function startTcpdump(args: string[]): Promise<ChildProcess> {
  const bin = requireTool('tcpdump');
  return new Promise((resolve, reject) => {
    // -U: every packet written as it comes; -Z root: keep root so it can write into a 0700 temp directory.
    const child = spawn(bin, [...args, '-U', '-Z', 'root'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening: ${err}`));
    }, 15_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (e) => reject(e));
    child.on('exit', (code) => reject(new Error(`tcpdump exited early (${code}): ${err}`)));
  });
}

/** SIGINT, then wait for the exit code (tcpdump flushes and closes the file first). */
export function stopTcpdump(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** Packets in the capture so far (0 while the file is missing or has no complete header). */
async function countPackets(path: string): Promise<number> {
  let n = 0;
  try {
    for (const _ of readCaptureBuffer(await readFile(path))) n++;
  } catch (e) {
    // A record being written is cut short: what came before it is counted.
    if (!(e instanceof CaptureFormatError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return n;
}

/** Waits until the capture holds at least `min` packets and has not grown for `quietMs`. */
export async function waitForQuiet(path: string, min: number, quietMs = 300): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const n = await countPackets(path);
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (n >= min && Date.now() - since >= quietMs) {
      return n;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path}: expected at least ${min} packets and a quiet capture, have ${last}`);
}
