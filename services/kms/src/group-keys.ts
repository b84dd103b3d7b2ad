/**
 * Group keys with epochs: one key per group and epoch, a new epoch when a
 * member is removed (TR 33.828 4.1.3 and 4.2: a member who leaves must not
 * decrypt what the group says afterwards). Two keyings share this:
 *
 * - `ticket` (e2e conferences): the epoch's TGK goes to each member in a
 *   MIKEY-TICKET group ticket (ticket-issuer.ts);
 * - `sakke` (PoC groups): the epoch's GMK goes to each member in a
 *   MIKEY-SAKKE I_MESSAGE from the group management server (gms.ts).
 *
 * Keys derive from the KMS master key, the group URI and the epoch, so a KMS
 * restart hands out the same key for an epoch. Epochs and removals are held in
 * memory (a restart forgets removals: stated in the README).
 */
import { createHmac } from 'node:crypto';
import { KmsRefusal } from './errors.ts';

/** How a group's members get its key. */
export type GroupKeying = 'ticket' | 'sakke';

/** One group as configured and as it stands now. */
export interface GroupState {
  uri: string;
  keying: GroupKeying;
  /** Member URIs (lower case) as configured or added, without the removed ones. */
  members: Set<string>;
  /** Members removed since start, each one's removal having opened a new epoch. */
  removed: Set<string>;
  /** 0 at start, +1 per removal. */
  epoch: number;
}

/** A GMK as the group management server hands it out (TS 33.180 clause 5.2.2: 128-bit GMK, 32-bit GMK-ID with purpose tag 0). */
export interface EpochGmk {
  gmk: Uint8Array;
  gmkId: number;
  /** The GMK's RAND: the same in every member's I_MESSAGE, so every member derives a talker's SRTP key alike (see @imslab/mikey gmk.ts). */
  rand: Uint8Array;
  epoch: number;
}

/** The groups of one KMS and their current epochs. */
export class GroupKeys {
  private readonly groups = new Map<string, GroupState>();

  constructor(
    private readonly masterKey: Uint8Array,
    config: ReadonlyArray<{ uri: string; members: readonly string[]; keying?: GroupKeying }>,
  ) {
    for (const g of config) {
      this.groups.set(g.uri.toLowerCase(), { uri: g.uri.toLowerCase(), keying: g.keying ?? 'ticket', members: new Set(g.members.map((m) => m.toLowerCase())), removed: new Set(), epoch: 0 });
    }
  }

  /** The group of a URI, or undefined. */
  get(uri: string): GroupState | undefined {
    return this.groups.get(uri.toLowerCase());
  }

  get size(): number {
    return this.groups.size;
  }

  /** The group of `uri` keyed by `keying`; a 403 refusal naming what is wrong otherwise. */
  require(uri: string, keying: GroupKeying): GroupState {
    const g = this.get(uri);
    if (!g) throw new KmsRefusal(403, 'unknown-group', `${uri} is not a group with a group key at this KMS`);
    if (g.keying !== keying) {
      throw new KmsRefusal(403, 'wrong-keying', keying === 'sakke' ? `${uri} is keyed by MIKEY-TICKET group tickets, not by GMKs` : `${uri} is keyed by MIKEY-SAKKE GMKs from the group management server, not by group tickets`);
    }
    return g;
  }

  /** Refuses (403) unless `member` is a current member of `g`; a removed member is told so. */
  requireMember(g: GroupState, member: string): void {
    const m = member.toLowerCase();
    if (g.members.has(m)) return;
    if (g.removed.has(m)) throw new KmsRefusal(403, 'removed-member', `${member} was removed from ${g.uri} (epoch ${g.epoch} began then): no key of this or any later epoch`);
    throw new KmsRefusal(403, 'not-a-member', `${member} is not a member of ${g.uri}: no group key`);
  }

  /** The TGK of the group's current epoch (MIKEY-TICKET group tickets). */
  tgk(g: GroupState): Uint8Array {
    // Epoch 0 keeps the label of the key fixed per URI that came before epochs.
    const label = g.epoch === 0 ? `imslab group TGK\0${g.uri}` : `imslab group TGK\0${g.uri}\0epoch ${g.epoch}`;
    return new Uint8Array(this.mac(label));
  }

  /** The GMK of the group's current epoch (MIKEY-SAKKE). */
  gmk(g: GroupState): EpochGmk {
    const d = this.mac(`imslab GMK\0${g.uri}\0epoch ${g.epoch}`);
    const id = this.mac(`imslab GMK-ID\0${g.uri}\0epoch ${g.epoch}`).readUInt32BE(0);
    // Purpose tag 0 (group communication) in the 4 most significant bits.
    return { gmk: new Uint8Array(d.subarray(0, 16)), gmkId: id & 0x0fffffff, rand: new Uint8Array(d.subarray(16, 32)), epoch: g.epoch };
  }

  /** Removes a member and opens a new epoch; refuses (404/409) an unknown group or a non-member. */
  remove(uri: string, member: string): GroupState {
    const g = this.get(uri);
    if (!g) throw new KmsRefusal(404, 'unknown-group', `no group ${uri}; known: ${[...this.groups.keys()].join(', ') || 'none'}`);
    const m = member.toLowerCase();
    if (!g.members.has(m)) throw new KmsRefusal(409, 'not-a-member', `${member} is not a current member of ${g.uri}`);
    g.members.delete(m);
    g.removed.add(m);
    g.epoch++;
    return g;
  }

  /** Adds a member (to the current epoch: a joiner may read what the group says from now on). */
  add(uri: string, member: string): GroupState {
    const g = this.get(uri);
    if (!g) throw new KmsRefusal(404, 'unknown-group', `no group ${uri}; known: ${[...this.groups.keys()].join(', ') || 'none'}`);
    const m = member.toLowerCase();
    g.removed.delete(m);
    g.members.add(m);
    return g;
  }

  /** Every group for the status API. */
  list(): Array<{ uri: string; keying: GroupKeying; epoch: number; members: string[]; removed: string[]; gmkId?: string }> {
    return [...this.groups.values()].map((g) => ({
      uri: g.uri,
      keying: g.keying,
      epoch: g.epoch,
      members: [...g.members],
      removed: [...g.removed],
      ...(g.keying === 'sakke' ? { gmkId: `0x${this.gmk(g).gmkId.toString(16).padStart(8, '0')}` } : {}),
    }));
  }

  private mac(label: string): Buffer {
    return createHmac('sha256', this.masterKey).update(label).digest();
  }
}
