/**
 * Conference capacity: for each mode (e2e: the bridge forwards every SRTP
 * datagram to every other member; e2m2e: it decrypts every leg, mixes every
 * 20 ms and re-encrypts per leg) the largest conference this machine runs
 * with no packet loss (at most 0.5 %) and no SRTP authentication failure.
 *
 * The bridge runs as a child process (services/conference/src/main.ts), one
 * per conference size; the N members are raw-UDP SIP peers in this process
 * (INVITE with P-Asserted-Identity, ACK) that send real SRTP probe packets
 * every 20 ms on a drift-free schedule, member i offset by i/N of 20 ms (as
 * independent phones would be), from one shared timer loop. The first
 * second is warm-up; `seconds` after it are counted.
 *  - e2e: one group key; every receiver decrypts with it. A packet counts
 *    when its sender sent it inside the counted window (the sequence number
 *    says which), so expected = (N-1) x packets each member sent then. One
 *    arriving more than 200 ms after its scheduled send counts as lost: the
 *    members' receive buffers are large (so a GC pause does not lose
 *    packets), and without a deadline a saturated bench would show seconds
 *    of queueing instead of loss.
 *  - e2m2e: own SDES key per member, decrypted with the bridge's answer key.
 *    A mixed packet counts when it arrives inside the window: expected =
 *    seconds x 50 per receiver, +-2 per member allowed for tick boundaries.
 *    The bridge's mixing clock (setInterval(20)) runs slightly slow, which
 *    alone can push a run over 0.5 %; the sweep therefore goes on while
 *    that is the only fault, and reports both figures.
 * Both processes' CPU (bench: process.cpuUsage; bridge: /proc/<pid>/stat)
 * is measured over the counted window so the limiting side shows, and the
 * bridge's leg counters (GET /status at the end) against the members' say
 * on which hop packets were dropped.
 */
import { cpus, loadavg } from 'node:os';
import { markerFor, probePayload, SAMPLES_PER_PACKET } from '@imslab/probe';
import { buildRtp, rtpSequence, rtpSsrc, seqDistance } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import type { ConferenceMode, ConferenceServerConfig } from '../src/config.ts';
import { contextFromCryptoLine, Member, newSdesKey, SUITE, type PeerCall } from '../test/member.ts';
import { BridgeProcess, hostCpuSeconds, killAllBridges } from './bridge-process.ts';

/** Options of {@link runConferenceBench}. */
export interface ConferenceBenchOptions {
  /** Largest conference tried (default 64, at most 250). */
  maxMembers?: number;
  /** Counted seconds per run, after 1 s of warm-up (default 5). */
  seconds?: number;
  /** Modes to measure (default both). */
  modes?: ConferenceMode[];
  /** Called with each finished run (progress). */
  onRun?: (r: ConferenceBenchRun) => void;
}

/** One conference size in one mode. Packet counts are over the counted window, summed over all members. */
export interface ConferenceBenchRun {
  members: number;
  mode: ConferenceMode;
  /** SRTP packets the members sent to the bridge. */
  sent: number;
  /** Packets the members should have received. */
  expected: number;
  /** Packets received that decrypted (e2e: sent inside the window, arrived within the 200 ms playout deadline; e2m2e: arrived inside the window). */
  received: number;
  /**
   * e2e: packets that decrypted but arrived more than 200 ms after their
   * scheduled send (too late for any jitter buffer): counted as lost. Without
   * this a saturated bench shows no loss, only seconds of queueing in its
   * receive buffers.
   */
  tooLate: number;
  /** Missing packets (too late ones included) beyond the tolerance (e2m2e: 2 per member), % of expected. */
  lostPct: number;
  /** SRTP authentication failures at the members plus at the bridge (e2m2e legs), whole run. */
  authFailed: number;
  /** Other refusals at the members (replays, unknown sender, own packets): should be 0. */
  otherRefused: number;
  /** Bridge process CPU, % of one core. */
  bridgeCpuPct: number;
  /** Bench process (all members) CPU, % of one core (V8's helper threads can take it past 100). */
  benchCpuPct: number;
  /** All processes on the host, % of one core (up to 100 x cores): shows load from elsewhere. */
  hostBusyPct: number;
  /**
   * Where packets were lost, whole run (warm-up included), from the bridge's
   * leg counters (GET /status once all is quiet) against the members' own:
   * toBridge = sent by members, never read by the bridge (its socket
   * buffers overflowed: the bridge could not keep up); fromBridge = sent by
   * the bridge, never read by a member (the members' 4 MB buffers
   * overflowed: the bench could not keep up). % of the packets on that hop.
   */
  toBridgeLossPct: number;
  fromBridgeLossPct: number;
  /** e2m2e: mixed packets per second the bridge sent each member in the window (nominal 50; from the RTP sequence numbers). */
  mixRate: number | null;
  /** e2e: one-way delay from a packet's scheduled send to its receipt, 99th percentile and maximum (ms). */
  delayP99Ms: number | null;
  delayMaxMs: number | null;
  /** Worst lateness of a member's send against its schedule in the window (ms). */
  maxSendLateMs: number;
  /** Loss <= 0.5 % and no authentication failure. */
  clean: boolean;
  /**
   * e2m2e: clean apart from the bridge's mixing clock, i.e. no loss on either
   * hop, no authentication failure and a mix rate of at least 95 % of
   * nominal (the bridge's setInterval runs a little slow even when idle).
   */
  cleanExceptMixClock: boolean | null;
}

/** Result of one mode. */
export interface ConferenceBenchModeResult {
  /** Largest clean conference (0 when even the smallest lost packets). */
  maxCleanMembers: number;
  /**
   * e2m2e only: largest conference clean apart from the mixing clock (the
   * sweep goes on past sizes whose only fault is a slow mixing clock).
   */
  maxCleanMembersExceptMixClock: number | null;
  /** Which side limited: the bridge, the bench, both (the host's cores were full), none (maxMembers reached clean), unclear. */
  limitedBy: 'bridge' | 'bench' | 'both' | 'none' | 'unclear';
  /** One line saying why limitedBy. */
  limitNote: string;
  /**
   * Conference size at which each process would need a whole core,
   * extrapolated from its CPU per packet in the most loaded clean run where
   * it was below 80 % (e2e: each side handles N^2 x 50 packets/s; e2m2e:
   * 2N x 50). A reference, not a measurement; null without such a run.
   */
  estimatedCoreLimit: { bridge: number | null; bench: number | null };
  runs: ConferenceBenchRun[];
}

export interface ConferenceBenchResult {
  e2e: ConferenceBenchModeResult;
  e2m2e: ConferenceBenchModeResult;
  seconds: number;
  cores: number;
  /** 1-minute load average before the first run (other work on the host skews the figures). */
  loadBefore: number;
}
const DOMAIN = 'ims.test';
const BRIDGE_ADDRESS = '127.0.14.1';
/** Members bind 127.0.14.<MEMBER_BASE + i>. */
const MEMBER_BASE = 2;
const SIP_PORT = 5060;
const CONTROL_PORT = 18080;
const RTP_PORT_MIN = 32000;
const CONFERENCE = 'conf-bench';
const PTIME_MS = 20;
const PACKETS_PER_SECOND = 1000 / PTIME_MS;
const WARMUP_S = 1;
const MAX_LOSS_PCT = 0.5;
/** e2e: a packet later than this after its scheduled send counts as lost. */
const PLAYOUT_DEADLINE_MS = 200;
/** e2m2e: per-receiver allowance for mixer ticks at the window's edges. */
const TICK_TOLERANCE = 2;
/** Members' receive buffers: large, so a pause (GC) in the bench loses nothing; e2e lateness is judged by the playout deadline. */
const MEMBER_RCVBUF = 4 * 1024 * 1024;
const SIZES = [3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 250];
const SATURATED_PCT = 85;
/** e2m2e: mix rate (fraction of 50/s) below which the bridge counts as lagging, not just its clock running slow. */
const MIN_MIX_RATE = 0.95;

interface BenchMember {
  index: number;
  uri: string;
  peer: Member;
  call: PeerCall;
  bridge: { address: string; port: number };
  tx: SrtpContext;
  rx: SrtpContext;
  ssrc: number;
  seq0: number;
  ts0: number;
  payload: Buffer;
  /** Datagrams that arrived, whole run. */
  datagrams: number;
  /** Decrypted and counted (window). */
  received: number;
  /** e2e: decrypted in the window but after the playout deadline. */
  tooLate: number;
  authFailed: number;
  otherRefused: number;
  /** e2m2e: extended sequence numbers of the bridge's packets in the window. */
  seqExt: number;
  seqLast: number;
  seqMin: number;
  seqMax: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sizesUpTo(max: number): number[] {
  const s = SIZES.filter((n) => n <= max);
  if (s[s.length - 1] !== max) s.push(max);
  return s;
}

function configFor(mode: ConferenceMode, n: number): ConferenceServerConfig {
  return {
    name: 'conference-bench',
    address: BRIDGE_ADDRESS,
    sipPort: SIP_PORT,
    controlPort: CONTROL_PORT,
    domain: DOMAIN,
    rtpPortMin: RTP_PORT_MIN,
    rtpPortMax: RTP_PORT_MIN + 2 * n + 20,
    conferences: [{ user: CONFERENCE, mode, members: Array.from({ length: n }, (_, i) => `sip:m${i + 1}@${DOMAIN}`) }],
  };
}

function distinctRandom32(n: number): number[] {
  const s = new Set<number>();
  while (s.size < n) s.add(Math.floor(Math.random() * 0x100000000) >>> 0);
  return [...s];
}

/** Opens and joins N members (in batches, each waiting for its 200 and sending the ACK). */
async function join(mode: ConferenceMode, n: number, peers: Member[]): Promise<BenchMember[]> {
  const group = mode === 'e2e' ? splitKeySalt(SUITE, generateKeySalt(SUITE)) : undefined;
  const ssrcs = distinctRandom32(n);
  const members: BenchMember[] = [];
  const uri = `sip:${CONFERENCE}@${DOMAIN}`;
  const one = async (i: number): Promise<BenchMember> => {
    const peer = await Member.open(`127.0.14.${MEMBER_BASE + i}`, { address: BRIDGE_ADDRESS, port: SIP_PORT });
    peers.push(peer);
    // The helper keeps every datagram; the bench counts instead.
    peer.rtp.socket.removeAllListeners('message');
    peer.rtp.socket.setRecvBufferSize(MEMBER_RCVBUF);
    const identity = `sip:m${i + 1}@${DOMAIN}`;
    const key = mode === 'e2m2e' ? newSdesKey(1) : undefined;
    const call = await peer.invite(uri, identity, peer.offerSdp(key ? { crypto: [key.line] } : {}));
    if (call.response.status !== 200 || !call.answer) throw new Error(`${identity} could not join ${CONFERENCE} (${mode}): ${call.response.status} ${call.response.reason}`);
    let tx: SrtpContext;
    let rx: SrtpContext;
    if (group) {
      tx = new SrtpContext({ profile: SUITE, ...group });
      rx = new SrtpContext({ profile: SUITE, ...group });
    } else {
      const answer = call.answer.crypto[0];
      if (!answer) throw new Error(`${identity}: the e2m2e answer has no a=crypto`);
      tx = contextFromCryptoLine(key!.line);
      rx = contextFromCryptoLine(answer);
    }
    return {
      index: i,
      uri: identity,
      peer,
      call,
      bridge: { address: call.answer.address, port: call.answer.port },
      tx,
      rx,
      ssrc: ssrcs[i]!,
      seq0: Math.floor(Math.random() * 0x8000),
      ts0: Math.floor(Math.random() * 0x10000000),
      // The probe tone has a period of 8 samples, so every packet of a member carries the same payload: built once.
      payload: probePayload(markerFor(call.callId, 'orig'), 0),
      datagrams: 0,
      received: 0,
      tooLate: 0,
      authFailed: 0,
      otherRefused: 0,
      seqExt: 0,
      seqLast: -1,
      seqMin: Infinity,
      seqMax: -Infinity,
    };
  };
  const BATCH = 8;
  for (let i = 0; i < n; i += BATCH) members.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => one(i + j)))));
  return members;
}

interface Snapshot {
  t: number;
  bench: NodeJS.CpuUsage;
  bridge: number;
  host: { busy: number; total: number };
}

function snapshot(bridge: BridgeProcess): Snapshot {
  return { t: performance.now(), bench: process.cpuUsage(), bridge: bridge.cpuSeconds(), host: hostCpuSeconds() };
}

/** Delay histogram in 1 ms bins (the last bin takes everything later). */
class DelayHistogram {
  private readonly bins = new Uint32Array(10_001);
  private n = 0;
  max = 0;

  add(ms: number): void {
    const b = Math.min(this.bins.length - 1, Math.max(0, Math.floor(ms)));
    this.bins[b]!++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }

  quantile(q: number): number {
    if (this.n === 0) return NaN;
    let need = Math.ceil(q * this.n);
    for (let b = 0; b < this.bins.length; b++) {
      need -= this.bins[b]!;
      if (need <= 0) return b + 1;
    }
    return this.bins.length;
  }
}

/** One conference of `n` members in `mode` against a fresh bridge process. */
async function runOnce(mode: ConferenceMode, n: number, seconds: number): Promise<ConferenceBenchRun> {
  const bridge = await BridgeProcess.start(configFor(mode, n));
  const peers: Member[] = [];
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  try {
    const members = await join(mode, n, peers);
    const bySsrc = new Map(members.map((m) => [m.ssrc, m]));
    const warm = WARMUP_S * PACKETS_PER_SECOND;
    const counted = seconds * PACKETS_PER_SECOND;
    const perMember = warm + counted;
    const period = PTIME_MS / n;
    const t0 = performance.now() + 50;
    const wStart = t0 + WARMUP_S * 1000;
    const wEnd = wStart + seconds * 1000;
    const delays = new DelayHistogram();
    let lastRx = performance.now();

    for (const m of members) {
      m.peer.rtp.socket.on('message', (data: Buffer) => {
        const now = performance.now();
        lastRx = now;
        m.datagrams++;
        const r = m.rx.unprotectRtp(data);
        if (!r.ok) {
          if (r.reason === 'auth-failed') m.authFailed++;
          else m.otherRefused++;
          return;
        }
        const seq = rtpSequence(data);
        if (mode === 'e2e') {
          const from = bySsrc.get(rtpSsrc(data));
          if (!from || from === m) {
            m.otherRefused++;
            return;
          }
          const k = (seq - from.seq0) & 0xffff;
          if (k >= warm && k < perMember) {
            const delay = now - (t0 + (k * n + from.index) * period);
            delays.add(delay);
            if (delay <= PLAYOUT_DEADLINE_MS) m.received++;
            else m.tooLate++;
          }
          return;
        }
        // e2m2e: the bridge's own sequence numbers, extended, say how many packets it sent in the window.
        m.seqExt = m.seqLast < 0 ? seq : m.seqExt + seqDistance(m.seqLast, seq);
        m.seqLast = seq;
        if (now >= wStart && now < wEnd) {
          m.received++;
          if (m.seqExt < m.seqMin) m.seqMin = m.seqExt;
          if (m.seqExt > m.seqMax) m.seqMax = m.seqExt;
        }
      });
    }

    // One timer loop for everybody: slot s is member s % n's packet floor(s / n), due at t0 + s * period.
    let maxLate = 0;
    const total = n * perMember;
    let start: Snapshot | undefined;
    let end: Snapshot | undefined;
    timers.push(setTimeout(() => (start = snapshot(bridge)), wStart - performance.now()));
    timers.push(setTimeout(() => (end = snapshot(bridge)), wEnd - performance.now()));
    await new Promise<void>((resolve, reject) => {
      let s = 0;
      const loop = () => {
        try {
          const now = performance.now();
          while (s < total) {
            const due = t0 + s * period;
            if (due > now) break;
            const m = members[s % n]!;
            const k = Math.floor(s / n);
            if (k >= warm && now - due > maxLate) maxLate = now - due;
            const pkt = m.tx.protectRtp(buildRtp({ payloadType: 0, sequence: m.seq0 + k, timestamp: m.ts0 + k * SAMPLES_PER_PACKET, ssrc: m.ssrc }, m.payload));
            // Not awaited: one timer loop sends for everybody, on schedule.
            m.peer.rtp.socket.send(pkt, m.bridge.port, m.bridge.address);
            s++;
          }
          if (s < total) timers.push(setTimeout(loop, Math.max(0, t0 + s * period - performance.now())));
          else resolve();
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      timers.push(setTimeout(loop, Math.max(0, t0 - performance.now())));
    });
    // The last slot is due one slot period before the window's end: wait for the end snapshot.
    while (!end) await sleep(Math.max(1, wEnd - performance.now()));
    // Let what is in flight (or queued for a busy receiver) arrive: until 150 ms without a packet, at most 5 s.
    const settleEnd = performance.now() + 5000;
    await sleep(150);
    while (performance.now() - lastRx < 150 && performance.now() < settleEnd) await sleep(50);
    if (!start) throw new Error('the window start snapshot was not taken');

    const legs = await bridge.legs(CONFERENCE);
    let bridgeRx = 0;
    let bridgeTx = 0;
    let authFailed = 0;
    for (const l of legs) {
      bridgeRx += l.rxPackets;
      bridgeTx += l.txPackets;
      authFailed += l.rxAuthFailed;
    }
    const wall = (end.t - start.t) / 1000;
    const benchCpu = (end.bench.user - start.bench.user + end.bench.system - start.bench.system) / 1e6;

    const perReceiver = mode === 'e2e' ? (n - 1) * counted : counted;
    const tolerance = mode === 'e2e' ? 0 : TICK_TOLERANCE;
    let lost = 0;
    let received = 0;
    let datagrams = 0;
    let otherRefused = 0;
    let tooLate = 0;
    let spans = 0;
    for (const m of members) {
      received += m.received;
      datagrams += m.datagrams;
      lost += Math.max(0, perReceiver - m.received - tolerance);
      authFailed += m.authFailed;
      otherRefused += m.otherRefused;
      tooLate += m.tooLate;
      if (m.seqMax >= m.seqMin) spans += m.seqMax - m.seqMin + 1;
    }
    const expected = n * perReceiver;
    const lostPct = (100 * lost) / expected;
    const sentWholeRun = n * perMember;
    const toBridgeLossPct = (100 * Math.max(0, sentWholeRun - bridgeRx)) / sentWholeRun;
    const fromBridgeLossPct = bridgeTx > 0 ? (100 * Math.max(0, bridgeTx - datagrams)) / bridgeTx : 0;
    const mixRate = mode === 'e2m2e' ? spans / n / seconds : null;
    return {
      members: n,
      mode,
      sent: n * counted,
      expected,
      received,
      tooLate,
      lostPct,
      authFailed,
      otherRefused,
      bridgeCpuPct: (100 * (end.bridge - start.bridge)) / wall,
      benchCpuPct: (100 * benchCpu) / wall,
      hostBusyPct: (100 * (end.host.busy - start.host.busy)) / wall,
      toBridgeLossPct,
      fromBridgeLossPct,
      mixRate,
      delayP99Ms: mode === 'e2e' ? delays.quantile(0.99) : null,
      delayMaxMs: mode === 'e2e' ? delays.max : null,
      maxSendLateMs: maxLate,
      clean: lostPct <= MAX_LOSS_PCT && authFailed === 0,
      cleanExceptMixClock:
        mode === 'e2m2e'
          ? authFailed === 0 && toBridgeLossPct + fromBridgeLossPct <= MAX_LOSS_PCT && (mixRate ?? 0) >= MIN_MIX_RATE * PACKETS_PER_SECOND
          : null,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(peers.map((p) => p.close()));
    await bridge.stop();
  }
}

function limitOf(mode: ConferenceMode, runs: ConferenceBenchRun[], maxMembers: number): Pick<ConferenceBenchModeResult, 'limitedBy' | 'limitNote'> {
  // e2m2e: a slow mixing clock alone makes every size unclean; the limit is where more than the clock went wrong.
  const bad = mode === 'e2m2e' ? runs.find((r) => !r.cleanExceptMixClock) : runs.find((r) => !r.clean);
  const clockNote =
    mode === 'e2m2e' && runs.some((r) => !r.clean && r.cleanExceptMixClock)
      ? `; the bridge's mixing clock alone loses audio at every size: ${runs.map((r) => `N=${r.members} ${r.mixRate?.toFixed(1)}/s`).slice(0, 3).join(', ')} instead of 50/s (setInterval(20) re-armed from each late tick; input over MAX_QUEUE is dropped)`
      : '';
  if (!bad) return { limitedBy: mode === 'e2m2e' && clockNote ? 'bridge' : 'none', limitNote: `no overload up to maxMembers = ${maxMembers}${clockNote}` };
  const why =
    `N=${bad.members}: lost ${bad.lostPct.toFixed(2)} % (${bad.tooLate} packets too late; to the bridge ${bad.toBridgeLossPct.toFixed(2)} %, from it ${bad.fromBridgeLossPct.toFixed(2)} %), ${bad.authFailed} auth failures; ` +
    `bridge CPU ${bad.bridgeCpuPct.toFixed(0)} %, bench CPU ${bad.benchCpuPct.toFixed(0)} % of a core, host ${bad.hostBusyPct.toFixed(0)} % of ${100 * cpus().length}`;
  const bridgeSat = bad.bridgeCpuPct >= SATURATED_PCT;
  const benchSat = bad.benchCpuPct >= SATURATED_PCT;
  const toB = bad.toBridgeLossPct > MAX_LOSS_PCT / 2;
  const fromB = bad.fromBridgeLossPct > MAX_LOSS_PCT / 2;
  if (bad.authFailed > 0) return { limitedBy: 'unclear', limitNote: `${why}: authentication failures are a fault, not a capacity limit${clockNote}` };
  if (bridgeSat && benchSat) {
    return { limitedBy: 'both', limitNote: `${why}: both processes saturated a core each (the host has ${cpus().length}); packets dropped ${toB && fromB ? 'at both' : toB ? "at the bridge's sockets" : fromB ? "at the members' sockets" : 'nowhere measurable'}${clockNote}` };
  }
  if (toB || (bridgeSat && !fromB)) return { limitedBy: 'bridge', limitNote: `${why}: the bridge could not keep up${clockNote}` };
  if (fromB || benchSat) return { limitedBy: 'bench', limitNote: `${why}: the bench could not keep up${clockNote}` };
  if (mode === 'e2m2e' && (bad.mixRate ?? 0) < MIN_MIX_RATE * PACKETS_PER_SECOND) {
    return { limitedBy: 'bridge', limitNote: `${why}: the bridge mixed only ${bad.mixRate?.toFixed(1)} packets/s per member${clockNote}` };
  }
  return { limitedBy: 'unclear', limitNote: `${why}: no side saturated and no hop lost packets${clockNote}` };
}

function coreLimit(mode: ConferenceMode, runs: ConferenceBenchRun[]): ConferenceBenchModeResult['estimatedCoreLimit'] {
  // Packets per second each side handles (sent + received) as a function of N.
  const pps = (n: number) => (mode === 'e2e' ? n * n * PACKETS_PER_SECOND : 2 * n * PACKETS_PER_SECOND);
  const ok = (r: ConferenceBenchRun) => (mode === 'e2e' ? r.clean : !!r.cleanExceptMixClock);
  const at = (cpu: (r: ConferenceBenchRun) => number): number | null => {
    const r = runs.filter((x) => ok(x) && cpu(x) < 80).pop();
    if (!r) return null;
    const perPacket = cpu(r) / 100 / pps(r.members);
    if (!(perPacket > 0)) return null;
    return mode === 'e2e' ? Math.floor(Math.sqrt(1 / perPacket / PACKETS_PER_SECOND)) : Math.floor(1 / perPacket / (2 * PACKETS_PER_SECOND));
  };
  return { bridge: at((r) => r.bridgeCpuPct), bench: at((r) => r.benchCpuPct) };
}

async function runMode(mode: ConferenceMode, maxMembers: number, seconds: number, onRun?: (r: ConferenceBenchRun) => void): Promise<ConferenceBenchModeResult> {
  const runs: ConferenceBenchRun[] = [];
  let maxCleanMembers = 0;
  let exceptClock = 0;
  let strictDone = false;
  for (const n of sizesUpTo(maxMembers)) {
    const r = await runOnce(mode, n, seconds);
    runs.push(r);
    onRun?.(r);
    if (r.clean && !strictDone) maxCleanMembers = n;
    else strictDone = true;
    if (mode === 'e2e') {
      if (!r.clean) break;
    } else {
      // Go on while the only fault is the slow mixing clock (it does not depend on N).
      if (!r.cleanExceptMixClock) break;
      exceptClock = n;
    }
  }
  return { maxCleanMembers, maxCleanMembersExceptMixClock: mode === 'e2m2e' ? exceptClock : null, ...limitOf(mode, runs, maxMembers), estimatedCoreLimit: coreLimit(mode, runs), runs };
}

function emptyMode(): ConferenceBenchModeResult {
  return { maxCleanMembers: 0, maxCleanMembersExceptMixClock: null, limitedBy: 'unclear', limitNote: 'not measured', estimatedCoreLimit: { bridge: null, bench: null }, runs: [] };
}

/**
 * Runs the benchmark (both modes, conference sizes 3, 4, 6, ... up to
 * maxMembers, stopping a mode at its first unclean size; e2m2e goes on
 * past sizes whose only fault is the bridge's slow mixing clock); prints nothing.
 * Uses 127.0.14.1 (bridge: SIP 5060, control 18080, RTP 32000+) and
 * 127.0.14.2.. (members). Bridge processes are always stopped.
 */
export async function runConferenceBench(o: ConferenceBenchOptions = {}): Promise<ConferenceBenchResult> {
  const maxMembers = o.maxMembers ?? 64;
  const seconds = o.seconds ?? 5;
  if (!Number.isInteger(maxMembers) || maxMembers < 3 || maxMembers > 250) throw new Error(`maxMembers must be an integer from 3 to 250, got ${maxMembers}`);
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`seconds must be a whole number >= 1, got ${seconds}`);
  const modes = o.modes ?? ['e2e', 'e2m2e'];
  const loadBefore = loadavg()[0] ?? NaN;
  const result: ConferenceBenchResult = { e2e: emptyMode(), e2m2e: emptyMode(), seconds, cores: cpus().length, loadBefore };
  for (const mode of modes) result[mode] = await runMode(mode, maxMembers, seconds, o.onRun);
  return result;
}

const f0 = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(0) : '-');
const f2 = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(2) : '-');

export function formatRunHeader(): string {
  return 'mode   members    sent expected received  late lost % authFail bridgeCPU% benchCPU% host% loss>bridge% loss>members% mix/s delay p99/max ms sendLate ms clean';
}

export function formatRun(r: ConferenceBenchRun): string {
  return [
    r.mode.padEnd(6),
    String(r.members).padStart(7),
    String(r.sent).padStart(7),
    String(r.expected).padStart(8),
    String(r.received).padStart(8),
    String(r.tooLate).padStart(5),
    r.lostPct.toFixed(2).padStart(6),
    String(r.authFailed + r.otherRefused).padStart(8),
    f0(r.bridgeCpuPct).padStart(10),
    f0(r.benchCpuPct).padStart(9),
    f0(r.hostBusyPct).padStart(5),
    f2(r.toBridgeLossPct).padStart(12),
    f2(r.fromBridgeLossPct).padStart(13),
    (r.mixRate === null ? '-' : r.mixRate.toFixed(1)).padStart(5),
    `${f0(r.delayP99Ms)}/${f0(r.delayMaxMs)}`.padStart(16),
    r.maxSendLateMs.toFixed(0).padStart(11),
    r.clean ? ' yes' : r.cleanExceptMixClock ? ' no (mix clock only)' : ' NO',
  ].join(' ');
}

// `tsx services/conference/bench/conference-bench.ts [maxMembers] [seconds]` prints the table.
if (import.meta.url === `file://${process.argv[1]}`) {
  const stop = (sig: string) => {
    killAllBridges();
    process.stderr.write(`conference-bench: ${sig}, bridge stopped\n`);
    process.exit(130);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const arg = (i: number) => (process.argv[i] !== undefined ? Number(process.argv[i]) : undefined);
  const t0 = performance.now();
  console.log(formatRunHeader());
  try {
    const r = await runConferenceBench({ maxMembers: arg(2), seconds: arg(3), onRun: (x) => console.log(formatRun(x)) });
    console.log(`\n${r.cores} cores, load average before ${r.loadBefore.toFixed(2)}, ${r.seconds} s counted per run, total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    for (const mode of ['e2e', 'e2m2e'] as const) {
      const m = r[mode];
      if (m.runs.length === 0) continue;
      const est = `; one core would be full at about N=${m.estimatedCoreLimit.bridge ?? '?'} (bridge) / N=${m.estimatedCoreLimit.bench ?? '?'} (bench)`;
      const except = m.maxCleanMembersExceptMixClock !== null ? ` (${m.maxCleanMembersExceptMixClock} apart from the mixing clock)` : '';
      console.log(`${mode}: largest clean conference ${m.maxCleanMembers} members${except}; limited by ${m.limitedBy}: ${m.limitNote}${est}`);
    }
  } catch (e) {
    killAllBridges();
    console.error(`conference-bench: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
}
