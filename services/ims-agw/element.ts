import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { defineKind, NG_PORT, type AccessNetwork, type PlannedElement } from '@imslab/topology';
import { z } from 'zod';
import { queryAgw, type AgwStreamReport } from './agw-evidence.ts';

/**
 * The IMS-AGW (TS 23.228's access gateway): rtpengine in userspace with two
 * named interfaces, the access side and the core, and its ng control
 * protocol on the core address. Each P-CSCF drives its own.
 */
export interface AgwPlan extends PlannedElement {
  kind: 'ims-agw';
  /** The first interface's address: on the access network, or (transcoder media) an inner address no link carries. */
  accessAddress: string;
  /** rtpengine's name for that interface: `access`, or `inner` for the transcoder's media engine. */
  accessName: 'access' | 'inner';
  coreAddress: string;
  portMin: number;
  portMax: number;
}

/** Host numbers and media port ranges per access side. */
export const AGW_SIDES: Record<AccessNetwork, { name: string; accessHost: number; coreHost: number; portMin: number }> = {
  'access-a': { name: 'ims-agw-a', accessHost: 11, coreHost: 11, portMin: 30000 },
  'access-b': { name: 'ims-agw-b', accessHost: 11, coreHost: 31, portMin: 32000 },
};

/** rtpengine's options as the element runs with them: typed, checked, then written as its command line. */
const RtpengineOptions = strictObject({
  interfaces: z.array(z.object({ name: z.enum(['access', 'inner', 'core']), address: z.string().regex(/^\d+(\.\d+){3}$/) })).length(2),
  listenNg: z.string().regex(/^\d+(\.\d+){3}:\d+$/),
  portMin: z.number().int().min(1024).max(65535),
  portMax: z.number().int().min(1024).max(65535),
  pidFile: z.string().min(1),
}, 'rtpengine options').refine((o) => o.portMax > o.portMin, { message: 'must be above portMin', path: ['portMax'] });

declare module '@imslab/topology' {
  interface EvidenceTypes {
    /** What each IMS-AGW reported over ng `query` while each call was up, per call alias. */
    'agw-streams': Record<string, AgwStreamReport[]>;
  }
}

export const imsAgw = defineKind<AgwPlan>()({
  kind: 'ims-agw',
  summary: 'IMS-AGW: rtpengine, SRTP termination at the access edge (e2ae) or transparent relay',
  presence: 'always',
  // Kamailio probes its rtpengine once at start-up (and disables it for a while if absent): media gateways first.
  stage: 0,
  image: { name: 'ims-agw', dockerfile: 'services/ims-agw/Dockerfile' },
  leaves: 'logs',
  plan: (ctx) => (Object.entries(AGW_SIDES) as Array<[AccessNetwork, (typeof AGW_SIDES)[AccessNetwork]]>).map(([access, s]) => ({
    kind: 'ims-agw', name: s.name,
    addresses: { [access]: ctx.at(access, s.accessHost), core: ctx.at('core', s.coreHost) },
    accessAddress: ctx.at(access, s.accessHost), accessName: 'access', coreAddress: ctx.at('core', s.coreHost),
    portMin: s.portMin, portMax: s.portMin + 999,
  })),
  render(e, p) {
    const o = checkStrict(RtpengineOptions, {
      interfaces: [{ name: e.accessName, address: e.accessAddress }, { name: 'core', address: e.coreAddress }],
      listenNg: `${e.coreAddress}:${NG_PORT}`, portMin: e.portMin, portMax: e.portMax,
      pidFile: join(p.runDir, `${e.name}.pid`),
    }, `${e.name} rtpengine options`);
    return {
      files: {},
      command: [
        'rtpengine', '--config-file=none', '--table=-1', '--foreground', '--log-stderr', '--log-level=6',
        ...o.interfaces.map((i) => `--interface=${i.name}/${i.address}`),
        `--listen-ng=${o.listenNg}`, `--port-min=${o.portMin}`, `--port-max=${o.portMax}`,
        // The pid file names the run directory: `imslab down` and the reaper recognise the process by it.
        `--pidfile=${o.pidFile}`,
        '--timeout=60', '--delete-delay=0',
      ],
    };
  },
  listens: (e) => [{ element: e.name, address: e.coreAddress, port: NG_PORT, protocol: 'udp' }],
  readiness: (e) => ({ type: 'ng-ping', address: e.coreAddress, port: NG_PORT }),
  evidence: {
    duringCall: { name: 'agw-streams', collect: (e, callId) => queryAgw(e.name, e.coreAddress, callId) },
  },
});
