/**
 * SRTP key log: one JSON object per line, written by every element that holds
 * an SRTP master key (UEs, later the conference bridge). It is the SRTP
 * counterpart of SSLKEYLOGFILE: the analyser tries these keys on captured
 * packets to attribute each SRTP flow to a key, and a key that authenticates
 * packets on two links proves one cryptographic context across them.
 */
export interface SrtpKeyLogEntry {
  kind: 'srtp';
  /** Element that logged the key, e.g. `alice` or `bob-1`. */
  owner: string;
  callId: string;
  /** `tx`: the owner protects with this key; `rx`: the owner verifies with it (the peer's key). */
  dir: 'tx' | 'rx';
  /** SDES crypto-suite name (RFC 4568 sec. 6.2, RFC 7714 sec. 14.1). */
  suite: string;
  /** Master key followed by master salt, base64, exactly as in `a=crypto ... inline:`. */
  keySalt: string;
  /** SSRC the key protects, when known (SDES does not bind an SSRC). */
  ssrc?: number | undefined;
  /** How the key was agreed: `sdes`, `mikey-ticket`, `mikey-sakke`. */
  keyMgmt: string;
  /** The SRTP MKI every packet under this key carries, hex (RFC 3711 sec. 3.1; MIKEY-SAKKE group keys: GMK-ID || GUK-ID). */
  mki?: string;
  /**
   * `floor-control`: the key protects only SRTCP floor control between a PoC
   * member and the server (its client-server key), never media; checks about
   * who could decrypt the media leave it out. Absent: a media key.
   */
  purpose?: 'floor-control';
  at: string;
}

export function formatKeyLogEntry(entry: SrtpKeyLogEntry): string {
  return JSON.stringify(entry) + '\n';
}

/** Parses a key log; malformed lines are reported with their number, never thrown away silently. */
export function parseKeyLog(text: string): { entries: SrtpKeyLogEntry[]; errors: string[] } {
  const entries: SrtpKeyLogEntry[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as Partial<SrtpKeyLogEntry>;
      if (v.kind !== 'srtp' || typeof v.keySalt !== 'string' || typeof v.suite !== 'string' || typeof v.owner !== 'string') {
        errors.push(`line ${i + 1}: not an SRTP key log entry (needs kind "srtp", owner, suite, keySalt)`);
        return;
      }
      if (v.mki !== undefined && (typeof v.mki !== 'string' || !/^(?:[0-9a-f]{2}){1,128}$/i.test(v.mki))) {
        errors.push(`line ${i + 1}: mki must be 1 to 128 octets in hex, got ${JSON.stringify(v.mki)}`);
        return;
      }
      if (v.purpose !== undefined && v.purpose !== 'floor-control') {
        errors.push(`line ${i + 1}: purpose must be "floor-control" or absent, got ${JSON.stringify(v.purpose)}`);
        return;
      }
      entries.push(v as SrtpKeyLogEntry);
    } catch (e) {
      errors.push(`line ${i + 1}: not JSON (${(e as Error).message})`);
    }
  });
  return { entries, errors };
}
