import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeyRing, scanLink } from '../src/index.ts';

/**
 * Interop: on captures of real runs, the analyser's RTP flows (packets, SSRCs,
 * sequence numbers) agree with tshark's RTP dissector. tshark is a Debian
 * package that scripts/setup.sh installs; without it this test fails. (tshark
 * takes UDP 32000, IMS-AGW B's first media port, for Alcatel's UAUDP: that
 * dissector is switched off.)
 */
const REAL = join(import.meta.dirname, 'fixtures', 'real');

function tsharkFlows(file: string): Map<string, { packets: number; ssrcs: Set<number>; lastSeq: number }> {
  let out: string;
  try {
    out = execFileSync('tshark', ['-r', file, '-n', '--disable-protocol', 'uaudp', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !rtcp && !icmp && !(udp.port == 5060 || udp.port == 5061 || udp.port == 2223)',
      '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'rtp.ssrc', '-e', 'rtp.seq'], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`tshark failed (apt-get install tshark): ${(e as Error).message}`);
  }
  const flows = new Map<string, { packets: number; ssrcs: Set<number>; lastSeq: number }>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [src, sp, dst, dp, ssrc, seq] = line.split('\t');
    const key = `${src}:${sp} > ${dst}:${dp}`;
    const f = flows.get(key) ?? { packets: 0, ssrcs: new Set<number>(), lastSeq: -1 };
    f.packets++;
    f.ssrcs.add(Number(ssrc));
    f.lastSeq = Number(seq);
    flows.set(key, f);
  }
  return flows;
}

describe('analyser vs tshark on real captures', () => {
  for (const scenario of ['access-edge-protection', 'transcoded-call-e2m2e', 'unprotected-call']) {
    it(scenario, async () => {
      const dir = join(REAL, scenario);
      const ring = loadKeyRing(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => join(dir, f)));
      for (const link of ['access-a', 'core', 'access-b']) {
        const file = join(dir, `${link}.pcap`);
        const ours = await scanLink(link, file, ring.keys);
        const theirs = tsharkFlows(file);
        const mine = new Map(ours.media.filter((f) => f.packets > 0).map((f) => [`${f.src} > ${f.dst}`, f]));
        expect([...mine.keys()].sort(), `${scenario} ${link} flows`).toEqual([...theirs.keys()].sort());
        for (const [key, t] of theirs) {
          const m = mine.get(key)!;
          expect(m.packets, `${key} packets`).toBe(t.packets);
          expect(new Set(m.ssrcs), `${key} ssrcs`).toEqual(t.ssrcs);
          expect(m.lost, `${key} lost`).toBe(0);
        }
      }
    });
  }
});
