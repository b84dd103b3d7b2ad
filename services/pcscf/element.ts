import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { AGW_SIDES } from '@imslab/ims-agw/element';
import { KAMAILIO_IMAGE, SDES_ONLY_80, ipValue, kamailioCommand, kamailioTlsCfg, nameValue } from '@imslab/kamailio';
import { SCSCF_HOST } from '@imslab/scscf/element';
import {
  ACCESS_NETWORKS, E2AE_POLICIES, NG_PORT, SIP_PORT, SIP_TLS_PORT, defineKind, fillTemplate, serviceFile,
  type AccessNetwork, type E2aePolicy, type PlannedElement,
} from '@imslab/topology';
import { z } from 'zod';
import { PCSCF_ATTACKS, attackFragments, type PcscfAttack } from './attacks.ts';

export { PCSCF_ATTACKS, type PcscfAttack };

/**
 * The P-CSCF: Kamailio, the UEs' first SIP hop. SIP over TLS toward the UEs
 * (UDP and TCP too, for tests of those transports), UDP in the core; every
 * call's media anchored at its IMS-AGW; end-to-access-edge protection
 * (TS 33.328) when the UE asks and operator policy allows.
 */
export type PcscfName = 'pcscf-a' | 'pcscf-b';
const PCSCF_NAMES = ['pcscf-a', 'pcscf-b'] as const;

/** Faults a P-CSCF can inject (negative scenarios: a compromised hop). */
/** How the IMS-AGW relays media it does not terminate. */
export const RELAY_MODES = ['passthrough', 'default'] as const;

export interface PcscfPlan extends PlannedElement {
  kind: 'pcscf';
  name: PcscfName;
  access: AccessNetwork;
  accessAddress: string;
  coreAddress: string;
  agw: string;
  agwNgAddress: string;
  scscfAddress: string;
  domain: string;
  e2ae: E2aePolicy;
  /**
   * `passthrough` leaves the SDP's crypto lines as they are; `default` is
   * rtpengine's own behaviour, which adds a dozen SDES keys of its own to
   * the offer (unused when the answerer picks the caller's suite).
   */
  relay: (typeof RELAY_MODES)[number];
  /** A fault this P-CSCF injects, for negative scenarios: it behaves as a compromised hop. */
  attack: PcscfAttack | null;
}

const SIDES: Record<AccessNetwork, { name: PcscfName; accessHost: number; coreHost: number }> = {
  'access-a': { name: 'pcscf-a', accessHost: 10, coreHost: 10 },
  'access-b': { name: 'pcscf-b', accessHost: 10, coreHost: 30 },
};
/** Host number of the P-CSCF on its access network (the UEs' outbound proxy). */
export const PCSCF_ACCESS_HOST = 10;
export function pcscfOf(access: AccessNetwork): PcscfName {
  return SIDES[access].name;
}

const perPcscf = <T extends z.ZodType>(v: T, what: string) => strictObject({ 'pcscf-a': v.optional(), 'pcscf-b': v.optional() }, what);

/** The values services/pcscf/kamailio.cfg is filled with: typed and checked before they reach the file. */
const CfgValues = strictObject({
  NAME: nameValue, ACCESS_NET: z.enum(ACCESS_NETWORKS as ['access-a', 'access-b']), ACCESS_IP: ipValue, CORE_IP: ipValue,
  SCSCF_IP: ipValue, AGW: nameValue, AGW_NG_IP: ipValue, NG_PORT: z.string().regex(/^\d+$/),
  TLS_CFG: z.string().min(1), E2AE_POLICY: z.enum(E2AE_POLICIES), SDES_ONLY_80: z.string(),
  // Observed on rtpengine 10.5 (undocumented token): crypto and key-mgmt lines pass byte-identical,
  // no extra suites or fingerprint are added, and SRTP is relayed unchanged. Checked in the scenarios.
  RELAY_FLAGS: z.enum(['passthrough', '']),
  ATTACK: z.string(),
  ATTACK_ANSWER: z.string(),
}, 'P-CSCF template values');

export const pcscf = defineKind<PcscfPlan>()({
  kind: 'pcscf',
  summary: 'P-CSCF: Kamailio, SIP over TLS toward the UEs, media anchored at its IMS-AGW, e2ae by operator policy',
  presence: 'always',
  // After its IMS-AGW answers: Kamailio probes its rtpengine once at start-up (and disables it for a while if absent).
  stage: 1,
  overrides: {
    /** Operator policy per P-CSCF, replacing the subscriber file's. */
    policy: perPcscf(strictObject({ e2ae: z.enum(E2AE_POLICIES) }, 'a P-CSCF policy'), 'policy'),
    /** How each P-CSCF's IMS-AGW relays media it does not terminate (default passthrough). */
    relay: perPcscf(z.enum(RELAY_MODES), 'relay'),
    /** Faults injected at a P-CSCF (a compromised signalling hop). */
    attacks: perPcscf(z.enum(PCSCF_ATTACKS), 'attacks'),
  },
  image: KAMAILIO_IMAGE,
  leaves: 'logs',
  certificate: true,
  plan: (ctx) => ACCESS_NETWORKS.map((access) => {
    const s = SIDES[access];
    const agw = AGW_SIDES[access];
    return {
      kind: 'pcscf', name: s.name, access,
      addresses: { [access]: ctx.at(access, s.accessHost), core: ctx.at('core', s.coreHost) },
      accessAddress: ctx.at(access, s.accessHost), coreAddress: ctx.at('core', s.coreHost),
      agw: agw.name, agwNgAddress: ctx.at('core', agw.coreHost), scscfAddress: ctx.at('core', SCSCF_HOST), domain: ctx.domain,
      e2ae: ctx.own.policy?.[s.name]?.e2ae ?? ctx.policy[s.name].e2ae,
      relay: ctx.own.relay?.[s.name] ?? 'passthrough',
      attack: ctx.own.attacks?.[s.name] ?? null,
    };
  }),
  render(e, p) {
    const values = checkStrict(CfgValues, {
      NAME: e.name, ACCESS_NET: e.access, ACCESS_IP: e.accessAddress, CORE_IP: e.coreAddress,
      SCSCF_IP: e.scscfAddress, AGW: e.agw, AGW_NG_IP: e.agwNgAddress, NG_PORT: String(NG_PORT),
      TLS_CFG: join(p.configDir, 'tls.cfg'), E2AE_POLICY: e.e2ae, SDES_ONLY_80,
      RELAY_FLAGS: e.relay === 'passthrough' ? 'passthrough' : '',
      ...attackFragments(e.attack, e.domain),
    }, `${e.name} kamailio.cfg values`);
    return {
      files: {
        'kamailio.cfg': fillTemplate(serviceFile('pcscf', 'kamailio.cfg'), values, `${e.name} kamailio.cfg`),
        'tls.cfg': kamailioTlsCfg('pcscf', e.name, p),
      },
      command: kamailioCommand(e.name, p),
    };
  },
  listens: (e) => [
    { element: e.name, address: e.accessAddress, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.accessAddress, port: SIP_PORT, protocol: 'tcp' },
    { element: e.name, address: e.accessAddress, port: SIP_TLS_PORT, protocol: 'tcp' },
    { element: e.name, address: e.coreAddress, port: SIP_PORT, protocol: 'udp' },
  ],
  readiness: (e) => ({ type: 'sip-options', address: e.coreAddress, port: SIP_PORT }),
});

export { PCSCF_NAMES };
