import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CmsError, RFC3428_UNKNOWN_PATH_LIMIT, SMIME_CONTENT_DISPOSITION, buildCpim, buildMimeEntity, buildSecureMessage, encryptContent, loadCredential, openSecureMessage, parseCertificates,
  parseContentType, sealCpim, smimeContentType,
  type CmsCredential, type EnvelopeKind, type OpenedMessage,
} from '@imslab/cms';
import { findMarker, markerFor } from '@imslab/probe';
import {
  callIdOf, createRequest, fromOf, nameAddrsOf, newCallId, newTag, serializeMessage, toOf,
  type ServerTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import type * as pkijs from 'pkijs';
import type { MessagingConfig, TransportName, UeConfig } from './config.ts';
import type { FileSelector } from '@imslab/msrp';
import { checkFile, fileSelectorOf, makeFile, type FileSpec, type ReceivedFile } from './file-transfer.ts';
import type { Logger } from './log.ts';
import { MsrpSessions, type FileOffer, type SessionMessage } from './msrp-sessions.ts';
import type { Registration } from './registration.ts';
import type { SipStack } from './sip-stack.ts';

/**
 * Pager-mode instant messaging (TR 33.828 sec. 4.3): SIP MESSAGE (RFC 3428)
 * through the P-CSCF and the S-CSCF, its body a CPIM message (RFC 3862),
 * either in the clear or, as RFC 8591 layers it, signed (SignedData with the
 * signing time signed) and then encrypted to the recipient's certificate
 * (AuthEnvelopedData with AES-GCM, or EnvelopedData with AES-CBC for peers
 * listed as lacking it). The recipient's certificates come from the small
 * directory in the UE's configuration (`messaging.directory`). Every message
 * text carries the probe marker of its Call-ID so captures can be searched.
 */

export const MESSAGE_SECURITY = ['none', 'smime'] as const;
export const MESSAGE_MODES = ['pager', 'session'] as const;
export type MessageMode = (typeof MESSAGE_MODES)[number];
export type MessageSecurity = (typeof MESSAGE_SECURITY)[number];

/** What structure a MESSAGE body had, outermost layer first. */
export type MessageStructure = 'text' | 'cpim' | 'signed' | 'auth-enveloped' | 'enveloped' | 'file';

/** Records kept for GET /messages, oldest dropped first. */
export const MAX_MESSAGES_KEPT = 500;
/** How long POST /message waits for the final response (Timer F is 64*T1 = 32 s). */
const FINAL_RESPONSE_CAP_MS = 40_000;

const TEXT_PLAIN = 'text/plain;charset=utf-8';

/** A MESSAGE larger than RFC 3428 allows over UDP on an unknown path, while only UDP is available. */
export class MessageTooLargeError extends Error {
  constructor(readonly size: number, readonly transport: TransportName) {
    super(`the MESSAGE is ${size} bytes, over RFC 3428 sec. 8's limit of ${RFC3428_UNKNOWN_PATH_LIMIT} bytes for a request on a path of unknown MTU without congestion control, and this UE is registered over ${transport.toUpperCase()} only: register over TCP or TLS (transport "tcp" or "tls") to send it`);
    this.name = 'MessageTooLargeError';
  }
}

/** S/MIME asked for but impossible here: no credential, or no certificate for the recipient. */
export class MessagingUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessagingUnavailableError';
  }
}

export interface SentMessage {
  callId: string;
  to: string;
  security: MessageSecurity;
  /** The text as sent, marker included. */
  text: string;
  marker: string;
  structure: MessageStructure;
  /** The RecipientInfos' certificates (subjects), for S/MIME. */
  recipients: string[];
  /** Size of the whole SIP request on the wire, and of its body. */
  bytes: number;
  bodyBytes: number;
  /** SHA-256 of the body as sent: the receiver's record has the same when no server changed it. */
  bodySha256: string;
  /** SIP MESSAGE's transport; `msrp-tls` for a message sent in an MSRP session through the relay. */
  transport: TransportName | 'msrp-tls';
  /** Pager mode (SIP MESSAGE) or session mode (MSRP SEND in an INVITE session). */
  mode: MessageMode;
  /** The MSRP Message-ID of the SEND (session mode). */
  msrpMessageId?: string;
  /** RFC 5547: the file-selector offered (name, type, size, SHA-1 of the file). */
  file?: FileSelector;
  sentAt: string;
  state: 'sending' | 'answered' | 'failed';
  /** The final response (or 408 / 503 from the transaction layer). */
  status?: number;
  reason?: string;
}

export interface ReceivedMessage {
  /** The MESSAGE's Call-ID, or the Call-ID of the INVITE that set up the MSRP session. */
  callId: string;
  mode: MessageMode;
  msrpMessageId?: string;
  /** RFC 5547: the file received (after decryption), checked against the offer's file-selector. */
  file?: ReceivedFile;
  receivedAt: string;
  /** SIP From URI (claimed) and P-Asserted-Identity (asserted by the network), when present. */
  from: string;
  asserted: string | null;
  to: string;
  contentType: string;
  bodyBytes: number;
  /** SHA-256 of the body as it arrived (compare with the sender's). */
  bodySha256: string;
  /** The marker is readable in the body as it arrived (in the clear on the last hop at least). */
  markerInBody: boolean;
  /** The outermost structure (what the network carried) and every S/MIME layer, outside in. */
  structure: MessageStructure;
  layers: string[];
  cipher?: string;
  /** The plaintext (after decryption), when the message was accepted or at least readable. */
  text?: string;
  marker: string | null;
  cpimFrom?: string;
  cpimTo?: string[];
  /** The signer's identities (subjectAltName), when a signature verified. */
  signer?: string[];
  signatureVerified: boolean;
  signingTime?: string;
  /** The CPIM DateTime is the signed signing time: the message date is covered by the signature. */
  dateCovered: boolean;
  /** `opening` while it is being decrypted and verified; then `accepted` or `refused` (and answered so). */
  state: 'opening' | 'accepted' | 'refused';
  accepted: boolean;
  response: { status: number; reason: string };
  /** Why it was refused: the @imslab/cms code (or `internal`) and a sentence. */
  refusal?: { code: string; reason: string };
}

/**
 * A record without its plaintext: no text, no marker, only whether the
 * plaintext carried the Call-ID's marker and a digest of the marker it
 * carried (a copy forwarded by an IM server has a new Call-ID but the
 * sender's marker). The runner reads these while the links are captured, so
 * that its own control traffic (plain HTTP on the UE's access address) never
 * puts a message's marker on a link.
 */
export function redacted(m: ReceivedMessage): Omit<ReceivedMessage, 'text' | 'marker'> & { markerInText: boolean; markerSha256: string | null } {
  const { text, marker: _marker, ...rest } = m;
  const found = text === undefined ? null : findMarker(Buffer.from(text, 'utf8'));
  return { ...rest, markerInText: text !== undefined && text.includes(markerFor(m.callId, 'orig')), markerSha256: found ? sha256(Buffer.from(found, 'latin1')) : null };
}

/** The SIP answer to each refusal of @imslab/cms (RFC 3261 sec. 23.2: 493 for a body not encrypted to us). */
function responseFor(code: string): { status: number; reason: string } {
  switch (code) {
    case 'not-a-recipient':
    case 'key-unwrap-failed':
    case 'integrity-failure':
    case 'no-credential':
      return { status: 493, reason: 'Undecipherable' };
    case 'bad-signature':
    case 'no-signer-certificate':
    case 'untrusted-certificate':
    case 'certificate-purpose':
    case 'identity-mismatch':
    case 'missing-signing-time':
    case 'signing-time-expired':
    case 'signing-time-future':
    case 'not-signed':
    case 'not-encrypted':
      return { status: 403, reason: 'Forbidden' };
    case 'unexpected-content-type':
    case 'unsupported-algorithm':
      return { status: 415, reason: 'Unsupported Media Type' };
    case 'internal':
      return { status: 500, reason: 'Server Internal Error' };
    default:
      return { status: 400, reason: 'Bad Request' };
  }
}

/** One line for a reason phrase or a Warning: printable ASCII, bounded. */
const oneLine = (s: string, max = 160): string => s.replace(/[^\x20-\x7e]/g, ' ').replace(/"/g, "'").slice(0, max);

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The URI of a SIP address as a directory key: scheme, user and host, no parameters. */
export function directoryKey(uri: string): string {
  const m = /^(sips?):([^@;>?]+)@([^;>?:]+)/i.exec(uri.trim());
  return m ? `sip:${m[2]}@${m[3]!.toLowerCase()}` : uri.trim();
}

function subjectOf(cert: pkijs.Certificate): string {
  const cn = cert.subject.typesAndValues.find((t) => t.type === '2.5.4.3')?.value.valueBlock.value;
  return String(cn ?? '(no CN)');
}

/**
 * RFC 8591's layering with the signed CPIM altered after signing (one bit of
 * its last text byte), then encrypted: what a recipient sees when content
 * changed between signature and encryption. For negative tests only.
 */
async function sealTampered(cpim: Uint8Array, signer: CmsCredential, recipients: pkijs.Certificate[], envelope: EnvelopeKind, when: Date): Promise<{ body: Uint8Array; contentType: string }> {
  const signed = Uint8Array.from((await sealCpim(cpim, { signer, recipients: [], encryption: 'none', signingTime: when })).body);
  const at = Buffer.from(signed).lastIndexOf(Buffer.from(cpim.subarray(cpim.length - 4)));
  if (at < 0) throw new Error('the CPIM text is not in the SignedData');
  signed[at + 3]! ^= 0x01;
  const entity = buildMimeEntity([{ name: 'Content-Type', value: smimeContentType('signed-data') }, { name: 'Content-Transfer-Encoding', value: 'binary' }], signed);
  const body = await encryptContent(entity, recipients, { kind: envelope });
  return { body, contentType: smimeContentType(envelope === 'auth-enveloped' ? 'authEnveloped-data' : 'enveloped-data') };
}

/** This UE's S/MIME material, loaded once from the files the configuration names. */
interface SmimeMaterial {
  credential: CmsCredential;
  trustAnchors: pkijs.Certificate[];
  directory: Map<string, pkijs.Certificate[]>;
  envelopedOnly: Set<string>;
}

function loadMaterial(m: MessagingConfig): SmimeMaterial {
  const read = (f: string, what: string): string => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      throw new MessagingUnavailableError(`cannot read ${what} ${f}: ${(e as Error).message}`);
    }
  };
  const credential = loadCredential({ certificate: read(m.certFile, 'the S/MIME certificate'), privateKey: read(m.keyFile, 'the S/MIME key') });
  const trustAnchors = parseCertificates(read(m.caFile, 'the CA certificate'));
  const directory = new Map<string, pkijs.Certificate[]>();
  for (const [uri, files] of Object.entries(m.directory)) directory.set(directoryKey(uri), files.flatMap((f) => parseCertificates(read(f, `the certificate of ${uri}`))));
  return { credential, trustAnchors, directory, envelopedOnly: new Set(m.envelopedOnly.map(directoryKey)) };
}

export interface SendOptions {
  to: string;
  text: string;
  security: MessageSecurity;
  /** `session`: an MSRP session through the relay (INVITE, SEND, BYE) instead of a SIP MESSAGE. */
  mode?: MessageMode;
  /** Session mode only: send a file of this name, type and size (RFC 5547) whose first line is the text. */
  file?: FileSpec;
  /** Override the envelope kind for this message (default: AuthEnvelopedData unless the peer is in `envelopedOnly`). */
  envelope?: EnvelopeKind;
  /**
   * Negative tests only. `encryptFor`: encrypt to this user's certificate
   * from the directory instead of the recipient's (a sender with the wrong
   * certificate: the recipient cannot decrypt). `tamper: 'signed-content'`:
   * flip a bit of the CPIM text after signing it, before encrypting (content
   * changed after the signature: the recipient decrypts, the signature fails).
   */
  encryptFor?: string;
  tamper?: 'signed-content';
  /**
   * S/MIME to a group URI (an IM server's `sip:im-<group>@<domain>`, which
   * is not in the directory): encrypt to these users' certificates instead,
   * one RecipientInfo each (the server forwards the same CMS to every member).
   */
  recipients?: string[];
}

/** Sends and receives MESSAGE requests; keeps what went out and what came in for GET /messages. */
export class Messaging {
  private material: SmimeMaterial | MessagingUnavailableError | undefined;
  readonly sent: SentMessage[] = [];
  readonly received: ReceivedMessage[] = [];
  /** Test seam: sees every MESSAGE just before it is sent. */
  onSend: ((req: SipRequest) => void) | undefined;

  /** Session mode: MSRP sessions through the relay. */
  readonly sessions: MsrpSessions;

  constructor(
    private readonly cfg: UeConfig,
    private readonly stack: SipStack,
    private readonly registration: Registration,
    private readonly log: Logger,
    tlsKeyLog: string,
  ) {
    this.sessions = new MsrpSessions(cfg, stack, registration, tlsKeyLog, log, (m) => this.receiveSession(m));
  }

  /** The S/MIME material, or why there is none (loaded on first use, never throws). */
  private smime(): SmimeMaterial | MessagingUnavailableError {
    if (this.material) return this.material;
    if (!this.cfg.messaging) {
      this.material = new MessagingUnavailableError(`${this.cfg.name} has no S/MIME credential (no "messaging" section in its configuration): only security "none" is possible`);
    } else {
      try {
        this.material = loadMaterial(this.cfg.messaging);
      } catch (e) {
        this.material = e instanceof MessagingUnavailableError ? e : new MessagingUnavailableError(`S/MIME credential unusable: ${(e as Error).message}`);
        this.log.warn(this.material.message);
      }
    }
    return this.material;
  }

  /** Whether S/MIME is ready, for GET /messages. */
  get smimeStatus(): string {
    const m = this.smime();
    return m instanceof Error ? `unavailable: ${m.message}` : `ready (${subjectOf(m.credential.certificate)}, ${m.directory.size} users in the directory)`;
  }

  /**
   * Builds and sends one MESSAGE; resolves with its record once the final
   * response came (or the transaction gave up). Throws
   * {@link MessageTooLargeError} and {@link MessagingUnavailableError}
   * before anything is sent.
   */
  async send(o: SendOptions): Promise<SentMessage> {
    const { cfg, stack } = this;
    const callId = newCallId(cfg.address);
    const marker = markerFor(callId, 'orig');
    const text = `${o.text} ${marker}`;
    const dateTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    let body: Uint8Array;
    let contentType: string;
    let structure: MessageStructure;
    const headers: Array<[string, string]> = [['P-Preferred-Identity', `<${cfg.impu}>`], ['User-Agent', 'imslab-ue']];
    const recipients: string[] = [];
    const file = o.file ? makeFile(o.file, text) : undefined;
    if (file && o.mode !== 'session') throw new MessagingUnavailableError('a file is sent in an MSRP session only (mode "session", RFC 5547)');
    if (file && o.security === 'none') {
      // RFC 5547: the file itself is the SEND's body, with its own media type.
      body = file;
      contentType = o.file!.type;
      structure = 'file';
    } else if (o.security === 'none') {
      // In the clear, the same CPIM the S/MIME mode protects: the comparison differs only in the protection.
      body = buildCpim({ from: { uri: cfg.impu }, to: [{ uri: o.to }], dateTime, contentType: TEXT_PLAIN, body: text });
      contentType = 'message/cpim';
      structure = 'cpim';
    } else {
      const m = this.smime();
      if (m instanceof Error) throw m;
      const keys = (o.recipients?.length ? o.recipients : [o.to]).map(directoryKey);
      const certs = keys.flatMap((key, i) => {
        const c = m.directory.get(key);
        if (!c?.length) throw new MessagingUnavailableError(`no certificate for ${o.recipients?.[i] ?? o.to} in ${cfg.name}'s messaging directory (known: ${[...m.directory.keys()].join(', ') || 'none'})`);
        return c;
      });
      const envelope: EnvelopeKind = o.envelope ?? (keys.some((k) => m.envelopedOnly.has(k)) ? 'enveloped' : 'auth-enveloped');
      let to = certs;
      if (o.encryptFor !== undefined) {
        const other = m.directory.get(directoryKey(o.encryptFor));
        if (!other?.length) throw new MessagingUnavailableError(`encryptFor: no certificate for ${o.encryptFor} in ${cfg.name}'s messaging directory`);
        to = other;
      }
      // RFC 8591: CPIM around the content (the text, or the file with its media type), signed, then encrypted.
      const message = { from: { uri: cfg.impu }, to: [{ uri: o.to }], contentType: file ? o.file!.type : TEXT_PLAIN, body: file ?? text };
      const sealed = o.tamper ? await sealTampered(buildCpim({ ...message, dateTime }), m.credential, to, envelope, dateTime) : await buildSecureMessage(message, { signer: m.credential, recipients: to, encryption: envelope, signingTime: dateTime });
      body = sealed.body;
      contentType = sealed.contentType;
      headers.push(['Content-Disposition', SMIME_CONTENT_DISPOSITION]);
      structure = envelope;
      recipients.push(...to.map(subjectOf));
    }
    if (o.mode === 'session') {
      const offer = file ? { selector: fileSelectorOf(o.file!, file), transferId: randomBytes(8).toString('hex') } : undefined;
      return this.sendInSession(callId, o, { body, contentType, structure, recipients, text, marker }, offer);
    }
    const req = createRequest({
      method: 'MESSAGE',
      uri: o.to,
      via: stack.via(),
      from: `<${cfg.impu}>;tag=${newTag()}`,
      to: `<${o.to}>`,
      callId,
      cseq: 1,
      // TS 24.229 sec. 5.1.2A.1.1: the P-CSCF as preloaded route, then the Service-Route learned at registration.
      routes: [stack.outboundRoute(), ...this.registration.serviceRoute],
      headers,
      body: Buffer.from(body),
      contentType,
    });
    const bytes = serializeMessage(req).length;
    const transport = stack.transportName;
    if (transport === 'udp' && bytes > RFC3428_UNKNOWN_PATH_LIMIT) {
      this.log.warn(`MESSAGE ${callId} to ${o.to} not sent: ${bytes} bytes over UDP`);
      throw new MessageTooLargeError(bytes, transport);
    }
    const record: SentMessage = {
      callId, to: o.to, security: o.security, text, marker, structure, recipients,
      bytes, bodyBytes: body.length, bodySha256: sha256(body), transport, mode: 'pager', sentAt: new Date().toISOString(), state: 'sending',
    };
    this.keep(this.sent, record);
    this.log.info(`MESSAGE ${callId} to ${o.to}: ${structure}, ${bytes} bytes over ${transport}`);
    this.onSend?.(req);
    await new Promise<void>((resolve) => {
      const done = (status: number, reason: string, state: SentMessage['state']): void => {
        if (record.state !== 'sending') return;
        Object.assign(record, { status, reason, state });
        resolve();
      };
      stack.sendRequest(req, {
        onResponse: (r: SipResponse) => {
          if (r.status >= 200) done(r.status, r.reason, 'answered');
        },
        onTimeout: () => done(408, 'Request Timeout (no final response to MESSAGE)', 'failed'),
        onTransportError: (e: Error) => done(503, `transport error: ${e.message}`, 'failed'),
      });
      setTimeout(() => done(408, `no final response within ${FINAL_RESPONSE_CAP_MS / 1000} s`, 'failed'), FINAL_RESPONSE_CAP_MS).unref();
    });
    this.log.info(`MESSAGE ${callId}: ${record.status} ${record.reason}`);
    return record;
  }

  /** Session mode: the sealed body as one MSRP SEND in a session through the relay. */
  private async sendInSession(callId: string, o: SendOptions, m: { body: Uint8Array; contentType: string; structure: MessageStructure; recipients: string[]; text: string; marker: string }, file?: FileOffer): Promise<SentMessage> {
    const body = Buffer.from(m.body);
    const record: SentMessage = {
      callId, to: o.to, security: o.security, text: m.text, marker: m.marker, structure: m.structure, recipients: m.recipients,
      bytes: body.length, bodyBytes: body.length, bodySha256: sha256(body), transport: 'msrp-tls', mode: 'session', sentAt: new Date().toISOString(), state: 'sending',
    };
    this.keep(this.sent, record);
    this.log.info(`MSRP session ${callId} to ${o.to}: ${m.structure}, ${body.length} bytes`);
    const r = await this.sessions.deliver(callId, o.to, body, m.contentType, file);
    Object.assign(record, { status: r.status, reason: r.reason, state: r.status >= 200 && r.status < 300 ? 'answered' : 'failed' }, r.msrpMessageId ? { msrpMessageId: r.msrpMessageId } : {}, file ? { file: file.selector } : {});
    this.log.info(`MSRP session ${callId}: ${record.status} ${record.reason}`);
    return record;
  }

  /** A MESSAGE outside a dialog: opened, recorded, answered (200, or a 4xx naming the refusal). Never throws. */
  onRequest(req: SipRequest, txn: ServerTransaction): void {
    void this.receive(req).then((rec) => {
      const { status, reason } = rec.response;
      const headers: Array<[string, string]> = rec.refusal ? [['Warning', `399 ${this.cfg.address} "${oneLine(`${rec.refusal.code}: ${rec.refusal.reason}`, 300)}"`]] : [];
      if (!txn.answered) this.stack.respond(txn, status, { reason, headers });
    }).catch((e: Error) => {
      this.log.warn(`MESSAGE handling failed: ${e.stack ?? e}`);
      if (!txn.answered) this.stack.respond(txn, 500, { reason: 'Server Internal Error' });
    });
  }

  /** Opens a MESSAGE and records it; the record says how to answer. */
  receive(req: SipRequest): Promise<ReceivedMessage> {
    const asserted = nameAddrsOf(req, 'P-Asserted-Identity')[0]?.uri ?? null;
    return this.open({ callId: callIdOf(req), from: fromOf(req).uri, asserted, to: toOf(req).uri, mode: 'pager' }, req.body, req.headers.get('Content-Type') ?? '');
  }

  /** A message that arrived in an MSRP session (the SEND was answered hop by hop already): opened and recorded. */
  private receiveSession(m: SessionMessage): void {
    void this.open({ callId: m.callId, from: m.from, asserted: m.asserted, to: m.to, mode: 'session', msrpMessageId: m.msrpMessageId, ...(m.fileSelector ? { fileSelector: m.fileSelector } : {}) }, m.body, m.contentType)
      .catch((e: Error) => this.log.warn(`MSRP message handling failed: ${e.stack ?? e}`));
  }

  /** Opens a message body (CPIM in the clear or S/MIME) and records it; the record says how to answer. */
  async open(meta: { callId: string; from: string; asserted: string | null; to: string; mode: MessageMode; msrpMessageId?: string; fileSelector?: FileSelector }, body: Buffer, contentType: string): Promise<ReceivedMessage> {
    const { asserted } = meta;
    const rec: ReceivedMessage = {
      callId: meta.callId, mode: meta.mode, ...(meta.msrpMessageId ? { msrpMessageId: meta.msrpMessageId } : {}), receivedAt: new Date().toISOString(),
      from: meta.from, asserted, to: meta.to, contentType, bodyBytes: body.length, bodySha256: sha256(body), markerInBody: findMarker(body) !== null,
      structure: 'text', layers: [], marker: findMarker(body), signatureVerified: false, dateCovered: false,
      state: 'opening', accepted: false, response: { status: 200, reason: 'OK' },
    };
    this.keep(this.received, rec);
    const refuse = (code: string, reason: string): ReceivedMessage => {
      rec.refusal = { code, reason };
      rec.state = 'refused';
      rec.response = responseFor(code);
      rec.response.reason = oneLine(`${rec.response.reason} (${code})`, 80);
      this.log.warn(`${meta.mode === 'session' ? 'MSRP message' : 'MESSAGE'} ${rec.callId} from ${asserted ?? rec.from} refused: ${rec.response.status} ${code}: ${reason}`);
      return rec;
    };
    try {
      if (!body.length) return refuse('empty', 'the MESSAGE has no body (RFC 3428 sec. 4: the body is the message)');
      const ct = parseContentType(contentType);
      if (ct.type === 'text/plain') {
        rec.text = body.toString('utf8');
        rec.accepted = true;
        rec.state = 'accepted';
        this.log.info(`${meta.mode === 'session' ? 'MSRP message' : 'MESSAGE'} ${rec.callId} from ${asserted ?? rec.from}: text/plain`);
        return rec;
      }
      if (meta.fileSelector && ct.type !== 'message/cpim' && ct.type !== 'application/pkcs7-mime') {
        // RFC 5547 in the clear: the SEND's body is the file.
        rec.structure = 'file';
        rec.file = checkFile(meta.fileSelector, body);
        rec.text = body.toString('utf8');
        rec.accepted = true;
        rec.state = 'accepted';
        this.log.info(`MSRP file ${rec.callId} from ${asserted ?? rec.from}: ${rec.file.name ?? '(no name)'} ${ct.type}, ${body.length} bytes, ${rec.file.matchesSelector ? 'matches' : 'does NOT match'} the file-selector`);
        return rec;
      }
      if (ct.type !== 'message/cpim' && ct.type !== 'application/pkcs7-mime') return refuse('unexpected-content-type', `${ct.type || '(none)'} is neither text/plain, message/cpim nor application/pkcs7-mime`);
      const smime = ct.type === 'application/pkcs7-mime' ? this.smime() : undefined;
      if (smime instanceof Error) {
        rec.structure = (ct.params['smime-type'] ?? '').toLowerCase() === 'signed-data' ? 'signed' : (ct.params['smime-type'] ?? '').toLowerCase() === 'enveloped-data' ? 'enveloped' : 'auth-enveloped';
        return refuse('no-credential', smime.message);
      }
      const material = smime ?? this.materialIfAny();
      let opened: OpenedMessage;
      try {
        opened = await openSecureMessage(new Uint8Array(body), contentType, {
          ...(material ? { recipient: material.credential } : {}),
          trustAnchors: material?.trustAnchors ?? [],
          requireSignature: false,
          // The sender as the network asserts it (P-Asserted-Identity), else as it claims: must be the signer.
          sipIdentity: asserted ?? rec.from,
        });
      } catch (e) {
        const smimeType = (ct.params['smime-type'] ?? '').toLowerCase();
        rec.structure = ct.type === 'message/cpim' ? 'cpim' : smimeType === 'signed-data' ? 'signed' : smimeType === 'enveloped-data' ? 'enveloped' : 'auth-enveloped';
        if (e instanceof CmsError) return refuse(e.code, e.message);
        throw e;
      }
      rec.layers = opened.layers;
      rec.structure = opened.layers[0] === 'authEnveloped-data' ? 'auth-enveloped' : opened.layers[0] === 'enveloped-data' ? 'enveloped' : opened.layers[0] === 'signed-data' ? 'signed' : 'cpim';
      if (opened.encryption) rec.cipher = opened.encryption.cipher;
      rec.text = Buffer.from(opened.cpim.body).toString('utf8');
      if (meta.fileSelector) rec.file = checkFile(meta.fileSelector, Buffer.from(opened.cpim.body));
      rec.marker = findMarker(opened.cpim.body);
      rec.cpimFrom = opened.cpim.from.uri;
      rec.cpimTo = opened.cpim.to.map((a) => a.uri);
      if (opened.signer) {
        rec.signer = opened.signer.identities;
        rec.signatureVerified = true;
        if (opened.signer.signingTime) {
          rec.signingTime = opened.signer.signingTime.toISOString();
          rec.dateCovered = opened.cpim.dateTime !== undefined && opened.cpim.dateTime.getTime() === opened.signer.signingTime.getTime();
        }
      }
      rec.accepted = true;
      rec.state = 'accepted';
      this.log.info(`${meta.mode === 'session' ? 'MSRP message' : 'MESSAGE'} ${rec.callId} from ${asserted ?? rec.from}: ${rec.layers.join(' > ') || 'cpim in the clear'}${rec.signatureVerified ? `, signed by ${rec.signer!.join(', ')}` : ''}`);
      return rec;
    } catch (e) {
      if (e instanceof CmsError) return refuse(e.code, e.message);
      return refuse('internal', (e as Error).message);
    }
  }

  /** The S/MIME material when it is configured and loads; undefined otherwise (a clear CPIM needs none). */
  private materialIfAny(): SmimeMaterial | undefined {
    const m = this.smime();
    return m instanceof Error ? undefined : m;
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_MESSAGES_KEPT) list.shift();
  }
}
