/**
 * Makes test/fixtures/run from a real run directory: a few scenarios with
 * what the report reads (summary.json, analysis.json, verdict.json,
 * ue-calls.json, the TLS key logs) and their captures cut down to the
 * signalling (TCP but the control API, UDP to or from port 5060), so the
 * fixture stays small. One scenario also gets the network.json the runner
 * is asked to record, so both ways of naming the elements are tested.
 *
 *   npx tsx packages/report/test/make-fixture.ts runs/<ts> [scenario...]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureFileReader, PcapWriter, decodeFrame } from '@imslab/capture';
import type { RunSummary } from '@imslab/run-format';
import { networkOf } from '../src/network.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'run');
const DEFAULT = ['access-edge-protection', 'e2e-mikey-ticket-call', 'sdes-e2e-call', 'conference-e2m2e-mixing', 'sdes-via-default-agws'];
const RECORDED = 'e2e-mikey-ticket-call';

async function signallingOnly(from: string, to: string): Promise<number> {
  const r = await CaptureFileReader.open(from);
  let w: PcapWriter | null = null;
  let kept = 0;
  try {
    while (await r.refill()) {
      for (let p = r.next(); p !== null; p = r.next()) {
        w ??= new PcapWriter(to, p.linkType);
        const d = decodeFrame(p.linkType, p.data);
        if (!d) continue;
        const keep = d.protocol === 'tcp' ? d.srcPort !== 8000 && d.dstPort !== 8000 : d.protocol === 'udp' && (d.srcPort === 5060 || d.dstPort === 5060);
        if (!keep) continue;
        w.write(p.timestampUs, Buffer.from(p.data), p.originalLength);
        kept++;
      }
    }
  } finally {
    await r.close();
  }
  w ??= new PcapWriter(to, r.firstLinkType ?? 1);
  await w.close();
  return kept;
}

const [src, ...names] = process.argv.slice(2);
if (!src) throw new Error('usage: make-fixture.ts runs/<ts> [scenario...]');
const wanted = names.length ? names : DEFAULT;
const summary = JSON.parse(readFileSync(join(src, 'summary.json'), 'utf8')) as RunSummary;
const results = wanted.map((n) => {
  const r = summary.results.find((x) => x.scenario === n);
  if (!r) throw new Error(`${src} has no result for ${n}`);
  return r;
});
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'summary.json'), JSON.stringify({ ...summary, planned: wanted, results }, null, 2) + '\n');
for (const r of results) {
  const from = join(src, r.dir);
  const to = join(OUT, r.dir);
  mkdirSync(join(to, 'keys'), { recursive: true });
  const analysis = JSON.parse(readFileSync(join(from, 'analysis.json'), 'utf8'));
  for (const l of analysis.links) l.file = `${l.link}.pcap`; // no absolute paths of the machine that ran it
  writeFileSync(join(to, 'analysis.json'), JSON.stringify(analysis, null, 2) + '\n');
  for (const f of ['verdict.json', 'ue-calls.json']) if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
  for (const f of readdirSync(join(from, 'keys')).filter((k) => k.endsWith('.tls-keys.log'))) copyFileSync(join(from, 'keys', f), join(to, 'keys', f));
  for (const link of ['access-a', 'core', 'access-b']) {
    if (!existsSync(join(from, `${link}.pcap`))) continue;
    const n = await signallingOnly(join(from, `${link}.pcap`), join(to, `${link}.pcap`));
    console.log(`${r.scenario}/${link}.pcap: ${n} packets`);
  }
  if (r.scenario === RECORDED) {
    const view = await networkOf(from, analysis);
    writeFileSync(join(to, 'network.json'), JSON.stringify({ target: view.target, slot: view.slot, elements: view.elements }, null, 2) + '\n');
  }
}
console.log(`wrote ${OUT}`);
