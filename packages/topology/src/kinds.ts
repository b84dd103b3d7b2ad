import { CONTROL_PORT, KMS_HTTPS_PORT, NG_PORT, SIP_PORT, SIP_TLS_PORT, type ElementPlan } from './topology.ts';

/**
 * What each element kind listens on and how its readiness is observed, in
 * one place: targets and the runner only read these declarations, so a new
 * kind of element slots in here and in render.ts, not in the runner's core.
 */
export interface Listen { element: string; address: string; port: number; protocol: 'udp' | 'tcp' }

export type Readiness =
  | { type: 'http'; url: string }
  | { type: 'sip-options'; address: string; port: number }
  | { type: 'ng-ping'; address: string; port: number };

export function listensOf(e: ElementPlan): Listen[] {
  const l = (address: string, port: number, protocol: 'udp' | 'tcp'): Listen => ({ element: e.name, address, port, protocol });
  switch (e.kind) {
    case 'pcscf':
      return [l(e.accessAddress, SIP_PORT, 'udp'), l(e.accessAddress, SIP_PORT, 'tcp'), l(e.accessAddress, SIP_TLS_PORT, 'tcp'), l(e.coreAddress, SIP_PORT, 'udp')];
    case 'scscf':
      return [l(e.address, SIP_PORT, 'udp'), l(e.address, SIP_PORT, 'tcp')];
    case 'ims-agw':
      return [l(e.coreAddress, NG_PORT, 'udp')];
    case 'ue':
      return [l(e.address, SIP_PORT, 'udp'), l(e.address, SIP_PORT, 'tcp'), l(e.address, SIP_TLS_PORT, 'tcp'), l(e.address, CONTROL_PORT, 'tcp')];
    case 'kms':
      return [l(e.address, KMS_HTTPS_PORT, 'tcp'), l(e.address, CONTROL_PORT, 'tcp')];
    case 'transcoder':
      return [l(e.address, SIP_PORT, 'udp')];
  }
}

/** Our elements answer HTTP /health on their control port; Kamailio SIP OPTIONS; rtpengine an ng ping. */
export function readinessOf(e: ElementPlan): Readiness {
  switch (e.kind) {
    case 'ue':
    case 'kms':
      return { type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` };
    case 'pcscf':
      return { type: 'sip-options', address: e.coreAddress, port: SIP_PORT };
    case 'scscf':
    case 'transcoder':
      return { type: 'sip-options', address: e.address, port: SIP_PORT };
    case 'ims-agw':
      return { type: 'ng-ping', address: e.coreAddress, port: NG_PORT };
  }
}

/** Base URL of an element's HTTP/JSON control API, for the kinds that have one. */
export function controlUrlOf(e: ElementPlan): string | null {
  return e.kind === 'ue' || e.kind === 'kms' ? `http://${e.address}:${CONTROL_PORT}` : null;
}

/** Elements that need a TLS certificate from the testbed CA. */
export function needsCertificate(e: ElementPlan): boolean {
  return e.kind === 'pcscf' || e.kind === 'ue' || e.kind === 'kms';
}

/** Our TypeScript service that runs an element (services/<name>), or null for Kamailio and rtpengine. */
export function serviceOf(e: ElementPlan): string | null {
  return e.kind === 'ue' || e.kind === 'kms' ? e.kind : null;
}
