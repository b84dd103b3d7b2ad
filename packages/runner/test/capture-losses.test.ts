import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLosses } from '../src/tcpdump.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-losses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('captureLosses: tcpdump statistics at the end of a capture', () => {
  it('reports the packets a link lost in the kernel or the interface, and no link that lost none', () => {
    // tcpdump's own closing lines (Debian tcpdump 4.99), as a busy run left them.
    writeFileSync(join(dir, 'capture-access-b.log'), 'tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n263 packets captured\n626 packets received by filter\n100 packets dropped by kernel\n');
    writeFileSync(join(dir, 'capture-access-a.log'), 'tcpdump: listening on lo\n201 packets captured\n406 packets received by filter\n0 packets dropped by kernel\n');
    writeFileSync(join(dir, 'capture-core.log'), 'tcpdump: listening on br-core\n5 packets captured\n5 packets received by filter\n0 packets dropped by kernel\n3 packets dropped by interface\n');
    expect(captureLosses(dir, ['access-a', 'core', 'access-b', 'not-captured'])).toEqual({ 'access-b': 100, core: 3 });
  });

  it('a log cut short (tcpdump killed) reports nothing rather than guessing', () => {
    writeFileSync(join(dir, 'capture-x.log'), 'tcpdump: listening on lo\n');
    expect(captureLosses(dir, ['x'])).toEqual({});
  });
});
