import { createSocket, type Socket } from 'node:dgram';

/** Binds a UDP socket on `address` (port 0: any free one). */
export async function bindUdp(address: string, port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => resolve());
  });
  // A failed send reaches its callback; an asynchronous socket error must not end the test run.
  s.on('error', () => undefined);
  return s;
}

export function closeUdp(s: Socket): Promise<void> {
  return new Promise((r) => {
    try {
      s.close(() => r());
    } catch {
      r(); // already closed
    }
  });
}

export interface SdpSpec {
  address: string;
  port: number;
  /** RTP/AVP by default. */
  profile?: string;
  /** sendrecv by default. */
  direction?: string;
  /** a=crypto values (after `a=crypto:`), RFC 4568. */
  crypto?: string[];
  /** More attribute lines, as written (`a=key-mgmt:mikey ...`). */
  extra?: string[];
}

/** An audio offer in the shape a UE sends: one PCMU stream. */
export function offerSdp(s: SdpSpec): string {
  return [
    'v=0',
    `o=ue 1 1 IN IP4 ${s.address}`,
    's=-',
    `c=IN IP4 ${s.address}`,
    't=0 0',
    `m=audio ${s.port} ${s.profile ?? 'RTP/AVP'} 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=${s.direction ?? 'sendrecv'}`,
    ...(s.crypto ?? []).map((c) => `a=crypto:${c}`),
    ...(s.extra ?? []),
  ].join('\r\n') + '\r\n';
}

/** A bare UDP socket that records every datagram with its arrival time (an RTP endpoint). */
export class RtpSink {
  readonly packets: Array<{ data: Buffer; at: number }> = [];
  private constructor(readonly socket: Socket, readonly address: string, readonly port: number) {
    socket.on('message', (data) => this.packets.push({ data, at: performance.now() }));
  }

  static async open(address: string): Promise<RtpSink> {
    const s = await bindUdp(address);
    return new RtpSink(s, address, s.address().port);
  }

  send(packet: Buffer, host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(packet, port, host, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    return closeUdp(this.socket);
  }
}
