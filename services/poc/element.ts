import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { APP_SERVER_MEDIA_PORTS, CONTROL_PORT, KMS_HOST, KMS_HTTPS_PORT, SIP_PORT, defineKind, type PlannedElement } from '@imslab/topology';
import { pocBoxEvidence, type PocBoxEvidence } from './box-evidence.ts';
import { floorControlOnLinks, pocReplicationEvidence, type FloorControlOnLinks, type PocReplication } from './evidence.ts';
import { PocConfigSchema, type PocConfigInput, type PocMode } from './src/config.ts';
import { BOX_DIR } from './src/contract.ts';

declare module '@imslab/topology' {
  interface EvidenceTypes {
    /** What reached the PoC server and where the same bytes left it, per member leg (core capture). */
    'poc-replication': PocReplication | null;
    /** Floor control on every link: APP packets seen, and any readable in the clear (a finding). */
    'floor-control-on-links': FloorControlOnLinks;
    /** The PoC box after the run: bursts still in it, markers and key bytes the store scan found there, delivered bursts found on the core link. */
    'poc-box': PocBoxEvidence | null;
  }
}

/**
 * The PoC server (TR 33.828 4.2): the pre-arranged groups of the subscriber
 * file, MCPTT floor control, forwarding of the floor holder's SRTP
 * unchanged (e2e: no group key at the server), and the box: bursts kept for
 * members who are not joined, played to them when they join.
 */
export interface PocGroupSpec {
  /** Request-URI user part, poc-<group>. */
  user: string;
  mode: PocMode;
  /** Member user names (subscribers). */
  members: string[];
  contention: 'deny' | 'queue';
}

export interface PocPlan extends PlannedElement {
  kind: 'poc';
  address: string;
  domain: string;
  groups: PocGroupSpec[];
  /** The KMS's core address, where the server fetches its own SAKKE key (there whether or not the scenario starts a KMS). */
  kmsAddress: string;
}

/**
 * The server's own identity (TS 33.180: the MCPTT server's URI): members
 * encrypt their client-server key (CSK) to it by SAKKE, and the KMS
 * provisions its receiver secret key as a user `poc` with the server's
 * element name as device. UEs address it as `sip:poc@<domain>`.
 */
export const POC_SERVER_USER = 'poc';
export function pocServerUri(domain: string): string {
  return `sip:${POC_SERVER_USER}@${domain}`;
}

const HOST = 80;
/** @imslab/mikey GMK_MKI_LENGTH: the server holds no GMK and takes no MIKEY dependency for one number. */
const GMK_MKI_BYTES = 8;

export const poc = defineKind<PocPlan>()({
  kind: 'poc',
  summary: 'PoC server: pre-arranged push-to-talk groups, MCPTT floor control (SRTCP under client-server keys), forwarding of the floor holder\'s SRTP unchanged (e2e)',
  presence: 'on-demand',
  stage: 0,
  image: { name: 'poc', node: { service: 'poc' } },
  leaves: 'logs',
  plan(ctx) {
    const address = ctx.at('core', HOST);
    // Member names were checked against the subscribers when the subscriber file loaded.
    const groups = ctx.pocGroups.map((g) => ({ user: `poc-${g.name}`, mode: g.mode, members: g.members, contention: g.contention }));
    return [{ kind: 'poc', name: 'poc', addresses: { core: address }, address, domain: ctx.domain, groups, kmsAddress: ctx.at('core', KMS_HOST) }];
  },
  render(e, p) {
    const cfg: PocConfigInput = {
      name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain, ...APP_SERVER_MEDIA_PORTS,
      groups: e.groups.map((g) => ({
        user: g.user, mode: g.mode, contention: g.contention, members: g.members.map((m) => `sip:${m}@${e.domain}`),
        // e2e members key their media from the group's GMK (MIKEY-SAKKE): every packet carries GMK-ID || GUK-ID (8 octets) before an 80-bit tag, which the box records.
        ...(g.mode === 'e2e' ? { mkiBytes: GMK_MKI_BYTES, tagBytes: 10 } : {}),
      })),
      // In the run directory (bind-mounted on the docker target, so a restart keeps it), where the run's store scan reads every file under logs/.
      box: { dir: join(p.runDir, BOX_DIR) },
      kms: {
        url: `https://${e.kmsAddress}:${KMS_HTTPS_PORT}`, identity: pocServerUri(e.domain), device: e.name,
        secret: p.kmsSecrets.devices[e.name] ?? null, caFile: join(p.pkiDir, 'ca.pem'),
      },
    };
    checkStrict(PocConfigSchema, cfg, `${e.name} poc.json`);
    return { files: { 'poc.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('poc'), '--config', join(p.configDir, 'poc.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  sipRoutes: (e) => Object.fromEntries(e.groups.map((g) => [g.user, e.address])),
  evidence: {
    afterRun: [
      { name: 'poc-replication', collect: async (e, ctx) => (ctx.captures.core ? pocReplicationEvidence(ctx.captures.core, e.name, e.address) : null) },
      { name: 'floor-control-on-links', collect: async (_e, ctx) => floorControlOnLinks(ctx.captures) },
      { name: 'poc-box', collect: async (e, ctx) => pocBoxEvidence(ctx.dir, ctx.storeFindings, ctx.captures.core, e.address) },
    ],
  },
});
