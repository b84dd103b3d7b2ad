/**
 * Voicemail under a real-length message: an in-process Voicemail on
 * loopback (127.0.13.x, temp store directory) takes a `seconds`-long SRTP
 * deposit (real AES_CM_128_HMAC_SHA1_80 protecting PCMU probe packets,
 * 50 packets/s on a drift-free 20 ms schedule, MIKEY key-mgmt line left
 * unresolved), then plays it back to its owner. Every ratio's reference is
 * measured in the same run: the store's size against the bytes sent on the
 * wire, the playback's duration and gaps against the deposit's own send
 * times. Prints nothing (the direct run prints one summary line).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SipLogger, readOffer } from '@imslab/app-server';
import { markerFor, probePayload } from '@imslab/probe';
import { buildRtp, RTP_FIXED_HEADER_LENGTH, rtpSequence } from '@imslab/rtp';
import type { SipRequest } from '@imslab/sip';
import { SrtpContext } from '@imslab/srtp';
import { isRequest, offerSdp, RtpSink, SipPeer, UacCall } from '@imslab/sip/test-peer';
import { parseVoicemailConfig, Voicemail } from '../src/index.ts';

/** Options of {@link runVoicemailBench}. */
export interface VoicemailBenchOptions {
  /** Message length in seconds of audio (default: env IMSLAB_BENCH_VM_SECONDS, else 60). */
  seconds?: number;
}

/** Result of {@link runVoicemailBench}; times in ms, sizes in bytes. */
export interface VoicemailBenchResult {
  /** Audio seconds deposited (packets / 50). */
  seconds: number;
  /** Deposit: INVITE sent -> 200 to our BYE received. */
  depositWallMs: number;
  /** SRTP packets sent by the depositor. */
  wirePackets: number;
  /** UDP payload bytes sent by the depositor (RTP header + payload + auth tag). */
  wireBytes: number;
  /** Size of the message's packets.bin in the store. */
  storedBytes: number;
  storedBytesPerAudioSecond: number;
  /** storedBytes / wireBytes (reference: this run's wire bytes). */
  storeOverheadRatio: number;
  /** Retrieval: INVITE sent -> first played packet received. */
  retrievalFirstPacketMs: number;
  /** First -> last played packet received. */
  playbackMs: number;
  /** playbackMs / depositSendMs (reference: the deposit's first -> last send of this run); 1 = faithful. */
  pacingRatio: number;
  /** |received gap - original send gap| between consecutive received packets, median. */
  gapDeviationP50Ms: number;
  gapDeviationP99Ms: number;
  /** Played packets received (compare with wirePackets for loss). */
  receivedPackets: number;
  /** Every packet received, in order, byte-identical to what was sent. */
  identical: boolean;
  /** Extra: packets the store holds (meta.packets). */
  storedPackets: number;
  /** Extra: the deposit's first -> last packet send. */
  depositSendMs: number;
  /** Extra: retrieval INVITE sent -> its 200 received (the voicemail reads the whole message before answering). */
  retrievalAnswerMs: number;
}

const DOMAIN = 'ims.test';
const VM_ADDR = '127.0.13.10';
const PEER_ADDR = '127.0.13.11';
const SIP_PORT = 25_130;
const CONTROL_PORT = 28_130;
const RTP_MIN = 31_300;
const RTP_MAX = 31_399;
const PTIME_MS = 20;
const SAMPLES = 160;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function secondsFrom(o: VoicemailBenchOptions): number {
  const env = process.env.IMSLAB_BENCH_VM_SECONDS;
  const s = o.seconds ?? (env !== undefined && env !== '' ? Number(env) : 60);
  if (!Number.isFinite(s) || s * 50 < 2) throw new Error(`voicemail bench: seconds must be a number of at least 0.04, got ${JSON.stringify(o.seconds ?? env)}`);
  return s;
}

/** Runs the benchmark; prints nothing. Everything it opens is closed, and its store removed, also on failure. */
export async function runVoicemailBench(o: VoicemailBenchOptions = {}): Promise<VoicemailBenchResult> {
  const n = Math.round(secondsFrom(o) * (1000 / PTIME_MS));
  const seconds = (n * PTIME_MS) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'imslab-vm-bench-'));
  const logLines: string[] = [];
  const log = new SipLogger('voicemail', 'vm-bench', (l) => {
    logLines.push(l);
    if (logLines.length > 200) logLines.shift();
  });
  const cfg = parseVoicemailConfig({
    name: 'vm-bench', address: VM_ADDR, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: DOMAIN,
    storeDir: join(dir, 'store'), rtpPortMin: RTP_MIN, rtpPortMax: RTP_MAX, mailboxAccess: 'owner',
  });
  const open: Array<{ close(): Promise<void> }> = [];
  let vm: Voicemail | undefined;
  try {
    vm = await Voicemail.start(cfg, log);

    // ---- 1. Deposit: alice's call to bob, diverted on no-answer ----
    const alice = await SipPeer.open(PEER_ADDR);
    open.push(alice);
    const aliceRtp = await RtpSink.open(PEER_ADDR);
    open.push(aliceRtp);
    const dep = new UacCall(alice, {
      host: VM_ADDR, port: SIP_PORT, uri: `sip:bob@${DOMAIN}`, from: `sip:alice@${DOMAIN}`, to: `sip:bob@${DOMAIN}`,
      headers: [['P-Asserted-Identity', `<sip:alice@${DOMAIN}>`], ['Diversion', `<sip:bob@${DOMAIN}>;reason=no-answer`]],
    });
    const mikey = `mikey ${randomBytes(96).toString('base64')}`;
    const srtp = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: randomBytes(16), masterSalt: randomBytes(14) });
    const marker = markerFor(dep.callId, 'orig');
    const ssrc = randomBytes(4).readUInt32BE(0);
    const seq0 = randomBytes(2).readUInt16BE(0);
    const ts0 = randomBytes(4).readUInt32BE(0);
    const sent: Buffer[] = [];
    const sentAt: number[] = [];
    let wireBytes = 0;

    const depStart = performance.now();
    await dep.invite(offerSdp({ address: PEER_ADDR, port: aliceRtp.port, profile: 'RTP/SAVP', direction: 'sendonly', extra: ['a=ptime:20', `a=key-mgmt:${mikey}`] }));
    const depOk = await dep.final(5000);
    if (depOk.status !== 200) throw new Error(`deposit INVITE answered ${depOk.status} ${depOk.reason}`);
    await dep.ack2xx(depOk);
    const depAns = readOffer(depOk.body.toString('utf8'));

    const sendT0 = performance.now();
    for (let i = 0; i < n; i++) {
      // Drift-free: packet i is due at sendT0 + i*20 ms whatever the lateness of earlier ones (a late packet goes at once).
      const wait = sendT0 + i * PTIME_MS - performance.now();
      if (wait > 0) await sleep(wait);
      // PCMU, marker bit on the first packet of the talk spurt.
      const rtp = buildRtp({ payloadType: 0, marker: i === 0, sequence: seq0 + i, timestamp: ts0 + i * SAMPLES, ssrc }, probePayload(marker, i));
      const pkt = srtp.protectRtp(rtp);
      sent.push(pkt);
      wireBytes += pkt.length;
      sentAt.push(performance.now());
      if (i === n - 1) await new Promise<void>((res, rej) => aliceRtp.socket.send(pkt, depAns.port, depAns.address, (e) => (e ? rej(e) : res())));
      else aliceRtp.socket.send(pkt, depAns.port, depAns.address);
    }
    await dep.bye();
    await alice.response(200, 'BYE', dep.callId, 5000);
    const depositWallMs = performance.now() - depStart;
    const depositSendMs = sentAt[n - 1]! - sentAt[0]!;

    const meta = vm.store.list('bob').find((m) => m.callId === dep.callId);
    if (!meta) throw new Error('the deposit is not in bob\'s mailbox');
    if (meta.state !== 'complete') throw new Error(`the deposit is ${meta.state}${meta.note ? ` (${meta.note})` : ''}`);
    const storedBytes = statSync(join(cfg.storeDir, 'bob', meta.id, 'packets.bin')).size;

    // ---- 2. Retrieval: bob calls the voicemail ----
    const bob = await SipPeer.open(PEER_ADDR);
    open.push(bob);
    const bobRtp = await RtpSink.open(PEER_ADDR);
    open.push(bobRtp);
    const ret = new UacCall(bob, {
      host: VM_ADDR, port: SIP_PORT, uri: `sip:voicemail@${DOMAIN}`, from: `sip:bob@${DOMAIN}`, to: `sip:voicemail@${DOMAIN}`,
      headers: [['P-Asserted-Identity', `<sip:bob@${DOMAIN}>`]],
    });
    const retStart = performance.now();
    await ret.invite(offerSdp({ address: PEER_ADDR, port: bobRtp.port, profile: 'RTP/SAVP', direction: 'recvonly', extra: ['a=ptime:20'] }));
    const retOk = await ret.final(5000);
    const retrievalAnswerMs = performance.now() - retStart;
    if (retOk.status !== 200) throw new Error(`retrieval INVITE answered ${retOk.status} ${retOk.reason}`);
    await ret.ack2xx(retOk);
    const byeRx = await bob.nextReceived(isRequest('BYE', ret.callId), 'the voicemail\'s BYE', depositSendMs * 2 + 10_000);
    await bob.reply(byeRx.msg as SipRequest, 200, byeRx.from);

    const got = bobRtp.packets;
    if (got.length === 0) throw new Error('no packet played back');
    const identical = got.length === sent.length && got.every((p, i) => p.data.equals(sent[i]!));
    // Gap deviation: each received packet is placed by its sequence number, and compared with the original send gap.
    const devs: number[] = [];
    let prev: { idx: number; at: number } | undefined;
    for (const p of got) {
      const idx = p.data.length >= RTP_FIXED_HEADER_LENGTH ? ((rtpSequence(p.data) - seq0) & 0xffff) : -1;
      if (idx < 0 || idx >= n || !p.data.equals(sent[idx]!)) continue;
      if (prev && idx > prev.idx) devs.push(Math.abs((p.at - prev.at) - (sentAt[idx]! - sentAt[prev.idx]!)));
      prev = { idx, at: p.at };
    }
    devs.sort((a, b) => a - b);
    const playbackMs = got[got.length - 1]!.at - got[0]!.at;
    return {
      seconds,
      depositWallMs,
      wirePackets: n,
      wireBytes,
      storedBytes,
      storedBytesPerAudioSecond: storedBytes / seconds,
      storeOverheadRatio: storedBytes / wireBytes,
      retrievalFirstPacketMs: got[0]!.at - retStart,
      playbackMs,
      pacingRatio: playbackMs / depositSendMs,
      gapDeviationP50Ms: percentile(devs, 50),
      gapDeviationP99Ms: percentile(devs, 99),
      receivedPackets: got.length,
      identical,
      storedPackets: meta.packets,
      depositSendMs,
      retrievalAnswerMs,
    };
  } catch (e) {
    const warnings = logLines.filter((l) => l.includes('WARNING')).slice(-5);
    if (warnings.length > 0 && e instanceof Error) e.message += `; voicemail log: ${warnings.join(' | ')}`;
    throw e;
  } finally {
    if (vm) await vm.close().catch(() => undefined);
    for (const x of open.reverse()) await x.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

// `tsx services/voicemail/bench/voicemail-bench.ts [seconds]` prints the figures.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  const r = await runVoicemailBench(arg !== undefined ? { seconds: Number(arg) } : {});
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    `voicemail: ${f(r.seconds, 0)} s SRTP message: deposit ${f(r.depositWallMs / 1000, 2)} s wall, ${r.wirePackets} packets / ${r.wireBytes} B on the wire, ` +
      `stored ${r.storedPackets} packets / ${r.storedBytes} B (${Math.round(r.storedBytesPerAudioSecond)} B per audio s, ${f(r.storeOverheadRatio, 3)}x wire); ` +
      `retrieval first packet ${f(r.retrievalFirstPacketMs)} ms (200 OK at ${f(r.retrievalAnswerMs)} ms), playback ${f(r.playbackMs / 1000, 3)} s (${f(r.pacingRatio, 4)}x deposit), ` +
      `gap deviation p50 ${f(r.gapDeviationP50Ms, 2)} ms p99 ${f(r.gapDeviationP99Ms, 2)} ms, received ${r.receivedPackets}/${r.wirePackets}, ${r.identical ? 'byte-identical' : 'NOT identical'}`,
  );
}
