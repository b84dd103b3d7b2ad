/**
 * Session keys over time for one master key: with kdr = 0 one set of keys
 * for the whole session; with kdr > 0 new keys every kdr packets
 * (RFC 3711 sec. 4.3.1, r = index DIV kdr).
 */
import { SrtpConfigError } from './errors.ts';
import { deriveSessionKeys } from './kdf.ts';
import type { SrtpProfile } from './profiles.ts';
import { createTransform, type PacketTransform } from './transform.ts';

/** Largest key derivation rate, 2^24 (RFC 3711 sec. 4.3.1). */
export const MAX_KDR = 2 ** 24;

/** Checks a key derivation rate: 0 or a power of two up to 2^24 (RFC 3711 sec. 4.3.1). */
export function checkKdr(kdr: number): void {
  if (!Number.isInteger(kdr) || kdr < 0 || kdr > MAX_KDR || (kdr !== 0 && (kdr & (kdr - 1)) !== 0)) {
    throw new SrtpConfigError(`kdr must be 0 or a power of two from 1 to 2^24 (RFC 3711 sec. 4.3.1), got ${kdr}`);
  }
}

/** Hands out the transform for a packet index, deriving keys when `index DIV kdr` changes. */
export class KeySchedule {
  private readonly fixed: PacketTransform | null;
  /** Recently used key sets; a few, because reordered packets straddle kdr boundaries. */
  private readonly cache = new Map<number, PacketTransform>();

  constructor(
    private readonly profile: SrtpProfile,
    private readonly masterKey: Uint8Array,
    private readonly masterSalt: Uint8Array,
    private readonly rtcp: boolean,
    private readonly kdr: number,
  ) {
    this.fixed = kdr === 0 ? createTransform(profile, deriveSessionKeys(profile, masterKey, masterSalt, rtcp, 0), rtcp) : null;
  }

  /** Transform for the packet with this SRTP (48-bit) or SRTCP (31-bit) index. */
  at(index: number): PacketTransform {
    if (this.fixed) return this.fixed;
    const r = Math.floor(index / this.kdr);
    let t = this.cache.get(r);
    if (!t) {
      t = createTransform(this.profile, deriveSessionKeys(this.profile, this.masterKey, this.masterSalt, this.rtcp, r), this.rtcp);
      if (this.cache.size >= 4) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(r, t);
    }
    return t;
  }
}
