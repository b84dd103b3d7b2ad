import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { findMarker, type ProbeMediaType } from '@imslab/probe';
import { buildSenderReport, demuxRtpRtcp, RtpHeaderView } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { contextOptions, type MkiKeySource, type SrtpKey } from './media-security.ts';
import { MkiReceiver } from './mki-receiver.ts';
import type { PortAllocator } from './port-allocator.ts';
import { probeSource, type ProbeSource } from './probe-source.ts';
import { emptyMediaCounters, type MediaCounters } from './call-status.ts';

/** Packet interval of the audio probe stream (a=ptime:20); video and text have their own (probe-source.ts). */
export const PACKET_INTERVAL_MS = 20;
/** RTCP sender report interval. */
export const RTCP_INTERVAL_MS = 5000;
const MAX_MARKERS_KEPT = 32;
/** Packets sent back-to-back at most when the event loop was late, before re-anchoring the schedule. */
const MAX_CATCH_UP = 5;
/**
 * After the receive key changes (re-INVITE), packets under the previous key
 * are still accepted this long, or until the first packet verifies under the
 * new key: the peer switches when it sees the 2xx/ACK.
 */
export const RX_KEY_GRACE_MS = 3000;
/**
 * After a switch from plaintext to SRTP (TR 33.828 4.1.1, security switched
 * on mid-call), plaintext is accepted at most this long, and only while it
 * continues the peer's plaintext stream (see PLAINTEXT_MAX_SEQ_GAP). The
 * peer switches one transit after us (the 2xx or the ACK reaching it); 2*T1
 * (RFC 3261 sec. 17.1.1.1, T1 = 500 ms, the round-trip estimate and the
 * first 2xx retransmission interval, sec. 13.3.1.4) also covers one lost
 * 2xx or ACK. Beyond it any plaintext is an injection (issue 13), never
 * media of a call that asked for protection.
 */
export const PLAINTEXT_GRACE_MS = 1000;
/**
 * How far ahead of the last plaintext packet accepted a plaintext packet in
 * that grace may be (RTP sequence numbers, modulo 2^16): 1 is the next
 * packet; the rest allows packets lost in the crossing (PLAINTEXT_GRACE_MS
 * of 20 ms packets is 50; 32 is over half a second of loss). A duplicate or
 * an older number is refused (RFC 3550 A.1 orders the stream by it).
 */
export const PLAINTEXT_MAX_SEQ_GAP = 32;
/**
 * Receive keys kept besides the current one (a conference's group re-key,
 * {@link MediaSession.addRxKey}), the newest ones: in phase one of a re-key
 * the previous key and the next one (handed out, not yet sent under); after
 * we switched, the previous two. A lossless rollover needs an old key only
 * until every sender switched, and the next one only until we switch to it;
 * two cover one re-key with a margin for a second one right after. Older
 * keys are dropped, oldest first: nothing under them is decrypted again, and
 * memory and the work per failed packet stay bounded however many re-keys.
 */
export const MAX_EXTRA_RX_KEYS = 2;
/**
 * Dropped receive keys still recognised (never decrypted for use): a packet
 * that authenticates under one is counted as rxUnknownKey, like a packet whose
 * MKI names no key we hold, rather than as a forgery. Beyond these, a packet
 * under a long-dropped key cannot be told from a forged one (no MKI names its
 * key) and counts as rxAuthFailed.
 */
export const DROPPED_RX_KEYS_RECOGNISED = 2;

/** What to send, where, and with which keys; may change on re-INVITE. */
export interface MediaPlan {
  remote: { address: string; port: number };
  txMarker: string;
  expectedRxMarker: string;
  /** Our key (SRTP) or null (RTP). */
  tx: SrtpKey | null;
  /** The peer's key (SRTP) or null (RTP). */
  rx: SrtpKey | null;
  /** Receive keys named by each packet's MKI (PoC group keys); replaces `rx` when set. */
  rxByMki?: MkiKeySource;
  /** False: receive only (a recvonly stream); nothing is sent. */
  send?: boolean;
  /** Relayed group media (SecurityOutcome.lateJoin): receive contexts guess a new SSRC's ROC. */
  lateJoin?: boolean;
}

/** A receive key's context, named by its key||salt (base64). */
interface RxKeyContext {
  keySalt: string;
  ctx: SrtpContext;
}


/** How early a packet may go so that it shares a wake-up with others (its RTP timestamp is unchanged). */
const COALESCE_MS = 4;

/**
 * One timer for every media session of the process. Each session keeps its
 * own drift-free schedule; the pacer wakes at the earliest due time and lets
 * every session send what is due within COALESCE_MS of it. A UE carrying
 * many calls woke 50 times a second per call with a timer per session (the
 * call-load bench found that most of a busy UE's CPU); now at most about
 * 1000 / COALESCE_MS times a second, and 50 for a single call.
 */
class Pacer {
  private readonly sessions = new Set<(now: number, horizon: number) => number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  add(pace: (now: number, horizon: number) => number): void {
    this.sessions.add(pace);
    // A new session's first packet is due now.
    this.run();
  }

  delete(pace: (now: number, horizon: number) => number): void {
    this.sessions.delete(pace);
    if (this.sessions.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly run = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const pace of this.sessions) next = Math.min(next, pace(now, now + COALESCE_MS));
    if (next !== Infinity) this.timer = setTimeout(this.run, Math.max(0, next - COALESCE_MS - performance.now()));
  };
}
const PACER = new Pacer();

/**
 * One call's media: an RTP socket on an even port of the media range, a
 * 20 ms probe sender on a drift-free schedule (due times computed from the
 * start, not accumulated setInterval delays; woken by the shared pacer), a receiver that unprotects,
 * counts and checks markers, and latches onto whatever source sends to it.
 */
export class MediaSession {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  /** What this session sends: audio, video or text probe packets. */
  private readonly source: ProbeSource;
  private plan: MediaPlan | undefined;
  private txCtx: SrtpContext | undefined;
  private rxCtx: SrtpContext | undefined;
  /** More receive keys tried after the current one (a group re-key), oldest first; at most MAX_EXTRA_RX_KEYS. */
  private readonly extraRx: RxKeyContext[] = [];
  /** Receive keys dropped from extraRx, oldest first, only to count packets under them (rxUnknownKey); at most DROPPED_RX_KEYS_RECOGNISED. */
  private readonly droppedRx: RxKeyContext[] = [];
  /** Receive side when packets name their key by MKI (PoC group keys). */
  private mkiRx: MkiReceiver | undefined;
  /** Called once per new receive key found by MKI (the call logs it). */
  onNewRxKey: ((key: SrtpKey, ssrc: number) => void) | undefined;
  /** The previous receive context (null = plaintext) while the peer may still use it. */
  private graceRx: { ctx: SrtpContext | null; until: number } | undefined;
  /** The last plaintext packet accepted (the peer's stream before a switch to SRTP): only its continuation is accepted in the grace. */
  private lastPlain: { ssrc: number; seq: number } | undefined;
  private pacing = false;
  /** Milliseconds between sends (the source's). */
  private readonly interval: number;
  private rtcpTimer: ReturnType<typeof setInterval> | undefined;
  private startAt = 0;
  private packetIndex = 0;
  private closed = false;
  private txOctets = 0;
  private firstRxSsrc: number | undefined;
  /** Reused for every received packet: reading its header allocates nothing. */
  private readonly rxView = new RtpHeaderView();
  private readonly markers = new Set<string>();
  readonly counters: MediaCounters = emptyMediaCounters();
  /** Called once with the SSRC of the first valid incoming packet (the key log records it). */
  onFirstRxSsrc: ((ssrc: number) => void) | undefined;
  /**
   * When set, the probe goes out only while it returns true: a PoC member
   * sends only while it holds the floor (the floor client decides).
   */
  talkGate: (() => boolean) | undefined;
  /** Datagrams arriving on the RTCP port (a PoC member's floor control); unset: ignored. */
  onRtcp: ((msg: Buffer) => void) | undefined;
  /** A key of its own for our RTCP (a PoC member's client-server key), instead of the media key. */
  private rtcpTxCtx: SrtpContext | undefined;

  private constructor(
    readonly address: string,
    readonly localPort: number,
    private readonly rtp: Socket,
    private readonly rtcp: Socket | null,
    private readonly allocator: PortAllocator,
    readonly mediaType: ProbeMediaType,
    firstSequence: number | undefined,
  ) {
    this.source = probeSource(mediaType, this.ssrc, firstSequence);
    this.interval = this.source.intervalMs;
    rtp.on('message', (msg, rinfo) => this.receive(msg, `${rinfo.address}:${rinfo.port}`));
    rtp.on('error', () => undefined);
    rtcp?.on('message', (msg) => {
      if (!this.closed) this.onRtcp?.(msg);
    });
    rtcp?.on('error', () => undefined);
  }

  /** Binds a socket pair from the allocator for a stream of `mediaType` (default audio). */
  static async open(address: string, allocator: PortAllocator, mediaType: ProbeMediaType = 'audio', firstSequence?: number): Promise<MediaSession> {
    const { port, rtp, rtcp } = await allocator.allocate();
    return new MediaSession(address, port, rtp, rtcp, allocator, mediaType, firstSequence);
  }

  get local(): string {
    return `${this.address}:${this.localPort}`;
  }

  get remote(): string | null {
    return this.plan ? `${this.plan.remote.address}:${this.plan.remote.port}` : null;
  }

  /** The key we currently send with (null: RTP). */
  get txKey(): SrtpKey | null {
    return this.plan?.tx ?? null;
  }

  /** Switches both keys (a conference's group re-key); the old receive key stays accepted (see addRxKey). */
  setKeys(tx: SrtpKey | null, rx: SrtpKey | null): void {
    if (!this.plan) return;
    const old = this.plan.rx;
    const oldCtx = this.rxCtx;
    this.configure({ ...this.plan, tx, rx });
    // The old context itself (its replay window too), not a fresh one: a packet it accepted stays a replay.
    if (old && oldCtx && old.keySaltBase64 !== rx?.keySaltBase64) this.keepRx({ keySalt: old.keySaltBase64, ctx: oldCtx });
  }

  /**
   * Accepts packets under `key` too, after the current receive key failed: a
   * group re-key, where members switch their send key one after another. Only
   * the last MAX_EXTRA_RX_KEYS such keys are kept; older ones are dropped.
   */
  addRxKey(key: SrtpKey): void {
    if (this.extraRx.some((x) => x.keySalt === key.keySaltBase64) || this.plan?.rx?.keySaltBase64 === key.keySaltBase64) return;
    this.keepRx(this.takeRx(this.droppedRx, key.keySaltBase64) ?? { keySalt: key.keySaltBase64, ctx: new SrtpContext(contextOptions(key, this.plan?.lateJoin)) });
  }

  /** Adds a receive context to extraRx, dropping the oldest beyond MAX_EXTRA_RX_KEYS (kept a while only to be recognised). */
  private keepRx(x: RxKeyContext): void {
    if (this.extraRx.some((y) => y.keySalt === x.keySalt)) return;
    this.extraRx.push(x);
    while (this.extraRx.length > MAX_EXTRA_RX_KEYS) {
      this.droppedRx.push(this.extraRx.shift()!);
      if (this.droppedRx.length > DROPPED_RX_KEYS_RECOGNISED) this.droppedRx.shift();
    }
  }

  /** Removes and returns the context of `keySalt` from `list`, if there. */
  private takeRx(list: RxKeyContext[], keySalt: string): RxKeyContext | undefined {
    const i = list.findIndex((x) => x.keySalt === keySalt);
    return i < 0 ? undefined : list.splice(i, 1)[0];
  }

  /** Switches only the send key (the answerer of a re-INVITE, once the ACK arrived). */
  setTxKey(tx: SrtpKey | null): void {
    if (this.plan) this.configure({ ...this.plan, tx });
  }

  /** New receive keys may be held now (re-keying): MKIs that named no key are looked up again. */
  rxKeysChanged(): void {
    this.mkiRx?.retryUnknown();
  }

  /** Sets or replaces the plan (new contexts only when a key changed). */
  configure(plan: MediaPlan): void {
    if (plan.tx?.keySaltBase64 !== this.plan?.tx?.keySaltBase64) this.txCtx = plan.tx ? new SrtpContext(contextOptions(plan.tx)) : undefined;
    if (plan.rxByMki) {
      // Our send key is a key of the same group: its suite (the GMS's SP payload) places every member's MKI.
      if (plan.rxByMki !== this.plan?.rxByMki) this.mkiRx = new MkiReceiver(plan.rxByMki, (key, ssrc) => this.onNewRxKey?.(key, ssrc), plan.tx?.suite);
      this.plan = plan;
      return;
    }
    this.mkiRx = undefined;
    if (plan.rx?.keySaltBase64 !== this.plan?.rx?.keySaltBase64) {
      if (this.plan) this.graceRx = { ctx: this.rxCtx ?? null, until: performance.now() + (this.rxCtx ? RX_KEY_GRACE_MS : PLAINTEXT_GRACE_MS) };
      // A key accepted before (phase one of a re-key) keeps its context: what it accepted stays a replay.
      const held = plan.rx ? this.takeRx(this.extraRx, plan.rx.keySaltBase64) : undefined;
      this.rxCtx = held ? held.ctx : plan.rx ? new SrtpContext(contextOptions(plan.rx, plan.lateJoin)) : undefined;
      this.firstRxSsrc = undefined;
    }
    this.plan = plan;
  }

  /**
   * Protects our RTCP (reports and anything sent with {@link sendRtcp}) under
   * `key` rather than the media key: a PoC member's floor control goes to the
   * server, which holds the client-server key and never the group key.
   */
  setRtcpKey(key: SrtpKey): void {
    this.rtcpTxCtx = new SrtpContext(contextOptions(key));
  }

  /** Sends one RTCP packet (plain, protected here) to the peer's RTCP port; false when there is nowhere to send it. */
  sendRtcp(rtcp: Uint8Array): boolean {
    const plan = this.plan;
    if (!plan || this.closed || !this.rtcp) return false;
    const ctx = this.rtcpTxCtx ?? this.txCtx;
    const packet = ctx ? ctx.protectRtcp(rtcp) : Buffer.from(rtcp);
    this.rtcp.send(packet, plan.remote.port + 1, plan.remote.address, () => undefined);
    return true;
  }

  /** Starts the sender (every 20 ms for audio) and the 5 s RTCP reports (idempotent). */
  start(): void {
    if (this.pacing || this.closed) return;
    this.startAt = performance.now();
    this.packetIndex = 0;
    this.pacing = true;
    PACER.add(this.pace);
    this.rtcpTimer = setInterval(() => this.sendReport(), RTCP_INTERVAL_MS);
  }

  /** Stops sending and closes the sockets; counters stay readable. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    PACER.delete(this.pace);
    if (this.rtcpTimer !== undefined) clearInterval(this.rtcpTimer);
    try {
      this.rtp.close();
      this.rtcp?.close();
    } catch {
      // already closed
    }
    this.allocator.release(this.localPort);
  }

  /**
   * Sends every packet due by `horizon` (the pacer's: now plus its
   * coalescing window) and returns when the next one is due.
   */
  private pace = (now: number, horizon: number): number => {
    if (this.closed) return Infinity;
    let sent = 0;
    while (this.startAt + this.packetIndex * this.interval <= horizon && sent < MAX_CATCH_UP) {
      this.sendOne();
      sent++;
    }
    const due = this.startAt + this.packetIndex * this.interval;
    if (due <= now) {
      // Far behind (a stalled event loop): re-anchor instead of bursting.
      this.startAt = now - this.packetIndex * this.interval + this.interval;
    }
    return this.startAt + this.packetIndex * this.interval;
  };

  private sendOne(): void {
    const plan = this.plan;
    const index = this.packetIndex++;
    if (!plan || plan.send === false || (this.talkGate && !this.talkGate())) return;
    for (const plain of this.source.packets(index, plan.txMarker)) {
      const packet = this.txCtx ? this.txCtx.protectRtp(plain) : plain;
      this.counters.txPackets++;
      this.txOctets += plain.length - 12;
      this.rtp.send(packet, plan.remote.port, plan.remote.address, () => undefined);
    }
  }

  private sendReport(): void {
    const plan = this.plan;
    if (!plan || this.closed || !this.rtcp || plan.send === false) return;
    this.sendRtcp(buildSenderReport(this.ssrc, this.source.timestampAt(this.packetIndex), this.counters.txPackets, this.txOctets));
  }

  /**
   * The RTP packet inside `msg` under the current receive key, or under the
   * previous one during the grace after a key change; null (counted) when
   * neither accepts it.
   */
  private unprotect(msg: Buffer): Buffer | null {
    if (this.mkiRx) {
      const r = this.mkiRx.unprotect(msg);
      if (r.ok) return r.packet;
      if (r.reason === 'unknown-key') this.counters.rxUnknownKey++;
      else if (r.reason === 'auth-failed') this.counters.rxAuthFailed++;
      else if (r.reason === 'replayed' || r.reason === 'too-old') this.counters.rxReplayed++;
      else this.counters.rxMalformed++;
      return null;
    }
    const grace = this.graceRx && performance.now() <= this.graceRx.until ? this.graceRx : undefined;
    if (!grace) this.graceRx = undefined;
    if (!this.rxCtx) {
      if (grace?.ctx) {
        const old = grace.ctx.unprotectRtp(msg);
        if (old.ok) return old.packet;
      }
      // Only the stream we latched onto: plaintext injected into the call before the switch cannot become what the grace continues.
      const v = this.rxView;
      if (v.wrap(msg) === null && (this.firstRxSsrc === undefined || v.ssrc === this.firstRxSsrc)) this.notePlain(v.ssrc, v.sequence);
      return msg;
    }
    const r = this.rxCtx.unprotectRtp(msg);
    if (r.ok) {
      // The peer sends under the new key: plaintext is never accepted again.
      this.graceRx = undefined;
      this.lastPlain = undefined;
      return r.packet;
    }
    if (grace) {
      if (grace.ctx === null) {
        if (this.continuesPlaintext(msg)) return msg;
        // Plaintext that is not the peer's stream going on (another SSRC, a duplicate, a jump): injected.
        this.counters.rxAuthFailed++;
        return null;
      }
      const old = grace.ctx.unprotectRtp(msg);
      if (old.ok) return old.packet;
    }
    if (r.reason === 'auth-failed') {
      for (const x of this.extraRx) {
        const other = x.ctx.unprotectRtp(msg);
        if (other.ok) return other.packet;
      }
      // Under a key we dropped: counted like a packet naming no key we hold, and not delivered.
      for (const x of this.droppedRx) {
        if (x.ctx.unprotectRtp(msg).ok) {
          this.counters.rxUnknownKey++;
          return null;
        }
      }
    }
    if (r.reason === 'auth-failed') this.counters.rxAuthFailed++;
    else if (r.reason === 'replayed' || r.reason === 'too-old') this.counters.rxReplayed++;
    else this.counters.rxMalformed++;
    return null;
  }

  /** True (and remembered) when `msg` is the next plaintext packet of the stream last accepted in the clear, at most PLAINTEXT_MAX_SEQ_GAP ahead. */
  private continuesPlaintext(msg: Buffer): boolean {
    const v = this.rxView;
    const last = this.lastPlain;
    if (!last || v.wrap(msg) !== null || v.ssrc !== last.ssrc) return false;
    const ahead = (v.sequence - last.seq) & 0xffff;
    if (ahead < 1 || ahead > PLAINTEXT_MAX_SEQ_GAP) return false;
    last.seq = v.sequence;
    return true;
  }

  /** Remembers the last plaintext packet of the peer's stream; updated in place (this runs for every packet of a call in the clear). */
  private notePlain(ssrc: number, seq: number): void {
    if (this.lastPlain) {
      this.lastPlain.ssrc = ssrc;
      this.lastPlain.seq = seq;
    } else this.lastPlain = { ssrc, seq };
  }

  private receive(msg: Buffer, from: string): void {
    if (!this.plan || this.closed) return;
    // RTCP multiplexed on the RTP port (RFC 5761 sec. 4): not counted as media.
    if (demuxRtpRtcp(msg) === 'rtcp') return;
    const packet = this.unprotect(msg);
    if (!packet) return;
    const rtp = this.rxView;
    if (rtp.wrap(packet) !== null) {
      this.counters.rxMalformed++;
      return;
    }
    this.counters.rxPackets++;
    this.counters.rxFrom = from;
    if (this.firstRxSsrc === undefined) {
      this.firstRxSsrc = rtp.ssrc;
      this.onFirstRxSsrc?.(rtp.ssrc);
    }
    const marker = findMarker(rtp.payload());
    if (marker === null) return;
    if (marker === this.plan.expectedRxMarker) this.counters.rxMarkerPackets++;
    if (!this.markers.has(marker) && this.markers.size < MAX_MARKERS_KEPT) {
      this.markers.add(marker);
      this.counters.rxMarkersSeen = [...this.markers];
    }
  }
}
