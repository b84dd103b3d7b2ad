/**
 * Pager-mode messaging through the network (issue 12's first figure): alice
 * sends `count` MESSAGEs to bob one after the other through the P-CSCFs and
 * the S-CSCF on the local target, in the clear (CPIM) and signed and
 * encrypted (S/MIME, RFC 8591), in the same run. Latency is what the
 * sender's control API reports: from POST /message to the MESSAGE's final
 * response (the CMS is built inside that time; bob decrypts and verifies
 * before he answers 200). Messages per second = count / the wall time of the
 * sequence. The ratio signed+encrypted : plain says what the protection costs.
 */
import { join } from 'node:path';
import { planNetwork } from '@imslab/network';
import { LocalTarget, UeClient, newRunDir } from '@imslab/runner';
import { loadSubscribers, REPO_ROOT } from '@imslab/topology';

export interface MessagingSample {
  security: 'none' | 'smime';
  count: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** Size of the SIP request on the wire. */
  bytes: number;
}

export interface MessagingBench {
  plain: MessagingSample;
  smime: MessagingSample;
  /** smime.perSecond / plain.perSecond. */
  rateRatio: number;
  /** smime.p95Ms / plain.p95Ms. */
  p95Ratio: number;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function runMessagingBench(count = 100): Promise<MessagingBench> {
  const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
  const target = new LocalTarget();
  try {
    await target.up(planNetwork(subs, 'local'), { dir: join(newRunDir(), 'bench-messaging') });
    const alice = new UeClient('alice', target.controlUrl('alice'));
    const bob = new UeClient('bob-1', target.controlUrl('bob-1'));
    await alice.register();
    await bob.register();
    const sample = async (security: 'none' | 'smime'): Promise<MessagingSample> => {
      // One unmeasured message first: the first S/MIME message loads the credentials.
      await alice.message('sip:bob@ims.test', 'warm-up', security);
      const times: number[] = [];
      let bytes = 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const s = performance.now();
        const r = await alice.message('sip:bob@ims.test', `bench message ${i}`, security);
        if ('tooLarge' in r) throw new Error(`not sent: ${r.tooLarge}`);
        if ('unreachable' in r) throw new Error(`not sent: ${r.unreachable}`);
        if (r.status !== 200) throw new Error(`message ${i} (${security}): ${r.status} ${r.reason}`);
        times.push(performance.now() - s);
        bytes = r.bytes;
      }
      const wall = performance.now() - t0;
      times.sort((a, b) => a - b);
      return { security, count, perSecond: count / (wall / 1000), p50Ms: pct(times, 0.5), p95Ms: pct(times, 0.95), bytes };
    };
    const plain = await sample('none');
    const smime = await sample('smime');
    return { plain, smime, rateRatio: smime.perSecond / plain.perSecond, p95Ratio: smime.p95Ms / plain.p95Ms };
  } finally {
    await target.down();
  }
}

export function formatMessagingBench(r: MessagingBench): string {
  const one = (s: MessagingSample) => `${s.perSecond.toFixed(1)} msg/s, p50 ${s.p50Ms.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms (${s.bytes} bytes)`;
  return `messaging (MESSAGE alice -> bob through P-CSCFs and S-CSCF over TLS, ${r.plain.count} in a row): plain CPIM ${one(r.plain)}; S/MIME signed+encrypted ${one(r.smime)}; S/MIME rate ${r.rateRatio.toFixed(2)}x plain, p95 ${r.p95Ratio.toFixed(2)}x plain`;
}
