/**
 * The floor control specific fields (TS 24.380 clause 8.2.3): their typed
 * form, and the coding of each field's value. The TLV frame around a value
 * (field ID, length, padding to a 32-bit boundary) is written and read in
 * `message.ts`.
 */
import type { FieldName } from './codes.ts';

/** Reject Cause (clause 8.2.3.4): a 16-bit cause and an optional reject phrase. */
export interface RejectCause {
  cause: number;
  phrase?: string;
}

/** Queue Info (clause 8.2.3.5): position (254 not queued, 255 unknown) and priority level. */
export interface QueueInfo {
  position: number;
  priorityLevel: number;
}

/**
 * Track Info (clause 8.2.3.13): set by the participating function when it
 * relays floor control; the queueing capability, the participant type and the
 * floor participant references of each function on the path.
 */
export interface TrackInfo {
  /** 0 = queueing not supported, 1 = supported. */
  queueingCapability: number;
  participantType: string;
  floorParticipantRefs: number[];
}

/** The fields a floor control message may carry, each at most once. */
export interface FloorFields {
  /** Floor Priority (8.2.3.2), 0..255. */
  floorPriority?: number;
  /** Duration (8.2.3.3): seconds the granted participant may talk. */
  duration?: number;
  rejectCause?: RejectCause;
  queueInfo?: QueueInfo;
  /** Granted Party's Identity (8.2.3.6): the MCPTT ID of the floor holder. */
  grantedPartyId?: string;
  /** Permission to Request the Floor (8.2.3.7). */
  permissionToRequest?: boolean;
  /** User ID (8.2.3.8): MCPTT ID of the requester (or of the one this message concerns). */
  userId?: string;
  /** Queue Size (8.2.3.9). */
  queueSize?: number;
  /** Message Sequence Number (8.2.3.10), of Floor Idle and Floor Taken. */
  messageSequenceNumber?: number;
  /** Queued User ID (8.2.3.11). */
  queuedUserId?: string;
  /** Source (8.2.3.12), one of `SOURCE`. */
  source?: number;
  trackInfo?: TrackInfo;
  /** Message Type (8.2.3.14): in Floor Ack, the subtype (with the ack bit) of the message acknowledged. */
  messageType?: number;
  /** Floor Indicator (8.2.3.15), bits of `FLOOR_INDICATOR`. */
  floorIndicator?: number;
  /** SSRC (8.2.3.16): SSRC of the granted floor participant. */
  grantedSsrc?: number;
}

/** Key of {@link FloorFields} for each wire field name (`ssrc` is `grantedSsrc` in the typed form). */
export const PROPERTY_OF_FIELD: { readonly [F in FieldName]: keyof FloorFields } = Object.freeze({
  floorPriority: 'floorPriority',
  duration: 'duration',
  rejectCause: 'rejectCause',
  queueInfo: 'queueInfo',
  grantedPartyId: 'grantedPartyId',
  permissionToRequest: 'permissionToRequest',
  userId: 'userId',
  queueSize: 'queueSize',
  messageSequenceNumber: 'messageSequenceNumber',
  queuedUserId: 'queuedUserId',
  source: 'source',
  trackInfo: 'trackInfo',
  messageType: 'messageType',
  floorIndicator: 'floorIndicator',
  ssrc: 'grantedSsrc',
});

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Why a field value did not decode: the code of the decode error and what was wrong. */
export type ValueProblem = { code: 'bad-field-length' | 'bad-field-value' | 'bad-padding'; detail: string };

function u16(v: Uint8Array, o: number): number {
  return (v[o]! << 8) | v[o + 1]!;
}

function fixed(name: string, v: Uint8Array, len: number): ValueProblem | undefined {
  return v.length === len ? undefined : { code: 'bad-field-length', detail: `${name} value is ${len} octets, found ${v.length}` };
}

function text(name: string, v: Uint8Array): string | ValueProblem {
  try {
    return utf8Strict.decode(v);
  } catch {
    return { code: 'bad-field-value', detail: `${name} is not UTF-8 text` };
  }
}

/** Pads `n` up to a multiple of four (the 32-bit alignment of clause 8.2.3.1). */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Decodes the value of field `name` into the typed form; a problem is
 * returned, never thrown.
 */
export function decodeFieldValue(name: FieldName, v: Uint8Array): { value: unknown } | ValueProblem {
  switch (name) {
    case 'floorPriority': {
      // <Floor Priority> 8 bits, then 8 spare bits (clause 8.2.3.2).
      const p = fixed('Floor Priority', v, 2);
      return p ?? { value: v[0]! };
    }
    case 'duration':
    case 'queueSize':
    case 'messageSequenceNumber':
    case 'source':
    case 'floorIndicator': {
      const p = fixed(name, v, 2);
      return p ?? { value: u16(v, 0) };
    }
    case 'permissionToRequest': {
      const p = fixed('Permission to Request the Floor', v, 2);
      if (p) return p;
      const x = u16(v, 0);
      // Clause 8.2.3.7: '0' not permitted, '1' permitted; other values are not defined.
      if (x > 1) return { code: 'bad-field-value', detail: `Permission to Request the Floor must be 0 or 1, found ${x}` };
      return { value: x === 1 };
    }
    case 'rejectCause': {
      if (v.length < 2) return { code: 'bad-field-length', detail: `Reject Cause value needs at least 2 octets, found ${v.length}` };
      const cause = u16(v, 0);
      if (v.length === 2) return { value: { cause } satisfies RejectCause };
      const phrase = text('Reject Phrase', v.subarray(2));
      return typeof phrase === 'string' ? { value: { cause, phrase } satisfies RejectCause } : phrase;
    }
    case 'queueInfo': {
      const p = fixed('Queue Info', v, 2);
      return p ?? { value: { position: v[0]!, priorityLevel: v[1]! } satisfies QueueInfo };
    }
    case 'grantedPartyId':
    case 'userId':
    case 'queuedUserId': {
      const t = text(name, v);
      return typeof t === 'string' ? { value: t } : t;
    }
    case 'trackInfo':
      return decodeTrackInfo(v);
    case 'messageType': {
      // <Message Type> 8 bits, then 8 spare bits (clause 8.2.3.14).
      const p = fixed('Message Type', v, 2);
      return p ?? { value: v[0]! };
    }
    case 'ssrc': {
      // 32-bit SSRC then 16 spare bits (clause 8.2.3.16).
      const p = fixed('SSRC', v, 6);
      return p ?? { value: ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0 };
    }
  }
}

function decodeTrackInfo(v: Uint8Array): { value: TrackInfo } | ValueProblem {
  if (v.length < 2) return { code: 'bad-field-length', detail: `Track Info needs at least 2 octets, found ${v.length}` };
  const typeLen = v[1]!;
  const typeEnd = 2 + pad4(typeLen);
  if (typeEnd > v.length) return { code: 'bad-field-length', detail: `Track Info participant type of ${typeLen} octets (padded ${pad4(typeLen)}) overruns the ${v.length}-octet value` };
  if ((v.length - typeEnd) % 4 !== 0) return { code: 'bad-field-length', detail: `Track Info floor participant references take ${v.length - typeEnd} octets, not a multiple of 4` };
  for (let i = 2 + typeLen; i < typeEnd; i++) if (v[i] !== 0) return { code: 'bad-padding', detail: 'Track Info participant type padding is not zero' };
  const participantType = text('Track Info participant type', v.subarray(2, 2 + typeLen));
  if (typeof participantType !== 'string') return participantType;
  const floorParticipantRefs: number[] = [];
  for (let o = typeEnd; o < v.length; o += 4) floorParticipantRefs.push(((v[o]! << 24) | (v[o + 1]! << 16) | (v[o + 2]! << 8) | v[o + 3]!) >>> 0);
  return { value: { queueingCapability: v[0]!, participantType, floorParticipantRefs } };
}

/** Checks an integer range for the encoder; returns a problem text or undefined. */
function range(x: unknown, max: number): string | undefined {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max ? undefined : `must be an integer 0..${max}, got ${String(x)}`;
}

function textBytes(x: unknown, max: number): Uint8Array | string {
  if (typeof x !== 'string') return `must be a string, got ${typeof x}`;
  const b = utf8.encode(x);
  return b.length <= max ? b : `is ${b.length} octets of UTF-8, at most ${max} fit the 8-bit length`;
}

/**
 * Encodes the value of field `name` from its typed form; returns the bytes
 * or a problem text for the encoder to throw.
 */
export function encodeFieldValue(name: FieldName, x: unknown): Uint8Array | string {
  switch (name) {
    case 'floorPriority':
    case 'messageType': {
      const bad = range(x, 255);
      return bad ?? new Uint8Array([x as number, 0]);
    }
    case 'duration':
    case 'queueSize':
    case 'messageSequenceNumber':
    case 'source':
    case 'floorIndicator': {
      const bad = range(x, 0xffff);
      return bad ?? new Uint8Array([(x as number) >> 8, (x as number) & 0xff]);
    }
    case 'permissionToRequest':
      return typeof x === 'boolean' ? new Uint8Array([0, x ? 1 : 0]) : `must be a boolean, got ${typeof x}`;
    case 'rejectCause': {
      const r = x as RejectCause;
      const bad = range(r?.cause, 0xffff);
      if (bad) return `cause ${bad}`;
      const phrase = textBytes(r.phrase ?? '', 253);
      if (typeof phrase === 'string') return `phrase ${phrase}`;
      const out = new Uint8Array(2 + phrase.length);
      out[0] = r.cause >> 8;
      out[1] = r.cause & 0xff;
      out.set(phrase, 2);
      return out;
    }
    case 'queueInfo': {
      const q = x as QueueInfo;
      const bad = range(q?.position, 255) ?? range(q?.priorityLevel, 255);
      return bad ?? new Uint8Array([q.position, q.priorityLevel]);
    }
    case 'grantedPartyId':
    case 'userId':
    case 'queuedUserId':
      return textBytes(x, 255);
    case 'trackInfo':
      return encodeTrackInfo(x as TrackInfo);
    case 'ssrc': {
      const bad = range(x, 0xffffffff);
      if (bad) return bad;
      const s = x as number;
      return new Uint8Array([s >>> 24, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff, 0, 0]);
    }
  }
}

function encodeTrackInfo(t: TrackInfo): Uint8Array | string {
  const bad = range(t?.queueingCapability, 255);
  if (bad) return `queueingCapability ${bad}`;
  const type = textBytes(t.participantType, 255);
  if (typeof type === 'string') return `participantType ${type}`;
  if (!Array.isArray(t.floorParticipantRefs)) return 'floorParticipantRefs must be an array';
  const len = 2 + pad4(type.length) + 4 * t.floorParticipantRefs.length;
  if (len > 255) return `value of ${len} octets does not fit the 8-bit length`;
  const out = new Uint8Array(len);
  out[0] = t.queueingCapability;
  out[1] = type.length;
  out.set(type, 2);
  let o = 2 + pad4(type.length);
  for (const r of t.floorParticipantRefs) {
    const rb = range(r, 0xffffffff);
    if (rb) return `floor participant reference ${rb}`;
    out[o] = r >>> 24;
    out[o + 1] = (r >>> 16) & 0xff;
    out[o + 2] = (r >>> 8) & 0xff;
    out[o + 3] = r & 0xff;
    o += 4;
  }
  return out;
}
