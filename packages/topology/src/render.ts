import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TopologyError } from './errors.ts';
import {
  CONTROL_PORT, KMS_HTTPS_PORT, NG_PORT, SIP_PORT, SIP_TLS_PORT, UE_MEDIA_PORTS,
  type AgwPlan, type ConferencePlan, type ElementPlan, type KmsPlan, type PcscfAttack, type PcscfPlan, type ScscfPlan, type UePlan, type VoicemailPlan,
} from './topology.ts';
import type { KmsSecrets } from './pki.ts';

/** Repository root, found from this file (packages/topology/src). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Where an element finds its files, as seen by the element: host paths on the
 * local target, mount points inside the container on the docker target.
 */
export interface ElementPaths {
  /** Directory holding this element's generated configuration files. */
  configDir: string;
  pkiDir: string;
  /** Directory where the element writes key logs and stores. */
  runDir: string;
  /** How to start a TypeScript service: argv prefix before the entry's path. */
  nodeCommand: string[];
  /** Path of a service entry (`ue`) as the element sees it. */
  serviceEntry(service: string): string;
  /** Device secrets shared with the KMS (needed by the KMS and the UEs' MIKEY-TICKET). */
  kmsSecrets?: KmsSecrets;
}

export interface RenderedElement {
  /** File name (inside configDir) -> content. */
  files: Record<string, string>;
  /** argv to start the element in the foreground. */
  command: string[];
}

/** Fills `{{NAME}}` placeholders; a placeholder without a value is an error, never left in a config. */
export function fillTemplate(template: string, values: Record<string, string>, what: string): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new TopologyError(`template placeholder {{${key}}} has no value`, what);
    return v;
  });
}

function template(service: string, file: string): string {
  return readFileSync(join(REPO_ROOT, 'services', service, file), 'utf8');
}

/**
 * rtpengine 10.5 offers a dozen SDES suites unless told not to; e2ae toward a
 * UE uses the mandatory AES_CM_128_HMAC_SHA1_80 only (there is no SDES-only- in 10.5).
 */
const SDES_ONLY_80 = [
  'AES_CM_128_HMAC_SHA1_32', 'AES_192_CM_HMAC_SHA1_80', 'AES_192_CM_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32', 'AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'F8_128_HMAC_SHA1_80', 'F8_128_HMAC_SHA1_32',
  'NULL_HMAC_SHA1_80', 'NULL_HMAC_SHA1_32',
].map((s) => `SDES-no-${s}`).join(' ');

/**
 * Kamailio fragments for the faults a P-CSCF can inject. tamper-key-mgmt
 * swaps the 61st base64 character of the MIKEY message, so the ticket's bytes
 * change but the SDP stays well-formed: what a compromised hop could do.
 */
const ATTACKS: Record<PcscfAttack, string> = {
  'tamper-key-mgmt': [
    '\tif (!search_body("a=key-mgmt:mikey ")) return;',
    '\tif (!subst_body("/(a=key-mgmt:mikey [A-Za-z0-9+\\/]{60})A/\\1B/")) {',
    '\t\tsubst_body("/(a=key-mgmt:mikey [A-Za-z0-9+\\/]{60})[B-Za-z0-9+\\/]/\\1A/");',
    '\t}',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: tampered with the MIKEY message of call $ci\\n");',
  ].join('\n'),
};

function renderPcscf(e: PcscfPlan, p: ElementPaths): RenderedElement {
  const cfg = fillTemplate(template('pcscf', 'kamailio.cfg'), {
    NAME: e.name, ACCESS_NET: e.access, ACCESS_IP: e.accessAddress, CORE_IP: e.coreAddress,
    SCSCF_IP: e.scscfAddress, AGW: e.agw, AGW_NG_IP: e.agwNgAddress, NG_PORT: String(NG_PORT),
    TLS_CFG: join(p.configDir, 'tls.cfg'), E2AE_POLICY: e.e2ae, SDES_ONLY_80,
    // Observed on rtpengine 10.5 (undocumented token): crypto and key-mgmt lines pass byte-identical,
    // no extra suites or fingerprint are added, and SRTP is relayed unchanged. Checked in the scenarios.
    RELAY_FLAGS: e.relay === 'passthrough' ? 'passthrough' : '',
    ATTACK: e.attack ? ATTACKS[e.attack] : '\treturn;',
  }, `${e.name} kamailio.cfg`);
  const tls = fillTemplate(template('pcscf', 'tls.cfg'), {
    KEY_FILE: join(p.pkiDir, `${e.name}.key`), CERT_FILE: join(p.pkiDir, `${e.name}.pem`), CA_FILE: join(p.pkiDir, 'ca.pem'),
  }, `${e.name} tls.cfg`);
  return { files: { 'kamailio.cfg': cfg, 'tls.cfg': tls }, command: kamailioCommand(e.name, p) };
}

function kamailioString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function renderScscf(e: ScscfPlan, p: ElementPaths): RenderedElement {
  const credentials = e.subscribers
    .map((s) => `\t$sht(cred=>${s.user}) = ${kamailioString(s.password)};`)
    .join('\n');
  const forwarding = e.subscribers.flatMap((s) => {
    const f = s.forwarding;
    const lines: string[] = [];
    if (f.unconditional) lines.push(`\t$sht(cfu=>${s.user}) = ${kamailioString(f.unconditional)};`);
    if (f.noAnswer) lines.push(`\t$sht(cfnr=>${s.user}) = ${kamailioString(f.noAnswer.to)};`, `\t$sht(cfnrms=>${s.user}) = ${Math.round(f.noAnswer.seconds * 1000)};`);
    if (f.busy) lines.push(`\t$sht(cfb=>${s.user}) = ${kamailioString(f.busy)};`);
    return lines;
  }).join('\n');
  const transcode = e.transcode.map((u) => `\t$sht(tc=>${u}) = 1;`).join('\n');
  const cfg = fillTemplate(template('scscf', 'kamailio.cfg'), {
    NAME: e.name, IP: e.address, DOMAIN: e.domain, CREDENTIALS: credentials,
    FORWARDING: [forwarding, transcode].filter(Boolean).join('\n') || '\t# none',
    TRANSCODER_IP: e.transcoderAddress ?? '0.0.0.0',
    APP_SERVERS: Object.entries(e.appServers).map(([user, at]) => `\t$sht(as=>${user}) = ${kamailioString(`${at}:${SIP_PORT}`)};`).join('\n') || '\t# none',
  }, `${e.name} kamailio.cfg`);
  return { files: { 'kamailio.cfg': cfg }, command: kamailioCommand(e.name, p) };
}

function kamailioCommand(name: string, p: ElementPaths): string[] {
  // -DD: stay in the foreground with children; -E: log to stderr (the runner keeps it).
  return ['kamailio', '-DD', '-E', '-f', join(p.configDir, 'kamailio.cfg'), '-P', join(p.runDir, `${name}.pid`), '-m', '64', '-M', '8'];
}

export function agwCommand(e: AgwPlan): string[] {
  return [
    'rtpengine', '--config-file=none', '--table=-1', '--foreground', '--log-stderr', '--log-level=6',
    `--interface=${e.accessName}/${e.accessAddress}`, `--interface=core/${e.coreAddress}`,
    `--listen-ng=${e.coreAddress}:${NG_PORT}`, `--port-min=${e.portMin}`, `--port-max=${e.portMax}`,
    '--timeout=60', '--delete-delay=0',
  ];
}

/** The UE's JSON configuration (services/ue validates it). */
export function ueConfig(e: UePlan, p: ElementPaths, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const s = e.subscriber;
  return {
    name: e.name, user: s.user, impu: `sip:${s.user}@${e.domain}`, impi: `${s.user}@${e.domain}`,
    password: s.password, realm: e.domain, displayName: s.displayName,
    address: e.address, sipPort: SIP_PORT, sipTlsPort: SIP_TLS_PORT, controlPort: CONTROL_PORT,
    transport: 'tls',
    pcscf: { host: e.pcscfAddress, udpPort: SIP_PORT, tcpPort: SIP_PORT, tlsPort: SIP_TLS_PORT },
    tls: { caFile: join(p.pkiDir, 'ca.pem'), certFile: join(p.pkiDir, `${e.name}.pem`), keyFile: join(p.pkiDir, `${e.name}.key`) },
    media: { ...UE_MEDIA_PORTS },
    e2aeCapable: false, defaultSecurity: 'none',
    autoAnswer: e.device.autoAnswer, answerDelayMs: 0,
    runDir: p.runDir,
    kms: {
      url: `https://${e.kmsAddress}:${KMS_HTTPS_PORT}`,
      kmsIdentity: `https://${e.kmsIdentityAddress}:${KMS_HTTPS_PORT}`,
      identity: `sip:${s.user}@${e.domain}`,
      secret: p.kmsSecrets?.devices[e.name] ?? null,
    },
    ...extra,
  };
}

/** The KMS's JSON configuration (services/kms validates it). */
export function kmsConfig(e: KmsPlan, p: ElementPaths): Record<string, unknown> {
  return {
    name: e.name, address: e.address, accessAddresses: e.accessAddresses, httpsPort: KMS_HTTPS_PORT, controlPort: CONTROL_PORT, domain: e.domain,
    tls: { caFile: join(p.pkiDir, 'ca.pem'), certFile: join(p.pkiDir, `${e.name}.pem`), keyFile: join(p.pkiDir, `${e.name}.key`) },
    masterKey: p.kmsSecrets?.masterKey ?? null,
    groups: e.groups,
    users: e.subscribers.map((s) => ({
      uri: `sip:${s.user}@${e.domain}`, user: s.user, forwarding: s.forwarding,
      devices: s.devices.map((d) => ({ name: d.name, secret: p.kmsSecrets?.devices[d.name] ?? null })),
    })),
    auditLog: join(p.runDir, 'kms-audit.jsonl'),
    runDir: p.runDir,
  };
}

function renderUe(e: UePlan, p: ElementPaths, extra: Record<string, unknown>): RenderedElement {
  const file = 'ue.json';
  return {
    files: { [file]: JSON.stringify(ueConfig(e, p, extra), null, 2) + '\n' },
    command: [...p.nodeCommand, p.serviceEntry('ue'), '--config', join(p.configDir, file)],
  };
}

/** Renders one element's configuration files and start command. */
export function renderElement(e: ElementPlan, p: ElementPaths, ueExtra: Record<string, Record<string, unknown>> = {}): RenderedElement {
  switch (e.kind) {
    case 'pcscf': return renderPcscf(e, p);
    case 'scscf': return renderScscf(e, p);
    case 'ims-agw': return { files: {}, command: agwCommand(e) };
    case 'ue': return renderUe(e, p, ueExtra[e.name] ?? {});
    case 'transcoder': return {
      files: {
        'kamailio.cfg': fillTemplate(template('transcoder', 'kamailio.cfg'), {
          NAME: e.name, IP: e.address, MEDIA: e.media, MEDIA_NG_IP: e.mediaNgAddress, NG_PORT: String(NG_PORT), SDES_ONLY_80,
        }, `${e.name} kamailio.cfg`),
      },
      command: kamailioCommand(e.name, p),
    };
    case 'kms': return {
      files: { 'kms.json': JSON.stringify(kmsConfig(e, p), null, 2) + '\n' },
      command: [...p.nodeCommand, p.serviceEntry('kms'), '--config', join(p.configDir, 'kms.json')],
    };
    case 'voicemail': return serviceElement('voicemail', voicemailConfig(e, p), p);
    case 'conference': return serviceElement('conference', conferenceConfig(e), p);
  }
}

function serviceElement(service: string, config: Record<string, unknown>, p: ElementPaths): RenderedElement {
  const file = `${service}.json`;
  return { files: { [file]: JSON.stringify(config, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry(service), '--config', join(p.configDir, file)] };
}

/** Media ports of the application servers (they share no address with anyone, so one range serves both). */
const AS_MEDIA_PORTS = { rtpPortMin: 36000, rtpPortMax: 36998 } as const;

/** The voicemail's JSON configuration (services/voicemail validates it); its store lives in the run directory. */
export function voicemailConfig(e: VoicemailPlan, p: ElementPaths): Record<string, unknown> {
  return {
    name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain,
    storeDir: join(p.runDir, 'voicemail-store'), ...AS_MEDIA_PORTS, mailboxAccess: e.mailboxAccess,
  };
}

/** The conference bridge's JSON configuration (services/conference validates it). */
export function conferenceConfig(e: ConferencePlan): Record<string, unknown> {
  return {
    name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain, ...AS_MEDIA_PORTS,
    conferences: e.conferences.map((c) => ({ user: c.user, mode: c.mode, members: c.members.map((m) => `sip:${m}@${e.domain}`) })),
  };
}
