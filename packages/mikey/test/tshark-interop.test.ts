/**
 * Interop with Wireshark's MIKEY dissector: our messages (and the RFC 4567
 * examples) are put, as `a=key-mgmt:mikey` in the SDP of SIP INVITEs over
 * UDP, into a pcap written here; `tshark -d udp.port==5060,sip` must decode
 * the common header exactly as we encoded it and every payload it knows,
 * with no malformed packet and no expert info.
 *
 * tshark 4.0 (Debian 12) knows the RFC 3830 payloads and IDR, but not RANDR,
 * TR, TP, TICKET or CHASH (it shows such a payload as a text item and stops) nor
 * the GENERIC-ID map (it does not read the map info, so for TRANSFER_* only
 * the header is compared) nor MAC alg 2 (no Ver data shown), and it shows
 * only the first Key Data sub-payload of a NULL-encrypted KEMAC; it stops at a
 * DH payload with KV data, so our DH example has KV Null.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  deriveRfc3830MessageKeys,
  encodeKeyMgmtAttribute,
  encodeMessage,
  ntpFromMs,
  PAYLOAD_CODE,
  resolutionPolicyExt,
  sealKemac,
  signMessage,
  srtpPolicyParams,
  type MikeyMessage,
  type Payload,
} from '../src/index.ts';
import { fullFlow, hex, rfc4567Examples, T0, world } from './helpers.ts';
import { pcapFile, sipInviteWithKeyMgmt } from './pcap.ts';

const TSHARK = process.env.TSHARK ?? '/usr/bin/tshark';
/** Payload kinds tshark 4.0's MIKEY dissector decodes. */
const KNOWN = new Set(['T', 'RAND', 'ID', 'CERT', 'V', 'SP', 'ERR', 'KEMAC', 'PKE', 'DH', 'SIGN', 'GENERAL_EXT', 'IDR']);

const FIELDS = [
  'frame.number',
  'mikey.version',
  'mikey.type',
  'mikey.next_payload',
  'mikey.v.set',
  'mikey.prf_func',
  'mikey.csb_id',
  'mikey.cs_count',
  'mikey.cs_id_map_type',
  'mikey.srtp_id.ssrc',
  'mikey.t.ts_type',
  'mikey.rand.data',
  'mikey.id.data',
  'mikey.id.role',
  'mikey.sp.no',
  'mikey.sp.param.type',
  'mikey.kemac.encr_alg',
  'mikey.kemac.key_data',
  'mikey.kemac.mac_alg',
  'mikey.key.type',
  'mikey.key.data',
  'mikey.key.salt',
  'mikey.key.kv.spi',
  'mikey.v.auth_alg',
  'mikey.v.ver_data',
  'mikey.err.no',
  'mikey.ext.type',
  'mikey.ext.data',
  'mikey.cert.type',
  'x509sat.uTF8String',
  'mikey.chash',
  'mikey.pke.data',
  'mikey.dh.group',
  'mikey.dh.value',
  'mikey.sign.type',
  'mikey.sign.data',
  '_ws.expert',
  '_ws.malformed',
] as const;

type Row = Record<(typeof FIELDS)[number], string[]>;

/**
 * A self-signed EC P-256 X.509 certificate (CN=alice.ims.example), made with
 * openssl for this test only: tshark dissects CERT data as X.509, so the
 * bytes must be real DER.
 */
const TEST_CERT = new Uint8Array(
  Buffer.from(
    'MIIBjDCCATOgAwIBAgIUZABp6p8HwWE6aErSyXI8FI6+ePcwCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwRYWxpY2UuaW1zLmV4YW1wbGUwHhcNMjYxMTI2MTYwNzI0WhcNMzYxMTIzMTYwNzI0WjAcMRowGAYDVQQDDBFhbGljZS5pbXMuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABE68of6Mm5PDaZxMcm4hdqCfn3RkKdtAiC+3GwFfCAxfxao/jL9aoXZE4OEV/dK3fGhkO4S1opmdys0Iy9ckkEKjUzBRMB0GA1UdDgQWBBR5D3zHb+bJDf5ttoD+qSMLNoRsHDAfBgNVHSMEGDAWgBR5D3zHb+bJDf5ttoD+qSMLNoRsHDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIE80yVtZWnaSCwbFuWFZb6k29hWiEvNabyHQx/NH8lkUAiAIrHxVVZK7grQ3/+wQ79cUWJ5Dr1egtZQR55AGqB0+Bw==',
    'base64',
  ),
);

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (b: Uint8Array): string => new TextDecoder().decode(b);

/** RFC 3830 messages of ours that exercise the payloads tshark knows. */
function rfc3830Messages(): { name: string; bytes: Uint8Array }[] {
  const psk = hex('00112233445566778899aabbccddeeff');
  const rand = hex('0f1e2d3c4b5a69788796a5b4c3d2e1f0');
  const csbId = 0x1234abcd;
  const t = ntpFromMs(T0);
  const k = deriveRfc3830MessageKeys(psk, csbId, rand, { encrAlg: 0, macAlg: 1, hash: 'sha1' });
  const hdr = (dataType: number, v: boolean): MikeyMessage['header'] => ({ version: 1, dataType, v, prf: 0, csbId, csIdMap: { type: 'srtp-id', entries: [{ policyNo: 0, ssrc: 0xcafe0001, roc: 0 }, { policyNo: 1, ssrc: 0xcafe0002, roc: 7 }] } });
  const init: MikeyMessage = {
    header: hdr(0, true),
    payloads: [
      { kind: 'T', tsType: 0, value: t },
      { kind: 'RAND', rand },
      { kind: 'ID', idType: 0, data: new TextEncoder().encode('alice@ims.example') },
      { kind: 'ID', idType: 1, data: new TextEncoder().encode('sip:bob@ims.example') },
      { kind: 'SP', policyNo: 0, protType: 0, params: srtpPolicyParams('AES_CM_128_HMAC_SHA1_80') },
      { kind: 'SP', policyNo: 1, protType: 0, params: srtpPolicyParams('AEAD_AES_128_GCM') },
      sealKemac(
        [
          { keyType: 0, key: hex('a0'.repeat(16)), kv: { kvType: 1, spi: hex('0001') } },
          { keyType: 3, key: hex('b0'.repeat(16)), salt: hex('c0'.repeat(14)), kv: { kvType: 0 } },
        ],
        k,
        { encrAlg: 0, macAlg: 1, csbId, t },
      ),
    ],
  };
  const verify: MikeyMessage = { header: hdr(1, false), payloads: [{ kind: 'T', tsType: 0, value: t }, { kind: 'ID', idType: 1, data: new TextEncoder().encode('sip:bob@ims.example') }, { kind: 'V', macAlg: 1, mac: new Uint8Array(0) }] };
  const error: MikeyMessage = {
    header: { version: 1, dataType: 6, v: false, prf: 0, csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [{ kind: 'T', tsType: 2, value: 42n }, { kind: 'ERR', errorNo: 14 }, { kind: 'ERR', errorNo: 1 }, { kind: 'V', macAlg: 1, mac: new Uint8Array(0) }],
  };
  const pk: MikeyMessage = {
    header: { ...hdr(2, false), csIdMap: { type: 'srtp-id', entries: [{ policyNo: 0, ssrc: 1, roc: 0 }] } },
    payloads: [
      { kind: 'T', tsType: 1, value: t },
      { kind: 'RAND', rand },
      { kind: 'CERT', certType: 0, data: TEST_CERT },
      { kind: 'IDR', role: 2, idType: 1, data: new TextEncoder().encode('sip:bob@ims.example') },
      resolutionPolicyExt('any-device-of-user'),
      { kind: 'KEMAC', encrAlg: 1, encrData: hex('5a'.repeat(24)), macAlg: 1, mac: hex('6b'.repeat(20)) },
      { kind: 'PKE', cache: 1, data: hex('8d'.repeat(32)) },
      { kind: 'SIGN', sType: 0, signature: hex('9e'.repeat(64)) },
    ],
  };
  const dh: MikeyMessage = {
    header: { ...hdr(4, true), csIdMap: { type: 'srtp-id', entries: [{ policyNo: 0, ssrc: 2, roc: 0 }] } },
    payloads: [{ kind: 'T', tsType: 0, value: t }, { kind: 'RAND', rand }, { kind: 'ID', idType: 0, data: new TextEncoder().encode('alice@ims.example') }, { kind: 'DH', group: 1, value: hex('af'.repeat(96)), kv: { kvType: 0 } }, { kind: 'SIGN', sType: 1, signature: hex('bf'.repeat(48)) }],
  };
  return [
    { name: 'PSK I_MESSAGE (2 SPs, NULL-encrypted key data)', bytes: signMessage(init, k.authKey, { identities: [] }) },
    { name: 'PSK verification message', bytes: signMessage(verify, k.authKey, { identities: [] }) },
    { name: 'Error message', bytes: signMessage(error, k.authKey, { identities: [] }) },
    { name: 'PK-style message (CERT, IDR, GENERAL_EXT, KEMAC, PKE, SIGN)', bytes: encodeMessage(pk) },
    { name: 'CHASH (not dissected by tshark 4.0)', bytes: encodeMessage({ header: { ...pk.header, dataType: 3 }, payloads: [{ kind: 'T', tsType: 0, value: t }, { kind: 'CHASH', hashFunc: 2, hash: hex('7c'.repeat(32)) }, { kind: 'V', macAlg: 1, mac: hex('00'.repeat(20)) }] }) },
    { name: 'DH-style message (DH, SIGN)', bytes: encodeMessage(dh) },
  ];
}

/** Next-payload values tshark shows: HDR's, then each payload's until (and including) the first payload it does not know. */
function expectedNextPayloads(m: MikeyMessage): number[] {
  const code = (p: Payload | undefined): number => (p ? PAYLOAD_CODE[p.kind] : 0);
  const out = [code(m.payloads[0])];
  for (let i = 0; i < m.payloads.length; i++) {
    const p = m.payloads[i]!;
    if (p.kind !== 'SIGN') out.push(code(m.payloads[i + 1]));
    if (!KNOWN.has(p.kind)) break;
  }
  return out;
}

/** Payloads tshark decoded (those before the first unknown one). */
function decodedPayloads(m: MikeyMessage): Payload[] {
  const i = m.payloads.findIndex((p) => !KNOWN.has(p.kind));
  return i < 0 ? m.payloads : m.payloads.slice(0, i);
}

describe('tshark MIKEY dissector interop', () => {
  let dir = '';
  let rows: Row[] = [];
  let verbose = '';
  const messages: { name: string; bytes: Uint8Array }[] = [];

  beforeAll(() => {
    const probe = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(`tshark not found at ${TSHARK}: install the Debian package \`tshark\` (apt-get install tshark)`);
    }
    const ex = rfc4567Examples();
    const f = fullFlow(world());
    messages.push(
      { name: 'RFC 4567 offer', bytes: ex.offer },
      { name: 'RFC 4567 answer', bytes: ex.answer },
      { name: 'REQUEST_INIT_PSK', bytes: f.reqInit.bytes },
      { name: 'REQUEST_RESP', bytes: f.reqResp.bytes },
      { name: 'TRANSFER_INIT', bytes: f.trInit.bytes },
      { name: 'RESOLVE_INIT_PSK', bytes: f.resInit.bytes },
      { name: 'RESOLVE_RESP', bytes: f.resResp.bytes },
      { name: 'TRANSFER_RESP', bytes: f.trResp.bytes },
      ...rfc3830Messages(),
    );
    dir = mkdtempSync(join(tmpdir(), 'mikey-tshark-'));
    const file = join(dir, 'mikey.pcap');
    writeFileSync(
      file,
      pcapFile(messages.map((m, i) => ({ src: '192.0.2.10', dst: '192.0.2.20', srcPort: 5060, dstPort: 5060, timeMs: T0 + i, payload: sipInviteWithKeyMgmt(encodeKeyMgmtAttribute(m.bytes), i) }))),
    );
    const args = ['-r', file, '-d', 'udp.port==5060,sip', '-o', 'sip.desegment_body:FALSE'];
    const out = execFileSync(TSHARK, [...args, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'separator=\t', ...FIELDS.flatMap((x) => ['-e', x])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    rows = out
      .trim()
      .split('\n')
      .map((line) => {
        const cols = line.split('\t');
        return Object.fromEntries(FIELDS.map((name, i) => [name, cols[i] ? cols[i]!.split('|') : []])) as Row;
      });
    verbose = execFileSync(TSHARK, [...args, '-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one frame per message, each dissected as SIP/SDP/MIKEY, with no malformed packet or expert info', () => {
    expect(rows.length).toBe(messages.length);
    for (const r of rows) {
      expect(r['_ws.malformed'], `frame ${r['frame.number'][0]}`).toEqual([]);
      expect(r['_ws.expert'], `frame ${r['frame.number'][0]}`).toEqual([]);
    }
    expect(verbose).not.toMatch(/Malformed|Expert Info/);
    expect(verbose.match(/Multimedia Internet KEYing/g)?.length).toBeGreaterThanOrEqual(messages.length);
  });

  it('common header: version, data type, next payload, V, PRF, CSB ID, #CS, CS ID map type (and SRTP-ID SSRCs)', () => {
    messages.forEach((msg, i) => {
      const r = rows[i]!;
      const h = decodeMessage(msg.bytes).header;
      const n = `${msg.name}`;
      expect(r['mikey.version'], n).toEqual(['1']);
      expect(r['mikey.type'], n).toEqual([String(h.dataType)]);
      expect(r['mikey.next_payload'][0], n).toBe(String(msg.bytes[2]));
      expect(r['mikey.v.set'].map((x) => x === '1' || x.toLowerCase() === 'true'), n).toEqual([h.v]);
      expect(r['mikey.prf_func'], n).toEqual([String(h.prf)]);
      expect(r['mikey.csb_id'], n).toEqual([`0x${h.csbId.toString(16).padStart(8, '0')}`]);
      expect(r['mikey.cs_count'], n).toEqual([String(h.csIdMap.type === 'empty' ? h.csIdMap.nCs : h.csIdMap.entries.length)]);
      expect(r['mikey.cs_id_map_type'], n).toEqual([String(msg.bytes[9])]);
      if (h.csIdMap.type === 'srtp-id') expect(r['mikey.srtp_id.ssrc'], n).toEqual(h.csIdMap.entries.map((e) => `0x${e.ssrc.toString(16).padStart(8, '0')}`));
    });
  });

  it('payload chain and the fields of every payload tshark knows', () => {
    let compared = 0;
    messages.forEach((msg, i) => {
      const r = rows[i]!;
      const m = decodeMessage(msg.bytes);
      if (m.header.csIdMap.type === 'generic-id') return; // tshark 4.0 cannot skip the GENERIC-ID map info
      const n = msg.name;
      expect(r['mikey.next_payload'].map(Number), n).toEqual(expectedNextPayloads(m));
      const ps = decodedPayloads(m);
      const all = <K extends Payload['kind']>(k: K): Extract<Payload, { kind: K }>[] => ps.filter((p) => p.kind === k) as Extract<Payload, { kind: K }>[];
      expect(r['mikey.t.ts_type'], n).toEqual(all('T').map((p) => String(p.tsType)));
      expect(r['mikey.rand.data'], n).toEqual(all('RAND').map((p) => hx(p.rand)));
      expect(r['mikey.id.data'], n).toEqual([...ps.filter((p) => p.kind === 'ID' || p.kind === 'IDR')].map((p) => ascii((p as { data: Uint8Array }).data)));
      expect(r['mikey.id.role'], n).toEqual(all('IDR').map((p) => String(p.role)));
      expect(r['mikey.sp.no'], n).toEqual(all('SP').map((p) => String(p.policyNo)));
      expect(r['mikey.sp.param.type'], n).toEqual(all('SP').flatMap((p) => p.params.map((q) => String(q.type))));
      const kemacs = all('KEMAC');
      expect(r['mikey.kemac.encr_alg'], n).toEqual(kemacs.map((p) => String(p.encrAlg)));
      expect(r['mikey.kemac.mac_alg'], n).toEqual(kemacs.map((p) => String(p.macAlg)));
      const nullKeys = kemacs.filter((p) => p.encrAlg === 0);
      if (nullKeys.length > 0) {
        const kd = decodeMessage(msg.bytes).payloads.filter((p) => p.kind === 'KEMAC' && p.encrAlg === 0);
        expect(kd.length).toBe(1);
        // tshark 4.0 dissects the first Key Data sub-payload of a NULL-encrypted KEMAC only.
        expect(r['mikey.key.type'], n).toEqual(['0']);
        expect(r['mikey.key.data'], n).toEqual(['a0'.repeat(16)]);
        expect(r['mikey.key.kv.spi'], n).toEqual(['0001']);
      } else {
        expect(r['mikey.kemac.key_data'], n).toEqual(kemacs.map((p) => hx(p.encrData)));
      }
      const vs = all('V');
      expect(r['mikey.v.auth_alg'], n).toEqual(vs.map((p) => String(p.macAlg)));
      expect(r['mikey.v.ver_data'], n).toEqual(vs.filter((p) => p.macAlg === 1).map((p) => hx(p.mac)));
      expect(r['mikey.err.no'], n).toEqual(all('ERR').map((p) => String(p.errorNo)));
      expect(r['mikey.ext.type'], n).toEqual(all('GENERAL_EXT').map((p) => String(p.extType)));
      expect(r['mikey.cert.type'], n).toEqual(all('CERT').map((p) => String(p.certType)));
      // The certificate itself is handed to the X.509 dissector (subject and issuer CN).
      expect(r['x509sat.uTF8String'], n).toEqual(all('CERT').flatMap(() => ['alice.ims.example', 'alice.ims.example']));
      expect(r['mikey.pke.data'], n).toEqual(all('PKE').map((p) => hx(p.data)));
      expect(r['mikey.dh.group'], n).toEqual(all('DH').map((p) => String(p.group)));
      expect(r['mikey.dh.value'], n).toEqual(all('DH').map((p) => hx(p.value)));
      expect(r['mikey.sign.type'], n).toEqual(all('SIGN').map((p) => String(p.sType)));
      expect(r['mikey.sign.data'], n).toEqual(all('SIGN').map((p) => hx(p.signature)));
      compared++;
    });
    expect(compared).toBe(messages.length - 2);
  });
});
