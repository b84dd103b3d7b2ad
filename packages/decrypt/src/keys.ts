/**
 * The SRTP master keys a capture is decrypted with, from wherever they were
 * found: the elements' SRTP key logs (@imslab/probe format) and SDES
 * `a=crypto` attributes read in the signalling (RFC 4568), plaintext or
 * inside TLS. Keys are checked and turned into stateless verifiers once;
 * a key that cannot be used is reported, never thrown, because signalled
 * keys come off the wire and may be anything.
 */
import { readFile } from 'node:fs/promises';
import { parseKeyLog } from '@imslab/probe';
import { isSrtpProfileName, parseCryptoAttribute, sessionParamsToOptions, splitKeySalt, SrtpVerifier, type SrtpProfileName } from '@imslab/srtp';

/** One SRTP master key to try on the capture's packets. */
export interface DecryptKey {
  /** Its name in reports, e.g. `alice/tx/3f2a9c1b` (a key log) or `sdp@core/AbCdEf` (seen in SDP). */
  id: string;
  /** SDES crypto-suite name (RFC 4568 sec 6.2, RFC 6188 sec 6, RFC 7714 sec 14.1), e.g. `AES_CM_128_HMAC_SHA1_80`. */
  suite: string;
  /** Master key || master salt: base64 as in `inline:` and the key logs, or the bytes. */
  keySalt: string | Uint8Array;
  /** Octets of MKI every packet carries (RFC 3711 sec 3.1; RFC 7714 sec 8, 9); default 0. */
  mkiLength?: number;
  /** SDES UNENCRYPTED_SRTP (RFC 4568 sec 6.3.2): payloads authenticated but not encrypted. */
  unencryptedSrtp?: boolean;
}

/** A usable key: its verifier (session keys derived once, kdr 0) and its place in the try order. */
export interface PreparedKey {
  index: number;
  id: string;
  suite: SrtpProfileName;
  verifier: SrtpVerifier;
}

/** Keys read or prepared, and why others were left out. */
export interface KeyList<K> {
  keys: K[];
  problems: string[];
}

/**
 * Checks the keys and derives their session keys. The same key listed twice
 * (same suite, key||salt, MKI length and mode: e.g. logged by both ends, or
 * logged and also seen in SDP) is kept once, under its first id.
 */
export function prepareKeys(keys: readonly DecryptKey[]): KeyList<PreparedKey> {
  const out: PreparedKey[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    if (!isSrtpProfileName(k.suite)) {
      problems.push(`key ${k.id}: crypto-suite ${k.suite} is not one this decrypter implements`);
      continue;
    }
    const bytes = typeof k.keySalt === 'string' ? Buffer.from(k.keySalt, 'base64') : Buffer.from(k.keySalt);
    const mkiLength = k.mkiLength ?? 0;
    const dedupe = `${k.suite}/${bytes.toString('hex')}/${mkiLength}/${k.unencryptedSrtp ? 'u' : 'e'}`;
    if (seen.has(dedupe)) continue;
    try {
      const { masterKey, masterSalt } = splitKeySalt(k.suite, bytes);
      const verifier = new SrtpVerifier(k.suite, masterKey, masterSalt, { mkiLength, unencryptedSrtp: k.unencryptedSrtp ?? false });
      out.push({ index: out.length, id: k.id, suite: k.suite, verifier });
      seen.add(dedupe);
    } catch (err) {
      problems.push(`key ${k.id}: ${(err as Error).message}`);
    }
  }
  return { keys: out, problems };
}

/**
 * Keys from SRTP key log files (`keys/<ue>.srtp-keys.jsonl`, @imslab/probe's
 * format), named `<owner>/<dir>/<first 8 of the Call-ID>` as the analysis
 * names them. A key both ends logged is listed once, under the sender's
 * (`tx`) name; a later key of the same owner, direction and call is `#2`,
 * `#3` (a re-key). An entry's `mki` (hex: MIKEY-SAKKE group keys put one in
 * every packet) sets the MKI length.
 */
export async function keysFromKeyLogs(files: readonly string[]): Promise<KeyList<DecryptKey>> {
  const byKey = new Map<string, { key: DecryptKey; tx: boolean }>();
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const uniqueId = (base: string): string => {
    const n = (ids.get(base) ?? 0) + 1;
    ids.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  };
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    const { entries, errors } = parseKeyLog(text);
    problems.push(...errors.map((e) => `${file}: ${e}`));
    for (const e of entries) {
      const mkiLength = e.mki ? e.mki.length / 2 : undefined;
      const dedupe = `${e.suite}/${e.keySalt}/${mkiLength ?? 0}`;
      const had = byKey.get(dedupe);
      if (had && (had.tx || e.dir !== 'tx')) continue;
      const key: DecryptKey = { id: uniqueId(`${e.owner}/${e.dir}/${e.callId.slice(0, 8)}`), suite: e.suite, keySalt: e.keySalt, ...(mkiLength !== undefined ? { mkiLength } : {}) };
      byKey.set(dedupe, { key, tx: e.dir === 'tx' });
    }
  }
  return { keys: [...byKey.values()].map((v) => v.key), problems };
}

/**
 * Keys from SDES `a=crypto` attribute values seen in signalling, each with
 * where it was seen (`source`, e.g. the link). The value may start with
 * `a=crypto:`, `crypto:` or directly with the tag. Every key parameter
 * becomes a key with its MKI length (RFC 4568 sec 6.1) and the
 * UNENCRYPTED_SRTP session parameter (sec 6.3.2); named
 * `sdp@<source>/<first 6 base64 characters>` as the analysis names
 * signalled keys. Keys with a key derivation rate other than 0 are
 * reported (the verifier derives session keys once, RFC 3711 sec 4.3.1).
 */
export function keysFromCryptoAttributes(attributes: ReadonlyArray<{ source: string; attribute: string }>): KeyList<DecryptKey> {
  const keys: DecryptKey[] = [];
  const problems: string[] = [];
  for (const { source, attribute } of attributes) {
    try {
      const a = parseCryptoAttribute(attribute.trim().replace(/^(?:a=)?crypto:/, ''));
      const params = sessionParamsToOptions(a.sessionParams);
      if (params.kdr !== undefined && params.kdr !== 0) {
        problems.push(`${source}: a=crypto:${a.tag} uses KDR (RFC 4568 sec 6.3.1); only a key derivation rate of 0 is supported`);
        continue;
      }
      for (const kp of a.keyParams) {
        const b64 = kp.keySalt.toString('base64');
        keys.push({
          id: `sdp@${source}/${b64.slice(0, 6)}`, suite: a.suite, keySalt: b64,
          ...(kp.mki ? { mkiLength: kp.mki.length } : {}), ...(params.unencryptedSrtp ? { unencryptedSrtp: true } : {}),
        });
      }
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}`);
    }
  }
  return { keys, problems };
}
