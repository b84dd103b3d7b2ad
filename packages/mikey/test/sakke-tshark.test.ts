/**
 * Wireshark's MIKEY dissector (tshark 4.0, Debian 12) reads our MIKEY-SAKKE
 * I_MESSAGEs: sent as `a=key-mgmt:mikey` in a SIP INVITE's SDP, tshark must
 * show data type 26, the CSB ID (GUK-ID), the IDR roles 1, 2, 6, 7 with
 * their URIs, the SAKKE payload (params 1, ID scheme 1, 273 octets of
 * data) and the ECCSI SIGN payload (type 2, 129 octets), with no
 * malformed packet and no expert info. The third message is a CSK from
 * alice to the MCPTT server (TS 33.180 clause 7.3): CSB ID = the CSK-ID.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeKeyMgmtAttribute } from '../src/index.ts';
import { pcapFile, sipInviteWithKeyMgmt } from './pcap.ts';
import { cskWorld, GMS_URI, KMS_URI, NOW, sakkeWorld, SERVER_URI, uriOf } from './sakke-world.ts';

const TSHARK = process.env.TSHARK ?? '/usr/bin/tshark';
const FIELDS = ['mikey.type', 'mikey.prf_func', 'mikey.csb_id', 'mikey.cs_count', 'mikey.id.role', 'mikey.id.data', 'mikey.sakke.params', 'mikey.sakke.idscheme', 'mikey.sakke.len', 'mikey.sakke.data', 'mikey.sign.type', 'mikey.sign.len', 'mikey.sign.data', '_ws.expert', '_ws.malformed'] as const;
type Row = Record<(typeof FIELDS)[number], string[]>;

describe('tshark reads MIKEY-SAKKE I_MESSAGEs', { timeout: 60_000 }, () => {
  const w = sakkeWorld();
  const c = cskWorld(w);
  const msgs = [w.build('alice'), w.build('bob'), c.build('alice')];
  const ids = [[GMS_URI, uriOf('alice'), KMS_URI, KMS_URI], [GMS_URI, uriOf('bob'), KMS_URI, KMS_URI], [uriOf('alice'), SERVER_URI, KMS_URI, KMS_URI]];
  let dir = '';
  let rows: Row[] = [];

  beforeAll(() => {
    const probe = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(`tshark not found at ${TSHARK}: install the Debian package \`tshark\` (scripts/setup.sh does)`);
    dir = mkdtempSync(join(tmpdir(), 'mikey-sakke-tshark-'));
    const file = join(dir, 'mikey-sakke.pcap');
    writeFileSync(file, pcapFile(msgs.map((m, i) => ({ src: '192.0.2.30', dst: '192.0.2.10', srcPort: 5060, dstPort: 5060, timeMs: NOW + i, payload: sipInviteWithKeyMgmt(encodeKeyMgmtAttribute(m.bytes), i) }))));
    const out = execFileSync(TSHARK, ['-r', file, '-d', 'udp.port==5060,sip', '-o', 'sip.desegment_body:FALSE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'separator=\t', ...FIELDS.flatMap((x) => ['-e', x])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    rows = out
      .trim()
      .split('\n')
      .map((line) => {
        const cols = line.split('\t');
        return Object.fromEntries(FIELDS.map((name, i) => [name, cols[i] ? cols[i]!.split('|') : []])) as Row;
      });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one clean frame per message', () => {
    expect(rows.length).toBe(msgs.length);
    for (const r of rows) {
      expect(r['_ws.malformed']).toEqual([]);
      expect(r['_ws.expert']).toEqual([]);
    }
  });
  it('HDR, IDR roles and URIs as we encoded them', () => {
    rows.forEach((r, i) => {
      const m = decodeMessage(msgs[i]!.bytes);
      expect(r['mikey.type']).toEqual(['26']);
      expect(r['mikey.prf_func']).toEqual(['1']);
      expect(Number(r['mikey.csb_id'][0])).toBe(m.header.csbId);
      expect(r['mikey.id.role']).toEqual(['1', '2', '6', '7']);
      expect(r['mikey.id.data']).toEqual(ids[i]);
    });
  });
  it('the SAKKE payload and the ECCSI SIGN payload, octet for octet', () => {
    rows.forEach((r, i) => {
      const m = decodeMessage(msgs[i]!.bytes);
      const sakke = m.payloads.find((p) => p.kind === 'SAKKE')!;
      const sign = m.payloads.find((p) => p.kind === 'SIGN')!;
      expect(r['mikey.sakke.params']).toEqual(['1']);
      expect(r['mikey.sakke.idscheme']).toEqual(['1']);
      expect(r['mikey.sakke.len']).toEqual(['273']);
      expect(r['mikey.sakke.data'][0]?.replace(/:/g, '')).toBe(sakke.kind === 'SAKKE' ? Buffer.from(sakke.data).toString('hex') : '');
      expect(r['mikey.sign.type']).toEqual(['2']);
      expect(r['mikey.sign.len']).toEqual(['129']);
      expect(r['mikey.sign.data'][0]?.replace(/:/g, '')).toBe(sign.kind === 'SIGN' ? Buffer.from(sign.signature).toString('hex') : '');
    });
  });
  it('the CSK I_MESSAGE: data type SAKKE, CSB ID = the CSK-ID, no CS ID map', () => {
    expect(rows[2]!['mikey.type']).toEqual(['26']);
    expect(Number(rows[2]!['mikey.csb_id'][0])).toBe(c.cskId);
    expect(rows[2]!['mikey.cs_count']).toEqual(['0']);
  });
});
