import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressOwner, planNetwork } from '@imslab/network';
import { loadSubscribers, REPO_ROOT } from '@imslab/topology';
import { analyse } from '../src/index.ts';

/**
 * Captures of real runs (Kamailio, rtpengine, our UEs on the local target),
 * kept by scripts/capture-fixtures.ts, re-analysed: the verdict must stay what
 * the run proved. They include the traps: rtpengine adding unused keys,
 * rtpengine re-keying the core leg, the transcoder re-encrypting.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures', 'real');
const plan = planNetwork(loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml')), 'local', { servers: ['kms', 'transcoder'] });
const owner = addressOwner(plan);
const dirs = existsSync(FIXTURES) ? readdirSync(FIXTURES) : [];

describe('verdicts on captures of real runs', () => {
  it('has fixtures to check', () => expect(dirs.length).toBeGreaterThanOrEqual(5));
  for (const name of dirs) {
    it(name, async () => {
      const dir = join(FIXTURES, name);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { calls: Array<{ alias: string; callId: string; verdict: string }> };
      const a = await analyse({
        captures: Object.fromEntries(['access-a', 'core', 'access-b'].map((l) => [l, join(dir, `${l}.pcap`)])),
        keyLogs: readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => join(dir, f)),
        calls: expected.calls.map((c) => ({ alias: c.alias, callId: c.callId })),
        owner,
      });
      for (const c of expected.calls) expect(a.calls.find((x) => x.alias === c.alias)?.verdict, name).toBe(c.verdict);
    });
  }
});
