import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Analysis } from '@imslab/analysis';
import { mergeCaptures } from '@imslab/capture';
import { decryptCapture, keysFromCryptoAttributes, keysFromKeyLogs, type DecryptKey, type DecryptResult } from '@imslab/decrypt';

/** The files a person opens, next to analysis.json. */
export const EVIDENCE_FILES = {
  allLinks: 'all-links.pcapng',
  decrypted: 'decrypted.pcapng',
  decryptedReport: 'decrypted.json',
  audio: 'audio',
} as const;

/**
 * Writes a scenario's evidence captures: all-links.pcapng (one interface per
 * link, the TLS key logs in a Decryption Secrets Block so Wireshark reads the
 * SIP in TLS with no setup) and decrypted.pcapng (the same packets with SRTP
 * and SRTCP replaced by what they carry wherever a key is known) with a WAV per
 * G.711 stream under audio/. Keys: the UEs' key logs first (their names win),
 * then every a=crypto the analysis read, in plain SIP or inside TLS.
 * Returns what could not be done; the verdicts do not rest on these files.
 */
export async function writeEvidenceCaptures(dir: string, captures: Record<string, string>, keyFiles: string[], analysis: Analysis): Promise<string[]> {
  const tlsKeyLogFiles = keyFiles.filter((f) => f.endsWith('.tls-keys.log'));
  const allLinks = join(dir, EVIDENCE_FILES.allLinks);
  await mergeCaptures(Object.entries(captures).filter(([, f]) => existsSync(f)).map(([name, path]) => ({ name, path })), allLinks, { tlsKeyLogFiles });
  const logged = await keysFromKeyLogs(keyFiles.filter((f) => f.endsWith('.srtp-keys.jsonl')));
  const inPlainSip: DecryptKey[] = analysis.links.flatMap((l) =>
    l.signalling.sdesOffers.map((o) => ({ id: `sdp@${l.link}/${o.keySalt.slice(0, 6)}`, suite: o.suite, keySalt: o.keySalt })));
  const inTls = keysFromCryptoAttributes(Object.entries(analysis.tls).flatMap(([link, r]) =>
    r.messages.flatMap((m) => m.mediaAttributes.filter((a) => a.startsWith('crypto:')).map((attribute) => ({ source: `${link}/tls`, attribute })))));
  try {
    const result = await decryptCapture(allLinks, join(dir, EVIDENCE_FILES.decrypted), [...logged.keys, ...inPlainSip, ...inTls.keys], {
      tlsKeyLogFiles, audioDir: join(dir, EVIDENCE_FILES.audio),
    });
    const keyProblems = [...logged.problems, ...inTls.problems, ...result.keyProblems];
    writeFileSync(join(dir, EVIDENCE_FILES.decryptedReport), JSON.stringify(relativePaths(dir, { ...result, keyProblems }), null, 2));
    return [];
  } catch (e) {
    return [`decrypted.pcapng not written: ${(e as Error).message}`];
  }
}

/** A copied run directory still inspects: paths in the report are relative to the scenario. */
function relativePaths(dir: string, r: DecryptResult): DecryptResult {
  return {
    ...r,
    audioDir: r.audioDir && relative(dir, r.audioDir),
    streams: r.streams.map((s) => (s.audio && 'file' in s.audio ? { ...s, audio: { ...s.audio, file: relative(dir, s.audio.file) } } : s)),
  };
}
