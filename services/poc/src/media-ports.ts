import { createSocket, type Socket } from 'node:dgram';
import { closeQuietly } from '@imslab/app-server';

function bind(address: string, port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp4' });
    s.once('error', () => {
      closeQuietly(s);
      resolve(null);
    });
    s.bind({ address, port, exclusive: true }, () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

/** An RTP socket on an even port and its RTCP socket on the next. */
export interface RtpPair {
  rtp: Socket;
  rtcp: Socket;
  port: number;
}

/**
 * Binds RTP on the first free even port of [min, max] and RTCP on the next
 * odd one (RFC 3550 sec. 11): floor control travels on the RTCP port
 * (TS 24.380 clause 8.1.2), so unlike the other servers the PoC server
 * needs both. A member's further streams (video, text) get a pair each.
 */
export async function bindRtpPair(address: string, min: number, max: number): Promise<RtpPair> {
  for (let port = min + (min % 2); port + 1 <= max; port += 2) {
    const rtp = await bind(address, port);
    if (!rtp) continue;
    const rtcp = await bind(address, port + 1);
    if (rtcp) return { rtp, rtcp, port };
    closeQuietly(rtp);
  }
  throw new Error(`no free RTP/RTCP port pair on ${address} in ${min}-${max}: too many members at once`);
}
