import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { APP_SERVER_MEDIA_PORTS, CONTROL_PORT, SIP_PORT, TopologyError, defineKind, type PlannedElement } from '@imslab/topology';
import { z } from 'zod';
import { ConferenceConfigSchema, ConferenceEntrySchema, type ConferenceConfigInput, type ConferenceMode } from './src/config.ts';

/**
 * The conference bridge (TR 33.828 4.1.3): group-key conferences it forwards
 * without decrypting (e2e), and per-leg keyed conferences it mixes (e2m2e);
 * a factory URI makes ad-hoc ones.
 */
export interface ConferenceSpec {
  user: string;
  mode: ConferenceMode;
  /** Member user names (subscribers). */
  members: string[];
}

export interface ConferencePlan extends PlannedElement {
  kind: 'conference';
  address: string;
  domain: string;
  conferences: ConferenceSpec[];
}

/** The conference factory's Request-URI user; ad-hoc conferences it creates are conf-adhoc-<n>. */
export const CONFERENCE_FACTORY_USER = 'conference-factory';
const HOST = 70;

/** A conference in a scenario: members are user names of the subscriber file. */
const ConferenceOverride = ConferenceEntrySchema.extend({ members: z.array(z.string()) });

export const conference = defineKind<ConferencePlan>()({
  kind: 'conference',
  summary: 'conference bridge: group-key e2e forwarding, or per-leg keys with G.711 mixing (e2m2e); a factory for ad-hoc conferences',
  presence: 'on-demand',
  stage: 0,
  overrides: {
    /** Conferences the bridge hosts. */
    conferences: z.array(ConferenceOverride),
  },
  image: { name: 'conference', node: { service: 'conference' } },
  leaves: 'logs',
  plan(ctx) {
    const users = ctx.subscribers.map((s) => s.user);
    const conferences = ctx.own.conferences ?? [];
    for (const c of conferences) {
      for (const m of c.members) if (!users.includes(m)) throw new TopologyError(`conference member is not a subscriber; users: ${users.join(', ')}`, m);
    }
    const address = ctx.at('core', HOST);
    return [{ kind: 'conference', name: 'conference', addresses: { core: address }, address, domain: ctx.domain, conferences }];
  },
  render(e, p) {
    const cfg: ConferenceConfigInput = {
      name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain, ...APP_SERVER_MEDIA_PORTS,
      conferences: e.conferences.map((c) => ({ user: c.user, mode: c.mode, members: c.members.map((m) => `sip:${m}@${e.domain}`) })),
    };
    checkStrict(ConferenceConfigSchema, cfg, `${e.name} conference.json`);
    return { files: { 'conference.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('conference'), '--config', join(p.configDir, 'conference.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  sipRoutes: (e) => Object.fromEntries([...e.conferences.map((c) => c.user), CONFERENCE_FACTORY_USER].map((u) => [u, e.address])),
});
