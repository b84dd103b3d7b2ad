/**
 * `imslab analyse --srtp-keys FILE`: SRTP master keys given by hand. Two
 * formats, line by line, mixed freely:
 *
 * - our UEs' key log (`*.srtp-keys.jsonl`, @imslab/probe): one JSON object
 *   per line, `{"kind":"srtp","owner":..,"suite":..,"keySalt":..,...}`;
 * - text: one key per line, as SDES writes it (RFC 4568 sec. 9.1), either a
 *   whole attribute `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:BASE64` or
 *   just `AES_CM_128_HMAC_SHA1_80 inline:BASE64` (lifetime and MKI may
 *   follow the key as in SDP: `inline:BASE64|2^31|1:4`). Blank lines and
 *   lines starting with `#` are ignored.
 *
 * A line that is neither is reported with its file and number, never
 * skipped silently.
 */
import { readFileSync } from 'node:fs';
import { parseKeyLog } from '@imslab/probe';
import { parseCryptoAttribute } from '@imslab/srtp';

/** One key read from a key file. */
export interface FileKey {
  suite: string;
  /** Master key || salt, canonical base64. */
  inline: string;
  file: string;
  line: number;
  owner?: string;
  callId?: string;
}

/** Canonical base64 of an `inline:` value (rtpengine, for one, leaves out the padding). */
export function canonicalInline(inline: string): string {
  return Buffer.from(inline, 'base64').toString('base64');
}

/** Reads one key file; `problems` names every line that is not a key. Throws only when the file cannot be read. */
export function readKeyFile(file: string): { keys: FileKey[]; problems: string[] } {
  const text = readFileSync(file, 'utf8');
  const keys: FileKey[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const n = i + 1;
    if (line.startsWith('{')) {
      const { entries, errors } = parseKeyLog(line);
      for (const e of errors) problems.push(`${file}:${n}: ${e.replace(/^line 1: /, '')}`);
      for (const e of entries) keys.push({ suite: e.suite, inline: canonicalInline(e.keySalt), file, line: n, owner: e.owner, ...(e.callId ? { callId: e.callId } : {}) });
      return;
    }
    const value = line.startsWith('a=crypto:') ? line : /^\d+\s/.test(line) ? line : `1 ${line}`;
    try {
      const a = parseCryptoAttribute(value);
      for (const k of a.keyParams) keys.push({ suite: a.suite, inline: k.keySalt.toString('base64'), file, line: n });
    } catch (e) {
      problems.push(`${file}:${n}: not a key: ${(e as Error).message} (expected a JSON key log line, "a=crypto:<tag> <suite> inline:<base64>" or "<suite> inline:<base64>")`);
    }
  });
  return { keys, problems };
}
