/**
 * A PoC member that offers video and/or real-time text after its audio, as
 * the UEs do in poc-e2e mode: TestMember (SIP, audio RTP/RTCP, floor control)
 * plus an RTP/RTCP socket pair per further stream on the same address. The
 * sections are the shapes of @imslab/probe's VideoProbeSender and
 * T140ProbeSender sdpLines, RTP/SAVP, no key lines (the group key keys them).
 */
import type { Socket } from 'node:dgram';
import { readExtraStreams, type OfferedStream } from '@imslab/app-server';
import { bindUdp, TestMember, type MemberCall } from './member.ts';

export const VIDEO_PORT = 40002;
export const TEXT_PORT = 40004;

export const videoLines = (port = VIDEO_PORT): string[] => [
  `m=video ${port} RTP/SAVP 99`, 'b=AS:420', 'a=rtpmap:99 H264/90000',
  'a=fmtp:99 profile-level-id=42c00a;packetization-mode=1;sprop-parameter-sets=Z0LACpZUBQHsgA==,aM4G4g==', 'a=framerate:10',
];
export const textLines = (port = TEXT_PORT): string[] => [`m=text ${port} RTP/SAVP 100 98`, 'a=rtpmap:100 red/1000', 'a=fmtp:100 98/98/98', 'a=rtpmap:98 t140/1000'];

/** One further stream at the member: what arrived on its RTP port. */
export interface MemberStream {
  type: 'video' | 'text';
  rtp: Socket;
  rtcp: Socket;
  rtpIn: Buffer[];
}

export class StreamMember {
  /** The answer's further sections, in order (after join). */
  answered: OfferedStream[] = [];

  private constructor(readonly m: TestMember, readonly streams: MemberStream[]) {
    for (const s of streams) s.rtp.on('message', (d) => s.rtpIn.push(d));
  }

  /** `types`: the further streams it offers, in order (none: audio only). */
  static async open(address: string, server: { address: string; port: number }, types: Array<'video' | 'text'>): Promise<StreamMember> {
    const m = await TestMember.open(address, server);
    const streams: MemberStream[] = [];
    for (const type of types) {
      const port = type === 'video' ? VIDEO_PORT : TEXT_PORT;
      streams.push({ type, rtp: await bindUdp(address, port), rtcp: await bindUdp(address, port + 1), rtpIn: [] });
    }
    return new StreamMember(m, streams);
  }

  /** Its offer: TestMember's audio with its client-server key, then `sections` (default its streams' sections). */
  offerSdp(sections: string[][] = this.streams.map((s) => (s.type === 'video' ? videoLines() : textLines()))): string {
    return this.m.offerSdp() + sections.flat().map((l) => `${l}\r\n`).join('');
  }

  async join(requestUri: string, identity: string, sdp = this.offerSdp()): Promise<MemberCall> {
    const call = await this.m.join(requestUri, identity, sdp);
    this.answered = call.response.status < 300 ? readExtraStreams(call.response.body.toString('utf8')) : [];
    return call;
  }

  stream(type: 'video' | 'text'): MemberStream {
    const s = this.streams.find((x) => x.type === type);
    if (!s) throw new Error(`no ${type} stream`);
    return s;
  }

  /** The server's port for our stream of `type`, from its answer. */
  serverPort(type: 'video' | 'text'): number {
    const a = this.answered.find((x) => x.type === type);
    if (!a) throw new Error(`no ${type} in the answer`);
    return a.port;
  }

  /** A datagram from our `type` stream's RTP (or RTCP) socket to the server's port for it (or port + 1). */
  send(type: 'video' | 'text', b: Buffer, rtcp = false): Promise<void> {
    const s = this.stream(type);
    const port = this.serverPort(type) + (rtcp ? 1 : 0);
    const address = this.m.call!.answer!.address;
    return new Promise((resolve, reject) => (rtcp ? s.rtcp : s.rtp).send(b, port, address, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    const closeUdp = (s: Socket) => new Promise<void>((r) => {
      try {
        s.close(() => r());
      } catch {
        r(); // already closed
      }
    });
    await Promise.all([this.m.close(), ...this.streams.flatMap((s) => [closeUdp(s.rtp), closeUdp(s.rtcp)])]);
  }
}
