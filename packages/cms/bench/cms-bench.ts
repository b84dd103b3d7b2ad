/**
 * S/MIME for SIP MESSAGE in one process: sign+encrypt (sender) and
 * decrypt+verify (receiver) per second for one short CPIM message to one
 * recipient, against plain CPIM build and parse measured in the same run, so
 * the figure is a ratio on this machine, not an absolute time (DESIGN.md
 * sec. 6). RSA 2048 is what the testbed PKI issues; EC P-256 is RFC 8551's
 * MUST; both are measured.
 *
 *   npx tsx packages/cms/bench/cms-bench.ts [seconds per figure, default 1]
 */
import { pathToFileURL } from 'node:url';
import {
  buildCpim,
  buildSecureMessage,
  createCa,
  issueUserCertificate,
  openSecureMessage,
  parseCpim,
  type CmsCredential,
  type KeyType,
} from '../src/index.ts';

export interface CmsBenchFigures {
  keyType: KeyType;
  /** Messages signed and encrypted (AuthEnvelopedData, AES-128-GCM) per second. */
  sealPerSecond: number;
  /** Messages decrypted, verified (chain, signing time, identity) and parsed per second. */
  openPerSecond: number;
  /** Size of the MESSAGE body, bytes. */
  bodyBytes: number;
}

export interface CmsBenchResult {
  /** Plain CPIM messages built per second (the reference). */
  cpimBuildPerSecond: number;
  /** Plain CPIM messages parsed per second (the reference). */
  cpimParsePerSecond: number;
  cpimBytes: number;
  protected: CmsBenchFigures[];
}

async function rate(seconds: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await op();
    n++;
    if (n % 50 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return (n * 1000) / (performance.now() - start);
}

/** Measures every figure for about `seconds` each (after a short warm-up). */
export async function runCmsBench(seconds = 1): Promise<CmsBenchResult> {
  const message = {
    from: { name: 'Alice', uri: 'sip:alice@ims.example' },
    to: [{ uri: 'sip:bob@ims.example' }],
    contentType: 'text/plain;charset=utf-8',
    body: 'Lunch at noon? marker-bench',
  };
  const cpim = buildCpim({ ...message, dateTime: new Date() });
  const cpimBuildPerSecond = await rate(seconds, () => buildCpim({ ...message, dateTime: new Date() }));
  const cpimParsePerSecond = await rate(seconds, () => parseCpim(cpim));

  const ca = await createCa();
  const figures: CmsBenchFigures[] = [];
  for (const keyType of ['rsa', 'ec'] as const) {
    const alice = (await issueUserCertificate(ca.credential, { uris: ['sip:alice@ims.example'], keyType })).credential;
    const bob = (await issueUserCertificate(ca.credential, { uris: ['sip:bob@ims.example'], keyType })).credential;
    const seal = () => buildSecureMessage(message, { signer: alice, recipients: [bob.certificate] });
    const sample = await seal();
    const open = (recipient: CmsCredential) => openSecureMessage(sample.body, sample.contentType, { recipient, trustAnchors: [ca.credential.certificate] });
    figures.push({
      keyType,
      sealPerSecond: await rate(seconds, seal),
      openPerSecond: await rate(seconds, () => open(bob)),
      bodyBytes: sample.body.length,
    });
  }
  return { cpimBuildPerSecond, cpimParsePerSecond, cpimBytes: cpim.length, protected: figures };
}

/** One line per figure, with the ratio to plain CPIM from the same run. */
export function formatCmsBench(r: CmsBenchResult): string {
  const lines = [`cms: plain CPIM ${r.cpimBytes} B: build ${Math.round(r.cpimBuildPerSecond)}/s, parse ${Math.round(r.cpimParsePerSecond)}/s (reference)`];
  for (const f of r.protected) {
    lines.push(
      `cms: ${f.keyType.toUpperCase()} signed+AuthEnveloped ${f.bodyBytes} B: sign+encrypt ${Math.round(f.sealPerSecond)}/s (${(r.cpimBuildPerSecond / f.sealPerSecond).toFixed(0)}x slower than build), ` +
        `decrypt+verify ${Math.round(f.openPerSecond)}/s (${(r.cpimParsePerSecond / f.openPerSecond).toFixed(0)}x slower than parse)`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  runCmsBench(Number(process.argv[2] ?? 1)).then((r) => console.log(formatCmsBench(r)));
}
