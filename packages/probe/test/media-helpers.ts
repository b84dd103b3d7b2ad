/**
 * Helpers of the video and text probe tests: RTP packets taken apart for the
 * receivers, tshark, temp directories. A missing tshark fails the test with
 * the Debian package to install; it never turns into a silent skip.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RtpHeaderView } from '@imslab/rtp';
import { markerFor } from '../src/index.ts';

export { prng } from '@imslab/fuzz';

export const MARKER = markerFor('probe-media-test-call', 'orig');
export const OTHER_MARKER = markerFor('probe-media-test-call', 'term');

/** The fields the receivers take, read from a whole RTP packet. */
export function rtpFields(packet: Uint8Array): { sequence: number; timestamp: number; marker: boolean; payloadType: number; ssrc: number; payload: Uint8Array } {
  const v = RtpHeaderView.from(packet);
  return { sequence: v.sequence, timestamp: v.timestamp, marker: v.marker, payloadType: v.payloadType, ssrc: v.ssrc, payload: packet.subarray(v.payloadOffset, v.payloadEnd) };
}

const execFileP = promisify(execFile);

export function requireTshark(): string {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/bin']) {
    const p = join(dir, 'tshark');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new Error('tshark is required by this test but not installed: apt-get install tshark (Debian package "tshark")');
}

/** Runs tshark and returns stdout (stderr is its "running as root" chatter, ignored). */
export async function tshark(args: string[]): Promise<string> {
  const { stdout } = await execFileP(requireTshark(), args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'imslab-probe-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
