import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { APP_SERVER_MEDIA_PORTS, CONTROL_PORT, SIP_PORT, defineKind, type PlannedElement } from '@imslab/topology';
import { z } from 'zod';
import { storeAndForwardEvidence, voicemailStoreAtRest, type StoreAndForward, type StoreAtRest } from './evidence.ts';
import { MAILBOX_ACCESS, VOICEMAIL_ATTACKS, VoicemailConfigSchema, type MailboxAccess, type VoicemailAttack, type VoicemailConfigInput } from './src/config.ts';
import { STORE_DIR } from './src/contract.ts';

/**
 * The voicemail application server (TR 33.828 4.1.2): stores deposits
 * exactly as they arrived and plays them back byte for byte; never holds an
 * e2e key. Reached by forwarding (Diversion names the mailbox) or by
 * `sip:voicemail@<domain>`.
 */
export interface VoicemailPlan extends PlannedElement {
  kind: 'voicemail';
  address: string;
  domain: string;
  mailboxAccess: MailboxAccess;
  attack: VoicemailAttack | null;
}

/** The voicemail's Request-URI user (forwarding rules name sip:voicemail@<domain>). */
export const VOICEMAIL_USER = 'voicemail';
const HOST = 60;

declare module '@imslab/topology' {
  interface EvidenceTypes {
    /** What reached the voicemail and what it played back, compared packet by packet (core capture). */
    'store-and-forward': StoreAndForward;
    /** The voicemail's store at rest: messages, probe markers and key bytes found in it. */
    'voicemail-store': StoreAtRest | null;
  }
}

export const voicemail = defineKind<VoicemailPlan>()({
  kind: 'voicemail',
  summary: 'voicemail AS: stores deposits as they arrived (ciphertext stays ciphertext), plays them back byte for byte',
  presence: 'on-demand',
  stage: 0,
  overrides: {
    /** Who may retrieve a mailbox (default owner); what a compromised voicemail does on retrieval (default nothing). */
    voicemail: strictObject({ mailboxAccess: z.enum(MAILBOX_ACCESS).optional(), attack: z.enum(VOICEMAIL_ATTACKS).optional() }, 'voicemail'),
  },
  image: { name: 'voicemail', node: { service: 'voicemail' } },
  leaves: 'logs',
  plan(ctx) {
    const address = ctx.at('core', HOST);
    return [{ kind: 'voicemail', name: 'voicemail', addresses: { core: address }, address, domain: ctx.domain, mailboxAccess: ctx.own.voicemail?.mailboxAccess ?? 'owner', attack: ctx.own.voicemail?.attack ?? null }];
  },
  render(e, p) {
    const cfg: VoicemailConfigInput = {
      name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain,
      storeDir: join(p.runDir, STORE_DIR), ...APP_SERVER_MEDIA_PORTS, mailboxAccess: e.mailboxAccess, attack: e.attack,
    };
    checkStrict(VoicemailConfigSchema, cfg, `${e.name} voicemail.json`);
    return { files: { 'voicemail.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('voicemail'), '--config', join(p.configDir, 'voicemail.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  volumes: () => [{ name: 'store', path: STORE_DIR }],
  sipRoutes: (e) => ({ [VOICEMAIL_USER]: e.address }),
  evidence: {
    afterRun: [
      { name: 'store-and-forward', collect: async (e, ctx) => (ctx.captures.core ? storeAndForwardEvidence(ctx.captures.core, e.name, e.address) : null) },
      { name: 'voicemail-store', collect: async (_e, ctx) => voicemailStoreAtRest(ctx.dir, ctx.storeFindings) },
    ],
  },
});
