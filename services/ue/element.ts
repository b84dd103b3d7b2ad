import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { MSRP_RELAY_HOST, MSRP_RELAY_PORT } from '@imslab/msrp-relay/element';
import { PCSCF_ACCESS_HOST, pcscfOf, type PcscfName } from '@imslab/pcscf/element';
import { CONTROL_PORT, KMS_HOST, KMS_HTTPS_PORT, SIP_PORT, SIP_TLS_PORT, TopologyError, defineKind, type Device, type PlannedElement, type Subscriber } from '@imslab/topology';
import { z } from 'zod';
import { UeConfigSchema, UeSettingsSchema, type UeConfigInput, type UeSettings } from './src/config.ts';
import { ensureSmimeCredentials } from './src/messaging-pki.ts';

/**
 * A UE: our SIP user agent with probe media, SDES and MIKEY-TICKET; one per
 * device of every subscriber, on the subscriber's access network.
 */
export interface UePlan extends PlannedElement {
  kind: 'ue';
  address: string;
  subscriber: Subscriber;
  device: Device;
  domain: string;
  pcscf: PcscfName;
  pcscfAddress: string;
  /** Where this UE reaches the KMS (its address on the UE's access network). */
  kmsAddress: string;
  /** The KMS's core address, which names it in MIKEY (IDRkms). */
  kmsIdentityAddress: string;
  /** Where this UE reaches the MSRP relay (its address on the UE's access network), when the network has one. */
  msrpRelayAddress?: string;
  /** A scenario's settings for this UE (network.ues.<name>). */
  settings: UeSettings;
  /** Every subscriber's user name: the directory of S/MIME certificates (pager-mode messaging). */
  users?: string[];
}

/** RTP ports of a UE's media (each UE has an address of its own). */
// 1000 even RTP ports: a UE carries up to 1000 calls (the load bench places tens per UE).
export const UE_MEDIA_PORTS = { portMin: 40000, portMax: 41998 } as const;

export const ue = defineKind<UePlan>()({
  kind: 'ue',
  summary: 'UE: SIP user agent with probe media (RTP/SRTP), SDES and MIKEY-TICKET, HTTP control API',
  presence: 'always',
  // UEs register only when told to: they start with the first stage, nothing waits for them.
  stage: 0,
  stopsFirst: true,
  overrides: {
    /** Settings per UE (by device name), e.g. autoAnswer, busy, e2aeCapable. */
    ues: z.record(z.string(), UeSettingsSchema),
  },
  image: { name: 'ue', node: { service: 'ue' } },
  leaves: 'keys',
  certificate: true,
  plan(ctx) {
    const devices = ctx.subscribers.flatMap((s) => s.devices.map((d) => d.name));
    for (const name of Object.keys(ctx.own.ues ?? {})) {
      if (!devices.includes(name)) throw new TopologyError(`no such UE; UEs: ${devices.join(', ')}`, `network.ues.${name}`);
    }
    return ctx.subscribers.flatMap((sub) => sub.devices.map((device): UePlan => {
      const address = ctx.at(sub.network, device.host);
      return {
        kind: 'ue', name: device.name, addresses: { [sub.network]: address }, address,
        subscriber: sub, device, domain: ctx.domain,
        pcscf: pcscfOf(sub.network), pcscfAddress: ctx.at(sub.network, PCSCF_ACCESS_HOST),
        kmsAddress: ctx.at(sub.network, KMS_HOST), kmsIdentityAddress: ctx.at('core', KMS_HOST),
        msrpRelayAddress: ctx.at(sub.network, MSRP_RELAY_HOST),
        settings: ctx.own.ues?.[device.name] ?? {},
        users: ctx.subscribers.map((x) => x.user),
        ...(device.external ? { external: true } : {}),
      };
    }));
  },
  render(e, p) {
    const s = e.subscriber;
    // S/MIME (RFC 8591) for SIP MESSAGE: the user's credential and every user's certificate, from the
    // testbed CA. Only where the CA key is at hand (the local target); elsewhere messages go in the clear.
    const users = (e.users ?? [s.user]).map((u) => ({ user: u, impu: `sip:${u}@${e.domain}` }));
    const smime = ensureSmimeCredentials(p.pkiDir, users);
    const cfg: UeConfigInput = {
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
        secret: p.kmsSecrets.devices[e.name] ?? null,
      },
      ...(e.msrpRelayAddress ? { msrpRelay: { host: e.msrpRelayAddress, port: MSRP_RELAY_PORT } } : {}),
      ...(smime ? {
        messaging: {
          certFile: smime.certFile(s.user), keyFile: smime.keyFile(s.user), caFile: join(p.pkiDir, 'ca.pem'),
          directory: Object.fromEntries(users.map((u) => [u.impu, [smime.certFile(u.user)]])),
        },
      } : {}),
      ...e.settings,
    };
    checkStrict(UeConfigSchema, cfg, `${e.name} ue.json`);
    return { files: { 'ue.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('ue'), '--config', join(p.configDir, 'ue.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'tcp' },
    { element: e.name, address: e.address, port: SIP_TLS_PORT, protocol: 'tcp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
});
