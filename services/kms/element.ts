import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';
import { conference } from '@imslab/conference/element';
import { POC_SERVER_USER, poc, pocServerUri } from '@imslab/poc/element';
import { CONTROL_PORT, KMS_HOST, KMS_HTTPS_PORT, TopologyError, defineKind, type KmsSecrets, type PlannedElement, type Subscriber } from '@imslab/topology';
import { KmsConfigSchema, type KmsConfigInput } from './src/config.ts';
import { AUDIT_LOG_FILE, type AuditEntry } from './src/contract.ts';

/**
 * The KMS (TS 33.328, RFC 6043 MIKEY-TICKET) over HTTPS: tickets, resolution
 * policy, group keys for e2e conferences, and an append-only audit log that
 * is evidence of who obtained which call's keys.
 */
export interface KmsPlan extends PlannedElement {
  kind: 'kms';
  /** Core address: control API, and the identity (IDRkms) the KMS signs as. */
  address: string;
  /** The KMS also listens on each access network, where the UEs reach it (Docker networks do not route). */
  accessAddresses: string[];
  domain: string;
  subscribers: Subscriber[];
  /** Conferences keyed with a group key (e2e mode): URI and member URIs. */
  groups: Array<{ uri: string; members: string[]; keying: 'ticket' | 'sakke' }>;
  /**
   * Servers that hold identity-based keys of their own, each with a device
   * secret like a UE's: the PoC server gets its SAKKE RSK from the KMS to
   * open the client-server keys (CSK) its members send it (TS 33.180 7.3).
   */
  services: Array<{ uri: string; user: string; device: string }>;
  /** Longest ticket validity the KMS grants, ms (scenario override `kms.ticketValiditySeconds`). */
  maxTicketValidityMs?: number;
}

export { KMS_HOST, KMS_HTTPS_PORT };

declare module '@imslab/topology' {
  interface EvidenceTypes {
    /** The KMS's audit log; null when the network had a KMS but no log was collected. */
    'kms-audit': AuditEntry[] | null;
  }
}

/** A device's secret; a device the secrets file does not know is a setup error, said as such. */
function secretOf(s: KmsSecrets, device: string): string {
  const v = s.devices[device];
  if (!v) throw new TopologyError('no KMS secret for this device: the PKI directory is out of date (run again; imslab provisions missing secrets)', device);
  return v;
}

/** Reads the audit log as collected; a line that does not parse is kept out and counted. */
export function readAuditLog(file: string): { entries: AuditEntry[]; badLines: number } | null {
  if (!existsSync(file)) return null;
  let badLines = 0;
  const entries = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as AuditEntry];
    } catch {
      badLines++;
      return [];
    }
  });
  return { entries, badLines };
}

export const kms = defineKind<KmsPlan>()({
  kind: 'kms',
  summary: 'KMS: MIKEY-TICKET key management over HTTPS, resolution policy, group keys with epochs, MIKEY-SAKKE key provisioning and PoC GMKs, audit log',
  presence: 'on-demand',
  stage: 0,
  overrides: {
    /** Tickets valid this long at most (default an hour): a scenario that lets a ticket expire. */
    kms: strictObject({ ticketValiditySeconds: z.number().min(0.1).max(86_400).optional() }, 'kms'),
  },
  image: { name: 'kms', node: { service: 'kms' } },
  leaves: 'logs',
  certificate: true,
  plan(ctx) {
    const access = [ctx.at('access-a', KMS_HOST), ctx.at('access-b', KMS_HOST)];
    const groups: KmsPlan['groups'] = ctx.of(conference).flatMap((c) => c.conferences).filter((c) => c.mode === 'e2e')
      .map((c) => ({ uri: `sip:${c.user}@${ctx.domain}`, members: c.members.map((m) => `sip:${m}@${ctx.domain}`), keying: 'ticket' as const }));
    // PoC groups (TR 33.828 4.2): GMKs from the group management server in MIKEY-SAKKE I_MESSAGEs (TS 33.180).
    groups.push(...ctx.of(poc).flatMap((p) => p.groups).filter((g) => g.mode === 'e2e').map((g) => ({ uri: `sip:${g.user}@${ctx.domain}`, members: g.members.map((m) => `sip:${m}@${ctx.domain}`), keying: 'sakke' as const })));
    return [{
      kind: 'kms', name: 'kms',
      addresses: { 'access-a': access[0]!, core: ctx.at('core', KMS_HOST), 'access-b': access[1]! },
      address: ctx.at('core', KMS_HOST), accessAddresses: access, domain: ctx.domain, subscribers: ctx.subscribers, groups,
      services: ctx.of(poc).map((p) => ({ uri: pocServerUri(ctx.domain), user: POC_SERVER_USER, device: p.name })),
      ...(ctx.own.kms?.ticketValiditySeconds !== undefined ? { maxTicketValidityMs: Math.round(ctx.own.kms.ticketValiditySeconds * 1000) } : {}),
    }];
  },
  render(e, p) {
    const cfg: KmsConfigInput = {
      name: e.name, address: e.address, accessAddresses: e.accessAddresses, httpsPort: KMS_HTTPS_PORT, controlPort: CONTROL_PORT, domain: e.domain,
      tls: { caFile: join(p.pkiDir, 'ca.pem'), certFile: join(p.pkiDir, `${e.name}.pem`), keyFile: join(p.pkiDir, `${e.name}.key`) },
      masterKey: p.kmsSecrets.masterKey,
      groups: e.groups,
      users: e.subscribers.map((s) => ({
        uri: `sip:${s.user}@${e.domain}`, user: s.user, forwarding: s.forwarding,
        devices: s.devices.map((d) => ({ name: d.name, secret: secretOf(p.kmsSecrets, d.name) })),
      })).concat(e.services.map((s) => ({ uri: s.uri, user: s.user, forwarding: {}, devices: [{ name: s.device, secret: secretOf(p.kmsSecrets, s.device) }] }))),
      auditLog: join(p.runDir, AUDIT_LOG_FILE),
      runDir: p.runDir,
      ...(e.maxTicketValidityMs !== undefined ? { maxTicketValidityMs: e.maxTicketValidityMs } : {}),
    };
    checkStrict(KmsConfigSchema, cfg, `${e.name} kms.json`);
    return { files: { 'kms.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('kms'), '--config', join(p.configDir, 'kms.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: KMS_HTTPS_PORT, protocol: 'tcp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
    ...e.accessAddresses.map((a) => ({ element: e.name, address: a, port: KMS_HTTPS_PORT, protocol: 'tcp' as const })),
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  evidence: {
    afterRun: [{ name: 'kms-audit', collect: async (_e, ctx) => readAuditLog(join(ctx.dir, 'logs', AUDIT_LOG_FILE))?.entries ?? null }],
  },
});
