/**
 * A PoC group member for the tests: the shared SIP test peer, an RTP socket
 * on an even port and RTCP on the next (floor control arrives there), and
 * its client-server key. It joins as the S-CSCF would deliver the INVITE
 * (P-Asserted-Identity) and speaks floor control as SRTCP under that key.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readOffer, type OfferedMedia } from '@imslab/app-server';
import { decodeFloorControlPacket, encodeFloorMessage, type FloorMessage } from '@imslab/floor-control';
import type { SipResponse } from '@imslab/sip';
import { offerSdp, SipPeer, UacCall } from '@imslab/sip/test-peer';
import { contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext } from '@imslab/srtp';

export const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const MEDIA_PORT = 40000;

/** A UDP socket bound at `address:port`, errors after binding ignored (a test member's media and RTCP ports). */
export function bindUdp(address: string, port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

function closeUdp(s: Socket): Promise<void> {
  return new Promise((r) => {
    try {
      s.close(() => r());
    } catch {
      r(); // already closed
    }
  });
}

export interface MemberCall {
  uac: UacCall;
  response: SipResponse;
  answer?: OfferedMedia;
}

export class TestMember {
  readonly rtpIn: Buffer[] = [];
  readonly rtcpIn: Buffer[] = [];
  /** Our client-server key (a=crypto value) and its sending context. */
  readonly keyLine: string;
  private readonly tx: SrtpContext;
  private rx: SrtpContext | undefined;
  /** e2m2e: our media sender under our key, and the receiver under the server's key for our leg. */
  readonly mediaTx: SrtpContext;
  mediaRx: SrtpContext | undefined;
  call: MemberCall | undefined;

  private constructor(
    readonly sip: SipPeer, readonly rtp: Socket, readonly rtcp: Socket, readonly address: string, private readonly server: { address: string; port: number },
    /** A client-server key sent by MIKEY-SAKKE instead of SDES: the a=key-mgmt value and the SRTP master key both sides derive. */
    private readonly csk?: { keyMgmt: string; srtp: { masterKey: Uint8Array; masterSalt: Uint8Array } },
  ) {
    rtp.on('message', (d) => this.rtpIn.push(d));
    rtcp.on('message', (d) => this.rtcpIn.push(d));
    const keySalt = generateKeySalt(SUITE);
    this.keyLine = formatCryptoAttribute({ tag: 1, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }).replace(/^a=crypto:/, '');
    const ours = () => (csk ? new SrtpContext({ profile: SUITE, ...csk.srtp }) : new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(this.keyLine))));
    this.tx = ours();
    this.mediaTx = ours();
    // One CSK both ways: the server's SRTCP verifies under it (the answer carries no key).
    if (csk) this.rx = ours();
  }

  static async open(address: string, server: { address: string; port: number }, csk?: { keyMgmt: string; srtp: { masterKey: Uint8Array; masterSalt: Uint8Array } }): Promise<TestMember> {
    return new TestMember(await SipPeer.open(address), await bindUdp(address, MEDIA_PORT), await bindUdp(address, MEDIA_PORT + 1), address, server, csk);
  }

  offerSdp(o: { profile?: string; crypto?: string[]; keyMgmt?: string[] } = {}): string {
    const keyMgmt = o.keyMgmt ?? (this.csk && !o.crypto ? [this.csk.keyMgmt] : []);
    const crypto = o.crypto ?? (this.csk ? [] : [this.keyLine]);
    return offerSdp({ address: this.address, port: MEDIA_PORT, profile: o.profile ?? 'RTP/SAVP', crypto, extra: keyMgmt.map((k) => `a=key-mgmt:${k}`) });
  }

  /** INVITE as `identity`, its final response and the ACK; keeps the server's floor key from a 2xx. */
  async join(requestUri: string, identity: string, sdp = this.offerSdp()): Promise<MemberCall> {
    const uac = new UacCall(this.sip, {
      host: this.server.address, port: this.server.port, uri: requestUri, from: identity, to: requestUri,
      headers: [['P-Asserted-Identity', `<${identity}>`]],
    });
    const response = await uac.establish(sdp);
    const answer = response.status < 300 ? readOffer(response.body.toString('utf8')) : undefined;
    if (answer?.crypto[0]) {
      this.rx = new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(answer.crypto[0])));
      this.mediaRx = new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(answer.crypto[0])));
    }
    this.call = { uac, response, ...(answer ? { answer } : {}) };
    return this.call;
  }

  private get media(): OfferedMedia {
    if (!this.call?.answer) throw new Error('not joined');
    return this.call.answer;
  }

  /** A floor control message as SRTCP under our client-server key, to the server's RTCP port. */
  sendFloor(m: Omit<FloorMessage, 'ssrc' | 'ackRequired'>, ssrc = 0x1234): Promise<void> {
    return this.sendRtcpBytes(this.tx.protectRtcp(encodeFloorMessage({ ackRequired: false, ssrc, ...m })));
  }

  sendRtcpBytes(b: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.rtcp.send(b, this.media.port + 1, this.media.address, (e) => (e ? reject(e) : resolve())));
  }

  sendRtp(b: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.rtp.send(b, this.media.port, this.media.address, (e) => (e ? reject(e) : resolve())));
  }

  /** Floor control received so far, decrypted with the server's key from the answer (anything else throws). */
  floorMessages(): FloorMessage[] {
    const rx = this.rx;
    if (!rx) throw new Error('no server key: not joined');
    const out: FloorMessage[] = [];
    for (const d of this.rtcpIn.splice(0)) {
      const r = rx.unprotectRtcp(d);
      if (!r.ok) throw new Error(`SRTCP from the server did not verify: ${r.reason}`);
      const f = decodeFloorControlPacket(r.packet);
      if (!f.ok) throw new Error(`not floor control: ${f.error.message}`);
      out.push(...f.messages);
    }
    this.seen.push(...out);
    return out;
  }

  /** Every floor message decoded so far. */
  readonly seen: FloorMessage[] = [];

  async close(): Promise<void> {
    await Promise.all([this.sip.close(), closeUdp(this.rtp), closeUdp(this.rtcp)]);
  }
}
