/**
 * `imslab analyse` when the signalling is missing or a key is withheld: the
 * fixtures' calls with every SIP message taken out. Media under no known
 * key is `unknown`, never a guess; keys given by hand (--srtp-keys, in both
 * formats) give the structural verdict with the condition that their
 * exchange was not seen. And bad inputs: a truncated capture, a file that is
 * no capture, key-file lines that are no keys, each a listed problem.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame, looksLikeSip, PcapngWriter, readCapture } from '@imslab/capture';
import { formatKeyLogEntry } from '@imslab/probe';
import { analyseCaptures, readKeyFile, readSecretsBlocks } from '../src/index.ts';
import { FOREIGN_FIXTURES_DIR, loadForeignManifest, type CaptureEntry } from './fixtures/foreign/manifest.ts';

const manifest = loadForeignManifest();
const dir = mkdtempSync(join(tmpdir(), 'imslab-analyse-nosip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const capture = (id: string) => manifest.captures.find((c) => c.id === id)!;

/** The capture's packets without any SIP message (every interface kept, with its name). */
async function withoutSip(c: CaptureEntry): Promise<string> {
  const out = join(dir, `${c.id}.nosip.pcapng`);
  const w = new PcapngWriter(out);
  const ifaces = new Map<string, number>();
  let dropped = 0;
  for (const f of c.files) {
    for await (const p of readCapture(join(FOREIGN_FIXTURES_DIR, f.file))) {
      const d = decodeFrame(p.linkType, p.data);
      if (d && (d.protocol === 'udp' || d.protocol === 'tcp') && looksLikeSip(d.payload)) {
        dropped++;
        continue;
      }
      const name = p.interfaceName ?? f.file;
      let id = ifaces.get(name);
      if (id === undefined) ifaces.set(name, (id = w.addInterface(name, p.linkType)));
      w.write(id, p.timestampUs, p.data);
    }
  }
  await w.close();
  expect(dropped).toBeGreaterThan(0);
  return out;
}

function keyText(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `# keys given by hand\n${lines.join('\n')}\n`);
  return file;
}

const keyOf = (c: CaptureEntry, id: string) => c.calls[0]!.keys.find((k) => k.id === id)!;

describe('no SIP in the capture', () => {
  it('SRTP with no key anywhere is unknown, in both directions', async () => {
    const a = await analyseCaptures({ captures: [await withoutSip(capture('b-direct-sdes'))] });
    expect(a.calls).toHaveLength(1);
    const call = a.calls[0]!;
    expect(call.foundBy).toBe('media');
    expect(call.directions.map((d) => [d.mediaPath, d.verdict])).toEqual([['unknown', 'unknown'], ['unknown', 'unknown']]);
    for (const d of call.directions) {
      expect(d.conditions.map((c) => c.kind).sort()).toEqual(['sip-not-seen', 'unknown-key']);
      expect(d.legs.every((l) => l.protection === 'unknown' && l.key === undefined)).toBe(true);
    }
  });

  it('plaintext speech without SIP is still none', async () => {
    const a = await analyseCaptures({ captures: [await withoutSip(capture('a-direct-plain'))] });
    expect(a.calls.map((c) => c.verdict)).toEqual(['none']);
    expect(a.calls[0]!.directions.every((d) => d.conditions.some((c) => c.kind === 'plain-media'))).toBe(true);
  });

  it('keys given as text lines: the relay passing SRTP through is e2e, its key exchange not seen', async () => {
    const c = capture('d-rtpengine-passthrough');
    const k1 = keyOf(c, 'k1');
    const k2 = keyOf(c, 'k2');
    const keys = keyText('d.keys.txt', [`${k1.suite} inline:${k1.inline}`, `a=crypto:1 ${k2.suite} inline:${k2.inline}`]);
    const a = await analyseCaptures({ captures: [await withoutSip(c)], srtpKeyFiles: [keys] });
    expect(a.problems).toEqual([]);
    const call = a.calls[0]!;
    expect(call.directions.map((d) => [d.mediaPath, d.verdict])).toEqual([['e2e', 'e2e'], ['e2e', 'e2e']]);
    for (const d of call.directions) {
      expect(d.legs).toHaveLength(2);
      expect(d.legs[1]!.comparedWithPrevious).toMatchObject({ bytesIdentical: true, payloadIdentical: true });
      expect(d.conditions.map((x) => x.kind).sort()).toEqual(['exchange-not-seen', 'sip-not-seen']);
      expect(d.conditions.find((x) => x.kind === 'exchange-not-seen')!.text).toContain(keys);
    }
  });

  it('keys given as our key log: the re-encrypting relay is e2m2e(one of its addresses), SSRCs kept', async () => {
    const c = capture('f-rtpengine-reencrypt');
    const log = join(dir, 'f.srtp-keys.jsonl');
    writeFileSync(log, c.calls[0]!.keys.map((k) => formatKeyLogEntry({ kind: 'srtp', owner: k.generatedBy, callId: c.calls[0]!.callId, dir: 'tx', suite: k.suite, keySalt: k.inline, keyMgmt: 'sdes', at: '' })).join(''));
    const a = await analyseCaptures({ captures: [await withoutSip(c)], srtpKeyFiles: [log] });
    expect(a.problems).toEqual([]);
    const call = a.calls[0]!;
    // The key log names the call: the media-only call takes its Call-ID.
    expect(call.callId).toBe(c.calls[0]!.callId);
    // Without SIP nobody knows which end called, so which side's address names the relay is the guess's.
    const paths = new Set(call.directions.map((d) => d.mediaPath));
    expect(paths.size).toBe(1);
    const relay = Object.values(manifest.elements.relay!.addresses).map((ip) => `e2m2e(${ip})`);
    expect(relay).toContain([...paths][0]);
    expect(call.directions.map((d) => d.verdict)).toEqual(call.directions.map((d) => d.mediaPath));
    for (const d of call.directions) expect(d.conditions.filter((x) => x.kind === 'exchange-not-seen')).toHaveLength(2);
  });

  it('a key withheld: the direction it protects is unknown, the other keeps its verdict', async () => {
    const c = capture('f-rtpengine-reencrypt');
    const keys = keyText('f-half.keys.txt', ['k1', 'k2'].map((id) => `${keyOf(c, id).suite} inline:${keyOf(c, id).inline}`));
    const a = await analyseCaptures({ captures: [await withoutSip(c)], srtpKeyFiles: [keys] });
    const alice = c.calls[0]!.directions[0]!.legs[0]!.from;
    const out = a.calls[0]!.directions.find((d) => d.from === alice)!;
    const back = a.calls[0]!.directions.find((d) => d.from !== alice)!;
    expect(out.mediaPath).toMatch(/^e2m2e\((192\.0\.2\.1|198\.51\.100\.1)\)$/);
    expect([back.mediaPath, back.verdict]).toEqual(['unknown', 'unknown']);
    expect(back.conditions.filter((x) => x.kind === 'unknown-key')).toHaveLength(2);
  });

  it('with the SIP, a key given by hand changes nothing: the SDP already exposed it', async () => {
    const c = capture('b-direct-sdes');
    const keys = keyText('b.keys.txt', [`${keyOf(c, 'k1').suite} inline:${keyOf(c, 'k1').inline}`]);
    const a = await analyseCaptures({ captures: [join(FOREIGN_FIXTURES_DIR, c.files[0]!.file)], srtpKeyFiles: [keys] });
    expect(a.calls[0]!.directions.map((d) => [d.mediaPath, d.verdict])).toEqual([['e2e', 'none'], ['e2e', 'none']]);
    const k1 = a.keys.find((k) => k.sources.some((s) => s.kind === 'key-file'))!;
    expect(k1.sources.map((s) => s.kind).sort()).toEqual(['key-file', 'sdp']);
  });
});

describe('bad inputs are listed, never a crash', () => {
  it('a truncated capture: what was read is analysed, the cut is a problem', async () => {
    const whole = readFileSync(join(FOREIGN_FIXTURES_DIR, 'b-direct-sdes.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2) + 7));
    const a = await analyseCaptures({ captures: [cut] });
    expect(a.problems).toHaveLength(1);
    expect(a.problems[0]).toMatch(/^cut\.pcap: .*(truncated|ends|offset).*what was read before it is analysed/);
    expect(a.calls).toHaveLength(1);
    expect(a.links[0]!.packets).toBeGreaterThan(100);
  });

  it('a file that is no capture, and one that does not exist', async () => {
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture\n'.repeat(10));
    const a = await analyseCaptures({ captures: [junk, join(dir, 'missing.pcap')] });
    expect(a.problems).toHaveLength(2);
    expect(a.problems[0]).toMatch(/^junk\.pcap: /);
    expect(a.problems[1]).toMatch(/^missing\.pcap: no such file/);
    expect(a.calls).toEqual([]);
  });

  it('key files: both formats read, every other line named with its number', () => {
    const file = keyText('mixed.keys', [
      'AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
      'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:d0RmdmNtZ2ppK3E0b2J1d3BQMGp4dXp3TmVsYWR3|2^31|1:4',
      formatKeyLogEntry({ kind: 'srtp', owner: 'alice', callId: 'c1', dir: 'tx', suite: 'AEAD_AES_128_GCM', keySalt: Buffer.alloc(28, 7).toString('base64'), keyMgmt: 'sdes', at: '' }).trim(),
      'AES_CM_128_HMAC_SHA1_80 nokey',
      '{"kind":"srtp"}',
    ]);
    const r = readKeyFile(file);
    expect(r.keys.map((k) => [k.suite, k.line])).toEqual([['AES_CM_128_HMAC_SHA1_80', 2], ['AES_CM_128_HMAC_SHA1_32', 3], ['AEAD_AES_128_GCM', 4]]);
    expect(r.keys[2]!.owner).toBe('alice');
    expect(r.problems.map((p) => p.slice(file.length))).toEqual([
      expect.stringMatching(/^:5: not a key: /),
      expect.stringMatching(/^:6: not an SRTP key log entry/),
    ]);
  });
});

describe('TLS secrets inside a pcapng', () => {
  it('the Decryption Secrets Block is read, a classic pcap has none', async () => {
    const file = join(dir, 'dsb.pcapng');
    const w = new PcapngWriter(file);
    const secret = 'CLIENT_RANDOM 00112233 445566778899\n';
    w.addDecryptionSecrets(0x544c534b, Buffer.from(secret)); // Secrets Type "TLS Key Log" (pcapng draft sec. 4.7)
    w.addInterface('core', 1);
    await w.close();
    expect(readSecretsBlocks(file)).toEqual([secret]);
    expect(readSecretsBlocks(join(FOREIGN_FIXTURES_DIR, 'b-direct-sdes.pcap'))).toEqual([]);
  });
});
