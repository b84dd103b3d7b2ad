import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatKeyLogEntry, markerFor, probePayload } from '@imslab/probe';
import { generateKeySalt } from '@imslab/srtp';
import { loadKeyRing, scanStores } from '../src/index.ts';

describe('element store scan', () => {
  it('finds plaintext probe media and key bytes (binary, base64, hex) at rest, and nothing in clean files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imslab-stores-'));
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const keyFile = join(dir, 'k.jsonl');
    writeFileSync(keyFile, formatKeyLogEntry({ kind: 'srtp', owner: 'alice', callId: 'c-1', dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: '' }));
    const ring = loadKeyRing([keyFile]);
    const store = join(dir, 'store');
    mkdirSync(join(store, 'box'), { recursive: true });
    writeFileSync(join(store, 'box', 'message.rtp'), probePayload(markerFor('c-1', 'orig'), 3));
    writeFileSync(join(store, 'agw.log'), `offer crypto ${ks.toString('hex')} done\n`);
    writeFileSync(join(store, 'binary.dat'), Buffer.concat([Buffer.alloc(10), ks, Buffer.alloc(10)]));
    writeFileSync(join(store, 'clean.log'), 'nothing to see\n');
    const found = scanStores([store], ring.keys, dir);
    expect(found).toContainEqual({ file: 'store/box/message.rtp', what: 'marker', detail: markerFor('c-1', 'orig') });
    expect(found).toContainEqual({ file: 'store/agw.log', what: 'key', detail: 'alice/tx/c-1' });
    expect(found).toContainEqual({ file: 'store/binary.dat', what: 'key', detail: 'alice/tx/c-1' });
    expect(found.some((f) => f.file === 'store/clean.log')).toBe(false);
  });
});
