/**
 * The SIP inside TLS 1.3 read in process (tls-reader.ts) against tshark
 * (readSipInsideTls) on real runs' captures and key logs: Kamailio's and our
 * UEs' TLS, SDP with SDES keys, MIKEY and e2ae marks. Same messages, same
 * fields; where tshark joins two SIP messages of one TLS record into one line
 * (its field aggregator), the in-process reader gives both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyLogs, readSipInsideTls, readTlsSipInProcess, type TlsSipMessage } from '../src/index.ts';
import { noKeysFor } from '../src/tls-reader.ts';

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
