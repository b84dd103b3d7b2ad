import type { SipLogger } from '@imslab/app-server';
import type { DeliveredBurst, PocBoxGroupStatus, RecordingsNotice } from './contract.ts';
import { BoxError } from './box-records.ts';
import type { PocBox } from './box.ts';
import { BurstRecorder } from './burst-recorder.ts';
import type { PocConfig, PocGroupEntry } from './config.ts';
import type { MemberLeg } from './member-leg.ts';
import { epochUs, Replay } from './replay.ts';

/** Deliveries a group's status lists. */
const DELIVERED_LISTED = 50;

type BoxConfig = NonNullable<PocConfig['box']>;

/**
 * One group's side of the PoC box: records the holder's bursts for the
 * members who are not joined (BurstRecorder), tells a joining member what
 * waits for it, plays it to the member when it joins (Replay) and removes
 * each burst once played, and reports all of it for the status API.
 */
export class SessionBox {
  private readonly recorder: BurstRecorder;
  private readonly deliveredList: DeliveredBurst[] = [];

  constructor(
    private readonly box: PocBox,
    private readonly group: PocGroupEntry,
    private readonly cfg: Pick<BoxConfig, 'maxReplayGapMs' | 'maxQueuedLive'>,
    private readonly log: SipLogger,
  ) {
    const layout = group.mode === 'e2e' ? { mkiBytes: group.mkiBytes, tagBytes: group.tagBytes } : null;
    this.recorder = new BurstRecorder(box, group.user, group.mode, layout, log);
  }

  /** A packet of the holder's audio was forwarded: kept for every member of the group not among `joined` (video and text never come here: the box is audio, see PocBoxGroupStatus.recordedMedia). */
  record(holder: MemberLeg, packet: Buffer, joined: Iterable<MemberLeg>): void {
    const online = new Set([...joined].map((l) => l.member.toLowerCase()));
    const offline = this.group.members.filter((m) => !online.has(m.toLowerCase()));
    if (offline.length > 0) this.recorder.record(holder.key, holder.member, packet, epochUs(), offline);
    else this.recorder.end();
  }

  /** The floor holder is now `holder` (a leg key, or none): a burst being recorded for someone else's holding is over. */
  holderIs(holder: number | undefined): void {
    this.recorder.endIfNotHeldBy(holder);
  }

  /** What waits for `member`, for its 2xx (a burst being recorded for it counts: it is finished when the member joins). */
  notice(member: string): RecordingsNotice {
    const waiting = this.box.pending(this.group.user, member);
    return {
      bursts: waiting.length,
      packets: waiting.reduce((a, b) => a + b.packets, 0),
      ms: waiting.reduce((a, b) => a + b.durationMs, 0),
      partial: waiting.filter((b) => b.state === 'partial').length,
    };
  }

  /** `leg` joined (its ACK arrived): its recording of a running burst ends, and what waits for it plays before anything live. */
  joined(leg: MemberLeg): void {
    this.recorder.endFor(leg.member);
    const ids = this.box.pending(this.group.user, leg.member).filter((b) => b.state !== 'recording').map((b) => b.id);
    if (ids.length === 0) return;
    let i = 0;
    const replay = new Replay({
      maxGapMs: this.cfg.maxReplayGapMs,
      maxQueuedLive: this.cfg.maxQueuedLive,
      send: (d) => {
        const err = leg.transmit(d);
        if (err) this.log.warn(`${this.group.user}: a packet of ${leg.member}'s box not sent: ${err.message}`);
      },
      next: () => {
        while (i < ids.length) {
          const id = ids[i++]!;
          try {
            const r = this.box.read(id);
            if (r.damage) this.log.warn(`${this.group.user}: burst ${id} for ${leg.member} is damaged; its ${r.packets.length} whole packets before the damage are played: ${r.damage}`);
            return { id, packets: r.packets, damage: r.damage };
          } catch (e) {
            if (!(e instanceof BoxError)) throw e;
            this.log.warn(`${this.group.user}: burst ${id} for ${leg.member} not played: ${e.message}`);
          }
        }
        return null;
      },
      done: (b, sent) => {
        try {
          const d = this.box.delivered(b.id, { callId: leg.call.callId, packets: sent }, b.damage);
          this.deliveredList.push(d);
          if (this.deliveredList.length > DELIVERED_LISTED) this.deliveredList.shift();
          this.log.info(`${this.group.user}: burst ${b.id} of ${d.talker} delivered to ${leg.member} (${d.packets} packets, ${d.state}) and removed from the box`);
        } catch (e) {
          if (!(e instanceof BoxError)) throw e;
          this.log.warn(`${this.group.user}: ${e.message}`);
        }
      },
    }, ids.length);
    leg.replay = replay;
    leg.stats.replay = replay.status;
    this.log.info(`${leg.member} joined ${this.group.user}: playing ${ids.length} recorded burst(s) before live traffic`);
    replay.start();
  }

  /** The group's session is closing: a burst being recorded is kept as it is (partial: the server stopped mid-burst). */
  close(): void {
    this.recorder.abort('the server stopped mid-burst');
  }

  status(): PocBoxGroupStatus {
    const members = new Map(this.box.members(this.group.user).map((m) => [m.member.toLowerCase(), { ...m, refused: 0, lastRefusal: null as string | null }]));
    for (const [k, r] of this.recorder.refused) {
      const m = members.get(k) ?? { member: this.group.members.find((x) => x.toLowerCase() === k) ?? k, bytes: 0, bursts: [], refused: 0, lastRefusal: null };
      m.refused = r.count;
      m.lastRefusal = r.last;
      members.set(k, m);
    }
    return { recordedMedia: ['audio'], bytes: this.box.groupBytes(this.group.user), members: [...members.values()], delivered: [...this.deliveredList] };
  }
}
