/**
 * The `imslab analyse` verb (packages/runner/src/analyse-command.ts) as a
 * person runs it, on the third-party fixtures: the table and --json, the
 * exit codes every verb shares (0 done, 2 usage, 4 a needed program
 * missing), a truncated capture listed as a problem, and --report DIR
 * (decrypted.pcapng that tshark reads as plain RTP, analysis.json,
 * report.html).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTcpFrame, LINKTYPE, PcapngWriter } from '@imslab/capture';
import type { ForeignAnalysis } from '../src/index.ts';
import { FOREIGN_FIXTURES_DIR } from './fixtures/foreign/manifest.ts';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'packages', 'runner', 'src', 'cli.ts');
const TSX = `file://${join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')}`;
const dir = mkdtempSync(join(tmpdir(), 'imslab-analyse-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (f: string) => join(FOREIGN_FIXTURES_DIR, f);

/** Runs the CLI in a child process; resolves with its exit code and output whatever the code. */
async function imslab(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, env, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('imslab analyse', () => {
  it('prints each call, direction, leg and condition; exit 0', async () => {
    const r = await imslab(['analyse', fixture('f-rtpengine-reencrypt.pcapng')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^call e750e699c937e19a .* verdict none  \(media path e2m2e\(192\.0\.2\.1\)\)$/m);
    expect(r.stdout).toMatch(/^ {2}caller->callee +none +media path e2m2e\(192\.0\.2\.1\)$/m);
    expect(r.stdout).toMatch(/link-b: 198\.51\.100\.1:35000 -> 198\.51\.100\.20:43014 .* SRTP k2, re-encrypted \(same media\)/);
    expect(r.stdout).toContain('in plaintext SIP (INVITE): anyone on that link can decrypt');
  }, 60_000);

  it('--json is the whole analysis; several files are several links', async () => {
    const r = await imslab(['analyse', fixture('e-rtpengine-default.link-a.pcap'), fixture('e-rtpengine-default.link-b.pcap'), '--json']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout) as ForeignAnalysis;
    expect(a.links.map((l) => l.name)).toEqual(['e-rtpengine-default.link-a.pcap', 'e-rtpengine-default.link-b.pcap']);
    expect(a.calls.map((c) => [c.mediaPath, c.verdict])).toEqual([['e2e', 'none']]);
  }, 60_000);

  it('usage errors exit 2 and say what to do', async () => {
    const none = await imslab(['analyse']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('needs at least one capture file')]);
    const missing = await imslab(['analyse', join(dir, 'nope.pcap')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/capture .*nope\.pcap: no such file; give the path of a pcap or pcapng file/)]);
    const keys = await imslab(['analyse', fixture('b-direct-sdes.pcap'), '--srtp-keys', join(dir, 'nokeys.txt')]);
    expect([keys.code, keys.stderr]).toEqual([2, expect.stringMatching(/--srtp-keys .*nokeys\.txt: no such file/)]);
    const flag = await imslab(['analyse', fixture('b-direct-sdes.pcap'), '--bogus']);
    expect(flag.code).toBe(2);
  }, 60_000);

  it('a truncated capture: the analysis of what was read, the problem listed, exit 0', async () => {
    const whole = readFileSync(fixture('a-direct-plain.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 5));
    const r = await imslab(['analyse', cut]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^problems:\n {2}cut\.pcap: .*what was read before it is analysed\)$/m);
    expect(r.stdout).toMatch(/verdict none/);
  }, 60_000);

  it('SIP inside TLS with secrets to read it and no tshark: exit 4 naming the package', async () => {
    // TLS application-data records on a TCP connection, and a secrets block: reading them needs tshark.
    const file = join(dir, 'tls.pcapng');
    const w = new PcapngWriter(file);
    w.addDecryptionSecrets(0x544c534b, Buffer.from(`CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`));
    const id = w.addInterface('access-a', LINKTYPE.ETHERNET);
    const record = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(32, 0x5a)]);
    for (let i = 0; i < 3; i++) w.write(id, 1_700_000_000_000_000 + i * 1000, buildTcpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 40100, '127.0.1.10', 5061, record, { seq: 1000 + i * record.length }));
    await w.close();
    const r = await imslab(['analyse', file], { ...process.env, PATH: join(dir, 'no-programs-here') });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('missing tshark');
    expect(r.stderr).toContain('apt-get install -y tshark');
  }, 60_000);

  it('--report DIR: decrypted.pcapng (plain RTP to tshark), analysis.json, report.html', async () => {
    const out = join(dir, 'report');
    const r = await imslab(['analyse', fixture('d-rtpengine-passthrough.pcap'), '--report', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^report: .*decrypted\.pcapng: 60\d RTP and \d+ RTCP packets decrypted/m);
    const a = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as ForeignAnalysis;
    expect(a.calls[0]!.mediaPath).toBe('e2e');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('c445786bb4d7bf95');
    expect(html).not.toMatch(/<(script|link|img)\b/); // self-contained: fetches nothing
    if (existsSync('/usr/bin/tshark')) {
      // Decrypted: tshark's heuristic RTP dissector reads PCMU payloads, all 160 octets (no tag left).
      // (An ICMP error quoting an SRTP packet is left out: it is copied as captured.)
      const { stdout } = await exec('tshark', ['-r', join(out, 'decrypted.pcapng'), '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !icmp', '-T', 'fields', '-e', 'rtp.p_type', '-e', 'udp.length'], { maxBuffer: 8 * 1024 * 1024 });
      const rows = stdout.trim().split('\n').map((l) => l.split('\t'));
      expect(rows.length).toBeGreaterThan(600);
      expect(new Set(rows.map(([pt, len]) => `${pt}/${len}`))).toEqual(new Set(['0/180']));
    }
  }, 60_000);
});
