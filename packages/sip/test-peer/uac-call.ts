import {
  createAckForNon2xx, createCancel, createRequest, nameAddrsOf, newBranch, newTag, tagOf, toOf, type SipRequest, type SipResponse, type ViaSpec,
} from '../src/index.ts';
import { isResponse } from './match.ts';
import type { SipPeer } from './sip-peer.ts';

export interface UacSpec {
  /** Where the requests go (the element's SIP socket). */
  host: string;
  port: number;
  uri: string;
  /** From and To URIs (without `<>`). */
  from: string;
  to: string;
  /** Contact URI; default `sip:ue@<peer address>:<port>`. null: no Contact header (a malformed INVITE). */
  contact?: string | null;
  /** Headers every INVITE carries (P-Asserted-Identity, Diversion, Record-Route as a proxy would add). */
  headers?: Array<[string, string]>;
}

/**
 * The caller side of one INVITE dialog, built with @imslab/sip's builders
 * but kept by hand: no dialog state beyond the tags, so a test can send what
 * the dialog rules forbid (a BYE with a made-up To tag). ACK and BYE go to
 * `spec.host`; BYE's Request-URI is the INVITE's, without a route set.
 */
export class UacCall {
  readonly callId = `${newTag()}@test.invalid`;
  readonly fromTag = newTag();
  /** Branch of the INVITE (its CANCEL and non-2xx ACK reuse it). */
  readonly branch = newBranch();
  /** From the final response to the INVITE; a test may set it. */
  toTag: string | undefined;
  cseq = 1;
  private sentInvite: SipRequest | undefined;

  constructor(readonly peer: SipPeer, readonly spec: UacSpec) {}

  private via(branch = newBranch()): ViaSpec {
    return { transport: 'UDP', host: this.peer.address, port: this.peer.port, branch, rport: true };
  }

  private get from(): string {
    return `<${this.spec.from}>;tag=${this.fromTag}`;
  }

  private get to(): string {
    return `<${this.spec.to}>${this.toTag ? `;tag=${this.toTag}` : ''}`;
  }

  private sendReq(r: SipRequest): Promise<void> {
    return this.peer.send(r, this.spec.host, this.spec.port);
  }

  private invited(): SipRequest {
    if (!this.sentInvite) throw new Error('no INVITE sent yet');
    return this.sentInvite;
  }

  /** The INVITE, not sent: for a test that alters it and sends it with peer.send. */
  inviteRequest(body = '', extraHeaders: Array<[string, string]> = []): SipRequest {
    const contact = this.spec.contact === undefined ? `sip:ue@${this.peer.address}:${this.peer.port}` : this.spec.contact;
    return createRequest({
      method: 'INVITE', uri: this.spec.uri, via: this.via(this.branch), from: this.from, to: `<${this.spec.to}>`, callId: this.callId, cseq: 1,
      contact: contact ? `<${contact}>` : undefined, headers: [...(this.spec.headers ?? []), ...extraHeaders], body,
    });
  }

  invite(body = '', extraHeaders: Array<[string, string]> = []): Promise<void> {
    this.sentInvite = this.inviteRequest(body, extraHeaders);
    return this.sendReq(this.sentInvite);
  }

  /** The final response to our INVITE (or to `method`); an INVITE's sets toTag. */
  async final(timeoutMs = 3000, method = 'INVITE'): Promise<SipResponse> {
    const r = (await this.peer.next(isResponse('final', method, this.callId), `final response to ${method} ${this.callId}`, timeoutMs)) as SipResponse;
    if (method === 'INVITE') this.toTag = tagOf(toOf(r));
    return r;
  }

  cancel(): Promise<void> {
    return this.sendReq(createCancel(this.invited()));
  }

  /** ACK for a non-2xx final response: part of the INVITE transaction (same branch). */
  ackNon2xx(res: SipResponse): Promise<void> {
    return this.sendReq(createAckForNon2xx(this.invited(), res));
  }

  /** ACK for a 2xx: its own transaction (new branch), Request-URI the 2xx's Contact. */
  ack2xx(res: SipResponse): Promise<void> {
    this.toTag = tagOf(toOf(res));
    const target = nameAddrsOf(res, 'Contact')[0]?.uri ?? this.spec.uri;
    return this.sendReq(createRequest({ method: 'ACK', uri: target, via: this.via(), from: this.from, to: this.to, callId: this.callId, cseq: 1 }));
  }

  bye(): Promise<void> {
    this.cseq += 1;
    return this.sendReq(createRequest({ method: 'BYE', uri: this.spec.uri, via: this.via(), from: this.from, to: this.to, callId: this.callId, cseq: this.cseq }));
  }

  /** INVITE, its final response, and the ACK for it; returns the final response. */
  async establish(body = '', timeoutMs = 3000): Promise<SipResponse> {
    await this.invite(body);
    const r = await this.final(timeoutMs);
    await (r.status < 300 ? this.ack2xx(r) : this.ackNon2xx(r));
    return r;
  }

  /** BYE and its final response. */
  async hangUp(timeoutMs = 3000): Promise<SipResponse> {
    await this.bye();
    return this.final(timeoutMs, 'BYE');
  }
}
