/**
 * `imslab analyse` against the run's own judgement, on calls whose keys did
 * not cross in the clear (the third-party fixtures all expose theirs):
 * `imslab run` judges with its probe, `imslab analyse` judges the same
 * all-links.pcapng without it (the TLS secrets come from the file's
 * Decryption Secrets Block, the SRTP keys from the UEs' key logs given with
 * --srtp-keys). Scenarios: e2e with MIKEY-TICKET (no key in any SDP),
 * e2ae (SDES inside TLS on the access links, plaintext in the core) and
 * e2m2e through the transcoder (whose leg keys cross the core in plain SIP,
 * which the run reports as a condition and analyse as the effective `none`).
 * Both run through the CLI, one network at a time (--jobs 1; the CLI takes
 * a free loopback slot).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ForeignAnalysis } from '@imslab/analysis';
import { REPO_ROOT } from '@imslab/topology';

const run = promisify(execFile);
const IMSLAB = join(REPO_ROOT, 'bin', 'imslab');
const SCENARIOS = ['e2e-mikey-ticket-call', 'access-edge-protection', 'transcoded-call-e2m2e'];

interface RunCall { callId: string; observed: string; conditions?: string[] }
interface Element { name: string; partOf?: string; addresses: Record<string, string> }

let runDir = '';

beforeAll(async () => {
  const { stdout } = await run(IMSLAB, ['run', ...SCENARIOS, '--jobs', '1'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 540_000 });
  runDir = /^run: (\S+)/m.exec(stdout)![1]!;
}, 600_000);

/** The element an address belongs to, by the run's network.json (a transcoder's media relay is the transcoder). */
function elementOf(dir: string, ip: string): string {
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as { elements: Element[] };
  const e = net.elements.find((x) => Object.values(x.addresses).includes(ip));
  return e ? (e.partOf ?? e.name) : ip;
}

describe('imslab analyse agrees with imslab run', () => {
  for (const scenario of SCENARIOS) {
    it(scenario, async () => {
      const dir = join(runDir, scenario);
      const runCalls = (JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as { calls: RunCall[] }).calls;
      const keyLogs = readdirSync(join(dir, 'keys')).filter((f) => f.endsWith('.srtp-keys.jsonl')).flatMap((f) => ['--srtp-keys', join(dir, 'keys', f)]);
      const { stdout } = await run(IMSLAB, ['analyse', join(dir, 'all-links.pcapng'), ...keyLogs, '--json'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
      const a = JSON.parse(stdout) as ForeignAnalysis;
      expect(a.problems).toEqual([]);
      // The SIP on the access links is inside TLS: read with the secrets the file carries.
      expect(a.tlsSecrets.fromCaptures).toHaveLength(1);
      expect(a.links.find((l) => l.name === 'access-a')!.sipInTls).toBeGreaterThan(0);
      for (const rc of runCalls) {
        const call = a.calls.find((c) => c.callId === rc.callId);
        expect(call, `${scenario}: call ${rc.callId} found from SIP`).toBeDefined();
        expect(call!.foundBy).toBe('sip');
        // The media path, with the middle element named as the run names it.
        const named = call!.mediaPath.replace(/^e2m2e\((.+)\)$/, (_, ip: string) => `e2m2e(${elementOf(dir, ip)})`);
        expect(named, scenario).toBe(rc.observed);
        const inClear = (rc.conditions ?? []).filter((c) => c.includes('readable in plaintext SIP'));
        const ours = call!.directions.flatMap((d) => d.conditions);
        if (inClear.length === 0) {
          expect(call!.verdict, scenario).toBe(call!.mediaPath);
          expect(ours.filter((c) => c.kind === 'key-in-clear')).toEqual([]);
        } else {
          // The run states the exposure as a condition; analyse weakens the effective verdict for it.
          expect(call!.verdict, scenario).toBe('none');
          const links = new Set(ours.filter((c) => c.kind === 'key-in-clear').map((c) => c.link));
          for (const c of inClear) expect(links.has(/ on (\S+):/.exec(c)![1]!), c).toBe(true);
        }
        if (scenario === 'e2e-mikey-ticket-call') {
          // MIKEY-TICKET: no key in any SDP, so the keys come from the key logs and their exchange is not seen.
          expect(a.keys.every((k) => k.sources.every((s) => s.kind === 'key-file'))).toBe(true);
          expect(call!.directions.every((d) => d.conditions.some((c) => c.kind === 'exchange-not-seen'))).toBe(true);
        }
        if (scenario === 'access-edge-protection') {
          expect(ours.filter((c) => c.kind === 'key-in-tls').map((c) => c.link).sort()).toEqual(expect.arrayContaining(['access-a', 'access-b']));
        }
      }
    });
  }
});
