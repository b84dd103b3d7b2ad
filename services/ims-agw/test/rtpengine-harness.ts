/**
 * A real rtpengine for interop tests, on loopback addresses 127.0.13.x, and
 * what drives it the way the network's Kamailio elements do: their
 * rtpengine_offer/rtpengine_answer flag strings, read from their
 * kamailio.cfg and turned into the ng dictionary as Kamailio's rtpengine
 * module does, SDPs, and UDP endpoints that send and receive RTP/SRTP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rtpengine from 'rtpengine-client';
import { SDES_ONLY_80 } from '@imslab/kamailio';
import { buildRtp } from '@imslab/rtp';
import { SrtpContext, generateKeySalt, splitKeySalt } from '@imslab/srtp';

export const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Why the interop tests cannot run here, or null when they can. */
export function rtpengineMissing(): string | null {
  const r = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  if (r.error) return `the rtpengine binary is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); scripts/setup.sh installs it (apt-get install rtpengine-daemon)`;
  return null;
}

export function rtpengineVersion(): string {
  const r = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  return /Version:\s*(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

export interface RunningRtpengine {
  interfaces: Record<string, string>;
  ngAddress: string;
  ngPort: number;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts rtpengine as the element runs it (userspace, --table=-1) and waits
 * until it answers an ng ping. stop() ends it (SIGTERM, then SIGKILL) and
 * removes its directory; it is safe to call twice.
 */
export async function startRtpengine(o: { interfaces: Array<[string, string]>; ngAddress: string; ngPort: number; portMin: number; portMax: number }): Promise<RunningRtpengine> {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-agw-interop-'));
  let log = '';
  const child: ChildProcess = spawn('rtpengine', [
    '--config-file=none', '--table=-1', '--foreground', '--log-stderr', '--log-level=6',
    ...o.interfaces.map(([name, address]) => `--interface=${name}/${address}`),
    `--listen-ng=${o.ngAddress}:${o.ngPort}`, `--port-min=${o.portMin}`, `--port-max=${o.portMax}`,
    `--pidfile=${join(dir, 'rtpengine.pid')}`, '--timeout=60', '--delete-delay=0',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const client = new rtpengine.Client({ timeout: 300 });
  try {
    for (let i = 0; ; i++) {
      if (gone) throw new Error(`rtpengine exited during start-up:\n${log}`);
      const pong = await client.ping(o.ngPort, o.ngAddress).catch(() => null);
      if (pong?.result === 'pong') break;
      if (i > 50) throw new Error(`rtpengine did not answer an ng ping on ${o.ngAddress}:${o.ngPort}:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.close();
  }
  return { interfaces: Object.fromEntries(o.interfaces), ngAddress: o.ngAddress, ngPort: o.ngPort, log: () => log, stop };
}

/** One rtpengine_offer/rtpengine_answer call of a kamailio.cfg: its flag string, placeholders filled. */
export interface CfgCall {
  op: 'offer' | 'answer';
  flags: string;
  /** The ng call-id suffix the call sets (`call-id=$ci-mo` -> `-mo`), when it names one. */
  suffix: string | null;
}

const FILL: Record<string, string> = { RELAY_FLAGS: 'passthrough', SDES_ONLY_80 };

/**
 * Every distinct rtpengine_offer/rtpengine_answer call of services/<service>/kamailio.cfg,
 * with {{RELAY_FLAGS}} as the P-CSCF's default (`passthrough`) and {{SDES_ONLY_80}} filled.
 */
export function cfgCalls(service: 'pcscf' | 'transcoder'): CfgCall[] {
  const file = fileURLToPath(new URL(`../../${service}/kamailio.cfg`, import.meta.url));
  const text = readFileSync(file, 'utf8');
  const seen = new Set<string>();
  const out: CfgCall[] = [];
  for (const m of text.matchAll(/rtpengine_(offer|answer)\("([^"]*)"\)/g)) {
    const flags = m[2]!.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
      if (!(k in FILL)) throw new Error(`${file}: no test value for {{${k}}}`);
      return FILL[k]!;
    }).replace(/\s+/g, ' ').trim();
    const key = `${m[1]} ${flags}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ op: m[1] as 'offer' | 'answer', flags, suffix: /call-id=\$ci(-\w+)/.exec(flags)?.[1] ?? null });
  }
  return out;
}

/** The one call of `calls` that matches: a clear failure when the config changed under the test. */
export function pick(calls: CfgCall[], op: 'offer' | 'answer', has: string[], what: string): CfgCall {
  const hits = calls.filter((c) => c.op === op && has.every((h) => c.flags.includes(h)));
  if (hits.length !== 1) {
    throw new Error(`expected one rtpengine_${op} with ${has.map((h) => `"${h}"`).join(' ')} (${what}), found ${hits.length}:\n${calls.map((c) => `  ${c.op}: ${c.flags}`).join('\n')}`);
  }
  return hits[0]!;
}

/**
 * The ng dictionary Kamailio's rtpengine module builds from a flag string
 * (its parse_flags: replace-*, SDES-*, direction=, transport protocols and
 * call-id are special; other key=value pairs become dictionary entries and
 * bare words go to `flags`), for the tokens our configs use.
 */
export function ngFlags(flags: string, received: string): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  const list = (k: string, v: string) => ((d[k] ??= []) as string[]).push(v);
  for (const tok of flags.split(' ').filter(Boolean)) {
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const val = eq < 0 ? null : tok.slice(eq + 1);
    if (key.startsWith('replace-')) list('replace', key.slice('replace-'.length));
    else if (key.startsWith('SDES-')) list('SDES', key.slice('SDES-'.length));
    else if (key === 'direction' && val) list('direction', val);
    else if (/^(RTP\/AVP|RTP\/SAVP|RTP\/AVPF|RTP\/SAVPF)$/.test(key) && val === null) d['transport-protocol'] = key;
    else if (key === 'call-id') continue;
    else if (val === null) list('flags', key);
    else d[key] = val;
  }
  d['received-from'] = ['IP4', received];
  return d;
}

export interface Sdp {
  ip: string;
  port: number;
  protocol: string;
  crypto: Array<{ tag: number; suite: string; key: string }>;
  text: string;
}

export function sdp(ip: string, port: number, protocol: string, key?: string): string {
  return ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} ${protocol} 0`, 'a=rtpmap:0 PCMU/8000',
    ...(key ? [`a=crypto:1 ${SUITE} inline:${key}`] : []), 'a=sendrecv', ''].join('\r\n');
}

export function parseSdp(text: string): Sdp {
  const c = /^c=IN IP4 (\S+)/m.exec(text);
  const m = /^m=audio (\d+) (\S+)/m.exec(text);
  if (!c || !m) throw new Error(`not an audio SDP:\n${text}`);
  const crypto = [...text.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)].map((x) => ({ tag: Number(x[1]), suite: x[2]!, key: x[3]! }));
  return { ip: c[1]!, port: Number(m[1]), protocol: m[2]!, crypto, text };
}

export const newKey = () => generateKeySalt(SUITE).toString('base64');

export function srtp(key: string): SrtpContext {
  const { masterKey, masterSalt } = splitKeySalt(SUITE, Buffer.from(key, 'base64'));
  return new SrtpContext({ profile: SUITE, masterKey, masterSalt });
}

export function rtpPacket(seq: number, ssrc: number, fill: number): Buffer {
  return buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, Buffer.alloc(160, fill)); // PCMU
}

/** A media endpoint: a UDP socket that records what it receives. */
export interface Party {
  address: string;
  port: number;
  endpoint: string;
  got: Buffer[];
  sent: Buffer[];
  send(pkt: Buffer, to: Sdp): void;
  close(): void;
}

export async function party(address: string, port: number): Promise<Party> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => resolve());
  });
  const p: Party = {
    address, port, endpoint: `${address}:${port}`, got: [], sent: [],
    send(pkt, to) {
      p.sent.push(pkt);
      s.send(pkt, to.port, to.ip);
    },
    close: () => s.close(),
  };
  s.on('message', (m) => p.got.push(m));
  return p;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
