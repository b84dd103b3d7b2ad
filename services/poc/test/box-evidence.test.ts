/**
 * The PoC box's evidence after a run, from a run directory and a core
 * capture written here: bursts still at rest (and how kept), the store
 * scan's findings in the box, and each delivered burst found leaving the
 * server byte for byte, with its length in time on the wire.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { buildRtp } from '@imslab/rtp';
import { pocBoxEvidence } from '../box-evidence.ts';
import { PocBox } from '../src/box.ts';
import { BOX_DIR } from '../src/contract.ts';
import { readJournal } from '../src/box-journal.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-poc-box-evidence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POC = '127.0.2.80';
const AGW_B = '127.0.2.31';
const T0 = 1_700_000_000_000_000;
const rtp = (seq: number) => buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 7 }, Buffer.alloc(30, seq));
const begin = (box: PocBox, member: string) => box.begin({ group: 'poc-team', member, talker: 'sip:alice@ims.test', mode: 'e2e', protection: 'srtp', layout: null });

describe('pocBoxEvidence', () => {
  it('reports bursts at rest, findings in the box, and each delivered burst on the wire', async () => {
    const box = PocBox.open(join(dir, 'logs', BOX_DIR));
    const rest = begin(box, 'sip:bob@ims.test');
    rest.append({ atUs: T0, data: rtp(1) });
    rest.finish();
    const burst = [1, 2, 3].map(rtp);
    const r = begin(box, 'sip:carol@ims.test');
    burst.forEach((data, i) => r.append({ atUs: T0 + i * 20_000, data }));
    r.finish();
    box.delivered(r.id, { callId: 'c3', packets: burst });
    const other = begin(box, 'sip:carol@ims.test');
    other.append({ atUs: T0, data: rtp(9) });
    other.finish();
    box.delivered(other.id, { callId: 'c4', packets: [rtp(9)] }); // never seen leaving the server

    const core = join(dir, 'core.pcap');
    const w = new PcapWriter(core, LINKTYPE.RAW);
    // The same bytes left twice: live to bob when alice spoke (20 ms apart), and replayed to carol, ending when the journal says (30 ms apart).
    const doneUs = Date.parse(readJournal(join(dir, 'logs', BOX_DIR)).entries[0]!.deliveredAt) * 1000;
    burst.forEach((p, i) => w.write(doneUs - 5_000_000 + i * 20_000, buildUdpFrame(LINKTYPE.RAW, POC, 36002, AGW_B, 32000, p)));
    burst.forEach((p, i) => w.write(doneUs - 60_000 + i * 30_000, buildUdpFrame(LINKTYPE.RAW, POC, 36004, AGW_B, 32010, p)));
    w.write(doneUs + 1_000_000, buildUdpFrame(LINKTYPE.RAW, POC, 36006, AGW_B, 32020, burst[0]!)); // a lone copy elsewhere: not the burst
    await w.close();

    const findings = [{ file: join('logs', BOX_DIR, 'poc-team', 'bob@ims.test', rest.id, 'packets.bin'), what: 'marker', detail: 'IMSLAB0123456789' }, { file: join('logs', 'kms.log'), what: 'key', detail: 'k' }];
    const e = (await pocBoxEvidence(dir, findings, core, POC))!;
    expect(e.atRest).toEqual({ bursts: 1, bytes: 12 + rtp(1).length, srtp: 1, rtp: 0 });
    expect(e.quarantined).toBe(0);
    expect(e.markers).toEqual(['IMSLAB0123456789']);
    expect(e.keys).toEqual([]); // a finding outside the box is not the box's
    expect(e.delivered.map((d) => [d.id, d.callId, d.packets, d.onWire])).toEqual([
      [r.id, 'c3', 3, { to: `${AGW_B}:32010`, packets: 3, identical: true, wireMs: 60 }],
      [other.id, 'c4', 1, null],
    ]);
    expect(e.problems).toEqual([]);
    expect(await pocBoxEvidence(join(dir, 'nothing'), [], undefined, POC)).toBeNull();
  });
});
