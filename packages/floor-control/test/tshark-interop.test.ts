/**
 * Interop with Wireshark's MCPTT floor control dissector: every message type
 * we encode (all fields, and each minimal form), a compound RR + APP, and an
 * SRTCP-protected Floor Request go into a pcap (UDP on loopback addresses);
 * tshark must show each message's type name and every field value we wrote.
 *
 * What makes tshark read them: decode the port as RTCP
 * (`-d udp.port==N,rtcp`); its RTCP dissector hands an APP packet named
 * `MCPT` to `dissect_rtcp_app_mcpt` (epan/dissectors/packet-rtcp.c; there is
 * no separate packet-mcptt.c in 4.0), whose fields are `rtcp.mcptt.*` and
 * `rtcp.app_data.mcptt.*` (`tshark -G fields | grep mcptt`). No preference
 * is needed. Debian 12's tshark 4.0.17 dissects all ten message types and
 * every field this package encodes; its quirks, found here:
 *  - Floor Indicator is looked up as one value, not as bits, so the tree
 *    says "Unknown" for a combination (the numeric field is right);
 *  - the Info column of a Floor Revoke names the cause from the Floor Deny
 *    table (the tree item uses the revoke table and is right);
 *  - it picks the Floor Deny / Floor Revoke cause tables by the whole
 *    subtype, so a Floor Deny with the ack bit (subtype 19) shows the cause
 *    in the generic `rtcp.app_data.mcptt.rej_cause` field;
 *  - a Track Info participant type whose length is a multiple of 4 gets 4
 *    padding octets too many in its reading, so the test uses 6 octets.
 * SRTCP: with `-d udp.port==N,srtcp` tshark shows the clear header (PT,
 * length, SSRC) and "Encrypted data", no APP name and no MCPTT field.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { SrtpContext } from '@imslab/srtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFloorMessage, FIELD_ID, MESSAGE_FORMAT, SUBTYPE, type FloorMessage } from '../src/index.ts';
import { ALICE_SSRC, concat, everyMessage, minimalMessages, receiverReport } from './helpers.ts';

const TSHARK = process.env.TSHARK ?? '/usr/bin/tshark';
const RTCP_PORT = 40003;
const SRTCP_PORT = 40005;

const FIELDS = [
  'frame.number',
  '_ws.col.Info',
  'rtcp.pt',
  'rtcp.app.name',
  'rtcp.app.subtype',
  'rtcp.ssrc.identifier',
  'rtcp.mcptt.fld_id',
  'rtcp.mcptt.fld_len',
  'rtcp.app_data.mcptt.priority',
  'rtcp.app_data.mcptt.duration',
  'rtcp.app_data.mcptt.rej_cause',
  'rtcp.app_data.mcptt.rej_cause.floor_deny',
  'rtcp.app_data.mcptt.rej_cause.floor_revoke',
  'rtcp.mcptt.rej_phrase',
  'rtcp.app_data.mcptt.queue_pos_inf',
  'rtcp.app_data.mcptt.queue_pri_lev',
  'rtcp.mcptt.granted_partys_id',
  'rtcp.app_data.mcptt.perm_to_req_floor',
  'rtcp.app_data.mcptt.user_id',
  'rtcp.app_data.mcptt.queue_size',
  'rtcp.app_data.mcptt.msg_seq_num',
  'rtcp.mcptt.queued_user_id',
  'rtcp.app_data.mcptt.source',
  'rtcp.app_data.mcptt.queueing_cap',
  'rtcp.app_data.mcptt.part_type_len',
  'rtcp.mcptt.participant_type',
  'rtcp.app_data.mcptt.floor_participant_ref',
  'rtcp.app_data.mcptt.msg_type',
  'rtcp.app_data.mcptt.floor_ind',
  'rtcp.app_data.mcptt.rtcp',
  '_ws.col.Protocol',
  '_ws.expert',
  '_ws.malformed',
] as const;

type Row = Record<(typeof FIELDS)[number], string[]>;

/** tshark's names of the message types (packet-rtcp.c rtcp_mcpt_subtype_vals). */
const TSHARK_NAME: Record<FloorMessage['type'], string> = {
  'floor-request': 'Floor Request',
  'floor-granted': 'Floor Granted',
  'floor-taken': 'Floor Taken',
  'floor-deny': 'Floor Deny',
  'floor-release': 'Floor Release',
  'floor-idle': 'Floor Idle',
  'floor-revoke': 'Floor Revoke',
  'floor-queue-position-request': 'Floor Queue Position Request',
  'floor-queue-position-info': 'Floor Queue Position Info',
  'floor-ack': 'Floor Ack',
};

const dec = (x: number | undefined): string[] => (x === undefined ? [] : [String(x)]);
const str = (x: string | undefined): string[] => (x === undefined ? [] : [x]);

/** Field lengths as written: walk the TLVs of the encoded packet (ID, length, value, padding to 32 bits). */
function writtenLengths(b: Uint8Array): string[] {
  const out: string[] = [];
  for (let o = 12; o < b.length; o += (2 + b[o + 1]! + 3) & ~3) out.push(String(b[o + 1]));
  return out;
}

/** What tshark must show for one of our messages, field by field. */
function expected(m: FloorMessage, bytes: Uint8Array): Partial<Row> {
  const f = m.fields;
  const rc = f.rejectCause;
  const subtype = SUBTYPE[m.type] | (m.ackRequired ? 0x10 : 0);
  const present = MESSAGE_FORMAT[m.type].fields.filter((n) => (n === 'ssrc' ? f.grantedSsrc : f[n]) !== undefined);
  return {
    'rtcp.app.name': ['MCPT'],
    'rtcp.app.subtype': [String(subtype)],
    'rtcp.ssrc.identifier': [`0x${m.ssrc.toString(16).padStart(8, '0')}`],
    'rtcp.mcptt.fld_id': present.map((n) => String(FIELD_ID[n])),
    'rtcp.mcptt.fld_len': writtenLengths(bytes),
    'rtcp.app_data.mcptt.priority': dec(f.floorPriority),
    'rtcp.app_data.mcptt.duration': dec(f.duration),
    // tshark picks the deny or revoke cause table by the whole subtype (3 or 6), so "Floor Deny (ack req)" gets the generic field.
    'rtcp.app_data.mcptt.rej_cause': subtype === 3 || subtype === 6 ? [] : dec(rc?.cause),
    'rtcp.app_data.mcptt.rej_cause.floor_deny': subtype === 3 ? dec(rc?.cause) : [],
    'rtcp.app_data.mcptt.rej_cause.floor_revoke': subtype === 6 ? dec(rc?.cause) : [],
    'rtcp.mcptt.rej_phrase': str(rc?.phrase),
    'rtcp.app_data.mcptt.queue_pos_inf': dec(f.queueInfo?.position),
    'rtcp.app_data.mcptt.queue_pri_lev': dec(f.queueInfo?.priorityLevel),
    'rtcp.mcptt.granted_partys_id': str(f.grantedPartyId),
    'rtcp.app_data.mcptt.perm_to_req_floor': f.permissionToRequest === undefined ? [] : [f.permissionToRequest ? '1' : '0'],
    'rtcp.app_data.mcptt.user_id': str(f.userId),
    'rtcp.app_data.mcptt.queue_size': dec(f.queueSize),
    'rtcp.app_data.mcptt.msg_seq_num': dec(f.messageSequenceNumber),
    'rtcp.mcptt.queued_user_id': str(f.queuedUserId),
    'rtcp.app_data.mcptt.source': dec(f.source),
    'rtcp.app_data.mcptt.queueing_cap': dec(f.trackInfo?.queueingCapability),
    'rtcp.app_data.mcptt.part_type_len': f.trackInfo ? [String(new TextEncoder().encode(f.trackInfo.participantType).length)] : [],
    'rtcp.mcptt.participant_type': str(f.trackInfo?.participantType),
    'rtcp.app_data.mcptt.floor_participant_ref': (f.trackInfo?.floorParticipantRefs ?? []).map(String),
    'rtcp.app_data.mcptt.msg_type': dec(f.messageType),
    'rtcp.app_data.mcptt.floor_ind': dec(f.floorIndicator),
    'rtcp.app_data.mcptt.rtcp': dec(f.grantedSsrc),
  };
}

describe('tshark MCPTT floor control dissector interop', () => {
  let dir = '';
  let rows: Row[] = [];
  const messages: { name: string; message: FloorMessage; bytes: Uint8Array }[] = [];
  const compoundRequest = everyMessage()[0]!.message;

  beforeAll(async () => {
    const probe = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(`tshark not found at ${TSHARK}: install the Debian package \`tshark\` (scripts/setup.sh does)`);
    for (const x of everyMessage()) messages.push({ ...x, bytes: encodeFloorMessage(x.message) });
    for (const m of minimalMessages()) messages.push({ name: `minimal ${m.type}`, message: m, bytes: encodeFloorMessage(m) });
    dir = mkdtempSync(join(tmpdir(), 'floor-tshark-'));
    const file = join(dir, 'mcpt.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    const t0 = 1_780_000_000_000_000;
    const frame = (port: number, payload: Uint8Array) => buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.10', 40001, '127.0.2.20', port, Buffer.from(payload));
    messages.forEach((m, i) => w.write(t0 + i * 1000, frame(RTCP_PORT, m.bytes)));
    w.write(t0 + 100_000, frame(RTCP_PORT, concat(receiverReport(ALICE_SSRC), encodeFloorMessage(compoundRequest))));
    const srtcp = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16).fill(7), masterSalt: new Uint8Array(14).fill(9) }).protectRtcp(encodeFloorMessage(compoundRequest));
    w.write(t0 + 200_000, frame(SRTCP_PORT, srtcp));
    await w.close();
    const out = execFileSync(
      TSHARK,
      ['-r', file, '-d', `udp.port==${RTCP_PORT},rtcp`, '-d', `udp.port==${SRTCP_PORT},srtcp`, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'separator=\t', ...FIELDS.flatMap((x) => ['-e', x])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
    );
    rows = out
      .trim()
      .split('\n')
      .map((line) => {
        const cols = line.split('\t');
        return Object.fromEntries(FIELDS.map((name, i) => [name, cols[i] ? cols[i]!.split('|') : []])) as Row;
      });
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one frame per packet, no malformed packet, no expert info', () => {
    expect(rows.length).toBe(messages.length + 2);
    for (const r of rows) {
      expect(r['_ws.malformed'], `frame ${r['frame.number']}`).toEqual([]);
      expect(r['_ws.expert'], `frame ${r['frame.number']}`).toEqual([]);
    }
  });

  it('tshark names every message type, with the acknowledgment-required variants', () => {
    messages.forEach(({ name, message }, i) => {
      const info = rows[i]!['_ws.col.Info'].join('|');
      expect(info, name).toMatch(new RegExp(`^\\(MCPT\\) ${TSHARK_NAME[message.type]}${message.ackRequired ? '\\(ack req\\)' : ''}( - |$)`));
    });
    expect(new Set(messages.map((m) => m.message.type)).size).toBe(Object.keys(SUBTYPE).length);
  });

  it('tshark reads the header and every field value we encoded', () => {
    messages.forEach(({ name, message, bytes }, i) => {
      const r = rows[i]!;
      for (const [k, v] of Object.entries(expected(message, bytes))) expect(r[k as keyof Row], `${name}: ${k}`).toEqual(v);
    });
  });

  it('in a compound after an RR, the APP MCPT is dissected the same', () => {
    const r = rows[messages.length]!;
    expect(r['rtcp.pt']).toEqual(['201', '204']);
    const bytes = encodeFloorMessage(compoundRequest);
    for (const [k, v] of Object.entries(expected(compoundRequest, bytes))) expect(r[k as keyof Row], k).toEqual(v);
  });

  it('SRTCP-protected floor control: tshark shows encrypted data, no APP name and no MCPTT field', () => {
    const r = rows[messages.length + 1]!;
    expect(r['rtcp.pt']).toEqual(['204']);
    expect(r['rtcp.ssrc.identifier']).toEqual([`0x${ALICE_SSRC.toString(16).padStart(8, '0')}`]);
    expect(r['_ws.col.Protocol']).toEqual(['SRTCP']);
    expect(r['rtcp.app.name']).toEqual([]);
    expect(r['rtcp.mcptt.fld_id']).toEqual([]);
  });
});
