import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { CONTROL_PORT, NG_PORT, SIP_PORT, SIP_TLS_PORT, type ElementPlan } from '@imslab/topology';
import { PrerequisiteError } from './errors.ts';

export interface PortUse { element: string; address: string; port: number; protocol: 'udp' | 'tcp' }

/** Every socket an element binds (its config listens on exactly these). */
export function portsOf(e: ElementPlan): PortUse[] {
  const u = (address: string, port: number, protocol: 'udp' | 'tcp'): PortUse => ({ element: e.name, address, port, protocol });
  switch (e.kind) {
    case 'pcscf':
      return [u(e.accessAddress, SIP_PORT, 'udp'), u(e.accessAddress, SIP_PORT, 'tcp'), u(e.accessAddress, SIP_TLS_PORT, 'tcp'), u(e.coreAddress, SIP_PORT, 'udp')];
    case 'scscf':
      return [u(e.address, SIP_PORT, 'udp'), u(e.address, SIP_PORT, 'tcp')];
    case 'ims-agw':
      return [u(e.coreAddress, NG_PORT, 'udp')];
    case 'ue':
      return [u(e.address, SIP_PORT, 'udp'), u(e.address, SIP_PORT, 'tcp'), u(e.address, SIP_TLS_PORT, 'tcp'), u(e.address, CONTROL_PORT, 'tcp')];
  }
}

function free(p: PortUse): Promise<boolean> {
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

/** Fails with one line when any element's port is taken (usually a run that was not torn down). */
export async function requireFreePorts(elements: ElementPlan[]): Promise<void> {
  const uses = elements.flatMap(portsOf);
  const busy = (await Promise.all(uses.map(async (u) => ((await free(u)) ? null : u)))).filter((u): u is PortUse => u !== null);
  if (busy.length === 0) return;
  const list = busy.slice(0, 3).map((b) => `${b.address}:${b.port}/${b.protocol} (${b.element})`).join(', ');
  throw new PrerequisiteError(`port in use: ${list}${busy.length > 3 ? ` and ${busy.length - 3} more` : ''}; another imslab run may be up: run 'imslab down'`);
}
