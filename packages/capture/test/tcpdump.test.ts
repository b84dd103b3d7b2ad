/**
 * Reads captures written by tcpdump itself (libpcap's writer), taken live
 * on the loopback interface. Needs root (or CAP_NET_RAW), as in the lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, decodeFrame, LINKTYPE, readCapture, readCaptureBuffer } from '../src/index.ts';
import { collect, requireTool, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** Starts tcpdump and resolves once it reports that it is listening. */
function startTcpdump(args: string[]): Promise<ChildProcess> {
  const bin = requireTool('tcpdump');
  return new Promise((resolve, reject) => {
    // -Z root: keep root so it can write into our 0700 temp directory.
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

/** SIGINT, then wait for a clean exit (tcpdump flushes and closes the file). */
function stopTcpdump(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

function bind(sock: Socket, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, address, () => resolve(sock.address().port));
  });
}

/** Sends `payloads` from `from` to `to` and waits until the receiver has them all. */
async function exchange(from: string, to: string, payloads: Buffer[]): Promise<{ srcPort: number; dstPort: number }> {
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  try {
    const dstPort = await bind(rx, to);
    const srcPort = await bind(tx, from);
    const got = new Promise<void>((resolve) => {
      let n = 0;
      rx.on('message', () => ++n === payloads.length && resolve());
    });
    for (const p of payloads) await new Promise<void>((res, rej) => tx.send(p, dstPort, to, (e) => (e ? rej(e) : res())));
    await got;
    return { srcPort, dstPort };
  } finally {
    rx.close();
    tx.close();
  }
}

/** Polls the file until it holds `n` packets (tcpdump -U writes each one as it comes). */
async function waitForPackets(path: string, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      let count = 0;
      for (const _ of readCaptureBuffer(await readFile(path))) count++;
      if (count >= n) return;
    } catch (e) {
      if (!(e instanceof CaptureFormatError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const payloads = (tag: string): Buffer[] => Array.from({ length: 5 }, (_, i) => Buffer.from(`${tag} datagram ${i} ${'x'.repeat(i * 100)}`));

describe('captures written by tcpdump', { timeout: 60_000 }, () => {
  it('tcpdump -i lo (Ethernet framing, microseconds): every datagram decoded in order', async () => {
    const path = join(dir, 'lo.pcap');
    const sent = payloads('lo');
    const before = Date.now() * 1000;
    const tcpdump = await startTcpdump(['-i', 'lo', '-w', path, 'udp and host 127.0.9.1']);
    let ports: { srcPort: number; dstPort: number };
    try {
      ports = await exchange('127.0.9.1', '127.0.9.2', sent);
      await waitForPackets(path, sent.length);
    } finally {
      expect(await stopTcpdump(tcpdump)).toBe(0);
    }
    const after = Date.now() * 1000;
    const packets = await collect(readCapture(path));
    expect(packets).toHaveLength(sent.length);
    packets.forEach((p, i) => {
      expect(p.linkType).toBe(LINKTYPE.ETHERNET);
      expect(p.timestampUs).toBeGreaterThanOrEqual(before - 1000);
      expect(p.timestampUs).toBeLessThanOrEqual(after + 1000);
      const d = decodeFrame(p.linkType, p.data)!;
      expect(d).toMatchObject({ ipVersion: 4, protocol: 'udp', src: '127.0.9.1', dst: '127.0.9.2', srcPort: ports.srcPort, dstPort: ports.dstPort });
      expect(d.payload.equals(sent[i]!)).toBe(true);
    });
  });

  it('tcpdump -i any --time-stamp-precision nano (Linux cooked v2, nanoseconds)', async () => {
    const path = join(dir, 'any.pcap');
    const sent = payloads('any');
    const tcpdump = await startTcpdump(['-i', 'any', '--time-stamp-precision', 'nano', '-w', path, 'udp and host 127.0.9.11']);
    let ports: { srcPort: number; dstPort: number };
    try {
      ports = await exchange('127.0.9.11', '127.0.9.12', sent);
      await waitForPackets(path, sent.length);
    } finally {
      expect(await stopTcpdump(tcpdump)).toBe(0);
    }
    const file = await readFile(path);
    expect(file.readUInt32LE(0)).toBe(0xa1b23c4d); // libpcap's nanosecond magic
    const packets = await collect(readCapture(path));
    expect(packets.length).toBe(sent.length);
    expect(packets.every((p) => p.linkType === LINKTYPE.LINUX_SLL2)).toBe(true);
    expect(packets.map((p) => decodeFrame(p.linkType, p.data)!.payload.toString())).toEqual(sent.map((b) => b.toString()));
    expect(decodeFrame(packets[0]!.linkType, packets[0]!.data)).toMatchObject({ src: '127.0.9.11', dst: '127.0.9.12', srcPort: ports.srcPort, dstPort: ports.dstPort });
    // Nanosecond timestamps arrive as whole microseconds, in order.
    expect(packets.every((p, i) => Number.isInteger(p.timestampUs) && (i === 0 || p.timestampUs >= packets[i - 1]!.timestampUs))).toBe(true);
  });
});
