/**
 * TLS secrets embedded in all-links.pcapng (pcapng Decryption Secrets Block,
 * draft-ietf-opsawg-pcapng sec 4.7): real TLS 1.3 sessions carrying SIP on
 * loopback, each link captured by tcpdump, merged with the key logs; tshark
 * must read the SIP inside TLS with no key log preference at all.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { connect, createServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_DSB, encodeDsb, SECRETS_TYPE_TLS_KEY_LOG } from '../src/pcapng-format.ts';
import { collect, requireTool, run, tempDir } from './helpers.ts';
import { startTcpdump, stopTcpdump, waitForQuiet } from './live-capture.ts';
import { mergeCaptures, normaliseTlsKeyLog, PcapngWriter, readCapture, TlsKeyLogError } from '../src/index.ts';

const execFileP = promisify(execFile);

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const SERVER = '127.0.14.1';
/** SIP over TLS (RFC 3261 sec. 26.2): Wireshark's SIP dissector claims TLS on 5061 by default. */
const SIP_TLS_PORT = 5061;

const options = (from: string, n: number): string =>
  [`OPTIONS sip:${SERVER}:${SIP_TLS_PORT};transport=tls SIP/2.0`, `Via: SIP/2.0/TLS ${from}:5061;branch=z9hG4bK-dsb-${n}`, 'Max-Forwards: 70',
    `From: <sip:test@${from}>;tag=${n}`, `To: <sip:${SERVER}>`, `Call-ID: dsb-test-${n}@${from}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');

/** A self-signed P-256 certificate from the openssl command line (Debian package openssl). */
async function certificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const keyPath = join(dir, 'server.key');
  const certPath = join(dir, 'server.crt');
  await execFileP(requireTool('openssl'), ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=imslab-dsb-test', '-keyout', keyPath, '-out', certPath]);
  return { key: await readFile(keyPath), cert: await readFile(certPath) };
}

/** A TLS server answering every SIP request with 200 OK (Via, Call-ID, CSeq copied). */
function sipServer(tls: { key: Buffer; cert: Buffer }): Promise<Server> {
  const server = createServer({ ...tls, minVersion: 'TLSv1.3' }, (sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!buf.includes('\r\n\r\n')) return;
      const copy = buf.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
      sock.end(['SIP/2.0 200 OK', ...copy, 'Content-Length: 0', '', ''].join('\r\n'));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(SIP_TLS_PORT, SERVER, () => resolve(server));
  });
}

/** One TLS session from `from`: sends OPTIONS, reads the answer; returns the client's key log (NSS format). */
function sipClient(from: string, n: number): Promise<{ keyLog: string; answer: string }> {
  return new Promise((resolve, reject) => {
    let keyLog = '';
    let answer = '';
    // The TCP socket is made first: only net.connect takes the local address the capture filters on.
    const tcp = netConnect({ host: SERVER, port: SIP_TLS_PORT, localAddress: from });
    const sock = connect({ socket: tcp, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    sock.on('keylog', (line: Buffer) => (keyLog += line.toString()));
    sock.on('secureConnect', () => sock.write(options(from, n)));
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.on('end', () => sock.end());
    sock.on('close', () => resolve({ keyLog, answer }));
    sock.on('error', reject);
  });
}

/** tshark's view of the SIP in a capture: interface, method or status, Call-ID. No TLS preference is passed. */
async function sipSeenByTshark(path: string): Promise<string[]> {
  const out = await run('tshark', ['-r', path, '-n', '-Y', 'sip', '-T', 'fields', '-E', 'separator=|',
    '-e', 'frame.interface_name', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.Call-ID']);
  return out.split('\n').filter((l) => l.trim() !== '').sort();
}

describe('Decryption Secrets Block', () => {
  it('encodes type, length, padded secrets and the trailing length (draft sec 4.7)', () => {
    const secrets = Buffer.from('CLIENT_RANDOM 01 02\n'); // 20 octets: no padding
    const odd = Buffer.from('X'); // 1 octet: 3 octets of padding
    for (const le of [true, false]) {
      const b = encodeDsb(le, SECRETS_TYPE_TLS_KEY_LOG, odd);
      const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
      expect(b.length).toBe(12 + 8 + 4);
      expect([u32(0), u32(4), u32(8), u32(12), u32(b.length - 4)]).toEqual([BLOCK_DSB, 24, 0x544c534b, 1, 24]);
      expect([...b.subarray(16, 20)]).toEqual([0x58, 0, 0, 0]);
    }
    expect(encodeDsb(true, SECRETS_TYPE_TLS_KEY_LOG, secrets).length).toBe(12 + 8 + 20);
  });

  it('key logs are joined, de-duplicated, comments and malformed lines left out', () => {
    const a = '# SSL/TLS secrets log file\nCLIENT_RANDOM aa01 bb02\r\nSERVER_TRAFFIC_SECRET_0 aa01 cc03\n\n';
    const b = 'CLIENT_RANDOM aa01 bb02\nnot a secret\nCLIENT_TRAFFIC_SECRET_0 aa01 zz\nEXPORTER_SECRET aa01 dd04';
    expect(normaliseTlsKeyLog([a, b])).toEqual({
      text: 'CLIENT_RANDOM aa01 bb02\nSERVER_TRAFFIC_SECRET_0 aa01 cc03\nEXPORTER_SECRET aa01 dd04\n', lines: 3, ignored: 2,
    });
    expect(normaliseTlsKeyLog(['', '# only a comment\n'])).toEqual({ text: '', lines: 0, ignored: 0 });
  });

  it('a missing key log file is a TlsKeyLogError naming it; no secrets: no block, the merge is unchanged', async () => {
    const empty = join(dir, 'empty.pcapng');
    const w = new PcapngWriter(empty);
    w.addInterface('x', 1, 0);
    await w.close();
    const missing = join(dir, 'no-such.tls-keys.log');
    const err = await mergeCaptures([{ name: 'x', path: empty }], join(dir, 'm-missing.pcapng'), { tlsKeyLogFiles: [missing] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsKeyLogError);
    expect((err as TlsKeyLogError).path).toBe(missing);
    const none = join(dir, 'm-none.pcapng');
    expect(await mergeCaptures([{ name: 'x', path: empty }], none, { tlsKeyLogTexts: ['# nothing\n'] })).toEqual({ packets: 0, tlsSecretLines: 0 });
    const plain = join(dir, 'm-plain.pcapng');
    await mergeCaptures([{ name: 'x', path: empty }], plain);
    expect((await readFile(none)).equals(await readFile(plain))).toBe(true);
  });

  it('tshark reads SIP inside real TLS 1.3 in the merged capture with no key log option', { timeout: 60_000 }, async () => {
    const links = [
      { name: 'access-a', client: '127.0.14.2', path: join(dir, 'access-a.pcap') },
      { name: 'access-b', client: '127.0.14.3', path: join(dir, 'access-b.pcap') },
    ];
    const server = await sipServer(await certificate());
    const dumps = await Promise.all(links.map((l) => startTcpdump(['-i', 'lo', '-w', l.path, `tcp and host ${l.client}`])));
    let sessions: Array<{ keyLog: string; answer: string }>;
    try {
      // One after the other, so the merge interleaves nothing it could get wrong and each link holds one session.
      sessions = [];
      for (const [i, l] of links.entries()) sessions.push(await sipClient(l.client, i));
      await Promise.all(links.map((l) => waitForQuiet(l.path, 10)));
    } finally {
      for (const d of dumps) expect(await stopTcpdump(d)).toBe(0);
      await new Promise<void>((r) => server.close(() => r()));
    }
    for (const s of sessions) {
      expect(s.answer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      expect(s.keyLog).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m);
    }
    // Per-UE key log files, as a run keeps them; the second one also given as text.
    const keyFile = join(dir, 'alice.tls-keys.log');
    await writeFile(keyFile, sessions[0]!.keyLog);
    const inputs = links.map((l) => ({ name: l.name, path: l.path }));

    const withoutSecrets = join(dir, 'no-secrets.pcapng');
    await mergeCaptures(inputs, withoutSecrets);
    expect(await sipSeenByTshark(withoutSecrets)).toEqual([]); // the control: TLS hides the SIP

    const out = join(dir, 'all-links.pcapng');
    const r = await mergeCaptures(inputs, out, { tlsKeyLogFiles: [keyFile], tlsKeyLogTexts: [sessions[1]!.keyLog, sessions[0]!.keyLog] });
    expect(r.tlsSecretLines).toBe(10); // TLS 1.3: five secrets per session (both handshake, both traffic, exporter)
    expect(await sipSeenByTshark(out)).toEqual([
      'access-a|OPTIONS||dsb-test-0@127.0.14.2', 'access-a||200|dsb-test-0@127.0.14.2',
      'access-b|OPTIONS||dsb-test-1@127.0.14.3', 'access-b||200|dsb-test-1@127.0.14.3',
    ]);
    // Our reader skips the block and still yields every packet, in the same order as without it.
    const packets = await collect(readCapture(out));
    expect(packets.length).toBe(r.packets);
    expect(packets.map((p) => p.data.toString('hex'))).toEqual((await collect(readCapture(withoutSecrets))).map((p) => p.data.toString('hex')));
  });

  it('tshark reads the block in a big-endian section too', async () => {
    // A block tshark must parse even though it holds nothing it can use: proves layout, not decryption.
    const path = join(dir, 'be.pcapng');
    const w = new PcapngWriter(path, { bigEndian: true });
    w.addDecryptionSecrets(SECRETS_TYPE_TLS_KEY_LOG, Buffer.from(`CLIENT_RANDOM ${'11'.repeat(32)} ${'22'.repeat(48)}\n`));
    w.addInterface('x', 1, 0);
    w.write(0, 1_700_000_000_000_000, Buffer.alloc(60));
    await w.close();
    expect((await run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.interface_name'])).trim()).toBe('x');
  });
});
