import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFormatError, decodeFrame, readCaptureBuffer } from '@imslab/capture';
import { buildRtp } from '@imslab/rtp';

/**
 * What the attacker element sends for an `inject` step (issue 13), made
 * from what a link tap saw: the captures are written as the scenario runs
 * (tcpdump -U), so the runner reads them like an eavesdropper on the link.
 * - replay: the last SRTP packets the target received, byte for byte
 * - tamper: the same packets with one bit of the payload flipped
 * - plaintext: RTP in the clear (PCMU silence, no probe marker) on the
 *   target's media port, as an attacker without the key would inject it
 */
export const INJECT_ATTACKS = ['replay', 'tamper', 'plaintext'] as const;
export type InjectAttack = (typeof INJECT_ATTACKS)[number];

/** UDP payloads captured on any link so far that went to `address:port`, oldest first (a truncated tail is where tcpdump is writing). */
export function capturedTo(dir: string, address: string, port: number): Buffer[] {
  const out: Buffer[] = [];
  for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort() : []) {
    try {
      for (const p of readCaptureBuffer(readFileSync(join(dir, f)))) {
        const d = decodeFrame(p.linkType, p.data);
        if (d?.protocol === 'udp' && d.dst === address && d.dstPort === port) out.push(Buffer.from(d.payload));
      }
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      // the packet tcpdump is writing right now
    }
  }
  return out;
}

/** The datagrams of an attack: at most `count`, from the packets the target received (for replay and tamper). */
export function attackDatagrams(attack: InjectAttack, received: Buffer[], count: number): Buffer[] {
  if (attack === 'plaintext') {
    const ssrc = 0x5eed0000 + count;
    return Array.from({ length: count }, (_, i) => buildRtp({ payloadType: 0, sequence: 1000 + i, timestamp: 160 * i, ssrc }, Buffer.alloc(160, 0xff)));
  }
  const last = received.slice(-count);
  if (attack === 'replay') return last;
  return last.map((p) => {
    const t = Buffer.from(p);
    // A payload bit after the 12-byte header: the authentication tag covers it.
    const at = Math.min(t.length - 1, 12 + ((t.length - 12) >> 1));
    t[at] = t[at]! ^ 0x01;
    return t;
  });
}
