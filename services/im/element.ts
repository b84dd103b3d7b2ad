import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { SCSCF_HOST } from '@imslab/scscf/element';
import { CONTROL_PORT, SIP_PORT, defineKind, type PlannedElement } from '@imslab/topology';
import { ImConfigSchema, type ImConfigInput } from './src/config.ts';
import { STORE_DIR } from './src/contract.ts';

/**
 * The IM server (TR 33.828 4.3): pager-mode MESSAGEs to the IM groups of the
 * subscriber file (`imGroups`, `sip:im-<group>@<domain>`) replicated to
 * every other member through the S-CSCF with the same body bytes (the
 * sender's CMS with one RecipientInfo per member: the server holds no key);
 * a store for members who are not reachable, delivered when they next send
 * anything to the server or on a retry timer.
 */
export interface ImGroupSpec {
  /** Request-URI user part, im-<group>. */
  user: string;
  /** Member user names (subscribers). */
  members: string[];
}

export interface ImPlan extends PlannedElement {
  kind: 'im';
  address: string;
  domain: string;
  /** Where forwards go (the S-CSCF is planned after the application servers: its address comes from its host number). */
  scscf: string;
  groups: ImGroupSpec[];
}

const HOST = 90;

export const im = defineKind<ImPlan>()({
  kind: 'im',
  summary: 'IM server: pager-mode group MESSAGEs (sip:im-<group>) replicated to every member with the same CMS bytes (no key at the server), a store for offline members',
  presence: 'on-demand',
  stage: 0,
  image: { name: 'im', node: { service: 'im' } },
  leaves: 'logs',
  plan(ctx) {
    const address = ctx.at('core', HOST);
    // Member names were checked against the subscribers when the subscriber file loaded.
    const groups = ctx.imGroups.map((g) => ({ user: `im-${g.name}`, members: g.members }));
    return [{ kind: 'im', name: 'im', addresses: { core: address }, address, domain: ctx.domain, scscf: ctx.at('core', SCSCF_HOST), groups }];
  },
  render(e, p) {
    const cfg: ImConfigInput = {
      name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain,
      scscf: { address: e.scscf, port: SIP_PORT },
      groups: e.groups.map((g) => ({ user: g.user, members: g.members.map((m) => `sip:${m}@${e.domain}`) })),
      // In the run directory (logs/ after the run), where the run's store scan reads it.
      store: { dir: join(p.runDir, STORE_DIR) },
    };
    checkStrict(ImConfigSchema, cfg, `${e.name} im.json`);
    return { files: { 'im.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('im'), '--config', join(p.configDir, 'im.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  sipRoutes: (e) => Object.fromEntries(e.groups.map((g) => [g.user, e.address])),
});
