import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { encodeFloorMessage } from '@imslab/floor-control';
import { buildRtp } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { floorControlOnLinks, pocReplicationEvidence } from '../evidence.ts';

/*
 * The PoC server's evidence, from captures written here: which packets left
 * the server byte-identical to packets that reached it, and floor control
 * readable in the clear on a link.
 */

const dir = mkdtempSync(join(tmpdir(), 'imslab-poc-evidence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POC = '127.0.2.80';
const AGW_A = '127.0.2.11';
const AGW_B = '127.0.2.31';

type Udp = [src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer];

async function pcap(name: string, packets: Udp[]): Promise<string> {
  const file = join(dir, name);
  const w = new PcapWriter(file, LINKTYPE.RAW);
  packets.forEach(([s, sp, d, dp, p], i) => w.write(1_000_000 + i * 20_000, buildUdpFrame(LINKTYPE.RAW, s, sp, d, dp, p)));
  await w.close();
  return file;
}

const rtp = (ssrc: number, seq: number) => buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, Buffer.alloc(20, seq));

describe('pocReplicationEvidence', () => {
  it('ties each packet the server sent to the leg it came in on, byte for byte', async () => {
    const a1 = rtp(1, 1), a2 = rtp(1, 2), b1 = rtp(2, 1);
    const file = await pcap('core.pcap', [
      [AGW_A, 30000, POC, 36000, a1],
      [POC, 36002, AGW_B, 32000, a1],
      [POC, 36004, AGW_B, 32010, a1],
      [AGW_B, 32010, POC, 36004, b1], // a member without the floor: dropped
      [AGW_A, 30000, POC, 36000, a2],
      [POC, 36002, AGW_B, 32000, a2],
      [AGW_B, 5060, POC, 5060, Buffer.from('INVITE sip:poc-team@ims.test SIP/2.0\r\n')],
    ]);
    const r = await pocReplicationEvidence(file, 'poc', POC);
    expect(r).toEqual({
      element: 'poc',
      legs: [
        { at: `${POC}:36000`, from: `${AGW_A}:30000`, packets: 2, forwardedTo: { [`${AGW_B}:32000`]: 2, [`${AGW_B}:32010`]: 1 } },
        { at: `${POC}:36004`, from: `${AGW_B}:32010`, packets: 1, forwardedTo: {} },
      ],
      sent: 3,
      sentIdentical: 3,
    });
  });

  it('counts a packet the server sent that never reached it (changed or re-encrypted)', async () => {
    const a1 = rtp(1, 1);
    const changed = Buffer.from(a1);
    changed[changed.length - 1]! ^= 1;
    const r = await pocReplicationEvidence(await pcap('changed.pcap', [[AGW_A, 30000, POC, 36000, a1], [POC, 36002, AGW_B, 32000, changed]]), 'poc', POC);
    expect([r.sent, r.sentIdentical]).toEqual([1, 0]);
    expect(r.legs[0]!.forwardedTo).toEqual({});
  });
});

describe('floorControlOnLinks', () => {
  const request = encodeFloorMessage({ type: 'floor-request', ackRequired: false, ssrc: 7, fields: { userId: 'sip:alice@ims.test' } });
  const ctx = (unencryptedSrtcp: boolean) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16).fill(1), masterSalt: new Uint8Array(14).fill(2), unencryptedSrtcp });

  it('finds nothing readable in encrypted SRTCP, but counts its APP packets from the clear header', async () => {
    const file = await pcap('srtcp.pcap', [[AGW_A, 30001, POC, 36001, ctx(false).protectRtcp(request)]]);
    expect(await floorControlOnLinks({ core: file })).toEqual({ appPackets: { core: 1 }, clear: [], clearTotal: 0 });
  });

  it('reports plain floor control and SRTCP sent with encryption off as readable', async () => {
    const file = await pcap('clear.pcap', [
      [AGW_A, 30001, POC, 36001, Buffer.from(request)],
      [AGW_A, 30001, POC, 36001, ctx(true).protectRtcp(request)],
    ]);
    const r = await floorControlOnLinks({ 'access-a': file });
    expect(r.clearTotal).toBe(2);
    expect(r.clear[0]).toEqual({ link: 'access-a', flow: `${AGW_A}:30001 > ${POC}:36001`, messages: ['floor-request'] });
  });
});
