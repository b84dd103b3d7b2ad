/**
 * Group Master Keys as TS 33.180 uses them for MCPTT group calls: the GMK
 * travels as the SAKKE SSV of a MIKEY-SAKKE I_MESSAGE, its 32-bit GMK-ID is
 * hidden per receiver as the GUK-ID in the HDR CSB ID, and the SRTP master
 * key and salt derive from the GMK with the RFC 3830 sec. 4.1.3 key
 * derivation (GMK as TGK, the sender's GUK-ID as CSB ID, the GMK's RAND)
 * under PRF-HMAC-SHA-256 (RFC 6043 sec. 6.1), TS 33.180 clause 7.4.2. The
 * MKI of each SRTP packet names the key: GMK-ID || the sender's GUK-ID, so
 * a listener holding the GMK derives the talker's SRTP key from the packet
 * alone, and every sender of a group has keys of its own (no two senders
 * share a keystream even with the same SSRC).
 *
 * For every member to derive a talker's key, the RAND must be the GMK's, not
 * the I_MESSAGE's: the group management server sends the same RAND in every
 * member's I_MESSAGE of one GMK (services/kms gms.ts does).
 *
 * Taken from TS 33.180 as far as could be checked here: clause 7.4.2 (GMK
 * as TGK, GUK-ID as CSB ID, RAND, RFC 3830 KDF with PRF-HMAC-SHA-256) and
 * E.2 (CSB ID = GUK-ID). Not checked against the spec text and marked so:
 * the GUK-ID KDF parameters (FC = 0x50, P0 = the receiver's user ID, the
 * TS 33.220 Annex B KDF), the 64-bit MKI layout, and the CS ID of a group
 * call ({@link GMK_CS_ID}).
 */
import { createHmac } from 'node:crypto';
import { bytesEqual, concat, u32be } from './bytes.ts';
import { MikeySakkeError } from './errors.ts';
import { deriveSrtpFromTgk, type SrtpMasterKeys } from './key-derivation.ts';

/** Purpose tag of a GMK-ID (its 4 most significant bits): 0 = group communication (TS 33.180 clause 5.2.2). */
export const GMK_PURPOSE_TAG = 0;
/** CS ID used in the TEK derivation for a group call (assumed, see the file comment). */
export const GMK_CS_ID = 0;
/** FC of the TS 33.220 Annex B KDF that hides the GMK-ID (assumed, see the file comment). */
export const GUK_ID_FC = 0x50;
/** Octets of the SRTP MKI: GMK-ID || GUK-ID. */
export const GMK_MKI_LENGTH = 8;

/** The purpose tag of a 32-bit key identifier. */
export function purposeTag(keyId: number): number {
  return keyId >>> 28;
}

/**
 * GUK-ID = GMK-ID XOR the 28 least significant bits of
 * KDF(GMK, FC || P0 || L0) with P0 the receiver's user ID (its URI): each
 * member sees a different CSB ID, and only a member holding the GMK can map
 * it back to the GMK-ID. The purpose tag bits pass through unchanged.
 */
export function gukIdOf(gmk: Uint8Array, gmkId: number, userUri: string): number {
  const p0 = new TextEncoder().encode(userUri);
  const s = concat(new Uint8Array([GUK_ID_FC]), p0, new Uint8Array([p0.length >>> 8, p0.length & 0xff]));
  const d = createHmac('sha256', gmk).update(s).digest();
  return (gmkId ^ (d.readUInt32BE(28) & 0x0fffffff)) >>> 0;
}

/** The inverse of {@link gukIdOf}: the XOR mask is its own inverse. */
export function gmkIdOf(gmk: Uint8Array, gukId: number, userUri: string): number {
  return gukIdOf(gmk, gukId, userUri);
}

/** SRTP keys of one member for one GMK. */
export interface GmkSrtpKeys extends SrtpMasterKeys {
  /** GMK-ID || GUK-ID, to be sent as the SRTP MKI. */
  mki: Uint8Array;
}

/** The SRTP master key and salt and the MKI of a member's GMK context (TS 33.180 clause 7.4.2). */
export function gmkSrtpKeys(o: { gmk: Uint8Array; gmkId: number; gukId: number; rand: Uint8Array; keyLength?: number; saltLength?: number }): GmkSrtpKeys {
  const k = deriveSrtpFromTgk(o.gmk, { csId: GMK_CS_ID, csbId: o.gukId, rand: o.rand, tekLength: o.keyLength, saltLength: o.saltLength, hash: 'sha256' });
  return { ...k, mki: concat(u32be(o.gmkId), u32be(o.gukId)) };
}

/** A GMK as a member holds it after receiving it. */
export interface HeldGmk {
  gmk: Uint8Array;
  gmkId: number;
  gukId: number;
  rand: Uint8Array;
  /** Group the key belongs to, when the caller knows it. */
  group?: string;
}

/**
 * A member's GMKs by GMK-ID: SRTP packets name their key by MKI, and a
 * packet naming a GMK-ID this member never received is refused with
 * `unknown-gmk-id` (never decrypted under some other key).
 */
export class GmkStore {
  private readonly byId = new Map<number, HeldGmk>();

  /** Adds (or replaces, on re-keying with the same GMK-ID) a key. */
  put(k: HeldGmk): void {
    if (purposeTag(k.gmkId) !== GMK_PURPOSE_TAG) throw new MikeySakkeError('unknown-gmk-id', `GMK-ID 0x${k.gmkId.toString(16)} has purpose tag ${purposeTag(k.gmkId)}, not ${GMK_PURPOSE_TAG} (group)`);
    this.byId.set(k.gmkId, k);
  }

  /** Removes a key (e.g. when the group re-keys after a member left). */
  delete(gmkId: number): boolean {
    return this.byId.delete(gmkId);
  }

  /** The key of a GMK-ID; throws `unknown-gmk-id` listing the known ones. */
  get(gmkId: number): HeldGmk {
    const k = this.byId.get(gmkId);
    if (k === undefined) throw new MikeySakkeError('unknown-gmk-id', `no GMK with GMK-ID 0x${(gmkId >>> 0).toString(16).padStart(8, '0')} (known: ${[...this.byId.keys()].map((x) => `0x${x.toString(16).padStart(8, '0')}`).join(', ') || 'none'})`);
    return k;
  }

  /**
   * SRTP keys of the sender of a packet, from its MKI (GMK-ID || the
   * sender's GUK-ID). With `senders` (the group's member URIs), a GUK-ID that
   * is no member's under this GMK is refused, and the sender is named.
   */
  keysForMki(mki: Uint8Array, o: { keyLength?: number; saltLength?: number; senders?: readonly string[] } = {}): GmkSrtpKeys & { sender?: string } {
    if (!(mki instanceof Uint8Array) || mki.length !== GMK_MKI_LENGTH) throw new MikeySakkeError('unknown-gmk-id', `an MKI of ${GMK_MKI_LENGTH} octets (GMK-ID || GUK-ID) is expected`);
    const view = new DataView(mki.buffer, mki.byteOffset, mki.byteLength);
    const k = this.get(view.getUint32(0));
    const gukId = view.getUint32(4);
    let sender: string | undefined;
    if (o.senders !== undefined) {
      sender = o.senders.find((u) => gukIdOf(k.gmk, k.gmkId, u) === gukId);
      if (sender === undefined) throw new MikeySakkeError('unknown-gmk-id', `GUK-ID 0x${gukId.toString(16).padStart(8, '0')} is no member's under GMK-ID 0x${k.gmkId.toString(16).padStart(8, '0')}`);
    }
    const keys = gmkSrtpKeys({ gmk: k.gmk, gmkId: k.gmkId, gukId, rand: k.rand, keyLength: o.keyLength, saltLength: o.saltLength });
    if (!bytesEqual(keys.mki, mki)) throw new MikeySakkeError('unknown-gmk-id', 'the MKI does not name the GMK held for its GMK-ID');
    return sender === undefined ? keys : { ...keys, sender };
  }

  /** GMK-IDs held, oldest first. */
  ids(): number[] {
    return [...this.byId.keys()];
  }

  /** Number of keys held. */
  get size(): number {
    return this.byId.size;
  }
}
