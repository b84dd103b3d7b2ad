import { createSocket, type Socket } from 'node:dgram';

/**
 * Binds a UDP socket for RTP on the first free even port of [min, max]
 * (RTCP is not used by the servers: they relay or store RTP only).
 */
export async function bindRtp(address: string, min: number, max: number): Promise<{ socket: Socket; port: number }> {
  for (let port = min + (min % 2); port <= max; port += 2) {
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, address, () => resolve(true));
    });
    if (ok) {
      socket.on('error', () => undefined);
      return { socket, port };
    }
    socket.close();
  }
  throw new Error(`no free RTP port on ${address} in ${min}-${max}: too many calls at once`);
}

/** Closes a socket, ignoring "already closed". */
export function closeQuietly(s: Socket): void {
  try {
    s.close();
  } catch {
    // already closed
  }
}
