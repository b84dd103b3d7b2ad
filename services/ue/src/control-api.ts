import { EXTRA_MEDIA_TYPES, type ExtraMediaType } from './probe-source.ts';
import { ControlServer, HttpError, type ControlRoute } from '@imslab/element-kit';
import { isValidUri, newCallId } from '@imslab/sip';
import type { CallManager } from './call-manager.ts';
import type { TicketOptions } from './call-context.ts';
import { SECURITY_MODES, TICKET_POLICIES, type SecurityMode, type TicketPolicy, type UeConfig } from './config.ts';
import { FLOOR_ACTIONS, FloorStateError, type FloorAction } from './floor-client.ts';
import { IncomingCall } from './incoming-call.ts';
import { KmsFailure, type KmsAgent } from './kms-agent.ts';
import type { Logger } from './log.ts';
import { MESSAGE_MODES, MESSAGE_SECURITY, MessageTooLargeError, MessagingUnavailableError, redacted, type MessageMode, type MessageSecurity, type Messaging } from './messaging.ts';
import { MsrpUnavailableError } from './msrp-sessions.ts';
import { MAX_FILE_BYTES, type FileSpec } from './file-transfer.ts';
import type { Registration } from './registration.ts';
import { NotRekeyable, rekeyGroupCall } from './rekey.ts';

/** Longest a hangup with waitBye waits for the BYE's answer (Timer F would be 32 s). */
const BYE_WAIT_MS = 5_000;

/**
 * What the control API drives: the UE's parts (Ue, ue.ts, provides them)
 * and its exit.
 */
export interface ControlledUe {
  readonly cfg: UeConfig;
  readonly log: Logger;
  readonly registration: Registration;
  readonly calls: CallManager;
  readonly kms: KmsAgent | undefined;
  /** SIP dropped because it came from anyone but our P-CSCF; absent in embeddings without a transport. */
  readonly sipDroppedFromStrangers?: number;
  /** Pager-mode messaging (SIP MESSAGE); absent in embeddings without it. */
  readonly messaging?: Messaging;
  /** Shutdown then exit (POST /shutdown, after the answer went out). */
  shutdownAndExit(code: number): Promise<void>;
}

/** The body as an object: none is `{}`; anything but a JSON object is a 400. */
function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function securityField(body: Record<string, unknown>, dflt: SecurityMode | undefined): SecurityMode {
  const security = body['security'] ?? dflt;
  if (!SECURITY_MODES.includes(security as SecurityMode)) throw new HttpError(400, `field "security" must be one of ${SECURITY_MODES.join(', ')}${dflt ? " (default: the config's defaultSecurity)" : ''}`);
  return security as SecurityMode;
}

/**
 * `media` of a call body: the streams besides audio, e.g. ["video", "text"].
 * Only PoC e2e calls carry them: there one group key protects all of a
 * member's media (each stream under its own SSRC); the other modes key one
 * stream per negotiation.
 */
function mediaField(body: Record<string, unknown>, security: SecurityMode): ExtraMediaType[] {
  const media = body['media'];
  if (media === undefined) return [];
  const kinds = ['audio', ...EXTRA_MEDIA_TYPES];
  if (!Array.isArray(media) || media.some((m) => typeof m !== 'string' || !kinds.includes(m)) || new Set(media).size !== media.length || media[0] !== 'audio') {
    throw new HttpError(400, `field "media" must list each of ${kinds.join(', ')} at most once, audio first, e.g. ["audio", "video", "text"]`);
  }
  const extra = media.slice(1) as ExtraMediaType[];
  if (extra.length > 0 && security !== 'poc-e2e') throw new HttpError(400, `field "media": video and text streams need security "poc-e2e" (one group key for all streams), not "${security}"`);
  return extra;
}

/** `policy` and `designatedDevice` of a body (TR 33.828 sec. 4.1.1: protection for any answering party or only the designated user and terminal). */
function ticketFields(body: Record<string, unknown>, dflt: TicketPolicy): Partial<TicketOptions> {
  const policy = body['policy'] ?? dflt;
  if (!TICKET_POLICIES.includes(policy as TicketPolicy)) throw new HttpError(400, `field "policy" must be one of ${TICKET_POLICIES.join(', ')} (default: the config's defaultPolicy)`);
  const device = body['designatedDevice'];
  if (device !== undefined && (typeof device !== 'string' || !/^[A-Za-z0-9._-]+(@[A-Za-z0-9.-]+)?$/.test(device))) throw new HttpError(400, 'field "designatedDevice" must be a device name like "bob-1" (or an NAI like "bob-1@ims.test")');
  if (policy === 'designated-device' && device === undefined) throw new HttpError(400, 'policy "designated-device" needs field "designatedDevice" naming the device, e.g. "bob-1"');
  return { policy: policy as TicketPolicy, designatedDevice: device as string | undefined };
}

function callIdField(body: Record<string, unknown>): string {
  const id = body['callId'];
  if (typeof id !== 'string' || !id) throw new HttpError(400, 'field "callId" (string) is required; GET /calls lists the call ids');
  return id;
}

/**
 * The UE's HTTP/JSON control API on address:controlPort (element-kit's
 * ControlServer). Errors are JSON `{error}` with a 4xx/5xx status and a
 * message saying what to do.
 */
export function createControlApi(ue: ControlledUe): ControlServer {
  const find = (id: string) => {
    const call = ue.calls.get(id);
    if (!call) {
      const known = ue.calls.list().map((c) => c.callId);
      throw new HttpError(404, `no call ${id}; known call ids: ${known.join(', ') || 'none'}`, { knownCallIds: known });
    }
    return call;
  };
  const routes: Record<string, ControlRoute> = {
    'GET /health': () => ({ ok: true, name: ue.cfg.name, registered: ue.registration.registered, e2aeConfirmed: ue.registration.e2aeConfirmed, busy: ue.cfg.busy, kms: ue.kms ? ue.kms.userText : null, sipDroppedFromStrangers: ue.sipDroppedFromStrangers ?? 0 }),
    'POST /register': async (_req, raw) => {
      const expires = objectBody(raw)['expires'] ?? 600;
      if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 0) throw new HttpError(400, 'field "expires" must be an integer number of seconds >= 0 (default 600)');
      const o = await ue.registration.register(expires);
      if (!o.ok) throw new HttpError(502, `REGISTER failed: ${o.reason}`, { status: o.status });
      return { registered: ue.registration.registered, status: o.status, expires: o.expires, serviceRoute: o.serviceRoute, securityServer: o.securityServer, e2aeConfirmed: ue.registration.e2aeConfirmed };
    },
    'POST /unregister': async (_req, raw) => {
      objectBody(raw);
      const o = await ue.registration.unregister();
      if (!o.ok) throw new HttpError(502, `REGISTER (unregister) failed: ${o.reason}`, { status: o.status });
      return { registered: false, status: o.status };
    },
    'POST /call': async (_req, raw) => {
      const body = objectBody(raw);
      const to = body['to'];
      if (typeof to !== 'string' || !isValidUri(to)) throw new HttpError(400, 'field "to" must be a SIP or tel URI, e.g. "sip:bob@ims.test"');
      const security = securityField(body, ue.cfg.defaultSecurity);
      // Negative tests: claim another user's identity in P-Asserted-Identity (the P-CSCF must not pass it on).
      const spoof = body['spoofIdentity'];
      if (spoof !== undefined && (typeof spoof !== 'string' || !/^sips?:[^@\s]+@\S+$/.test(spoof) || !isValidUri(spoof))) throw new HttpError(400, 'field "spoofIdentity" must be a SIP URI, e.g. "sip:carol@ims.test" (a negative test: the identity this UE claims)');
      const first = body['firstSequence'];
      if (first !== undefined && (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > 0xffff)) throw new HttpError(400, 'field "firstSequence" must be an integer from 0 to 65535: the first RTP sequence number of the call\'s streams (e.g. 65500 to roll over soon)');
      const call = ue.calls.placeCall(to, security, ticketFields(body, ue.cfg.defaultPolicy), spoof as string | undefined, mediaField(body, security), first as number | undefined);
      await Promise.resolve();
      const status = call.toStatus();
      return status.state === 'failed' ? { callId: call.callId, state: status.state, failure: status.failure } : { callId: call.callId };
    },
    'POST /answer': (_req, raw) => {
      const id = callIdField(objectBody(raw));
      const call = find(id);
      if (!(call instanceof IncomingCall)) throw new HttpError(409, `call ${id} is outgoing: only incoming calls can be answered`);
      if (!call.answerable) throw new HttpError(409, `call ${id} is ${call.state}, not ringing: nothing to answer`);
      call.answer();
      return { callId: id, state: call.state };
    },
    'POST /hangup': async (_req, raw) => {
      const body = objectBody(raw);
      const id = callIdField(body);
      const waitBye = body['waitBye'];
      if (waitBye !== undefined && typeof waitBye !== 'boolean') throw new HttpError(400, 'field "waitBye" must be true or false');
      const call = find(id);
      await call.hangup();
      // The call ends at once (RFC 3261 sec. 15.1.1); waitBye also waits, up
      // to BYE_WAIT_MS, for the far end to answer the BYE, so that what the
      // BYE ends there (a voicemail deposit being stored) has happened.
      let bye: number | null | 'pending' | undefined;
      if (waitBye && call.byeAnswer) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        bye = await Promise.race([call.byeAnswer, new Promise<'pending'>((r) => { timer = setTimeout(() => r('pending'), BYE_WAIT_MS); })]);
        clearTimeout(timer);
      }
      return { callId: id, state: call.state, ...(bye !== undefined ? { bye } : {}) };
    },
    'POST /busy': (_req, raw) => {
      const busy = objectBody(raw)['busy'];
      if (typeof busy !== 'boolean') throw new HttpError(400, 'field "busy" must be true or false');
      ue.cfg.busy = busy;
      ue.log.info(`busy ${busy ? 'on: new calls get 486 Busy Here' : 'off'}`);
      return { busy };
    },
    'GET /calls': () => ({ calls: ue.calls.list().map((c) => c.toStatus()) }),
    'GET /calls/:callId': (_req, _body, p) => find(p['callId']!).toStatus(),
    'POST /calls/:callId/secure': async (_req, raw, p) => {
      const call = find(p['callId']!);
      const body = objectBody(raw);
      const security = securityField(body, undefined);
      const ticket = body['policy'] !== undefined || body['designatedDevice'] !== undefined ? ticketFields(body, ue.cfg.defaultPolicy) : undefined;
      const busy = call.updater.cannotUpdate();
      if (busy) throw new HttpError(409, busy);
      const r = await call.updater.secure(security, ticket ? { policy: ticket.policy!, designatedDevice: ticket.designatedDevice } : undefined);
      return { callId: call.callId, state: call.state, ...r, securityHistory: call.securityHistory };
    },
    'POST /calls/:callId/floor': (_req, raw, p) => {
      const call = find(p['callId']!);
      const action = objectBody(raw)['action'];
      if (!FLOOR_ACTIONS.includes(action as FloorAction)) throw new HttpError(400, `field "action" must be one of ${FLOOR_ACTIONS.join(', ')}`);
      if (!call.floor) throw new HttpError(409, `call ${call.callId} has no floor control: only an answered PoC call (security poc-e2e or poc-e2m2e) has one`);
      if (call.ended) throw new HttpError(409, `call ${call.callId} is ${call.state}`);
      try {
        call.floor.act(action as FloorAction);
      } catch (e) {
        if (e instanceof FloorStateError) throw new HttpError(409, `cannot ${action} the floor now: ${e.message}`);
        throw e;
      }
      return { callId: call.callId, floor: call.floor.status() };
    },
    'POST /calls/:callId/rekey': async (_req, raw, p) => {
      const call = find(p['callId']!);
      const activate = raw === undefined ? true : objectBody(raw)['activate'] ?? true;
      if (typeof activate !== 'boolean') throw new HttpError(400, 'field "activate" must be true (fetch the new key and send under it) or false (fetch it and only receive under it for now)');
      try {
        const r = await rekeyGroupCall(call, ue.kms, activate);
        ue.log.info(`call ${call.callId}: re-keyed (${r.changed ? `now sending under ${r.gmkId ?? 'the new group key'}` : r.pending ? 'new key accepted on receive; not yet sent under' : 'key was current'})`);
        return { callId: call.callId, ...r };
      } catch (e) {
        if (e instanceof NotRekeyable) throw new HttpError(409, e.message);
        if (e instanceof KmsFailure) throw new HttpError(e.kind === 'refused' ? 403 : 502, e.message);
        throw e;
      }
    },
    'POST /message': async (_req, raw) => {
      const m = ue.messaging;
      if (!m) throw new HttpError(501, 'this UE has no messaging');
      const body = objectBody(raw);
      const to = body['to'];
      if (typeof to !== 'string' || !/^sips?:[^@\s]+@\S+$/.test(to) || !isValidUri(to)) throw new HttpError(400, 'field "to" must be a SIP URI, e.g. "sip:bob@ims.test"');
      const text = body['text'] ?? 'hello';
      if (typeof text !== 'string' || text.length > 4000) throw new HttpError(400, 'field "text" must be a string of at most 4000 characters (the marker is appended)');
      const security = body['security'] ?? 'none';
      if (!MESSAGE_SECURITY.includes(security as MessageSecurity)) throw new HttpError(400, `field "security" must be one of ${MESSAGE_SECURITY.join(', ')}`);
      const envelope = body['envelope'];
      if (envelope !== undefined && envelope !== 'auth-enveloped' && envelope !== 'enveloped') throw new HttpError(400, 'field "envelope" must be "auth-enveloped" (AES-GCM, the default) or "enveloped" (AES-CBC, for peers lacking AuthEnvelopedData)');
      // Negative tests: encrypt to another user's certificate, or alter the content after signing.
      const encryptFor = body['encryptFor'];
      if (encryptFor !== undefined && (typeof encryptFor !== 'string' || !/^sips?:[^@\s]+@\S+$/.test(encryptFor))) throw new HttpError(400, 'field "encryptFor" must be the SIP URI of a user in the messaging directory (a negative test: the recipient cannot decrypt)');
      const tamper = body['tamper'];
      if (tamper !== undefined && tamper !== 'signed-content') throw new HttpError(400, 'field "tamper" can only be "signed-content" (a negative test: the text changes after signing)');
      // A group URI (IM server): the members to encrypt to, one RecipientInfo each.
      const recipients = body['recipients'];
      if (recipients !== undefined && (!Array.isArray(recipients) || recipients.length === 0 || recipients.length > 32 || !recipients.every((r) => typeof r === 'string' && /^sips?:[^@\s]+@\S+$/.test(r)))) throw new HttpError(400, 'field "recipients" must be a non-empty list (at most 32) of SIP URIs of users in the messaging directory');
      if (recipients !== undefined && security !== 'smime') throw new HttpError(400, 'field "recipients" needs security "smime"');
      if ((encryptFor !== undefined || tamper !== undefined) && security !== 'smime') throw new HttpError(400, 'fields "encryptFor" and "tamper" need security "smime"');
      const mode = body['mode'] ?? 'pager';
      if (!MESSAGE_MODES.includes(mode as MessageMode)) throw new HttpError(400, `field "mode" must be one of ${MESSAGE_MODES.join(', ')} (pager: SIP MESSAGE; session: MSRP through the relay)`);
      const file = body['file'];
      const f = file as { name?: unknown; type?: unknown; size?: unknown } | undefined;
      if (f !== undefined && (typeof f !== 'object' || f === null || typeof f.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(f.name) || typeof f.type !== 'string' || !/^[a-z]+\/[a-z0-9.+-]+$/.test(f.type) || typeof f.size !== 'number' || !Number.isInteger(f.size) || f.size < 1 || f.size > MAX_FILE_BYTES)) {
        throw new HttpError(400, `field "file" must be { name: a plain file name, type: a media type like image/png, size: 1..${MAX_FILE_BYTES} bytes }`);
      }
      if (f !== undefined && mode !== 'session') throw new HttpError(400, 'field "file" needs mode "session" (RFC 5547 file transfer is an MSRP session)');
      if (mode === 'session' && (recipients !== undefined || encryptFor !== undefined || tamper !== undefined)) throw new HttpError(400, 'fields "recipients", "encryptFor" and "tamper" are for pager mode only');
      try {
        const r = await m.send({ to, text, security: security as MessageSecurity, mode: mode as MessageMode, ...(f ? { file: f as FileSpec } : {}), ...(envelope ? { envelope } : {}), ...(encryptFor ? { encryptFor } : {}), ...(tamper ? { tamper } : {}), ...(recipients ? { recipients: recipients as string[] } : {}) });
        // No marker in the answer (it is markerFor(callId, 'orig')): the control traffic is captured too.
        return { callId: r.callId, status: r.status, reason: r.reason, structure: r.structure, bytes: r.bytes, transport: r.transport, bodySha256: r.bodySha256, mode: r.mode, ...(r.msrpMessageId ? { msrpMessageId: r.msrpMessageId } : {}) };
      } catch (e) {
        if (e instanceof MessageTooLargeError) throw new HttpError(413, e.message, { size: e.size, limit: 1300, transport: e.transport, rfc: 'RFC 3428 sec. 8' });
        if (e instanceof MessagingUnavailableError || e instanceof MsrpUnavailableError) throw new HttpError(409, e.message);
        throw e;
      }
    },
    // Session mode in a chat room (TR 33.828 4.4): join and stay (messages from the room are recorded), leave.
    'POST /chat/join': async (_req, raw) => {
      const room = objectBody(raw)['room'];
      if (typeof room !== 'string' || !/^sips?:[^@\s]+@\S+$/.test(room) || !isValidUri(room)) throw new HttpError(400, 'field "room" must be the SIP URI of a chat room, e.g. "sip:chat-team@ims.test"');
      try {
        if (!ue.messaging) throw new HttpError(501, 'this UE has no messaging');
        const r = await ue.messaging.sessions.join(newCallId(ue.cfg.address), room);
        return { room, ...r };
      } catch (e) {
        if (e instanceof MsrpUnavailableError) throw new HttpError(409, e.message);
        throw e;
      }
    },
    'POST /chat/leave': async (_req, raw) => {
      const room = objectBody(raw)['room'];
      if (typeof room !== 'string') throw new HttpError(400, 'field "room" must be the SIP URI of a chat room this UE joined');
      return { room, left: ue.messaging ? await ue.messaging.sessions.leave(room) : 0 };
    },
    'GET /messages': (req) => {
      const m = ue.messaging;
      // ?redact: without plaintexts and markers (what the runner asks for while the links are captured).
      if (new URL(req.url ?? '/', 'http://ue').searchParams.has('redact')) {
        return { messages: (m?.received ?? []).map(redacted), sent: (m?.sent ?? []).map(({ text: _t, marker: _m, ...rest }) => rest), smime: m?.smimeStatus ?? 'no messaging' };
      }
      return { messages: m?.received ?? [], sent: m?.sent ?? [], smime: m?.smimeStatus ?? 'no messaging' };
    },
    'POST /shutdown': () => {
      // After the answer is sent (the server sends it as soon as this returns).
      setImmediate(() => void ue.shutdownAndExit(0));
      return { ok: true, shuttingDown: true };
    },
  };
  return new ControlServer(ue.cfg.address, ue.cfg.controlPort, routes, { log: ue.log });
}
