/**
 * Receiving SRTP whose packets name their key by MKI (RFC 3711 sec. 3.1:
 * the MKI sits between the encrypted portion and the tag). One context per
 * MKI, made when the MKI is first seen and its key is known; an MKI naming no
 * key we hold is `unknown-key`, and nothing of that packet is decrypted.
 */
import { SRTP_PROFILES, SrtpContext, type UnprotectResult } from '@imslab/srtp';
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

export class MkiReceiver {
  private readonly contexts = new Map<string, Entry | null>();

  constructor(
    private readonly source: MkiKeySource,
    /** Called once per key, with the SSRC of its first authentic packet. */
    private readonly onNewKey: (key: SrtpKey, ssrc: number) => void,
  ) {}

  unprotect(packet: Buffer): MkiUnprotectResult {
    // All group keys share one suite (the GMS's SP payload): its tag length places the MKI.
    const tagLength = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80.authTagLength;
    const end = packet.length - tagLength;
    const start = end - this.source.mkiLength;
    if (start < 12) return { ok: false, reason: 'too-short' };
    const id = packet.toString('hex', start, end);
    let e = this.contexts.get(id);
    if (e === undefined) {
      if (this.contexts.size >= MAX_CONTEXTS) return { ok: false, reason: 'unknown-key' };
      const key = this.source.keyFor(packet.subarray(start, end));
      e = key ? { ctx: new SrtpContext(contextOptions(key)), key, reported: false } : null;
      // Unknown MKIs are remembered too (as null) so a flood of one costs one look-up.
      this.contexts.set(id, e);
    }
    if (e === null) return { ok: false, reason: 'unknown-key' };
    const r = e.ctx.unprotectRtp(packet);
    if (r.ok && !e.reported) {
      e.reported = true;
      this.onNewKey(e.key, packet.readUInt32BE(8));
    }
    return r;
  }

  /** Forgets remembered unknown MKIs: a key for them may have arrived (re-keying). */
  retryUnknown(): void {
    for (const [id, e] of this.contexts) if (e === null) this.contexts.delete(id);
  }
}
