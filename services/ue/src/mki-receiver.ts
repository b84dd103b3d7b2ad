/**
 * Receiving SRTP whose packets name their key by MKI (RFC 3711 sec. 3.1:
 * the MKI sits between the encrypted portion and the tag; RFC 7714 sec. 9.1
 * for AES-GCM: the tag is part of the AEAD output, so the MKI ends the
 * packet). One context per MKI, made when the MKI is first seen and its key
 * is known; an MKI naming no key we hold is `unknown-key`, and nothing of
 * that packet is decrypted.
 */
import { SRTP_PROFILES, SrtpContext, type SrtpProfileName, type UnprotectResult } from '@imslab/srtp';
import { contextOptions, type MkiKeySource, type SrtpKey } from './media-security.ts';

/** More MKIs than a group has senders and epochs: beyond this, new ones are refused rather than grow memory. */
const MAX_CONTEXTS = 256;

export type MkiUnprotectResult = UnprotectResult | { ok: false; reason: 'unknown-key' };

interface Entry {
  ctx: SrtpContext;
  key: SrtpKey;
  /** Reported to onNewKey (after its first authentic packet). */
  reported: boolean;
}

/**
 * Octets after the MKI in an SRTP packet of `suite`: the authentication tag
 * for the HMAC-SHA1 suites (10 or 4, from the suite table); none for AEAD,
 * whose tag is inside the ciphertext that precedes the MKI (as
 * SrtpContext.unprotectRtp reads it).
 */
export function octetsAfterMki(suite: SrtpProfileName): number {
  const p = SRTP_PROFILES[suite];
  return p.aead ? 0 : p.authTagLength;
}

/** The distinct MKI placements of the implemented suites, for a receiver told no suite. */
const ALL_PLACEMENTS: readonly number[] = [...new Set((Object.keys(SRTP_PROFILES) as SrtpProfileName[]).map(octetsAfterMki))];

export class MkiReceiver {
  private readonly contexts = new Map<string, Entry | null>();
  /** Where to look for the MKI: octets after it, one per suite placement tried. */
  private readonly placements: readonly number[];

  constructor(
    private readonly source: MkiKeySource,
    /** Called once per key, with the SSRC of its first authentic packet. */
    private readonly onNewKey: (key: SrtpKey, ssrc: number) => void,
    /**
     * The suite of the source's keys (all keys of a group share the one of
     * the GMS's SP payload): it places the MKI. Without it, each placement of
     * the implemented suites is tried and a key counts only where its own
     * suite puts the MKI.
     */
    suite?: SrtpProfileName,
  ) {
    this.placements = suite ? [octetsAfterMki(suite)] : ALL_PLACEMENTS;
  }

  unprotect(packet: Buffer): MkiUnprotectResult {
    let tooShort = true;
    let e: Entry | null | undefined;
    for (const after of this.placements) {
      const end = packet.length - after;
      const start = end - this.source.mkiLength;
      if (start < 12) continue;
      tooShort = false;
      e = this.entry(packet, start, end, after);
      if (e) break;
    }
    if (tooShort) return { ok: false, reason: 'too-short' };
    if (!e) return { ok: false, reason: 'unknown-key' };
    const r = e.ctx.unprotectRtp(packet);
    if (r.ok && !e.reported) {
      e.reported = true;
      this.onNewKey(e.key, packet.readUInt32BE(8));
    }
    return r;
  }

  /** The context of the MKI at [start, end), null when it names no key we hold (or none whose suite places its MKI there). */
  private entry(packet: Buffer, start: number, end: number, after: number): Entry | null {
    const id = this.placements.length === 1 ? packet.toString('hex', start, end) : `${after}/${packet.toString('hex', start, end)}`;
    let e = this.contexts.get(id);
    if (e === undefined) {
      if (this.contexts.size >= MAX_CONTEXTS) return null;
      const key = this.source.keyFor(packet.subarray(start, end));
      // A key of another suite would have its MKI elsewhere: this is not its MKI.
      e = key && octetsAfterMki(key.suite) === after ? { ctx: new SrtpContext(contextOptions(key, true)), key, reported: false } : null;
      // Unknown MKIs are remembered too (as null) so a flood of one costs one look-up.
      this.contexts.set(id, e);
    }
    return e;
  }

  /** Forgets remembered unknown MKIs: a key for them may have arrived (re-keying). */
  retryUnknown(): void {
    for (const [id, e] of this.contexts) if (e === null) this.contexts.delete(id);
  }
}
