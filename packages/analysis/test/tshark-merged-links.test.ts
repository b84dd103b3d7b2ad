/**
 * One tshark run for several links (link-merge.ts): what readSipInsideTlsOnLinks,
 * followTlsOnLinks and analyseMessages give per link from the merged captures
 * must be what each link's own tshark run gives, with fewer tshark starts.
 * tshark is counted through a shim first on PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter, readCapture } from '@imslab/capture';
import { createCa, issueUserCertificate, type IssuedCredential } from '@imslab/cms';
import { markerFor } from '@imslab/probe';
import { analyseMessages, followTls, followTlsOnLinks, readSipInsideTls, readSipInsideTlsOnLinks, scanLinkMessages, type AddressOwner } from '../src/index.ts';
import { concatLinkCaptures, sameDecodeAs, tsharkGroups } from '../src/link-merge.ts';
import { LinkCapture, msrpSend, sipMessage, sipOk, tlsConversation, tmp, writeText } from './messages-fixtures.ts';

const ALICE = '127.0.1.100';
const PCSCF_A = '127.0.1.10';
const SCSCF = '127.0.2.20';
const PCSCF_B = '127.0.3.10';
const RELAY = '127.0.2.60';
const BOB = '127.0.3.100';
const NAMES: Record<string, string> = { [ALICE]: 'alice', [PCSCF_A]: 'p-cscf-a', [SCSCF]: 's-cscf', [PCSCF_B]: 'p-cscf-b', [RELAY]: 'msrp-relay', [BOB]: 'bob' };
const owner: AddressOwner = (a) => (NAMES[a] ? { name: NAMES[a]!, kind: 'x' } : undefined);

/** The same packets as classic pcap (no interface ids, as tcpdump writes the runs' captures). */
async function toPcap(pcapng: string, out: string): Promise<string> {
  let w: PcapWriter | undefined;
  for await (const p of readCapture(pcapng)) {
    w ??= new PcapWriter(out, p.linkType);
    w.write(p.timestampUs, p.data, p.originalLength);
  }
  await w!.close();
  return out;
}

/** The real tshark, or undefined when it is not installed (the tests are skipped then). */
const realTshark = ((): string | undefined => {
  try {
    return execFileSync('sh', ['-c', 'command -v tshark'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

const tcpFlows = (c: [string, number], s: [string, number]) => [`tcp ${c[0]}:${c[1]} > ${s[0]}:${s[1]}`, `tcp ${s[0]}:${s[1]} > ${c[0]}:${c[1]}`];

describe.skipIf(realTshark === undefined)('one tshark run for several links', () => {
  let dir: string;
  let keys: string[];
  let links: Record<string, { file: string; tlsFlows: string[] }>;
  let mark: string;
  const savedPath = process.env.PATH;
  const savedTmp = process.env.TMPDIR;
  let calls: string;

  beforeAll(async () => {
    dir = tmp('tshark-merged');
    const server: IssuedCredential = await issueUserCertificate((await createCa({ commonName: 'tls CA', keyType: 'ec' })).credential, { uris: ['sip:p-cscf-a.ims.test'], keyType: 'ec' });
    mark = markerFor('message-merged', 'orig');
    const aToP = await tlsConversation(server.certificatePem, server.privateKeyPem, [sipMessage({ callId: 'm1@alice', contentType: 'text/plain', body: `hi ${mark}` })], [sipOk('m1@alice')]);
    const sToP = await tlsConversation(server.certificatePem, server.privateKeyPem, [sipMessage({ callId: 'm2@s', contentType: 'text/plain', body: 'no marker' })], [sipOk('m2@s')], 'TLSv1.2');
    const msrp = await tlsConversation(server.certificatePem, server.privateKeyPem, [msrpSend({ tid: 't1', messageId: 'mm', body: `msrp ${mark}` })]);
    const send = msrpSend({ tid: 't2', messageId: 'mp', body: `plain ${mark}` });
    // access-a (pcapng): SIP over TLS to the P-CSCF, and plain MSRP to port 2855, which is TLS on core.
    const a = new LinkCapture(join(dir, 'access-a.pcapng'), 'access-a');
    a.tcp([ALICE, 40010], [PCSCF_A, 5061], aToP.wire);
    a.tcp([ALICE, 40020], [RELAY, 2855], [{ c2s: true, data: send }]);
    await a.close();
    // core (classic pcap): SIP over TLS 1.2 between the CSCFs, MSRP over TLS from the relay.
    const c = new LinkCapture(join(dir, 'core.pcapng'), 'core');
    c.tcp([SCSCF, 40030], [PCSCF_B, 5061], sToP.wire);
    c.tcp([RELAY, 40041], [BOB, 2855], msrp.wire);
    await c.close();
    // access-b: the very connection of access-a again (as if the link were bridged): never in the same tshark run.
    const b = new LinkCapture(join(dir, 'access-b.pcapng'), 'access-b');
    b.tcp([ALICE, 40010], [PCSCF_A, 5061], aToP.wire);
    await b.close();
    links = {
      'access-a': { file: join(dir, 'access-a.pcapng'), tlsFlows: tcpFlows([ALICE, 40010], [PCSCF_A, 5061]) },
      core: { file: await toPcap(join(dir, 'core.pcapng'), join(dir, 'core.pcap')), tlsFlows: [...tcpFlows([SCSCF, 40030], [PCSCF_B, 5061]), ...tcpFlows([RELAY, 40041], [BOB, 2855])] },
      'access-b': { file: join(dir, 'access-b.pcapng'), tlsFlows: tcpFlows([ALICE, 40010], [PCSCF_A, 5061]) },
    };
    keys = [writeText(dir, 'a.keys', aToP.keyLog), writeText(dir, 's.keys', sToP.keyLog), writeText(dir, 'm.keys', msrp.keyLog)];
    // A counting tshark first on PATH.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    calls = join(dir, 'calls.log');
    writeFileSync(join(bin, 'tshark'), `#!/bin/sh\necho x >> '${calls}'\nexec '${realTshark}' "$@"\n`);
    chmodSync(join(bin, 'tshark'), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
  }, 60_000);

  afterEach(() => {
    process.env.PATH = `${join(dir, 'bin')}:${savedPath}`;
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  const starts = (): number => {
    try {
      return readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  /** Temporary files go to a directory of the test's own, to see that none is left. */
  const privateTmp = (name: string): string => {
    const t = join(dir, name);
    mkdirSync(t);
    process.env.TMPDIR = t;
    return t;
  };
  const pick = (...names: string[]) => names.map((link) => ({ link, ...links[link]! }));

  it('groups links whose connections are disjoint; the merged file has an interface per link', async () => {
    const groups = await tsharkGroups(pick('access-a', 'core', 'access-b').map((l) => ({ ...l, flows: l.tlsFlows })));
    expect(groups.map((g) => g.map((l) => l.link))).toEqual([['access-a', 'core'], ['access-b']]);
    const ifaces = await concatLinkCaptures(pick('access-a', 'core'), join(dir, 'merged.pcapng'));
    expect(ifaces).toEqual([{ link: 'access-a', interfaceId: 0 }, { link: 'core', interfaceId: undefined }]);
    // access-a's plain MSRP to 2855 (TLS on core only) is not read as TLS for access-a; 5061 is everyone's.
    const all = new Set([5061, 40010, 40030, 40041, 2855]);
    expect(sameDecodeAs(40020, 2855, new Set([5061, 40010]), all)).toBe(false);
    expect(sameDecodeAs(40010, 5061, new Set([5061, 40010]), all)).toBe(true);
    expect(sameDecodeAs(40099, 443, new Set([5061]), all)).toBe(true);
  });

  it('readSipInsideTlsOnLinks: the per-link reports of per-link runs, one tshark start for disjoint links', async () => {
    const perLink: Record<string, unknown> = {};
    for (const l of pick('access-a', 'core', 'access-b')) perLink[l.link] = await readSipInsideTls(l.file, keys, l.tlsFlows);
    expect((perLink['access-a'] as { messages: unknown[] }).messages).toHaveLength(2);
    expect((perLink.core as { messages: unknown[] }).messages).toHaveLength(2);
    const t = privateTmp('tmp-sip');
    let before = starts();
    expect(await readSipInsideTlsOnLinks(pick('access-a', 'core'), keys)).toEqual({ 'access-a': perLink['access-a'], core: perLink.core });
    expect(starts() - before).toBe(1);
    before = starts();
    const all = await readSipInsideTlsOnLinks(pick('access-a', 'core', 'access-b'), keys);
    expect(all).toEqual(perLink);
    expect(Object.keys(all)).toEqual(['access-a', 'core', 'access-b']);
    expect(starts() - before).toBe(2);
    expect(readdirSync(t)).toEqual([]);
  }, 60_000);

  it('followTlsOnLinks and analyseMessages: the streams and link scans of per-link runs, two tshark starts', async () => {
    const perLink = new Map<string, unknown>();
    for (const l of pick('access-a', 'core')) perLink.set(l.link, await followTls(l.file, keys, l.tlsFlows));
    const t = privateTmp('tmp-follow');
    let before = starts();
    expect(await followTlsOnLinks(pick('access-a', 'core'), keys)).toEqual(perLink);
    expect(starts() - before).toBe(2);

    const captures = Object.fromEntries(pick('access-a', 'core', 'access-b').map((l) => [l.link, l.file]));
    const scans = [];
    for (const [link, file] of Object.entries(captures)) {
      const { cmsDer: _d, ...s } = await scanLinkMessages(link, file, new Set([mark]), { owner, tlsKeyLogs: keys });
      scans.push(s);
    }
    before = starts();
    const r = await analyseMessages({ captures, owner, messages: [{ marker: mark }], tlsKeyLogs: keys });
    expect(starts() - before).toBe(4); // access-a and core together, access-b (its connection is access-a's) alone
    expect(r.links).toEqual(scans);
    expect(r.problems).toEqual([]);
    expect(r.links.map((l) => l.tlsOpened.length)).toEqual([1, 2, 1]);
    expect(r.links[0]!.markers.map((m) => [m.flow, m.inside])).toEqual([[`tcp ${ALICE}:40010 > ${PCSCF_A}:5061`, 'tls'], [`tcp ${ALICE}:40020 > ${RELAY}:2855`, 'raw']]);
    expect(readdirSync(t)).toEqual([]);
  }, 60_000);

  it('without tshark: an error in every link\'s report, never a throw', async () => {
    const empty = join(dir, 'no-bin');
    mkdirSync(empty);
    process.env.PATH = empty;
    const r = await readSipInsideTlsOnLinks(pick('access-a', 'core'), keys);
    expect(r).toEqual({
      'access-a': { messages: [], error: 'tshark not installed (apt-get install tshark)' },
      core: { messages: [], error: 'tshark not installed (apt-get install tshark)' },
    });
    const f = await followTlsOnLinks(pick('access-a', 'core'), keys);
    expect([...f.values()].map((x) => x.error)).toEqual(['tshark not installed (apt-get install tshark)', 'tshark not installed (apt-get install tshark)']);
  });
});
