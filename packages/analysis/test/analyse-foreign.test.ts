/**
 * `imslab analyse` on captures third-party user agents made (fixtures/foreign,
 * ground truth in manifest.json): for every call and direction the media path
 * and the verdict equal the manifest's, the legs are the manifest's legs in
 * order (link, ends, SSRC, protection, key, compared with the previous leg),
 * and the conditions name the same keys, hops, links and messages. Keys are
 * compared by their inline value (the manifest's k1.. are its own names);
 * links through the legs (the manifest names links am/bm, the analyser names
 * a file or a pcapng interface).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseCaptures, canonicalInline, type Condition, type ForeignAnalysis } from '../src/index.ts';
import { FOREIGN_FIXTURES_DIR, loadForeignManifest, type CallTruth } from './fixtures/foreign/manifest.ts';

const manifest = existsSync(join(FOREIGN_FIXTURES_DIR, 'manifest.json')) ? loadForeignManifest() : null;

/** The manifest's conditions, read back into the analyser's structure (one string per condition). */
export function manifestConditions(call: CallTruth, conditions: string[], linkName: (l: string) => string): string[] {
  const inline = (id: string) => canonicalInline(call.keys.find((k) => k.id === id)!.inline);
  return conditions.map((c) => {
    let m = /^plain RTP (\S+) -> (\S+) on link (\S+):/.exec(c);
    if (m) return `plain-media|${linkName(m[3]!)}|${m[1]}|${m[2]}`;
    m = /^SRTP \((k\d+)\) on link (\S+) only/.exec(c);
    if (m) return `hop-only|${inline(m[1]!)}|${linkName(m[2]!)}`;
    m = /^key (k\d+) \(.*?\) crossed (\S+) -> (\S+) \(link (\S+)\) in plaintext SIP \((.+)\)$/.exec(c);
    if (m) return `key-in-clear|${inline(m[1]!)}|${linkName(m[4]!)}|${m[2]}|${m[3]}|${m[5]}`;
    throw new Error(`manifest condition not understood: ${c}`);
  }).sort();
}

/** The analyser's conditions in the same shape. */
export function ourConditions(conditions: Condition[]): string[] {
  return conditions.map((c) => {
    switch (c.kind) {
      case 'plain-media': return `plain-media|${c.link}|${c.from}|${c.to}`;
      case 'hop-only': return `hop-only|${c.inline ?? c.key}|${c.link}`;
      case 'key-in-clear': return `key-in-clear|${c.inline}|${c.link}|${c.from}|${c.to}|${c.message}`;
      default: return `${c.kind}|${c.text}`;
    }
  }).sort();
}

describe.skipIf(!manifest)('imslab analyse: third-party captures against their manifest', () => {
  for (const c of manifest?.captures ?? []) {
    it(c.id, async () => {
      const a: ForeignAnalysis = await analyseCaptures({ captures: c.files.map((f) => join(FOREIGN_FIXTURES_DIR, f.file)) });
      expect(a.problems).toEqual([]);
      expect(a.links.map((l) => l.packets).reduce((x, y) => x + y, 0)).toBe(c.files.reduce((x, f) => x + f.packets, 0));
      expect(a.calls.map((x) => x.callId).sort()).toEqual(c.calls.map((x) => x.callId).sort());
      for (const truth of c.calls) {
        const call = a.calls.find((x) => x.callId === truth.callId)!;
        expect(call.foundBy).toBe('sip');
        expect(call.caller).toBe(truth.caller.sip);
        expect(call.callee).toBe(truth.callee.sip);
        expect(call.signalling.map((s) => [s.from, s.to, s.clear])).toEqual(truth.signalling.map((s) => [s.from, s.to, s.clear]));
        // Every key the SDPs carried, once, with each hop it crossed.
        expect(a.keys.map((k) => k.inline).sort()).toEqual(truth.keys.map((k) => canonicalInline(k.inline)).sort());
        for (const k of truth.keys) {
          const ours = a.keys.find((x) => x.inline === canonicalInline(k.inline))!;
          expect(ours.suite).toBe(k.suite);
          const sdp = ours.sources.flatMap((s) => (s.kind === 'sdp' ? [`${s.from} -> ${s.to} ${s.message} ${s.clear}`] : []));
          expect(sdp.sort()).toEqual(k.seenIn.map((s) => `${s.from} -> ${s.to} ${s.message} ${s.clear}`).sort());
        }
        const links = new Map<string, string>();
        for (const d of truth.directions) {
          const ours = call.directions.find((x) => x.direction === d.direction)!;
          const what = `${c.id} ${d.direction}`;
          expect(ours.legs.map((l) => [l.src, l.dst, l.ssrcs, l.protection, l.packets]), what).toEqual(d.legs.map((l) => [l.from, l.to, [l.ssrc], l.protection, l.packets]));
          d.legs.forEach((leg, i) => {
            const l = ours.legs[i]!;
            links.set(leg.link, l.link);
            expect(l.payloadTypes, what).toEqual([leg.payloadType]);
            expect(l.key ? a.keys.find((k) => k.id === l.key)!.inline : undefined, what).toEqual(leg.srtp ? canonicalInline(leg.srtp.inline) : undefined);
            if (leg.comparedWithPreviousLeg) {
              expect([l.comparedWithPrevious?.bytesIdentical, l.comparedWithPrevious?.payloadIdentical], `${what} leg ${i}`)
                .toEqual([leg.comparedWithPreviousLeg.bytesIdentical, leg.comparedWithPreviousLeg.payloadPlaintextIdentical]);
            }
          });
          expect(ours.mediaPath, what).toBe(d.mediaPath);
          expect(ours.verdict, what).toBe(d.expected);
        }
        for (const d of truth.directions) {
          const ours = call.directions.find((x) => x.direction === d.direction)!;
          expect(ourConditions(ours.conditions), `${c.id} ${d.direction}`).toEqual(manifestConditions(truth, d.conditions, (l) => links.get(l) ?? `?${l}`));
        }
        expect(call.verdict).toBe(truth.directions.map((d) => d.expected).includes('none') ? 'none' : truth.directions[0]!.expected);
      }
    });
  }
});
