import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Listen } from '@imslab/topology';
import { PrerequisiteError } from './errors.ts';

function free(p: Listen): Promise<boolean> {
  return new Promise((resolve) => {
    if (p.protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => { s.close(); resolve(false); });
      s.bind(p.port, p.address, () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p.port, p.address, () => s.close(() => resolve(true)));
    }
  });
}

/** Fails with one line when any element's port is taken (usually a network that is still up). */
export async function requireFreePorts(uses: Listen[]): Promise<void> {
  const busy = (await Promise.all(uses.map(async (u) => ((await free(u)) ? null : u)))).filter((u): u is Listen => u !== null);
  if (busy.length === 0) return;
  const list = busy.slice(0, 3).map((b) => `${b.address}:${b.port}/${b.protocol} (${b.element})`).join(', ');
  throw new PrerequisiteError(`port in use: ${list}${busy.length > 3 ? ` and ${busy.length - 3} more` : ''}; another imslab network is up (imslab up?): stop it, or run 'imslab down'`);
}
