import { parseSipUri } from '@imslab/sip';
import type { MsrpUri } from '@imslab/msrp';
import type { ChatRoomEntry } from './config.ts';

/** `sip:user@host` of a URI, lower-case host, no port or parameters: how members are compared. */
export function identityOf(uri: string | null | undefined): string | null {
  const u = parseSipUri((uri ?? '').replace(/^<|>$/g, ''));
  if (!u || u.user === undefined) return null;
  return `sip:${u.user}@${u.host.toLowerCase()}`;
}

/** One complete message a participant sent (the body exactly as reassembled). */
export interface ChatMessage {
  messageId: string;
  contentType: string;
  body: Buffer;
}

/** One participation: a SIP dialog to a room and the MSRP session it set up. */
export interface Participant {
  /** Call-ID of the joining INVITE (one participation per dialog). */
  callId: string;
  /** Room user (chat-<group>). */
  room: string;
  identity: string;
  /** Our MSRP URI for this participant: the a=path of our answer; its session-id binds its frames. */
  localUri: MsrpUri;
  /** Where we send to: its a=path (relays first, then the participant). */
  toPath: MsrpUri[];
  joinedAt: string;
}

export type JoinCheck = { ok: true } | { ok: false; status: 403 | 404; reason: string };

/** What the rooms do with a message: keep it (the store) and hand it to each other participant (MSRP). */
export interface RoomOutlets {
  store(p: Participant, m: ChatMessage): void;
  deliver(to: Participant, from: Participant, m: ChatMessage): void;
}

/**
 * The rooms of the chat server (RFC 7701 style, TR 33.828 4.4): membership
 * comes from the IM groups of the subscriber file; a member joins with a SIP
 * dialog and leaves with its end. Every message a participant sends is
 * stored and handed to every OTHER participant of its room (a member joined
 * from two devices gets it on both; the sending dialog never gets it back).
 * No transport here: tests drive it with fakes.
 */
/** The chat factory's Request-URI user (RFC 7701 sec. 5: a conference-factory URI); rooms it makes are chat-adhoc-<n>. */
export const CHAT_FACTORY_USER = 'chat-factory';
export const ADHOC_PREFIX = 'chat-adhoc-';

export class Rooms {
  /** Room user -> member identities; null: an ad-hoc room, open to every user of `domain`. */
  private readonly members: Map<string, string[] | null>;
  private adhoc = 0;
  private readonly participants = new Map<string, Participant>();
  private readonly counts = new Map<string, number>();

  constructor(rooms: ChatRoomEntry[], private readonly out: RoomOutlets, private readonly domain = '') {
    this.members = new Map(rooms.map((r) => [r.user, r.members.map((m) => identityOf(m) ?? m)]));
    for (const r of rooms) this.counts.set(r.user, 0);
  }

  /** Whether `identity` may join room `room` (404: no such room, 403: not a member). The factory admits every user of our domain. */
  check(room: string, identity: string | null): JoinCheck {
    if (room === CHAT_FACTORY_USER) return this.ofDomain(identity) ? { ok: true } : { ok: false, status: 403, reason: `Forbidden (only users of ${this.domain} create chat rooms)` };
    const members = this.members.get(room);
    if (members === undefined) return { ok: false, status: 404, reason: 'Not Found (no such chat room)' };
    if (members === null) return this.ofDomain(identity) ? { ok: true } : { ok: false, status: 403, reason: `Forbidden (the room is open to users of ${this.domain} only)` };
    if (!identity || !members.includes(identity)) return { ok: false, status: 403, reason: 'Forbidden (not a member of the chat room)' };
    return { ok: true };
  }

  private ofDomain(identity: string | null): boolean {
    return identity !== null && this.domain !== '' && identity.endsWith(`@${this.domain.toLowerCase()}`);
  }

  /**
   * A new ad-hoc room (an INVITE to the factory, RFC 7701 sec. 5 with RFC
   * 4579's focus): chat-adhoc-<n>, open to every user of our domain, with no
   * participant yet (the creator joins it next). Its user, for the answer's
   * Contact.
   */
  createAdhoc(): string {
    const user = `${ADHOC_PREFIX}${++this.adhoc}`;
    this.members.set(user, null);
    this.counts.set(user, 0);
    return user;
  }

  /** Adds a participation; throws when the check refuses it (callers check first). */
  join(p: Participant): void {
    const c = this.check(p.room, p.identity);
    if (!c.ok) throw new Error(`${p.identity} may not join ${p.room}: ${c.status} ${c.reason}`);
    this.participants.set(p.callId, p);
  }

  /** Ends a participation; the participant, or undefined when there was none. An ad-hoc room ends with its last participant. */
  leave(callId: string): Participant | undefined {
    const p = this.participants.get(callId);
    this.participants.delete(callId);
    if (p && this.members.get(p.room) === null && this.in(p.room).length === 0) this.members.delete(p.room);
    return p;
  }

  get(callId: string): Participant | undefined {
    return this.participants.get(callId);
  }

  /** The participants of a room, in join order. */
  in(room: string): Participant[] {
    return [...this.participants.values()].filter((p) => p.room === room);
  }

  /**
   * A complete message from `from`: stored, then handed to every other
   * participant of its room. Returns those it was handed to. A participant
   * that left is ignored (a late message of a closed session).
   */
  received(from: Participant, m: ChatMessage): Participant[] {
    if (this.participants.get(from.callId) !== from) return [];
    this.counts.set(from.room, (this.counts.get(from.room) ?? 0) + 1);
    this.out.store(from, m);
    const others = this.in(from.room).filter((p) => p.callId !== from.callId);
    for (const to of others) this.out.deliver(to, from, m);
    return others;
  }

  /** Rooms with their members, participants and message counts. */
  list(): Array<{ user: string; members: string[]; participants: Participant[]; messages: number }> {
    return [...this.members].map(([user, members]) => ({ user, members: members ?? [`*@${this.domain}`], participants: this.in(user), messages: this.counts.get(user) ?? 0 }));
  }
}
