import type { AccessNetwork, PlannedElement } from '@imslab/topology';

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
