import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINKTYPE, PcapWriter, buildTcpFrame, buildUdpFrame } from '@imslab/capture';
import type { Analysis } from '@imslab/analysis';
import type { RunSummary } from '@imslab/run-format';
import {
  PROTECTION_STYLE, arrowLabel, classOfPathLink, esc, extractLadders, keyExchangeIn, ladderOf, linkColours, namer, networkOf,
  readKeyLogs, readLinkSignalling, renderReport, weaker, writeReport, type LadderMessage,
} from '../src/index.ts';
import { loadScenario } from '../src/report.ts';
import { FIXTURE_RUN, fixtureCopy } from './helpers.ts';

const readJson = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;

describe('escaping', () => {
  it('escapes the five characters of HTML text and attributes', () => {
    expect(esc(`<INVITE sip:a@b>&"x" 'y'`)).toBe('&lt;INVITE sip:a@b&gt;&amp;&quot;x&quot; &#39;y&#39;');
    expect(esc(undefined)).toBe('');
    expect(esc(42)).toBe('42');
  });

  it('leaves no markup of the run in the page: hostile scenario names, evidence and SIP lines come out as text', async () => {
    const evil = '<script>alert(1)</script>';
    const summary: RunSummary = {
      run: `run${evil}`, target: 'local', startedAt: '2026-12-02T00:00:00Z', finishedAt: null, aborted: `SIGINT & ${evil}`, planned: ['x'],
      results: [{
        scenario: `x${evil}`, clause: '4.1.1', title: `t "${evil}"`, dir: 'x', status: 'fail', error: null, pass: false, durationMs: 1,
        calls: [{ alias: 'c1', callId: 'id@h', expected: 'e2e', observed: 'none', pass: false, mismatches: [`m ${evil}`], evidence: [`e ${evil}`], conditions: [`c ${evil}`] }],
      }],
    };
    const msg: LadderMessage = {
      timeUs: 1, link: 'core', src: '127.0.2.10:5060', dst: '127.0.2.20:5060', from: 'pcscf-a', to: `scscf${evil}`, firstLine: `INVITE sip:${evil}@x SIP/2.0`,
      method: 'INVITE', status: null, cseq: '1 INVITE', callId: 'id@h', transport: 'udp', via: 'capture', hasSdp: true, keyExchange: [{ kind: 'crypto', detail: evil }],
    };
    const html = renderReport(summary, [{
      result: summary.results[0]!, dir: `/tmp/${evil}`, analysis: null, view: { target: 'local', slot: 0, elements: [], source: 'addresses' },
      name: () => undefined, ladders: { calls: new Map([['id@h', [msg]]]), kms: [], notes: [evil] }, ueCalls: null, problems: [evil],
    }]);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('SIGINT &amp; &lt;script&gt;');
  });
});

describe('the colouring rule', () => {
  const path = (verdict: string, links: Record<string, string>) => ({
    direction: 'orig' as const, marker: 'm', verdict: verdict as never, reasons: [],
    links: Object.fromEntries(Object.entries(links).map(([l, protection]) => [l, { protection: protection as never, packets: 1, unknown: 0, unmarked: 0, keys: [], flows: [], hops: [] }])),
  });

  it('classes one direction on one link', () => {
    expect(classOfPathLink({ protection: 'srtp' }, { verdict: 'e2e' })).toBe('e2e');
    expect(classOfPathLink({ protection: 'srtp' }, { verdict: 'e2m2e(conference)' })).toBe('e2m2e');
    expect(classOfPathLink({ protection: 'srtp' }, { verdict: 'e2ae' })).toBe('e2ae');
    // SRTP in a direction that is not protected end to end: this hop only.
    expect(classOfPathLink({ protection: 'srtp' }, { verdict: 'none' })).toBe('e2ae');
    expect(classOfPathLink({ protection: 'srtp' }, { verdict: 'unknown' })).toBe('e2ae');
    expect(classOfPathLink({ protection: 'plaintext' }, { verdict: 'e2ae' })).toBe('none');
    expect(classOfPathLink({ protection: 'encrypted-unknown' }, { verdict: 'unknown' })).toBe('unknown');
    expect(classOfPathLink({ protection: 'absent' }, { verdict: 'no-media' })).toBe('absent');
  });

  it('takes the weakest per link over every direction of every call; absent only when nothing was seen', () => {
    expect(weaker('e2e', 'none')).toBe('none');
    expect(weaker('absent', 'e2e')).toBe('e2e');
    expect(weaker('none', 'unknown')).toBe('unknown');
    const colours = linkColours([
      { alias: 'c1', paths: [path('e2e', { 'access-a': 'srtp', core: 'srtp', 'access-b': 'srtp' }), path('e2ae', { 'access-a': 'srtp', core: 'plaintext', 'access-b': 'absent' })] },
      { alias: 'c2', paths: [path('e2m2e(transcoder)', { 'access-a': 'srtp', core: 'srtp', 'access-b': 'absent' })] },
    ]);
    expect(colours['access-a']!.class).toBe('e2ae');
    expect(colours.core!.class).toBe('none');
    expect(colours['access-b']!.class).toBe('e2e');
    expect(colours.core!.why).toHaveLength(3);
    expect(linkColours([])['core']!.class).toBe('absent');
  });

  it('colours the fixture scenarios as their verdicts say', () => {
    const of = (s: string) => linkColours(readJson<Analysis>(join(FIXTURE_RUN, s, 'analysis.json')).calls);
    const pick = (c: ReturnType<typeof of>) => [c['access-a']!.class, c.core!.class, c['access-b']!.class];
    expect(pick(of('access-edge-protection'))).toEqual(['e2ae', 'none', 'e2ae']);
    expect(pick(of('e2e-mikey-ticket-call'))).toEqual(['e2e', 'e2e', 'e2e']);
    expect(pick(of('conference-e2m2e-mixing'))).toEqual(['e2m2e', 'e2m2e', 'e2m2e']);
    expect(pick(of('sdes-via-default-agws'))).toEqual(['e2ae', 'unknown', 'e2ae']);
    for (const c of Object.values(PROTECTION_STYLE)) expect(c.colour).toMatch(/^#[0-9a-f]{6}$/);
  });
});

describe('the ladder extraction', () => {
  let dir: string;
  const A = '127.0.1.100', P = '127.0.1.10', S = '127.0.2.20', PC = '127.0.2.10';
  const names: Record<string, string> = { [A]: 'alice', [P]: 'pcscf-a', [PC]: 'pcscf-a', [S]: 'scscf' };
  const name = (ip: string) => names[ip];
  const sdp = (extra: string) => `v=0\r\no=- 1 1 IN IP4 ${A}\r\ns=-\r\nc=IN IP4 ${A}\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n${extra}`;
  const sip = (first: string, callId: string, cseq: string, body = '') =>
    Buffer.from(`${first}\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imslab-ladder-'));
    // core: plaintext SIP over UDP, an RTP packet, a REGISTER of another Call-ID.
    const core = new PcapWriter(join(dir, 'core.pcap'), LINKTYPE.ETHERNET);
    const t = 1_800_000_000_000_000;
    const udp = (us: number, src: string, dst: string, payload: Buffer) => core.write(t + us, buildUdpFrame(LINKTYPE.ETHERNET, src, 5060, dst, 5060, payload));
    udp(10, PC, S, sip('INVITE sip:bob@ims.test SIP/2.0', 'call-1@x', '1 INVITE', sdp('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\na=3ge2ae:requested\r\n')));
    udp(20, S, PC, sip('SIP/2.0 100 Trying', 'call-1@x', '1 INVITE'));
    core.write(t + 25, buildUdpFrame(LINKTYPE.ETHERNET, PC, 30000, S, 32000, Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff])));
    udp(30, S, PC, sip('SIP/2.0 200 OK', 'call-1@x', '1 INVITE', sdp('a=key-mgmt:mikey AQ4FgbtZ\r\n')));
    udp(40, PC, S, sip('REGISTER sip:ims.test SIP/2.0', 'reg-1@x', '1 REGISTER'));
    await core.close();
    // access-a: SIP over TCP in the clear: the ACK split over two segments, then BYE and its 200 in one segment each way.
    const acc = new PcapWriter(join(dir, 'access-a.pcap'), LINKTYPE.ETHERNET);
    const ack = sip('ACK sip:bob@ims.test SIP/2.0', 'call-1@x', '1 ACK');
    const tcp = (us: number, src: string, sp: number, dst: string, dp: number, seq: number, payload: Buffer) => acc.write(t + us, buildTcpFrame(LINKTYPE.ETHERNET, src, sp, dst, dp, payload, { seq }));
    tcp(50, A, 40001, P, 5060, 1000, ack.subarray(0, 20));
    tcp(51, A, 40001, P, 5060, 1020, ack.subarray(20));
    const bye = sip('BYE sip:bob@ims.test SIP/2.0', 'call-1@x', '2 BYE');
    const ok = sip('SIP/2.0 200 OK', 'call-1@x', '2 BYE');
    tcp(60, A, 40001, P, 5060, 1000 + ack.length, bye);
    tcp(61, A, 40001, P, 5060, 1000 + ack.length, bye); // retransmission
    tcp(70, P, 5060, A, 40001, 9000, ok);
    await acc.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the key-exchange attributes of an SDP', () => {
    expect(keyExchangeIn('v=0\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:x\r\na=key-mgmt:mikey AQ\r\na=3ge2ae:applied\r\na=sendrecv\r\n')).toEqual([
      { kind: 'crypto', detail: 'AES_256_CM_HMAC_SHA1_80' }, { kind: 'key-mgmt', detail: 'mikey' }, { kind: '3ge2ae', detail: 'applied' },
    ]);
  });

  it('returns every SIP message per Call-ID in time order, with link, elements, start line and key exchange', async () => {
    const l = await extractLadders(dir, name, null);
    expect([...l.calls.keys()].sort()).toEqual(['call-1@x', 'reg-1@x']);
    const c = l.calls.get('call-1@x')!;
    expect(c.map((m) => `${m.link} ${m.from}->${m.to} ${m.firstLine} [${m.keyExchange.map((k) => `${k.kind}:${k.detail}`).join(' ')}]`)).toEqual([
      'core pcscf-a->scscf INVITE sip:bob@ims.test SIP/2.0 [crypto:AES_CM_128_HMAC_SHA1_80 3ge2ae:requested]',
      'core scscf->pcscf-a SIP/2.0 100 Trying []',
      'core scscf->pcscf-a SIP/2.0 200 OK [key-mgmt:mikey]',
      'access-a alice->pcscf-a ACK sip:bob@ims.test SIP/2.0 []',
      'access-a alice->pcscf-a BYE sip:bob@ims.test SIP/2.0 []',
      'access-a pcscf-a->alice SIP/2.0 200 OK []',
    ]);
    expect(c[0]).toMatchObject({ method: 'INVITE', status: null, cseq: '1 INVITE', transport: 'udp', via: 'capture', hasSdp: true, src: `${PC}:5060`, timeUs: 1_800_000_000_000_010 });
    expect(c[3]!.transport).toBe('tcp');
    expect(c[5]).toMatchObject({ method: null, status: 200, cseq: '2 BYE' });
    expect(arrowLabel(c[0]!)).toBe('INVITE sip:bob@ims.test');
    expect(arrowLabel(c[2]!)).toBe('200 OK');
  });

  it('decrypts the SIP inside TLS 1.3 with the key logs and agrees with what tshark read (analysis.json)', async () => {
    for (const s of ['access-edge-protection', 'e2e-mikey-ticket-call', 'sdes-e2e-call', 'conference-e2m2e-mixing']) {
      const d = join(FIXTURE_RUN, s);
      const analysis = readJson<Analysis>(join(d, 'analysis.json'));
      const keys = readKeyLogs(['alice', 'bob-1', 'bob-2', 'carol'].map((u) => join(d, 'keys', `${u}.tls-keys.log`)).filter(existsSync));
      for (const link of ['access-a', 'access-b']) {
        const r = await readLinkSignalling(link, join(d, `${link}.pcap`), keys, () => undefined);
        expect(r.failed, `${s} ${link}`).toEqual([]);
        const ours = r.messages.filter((m) => m.via === 'tls').sort((a, b) => a.timeUs! - b.timeUs!)
          .map((m) => `${m.src.replace(/:\d+$/, '')}>${m.dst.replace(/:\d+$/, '')} ${m.method ?? m.status} ${m.callId}`);
        const tshark = (analysis.tls[link]?.messages ?? []).flatMap((m) => m.what.split('\u001f').map((w, i) => `${m.src}>${m.dst} ${w} ${i === 0 ? m.callId : '(joined)'}`));
        expect(ours.map((o, i) => (tshark[i]?.endsWith('(joined)') ? o.replace(/ \S+$/, ' (joined)') : o)), `${s} ${link}`).toEqual(tshark);
        expect(ours.length).toBeGreaterThan(4);
      }
    }
  });

  it('ties the KMS exchanges of MIKEY-TICKET to the call: the request before the INVITE, the resolve of the callee', async () => {
    const d = join(FIXTURE_RUN, 'e2e-mikey-ticket-call');
    const analysis = readJson<Analysis>(join(d, 'analysis.json'));
    const view = await networkOf(d, analysis);
    expect(view.source).toBe('recorded');
    const l = await extractLadders(d, namer(view), analysis);
    const callId = analysis.calls[0]!.callId;
    const ms = ladderOf(l, callId);
    const lines = ms.map((m) => `${m.from}->${m.to} ${m.firstLine.split(' ').slice(0, 2).join(' ')}`);
    expect(lines.slice(0, 3)).toEqual(['alice->kms POST /mikey/request', 'kms->alice HTTP/1.1 200', 'alice->pcscf-a INVITE sip:bob@ims.test']);
    const resolve = lines.indexOf('bob-1->kms POST /mikey/resolve');
    expect(resolve).toBeGreaterThan(lines.indexOf('pcscf-b->bob-1 INVITE sip:bob@127.1.3.100:5061;transport=tls'));
    expect(ms.filter((m) => m.keyExchange.some((k) => k.kind === 'key-mgmt')).length).toBeGreaterThanOrEqual(6);
    expect(ms.every((m) => m.timeUs !== null)).toBe(true);
  });

  it('falls back on the analysis (tshark) for SIP inside TLS it cannot decrypt, without times', async () => {
    const d = join(FIXTURE_RUN, 'access-edge-protection');
    const analysis = readJson<Analysis>(join(d, 'analysis.json'));
    const tmp = mkdtempSync(join(tmpdir(), 'imslab-nokeys-'));
    try {
      for (const f of ['access-a.pcap', 'core.pcap', 'access-b.pcap']) copyFileSync(join(d, f), join(tmp, f));
      const l = await extractLadders(tmp, () => undefined, analysis);
      expect(l.notes.some((n) => /not decrypted here \(no key log line/.test(n))).toBe(true);
      const c = l.calls.get(analysis.calls[0]!.callId)!;
      const untimed = c.filter((m) => m.timeUs === null);
      expect(untimed.length).toBeGreaterThan(5);
      expect(untimed.every((m) => m.via === 'analysis')).toBe(true);
      expect(untimed.some((m) => m.method === 'INVITE' && m.keyExchange.some((k) => k.kind === 'crypto'))).toBe(true);
      // Timed messages (core, in the clear) first, then the untimed ones.
      expect(c.findIndex((m) => m.timeUs === null)).toBe(c.filter((m) => m.timeUs !== null).length);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('writeReport', () => {
  it('writes report.html into the run directory with every section, and a scenario directory alone reads as a run of one', async () => {
    const { dir, cleanup } = fixtureCopy();
    try {
      const r = await writeReport(dir);
      expect(r.file).toBe(join(dir, 'report.html'));
      const html = readFileSync(r.file, 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain("default-src 'none'");
      expect(html).not.toMatch(/<(?:script|link|img|iframe)\b/i);
      expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
      const summary = readJson<RunSummary>(join(dir, 'summary.json'));
      for (const s of summary.results) expect(html).toContain(`id="s--${s.scenario}"`);
      expect((html.match(/<svg class="ladder"/g) ?? []).length).toBe(summary.results.reduce((n, s) => n + s.calls.length, 0));
      expect(html).toContain('data-badge="crypto"');
      expect(html).toContain('data-badge="key-mgmt"');
      expect(html).toContain('data-badge="3ge2ae"');
      expect(html).toContain('data-badge="mikey-ticket"');
      expect(html).toContain('data-badge="exposed"'); // SDES keys in the clear on the core (sdes-e2e-call)
      const one = await writeReport(join(dir, 'access-edge-protection'));
      expect(readFileSync(one.file, 'utf8')).toContain('id="s--access-edge-protection"');
    } finally {
      cleanup();
    }
  });

  it('reports an aborted run with a scenario that errored before leaving anything, and one skipped', async () => {
    const root = mkdtempSync(join(tmpdir(), 'imslab-report-aborted-'));
    try {
      const summary: RunSummary = {
        run: 'aborted-run', target: 'local', startedAt: '2026-12-02T00:00:00Z', finishedAt: null, aborted: 'SIGINT', planned: ['a', 'b', 'c'],
        results: [
          { scenario: 'a', clause: '4.1.1', title: 'errored', dir: 'a', status: 'error', error: { kind: 'infrastructure', message: 'pcscf-a did not start' }, pass: false, durationMs: 10, calls: [] },
          { scenario: 'b', clause: '4.1.4', title: 'skipped', dir: 'b', status: 'skipped', skipped: 'needs a network of its own', error: null, pass: false, durationMs: 0, calls: [] },
        ],
      };
      writeFileSync(join(root, 'summary.json'), JSON.stringify(summary));
      const html = readFileSync((await writeReport(root)).file, 'utf8');
      expect(html).toContain('ABORTED: SIGINT');
      expect(html).toContain('not run: c');
      expect(html).toContain('pcscf-a did not start');
      expect(html).toContain('needs a network of its own');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the elements from the plan when the run did not record them', async () => {
    const summary = readJson<RunSummary>(join(FIXTURE_RUN, 'summary.json'));
    const s = await loadScenario(FIXTURE_RUN, summary.results.find((r) => r.scenario === 'access-edge-protection')!);
    expect(s.view.source).toBe('planned');
    expect(s.view.slot).toBe(2);
    expect(s.view.elements.map((e) => e.name)).toEqual(expect.arrayContaining(['alice', 'bob-1', 'pcscf-a', 'pcscf-b', 'ims-agw-a', 'ims-agw-b', 'scscf']));
    expect(s.view.elements.map((e) => e.name)).not.toContain('conference');
    expect(s.name('127.2.1.100')).toBe('alice');
  });
});
