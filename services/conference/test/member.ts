/**
 * A conference member for the tests and the bench: the shared SIP test peer
 * and an RTP socket on one address. It joins as the S-CSCF would deliver the
 * call (P-Asserted-Identity), offering its RTP socket (a=ptime:20, RTP/SAVP
 * unless told), and sends media to the address the bridge answered with.
 * Also the SDES helpers the e2m2e legs need.
 */
import { readOffer, type OfferedMedia } from '@imslab/app-server';
import type { SipResponse } from '@imslab/sip';
import { offerSdp, RtpSink, SipPeer, UacCall } from '@imslab/sip/test-peer';
import { contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext } from '@imslab/srtp';

export const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** A fresh SDES key and the a=crypto value offering it. */
export function newSdesKey(tag = 1): { line: string; keySalt: Buffer } {
  const keySalt = generateKeySalt(SUITE);
  return { keySalt, line: formatCryptoAttribute({ tag, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }) };
}

/** SrtpContext from an a=crypto value (ours for sending, the bridge's for receiving). */
export function contextFromCryptoLine(line: string): SrtpContext {
  return new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(line)));
}

export interface PeerCall {
  uac: UacCall;
  callId: string;
  /** The final response to the INVITE (already ACKed). */
  response: SipResponse;
  /** The SDP answer of a 2xx. */
  answer?: OfferedMedia;
}

export class Member {
  private constructor(readonly sip: SipPeer, readonly rtp: RtpSink, private readonly bridge: { address: string; port: number }) {}

  static async open(address: string, bridge: { address: string; port: number }): Promise<Member> {
    return new Member(await SipPeer.open(address), await RtpSink.open(address), bridge);
  }

  /** Every datagram received on the RTP socket, in arrival order. */
  get media(): Buffer[] {
    return this.rtp.packets.map((p) => p.data);
  }

  offerSdp(o: { profile?: string; crypto?: string[] } = {}): string {
    return offerSdp({ address: this.rtp.address, port: this.rtp.port, profile: o.profile ?? 'RTP/SAVP', crypto: o.crypto, extra: ['a=ptime:20'] });
  }

  /** INVITE as `identity`, its final response and the ACK. */
  async invite(requestUri: string, identity: string, sdp: string): Promise<PeerCall> {
    const uac = new UacCall(this.sip, {
      host: this.bridge.address, port: this.bridge.port, uri: requestUri, from: identity, to: requestUri,
      headers: [['P-Asserted-Identity', `<${identity}>`]],
    });
    const response = await uac.establish(sdp);
    return { uac, callId: uac.callId, response, answer: response.status < 300 ? readOffer(response.body.toString('utf8')) : undefined };
  }

  /** BYE in the call's dialog; its final response. */
  bye(call: PeerCall): Promise<SipResponse> {
    return call.uac.hangUp();
  }

  /** One RTP/SRTP datagram to the bridge's media address of `call`. */
  sendMedia(call: PeerCall, packet: Buffer): Promise<void> {
    if (!call.answer) throw new Error('the call has no answer');
    return this.rtp.send(packet, call.answer.address, call.answer.port);
  }

  async close(): Promise<void> {
    await Promise.all([this.sip.close(), this.rtp.close()]);
  }
}
