import { z } from 'zod';
import { strictObject } from '@imslab/element-kit';
import { defineCheck } from './check.ts';

const COUNTERS = ['rxAuthFailed', 'rxReplayed', 'rxMalformed', 'rxUnknownKey'] as const;
/**
 * An exact count; `some` (at least one: how many depends on timing, e.g.
 * packets after a re-key); or `{ atMost: n }` (none to n: a race the network
 * may or may not lose, e.g. packets an IMS-AGW passed on before it had the
 * answer's key).
 */
const count = z.union([z.number().int().min(0), z.literal('some'), strictObject({ atMost: z.number().int().min(1) }, 'a count { atMost: n }')]).optional();
type Count = z.output<typeof count>;

function matches(expected: NonNullable<Count>, got: number): boolean {
  if (expected === 'some') return got > 0;
  if (typeof expected === 'number') return got === expected;
  return got <= expected.atMost;
}

function describeCount(expected: NonNullable<Count>): string {
  if (expected === 'some') return 'at least 1';
  return typeof expected === 'number' ? String(expected) : `at most ${expected.atMost}`;
}

/**
 * Every UE that took part in the call received no packet that failed SRTP
 * authentication, no replay and nothing malformed, unless the scenario says
 * how many to expect (an attack). Runs for every call.
 */
export const ueCounters = defineCheck({
  key: 'ueCounters',
  basis: 'UE counters',
  always: true,
  doc: 'What the UEs\' receivers counted on this call: packets failing SRTP authentication, replays, malformed packets, packets whose MKI names no key the UE holds (a group key of an epoch after its removal). Default: none, on every UE of the call; give the number expected (per UE, summed) where an attack sends them, `some` for at least one, or `{ atMost: n }` where a race decides.',
  schema: strictObject({ rxAuthFailed: count, rxReplayed: count, rxMalformed: count, rxUnknownKey: count }, 'ueCounters'),
  run(want, ctx) {
    const views = Object.entries(ctx.ueCalls).flatMap(([ue, cs]) => cs.filter((c) => c.callId === ctx.call.callId).map((c) => ({ ue, c })));
    const seen: string[] = [];
    for (const counter of COUNTERS) {
      const expected = want?.[counter] ?? 0;
      // A UE older than the counter reports none: 0.
      const got = views.reduce((a, v) => a + (v.c.media[counter] ?? 0), 0);
      const who = views.filter((v) => (v.c.media[counter] ?? 0) > 0).map((v) => `${v.ue} ${v.c.media[counter]}`).join(', ');
      if (!matches(expected, got)) ctx.mismatch(`${counter}: ${got}${who ? ` (${who})` : ''}, expected ${describeCount(expected)}`);
      else seen.push(`${counter} ${got}`);
    }
    if (views.length > 0 && seen.length === COUNTERS.length) ctx.saw(`receivers of ${views.map((v) => v.ue).join(', ')}: ${seen.join(', ')}, as expected`);
  },
});
