import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, markerFor, probePayload, type ProbeDirection } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';

/**
 * Builds small captures of a call's media for the analyser's tests: each hop
 * of each direction is a flow on a link, in plaintext or protected under a
 * named key, exactly as the elements of a real run would put it on the wire.
 */
export interface Hop {
  link: string;
  src: string;
  dst: string;
  /** null: plaintext RTP; otherwise the name of a key made by `keys()`. */
  key: string | null;
  /** Replace the probe payload by something else (real speech, noise). */
  payload?: (i: number) => Buffer;
  /** Time this hop adds (a relay's latency): the packet is captured this much later on its link. */
  delayUs?: number;
}

export class SynthRun {
  readonly dir = mkdtempSync(join(tmpdir(), 'imslab-synth-'));
  private readonly writers = new Map<string, PcapWriter>();
  private readonly keySalts = new Map<string, Buffer>();
  private readonly keyLog: string[] = [];
  private t = 1_700_000_000_000_000;

  constructor(readonly callId: string, private readonly linkType: number = LINKTYPE.ETHERNET) {}

  /** Makes a key; `logAs` puts it in the key log under that owner (omit: a key nobody logged). */
  key(name: string, logAs?: { owner: string; dir: 'tx' | 'rx' }): void {
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    this.keySalts.set(name, ks);
    if (logAs) {
      this.keyLog.push(formatKeyLogEntry({
        kind: 'srtp', owner: logAs.owner, callId: this.callId, dir: logAs.dir, suite: 'AES_CM_128_HMAC_SHA1_80',
        keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: new Date(0).toISOString(),
      }));
    }
  }

  private writer(link: string): PcapWriter {
    let w = this.writers.get(link);
    if (!w) {
      w = new PcapWriter(join(this.dir, `${link}.pcap`), this.linkType);
      this.writers.set(link, w);
    }
    return w;
  }

  /** Writes `packets` RTP packets of one direction along its hops. */
  media(direction: ProbeDirection, hops: Hop[], packets = 20): void {
    const marker = markerFor(this.callId, direction);
    const ssrc = direction === 'orig' ? 0x11112222 : 0x33334444;
    const contexts = hops.map((h) => {
      if (!h.key) return null;
      const ks = this.keySalts.get(h.key);
      if (!ks) throw new Error(`no key ${h.key}`);
      return new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks) });
    });
    for (let i = 0; i < packets; i++) {
      hops.forEach((h, j) => {
        // PCMU; the sequence numbers wrap after 6 packets.
        const rtp = buildRtp({ payloadType: 0, sequence: 65530 + i, timestamp: i * 160, ssrc }, h.payload ? h.payload(i) : probePayload(marker, i));
        const wire = contexts[j] ? contexts[j]!.protectRtp(rtp) : rtp;
        const [sa, sp] = h.src.split(':');
        const [da, dp] = h.dst.split(':');
        this.t += 100;
        this.writer(h.link).write(this.t + (h.delayUs ?? 0), buildUdpFrame(this.linkType, sa!, Number(sp), da!, Number(dp), wire));
      });
    }
  }

  async finish(): Promise<{ captures: Record<string, string>; keyLogs: string[] }> {
    const captures: Record<string, string> = {};
    for (const [link, w] of this.writers) {
      await w.close();
      captures[link] = join(this.dir, `${link}.pcap`);
    }
    const keyFile = join(this.dir, 'keys.srtp-keys.jsonl');
    writeFileSync(keyFile, this.keyLog.join(''));
    return { captures, keyLogs: [keyFile] };
  }
}

/** The testbed's local addresses, for naming the middle of a path. */
export const OWNERS: Record<string, { name: string; kind: string }> = {
  '127.0.1.100': { name: 'alice', kind: 'ue' },
  '127.0.1.11': { name: 'ims-agw-a', kind: 'ims-agw' },
  '127.0.2.11': { name: 'ims-agw-a', kind: 'ims-agw' },
  '127.0.2.31': { name: 'ims-agw-b', kind: 'ims-agw' },
  '127.0.3.11': { name: 'ims-agw-b', kind: 'ims-agw' },
  '127.0.3.100': { name: 'bob-1', kind: 'ue' },
  '127.0.3.102': { name: 'carol', kind: 'ue' },
  '127.0.2.70': { name: 'conference', kind: 'conference' },
};
export const owner = (a: string) => OWNERS[a];

export const ALICE = '127.0.1.100:40000';
export const AGW_A_ACCESS = '127.0.1.11:30000';
export const AGW_A_CORE = '127.0.2.11:30002';
export const AGW_B_CORE = '127.0.2.31:32000';
export const AGW_B_ACCESS = '127.0.3.11:32002';
export const BOB = '127.0.3.100:40000';
export const CAROL = '127.0.3.102:40000';
export const CONF = '127.0.2.70:36000';
export const AGW_B_CORE_2 = '127.0.2.31:32004';
export const AGW_B_ACCESS_2 = '127.0.3.11:32006';
