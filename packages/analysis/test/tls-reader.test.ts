/**
 * The SIP inside TLS 1.3 read in process (tls-reader.ts) against tshark
 * (readSipInsideTls) on real runs' captures and key logs: Kamailio's and our
 * UEs' TLS, SDP with SDES keys, MIKEY and e2ae marks. Same messages, same
 * fields; where tshark joins two SIP messages of one TLS record into one line
 * (its field aggregator), the in-process reader gives both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueUserCertificate, type IssuedCredential } from '@imslab/cms';
import { followTlsInProcess, readKeyLogs, readSipInsideTls, readSipInsideTlsOnLinks, readTlsSipInProcess, type TlsSipMessage } from '../src/index.ts';
import { LinkCapture, sipMessage, sipOk, tlsConversation, tmp, writeText } from './messages-fixtures.ts';
import { LATE_HELLO, noKeysFor } from '../src/tls-reader.ts';

const RUN = join(import.meta.dirname, '..', '..', 'report', 'test', 'fixtures', 'run');
const SCENARIOS = ['access-edge-protection', 'e2e-mikey-ticket-call', 'sdes-e2e-call', 'conference-e2m2e-mixing', 'sdes-via-default-agws'];

const hasTshark = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const keyLogsOf = (d: string) => readdirSync(join(d, 'keys')).filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(d, 'keys', f));

/** tshark's lines with joined messages split again: the first keeps the Call-ID and ports, the SDP goes with the last. */
function splitJoined(ms: TlsSipMessage[]): Array<Partial<TlsSipMessage>> {
  return ms.flatMap((m) => {
    const parts = m.what.split('\u001f');
    if (parts.length === 1) return [m];
    return parts.map((what, i) => ({ src: m.src, dst: m.dst, what, ...(i === parts.length - 1 ? { mediaProtocols: m.mediaProtocols } : {}) }));
  });
}

describe.skipIf(!hasTshark)('SIP inside TLS read in process agrees with tshark on real runs', () => {
  for (const s of SCENARIOS) {
    it(s, async () => {
      const d = join(RUN, s);
      const keys = keyLogsOf(d);
      let total = 0;
      for (const link of ['access-a', 'core', 'access-b']) {
        const file = join(d, `${link}.pcap`);
        if (!existsSync(file)) continue;
        const ours = await readTlsSipInProcess(file, readKeyLogs(keys));
        expect(ours.unread, `${s} ${link}`).toEqual([]);
        const tshark = await readSipInsideTls(file, keys, []);
        expect(tshark.error).toBeUndefined();
        const theirs = splitJoined(tshark.messages);
        expect(ours.messages.length, `${s} ${link}`).toBe(theirs.length);
        ours.messages.forEach((m, i) => {
          const t = theirs[i]!;
          if (t.callId === undefined) expect({ src: m.src, dst: m.dst, what: m.what }, `${s} ${link} #${i}`).toEqual({ src: t.src, dst: t.dst, what: t.what });
          else expect(m, `${s} ${link} #${i}`).toEqual(t);
        });
        total += ours.messages.length;
      }
      expect(total).toBeGreaterThan(4);
    }, 60_000);
  }

  it('a connection without its key log lines is listed as unread, with why, and nothing is guessed', async () => {
    const d = join(RUN, 'sdes-e2e-call');
    const r = await readTlsSipInProcess(join(d, 'access-a.pcap'), readKeyLogs([]));
    expect(r.messages).toEqual([]);
    expect(r.unread.length).toBeGreaterThan(0);
    expect(new Set(r.unread.map((u) => u.why))).toEqual(new Set(['no key log line for this connection']));
  });
});

describe('which unread connections go to tshark', () => {
  it('want of keys stays with the in-process reading; anything else is worth a tshark run', () => {
    for (const why of ['no ClientHello in the capture', 'no ServerHello in the capture', 'no key log line for this connection', 'no traffic secret logged', 'no SERVER_TRAFFIC_SECRET_0 logged']) expect(noKeysFor(why), why).toBe(true);
    for (const why of ['TLS 1.2 (not read here)', 'a segment is missing from the capture', 'cipher suite 0x1304 not supported', 'record 3 does not decrypt under the logged application secret', 'unexpected record type 24']) expect(noKeysFor(why), why).toBe(false);
  });
});

describe('TLS 1.3 connections read in process, made here with node:tls', () => {
  const ALICE = '127.0.1.100';
  const PCSCF = '127.0.1.10';
  const KMS = '127.0.2.50';
  let dir: string;
  let keys: string[];
  let files: Record<'keepalive' | 'reordered' | 'https' | 'reused', string>;

  beforeAll(async () => {
    dir = tmp('tls-reader');
    const server: IssuedCredential = await issueUserCertificate((await createCa({ commonName: 'tls CA', keyType: 'ec' })).credential, { uris: ['sip:p-cscf-a.ims.test'], keyType: 'ec' });
    const crlf = Buffer.from('\r\n\r\n');
    // RFC 5626 keep-alive CRLFs before the first request, then a MESSAGE and its 200.
    const sip = await tlsConversation(server.certificatePem, server.privateKeyPem, [crlf, sipMessage({ callId: 'k1@alice', contentType: 'text/plain', body: 'hello' })], [sipOk('k1@alice')]);
    const again = await tlsConversation(server.certificatePem, server.privateKeyPem, [sipMessage({ callId: 'k2@alice', contentType: 'text/plain', body: 'again' })], [sipOk('k2@alice')]);
    const http = await tlsConversation(server.certificatePem, server.privateKeyPem,
      [Buffer.from('POST /mikey/request HTTP/1.1\r\nHost: kms\r\nContent-Length: 0\r\n\r\n')], [Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]);
    const capture = (name: string, f: (c: LinkCapture) => void) => {
      const c = new LinkCapture(join(dir, `${name}.pcapng`), name);
      f(c);
      return c.close().then(() => join(dir, `${name}.pcapng`));
    };
    files = {
      keepalive: await capture('keepalive', (c) => c.tcp([ALICE, 40010], [PCSCF, 5061], sip.wire)),
      // Pieces of 200 octets, each direction's first two swapped on the wire.
      reordered: await capture('reordered', (c) => c.tcp([ALICE, 40010], [PCSCF, 5061], sip.wire, { mss: 200, reorder: true })),
      https: await capture('https', (c) => c.tcp([ALICE, 40020], [KMS, 8443], http.wire)),
      // Two connections one after the other on the same ports (the second opened by its SYN).
      reused: await capture('reused', (c) => c.tcp([ALICE, 40030], [PCSCF, 5061], sip.wire).tcp([ALICE, 40030], [PCSCF, 5061], again.wire)),
    };
    keys = [writeText(dir, 'sip.keys', sip.keyLog), writeText(dir, 'http.keys', http.keyLog), writeText(dir, 'again.keys', again.keyLog)];
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('skips keep-alive CRLFs before the first message', async () => {
    const r = await readTlsSipInProcess(files.keepalive, readKeyLogs(keys));
    expect(r.unread).toEqual([]);
    expect(r.messages.map((m) => [m.src, m.what, m.callId, m.cseqMethod, m.srcPort, m.interfaceId])).toEqual([
      [ALICE, 'MESSAGE', 'k1@alice', 'MESSAGE', 40010, 0],
      [PCSCF, '200', 'k1@alice', 'MESSAGE', 5061, 0],
    ]);
  });

  it('reads two connections that used the same ports one after the other', async () => {
    const r = await readTlsSipInProcess(files.reused, readKeyLogs(keys));
    expect(r.unread).toEqual([]);
    expect(r.messages.map((m) => [m.what, m.callId])).toEqual([['MESSAGE', 'k1@alice'], ['200', 'k1@alice'], ['MESSAGE', 'k2@alice'], ['200', 'k2@alice']]);
    expect((await followTlsInProcess(files.reused, readKeyLogs(keys))).streams.map((x) => x.toServer.includes('k2@alice'))).toEqual([false, true]);
  });

  it('leaves HTTPS (the KMS) out of the SIP, and follows its bytes', async () => {
    expect(await readTlsSipInProcess(files.https, readKeyLogs(keys))).toEqual({ messages: [], unread: [] });
    const f = await followTlsInProcess(files.https, readKeyLogs(keys));
    expect(f.streams.map((s) => [s.client, s.server, s.toServer.toString('latin1').split('\r\n')[0], s.toClient.toString('latin1').split('\r\n')[0], s.appData]))
      .toEqual([[`${ALICE}:40020`, `${KMS}:8443`, 'POST /mikey/request HTTP/1.1', 'HTTP/1.1 200 OK', true]]);
  });

  it.skipIf(!hasTshark)('a capture it does not follow (segments out of order) is not guessed at: the link goes to tshark', async () => {
    const r = await readTlsSipInProcess(files.reordered, readKeyLogs(keys));
    expect(r).toEqual({ messages: [], unread: [{ client: `${ALICE}:40010`, server: `${PCSCF}:5061`, why: LATE_HELLO }] });
    expect(noKeysFor(LATE_HELLO)).toBe(false);
    const flows = [`tcp ${ALICE}:40010 > ${PCSCF}:5061`, `tcp ${PCSCF}:5061 > ${ALICE}:40010`];
    const links = await readSipInsideTlsOnLinks([{ link: 'access-a', file: files.reordered, tlsFlows: flows }], keys);
    // Whatever tshark makes of it (4.0 without tcp.reassemble_out_of_order: nothing) is the link's report.
    expect(links['access-a']).toEqual(await readSipInsideTls(files.reordered, keys, flows));
  });
});
