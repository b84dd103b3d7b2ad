import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { findMarker, PCMU_PAYLOAD_TYPE, probePayload, SAMPLES_PER_PACKET } from '@imslab/probe';
import { buildRtp, buildSenderReport, demuxRtpRtcp, RtpHeaderView } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { contextOptions, type MkiKeySource, type SrtpKey } from './media-security.ts';
import { MkiReceiver } from './mki-receiver.ts';
import type { PortAllocator } from './port-allocator.ts';

/** Packet interval of the probe stream (a=ptime:20). */
export const PACKET_INTERVAL_MS = 20;
/** RTCP sender report interval. */
export const RTCP_INTERVAL_MS = 5000;
const MAX_MARKERS_KEPT = 32;
/** Packets sent back-to-back at most when the event loop was late, before re-anchoring the schedule. */
const MAX_CATCH_UP = 5;
/**
 * After the receive key changes (re-INVITE), packets under the previous key
 * (or plaintext) are still accepted this long, or until the first packet
 * verifies under the new key: the peer switches when it sees the 2xx/ACK.
 */
export const RX_KEY_GRACE_MS = 3000;

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
}

/** Counters exposed in CallStatus.media. */
export interface MediaCounters {
  txPackets: number;
  rxPackets: number;
  rxMarkerPackets: number;
  rxMarkersSeen: string[];
  rxAuthFailed: number;
  rxReplayed: number;
  rxMalformed: number;
  /** SRTP packets whose MKI names no key this UE holds (e.g. a group key of an epoch after our removal). */
  rxUnknownKey: number;
  rxFrom: string | null;
}

/**
 * One call's media: an RTP socket on an even port of the media range, a
 * 20 ms probe sender on a drift-free schedule (due times computed from the
 * start, not accumulated setInterval delays), a receiver that unprotects,
 * counts and checks markers, and latches onto whatever source sends to it.
 */
export class MediaSession {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomBytes(2).readUInt16BE(0);
  private readonly ts0 = randomBytes(4).readUInt32BE(0);
  private plan: MediaPlan | undefined;
  private txCtx: SrtpContext | undefined;
  private rxCtx: SrtpContext | undefined;
  /** More receive keys tried after the current one (a group re-key). */
  private readonly extraRx: Array<{ keySalt: string; ctx: SrtpContext }> = [];
  /** Receive side when packets name their key by MKI (PoC group keys). */
  private mkiRx: MkiReceiver | undefined;
  /** Called once per new receive key found by MKI (the call logs it). */
  onNewRxKey: ((key: SrtpKey, ssrc: number) => void) | undefined;
  /** The previous receive context (null = plaintext) while the peer may still use it. */
  private graceRx: { ctx: SrtpContext | null; until: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private rtcpTimer: ReturnType<typeof setInterval> | undefined;
  private startAt = 0;
  private packetIndex = 0;
  private closed = false;
  private txOctets = 0;
  private firstRxSsrc: number | undefined;
  /** Reused for every received packet: reading its header allocates nothing. */
  private readonly rxView = new RtpHeaderView();
  private readonly markers = new Set<string>();
  readonly counters: MediaCounters = { txPackets: 0, rxPackets: 0, rxMarkerPackets: 0, rxMarkersSeen: [], rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0, rxUnknownKey: 0, rxFrom: null };
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
  ) {
    rtp.on('message', (msg, rinfo) => this.receive(msg, `${rinfo.address}:${rinfo.port}`));
    rtp.on('error', () => undefined);
    rtcp?.on('message', (msg) => {
      if (!this.closed) this.onRtcp?.(msg);
    });
    rtcp?.on('error', () => undefined);
  }

  /** Binds a socket pair from the allocator. */
  static async open(address: string, allocator: PortAllocator): Promise<MediaSession> {
    const { port, rtp, rtcp } = await allocator.allocate();
    return new MediaSession(address, port, rtp, rtcp, allocator);
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
    this.configure({ ...this.plan, tx, rx });
    if (old && old.keySaltBase64 !== rx?.keySaltBase64) this.addRxKey(old);
  }

  /**
   * Accepts packets under `key` too, for the rest of the call, after the
   * current receive key failed: a group re-key, where members switch their
   * send key one after another.
   */
  addRxKey(key: SrtpKey): void {
    if (this.extraRx.some((x) => x.keySalt === key.keySaltBase64) || this.plan?.rx?.keySaltBase64 === key.keySaltBase64) return;
    this.extraRx.push({ keySalt: key.keySaltBase64, ctx: new SrtpContext(contextOptions(key)) });
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
      if (plan.rxByMki !== this.plan?.rxByMki) this.mkiRx = new MkiReceiver(plan.rxByMki, (key, ssrc) => this.onNewRxKey?.(key, ssrc));
      this.plan = plan;
      return;
    }
    this.mkiRx = undefined;
    if (plan.rx?.keySaltBase64 !== this.plan?.rx?.keySaltBase64) {
      if (this.plan) this.graceRx = { ctx: this.rxCtx ?? null, until: performance.now() + RX_KEY_GRACE_MS };
      this.rxCtx = plan.rx ? new SrtpContext(contextOptions(plan.rx)) : undefined;
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

  /** Starts the 20 ms sender and the 5 s RTCP reports (idempotent). */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.startAt = performance.now();
    this.packetIndex = 0;
    this.tick();
    this.rtcpTimer = setInterval(() => this.sendReport(), RTCP_INTERVAL_MS);
  }

  /** Stops sending and closes the sockets; counters stay readable. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.rtcpTimer !== undefined) clearInterval(this.rtcpTimer);
    this.timer = undefined;
    try {
      this.rtp.close();
      this.rtcp?.close();
    } catch {
      // already closed
    }
    this.allocator.release(this.localPort);
  }

  private tick = (): void => {
    if (this.closed) return;
    const now = performance.now();
    let sent = 0;
    while (this.startAt + this.packetIndex * PACKET_INTERVAL_MS <= now && sent < MAX_CATCH_UP) {
      this.sendOne();
      sent++;
    }
    const due = this.startAt + this.packetIndex * PACKET_INTERVAL_MS;
    if (due <= now) {
      // Far behind (a stalled event loop): re-anchor instead of bursting.
      this.startAt = now - this.packetIndex * PACKET_INTERVAL_MS + PACKET_INTERVAL_MS;
    }
    this.timer = setTimeout(this.tick, Math.max(0, this.startAt + this.packetIndex * PACKET_INTERVAL_MS - performance.now()));
  };

  private sendOne(): void {
    const plan = this.plan;
    const index = this.packetIndex++;
    if (!plan || plan.send === false || (this.talkGate && !this.talkGate())) return;
    const payload = probePayload(plan.txMarker, index);
    let packet = buildRtp({ payloadType: PCMU_PAYLOAD_TYPE, marker: index === 0, sequence: this.seq, timestamp: this.ts0 + index * SAMPLES_PER_PACKET, ssrc: this.ssrc }, payload);
    this.seq = (this.seq + 1) & 0xffff;
    if (this.txCtx) packet = this.txCtx.protectRtp(packet);
    this.counters.txPackets++;
    this.txOctets += payload.length;
    this.rtp.send(packet, plan.remote.port, plan.remote.address, () => undefined);
  }

  private sendReport(): void {
    const plan = this.plan;
    if (!plan || this.closed || !this.rtcp || plan.send === false) return;
    this.sendRtcp(buildSenderReport(this.ssrc, this.ts0 + this.packetIndex * SAMPLES_PER_PACKET, this.counters.txPackets, this.txOctets));
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
      return msg;
    }
    const r = this.rxCtx.unprotectRtp(msg);
    if (r.ok) {
      this.graceRx = undefined;
      return r.packet;
    }
    if (grace) {
      if (grace.ctx === null) return msg;
      const old = grace.ctx.unprotectRtp(msg);
      if (old.ok) return old.packet;
    }
    if (r.reason === 'auth-failed') {
      for (const x of this.extraRx) {
        const other = x.ctx.unprotectRtp(msg);
        if (other.ok) return other.packet;
      }
    }
    if (r.reason === 'auth-failed') this.counters.rxAuthFailed++;
    else if (r.reason === 'replayed' || r.reason === 'too-old') this.counters.rxReplayed++;
    else this.counters.rxMalformed++;
    return null;
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
