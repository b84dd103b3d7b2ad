import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');

/** The attacker's configuration: rendered by services/attacker/element.ts. Unknown fields are refused. */
export const AttackerConfigSchema = strictObject({
  name: z.string().min(1),
  /** One address per network it sits on; packets leave from the one on the destination's network. */
  addresses: z.array(ipv4).min(1),
  /** Where the control API listens (the first address). */
  controlPort: z.number().int().min(1).max(65535),
}, 'the attacker configuration');

export type AttackerConfigInput = z.input<typeof AttackerConfigSchema>;
export type AttackerConfig = z.output<typeof AttackerConfigSchema>;

export function parseAttackerConfig(raw: unknown): AttackerConfig {
  return checkStrict(AttackerConfigSchema, raw, 'attacker configuration');
}
