import { closest, strictObject } from '@imslab/element-kit';
import { markerFor } from '@imslab/probe';
import { SECURITY_MODES, TICKET_POLICIES, type CallStatus } from '@imslab/ue/contract';
import { z } from 'zod';
import { callMarker, type CallRecord, type StreamMedia } from './checks/index.ts';
import { streamView } from './checks/views.ts';
import type { MessageCallRecord } from './checks/message-delivered.ts';
import { httpJson } from './http-json.ts';
import { FAULT_ACTIONS, type FaultAction, type FaultOptions, type FaultRecord } from './faults.ts';
import { spoofedInvite } from './spoof-call.ts';
import { SIP_PORT } from '@imslab/topology';
import { INJECT_ATTACKS, attackDatagrams, capturedTo } from './inject.ts';
import { StepError } from './errors.ts';
import { UeClient, type MessageSent } from './ue-client.ts';

/**
 * Scenario steps: what each one asks (its schema) and how it is carried out
 * through the UEs' control APIs. Steps run in order; a wait polls the UEs'
 * status, it never sleeps in place of a check.
 */
const name = z.string().min(1);
const FLOOR_OUTCOMES = ['granted', 'denied', 'queued'] as const;
const packets = z.number().int().min(1).max(100_000);

export const STEP_SHAPES = {
  /** These UEs register (REGISTER with digest through their P-CSCF). */
  register: z.array(name).min(1),
  /** A call from a UE to a SIP URI under a security setting; `as` names it for later steps and the expectations. */
  call: strictObject({
    from: name, to: z.string().regex(/^sips?:\S+$/, 'must be a SIP URI'),
    security: z.enum(SECURITY_MODES).optional(), policy: z.enum(TICKET_POLICIES).optional(), designatedDevice: name.optional(), as: name,
    /** Negative tests: the caller claims this identity in P-Asserted-Identity (a UE spoofing another user). */
    spoofIdentity: z.string().regex(/^sips?:\S+@\S+$/, 'must be a SIP URI like sip:carol@ims.test').optional(),
    /** The call's streams, audio first (default [audio]); each other stream is named `<as>.video`, `<as>.text` in the waiting steps that count media (STREAM_STEPS) and the expectations. Video and text need security poc-e2e. */
    media: z.array(z.enum(['audio', 'video', 'text'])).min(1)
      .refine((m) => m[0] === 'audio' && new Set(m).size === m.length, 'must list audio first, then video and/or text, each once, e.g. [audio, video, text]').optional(),
    /** The caller's first RTP sequence number on each stream (default random below 2^15): e.g. 65500 rolls its SRTP ROC over within two seconds, to test late joiners and rollover handling. */
    firstSequence: z.number().int().min(0).max(0xffff).optional(),
  }, 'a call step'),
  /** Both ends received `packets` probe packets of the other (or, `oneWay`, the caller sent them: a deposit). */
  'wait-media': strictObject({ call: name, packets, oneWay: z.boolean().optional() }, 'a wait-media step'),
  /** The caller of `call` received `packets` packets carrying the probe of call(s) `of` (a playback, a conference). */
  'wait-probe': strictObject({ call: name, of: z.union([name, z.array(name).min(1)]), packets }, 'a wait-probe step'),
  /** The far end hung up `call` (the voicemail at the end of a message). */
  'wait-ended': strictObject({ call: name }, 'a wait-ended step'),
  /** Stop an element and start it again (same configuration and storage); waits until it is healthy. */
  restart: strictObject({ element: name }, 'a restart step'),
  /** The caller reports the call failed. */
  'wait-failure': strictObject({ call: name }, 'a wait-failure step'),
  /** A UE switches an established call to another security setting by re-INVITE. */
  secure: strictObject({ ue: name, call: name, security: z.enum(SECURITY_MODES) }, 'a secure step'),
  /** A UE hangs up a call. */
  hangup: strictObject({ ue: name, call: name }, 'a hangup step'),
  /**
   * A PoC member presses PTT on its group call (Floor Request, TS 24.380) and
   * the step waits until its floor control says `outcome` (default granted):
   * granted = it holds the floor; denied = a Floor Deny came; queued = a
   * Floor Queue Position Info came.
   */
  'floor-request': strictObject({ ue: name, call: name, outcome: z.enum(FLOOR_OUTCOMES).optional() }, 'a floor-request step'),
  /** A PoC member releases the floor (or withdraws its queued request); waits until it has no permission. */
  'floor-release': strictObject({ ue: name, call: name }, 'a floor-release step'),
  /** A PoC member sends its probe without the floor (ignoring floor control): the PoC server must forward none of it. */
  'talk-without-floor': strictObject({ ue: name, call: name }, 'a talk-without-floor step'),
  /**
   * The operator removes a user from a group at the KMS (its group management
   * function): a new key epoch begins, the removed user gets no key of it.
   */
  'group-remove': strictObject({ group: z.string().regex(/^sips?:\S+@\S+$/, 'must be the group\'s SIP URI'), member: name }, 'a group-remove step'),
  /**
   * A member re-keys its group call (fetches the group's current key); waits
   * for the answer: `rekeyed` (default: it now sends under the new key) or
   * `refused` (the KMS refused it the key: a removed member). `activate:
   * false` only accepts the new key on receive (phase one of a rollover
   * without loss: every member receives first, then every member switches).
   */
  rekey: strictObject({ ue: name, call: name, outcome: z.enum(['rekeyed', 'refused']).optional(), activate: z.boolean().optional() }, 'a rekey step'),
  /** Waits until the caller of `call` counted `packets` packets naming a key it does not hold (a removed member locked out). */
  'wait-unreadable': strictObject({ call: name, packets }, 'a wait-unreadable step'),
  /** Waits until the PoC server has played a member's recordings to its call `call` to the end (PoC box). */
  'wait-recordings': strictObject({ call: name }, 'a wait-recordings step'),
  /**
   * Waits until UE `by` has recorded and opened message `message` (sent
   * earlier by a `message` step): deferred delivery, a member who was offline
   * when it was sent and registered since.
   */
  'wait-message': strictObject({ message: name, by: name }, 'a wait-message step'),
  /**
   * UEs join a chat room (TR 33.828 4.4: an MSRP session through the relay
   * to the chat server) and stay in it: what the room's server re-sends to
   * them is recorded like any message (a `message` step with `mode: session`
   * to the room URI sends one).
   */
  'chat-join': strictObject({ by: z.union([name, z.array(name).min(1)]), room: z.string().regex(/^sips?:\S+@\S+$/, 'must be the room\'s SIP URI like sip:chat-team@ims.test') }, 'a chat-join step'),
  /**
   * The attacker element (network.servers: [attacker]) sends `packets`
   * datagrams at UE `into`'s media port of call `call`: `replay` (the last
   * SRTP packets it received, from the captures), `tamper` (the same with a
   * bit flipped) or `plaintext` (RTP in the clear). The UE's counters
   * (ueCounters) show what it refused.
   */
  inject: strictObject({ call: name, into: name, attack: z.enum(INJECT_ATTACKS), packets: z.number().int().min(1).max(500) }, 'an inject step'),
  /**
   * Kills, freezes or cuts off an element (faults.ts) while calls are up,
   * then watches for `watchMs` (default 2000) so the captures and the UEs
   * show what followed. Every call up at that moment is judged
   * `fault(<element>)`, with what was seen as its evidence.
   */
  fault: strictObject({
    element: name, action: z.enum(FAULT_ACTIONS), watchMs: z.number().int().min(0).max(30_000).optional(),
    /** With `cut`: refuse only these ports of the element (an attacker on the link blocking its TLS port). */
    ports: z.array(z.number().int().min(1).max(65_535)).min(1).optional(),
  }, 'a fault step').refine((f) => !f.ports || f.action === 'cut', { message: 'ports go with action: cut only', path: ['ports'] }),
  /**
   * The attacker element (network.servers: [attacker]) sends an INVITE
   * straight to UE `into`'s SIP port, past the P-CSCF, claiming `claiming`
   * in From and P-Asserted-Identity; `as` names it for the expectations.
   * The step waits up to 2 s for the UE to record it (it should not).
   */
  'spoof-call': strictObject({ into: name, claiming: z.string().regex(/^sips?:\S+@\S+$/, 'must be a SIP URI like sip:alice@ims.test'), as: name }, 'a spoof-call step'),
  /** A UE tries to register and must fail (its SIP transport blocked, say): the step fails if it registers. */
  'register-fails': strictObject({ ue: name }, 'a register-fails step'),
  /** UEs leave a chat room they joined (BYE). */
  'chat-leave': strictObject({ by: z.union([name, z.array(name).min(1)]), room: z.string().regex(/^sips?:\S+@\S+$/, 'must be the room\'s SIP URI like sip:chat-team@ims.test') }, 'a chat-leave step'),
  /**
   * A UE sends a SIP MESSAGE (pager mode, RFC 3428): CPIM in the clear
   * (`none`) or signed and encrypted (`smime`, RFC 8591; `envelope` picks
   * EnvelopedData instead of AuthEnvelopedData). The text gets the call's
   * marker. `outcome`: `delivered` (default: a 2xx), `refused` (a 4xx from
   * the receiver), `not-sent` (the sender refuses: too large for UDP),
   * `failed` (the network gives up: a 408, 477 or 5xx that no UE sent, or a
   * session whose relay cannot be reached; after a fault step the message is
   * judged `fault(<element>)`). `as`
   * names it for the expectations (checked with messageDelivered).
   * `mode: session` sends it in an MSRP session through the relay instead
   * (TR 33.828 4.3 session mode; needs msrp-relay in network.servers).
   */
  message: strictObject({
    from: name, to: z.string().regex(/^sips?:\S+@\S+$/, 'must be a SIP URI like sip:bob@ims.test'),
    security: z.enum(['none', 'smime']).optional(), text: z.string().max(4000).optional(),
    envelope: z.enum(['auth-enveloped', 'enveloped']).optional(),
    /** Negative tests: encrypt to this user's certificate instead of the recipient's. */
    encryptFor: z.string().regex(/^sips?:\S+@\S+$/, 'must be a SIP URI like sip:carol@ims.test').optional(),
    /** Negative tests: the text is altered after signing, before encryption. */
    tamper: z.literal('signed-content').optional(),
    /** A group (IM server): encrypt to these users' certificates, one RecipientInfo each. */
    recipients: z.array(z.string().regex(/^sips?:\S+@\S+$/, 'must be a SIP URI like sip:bob@ims.test')).min(1).optional(),
    /** `session`: an MSRP session through the relay (INVITE, one SEND with a success REPORT, BYE) instead of a MESSAGE. */
    mode: z.enum(['pager', 'session']).optional(),
    /** Session mode: send a file (RFC 5547 file transfer) of this name, media type and size; its first line is the text. */
    file: strictObject({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a plain file name'), type: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'must be a media type like image/png'), size: z.number().int().min(64).max(4 * 1024 * 1024) }, 'a file').optional(),
    outcome: z.enum(['delivered', 'refused', 'not-sent', 'failed']).optional(), as: name,
  }, 'a message step'),
};
type Shapes = typeof STEP_SHAPES;
export type StepKind = keyof Shapes;
export type Step = { [K in StepKind]: { [P in K]: z.output<Shapes[K]> } }[StepKind];
export const STEP_KINDS = Object.keys(STEP_SHAPES) as StepKind[];

/**
 * A step: a mapping with exactly one of the step kinds. Checked by hand
 * first so that a wrong kind is named as such (a plain union would report
 * every branch's complaint), then by that kind's schema.
 */
export const StepSchema = z.unknown().transform((raw, ctx): Step => {
  const keys = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : [];
  const kind = keys[0];
  if (keys.length !== 1 || kind === undefined || !(kind in STEP_SHAPES)) {
    const near = kind && keys.length === 1 ? closest(kind, STEP_KINDS) : null;
    ctx.addIssue({ code: 'custom', message: `a step has exactly one of ${STEP_KINDS.join(', ')}; found ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'}${near ? ` (did you mean "${near}"?)` : ''}` });
    return z.NEVER;
  }
  const r = STEP_SHAPES[kind as StepKind].safeParse((raw as Record<string, unknown>)[kind]);
  if (!r.success) {
    for (const iss of r.error.issues) {
      const keysOf = iss.code === 'unrecognized_keys' ? iss.keys : [undefined];
      for (const k of keysOf) ctx.addIssue({ code: 'custom', message: iss.message, path: [kind, ...iss.path, ...(k === undefined ? [] : [k])] });
    }
    return z.NEVER;
  }
  return { [kind]: r.data } as Step;
});

export interface StepContext {
  ues: Map<string, UeClient>;
  calls: Map<string, CallRecord>;
  /** Elements a fault step killed or froze and no restart brought back: they answer nothing. */
  silenced: Set<string>;
  /** Every fault step so far, in order: a message that fails after one is judged by it. */
  faults: FaultRecord[];
  progress: (line: string) => void;
  /** Called once media flows on a call, while it is up: evidence gathering. */
  onMediaFlowing?: (call: CallRecord) => Promise<void>;
  /** Restarts an element (the target's). */
  restart?: (element: string) => Promise<void>;
  /** Kills, freezes or cuts off an element (the target's). */
  fault?: (element: string, action: FaultAction, opts: FaultOptions) => Promise<void>;
  /** Set when the run is being aborted: waits stop at once. */
  aborted?: () => boolean;
  /** Control API base URL of any element (the KMS for group membership). */
  controlUrl?: (element: string) => string;
  /** An element's address on its (first) network: where the attacker sends to. */
  addressOf?: (element: string) => string;
  /** Where the links' captures are being written (`<link>.pcap`): what a tap on the links sees so far. */
  captureDir?: string;
}

const MEDIA_TIMEOUT_MS = 20_000;
const POLL_MS = 100;

export function makeContext(ues: Array<{ name: string; url: string }>, progress: (l: string) => void): StepContext {
  return { ues: new Map(ues.map((u) => [u.name, new UeClient(u.name, u.url)])), calls: new Map(), silenced: new Set(), faults: [], progress };
}

function ue(ctx: StepContext, name: string): UeClient {
  const u = ctx.ues.get(name);
  if (!u) throw new StepError(`no UE "${name}"; UEs: ${[...ctx.ues.keys()].join(', ')}`);
  return u;
}

function call(ctx: StepContext, alias: string): CallRecord {
  const c = ctx.calls.get(alias);
  if (!c) throw new StepError(`no call "${alias}"`);
  return c;
}

/** The steps that read one stream's counters, so a stream alias (`<as>.video`) means something to them; every other step acts on the whole call. */
export const STREAM_STEPS: ReadonlySet<string> = new Set(['wait-media', 'wait-probe', 'wait-unreadable']);

/** The streams of a call step besides audio. */
export function streamMediaOf(media: readonly string[] | undefined): StreamMedia[] {
  return (media ?? []).filter((m): m is StreamMedia => m === 'video' || m === 'text');
}

async function findCall(u: UeClient, callId: string, media?: StreamMedia): Promise<CallStatus | undefined> {
  const s = (await u.calls()).find((c) => c.callId === callId);
  return s && streamView(s, media);
}

/**
 * Polls `probe` until it returns a result (not undefined), the deadline
 * passes (StepError with the last state seen), or the run is aborted.
 */
async function poll<T>(ctx: StepContext, what: string, probe: (note: (s: string) => void) => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  let last = 'no status';
  for (;;) {
    if (ctx.aborted?.()) throw new StepError(`${what}: aborted`);
    const r = await probe((s) => (last = s));
    if (r !== undefined) return r;
    if (Date.now() >= deadline) throw new StepError(`${what}: not within ${MEDIA_TIMEOUT_MS} ms (${last})`);
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

const failedOrOver = (alias: string, from: string, s: CallStatus | undefined) => {
  if (s && (s.state === 'failed' || s.state === 'terminated')) throw new StepError(`call ${alias} ${s.state} at ${from}: ${s.failure?.reason ?? 'no reason given'}`);
};

/** Both ends of a call received at least `packets` probe packets of the other end. */
async function waitMedia(ctx: StepContext, alias: string, packets: number): Promise<void> {
  const c = call(ctx, alias);
  await poll(ctx, `call ${alias}: media both ways`, async (note) => {
    const mine = await findCall(ue(ctx, c.from), c.callId, c.media);
    failedOrOver(alias, c.from, mine);
    let callee: { name: string; status: CallStatus } | undefined;
    for (const [name, u] of ctx.ues) {
      if (name === c.from) continue;
      const s = await findCall(u, c.callId, c.media);
      if (s?.state === 'confirmed') callee = { name, status: s };
    }
    if (callee) c.answeredBy = callee.name;
    const a = mine?.media.rxMarkerPackets ?? 0;
    const b = callee?.status.media.rxMarkerPackets ?? 0;
    note(`${c.from} received ${a}, ${callee?.name ?? 'callee'} received ${b}`);
    return a >= packets && b >= packets ? true : undefined;
  });
}

/** One-way media (a deposit to a store): the caller's call is up and it sent `packets` packets. */
async function waitSent(ctx: StepContext, alias: string, packets: number): Promise<void> {
  const c = call(ctx, alias);
  await poll(ctx, `call ${alias}: ${packets} packets sent`, async (note) => {
    const s = await findCall(ue(ctx, c.from), c.callId, c.media);
    failedOrOver(alias, c.from, s);
    note(`${c.from}: ${s?.state ?? '?'}, ${s?.media.txPackets ?? 0} packets sent`);
    return s?.state === 'confirmed' && s.media.txPackets >= packets ? true : undefined;
  });
}

/** The caller of `alias` received `packets` packets and the probe of every call in `of`. */
async function waitProbe(ctx: StepContext, alias: string, of: string[], packets: number): Promise<void> {
  const c = call(ctx, alias);
  const want = of.map((o) => callMarker(call(ctx, o), 'orig'));
  await poll(ctx, `call ${alias}: probe of ${of.join(', ')}`, async (note) => {
    const s = await findCall(ue(ctx, c.from), c.callId, c.media);
    failedOrOver(alias, c.from, s);
    const seen = s?.media.rxMarkersSeen ?? [];
    const missing = of.filter((_, i) => !seen.includes(want[i]!));
    note(`${c.from} received ${s?.media.rxPackets ?? 0} packets; missing the probe of ${missing.join(', ') || 'none'}`);
    return s && s.media.rxPackets >= packets && missing.length === 0 ? true : undefined;
  });
}

/** The caller's side of the call is over (the far end sent BYE). */
async function waitEnded(ctx: StepContext, alias: string): Promise<void> {
  const c = call(ctx, alias);
  await poll(ctx, `call ${alias} ended by the far end`, async (note) => {
    const s = await findCall(ue(ctx, c.from), c.callId, c.media);
    if (s?.state === 'failed') throw new StepError(`call ${alias} failed at ${c.from}: ${s.failure?.reason ?? 'no reason given'}`);
    note(`${c.from}: ${s?.state ?? 'no record'}`);
    return s?.state === 'terminated' ? true : undefined;
  });
}

/** The caller reports the call failed; returns its reason. */
async function waitFailure(ctx: StepContext, alias: string): Promise<string> {
  const c = call(ctx, alias);
  return poll(ctx, `call ${alias} to fail`, async (note) => {
    const s = await findCall(ue(ctx, c.from), c.callId, c.media);
    if (s?.state === 'confirmed') throw new StepError(`call ${alias} was answered; expected it to fail`);
    note(`${c.from}: ${s?.state ?? 'no record'}`);
    return s && (s.state === 'failed' || s.state === 'terminated') ? s.failure?.reason ?? s.state : undefined;
  });
}

/** The participant state (TS 24.380 clause 6.2.4) each floor-request outcome ends in. */
const OUTCOME_STATE: Record<(typeof FLOOR_OUTCOMES)[number], string> = { granted: 'has-permission', denied: 'has-no-permission', queued: 'queued' };

/** Presses PTT on `alias` at `ueName` and waits until its floor control reports `outcome`. */
async function floorRequest(ctx: StepContext, ueName: string, alias: string, outcome: (typeof FLOOR_OUTCOMES)[number]): Promise<void> {
  const c = call(ctx, alias);
  const u = ue(ctx, ueName);
  // The server says Floor Idle or Floor Taken once the member has joined (its ACK arrived): only then does a request count.
  await poll(ctx, `call ${alias}: joined the group at ${ueName}`, async (note) => {
    const s = await findCall(u, c.callId, c.media);
    failedOrOver(alias, ueName, s);
    const r = s?.floor?.received ?? {};
    note(`${ueName}: call ${s?.state ?? 'unknown'}, floor ${s?.floor ? JSON.stringify(r) : 'not yet'}`);
    return (r['floor-idle'] ?? 0) + (r['floor-taken'] ?? 0) > 0 ? true : undefined;
  });
  const before = (await u.floor(c.callId, 'request')).floor;
  const denials = before.received['floor-deny'] ?? 0;
  await poll(ctx, `call ${alias}: floor ${outcome} at ${ueName}`, async (note) => {
    const s = await findCall(u, c.callId, c.media);
    failedOrOver(alias, ueName, s);
    const f = s?.floor;
    note(`${ueName}: floor ${f?.state ?? 'unknown'}, received ${JSON.stringify(f?.received ?? {})}`);
    if (!f || f.state !== OUTCOME_STATE[outcome]) return undefined;
    // Denied: a Floor Deny to this request, not just the state it started in.
    return outcome !== 'denied' || (f.received['floor-deny'] ?? 0) > denials ? true : undefined;
  });
}

/** Releases the floor on `alias` at `ueName`; waits until the server confirmed (Floor Idle or Taken: no permission). */
async function floorRelease(ctx: StepContext, ueName: string, alias: string): Promise<void> {
  const c = call(ctx, alias);
  const u = ue(ctx, ueName);
  await u.floor(c.callId, 'release');
  await poll(ctx, `call ${alias}: floor released at ${ueName}`, async (note) => {
    const s = await findCall(u, c.callId, c.media);
    failedOrOver(alias, ueName, s);
    note(`${ueName}: floor ${s?.floor?.state ?? 'unknown'}`);
    return s?.floor?.state === 'has-no-permission' ? true : undefined;
  });
}

export async function runStep(ctx: StepContext, step: Step): Promise<void> {
  if ('register' in step) {
    await Promise.all(step.register.map(async (n) => {
      const r = await ue(ctx, n).register();
      ctx.progress(`  ${n} registered${r.securityServer ? ` (Security-Server: ${r.securityServer})` : ''}`);
    }));
  } else if ('spoof-call' in step) {
    await spoofCall(ctx, step['spoof-call']);
  } else if ('register-fails' in step) {
    const n = step['register-fails'].ue;
    const r = await ue(ctx, n).register().then((x) => ({ ok: true as const, x }), (e: Error) => ({ ok: false as const, e }));
    if (r.ok) throw new StepError(`${n} registered (Security-Server: ${r.x.securityServer ?? 'none'}); expected its REGISTER to fail`);
    ctx.progress(`  ${n} could not register, as expected: ${r.e.message}`);
  } else if ('call' in step) {
    const { from, to, security = 'none', as, policy, designatedDevice, spoofIdentity, media, firstSequence } = step.call;
    const r = await ue(ctx, from).call(to, security, { policy, designatedDevice, ...(spoofIdentity ? { spoofIdentity } : {}), ...(media ? { media } : {}), ...(firstSequence !== undefined ? { firstSequence } : {}) });
    ctx.calls.set(as, { alias: as, callId: r.callId, from });
    // Each video or text stream is a call of its own for later steps and the expectations: `<as>.video`.
    for (const m of streamMediaOf(media)) ctx.calls.set(`${as}.${m}`, { alias: `${as}.${m}`, callId: r.callId, from, media: m });
    ctx.progress(`  ${from} calls ${to} (${security}): ${r.callId}`);
  } else if ('wait-media' in step) {
    const w = step['wait-media'];
    if (w.oneWay) {
      await waitSent(ctx, w.call, w.packets);
      ctx.progress(`  ${call(ctx, w.call).from} sent ${w.packets} packets on ${w.call} (one way)`);
    } else {
      await waitMedia(ctx, w.call, w.packets);
      ctx.progress(`  media flowing both ways on ${w.call}`);
    }
    await ctx.onMediaFlowing?.(call(ctx, w.call));
  } else if ('wait-probe' in step) {
    const w = step['wait-probe'];
    const of = Array.isArray(w.of) ? w.of : [w.of];
    await waitProbe(ctx, w.call, of, w.packets);
    ctx.progress(`  ${call(ctx, w.call).from} received the probe of ${of.join(', ')} on ${w.call}`);
  } else if ('wait-ended' in step) {
    await waitEnded(ctx, step['wait-ended'].call);
    ctx.progress(`  ${step['wait-ended'].call} ended by the far end`);
  } else if ('restart' in step) {
    if (!ctx.restart) throw new StepError('this target cannot restart elements');
    await ctx.restart(step.restart.element);
    ctx.silenced.delete(step.restart.element);
    ctx.progress(`  ${step.restart.element} restarted and healthy`);
  } else if ('wait-failure' in step) {
    const reason = await waitFailure(ctx, step['wait-failure'].call);
    ctx.progress(`  ${step['wait-failure'].call} failed as expected: ${reason}`);
  } else if ('secure' in step) {
    const { ue: name, call: alias, security } = step.secure;
    const r = await ue(ctx, name).secure(call(ctx, alias).callId, security);
    if (!r.ok) throw new StepError(`${name} could not switch ${alias} to ${security}: ${r.reason ?? 'no reason given'}`);
    ctx.progress(`  ${name} switched ${alias} to ${security} by re-INVITE (${r.securityAchieved ?? '?'})`);
  } else if ('floor-request' in step) {
    const { ue: name, call: alias, outcome = 'granted' } = step['floor-request'];
    await floorRequest(ctx, name, alias, outcome);
    ctx.progress(`  ${name} requested the floor on ${alias}: ${outcome}`);
  } else if ('floor-release' in step) {
    const { ue: name, call: alias } = step['floor-release'];
    await floorRelease(ctx, name, alias);
    ctx.progress(`  ${name} released the floor on ${alias}`);
  } else if ('talk-without-floor' in step) {
    const { ue: name, call: alias } = step['talk-without-floor'];
    await ue(ctx, name).floor(call(ctx, alias).callId, 'talk-without-floor');
    ctx.progress(`  ${name} talks on ${alias} without the floor`);
  } else if ('group-remove' in step) {
    await groupRemove(ctx, step['group-remove'].group, step['group-remove'].member);
  } else if ('rekey' in step) {
    const { ue: name, call: alias, outcome = 'rekeyed', activate = true } = step.rekey;
    const r = await ue(ctx, name).rekey(call(ctx, alias).callId, activate);
    if ('refused' in r) {
      if (outcome !== 'refused') throw new StepError(`${name} could not re-key ${alias}: ${r.refused}`);
      ctx.progress(`  ${name} was refused the new key of ${alias}: ${r.refused}`);
    } else {
      if (outcome === 'refused') throw new StepError(`${name} re-keyed ${alias}${r.gmkId ? ` (GMK-ID ${r.gmkId})` : ''}; expected the KMS to refuse it`);
      if (!activate) ctx.progress(`  ${name} accepts the new key of ${alias} on receive`);
      else if (!r.changed) throw new StepError(`${name} re-keyed ${alias} but its key did not change: the group had no new epoch`);
      else ctx.progress(`  ${name} re-keyed ${alias}${r.gmkId ? `: now GMK-ID ${r.gmkId}` : ''}`);
    }
  } else if ('wait-unreadable' in step) {
    const { call: alias, packets: n } = step['wait-unreadable'];
    const c = call(ctx, alias);
    await poll(ctx, `call ${alias}: ${n} packets ${c.from} cannot read`, async (note) => {
      const s = await findCall(ue(ctx, c.from), c.callId, c.media);
      failedOrOver(alias, c.from, s);
      note(`${c.from}: ${s?.media.rxUnknownKey ?? 0} packets under keys it does not hold, ${s?.media.rxPackets ?? 0} read`);
      return (s?.media.rxUnknownKey ?? 0) >= n ? true : undefined;
    });
    ctx.progress(`  ${c.from} received ${n}+ packets on ${alias} under keys it does not hold`);
  } else if ('wait-recordings' in step) {
    await waitRecordings(ctx, step['wait-recordings'].call);
  } else if ('message' in step) {
    await sendMessage(ctx, step.message);
  } else if ('wait-message' in step) {
    await waitMessage(ctx, step['wait-message'].message, step['wait-message'].by);
  } else if ('inject' in step) {
    await injectStep(ctx, step.inject);
  } else if ('fault' in step) {
    const { element, action, watchMs = 2000, ports } = step.fault;
    if (!ctx.fault) throw new StepError('this target cannot inflict faults');
    await ctx.fault(element, action, ports ? { ports } : {});
    // A cut-off element's control API stays reachable; a killed or frozen one answers nothing.
    if (action !== 'cut') ctx.silenced.add(element);
    const f: FaultRecord = { element, action, at: Date.now() };
    ctx.faults.push(f);
    const hit = [...ctx.calls.values()].filter((c) => c.hungUpAt === undefined && !('message' in c));
    for (const c of hit) (c.faults ??= []).push(f);
    ctx.progress(`  ${element}: ${action} (calls up: ${hit.map((c) => c.alias).join(', ') || 'none'}); watching ${watchMs} ms`);
    await new Promise((res) => setTimeout(res, watchMs));
  } else if ('chat-join' in step) {
    const { by, room } = step['chat-join'];
    for (const n of [by].flat()) {
      const r = await ue(ctx, n).chatJoin(room);
      if (r.status < 200 || r.status >= 300) throw new StepError(`${n} could not join ${room}: ${r.status} ${r.reason}`);
    }
    ctx.progress(`  ${[by].flat().join(', ')} joined ${room}`);
  } else if ('chat-leave' in step) {
    const { by, room } = step['chat-leave'];
    for (const n of [by].flat()) await ue(ctx, n).chatLeave(room);
    ctx.progress(`  ${[by].flat().join(', ')} left ${room}`);
  } else if ('hangup' in step) {
    // Without a fault so far the BYE is answered at once: wait for that, so
    // that what it ends at the far end (a deposit stored) is done before the
    // next step. After a fault it may never be answered: do not wait.
    await ue(ctx, step.hangup.ue).hangup(call(ctx, step.hangup.call).callId, { waitBye: ctx.faults.length === 0 });
    const ended = call(ctx, step.hangup.call);
    // The call's streams end with it.
    for (const c of ctx.calls.values()) if (c === ended || (c.callId === ended.callId && c.media)) c.hungUpAt = Date.now();
    ctx.progress(`  ${step.hangup.ue} hung up ${step.hangup.call}`);
  }
}

/**
 * A message step: POST /message at the sender, then every UE's GET /messages
 * until one recorded the Call-ID (the 2xx or 4xx came from one of them). The
 * outcome is kept on the call record for messageDelivered.
 */
async function sendMessage(ctx: StepContext, m: z.output<Shapes['message']>): Promise<void> {
  const { from, to, security = 'none', as, outcome = 'delivered' } = m;
  const r = await ue(ctx, from).message(to, m.text ?? `message ${as}`, security, { envelope: m.envelope, encryptFor: m.encryptFor, tamper: m.tamper, ...(m.recipients ? { recipients: m.recipients } : {}), ...(m.mode ? { mode: m.mode } : {}), ...(m.file ? { file: m.file } : {}) });
  if ('unreachable' in r) {
    if (outcome !== 'failed') throw new StepError(`${from} did not send ${as}: ${r.unreachable}`);
    // No MSRP session came up: the record names why, and any fault so far.
    const rec: MessageCallRecord = { alias: as, callId: `unreachable-${as}`, from, ...(ctx.faults.length ? { faults: [...ctx.faults] } : {}), message: { to, security, marker: '', status: null, reason: r.unreachable, bytes: null, transport: null, structure: null, receivedBy: {} } };
    ctx.calls.set(as, rec);
    ctx.progress(`  ${from} -> ${to} ${as} failed as expected: ${r.unreachable}`);
    return;
  }
  if ('tooLarge' in r) {
    if (outcome !== 'not-sent') throw new StepError(`${from} did not send ${as}: ${r.tooLarge}`);
    // No Call-ID went on the wire: the record names the refusal only.
    const rec: MessageCallRecord = { alias: as, callId: `not-sent-${as}`, from, message: { to, security, marker: '', status: null, reason: '', bytes: null, transport: null, structure: null, receivedBy: {}, notSent: r.tooLarge } };
    ctx.calls.set(as, rec);
    ctx.progress(`  ${from} refused to send ${as} (${security}): ${r.tooLarge}`);
    return;
  }
  if (outcome === 'not-sent') throw new StepError(`${from} sent ${as} (${r.bytes} bytes over ${r.transport}, ${r.status} ${r.reason}); expected it to refuse to send it`);
  if (outcome === 'failed') return failedMessage(ctx, m, r);
  if (outcome === 'delivered' && (r.status < 200 || r.status >= 300)) throw new StepError(`${as}: ${from} -> ${to} got ${r.status} ${r.reason}; expected a 2xx`);
  if (outcome === 'refused' && (r.status < 400 || r.status >= 500)) throw new StepError(`${as}: ${from} -> ${to} got ${r.status} ${r.reason}; expected a 4xx refusal`);
  const rec: MessageCallRecord = {
    alias: as, callId: r.callId, from,
    message: { to, security, marker: markerFor(r.callId, 'orig'), status: r.status, reason: r.reason, bytes: r.bytes, transport: r.transport, structure: r.structure, receivedBy: {}, ...(m.recipients ? { recipients: m.recipients } : {}), ...(r.bodySha256 !== undefined ? { bodySha256: r.bodySha256 } : {}), ...(r.msrpMessageId ? { msrpMessageId: r.msrpMessageId } : {}) },
  };
  ctx.calls.set(as, rec);
  // Each UE's record, once it is opened (decrypted and verified, or refused); `opening` ones are waited for.
  const collect = async (): Promise<number> => {
    let opening = 0;
    for (const [n, u] of ctx.ues) {
      if (n === from || rec.message.receivedBy[n]) continue;
      // A server that forwards (an IM server) sends the same body under a new Call-ID.
      const got = (await u.messages().catch(() => ({ messages: [] }))).messages.find((x) => x.callId === r.callId || (r.bodySha256 !== undefined && x.bodySha256 === r.bodySha256));
      if (got?.state === 'opening') opening++;
      else if (got) rec.message.receivedBy[n] = got;
    }
    return opening;
  };
  await poll(ctx, `${as}: a UE recorded MESSAGE ${r.callId}`, async (note) => {
    const opening = await collect();
    const names = Object.keys(rec.message.receivedBy);
    note(`recorded by ${names.join(', ') || 'nobody yet'}${opening ? `, ${opening} still opening it` : ''}`);
    return names.length && !opening ? true : undefined;
  });
  // Forked to several devices: give the others a moment to record theirs too.
  await new Promise((res) => setTimeout(res, 300));
  await poll(ctx, `${as}: every UE opened MESSAGE ${r.callId}`, async () => ((await collect()) === 0 ? true : undefined));
  const accepted = Object.entries(rec.message.receivedBy).filter(([, x]) => x.accepted).map(([n]) => n);
  if (accepted.length) rec.answeredBy = accepted[0];
  ctx.progress(`  ${from} -> ${to} MESSAGE ${as} (${r.structure}, ${r.bytes} bytes over ${r.transport}): ${r.status} ${r.reason}; recorded by ${Object.entries(rec.message.receivedBy).map(([n, x]) => `${n} (${x.accepted ? 'accepted' : `refused: ${x.refusal?.code}`})`).join(', ')}`);
}

/**
 * A message the network could not deliver (outcome `failed`): a 408, 477 or 5xx
 * and no UE that recorded it. After a fault step it carries the faults so
 * far, so that its verdict names the element.
 */
async function failedMessage(ctx: StepContext, m: z.output<Shapes['message']>, r: MessageSent): Promise<void> {
  const { from, to, security = 'none', as } = m;
  // 477: Kamailio could not send to the next hop at all (its packets refused by the host: a cut-off server).
  if (r.status !== 408 && r.status !== 477 && r.status < 500) throw new StepError(`${as}: ${from} -> ${to} got ${r.status} ${r.reason}; expected the network to give up (408, 477 or 5xx)`);
  const rec: MessageCallRecord = {
    alias: as, callId: r.callId, from, ...(ctx.faults.length ? { faults: [...ctx.faults] } : {}),
    message: { to, security, marker: markerFor(r.callId, 'orig'), status: r.status, reason: r.reason, bytes: r.bytes, transport: r.transport, structure: r.structure, receivedBy: {} },
  };
  ctx.calls.set(as, rec);
  for (const [n, u] of ctx.ues) {
    if (n === from || ctx.silenced.has(n)) continue;
    const got = (await u.messages().catch(() => ({ messages: [] }))).messages.find((x) => x.callId === r.callId || (r.bodySha256 !== undefined && x.bodySha256 === r.bodySha256));
    if (got) throw new StepError(`${as}: ${n} recorded it (${got.state}); expected nobody to get it (${r.status} ${r.reason})`);
  }
  ctx.progress(`  ${from} -> ${to} MESSAGE ${as} failed as expected: ${r.status} ${r.reason}`);
}

/** Polls UE `by` until it recorded and opened message `alias` (matched by Call-ID or, forwarded by a server, by its body). */
async function waitMessage(ctx: StepContext, alias: string, by: string): Promise<void> {
  const rec = call(ctx, alias) as Partial<MessageCallRecord>;
  if (!rec.message) throw new StepError(`wait-message: ${alias} is not a message (name a message step's "as")`);
  const m = rec.message;
  const sha = m.bodySha256;
  const callId = rec.callId;
  const got = await poll(ctx, `${alias}: ${by} recorded it`, async (note) => {
    const all = (await ue(ctx, by).messages().catch(() => ({ messages: [] }))).messages;
    const x = all.find((y) => y.callId === callId || (sha !== undefined && y.bodySha256 === sha));
    note(x ? `${by} is ${x.state === 'opening' ? 'still opening it' : 'done'}` : `${by} has recorded ${all.length} other message(s)`);
    return x && x.state !== 'opening' ? x : undefined;
  });
  m.receivedBy[by] = got;
  ctx.progress(`  ${by} received ${alias} (${got.accepted ? 'accepted' : `refused: ${got.refusal?.code}`})`);
}

/** The PoC server's status (its control API), or undefined when it does not answer. */
async function pocStatus(ctx: StepContext): Promise<{ groups: Array<{ user: string; members: Array<{ callId: string; replay: { bursts: number; delivered: number; replaying: boolean } }> }> } | undefined> {
  try {
    const r = await fetch(`${ctx.controlUrl!('poc')}/status`, { signal: AbortSignal.timeout(5_000) });
    return r.ok ? ((await r.json()) as never) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls the PoC server until the replay of recordings on `alias` is over (every burst played). */
async function waitRecordings(ctx: StepContext, alias: string): Promise<void> {
  if (!ctx.controlUrl) throw new StepError('wait-recordings: this target gives no element control URLs');
  const c = call(ctx, alias);
  await poll(ctx, `call ${alias}: recordings played`, async (note) => {
    const s = await pocStatus(ctx);
    const m = s?.groups.flatMap((g) => g.members).find((x) => x.callId === c.callId);
    note(m ? `replay ${JSON.stringify(m.replay)}` : s ? `${c.from}'s call is not joined at the PoC server` : 'the PoC server does not answer');
    if (m && m.replay.bursts === 0) throw new StepError(`call ${alias}: the PoC server had no recordings for ${c.from}`);
    return m && !m.replay.replaying && m.replay.delivered >= m.replay.bursts ? true : undefined;
  });
  ctx.progress(`  the PoC server played ${c.from}'s recordings on ${alias}`);
}

/** Removes `member` (a user name) from `group` at the KMS's control API. */
/** An inject step: what the target's media port received so far (the captures), turned into the attack, sent by the attacker element. */
async function injectStep(ctx: StepContext, s: z.output<Shapes['inject']>): Promise<void> {
  if (!ctx.controlUrl || !ctx.captureDir) throw new StepError('inject: this target gives no element control URLs or captures');
  const c = call(ctx, s.call);
  const local = (await findCall(ue(ctx, s.into), c.callId))?.media.local;
  const at = local ? /^(.*):(\d+)$/.exec(local) : null;
  if (!at) throw new StepError(`inject: ${s.into} has no media port on ${s.call} (is it in the call?)`);
  const datagrams = attackDatagrams(s.attack, capturedTo(ctx.captureDir, at[1]!, Number(at[2])), s.packets);
  if (datagrams.length === 0) throw new StepError(`inject: no packet to ${local} in the captures yet: nothing to ${s.attack}`);
  let r: { status: number; text: string };
  try {
    r = await httpJson('POST', `${ctx.controlUrl('attacker')}/send`, { to: local, datagrams: datagrams.map((d) => d.toString('base64')), intervalMs: 10 }, 10_000 + datagrams.length * 20);
  } catch (e) {
    throw new StepError(`inject: the attacker's control API did not answer: ${(e as Error).message} (is "attacker" in network.servers?)`);
  }
  if (r.status !== 200) throw new StepError(`inject: the attacker refused: ${r.status} ${r.text.slice(0, 300)}`);
  // The packets are on their way; give the UE a moment to count them.
  await new Promise((res) => setTimeout(res, 200));
  ctx.progress(`  the attacker sent ${datagrams.length} ${s.attack} packet(s) to ${s.into} (${local}) on ${s.call}`);
}

/** A spoof-call step: the attacker's INVITE to the UE's SIP port; what the UE made of it is left to the expectations. */
async function spoofCall(ctx: StepContext, s: z.output<Shapes['spoof-call']>): Promise<void> {
  if (!ctx.controlUrl || !ctx.addressOf) throw new StepError('spoof-call: this target gives no element control URLs or addresses');
  const target = ctx.addressOf(s.into);
  const attacker = target.replace(/\.\d+$/, '.66');
  const { callId, datagram } = spoofedInvite({ from: s.claiming, target: { user: s.into, address: target }, attacker, sipPort: SIP_PORT, mediaPort: 40_000 });
  let r: { status: number; text: string };
  try {
    r = await httpJson('POST', `${ctx.controlUrl('attacker')}/send`, { to: `${target}:${SIP_PORT}`, datagrams: [datagram.toString('base64')], intervalMs: 0 }, 10_000);
  } catch (e) {
    throw new StepError(`spoof-call: the attacker's control API did not answer: ${(e as Error).message} (is "attacker" in network.servers?)`);
  }
  if (r.status !== 200) throw new StepError(`spoof-call: the attacker refused: ${r.status} ${r.text.slice(0, 300)}`);
  ctx.calls.set(s.as, { alias: s.as, callId, from: 'attacker' });
  // The absence of a call is the point: watch the UE for a bounded time rather than wait for a state.
  const u = ue(ctx, s.into);
  let seen: CallStatus | undefined;
  for (const until = Date.now() + 2000; Date.now() < until && seen?.state !== 'confirmed';) {
    seen = await findCall(u, callId);
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  ctx.progress(`  the attacker sent ${s.into} an INVITE claiming ${s.claiming} (${callId}): ${seen ? `${s.into} recorded it, ${seen.state}` : `${s.into} has no record of it`}`);
}

async function groupRemove(ctx: StepContext, group: string, member: string): Promise<void> {
  if (!ctx.controlUrl) throw new StepError('group-remove: this target gives no element control URLs');
  const domain = group.slice(group.lastIndexOf('@') + 1);
  const memberUri = member.includes(':') ? member : `sip:${member}@${domain}`;
  let res: Response;
  try {
    res = await fetch(`${ctx.controlUrl('kms')}/groups/remove`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group, member: memberUri }), signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new StepError(`group-remove: the KMS's control API did not answer: ${(e as Error).message} (is "kms" in network.servers?)`);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; epoch?: number };
  if (!res.ok) throw new StepError(`group-remove: the KMS refused to remove ${memberUri} from ${group}: ${res.status} ${body.error ?? ''}`);
  ctx.progress(`  removed ${memberUri} from ${group} at the KMS: epoch ${body.epoch}`);
}

export async function runSteps(ctx: StepContext, steps: readonly Step[]): Promise<void> {
  for (const step of steps) await runStep(ctx, step);
}

/**
 * Every UE's view of every call, kept as evidence next to the captures. A UE
 * that does not answer is left out: its checks then say "no evidence", an
 * empty list would say "no call".
 */
export async function snapshotCalls(ctx: StepContext): Promise<Record<string, CallStatus[]>> {
  const out: Record<string, CallStatus[]> = {};
  for (const [name, u] of ctx.ues) {
    // Asking a killed or frozen UE would only wait for its timeout.
    if (ctx.silenced.has(name)) continue;
    try {
      out[name] = await u.calls();
    } catch {
      // no answer: no evidence
    }
  }
  return out;
}
