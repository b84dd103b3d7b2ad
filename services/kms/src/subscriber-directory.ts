/**
 * Who is who at the KMS: users by public identity, devices by the NAI that
 * names their pre-shared key (IDRpsk), and where a user's calls are
 * forwarded. TS 33.328 leaves the KMS's user database to the operator; here
 * it comes from the subscriber file through the topology.
 */
import { IdType, defaultUserOf, naiIdentity, uriIdentity, type MikeyIdentity } from '@imslab/mikey';
import type { ForwardingRules, UserConfig } from './config.ts';

/** A device: its name, IDRpsk NAI, secret and user. */
export interface DeviceEntry {
  name: string;
  /** `<name>@<domain>`, the IDRpsk of this device. */
  nai: string;
  secret: Uint8Array;
  user: UserEntry;
}

/** A user: public identity, devices, forwarding rules. */
export interface UserEntry {
  uri: string;
  /** Comparison key (`bob@ims.test`), see {@link userKey}. */
  key: string;
  devices: DeviceEntry[];
  forwarding: ForwardingRules;
}

/** One step of a forwarding chain. */
export interface ForwardingHop {
  from: string;
  to: string;
  rule: 'unconditional' | 'noAnswer' | 'busy';
}

/** Longest forwarding chain followed for 'retargeting' tickets (TR 33.828 4.1.1: forwarded calls). */
export const MAX_FORWARDING_HOPS = 3;

/**
 * Comparison key of a SIP/SIPS URI or NAI: `user@host`, host lower-cased,
 * without scheme and URI parameters (mikey's {@link defaultUserOf}, which the
 * 'any-device-of-user' policy of RFC 6043-based tickets is defined with).
 */
export function userKey(id: MikeyIdentity): string {
  return defaultUserOf(id);
}

/** Users, devices and forwarding rules, with look-ups by identity. */
export class SubscriberDirectory {
  private readonly usersByKey = new Map<string, UserEntry>();
  private readonly devicesByKey = new Map<string, DeviceEntry>();

  constructor(users: readonly UserConfig[], readonly domain: string) {
    for (const u of users) {
      const entry: UserEntry = { uri: u.uri, key: userKey(uriIdentity(u.uri)), devices: [], forwarding: u.forwarding };
      for (const d of u.devices) {
        const nai = `${d.name}@${domain}`;
        const dev: DeviceEntry = { name: d.name, nai, secret: d.secret, user: entry };
        entry.devices.push(dev);
        this.devicesByKey.set(userKey(naiIdentity(nai)), dev);
      }
      this.usersByKey.set(entry.key, entry);
    }
  }

  /** Every user. */
  get users(): UserEntry[] {
    return [...this.usersByKey.values()];
  }

  /** The device an IDRpsk names (an NAI `<device>@<domain>`), or undefined. */
  deviceByPskId(id: MikeyIdentity): DeviceEntry | undefined {
    if (id.idType !== IdType.NAI) return undefined;
    return this.devicesByKey.get(userKey(id));
  }

  /** The user of a SIP URI. */
  userByUri(uri: string): UserEntry | undefined {
    return this.usersByKey.get(userKey(uriIdentity(uri)));
  }

  /**
   * The user an identity stands for: a URI names the user itself, an NAI one
   * of the user's devices. Byte-string identities name nobody here.
   */
  userOf(id: MikeyIdentity): UserEntry | undefined {
    if (id.idType === IdType.URI) return this.usersByKey.get(userKey(id));
    if (id.idType === IdType.NAI) return this.devicesByKey.get(userKey(id))?.user;
    return undefined;
  }

  /**
   * The forwarding chain from `from` to `to` over the unconditional, no-answer
   * and busy rules, at most {@link MAX_FORWARDING_HOPS} hops, shortest first;
   * undefined when none leads there. Loops (bob → carol → bob) end the walk.
   */
  forwardingPath(from: UserEntry, to: UserEntry, maxHops = MAX_FORWARDING_HOPS): ForwardingHop[] | undefined {
    let frontier: Array<{ user: UserEntry; path: ForwardingHop[] }> = [{ user: from, path: [] }];
    const seen = new Set([from.key]);
    for (let hop = 0; hop < maxHops; hop++) {
      const next: typeof frontier = [];
      for (const { user, path } of frontier) {
        for (const [rule, target] of forwardingTargets(user.forwarding)) {
          const t = this.userByUri(target);
          if (!t || seen.has(t.key)) continue;
          const p = [...path, { from: user.uri, to: t.uri, rule }];
          if (t.key === to.key) return p;
          seen.add(t.key);
          next.push({ user: t, path: p });
        }
      }
      frontier = next;
    }
    return undefined;
  }
}

function forwardingTargets(f: ForwardingRules): Array<[ForwardingHop['rule'], string]> {
  const out: Array<[ForwardingHop['rule'], string]> = [];
  if (f.unconditional) out.push(['unconditional', f.unconditional]);
  if (f.noAnswer) out.push(['noAnswer', f.noAnswer.to]);
  if (f.busy) out.push(['busy', f.busy]);
  return out;
}

/** `sip:bob@ims.test -(noAnswer)-> sip:carol@ims.test`, for audit reasons. */
export function describePath(path: readonly ForwardingHop[]): string {
  return path.map((h, i) => `${i === 0 ? h.from : ''} -(${h.rule})-> ${h.to}`).join('');
}
