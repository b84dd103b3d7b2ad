import { attacker } from '@imslab/attacker/element';
import { chat } from '@imslab/chat/element';
import { conference } from '@imslab/conference/element';
import { im } from '@imslab/im/element';
import { imsAgw } from '@imslab/ims-agw/element';
import { kms } from '@imslab/kms/element';
import { msrpRelay } from '@imslab/msrp-relay/element';
import { pcscf } from '@imslab/pcscf/element';
import { poc } from '@imslab/poc/element';
import { scscf } from '@imslab/scscf/element';
import { transcoder } from '@imslab/transcoder/element';
import type { AnyKind, PlanOf } from '@imslab/topology';
import { TopologyError } from '@imslab/topology';
import { ue } from '@imslab/ue/element';
import { voicemail } from '@imslab/voicemail/element';

/**
 * Every element kind of imslab, in planning order: a kind's plan fragment
 * sees the elements of the kinds before it (the S-CSCF routes to the
 * application servers planned earlier; UEs find their P-CSCF and the KMS).
 * Adding a kind is a folder under services/ with an element.ts, and one line
 * here (docs/adding-an-element.md).
 */
export const KINDS = [imsAgw, transcoder, voicemail, conference, poc, im, chat, msrpRelay, attacker, kms, scscf, pcscf, ue] as const;

export type Kind = (typeof KINDS)[number];
/** A planned element of any registered kind. */
export type ElementPlan = PlanOf<Kind>;
export type ElementKindName = Kind['kind'];

/** Kinds a scenario may ask for (`network.servers`) or a compose profile may add. */
export const ON_DEMAND_KINDS = KINDS.filter((k) => k.presence === 'on-demand').map((k) => k.kind);

/** The kind of an element; an unknown kind lists the known ones. */
export function kindOf(kind: string): AnyKind {
  const k = KINDS.find((x) => x.kind === kind);
  if (!k) throw new TopologyError(`unknown element kind; kinds: ${KINDS.map((x) => x.kind).join(', ')}`, kind);
  return k as AnyKind;
}
