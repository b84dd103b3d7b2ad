/**
 * TLS secrets for a pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng
 * sec 4.7, Secrets Type 0x544c534b "TLS Key Log"): the elements' key logs in
 * the NSS Key Log Format (SSLKEYLOGFILE; draft-ietf-tls-keylogfile), joined,
 * cleaned and de-duplicated, so that Wireshark opens the SIP inside TLS with
 * no preference set. Both ends of a TLS session log the same secrets, hence
 * the de-duplication.
 */
import { readFile } from 'node:fs/promises';
import { CaptureError } from './errors.ts';
import { SECRETS_TYPE_TLS_KEY_LOG } from './pcapng-format.ts';
import type { PcapngWriter } from './pcapng-writer.ts';

/** A TLS key log named to be embedded could not be read. */
export class TlsKeyLogError extends CaptureError {
  /** The key log file. */
  readonly path: string;

  constructor(path: string, detail: string) {
    super(`${path}: TLS key log not readable: ${detail}`);
    this.path = path;
  }
}

/** Where TLS secrets come from: key log files and/or key log text already in memory. */
export interface TlsKeyLogSources {
  /** SSLKEYLOGFILE-format files, e.g. a run's `keys/<ue>.tls-keys.log`. */
  tlsKeyLogFiles?: readonly string[];
  /** SSLKEYLOGFILE-format text (for callers that hold the secrets, e.g. from Node's `keylog` event). */
  tlsKeyLogTexts?: readonly string[];
}

/** Key log text ready for a DSB, and what was left out of it. */
export interface TlsKeyLog {
  /** One secret per line, `\n`-terminated, each line once, in first-seen order. */
  text: string;
  /** Secret lines kept. */
  lines: number;
  /** Non-empty, non-comment lines that are not `<LABEL> <hex> <hex>` (left out: a reader would ignore or trip on them). */
  ignored: number;
}

/**
 * `<label> <client random or other id, hex> <secret, hex>` (draft-ietf-tls-keylogfile sec 2):
 * labels such as CLIENT_RANDOM (TLS 1.2), CLIENT_HANDSHAKE_TRAFFIC_SECRET,
 * SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET (TLS 1.3). Any upper-case label is
 * accepted, so labels added later pass through.
 */
const SECRET_LINE = /^[A-Z][A-Z0-9_]* [0-9A-Fa-f]+ [0-9A-Fa-f]+$/;

/** Joins key log texts into one clean, de-duplicated key log (comments, blank and malformed lines dropped). */
export function normaliseTlsKeyLog(texts: readonly string[]): TlsKeyLog {
  const seen = new Set<string>();
  let ignored = 0;
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (!SECRET_LINE.test(line)) {
        ignored++;
        continue;
      }
      seen.add(line);
    }
  }
  const lines = [...seen];
  return { text: lines.length ? `${lines.join('\n')}\n` : '', lines: lines.length, ignored };
}

/**
 * Reads and normalises the TLS key logs of `sources`.
 * @throws TlsKeyLogError naming a file that cannot be read
 */
export async function loadTlsKeyLog(sources: TlsKeyLogSources): Promise<TlsKeyLog> {
  const texts = [...(sources.tlsKeyLogTexts ?? [])];
  for (const path of sources.tlsKeyLogFiles ?? []) {
    try {
      texts.push(await readFile(path, 'utf8'));
    } catch (err) {
      throw new TlsKeyLogError(path, (err as Error).message);
    }
  }
  return normaliseTlsKeyLog(texts);
}

/**
 * Writes the TLS secrets of `sources` as one Decryption Secrets Block
 * (nothing when there is no secret) and returns how many secret lines it
 * holds. Call it before the first packet.
 * @throws TlsKeyLogError naming a file that cannot be read
 */
export async function writeTlsKeyLogBlock(writer: PcapngWriter, sources: TlsKeyLogSources): Promise<number> {
  const log = await loadTlsKeyLog(sources);
  if (log.lines > 0) writer.addDecryptionSecrets(SECRETS_TYPE_TLS_KEY_LOG, Buffer.from(log.text, 'utf8'));
  return log.lines;
}
