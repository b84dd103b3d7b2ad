/**
 * Who may resolve a ticket: the KMS's authorisation step of the Ticket
 * Resolve exchange (RFC 6043 sec. 4.3.2: "the KMS ... checks that the
 * Responder is authorized to receive the keys"), for the three resolution
 * policies of this testbed (mikey's `ResolutionPolicy`) and TR 33.828 4.1.1
 * (forking to several devices; forwarding, e.g. to an assistant; security
 * "only for the designated user and terminal" vs "for any answering party").
 * Pure: identities in, decision out.
 */
import { identityToString, type MikeyIdentity, type ResolutionPolicy } from '@imslab/mikey';
import { MAX_FORWARDING_HOPS, describePath, userKey, type DeviceEntry, type SubscriberDirectory } from './subscriber-directory.ts';

/** What the policy looks at in a ticket. */
export interface TicketParties {
  initiator: MikeyIdentity;
  responder: MikeyIdentity;
  policy: ResolutionPolicy;
}

/** The outcome: allowed (with how, for the audit) or refused with a code and a reason. */
export type ResolutionDecision = { allowed: true; how: string } | { allowed: false; code: string; reason: string };

/**
 * Decides whether the authenticated device `resolver` may obtain the keys
 * of a ticket:
 * - nobody of the initiator's user: the initiator already holds the keys
 *   from its REQUEST_RESP; a resolve by it has no purpose and is refused;
 * - 'designated-device': only the device IDRr names (its NAI);
 * - 'any-device-of-user': any device of IDRr's user (forking, RFC 6043 sec. 1
 *   and TR 33.828 4.1.1);
 * - 'group': nobody (members get the group key by requesting their own ticket);
 * - 'retargeting': any device of IDRr's user, or of a user IDRr's forwarding
 *   rules (unconditional, no answer, busy) lead to within
 *   {@link MAX_FORWARDING_HOPS} hops.
 */
export function decideResolution(dir: SubscriberDirectory, t: TicketParties, resolver: DeviceEntry): ResolutionDecision {
  const who = `${resolver.user.uri} (device ${resolver.nai})`;
  const intended = identityToString(t.responder);
  const refuse = (code: string, why: string): ResolutionDecision => ({ allowed: false, code, reason: `ticket for ${intended} (policy ${t.policy}) not resolvable by ${who}: ${why}` });
  if (t.policy === 'group') return refuse('group-key-not-resolvable', 'a group key goes to each member on its own ticket request; no one resolves a group ticket (a conference bridge in particular)');
  const initiatorKey = dir.userOf(t.initiator)?.key ?? userKey(t.initiator);
  if (initiatorKey === resolver.user.key) return refuse('initiator-cannot-resolve', `${identityToString(t.initiator)} is the ticket's initiator, which already holds the keys`);
  const target = dir.userOf(t.responder);
  if (!target) return refuse('unknown-responder', `${intended} is not a subscriber of this KMS`);
  switch (t.policy) {
    case 'designated-device': {
      const dev = dir.deviceByPskId(t.responder);
      if (!dev) return refuse('not-designated-device', `the ticket designates no device (IDRr must be a device NAI such as ${target.devices[0]?.nai ?? 'bob-1@ims.test'})`);
      if (dev !== resolver) return refuse('not-designated-device', `only device ${dev.nai} may resolve it`);
      return { allowed: true, how: 'designated device' };
    }
    case 'any-device-of-user':
      if (target !== resolver.user) return refuse('not-a-device-of-user', `not a device of ${target.uri}`);
      return { allowed: true, how: `device of ${target.uri}` };
    case 'retargeting': {
      if (target === resolver.user) return { allowed: true, how: `device of ${target.uri}` };
      const path = dir.forwardingPath(target, resolver.user);
      if (!path) return refuse('not-a-forwarding-target', `no forwarding rule of ${target.uri} leads to ${resolver.user.uri} within ${MAX_FORWARDING_HOPS} hops`);
      return { allowed: true, how: `forwarded ${describePath(path)}` };
    }
    default:
      return refuse('unknown-policy', `unknown resolution policy ${String(t.policy)}`);
  }
}

/**
 * Deferred delivery (TR 33.828 4.1.2): a message stored by a voicemail is
 * opened later by its intended receiver. Only the intended user's own
 * devices may resolve it ('designated-device': that device only), whatever
 * forwarding the live call allowed: the store itself, or anyone who can
 * read the mailbox, never obtains the key. The keys are the ticket's own
 * (not forked: the initiator never learns a RANDRkms).
 */
export function decideDeferredResolution(dir: SubscriberDirectory, t: TicketParties, resolver: DeviceEntry): ResolutionDecision {
  const narrowed: TicketParties = { ...t, policy: t.policy === 'designated-device' || t.policy === 'group' ? t.policy : 'any-device-of-user' };
  const d = decideResolution(dir, narrowed, resolver);
  if (!d.allowed) return { ...d, reason: `deferred delivery: ${d.reason}` };
  return { allowed: true, how: `deferred delivery to ${identityToString(t.responder)} (${d.how})` };
}
