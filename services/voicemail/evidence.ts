import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, readCapture } from '@imslab/capture';
import { demuxRtpRtcp } from '@imslab/rtp';
import { PACKETS_FILE, STORE_DIR } from './src/contract.ts';

/** What the core capture shows of a store-and-forward element's media: what reached it, what it sent. */
export interface StoreAndForward {
  element: string;
  received: { packets: number; digest: string };
  sent: { packets: number; digest: string };
  /** Playbacks (one per destination): packets sent, and whether they are the received packets in order. */
  playbacks: Array<{ to: string; packets: number; complete: boolean; prefix: boolean }>;
  /** At least one playback sent every received payload, byte for byte, in order, and no playback sent anything else. */
  identical: boolean;
}

/** The voicemail's message store at rest, from the analyser's store scan (markers, key bytes) and the files. */
export interface StoreAtRest {
  messages: number;
  bytes: number;
  markers: string[];
  keys: string[];
}

/**
 * Summarises the store as collected (`<dir>/logs/voicemail-store`) with the
 * analyser's store findings (paths relative to `dir`); null when there is no
 * store to look at.
 */
export function voicemailStoreAtRest(dir: string, findings: ReadonlyArray<{ file: string; what: string; detail: string }>): StoreAtRest | null {
  const root = join(dir, 'logs', STORE_DIR);
  if (!existsSync(root)) return null;
  const bins: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n === PACKETS_FILE) bins.push(p);
    }
  };
  walk(root);
  const mine = findings.filter((f) => f.file.startsWith(join('logs', STORE_DIR)));
  return {
    messages: bins.length,
    bytes: bins.reduce((a, f) => a + statSync(f).size, 0),
    markers: [...new Set(mine.filter((f) => f.what === 'marker').map((f) => f.detail))],
    keys: [...new Set(mine.filter((f) => f.what === 'key').map((f) => f.detail))],
  };
}

/**
 * Reads the core link and compares the RTP/SRTP payloads that went to
 * `address` (deposits) with those it sent (playbacks): the evidence that a
 * voicemail played back exactly what it stored, with no decryption or
 * re-encryption in between. SIP (port 5060) is left out.
 */
export async function storeAndForwardEvidence(corePcap: string, element: string, address: string): Promise<StoreAndForward> {
  const inbound: Buffer[] = [];
  const outbound: Buffer[] = [];
  const byDest = new Map<string, Buffer[]>();
  for await (const pkt of readCapture(corePcap)) {
    const d = decodeFrame(pkt.linkType, pkt.data);
    if (!d || d.protocol !== 'udp' || d.srcPort === 5060 || d.dstPort === 5060 || demuxRtpRtcp(d.payload) !== 'rtp') continue;
    if (d.dst === address) inbound.push(Buffer.from(d.payload));
    else if (d.src === address) {
      const b = Buffer.from(d.payload);
      outbound.push(b);
      const to = `${d.dst}:${d.dstPort}`;
      const list = byDest.get(to);
      if (list) list.push(b);
      else byDest.set(to, [b]);
    }
  }
  const digest = (ps: Buffer[]) => {
    const h = createHash('sha256');
    for (const p of ps) h.update(Buffer.from([p.length >> 8, p.length & 0xff])).update(p);
    return h.digest('hex');
  };
  // A playback cut short (the listener hung up) must still be the stored packets from the start.
  const playbacks = [...byDest].map(([to, ps]) => ({
    to, packets: ps.length,
    prefix: ps.length <= inbound.length && ps.every((p, i) => p.equals(inbound[i]!)),
    complete: ps.length === inbound.length && ps.every((p, i) => p.equals(inbound[i]!)),
  }));
  const identical = inbound.length > 0 && playbacks.some((p) => p.complete) && playbacks.every((p) => p.prefix);
  return { element, received: { packets: inbound.length, digest: digest(inbound) }, sent: { packets: outbound.length, digest: digest(outbound) }, playbacks, identical };
}
