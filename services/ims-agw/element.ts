import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { defineKind, NG_PORT, type AccessNetwork } from '@imslab/topology';
import { z } from 'zod';
import { queryAgw, type AgwStreamReport } from './agw-evidence.ts';
import { AGW_SIDES, type AgwPlan } from './plan.ts';

export { AGW_SIDES, type AgwPlan } from './plan.ts';

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
    /** What each IMS-AGW reported over ng `query` while each call was up, per call alias (one entry per ng session asked). */
    'agw-streams': Record<string, AgwStreamReport[]>;
  }
}

export const imsAgw = defineKind<AgwPlan>()({
  kind: 'ims-agw',
  summary: 'IMS-AGW: rtpengine, SRTP termination at the access edge (e2ae) or transparent relay',
  presence: 'always',
  // Kamailio probes its rtpengine once at start-up (and disables it for a while if absent): media gateways
  // (with everything that does not need one) first, the P-CSCFs and the transcoder once they answer.
  stage: 0,
  image: { name: 'ims-agw', dockerfile: 'services/ims-agw/Dockerfile' },
  leaves: 'logs',
  plan: (ctx) => (Object.entries(AGW_SIDES) as Array<[AccessNetwork, (typeof AGW_SIDES)[AccessNetwork]]>).map(([access, s]) => ({
    kind: 'ims-agw', name: s.name,
    addresses: { [access]: ctx.at(access, s.accessHost), core: ctx.at('core', s.coreHost) },
    accessAddress: ctx.at(access, s.accessHost), accessName: 'access', coreAddress: ctx.at('core', s.coreHost),
    // rtpengine takes a port pair on both of its interfaces per call: 1000 pairs, 1000 concurrent calls per IMS-AGW (the load bench reaches 500).
    portMin: s.portMin, portMax: s.portMin + 1999,
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
    // Every ng session the element holds for the call: -mo/-mt at a P-CSCF's IMS-AGW, -tc1/-tc2 at the transcoder's media engine.
    duringCall: { name: 'agw-streams', collect: (e, callId) => queryAgw(e, callId) },
  },
});
