import type { CallStatus } from '@imslab/ue/contract';
import { StepError } from './errors.ts';
import { httpJson, type HttpAnswer } from './http-json.ts';

/** A thin client of one UE's HTTP/JSON control API. */
export class UeClient {
  constructor(readonly name: string, readonly baseUrl: string) {}

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    let res: HttpAnswer;
    try {
      res = await httpJson(method, `${this.baseUrl}${path}`, body, timeoutMs);
    } catch (e) {
      throw new StepError(`${this.name}: ${method} ${path} failed: ${(e as Error).message}`);
    }
    const text = res.text;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new StepError(`${this.name}: ${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 120)}`);
    }
    if (res.status < 200 || res.status > 299) {
      const err = (json as { error?: string }).error ?? text;
      throw new StepError(`${this.name}: ${method} ${path} -> ${res.status}: ${err}`);
    }
    return json as T;
  }

  register(): Promise<{ registered: boolean; securityServer: string | null }> {
    return this.request('POST', '/register', {}, 15_000);
  }
  unregister(): Promise<unknown> {
    return this.request('POST', '/unregister', {}, 15_000);
  }
  call(to: string, security: string, extra: { policy?: string; designatedDevice?: string; spoofIdentity?: string; media?: string[]; firstSequence?: number } = {}): Promise<{ callId: string }> {
    return this.request('POST', '/call', { to, security, ...extra });
  }
  /** Switches security on in an established call (re-INVITE). */
  secure(callId: string, security: string): Promise<{ ok: boolean; reason?: string; securityAchieved?: string }> {
    return this.request('POST', `/calls/${encodeURIComponent(callId)}/secure`, { security }, 15_000);
  }
  /** Floor control on a PoC call: request, release, or talk without the floor. */
  floor(callId: string, action: 'request' | 'release' | 'talk-without-floor'): Promise<{ callId: string; floor: NonNullable<CallStatus['floor']> }> {
    return this.request('POST', `/calls/${encodeURIComponent(callId)}/floor`, { action });
  }
  /** Re-keys a group call (the group's current key from the KMS); resolves with the refusal text when the KMS refused (403). */
  async rekey(callId: string, activate = true): Promise<{ refused: string } | { changed: boolean; pending?: boolean; gmkId?: string }> {
    try {
      return await this.request('POST', `/calls/${encodeURIComponent(callId)}/rekey`, { activate }, 15_000);
    } catch (e) {
      const m = /-> 403: (.*)$/s.exec((e as Error).message);
      if (m) return { refused: m[1]! };
      throw e;
    }
  }
  /** Hangs up; with waitBye the answer comes once the far end answered the BYE (or after 5 s). */
  hangup(callId: string, opts: { waitBye?: boolean } = {}): Promise<unknown> {
    return this.request('POST', '/hangup', { callId, ...(opts.waitBye ? { waitBye: true } : {}) });
  }
  async calls(): Promise<CallStatus[]> {
    return (await this.request<{ calls: CallStatus[] }>('GET', '/calls')).calls;
  }

  /** Joins a chat room (MSRP session through the relay to the chat server) and stays in it. */
  chatJoin(room: string): Promise<{ callId?: string; status: number; reason: string }> {
    return this.request('POST', '/chat/join', { room }, 45_000);
  }
  /** Leaves a chat room (BYE). */
  chatLeave(room: string): Promise<{ left: number }> {
    return this.request('POST', '/chat/leave', { room }, 20_000);
  }
  /**
   * Sends a SIP MESSAGE (pager mode) or a session-mode message; resolves with
   * its Call-ID and final response, with `tooLarge` when the UE refused to
   * send it (413: over RFC 3428's 1300 bytes while registered over UDP only),
   * or with `unreachable` when a session's MSRP relay could not be reached (409).
   */
  async message(to: string, text: string, security: string, extra: { envelope?: string; encryptFor?: string; tamper?: string; recipients?: string[]; mode?: string; file?: { name: string; type: string; size: number } } = {}): Promise<MessageSent | { tooLarge: string } | { unreachable: string }> {
    try {
      return await this.request('POST', '/message', { to, text, security, ...extra }, 45_000);
    } catch (e) {
      const msg = (e as Error).message;
      const big = /-> 413: (.*)$/s.exec(msg);
      if (big) return { tooLarge: big[1]! };
      const relay = /-> 409: (cannot reach the MSRP relay.*)$/s.exec(msg);
      if (relay) return { unreachable: relay[1]! };
      throw e;
    }
  }
  /**
   * The MESSAGEs this UE received (signer, structure, refusals; whether the
   * plaintext held the marker) and sent, redacted: no plaintext or marker
   * crosses the captured links in the runner's own control traffic.
   */
  messages(): Promise<{ messages: MessageReceived[]; sent: unknown[] }> {
    return this.request('GET', '/messages?redact');
  }
}

/** POST /message's answer (services/ue/src/control-api.ts). */
export interface MessageSent {
  callId: string;
  status: number;
  reason: string;
  structure: string;
  bytes: number;
  transport: string;
  /** SHA-256 of the body sent: a server that forwards it under a new Call-ID (an IM server) keeps it. */
  bodySha256?: string;
  /** `session`: sent as an MSRP SEND in a session through the relay; its Message-ID. */
  mode?: string;
  msrpMessageId?: string;
}

/** One entry of GET /messages (services/ue/src/messaging.ts ReceivedMessage). */
export interface MessageReceived {
  callId: string;
  /** pager (SIP MESSAGE) or session (MSRP). */
  mode?: string;
  msrpMessageId?: string;
  from: string;
  asserted: string | null;
  structure: string;
  layers: string[];
  cipher?: string;
  /** The plaintext (after decryption) held the message's marker. */
  markerInText: boolean;
  /** SHA-256 of the marker its plaintext carried (the sender's, also in a copy forwarded under a new Call-ID), or null. */
  markerSha256?: string | null;
  markerInBody: boolean;
  bodySha256: string;
  signer?: string[];
  signatureVerified: boolean;
  dateCovered: boolean;
  state: 'opening' | 'accepted' | 'refused';
  accepted: boolean;
  response: { status: number; reason: string };
  refusal?: { code: string; reason: string };
  /** RFC 5547: the file received, checked against the offer's file-selector (size and SHA-1). */
  file?: { name?: string; type?: string; size: number; matchesSelector: boolean };
}
