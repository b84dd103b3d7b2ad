/**
 * MSRP throughput through the relay versus a direct TLS connection (issue
 * 12's second figure), same run, same two endpoints, same file: a 10 MB file
 * sent in chunks with Byte-Range (our default chunk size), timed from the
 * first SEND to the receiver's reassembled message. Through the relay:
 * Kamailio's msrp module (Debian kamailio), both clients AUTHed, TLS on both
 * legs; directly: one client listens with TLS, the other connects. Median of
 * `runs` transfers each; the ratio relay : direct says what the hop costs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { ensurePki } from '@imslab/topology';
import {
  authenticate, connectMsrp, MsrpConnection, MsrpSession, newSessionId, routeTo,
  type MsrpUri, type ReceivedMessage,
} from '../src/index.ts';
import { startRelay } from '../test/kamailio-relay.ts';

// Addresses of this bench only (loopback).
const RELAY_IP = '127.9.5.1';
const ALICE_IP = '127.9.5.2';
const BOB_IP = '127.9.5.3';
const USERS = { alice: 'alice-bench-pw', bob: 'bob-bench-pw' };

export interface RelayThroughput {
  fileBytes: number;
  runs: number;
  relayMBps: number;
  directMBps: number;
  /** relayMBps / directMBps. */
  ratio: number;
}

const uri = (host: string, port: number, sessionId?: string): MsrpUri => ({ scheme: 'msrps', host, port, ...(sessionId ? { sessionId } : {}), transport: 'tcp', params: [] });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Sends `file` from a to b `runs` times; the transfer times in ms. Checks every copy byte for byte. */
async function transfers(a: MsrpSession, b: MsrpSession, file: Buffer, runs: number): Promise<number[]> {
  const want = createHash('sha256').update(file).digest('hex');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const got = new Promise<ReceivedMessage>((r) => {
      const on = (m: ReceivedMessage) => {
        if (m.body.length === 0) return; // a bind SEND
        b.off('message', on);
        r(m);
      };
      b.on('message', on);
    });
    const t0 = performance.now();
    await a.send(file, { contentType: 'application/octet-stream' });
    const m = await got;
    times.push(performance.now() - t0);
    if (createHash('sha256').update(m.body).digest('hex') !== want) throw new Error('the file arrived altered');
  }
  return times;
}

export async function runRelayThroughputBench(fileBytes = 10 * 1024 * 1024, runs = 3): Promise<RelayThroughput> {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-msrp-throughput-'));
  const relay = await startRelay({ dir, ip: RELAY_IP, users: USERS });
  const closers: Array<() => void> = [];
  try {
    const file = randomBytes(fileBytes);
    const ca = readFileSync(relay.pki.caFile);
    // Through the relay: both AUTH, each a=path is the relay's Use-Path then the endpoint.
    const client = async (name: 'alice' | 'bob', ip: string) => {
      const conn = await connectMsrp({ host: RELAY_IP, port: relay.port, localAddress: ip, tls: { ca }, transactionTimeoutMs: 30_000 });
      closers.push(() => conn.close());
      const localUri = uri(ip, 2855, newSessionId());
      const auth = await authenticate(conn, { relayUri: uri(RELAY_IP, relay.port), localUri, credentials: { username: name, password: USERS[name] } });
      return { conn, localUri, usePath: auth.usePath };
    };
    const alice = await client('alice', ALICE_IP);
    const bob = await client('bob', BOB_IP);
    const viaA = new MsrpSession({ connection: alice.conn, localUri: alice.localUri, toPath: routeTo(alice.usePath, [...bob.usePath, bob.localUri]) });
    const viaB = new MsrpSession({ connection: bob.conn, localUri: bob.localUri, toPath: routeTo(bob.usePath, [...alice.usePath, alice.localUri]) });
    // RFC 4975 sec. 5.4: a bodiless SEND first, so the relay's next-hop connection exists before the
    // file's chunks come in flight (without it Kamailio 5.6 answered some chunks 481 "Cannot reach
    // next hop" while it was still connecting).
    await viaA.send(Buffer.alloc(0), { contentType: 'text/plain' });
    await viaB.send(Buffer.alloc(0), { contentType: 'text/plain' });
    const relayed = await transfers(viaA, viaB, file, runs).catch((e: Error) => {
      throw new Error(`${e.message}; relay log: ${relay.log().split('\n').filter((l) => /ERROR|WARN|CRIT/.test(l)).slice(0, 5).join(' | ')}`);
    });

    // Directly: bob listens with TLS (a certificate from a PKI of this bench), alice connects.
    const pki = ensurePki(join(dir, 'direct-pki'), [{ name: 'bob', ips: [BOB_IP] }]);
    const accepted = new Promise<TLSSocket>((resolve) => {
      const server = createServer({ cert: readFileSync(pki.certFile('bob')), key: readFileSync(pki.keyFile('bob')) }, resolve);
      closers.push(() => server.close());
      server.listen(0, BOB_IP, () => {
        const port = (server.address() as { port: number }).port;
        void connectMsrp({ host: BOB_IP, port, localAddress: ALICE_IP, tls: { ca: readFileSync(pki.caFile) }, transactionTimeoutMs: 30_000 }).then((c) => {
          closers.push(() => c.close());
          directAlice = c;
          directPort = port;
        });
      });
    });
    let directAlice: MsrpConnection | undefined;
    let directPort = 0;
    const bobConn = new MsrpConnection(await accepted, 30_000);
    closers.push(() => bobConn.close());
    while (!directAlice) await new Promise((r) => setTimeout(r, 5));
    const aUri = uri(ALICE_IP, 2855, newSessionId());
    const bUri = uri(BOB_IP, directPort, newSessionId());
    const dA = new MsrpSession({ connection: directAlice, localUri: aUri, toPath: [bUri] });
    const dB = new MsrpSession({ connection: bobConn, localUri: bUri, toPath: [aUri] });
    const direct = await transfers(dA, dB, file, runs);

    const mbps = (ms: number) => fileBytes / 1e6 / (ms / 1000);
    const relayMBps = mbps(median(relayed));
    const directMBps = mbps(median(direct));
    return { fileBytes, runs, relayMBps, directMBps, ratio: relayMBps / directMBps };
  } finally {
    for (const c of closers) c();
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRelayThroughput(r: RelayThroughput): string {
  return `msrp-relay: ${(r.fileBytes / 1024 / 1024).toFixed(0)} MiB file over TLS, median of ${r.runs}: through the Kamailio relay ${r.relayMBps.toFixed(1)} MB/s, direct ${r.directMBps.toFixed(1)} MB/s: ${r.ratio.toFixed(2)}x direct`;
}
