import type { SipLogger } from '@imslab/app-server';
import { BoxError, type KeyIdLayout } from './box-records.ts';
import type { BurstRecording, PocBox } from './box.ts';
import type { PocMode } from './config.ts';

/**
 * Records the floor holder's burst for every member of the group who is
 * not joined: one recording per offline member, from the burst's first
 * packet it misses until the floor changes hands or goes idle, or the
 * member joins (the rest of the burst then reaches it live, behind the
 * replay). A bound reached refuses or stops that member's recording only;
 * forwarding to the joined members never waits for the box.
 */
export class BurstRecorder {
  /** The leg key of the holder whose burst is being recorded. */
  private talker: number | undefined;
  /** Member (lower case) -> its recording of this burst, or null: refused by a bound for this burst. */
  private readonly recs = new Map<string, BurstRecording | null>();
  private readonly reportedStop = new Set<string>();
  /** Member (lower case) -> bursts not recorded for it since the start, and why the last one was not. */
  readonly refused = new Map<string, { count: number; last: string }>();

  constructor(
    private readonly box: PocBox,
    private readonly group: string,
    private readonly mode: PocMode,
    private readonly layout: KeyIdLayout | null,
    private readonly log: SipLogger,
  ) {}

  /**
   * A packet of the holder (`talkerKey`, identity `talker`) was forwarded:
   * keep it for each `offline` member. e2e: `packet` is the SRTP as it
   * arrived; e2m2e: the RTP the server decrypted.
   */
  record(talkerKey: number, talker: string, packet: Buffer, atUs: number, offline: readonly string[]): void {
    if (this.talker !== talkerKey) this.end();
    this.talker = talkerKey;
    for (const member of offline) {
      const k = member.toLowerCase();
      let r = this.recs.get(k);
      if (r === undefined) {
        r = this.begin(member, talker);
        this.recs.set(k, r);
      }
      if (!r || r.append({ atUs, data: packet }) || !r.stopped || this.reportedStop.has(r.id)) continue;
      this.reportedStop.add(r.id);
      this.log.warn(`${this.group}: burst of ${talker} for ${member} stopped: ${r.stopped}`);
    }
  }

  /** The burst is over: every member's recording of it is made durable. */
  end(cut?: string): void {
    for (const k of [...this.recs.keys()]) this.endFor(k, cut);
    this.talker = undefined;
  }

  /** The floor is held by `holder` (a leg key) or nobody: a burst recorded for another holder is over. */
  endIfNotHeldBy(holder: number | undefined): void {
    if (this.talker !== undefined && this.talker !== holder) this.end();
  }

  /** The server stops mid-burst: what was recorded is kept, as partial. */
  abort(why: string): void {
    this.end(why);
  }

  /** `member` joined: its recording of the current burst ends here. */
  endFor(member: string, cut?: string): void {
    const k = member.toLowerCase();
    const r = this.recs.get(k);
    this.recs.delete(k);
    if (!r) return;
    const m = r.finish(cut);
    this.reportedStop.delete(r.id);
    this.log.info(`${this.group}: kept a burst of ${m.talker} for ${m.member}: ${m.packets} packets, ${m.state}${m.note ? ` (${m.note})` : ''}`);
  }

  private begin(member: string, talker: string): BurstRecording | null {
    try {
      return this.box.begin({ group: this.group, member, talker, mode: this.mode, protection: this.mode === 'e2e' ? 'srtp' : 'rtp', layout: this.layout });
    } catch (e) {
      if (!(e instanceof BoxError)) throw e;
      const k = member.toLowerCase();
      const n = (this.refused.get(k)?.count ?? 0) + 1;
      this.refused.set(k, { count: n, last: e.message });
      this.log.warn(`${this.group}: burst of ${talker} not kept for ${member}: ${e.message}`);
      return null;
    }
  }
}
