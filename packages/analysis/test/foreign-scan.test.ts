/**
 * The issue's own case, on captures third-party user agents made (baresip,
 * SIPp, Kamailio with rtpengine; fixtures/foreign/, ground truth in its
 * manifest.json): SIP on non-standard ports (5080, 15060, 25060) is read, the
 * SDES keys in its SDP are tried, and every media leg comes out as what the
 * manifest says it is: every packet of an SRTP leg under the key the manifest
 * names (as `sdp@<link>/...`), every packet of a plain leg as audio in the
 * clear; every flow tied to the SDP that announced it; nothing unknown. (In
 * e-rtpengine-default the INVITE with rtpengine's 13 keys crossed as two IP
 * fragments: its later keys are read only once the datagram is reassembled.)
 * The verdicts themselves are judged elsewhere.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyse } from '../src/index.ts';
import { FOREIGN_FIXTURES_DIR, loadForeignManifest } from './fixtures/foreign/manifest.ts';
import { expectAccounted } from './scan-helpers.ts';

const manifest = existsSync(join(FOREIGN_FIXTURES_DIR, 'manifest.json')) ? loadForeignManifest() : null;
const dir = mkdtempSync(join(tmpdir(), 'imslab-foreign-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noKeys = join(dir, 'none.jsonl');
writeFileSync(noKeys, '');

describe.skipIf(!manifest)('third-party captures, no key logs, no probe', () => {
  for (const c of manifest?.captures ?? []) {
    it(c.id, async () => {
      const captures = Object.fromEntries(c.files.map((f) => [f.file, join(FOREIGN_FIXTURES_DIR, f.file)]));
      const a = await analyse({ captures, keyLogs: [noKeys], calls: c.calls.map((x, i) => ({ alias: `c${i}`, callId: x.callId })), owner: () => undefined });
      expect(a.problems).toEqual([]);
      const links = new Map(a.links.map((l) => [l.link, l]));
      for (const l of a.links) {
        expect(l.signalling.plaintextSip, `${l.link}: SIP read whatever its ports`).toBeGreaterThan(0);
        for (const f of l.media) expectAccounted(f);
      }
      for (const call of c.calls) {
        // As the analyser writes them: canonical base64 (rtpengine leaves out the padding).
        const clearKeys = call.keys.filter((k) => k.seenIn.some((s) => s.clear)).map((k) => Buffer.from(k.inline, 'base64').toString('base64'));
        const exposed = new Set(a.links.flatMap((l) => l.signalling.exposedSdesKeys));
        for (const k of clearKeys) expect(exposed.has(k), `key ${k.slice(0, 6)} read from the SDP`).toBe(true);
        for (const leg of call.directions.flatMap((d) => d.legs)) {
          for (const file of leg.files) {
            const f = links.get(file)!.media.find((x) => x.src === leg.from && x.dst === leg.to);
            const what = `${c.id} ${file} ${leg.from} -> ${leg.to}`;
            expect(f, what).toBeDefined();
            expect(f!.ssrcs, what).toEqual([leg.ssrc]);
            expect(f!.packets, what).toBe(leg.packets);
            expect([f!.unknown, f!.replayed, f!.plaintext], what).toEqual([0, 0, 0]);
            expect(f!.foundBy, what).toEqual({ how: 'sdp', callId: call.callId });
            if (leg.protection === 'srtp') {
              const ids = Object.keys(f!.srtp);
              expect(ids, what).toHaveLength(1);
              expect(ids[0]!.startsWith('sdp@') && ids[0]!.endsWith(`/${leg.srtp!.inline.slice(0, 6)}`), `${what}: under ${ids[0]}`).toBe(true);
              expect(f!.srtp[ids[0]!], what).toBe(leg.packets);
            } else {
              expect(f!.srtp, what).toEqual({});
              expect(f!.plaintextUnmarked, `${what}: speech in the clear`).toBe(leg.packets);
            }
          }
        }
      }
    });
  }
});
