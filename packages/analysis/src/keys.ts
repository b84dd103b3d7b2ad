import { readFileSync } from 'node:fs';
import { isSrtpProfileName, splitKeySalt, SrtpVerifier } from '@imslab/srtp';
import { parseKeyLog, type SrtpKeyLogEntry } from '@imslab/probe';

/** One SRTP master key from an element's key log, ready to test packets against. */
export interface LoggedKey {
  /** Stable name in reports: owner/dir/first 8 chars of the Call-ID, e.g. `alice/tx/3f2a9c1b`. */
  id: string;
  entry: SrtpKeyLogEntry;
  verifier: SrtpVerifier;
}

export interface KeyRing {
  keys: LoggedKey[];
  /** Malformed key log lines, with file and line number. */
  errors: string[];
}

/**
 * Loads every key log. The same master key logged by both ends (tx at one,
 * rx at the other) is one key: it keeps the sender's name.
 */
export function loadKeyRing(files: string[]): KeyRing {
  const byKey = new Map<string, LoggedKey>();
  const errors: string[] = [];
  for (const file of files) {
    const { entries, errors: errs } = parseKeyLog(readFileSync(file, 'utf8'));
    errors.push(...errs.map((e) => `${file}: ${e}`));
    for (const entry of entries) {
      if (!isSrtpProfileName(entry.suite)) {
        errors.push(`${file}: suite ${entry.suite} is not supported by the analyser`);
        continue;
      }
      const dedupe = `${entry.suite}/${entry.keySalt}`;
      const existing = byKey.get(dedupe);
      if (existing && (existing.entry.dir === 'tx' || entry.dir === 'rx')) continue;
      try {
        const { masterKey, masterSalt } = splitKeySalt(entry.suite, Buffer.from(entry.keySalt, 'base64'));
        byKey.set(dedupe, {
          id: `${entry.owner}/${entry.dir}/${entry.callId.slice(0, 8)}`,
          entry,
          verifier: new SrtpVerifier(entry.suite, masterKey, masterSalt),
        });
      } catch (e) {
        errors.push(`${file}: ${(e as Error).message}`);
      }
    }
  }
  return { keys: [...byKey.values()], errors };
}
