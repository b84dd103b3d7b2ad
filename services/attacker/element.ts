import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { CONTROL_PORT, defineKind, type PlannedElement } from '@imslab/topology';
import { AttackerConfigSchema, type AttackerConfigInput } from './src/config.ts';

/**
 * The attacker (issue 13): a host on every network (host .66), which a
 * scenario's `inject` step uses to send packets at a UE or a server from an
 * address that belongs to nobody in the IMS: replayed or tampered SRTP taken
 * from a link's capture, plaintext RTP. It holds no key.
 */
export interface AttackerPlan extends PlannedElement {
  kind: 'attacker';
  /** Core, access-a, access-b (the control API on the core address). */
  address: string;
  all: string[];
}

/** Host number of the attacker on every network (between the servers and the devices). */
export const ATTACKER_HOST = 66;

export const attacker = defineKind<AttackerPlan>()({
  kind: 'attacker',
  summary: 'attacker: a host on every network that sends what a scenario gives it (replayed or tampered SRTP, plaintext RTP) at a UE or a server; no key',
  presence: 'on-demand',
  stage: 0,
  image: { name: 'attacker', node: { service: 'attacker' } },
  leaves: 'logs',
  plan(ctx) {
    const addresses = { 'access-a': ctx.at('access-a', ATTACKER_HOST), core: ctx.at('core', ATTACKER_HOST), 'access-b': ctx.at('access-b', ATTACKER_HOST) };
    return [{ kind: 'attacker', name: 'attacker', addresses, address: addresses.core, all: [addresses.core, addresses['access-a'], addresses['access-b']] }];
  },
  render(e, p) {
    const cfg: AttackerConfigInput = { name: e.name, addresses: e.all, controlPort: CONTROL_PORT };
    checkStrict(AttackerConfigSchema, cfg, `${e.name} attacker.json`);
    return { files: { 'attacker.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('attacker'), '--config', join(p.configDir, 'attacker.json')] };
  },
  listens: (e) => [{ element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' }],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
});
