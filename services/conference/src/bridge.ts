import type { SipLogger } from '@imslab/app-server';
import { PCMU_PAYLOAD_TYPE } from '@imslab/probe';
import { buildRtp, demuxRtpRtcp, RtpHeaderView } from '@imslab/rtp';
import type { ConferenceMode } from './config.ts';
import type { Leg, LegStats } from './leg.ts';
import { mixFor } from './mixer.ts';

/** Mixing period: one G.711 packet of 20 ms per leg per tick. */
const TICK_MS = 20;
/** Payloads kept per leg between ticks: beyond this the oldest are dropped (bounded delay). */
const MAX_QUEUE = 5;
/** Ticks run back to back at most after the event loop was late. */
const MAX_CATCH_UP = 5;

/**
 * One conference. e2e: every SRTP packet from a member is sent on to every
 * other member as it is; the bridge has no key and looks at nothing but the
 * UDP payload's length. e2m2e: each leg is decrypted with that leg's key,
 * the audio mixed every 20 ms (each member hears the others), and the mix
 * encrypted under the bridge's key for each leg.
 */
export class Bridge {
  readonly legs = new Map<string, Leg>();
  readonly past: LegStats[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private tick = 0;
  /** Start of the mixing clock: tick n is due at clockStart + n * TICK_MS (no drift from late timers). */
  private clockStart = 0;
  /** Reads each decrypted packet's header in place (e2m2e). */
  private readonly rx = new RtpHeaderView();

  constructor(
    readonly user: string,
    readonly mode: ConferenceMode,
    readonly members: readonly string[],
    private readonly log: SipLogger,
  ) {}

  admits(identity: string): boolean {
    return this.members.length === 0 || this.members.some((m) => m.toLowerCase() === identity.toLowerCase());
  }

  join(leg: Leg): void {
    this.legs.set(leg.id, leg);
    leg.socket.on('message', (data) => this.receive(leg, data));
    if (this.mode === 'e2m2e' && !this.timer) {
      this.clockStart = performance.now();
      this.tick = 0;
      this.schedule();
    }
    this.log.info(`${leg.stats.member} joined ${this.user} (${this.mode}); ${this.legs.size} member(s) now`);
  }

  leave(leg: Leg): void {
    if (!this.legs.delete(leg.id)) return;
    leg.close();
    this.past.push(leg.stats);
    // No re-keying: the remaining members keep the group key (TR 33.828 4.1.3 leaves this open for small groups).
    this.log.info(`${leg.stats.member} left ${this.user}; nothing is sent to it any more; ${this.legs.size} member(s) left`);
    if (this.legs.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private receive(from: Leg, data: Buffer): void {
    // RTCP on the RTP port (rtcp-mux, RFC 5761 sec. 4) and junk are not media.
    if (demuxRtpRtcp(data) !== 'rtp') return;
    from.stats.rxPackets++;
    if (this.mode === 'e2e') {
      for (const leg of this.legs.values()) if (leg !== from) leg.send(data);
      return;
    }
    const r = from.crypto!.rx.unprotectRtp(data);
    if (!r.ok) {
      from.stats.rxAuthFailed++;
      return;
    }
    // The payload after CSRCs and extension, without padding (RFC 3550 sec. 5.1, 5.3.1); a malformed packet counts as failed.
    if (this.rx.wrap(r.packet) !== null) {
      from.stats.rxAuthFailed++;
      return;
    }
    from.queue.push(Buffer.from(this.rx.payload()));
    if (from.queue.length > MAX_QUEUE) from.queue.shift();
  }

  /**
   * The mixing clock: every tick that is due runs (at most MAX_CATCH_UP at
   * once after a stall), then the next is set for its own due time, so the
   * bridge sends 50 mixed packets per second per member, as members send.
   */
  private schedule(): void {
    const now = performance.now();
    let ran = 0;
    while (this.clockStart + this.tick * TICK_MS <= now && ran < MAX_CATCH_UP) {
      this.mix();
      ran++;
    }
    // Far behind (a stalled process): re-anchor rather than burst.
    if (this.clockStart + this.tick * TICK_MS <= now) this.clockStart = now - this.tick * TICK_MS + TICK_MS;
    this.timer = setTimeout(() => this.schedule(), Math.max(0, this.clockStart + this.tick * TICK_MS - performance.now()));
  }

  /** One e2m2e tick: the latest audio of each leg in, one mixed packet out per leg. */
  private mix(): void {
    const inputs = new Map<string, Uint8Array>();
    for (const leg of this.legs.values()) {
      const p = leg.queue.shift();
      if (p) inputs.set(leg.id, p);
    }
    const seq = this.tick++;
    if (inputs.size === 0) return;
    const legs = [...this.legs.values()];
    const out = mixFor(inputs, legs.map((l) => l.id), seq);
    for (const leg of legs) {
      const payload = out.get(leg.id);
      if (!payload) continue;
      const rtp = buildRtp({ payloadType: PCMU_PAYLOAD_TYPE, sequence: leg.seq, timestamp: leg.timestamp, ssrc: leg.ssrc }, payload);
      leg.seq = (leg.seq + 1) & 0xffff;
      leg.timestamp = (leg.timestamp + payload.length) >>> 0;
      leg.send(leg.crypto!.tx.protectRtp(rtp));
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const leg of [...this.legs.values()]) this.leave(leg);
  }
}
