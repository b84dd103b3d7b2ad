import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_NETWORKS } from '@imslab/network';
import type { LinkPlan } from '@imslab/topology';
import { ElementError } from './errors.ts';
import { killGroup, spawnLogged, type LoggedChild } from './logged-child.ts';

/**
 * One tcpdump per link. Readiness is tcpdump's own "listening on" line, so no
 * packet of the scenario is sent before the capture runs.
 */
export class TcpdumpCapture {
  private proc: LoggedChild | null = null;

  constructor(
    readonly link: string,
    readonly file: string,
    private readonly argv: string[],
    private readonly logFile: string,
  ) {}

  /** The running tcpdump, once started (for the supervisor). */
  get process(): LoggedChild | null {
    return this.proc;
  }

  start(timeoutMs = 5000): Promise<void> {
    let seen = '';
    let listening: () => void = () => {};
    const ready = new Promise<void>((r) => { listening = r; });
    const p = spawnLogged(this.argv, this.logFile, {
      streams: ['stderr'],
      onStderr: (d) => {
        seen += d;
        if (/listening on/.test(seen)) listening();
      },
    });
    this.proc = p;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new ElementError(`capture ${this.link}`, why, this.logFile));
      const timer = setTimeout(() => fail(`tcpdump not listening after ${timeoutMs} ms`), timeoutMs);
      void ready.then(() => { clearTimeout(timer); resolve(); });
      void p.exited.then((how) => { clearTimeout(timer); fail(`tcpdump exited (${how}) before listening`); });
    });
  }

  /** SIGINT makes tcpdump flush and close the file; wait for that (and for its log). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    await p.started;
    if (!p.hasExited()) {
      killGroup(p.pid, 'SIGINT');
      const t = setTimeout(() => killGroup(p.pid, 'SIGKILL'), 3000);
      await p.exited;
      clearTimeout(t);
    }
    await p.logClosed;
  }
}

/** Where a link is captured: an interface, and a filter (null: every packet on the interface). */
export type LinkTap = (l: LinkPlan) => { iface: string; filter: string | null };

/** The local target: every packet to or from the link's /24 on `lo`, whatever the other end's address (a UA bound to 127.0.0.1). */
export const LOOPBACK_TAP: LinkTap = (l) => ({ iface: 'lo', filter: `net ${l.subnet}` });
/** The docker target: the link's own Docker bridge on the host carries exactly that link; every packet on it is kept. */
export const BRIDGE_TAP: LinkTap = (l) => ({ iface: DOCKER_NETWORKS[l.name].bridge, filter: null });

/** One capture per link into `<dir>/<link>.pcap` (tcpdump's own messages in `<dir>/capture-<link>.log`). */
export function linkCaptures(links: readonly LinkPlan[], dir: string, tap: LinkTap): TcpdumpCapture[] {
  return links.map((l) => {
    const { iface, filter } = tap(l);
    const file = join(dir, `${l.name}.pcap`);
    // --immediate-mode: with TPACKET_V3 a short capture can otherwise sit in a
    // partly filled ring block and be lost when tcpdump is interrupted.
    // -B: a 32 MiB ring instead of 2 MiB. Loopback segments are up to 64 kB:
    // a 200 kB file in MSRP lost 100 of 626 packets with the default while
    // the machine was busy (measured 2026-12-02).
    // IMSLAB_CAPTURE_BATCHED=1 (the load bench): without --immediate-mode,
    // tcpdump wakes once per ring block instead of once per packet.
    const immediate = process.env.IMSLAB_CAPTURE_BATCHED === '1' ? [] : ['--immediate-mode'];
    const argv = ['tcpdump', '-i', iface, '-n', '-s', '0', '-B', String(CAPTURE_BUFFER_KIB), ...immediate, '-U', '-w', file, ...(filter ? [filter] : [])];
    return new TcpdumpCapture(l.name, file, argv, join(dir, `capture-${l.name}.log`));
  });
}

/** tcpdump's capture buffer (-B, KiB). */
export const CAPTURE_BUFFER_KIB = 32 * 1024;

/**
 * Packets a link's capture lost, from tcpdump's closing statistics in
 * `<dir>/capture-<link>.log` ("N packets dropped by kernel", "... by
 * interface"). A capture that lost packets cannot prove that a marker or a
 * packet was absent; the run reports it as a problem rather than judge on
 * part of the traffic. Links without a log (not captured) are left out.
 */
export function captureLosses(dir: string, links: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const link of links) {
    let text: string;
    try {
      text = readFileSync(join(dir, `capture-${link}.log`), 'utf8');
    } catch {
      continue;
    }
    let lost = 0;
    for (const m of text.matchAll(/^(\d+) packets? dropped by (?:kernel|interface)$/gm)) lost += Number(m[1]);
    if (lost > 0) out[link] = lost;
  }
  return out;
}

/** Stops captures and names their files by link. */
export async function stopAll(captures: readonly TcpdumpCapture[]): Promise<{ files: Record<string, string> }> {
  await Promise.all(captures.map((c) => c.stop()));
  return { files: Object.fromEntries(captures.map((c) => [c.link, c.file])) };
}
