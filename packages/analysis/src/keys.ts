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
 * Keys nobody logged but anyone on a link could read: SDES keys in plaintext
 * SIP. Added to the ring so media under them is attributed (and the element
 * that chose them named) instead of staying "encrypted under an unknown key".
 */
export function addSignalledKeys(ring: KeyRing, offers: Array<{ link: string; suite: string; keySalt: string }>): number {
  const known = new Set(ring.keys.map((k) => k.entry.keySalt));
  let added = 0;
  for (const o of offers) {
    if (known.has(o.keySalt) || !isSrtpProfileName(o.suite)) continue;
    try {
      const { masterKey, masterSalt } = splitKeySalt(o.suite, Buffer.from(o.keySalt, 'base64'));
      const id = `sdp@${o.link}/${o.keySalt.slice(0, 6)}`;
      ring.keys.push({
        id,
        entry: { kind: 'srtp', owner: `sdp@${o.link}`, callId: '', dir: 'tx', suite: o.suite, keySalt: o.keySalt, keyMgmt: 'sdes-signalled', at: '' },
        verifier: new SrtpVerifier(o.suite, masterKey, masterSalt),
      });
      known.add(o.keySalt);
      added++;
    } catch {
      // A malformed key in someone's SDP is not ours to report here.
    }
  }
  return added;
}

/**
 * Loads every key log. The same master key logged by both ends (tx at one,
 * rx at the other) is one key: it keeps the sender's name.
 */
export function loadKeyRing(files: string[]): KeyRing {
  const byKey = new Map<string, LoggedKey>();
  // One call's owner and direction can log several keys (a re-INVITE, a group re-key): the later ones get #2, #3, ...
  const ids = new Map<string, number>();
  const uniqueId = (base: string): string => {
    const n = (ids.get(base) ?? 0) + 1;
    ids.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  };
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
      // A key logged for media and for floor control (an e2m2e PoC leg: one SDES pair keys both) is the media key.
      const upgrade = existing?.entry.purpose === 'floor-control' && entry.purpose !== 'floor-control';
      if (existing && !upgrade && (existing.entry.dir === 'tx' || entry.dir === 'rx')) continue;
      try {
        const { masterKey, masterSalt } = splitKeySalt(entry.suite, Buffer.from(entry.keySalt, 'base64'));
        byKey.set(dedupe, {
          // A floor control key is named as such: it must not pass for the call's media key.
          id: uniqueId(`${entry.owner}/${entry.purpose === 'floor-control' ? 'floor' : entry.dir}/${entry.callId.slice(0, 8)}`),
          entry,
          // Group keys (MIKEY-SAKKE) put an MKI before the tag: the verifier must know its length.
          verifier: new SrtpVerifier(entry.suite, masterKey, masterSalt, entry.mki ? { mkiLength: entry.mki.length / 2 } : {}),
        });
      } catch (e) {
        errors.push(`${file}: ${(e as Error).message}`);
      }
    }
  }
  return { keys: [...byKey.values()], errors };
}
