/**
 * Keeps a finished run's captures as fixtures of the analyser: for each
 * scenario directory given, copies the three link captures, the SRTP key logs
 * and the expected verdict into test/fixtures/real/<scenario>/. The fixture
 * test then re-analyses them on every run, so a change to the analyser that
 * would misjudge real Kamailio/rtpengine traffic fails at once.
 *
 *   npx tsx packages/analysis/scripts/capture-fixtures.ts runs/<ts>/<scenario> ...
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'real');

for (const dir of process.argv.slice(2)) {
  const name = basename(dir);
  const verdict = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as { calls: Array<{ alias: string; callId: string; expected: string; pass: boolean }> };
  if (!verdict.calls.every((c) => c.pass)) throw new Error(`${dir}: the run did not pass; keep only runs whose verdicts matched`);
  const out = join(FIXTURES, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const link of ['access-a', 'core', 'access-b']) copyFileSync(join(dir, `${link}.pcap`), join(out, `${link}.pcap`));
  for (const f of readdirSync(join(dir, 'keys')).filter((x) => x.endsWith('.srtp-keys.jsonl'))) copyFileSync(join(dir, 'keys', f), join(out, f));
  writeFileSync(join(out, 'expected.json'), JSON.stringify({ calls: verdict.calls.map((c) => ({ alias: c.alias, callId: c.callId, verdict: c.expected })) }, null, 2) + '\n');
  console.log(`${name}: kept in ${out}`);
}
