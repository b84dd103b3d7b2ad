import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOREIGN_FIXTURES_DIR, loadForeignManifest, type CaptureFile, type MediaLeg } from './fixtures/foreign/manifest.ts';
import { authenticates, rollovers, sessionKeys } from './fixtures/foreign/srtp-check.ts';

/**
 * Guards the third-party captures under fixtures/foreign/ (made by
 * scripts/foreign-captures/make.sh): each file is what manifest.json says it
 * is, read with tshark and with the SRTP checker beside the fixtures (not the
 * analyser's code): link types, Call-IDs, every media leg's addresses, ports,
 * SSRC and packet count, the a=crypto keys in the SDP, and that every SRTP
 * leg's packets authenticate under the key the manifest names (and plain legs
 * under none). The analyser's own tests judge these captures against the
 * manifest's expected verdicts.
 */
const DIR = FOREIGN_FIXTURES_DIR;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
const manifest = existsSync(join(DIR, 'manifest.json')) ? loadForeignManifest() : null;

/** Wireshark's encapsulation numbers (frame.encap_type) for the libpcap link types used here. */
const WTAP_FOR_LINKTYPE: Record<number, number> = { 1: 1, 113: 25, 276: 210 };

interface RtpRow {
  iface: string;
  src: string;
  dst: string;
  ssrc: number;
  seq: number;
  packet: Buffer;
}
interface FileData {
  encaps: Map<string, number>;
  callIds: Set<string>;
  cryptoAttrs: string[];
  rtp: RtpRow[];
}

const cache = new Map<string, FileData>();

function tshark(file: string, filter: string, fields: string[]): string[][] {
  const args = ['-r', join(DIR, file), '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', filter, '-T', 'fields', '-E', 'aggregator=\x1f', '-E', 'occurrence=a'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l).map((l) => l.split('\t'));
}

const hostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function fileData(file: string): FileData {
  let d = cache.get(file);
  if (d) return d;
  const encaps = new Map<string, number>();
  for (const [iface, encap] of tshark(file, 'frame', ['frame.interface_id', 'frame.encap_type'])) encaps.set(iface ?? '', Number(encap));
  const sip = tshark(file, 'sip && !icmp && !icmpv6', ['sip.Call-ID', 'sdp.media_attr']);
  const rtp = tshark(file, 'rtp && !icmp && !icmpv6', ['frame.interface_id', 'ip.src', 'ipv6.src', 'udp.srcport', 'ip.dst', 'ipv6.dst', 'udp.dstport', 'rtp.ssrc', 'rtp.seq', 'udp.payload']).map(
    ([iface, s4, s6, sp, d4, d6, dp, ssrc, seq, payload]): RtpRow => ({
      iface: iface ?? '',
      src: hostPort(s4 || s6 || '', sp ?? ''),
      dst: hostPort(d4 || d6 || '', dp ?? ''),
      ssrc: Number(ssrc),
      seq: Number(seq),
      packet: Buffer.from(payload ?? '', 'hex'),
    }),
  );
  d = {
    encaps,
    callIds: new Set(sip.map((r) => r[0] ?? '')),
    cryptoAttrs: sip.flatMap((r) => (r[1] ?? '').split('\x1f')).filter((a) => a.startsWith('crypto:')),
    rtp,
  };
  cache.set(file, d);
  return d;
}

function legPackets(leg: MediaLeg): RtpRow[] {
  return leg.files.flatMap((f) => fileData(f).rtp.filter((r) => r.src === leg.from && r.dst === leg.to && r.ssrc === leg.ssrc));
}

describe('foreign captures: manifest.json and the files', () => {
  it('has a manifest (regenerate with sudo scripts/foreign-captures/make.sh)', () => {
    expect(manifest, `no ${join(DIR, 'manifest.json')}`).not.toBeNull();
    expect(manifest!.schema).toBe('imslab-foreign-captures/1');
    expect(manifest!.captures.length).toBeGreaterThanOrEqual(7);
  });

  it('covers Ethernet, Linux SLL, Linux SLL2 and pcapng', () => {
    const files = manifest!.captures.flatMap((c) => c.files);
    const types = new Set(files.flatMap((f) => f.linkTypes));
    for (const t of [1, 113, 276]) expect(types.has(t), `link type ${t}`).toBe(true);
    expect(files.some((f) => f.format === 'pcapng')).toBe(true);
  });

  it('every file is the one the manifest describes (size, sha256, header link types)', () => {
    for (const f of manifest!.captures.flatMap((c) => c.files)) {
      const buf = readFileSync(join(DIR, f.file));
      expect(buf.length, f.file).toBe(f.bytes);
      expect(createHash('sha256').update(buf).digest('hex'), f.file).toBe(f.sha256);
      expect(headerLinkTypes(buf), f.file).toEqual(f.linkTypes);
    }
  });
});

/** Link types from the file's own header: pcap global header, or every pcapng interface description block. */
function headerLinkTypes(b: Buffer): number[] {
  if (b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d) return [b.readUInt32LE(20) & 0x0fffffff];
  const out: number[] = [];
  for (let off = 0; off + 12 <= b.length; off += b.readUInt32LE(off + 4)) if (b.readUInt32LE(off) === 1) out.push(b.readUInt16LE(off + 8));
  return out;
}

describe.skipIf(!TSHARK)(`foreign captures read with tshark${TSHARK ? '' : ' (SKIPPED: tshark is not installed; apt-get install tshark, as scripts/setup.sh does)'}`, () => {
  for (const c of manifest?.captures ?? []) {
    describe(c.id, () => {
      it('link type per file and interface, as tshark reads it', () => {
        for (const f of c.files as CaptureFile[]) {
          const encaps = [...fileData(f.file).encaps.entries()].sort(([a], [b]) => Number(a || 0) - Number(b || 0)).map(([, e]) => e);
          expect(encaps, f.file).toEqual(f.linkTypes.map((t) => WTAP_FOR_LINKTYPE[t]));
        }
      });

      for (const call of c.calls) {
        it(`call ${call.callId}: Call-ID in the SIP of every file, every key in an SDP`, () => {
          for (const f of c.files) expect(fileData(f.file).callIds, f.file).toContain(call.callId);
          const attrs = c.files.flatMap((f) => fileData(f.file).cryptoAttrs);
          for (const k of call.keys) {
            expect(attrs.some((a) => a.startsWith(`crypto:${k.tag} ${k.suite} inline:${k.inline}`)), `${k.id} ${k.suite} inline:${k.inline}`).toBe(true);
          }
        });

        for (const d of call.directions) {
          it(`call ${call.callId} ${d.direction}: every leg's packets, SSRC, ports and protection`, () => {
            let prev: RtpRow[] | null = null;
            for (const leg of d.legs) {
              const pkts = legPackets(leg);
              expect(pkts.length, `${leg.link} ${leg.from} -> ${leg.to} SSRC ${leg.ssrcHex}`).toBe(leg.packets);
              expect([pkts[0]!.seq, pkts[pkts.length - 1]!.seq]).toEqual(leg.seq);
              const rocs = rollovers(pkts.map((p) => p.seq));
              const keyed = call.keys.map((k) => ({ k, s: sessionKeys(k.suite, k.inline) })).filter((x) => x.s);
              if (leg.protection === 'srtp') {
                const s = sessionKeys(leg.srtp!.suite, leg.srtp!.inline);
                expect(s, `${leg.srtp!.suite} is an AES-CM suite`).not.toBeNull();
                expect(pkts.every((p, i) => authenticates(p.packet, s!, rocs[i]!)), `every packet authenticates under ${leg.srtp!.key}`).toBe(true);
                const others = keyed.filter((x) => x.k.id !== leg.srtp!.key);
                expect(others.filter((x) => authenticates(pkts[0]!.packet, x.s!, rocs[0]!)).map((x) => x.k.id), 'no other key authenticates').toEqual([]);
              } else {
                expect(keyed.filter((x) => pkts.slice(0, 5).some((p, i) => authenticates(p.packet, x.s!, rocs[i]!))).map((x) => x.k.id), 'plain RTP: no key authenticates').toEqual([]);
              }
              if (prev && leg.comparedWithPreviousLeg) {
                const bySeq = new Map(prev.map((p) => [p.seq, p.packet]));
                const same = pkts.filter((p) => bySeq.has(p.seq)).every((p) => bySeq.get(p.seq)!.equals(p.packet));
                expect(same, `${leg.link} bytes identical to the previous leg`).toBe(leg.comparedWithPreviousLeg.bytesIdentical);
              }
              prev = pkts;
            }
          });
        }
      }
    });
  }
});
