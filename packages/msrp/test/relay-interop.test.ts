/**
 * Interop against the real MSRP relay: Kamailio's msrp module (Debian
 * package kamailio, with kamailio-tls-modules), TLS on every leg.
 * Two of our clients AUTH (RFC 4976 sec. 5), get their Use-Path, and
 * exchange a message and a 1 MB file chunked with Byte-Range through the
 * relay, with success REPORTs coming back (RFC 4975 sec. 7.1.2). A tcpdump
 * capture on lo, decrypted by tshark with our TLS key logs, shows the MSRP
 * SEND: the protection is hop by hop, the relay holds the plaintext.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate, connectMsrp, formatMsrpUri, MsrpConnectionError, MsrpResponseError, MsrpSession, newSessionId, routeTo,
  type MsrpConnection, type MsrpUri, type ReceivedMessage,
} from '../src/index.ts';
import { startRelay, type RelayHandle } from './kamailio-relay.ts';

const execFileP = promisify(execFile);
const RELAY_IP = '127.9.0.1';
const ALICE_IP = '127.9.0.2';
const BOB_IP = '127.9.0.3';
const USERS = { alice: 'alice-msrp-pw', bob: 'bob-msrp-pw' };

const dir = mkdtempSync(join(tmpdir(), 'imslab-msrp-relay-'));
let relay: RelayHandle | undefined;
let tcpdump: ChildProcess | undefined;
const capture = join(dir, 'relay.pcap');
const conns: MsrpConnection[] = [];
const textMarker = `imslab-msrp-marker-${randomBytes(6).toString('hex')}`;

function startTcpdump(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // Only our three addresses: other work on this machine also uses lo.
    const child = spawn('tcpdump', ['-i', 'lo', '-w', capture, '-U', '-Z', 'root', 'host', RELAY_IP, 'or', 'host', ALICE_IP, 'or', 'host', BOB_IP], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${err}`)));
  });
}

function stopTcpdump(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

beforeAll(async () => {
  relay = await startRelay({ dir, ip: RELAY_IP, users: USERS });
  tcpdump = await startTcpdump();
}, 30_000);

afterAll(async () => {
  for (const c of conns) c.close();
  if (tcpdump) await stopTcpdump(tcpdump).catch(() => undefined);
  await relay?.stop();
  // KEEP_MSRP_DIR=1 keeps the capture, key logs and rendered config for a look in Wireshark.
  if (!process.env.KEEP_MSRP_DIR) rmSync(dir, { recursive: true, force: true });
}, 20_000);

interface Client {
  name: string;
  conn: MsrpConnection;
  localUri: MsrpUri;
  usePath: MsrpUri[];
  keylog: string;
}

async function client(name: 'alice' | 'bob', ip: string): Promise<Client> {
  const keylog = join(dir, `${name}.tls-keys.log`);
  const conn = await connectMsrp({
    host: RELAY_IP, port: relay!.port, localAddress: ip, keylogFile: keylog, tls: { ca: readFileSync(relay!.pki.caFile) }, transactionTimeoutMs: 10_000,
  });
  conns.push(conn);
  // Our own URI: the host is where we are; nobody connects to it (the relay reuses our connection).
  const localUri: MsrpUri = { scheme: 'msrps', host: ip, port: 2855, sessionId: newSessionId(), transport: 'tcp', params: [] };
  const relayUri: MsrpUri = { scheme: 'msrps', host: RELAY_IP, port: relay!.port, transport: 'tcp', params: [] };
  const auth = await authenticate(conn, { relayUri, localUri, credentials: { username: name, password: USERS[name] } });
  return { name, conn, localUri, usePath: auth.usePath, keylog };
}

describe('MSRP through the Kamailio msrp relay over TLS', () => {
  let alice: Client;
  let bob: Client;
  let aliceSession: MsrpSession;
  let bobSession: MsrpSession;

  it('AUTH with Digest gives each client a Use-Path on the relay (RFC 4976 sec. 5.1)', async () => {
    alice = await client('alice', ALICE_IP);
    bob = await client('bob', BOB_IP);
    for (const c of [alice, bob]) {
      expect(c.usePath).toHaveLength(1);
      expect(c.usePath[0]).toMatchObject({ scheme: 'msrps', host: RELAY_IP, port: relay!.port, transport: 'tcp' });
      expect(c.usePath[0]!.sessionId).toBeTruthy();
    }
    expect(alice.usePath[0]!.sessionId).not.toBe(bob.usePath[0]!.sessionId);
    // a=path of each side, as SDP would carry it: relay first, then the endpoint (RFC 4976 sec. 6.1).
    const alicePath = [...alice.usePath, alice.localUri];
    const bobPath = [...bob.usePath, bob.localUri];
    aliceSession = new MsrpSession({ connection: alice.conn, localUri: alice.localUri, toPath: routeTo(alice.usePath, bobPath) });
    bobSession = new MsrpSession({ connection: bob.conn, localUri: bob.localUri, toPath: routeTo(bob.usePath, alicePath) });
  });

  it('refuses AUTH with a wrong password', async () => {
    const conn = await connectMsrp({ host: RELAY_IP, port: relay!.port, localAddress: ALICE_IP, tls: { ca: readFileSync(relay!.pki.caFile) }, transactionTimeoutMs: 10_000 });
    conns.push(conn);
    const localUri: MsrpUri = { scheme: 'msrps', host: ALICE_IP, sessionId: newSessionId(), transport: 'tcp', params: [] };
    const relayUri: MsrpUri = { scheme: 'msrps', host: RELAY_IP, port: relay!.port, transport: 'tcp', params: [] };
    const e = await authenticate(conn, { relayUri, localUri, credentials: { username: 'alice', password: 'wrong' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MsrpConnectionError);
    expect((e as MsrpConnectionError).code).toBe('auth-failed');
  });

  it('an AUTH with Expires is refused with 400 by the config (it crashes msrp_cmap_save in Kamailio 5.6.3), and the relay stays up', async () => {
    const conn = await connectMsrp({ host: RELAY_IP, port: relay!.port, localAddress: ALICE_IP, tls: { ca: readFileSync(relay!.pki.caFile) }, transactionTimeoutMs: 10_000 });
    conns.push(conn);
    const localUri: MsrpUri = { scheme: 'msrps', host: ALICE_IP, sessionId: newSessionId(), transport: 'tcp', params: [] };
    const relayUri: MsrpUri = { scheme: 'msrps', host: RELAY_IP, port: relay!.port, transport: 'tcp', params: [] };
    const e = await authenticate(conn, { relayUri, localUri, credentials: { username: 'alice', password: USERS.alice }, expires: 600 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MsrpResponseError);
    expect((e as MsrpResponseError).status).toBe(400);
    expect(relay!.log()).not.toMatch(/exited by a signal/);
  });

  it('relays a text message with a success REPORT back to the sender', async () => {
    const marker = textMarker;
    const got = new Promise<ReceivedMessage>((r) => bobSession.once('message', r));
    const sent = await aliceSession.send(`Hello Bob, ${marker}`, { contentType: 'text/plain', successReport: true });
    const msg = await got;
    expect(msg.body.toString()).toBe(`Hello Bob, ${marker}`);
    expect(msg.messageId).toBe(sent.messageId);
    // The relay put itself on the From-Path twice (once per AUTHed session it crossed).
    expect(msg.fromPath.map(formatMsrpUri)).toEqual([...bob.usePath, ...alice.usePath, alice.localUri].map(formatMsrpUri));
    const report = await aliceSession.waitForReport(sent.messageId, 10_000);
    expect(report.status.code).toBe(200);
    expect(report.byteRange).toMatchObject({ start: 1, end: msg.body.length, total: msg.body.length });
  });

  it('relays a 1 MB file in Byte-Range chunks, reassembled byte for byte, with a REPORT', async () => {
    const file = randomBytes(1024 * 1024);
    const got = new Promise<ReceivedMessage>((r) => bobSession.once('message', r));
    const sent = await aliceSession.send(file, { contentType: 'application/octet-stream', successReport: true, chunkSize: 8192 });
    const msg = await got;
    expect(sent.chunks).toBe(128);
    expect(msg.chunks).toBe(128);
    expect(createHash('sha256').update(msg.body).digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
    const report = await aliceSession.waitForReport(sent.messageId, 10_000);
    expect(report.byteRange).toMatchObject({ start: 1, end: file.length, total: file.length });
  }, 30_000);

  it('works the other way too (Bob to Alice)', async () => {
    const got = new Promise<ReceivedMessage>((r) => aliceSession.once('message', r));
    await bobSession.send('Hi Alice', { contentType: 'text/plain' });
    expect((await got).body.toString()).toBe('Hi Alice');
  });

  it('tshark decrypts the capture with our TLS key logs and shows the SENDs on both legs, with the plaintext', async () => {
    await stopTcpdump(tcpdump!);
    tcpdump = undefined;
    const keys = join(dir, 'all.tls-keys.log');
    writeFileSync(keys, [alice.keylog, bob.keylog].filter(existsSync).map((f) => readFileSync(f, 'utf8')).join(''));
    // tshark has no MSRP heuristic inside TLS: an ssl_keys entry maps the relay's port to
    // MSRP (its key file is required by the UAT but unused with TLS 1.3; the key log decrypts).
    const msrpInTls = `uat:ssl_keys:"${RELAY_IP}","${relay!.port}","msrp","${relay!.pki.keyFile('msrp-relay')}",""`;
    const tshark = async (filter: string, decrypt: boolean) => {
      const opts = decrypt ? ['-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${relay!.port},tls`, '-o', msrpInTls] : [];
      const { stdout } = await execFileP('tshark', ['-r', capture, '-n', ...opts, '-Y', filter, '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'msrp.method'], { maxBuffer: 64 * 1024 * 1024 });
      return stdout.split('\n').filter(Boolean);
    };
    // Alice -> relay and relay -> Bob: the text is readable on each TLS leg with that leg's keys.
    const sends = await tshark(`msrp.method == "SEND" && msrp contains "${textMarker}"`, true);
    expect(sends).toContain(`${ALICE_IP},${RELAY_IP},SEND`);
    expect(sends).toContain(`${RELAY_IP},${BOB_IP},SEND`);
    // Without the keys: TLS only, no MSRP and no marker on the wire.
    expect(await tshark('msrp', false)).toEqual([]);
    expect(await tshark(`frame contains "${textMarker}"`, false)).toEqual([]);
  }, 60_000);
});
