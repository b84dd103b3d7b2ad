import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, readCapture } from '@imslab/capture';
import { demuxRtpRtcp } from '@imslab/rtp';
import { BOX_DIR, BURST_META_FILE, BURST_PACKETS_FILE, type DeliveredBurst } from './src/contract.ts';
import { packetsDigest } from './src/box-records.ts';
import { readJournal } from './src/box-journal.ts';

/** How a delivered burst shows on the core link: the server's packets to one destination, from the burst's first packet on. */
export interface ReplayOnWire {
  /** Destination (address:port) of the replay: the member's leg. */
  to: string;
  /** Packets compared (the burst's count, or fewer if the capture ends first). */
  packets: number;
  /** Those packets are the burst's, byte for byte, in order (the journal's digest). */
  identical: boolean;
  /** Between the first and last of them, as captured: compare with the burst's durationMs (pacing). */
  wireMs: number;
}

/** The PoC box after the run: what is still in it, what the store scan found in it, and what was delivered. */
export interface PocBoxEvidence {
  /** Bursts still waiting in the box (not delivered), by how they are kept. */
  atRest: { bursts: number; bytes: number; srtp: number; rtp: number };
  /** Bursts moved to `.quarantine/` (unreadable, or delivered with damage). */
  quarantined: number;
  /** Probe markers and key bytes the analyser's store scan found anywhere in the box (a finding in e2e). */
  markers: string[];
  keys: string[];
  /** Every burst played to its member (delivered.jsonl), with the replay found on the core link (null: no core capture, or its first packet never left the server). */
  delivered: Array<DeliveredBurst & { onWire: ReplayOnWire | null }>;
  problems: string[];
}

function metas(root: string, inQuarantine: boolean, out: { file: string; bytes: number; quarantined: boolean }[]): void {
  for (const n of readdirSync(root)) {
    const p = join(root, n);
    if (!statSync(p).isDirectory()) continue;
    if (n === '.quarantine') metas(p, true, out);
    else if (n.startsWith('.')) continue; // an interrupted begin or removal
    else if (existsSync(join(p, BURST_META_FILE))) {
      const bin = join(p, BURST_PACKETS_FILE);
      out.push({ file: join(p, BURST_META_FILE), bytes: existsSync(bin) ? statSync(bin).size : 0, quarantined: inQuarantine });
    } else metas(p, inQuarantine, out);
  }
}

/** The server's RTP to each destination on the core link, in order, with capture times and digests. */
async function sentByDestination(corePcap: string, address: string): Promise<Map<string, Array<{ data: Buffer; us: number; sha: string }>>> {
  const out = new Map<string, Array<{ data: Buffer; us: number; sha: string }>>();
  for await (const pkt of readCapture(corePcap)) {
    const d = decodeFrame(pkt.linkType, pkt.data);
    if (!d || d.protocol !== 'udp' || d.src !== address || d.srcPort === 5060 || demuxRtpRtcp(d.payload) !== 'rtp') continue;
    const to = `${d.dst}:${d.dstPort}`;
    const list = out.get(to) ?? [];
    list.push({ data: Buffer.from(d.payload), us: pkt.timestampUs, sha: createHash('sha256').update(d.payload).digest('hex') });
    out.set(to, list);
  }
  return out;
}

/**
 * The run of the server's packets that is this burst's replay: the same
 * bytes also left the server live, to the members who were joined when the
 * talker spoke, so of the runs that match byte for byte the one ending
 * nearest the journal's deliveredAt (the replay's last packet) is the replay.
 */
function findOnWire(b: DeliveredBurst, sent: Map<string, Array<{ data: Buffer; us: number; sha: string }>>): ReplayOnWire | null {
  const deliveredUs = Date.parse(b.deliveredAt) * 1000;
  let best: { w: ReplayOnWire; off: number } | null = null;
  let partial: ReplayOnWire | null = null;
  for (const [to, list] of sent) {
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.sha !== b.firstPacket) continue;
      const run = list.slice(i, i + b.packets);
      const w = { to, packets: run.length, identical: run.length === b.packets && packetsDigest(run.map((x) => x.data)) === b.digest, wireMs: Math.round((run[run.length - 1]!.us - run[0]!.us) / 1000) };
      if (!w.identical) {
        partial ??= w;
        continue;
      }
      const off = Math.abs(run[run.length - 1]!.us - deliveredUs);
      if (!best || off < best.off) best = { w, off };
    }
  }
  return best?.w ?? partial;
}

/**
 * The box as collected (`<dir>/logs/poc-box`) with the analyser's store
 * findings (paths relative to `dir`) and, given the core capture, where
 * each delivered burst left the server; null when there is no box.
 */
export async function pocBoxEvidence(dir: string, findings: ReadonlyArray<{ file: string; what: string; detail: string }>, corePcap: string | undefined, address: string): Promise<PocBoxEvidence | null> {
  const root = join(dir, 'logs', BOX_DIR);
  if (!existsSync(root)) return null;
  const problems: string[] = [];
  const found: { file: string; bytes: number; quarantined: boolean }[] = [];
  metas(root, false, found);
  const atRest = { bursts: 0, bytes: 0, srtp: 0, rtp: 0 };
  for (const f of found.filter((x) => !x.quarantined)) {
    atRest.bursts++;
    atRest.bytes += f.bytes;
    try {
      const m = JSON.parse(readFileSync(f.file, 'utf8')) as { protection?: string };
      if (m.protection === 'srtp') atRest.srtp++;
      else if (m.protection === 'rtp') atRest.rtp++;
    } catch (e) {
      problems.push(`${f.file}: ${(e as Error).message}`);
    }
  }
  const journal = readJournal(root);
  problems.push(...journal.problems);
  const sent = corePcap && journal.entries.length > 0 ? await sentByDestination(corePcap, address) : null;
  const mine = findings.filter((f) => f.file.startsWith(join('logs', BOX_DIR)));
  return {
    atRest,
    quarantined: found.filter((x) => x.quarantined).length,
    markers: [...new Set(mine.filter((f) => f.what === 'marker').map((f) => f.detail))],
    keys: [...new Set(mine.filter((f) => f.what === 'key').map((f) => f.detail))],
    delivered: journal.entries.map((b) => ({ ...b, onWire: sent ? findOnWire(b, sent) : null })),
    problems,
  };
}
