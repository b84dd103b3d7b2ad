/** Keys from key logs and SDP, checked and de-duplicated; a key that cannot be used is a problem, never an exception. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINKTYPE } from '@imslab/capture';
import { formatKeyLogEntry } from '@imslab/probe';
import { SrtpContext } from '@imslab/srtp';
import { decryptCapture, keysFromCryptoAttributes, keysFromKeyLogs, prepareKeys } from '../src/index.ts';
import { datagrams, keySaltFor, rtpStream, tempDir, writePcap } from './synth.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const K80 = keySaltFor('AES_CM_128_HMAC_SHA1_80', 1).toString('base64');
const KGCM = keySaltFor('AEAD_AES_128_GCM', 2).toString('base64');
const K80B = keySaltFor('AES_CM_128_HMAC_SHA1_80', 3).toString('base64');

describe('keys', () => {
  it('key logs: one key per master key, named as the analysis names them, the sender\'s name kept', async () => {
    const entry = { kind: 'srtp' as const, callId: '3f2a9c1b-aaaa', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80, keyMgmt: 'sdes', at: '' };
    await writeFile(join(dir, 'bob.srtp-keys.jsonl'), formatKeyLogEntry({ ...entry, owner: 'bob', dir: 'rx' }) + 'not json\n');
    await writeFile(join(dir, 'alice.srtp-keys.jsonl'), formatKeyLogEntry({ ...entry, owner: 'alice', dir: 'tx' })
      + formatKeyLogEntry({ ...entry, owner: 'alice', dir: 'rx', suite: 'AEAD_AES_128_GCM', keySalt: KGCM }));
    const r = await keysFromKeyLogs([join(dir, 'bob.srtp-keys.jsonl'), join(dir, 'alice.srtp-keys.jsonl'), join(dir, 'nobody.srtp-keys.jsonl')]);
    expect(r.keys).toEqual([
      { id: 'alice/tx/3f2a9c1b', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80 },
      { id: 'alice/rx/3f2a9c1b', suite: 'AEAD_AES_128_GCM', keySalt: KGCM },
    ]);
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(/bob\.srtp-keys\.jsonl: line 2: not JSON/);
    expect(r.problems[1]).toMatch(/nobody\.srtp-keys\.jsonl: .*ENOENT/);
  });

  it('a=crypto lines: every key parameter, its MKI length, UNENCRYPTED_SRTP; KDR and malformed lines are problems', () => {
    const r = keysFromCryptoAttributes([
      { source: 'core', attribute: `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K80}|2^20|1:4;inline:${K80B}|2^20|2:4` },
      { source: 'access-a', attribute: `crypto:2 AEAD_AES_128_GCM inline:${KGCM} UNENCRYPTED_SRTP` },
      { source: 'access-b', attribute: `3 AES_CM_128_HMAC_SHA1_32 inline:${K80} KDR=1` },
      { source: 'access-b', attribute: 'crypto:x nonsense' },
    ]);
    expect(r.keys).toEqual([
      { id: `sdp@core/${K80.slice(0, 6)}`, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80, mkiLength: 4 },
      { id: `sdp@core/${K80B.slice(0, 6)}`, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80B, mkiLength: 4 },
      { id: `sdp@access-a/${KGCM.slice(0, 6)}`, suite: 'AEAD_AES_128_GCM', keySalt: KGCM, unencryptedSrtp: true },
    ]);
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(/access-b: a=crypto:3 uses KDR/);
  });

  it('prepareKeys: base64 and bytes of one key are one key; bad suites and lengths are problems', () => {
    const r = prepareKeys([
      { id: 'a', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80 },
      { id: 'b', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.from(K80, 'base64') },
      { id: 'c', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: K80, mkiLength: 2 },
      { id: 'd', suite: 'NULL_HMAC_SHA1_80', keySalt: K80 },
      { id: 'e', suite: 'AEAD_AES_256_GCM', keySalt: KGCM },
    ]);
    expect(r.keys.map((k) => [k.id, k.index])).toEqual([['a', 0], ['c', 1]]);
    expect(r.problems).toEqual([
      'key d: crypto-suite NULL_HMAC_SHA1_80 is not one this decrypter implements',
      expect.stringMatching(/^key e: AEAD_AES_256_GCM key\|\|salt must be 44 octets/),
    ]);
  });

  it('UNENCRYPTED_SRTP: the tag is stripped, the payload was plaintext all along', async () => {
    const ks = keySaltFor('AEAD_AES_128_GCM', 2);
    const ctx = new SrtpContext({ profile: 'AEAD_AES_128_GCM', masterKey: ks.subarray(0, 16), masterSalt: ks.subarray(16), unencryptedSrtp: true });
    const plain = rtpStream({ ssrc: 5, startSeq: 10, count: 5 });
    const path = join(dir, 'unencrypted.pcap');
    await writePcap(path, LINKTYPE.ETHERNET, datagrams(plain.map((p) => ctx.protectRtp(p)), { iface: 0, src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 2 }, 1e15));
    const { keys } = keysFromCryptoAttributes([{ source: 'x', attribute: `1 AEAD_AES_128_GCM inline:${KGCM} UNENCRYPTED_SRTP` }]);
    const r = await decryptCapture(path, join(dir, 'unencrypted.pcapng'), keys, { audioDir: false });
    expect(r.decryptedRtp).toBe(5);
    const plainOnly = await decryptCapture(path, join(dir, 'unencrypted-wrong-mode.pcapng'), [{ ...keys[0]!, unencryptedSrtp: false }], { audioDir: false });
    expect(plainOnly.decryptedRtp).toBe(0);
  });
});
