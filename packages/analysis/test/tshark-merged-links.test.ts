/**
 * One tshark run for several links (link-merge.ts): what readSipInsideTlsOnLinks,
 * followTlsOnLinks and analyseMessages give per link from the merged captures
 * must be what each link's own tshark run gives, with fewer tshark starts;
 * readSipInsideTlsOnLinks reads TLS 1.3 in process (tls-reader.ts), which
 * must give exactly what tshark gives, and starts tshark only for the rest.
 * tshark is counted through a shim first on PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter, readCapture } from '@imslab/capture';
import { createCa, issueUserCertificate, type IssuedCredential } from '@imslab/cms';
import { markerFor } from '@imslab/probe';
import { analyseMessages, followTls, followTlsInProcess, followTlsOnLinks, readKeyLogs, readSipInsideTls, readSipInsideTlsOnLinks, readTlsSipInProcess, scanLinkMessages, type AddressOwner } from '../src/index.ts';
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
    // access-c: TLS 1.2 again on other ports, so that two links need tshark (read in process: TLS 1.3 only).
    const cc = new LinkCapture(join(dir, 'access-c.pcapng'), 'access-c');
    cc.tcp([BOB, 40050], [PCSCF_B, 5061], sToP.wire);
    await cc.close();
    links = {
      'access-a': { file: join(dir, 'access-a.pcapng'), tlsFlows: tcpFlows([ALICE, 40010], [PCSCF_A, 5061]) },
      core: { file: await toPcap(join(dir, 'core.pcapng'), join(dir, 'core.pcap')), tlsFlows: [...tcpFlows([SCSCF, 40030], [PCSCF_B, 5061]), ...tcpFlows([RELAY, 40041], [BOB, 2855])] },
      'access-b': { file: join(dir, 'access-b.pcapng'), tlsFlows: tcpFlows([ALICE, 40010], [PCSCF_A, 5061]) },
      'access-c': { file: join(dir, 'access-c.pcapng'), tlsFlows: tcpFlows([BOB, 40050], [PCSCF_B, 5061]) },
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

  it('readSipInsideTlsOnLinks: TLS 1.3 read in process exactly as tshark reads it; tshark only for TLS 1.2, one start for disjoint links', async () => {
    const perLink: Record<string, unknown> = {};
    for (const l of pick('access-a', 'core', 'access-b', 'access-c')) perLink[l.link] = await readSipInsideTls(l.file, keys, l.tlsFlows);
    expect((perLink['access-a'] as { messages: unknown[] }).messages).toHaveLength(2);
    expect((perLink.core as { messages: unknown[] }).messages).toHaveLength(2);
    expect((perLink['access-c'] as { messages: unknown[] }).messages).toHaveLength(2);
    const inProcess = await readTlsSipInProcess(links['access-a']!.file, readKeyLogs(keys));
    expect(inProcess).toEqual({ messages: (perLink['access-a'] as { messages: unknown[] }).messages, unread: [] });
    expect((await readTlsSipInProcess(links.core!.file, readKeyLogs(keys))).unread)
      .toEqual([{ client: `${SCSCF}:40030`, server: `${PCSCF_B}:5061`, why: 'TLS 1.2 (not read here)' }]);
    const t = privateTmp('tmp-sip');
    let before = starts();
    expect(await readSipInsideTlsOnLinks(pick('access-a', 'access-b'), keys)).toEqual({ 'access-a': perLink['access-a'], 'access-b': perLink['access-b'] });
    expect(starts() - before).toBe(0);
    before = starts();
    const all = await readSipInsideTlsOnLinks(pick('access-a', 'core', 'access-b', 'access-c'), keys);
    expect(all).toEqual(perLink);
    expect(Object.keys(all)).toEqual(['access-a', 'core', 'access-b', 'access-c']);
    expect(starts() - before).toBe(1); // core and access-c merged
    expect(readdirSync(t)).toEqual([]);
  }, 60_000);

  it('followTlsOnLinks and analyseMessages: the streams and link scans of per-link runs; TLS 1.3 in process, tshark (two starts) for the link with TLS 1.2', async () => {
    const perLink = new Map<string, unknown>();
    for (const l of pick('access-a', 'core', 'access-c')) perLink.set(l.link, await followTls(l.file, keys, l.tlsFlows));
    expect(await followTlsInProcess(links['access-a']!.file, readKeyLogs(keys))).toEqual({ ...(perLink.get('access-a') as object), unread: [] });
    const t = privateTmp('tmp-follow');
    let before = starts();
    expect(await followTlsOnLinks(pick('access-a', 'core'), keys)).toEqual(new Map([...perLink].filter(([k]) => k !== 'access-c')));
    expect(starts() - before).toBe(2);
    before = starts();
    expect(await followTlsOnLinks(pick('access-a', 'core', 'access-c'), keys)).toEqual(perLink);
    expect(starts() - before).toBe(2); // core and access-c merged

    const captures = Object.fromEntries(pick('access-a', 'core', 'access-b').map((l) => [l.link, l.file]));
    const scans = [];
    for (const [link, file] of Object.entries(captures)) {
      const { cmsDer: _d, ...s } = await scanLinkMessages(link, file, new Set([mark]), { owner, tlsKeyLogs: keys });
      scans.push(s);
    }
    before = starts();
    const r = await analyseMessages({ captures, owner, messages: [{ marker: mark }], tlsKeyLogs: keys });
    expect(starts() - before).toBe(2); // core only: access-a and access-b (TLS 1.3) are read in process
    expect(r.links).toEqual(scans);
    expect(r.problems).toEqual([]);
    expect(r.links.map((l) => l.tlsOpened.length)).toEqual([1, 2, 1]);
    expect(r.links[0]!.markers.map((m) => [m.flow, m.inside])).toEqual([[`tcp ${ALICE}:40010 > ${PCSCF_A}:5061`, 'tls'], [`tcp ${ALICE}:40020 > ${RELAY}:2855`, 'raw']]);
    expect(readdirSync(t)).toEqual([]);
  }, 60_000);

  it('without tshark: an error in the report of every link that needs it, never a throw', async () => {
    const empty = join(dir, 'no-bin');
    mkdirSync(empty);
    process.env.PATH = empty;
    const r = await readSipInsideTlsOnLinks(pick('access-a', 'core'), keys);
    expect(r['access-a']!.messages).toHaveLength(2); // TLS 1.3: read in process
    expect(r.core).toEqual({ messages: [], error: 'tshark not installed (apt-get install tshark)' });
    const f = await followTlsOnLinks(pick('access-a', 'core'), keys);
    expect([...f.values()].map((x) => x.error)).toEqual([undefined, 'tshark not installed (apt-get install tshark)']);
    expect(f.get('access-a')!.streams.map((x) => x.toServer.length > 0)).toEqual([true]);
  });
});
