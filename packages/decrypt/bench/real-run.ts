/**
 * What the runner does at the end of a scenario, on a scenario directory a
 * run left (`runs/<ts>/<scenario>/`), writing into another directory so the
 * run stays untouched:
 *
 *   npx tsx packages/decrypt/bench/real-run.ts runs/<ts>/<scenario> /tmp/out
 *
 * all-links.pcapng with the TLS secrets, decrypted.pcapng with the SRTP keys
 * of the key logs and those analysis.json found in SDP, WAVs under audio/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeCaptures } from '@imslab/capture';
import { decryptCapture, keysFromCryptoAttributes, keysFromKeyLogs } from '../src/index.ts';

const [scenarioDir, outDir] = process.argv.slice(2);
if (!scenarioDir || !outDir) {
  console.error('usage: real-run.ts <scenario dir> <out dir>');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const keyDir = join(scenarioDir, 'keys');
const keyFiles = existsSync(keyDir) ? readdirSync(keyDir).map((f) => join(keyDir, f)) : [];
const captures = ['access-a', 'core', 'access-b'].map((name) => ({ name, path: join(scenarioDir, `${name}.pcap`) })).filter((c) => existsSync(c.path));
const tlsKeyLogFiles = keyFiles.filter((f) => f.endsWith('.tls-keys.log'));

let t = performance.now();
const merged = await mergeCaptures(captures, join(outDir, 'all-links.pcapng'), { tlsKeyLogFiles });
const mergeMs = performance.now() - t;

t = performance.now();
const logged = await keysFromKeyLogs(keyFiles.filter((f) => f.endsWith('.srtp-keys.jsonl')));
// SDES keys seen in the signalling: plaintext SIP (per link) and SIP inside TLS, as analysis.json holds them.
const analysis = JSON.parse(readFileSync(join(scenarioDir, 'analysis.json'), 'utf8')) as {
  links: Array<{ link: string; signalling: { sdesOffers: Array<{ suite: string; keySalt: string }> } }>;
  tls: Record<string, { messages: Array<{ mediaAttributes: string[] }> }>;
};
const plainSdp = analysis.links.flatMap((l) => l.signalling.sdesOffers.map((o) => ({ id: `sdp@${l.link}/${o.keySalt.slice(0, 6)}`, suite: o.suite, keySalt: o.keySalt })));
const tlsSdp = keysFromCryptoAttributes(Object.entries(analysis.tls ?? {}).flatMap(([link, r]) =>
  r.messages.flatMap((m) => m.mediaAttributes.filter((a) => a.startsWith('crypto:')).map((attribute) => ({ source: `${link}/tls`, attribute })))));
const keys = [...logged.keys, ...plainSdp, ...tlsSdp.keys];
const r = await decryptCapture(join(outDir, 'all-links.pcapng'), join(outDir, 'decrypted.pcapng'), keys, { tlsKeyLogFiles });
const decryptMs = performance.now() - t;

console.log(JSON.stringify({
  packets: merged.packets, tlsSecretLines: merged.tlsSecretLines, mergeMs: Math.round(mergeMs), decryptMs: Math.round(decryptMs),
  keys: keys.length, problems: [...logged.problems, ...tlsSdp.problems, ...r.keyProblems],
  decryptedRtp: r.decryptedRtp, decryptedRtcp: r.decryptedRtcp, untouchedRtpLike: r.untouchedRtpLike, usedKeys: r.usedKeys, unusedKeys: r.unusedKeys,
  streams: r.streams.map((s) => `${s.kind} ${s.flow} ${s.ssrcHex} ${s.keyIds.join('>')} ${s.packets}${s.notDecrypted ? ` (+${s.notDecrypted} not)` : ''}${s.audio && 'file' in s.audio ? ` wav ${s.audio.samples}` : ''}`),
}, null, 1));
