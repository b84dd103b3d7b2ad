/**
 * One tshark run for several links: the links' captures are written one
 * after the other into one temporary pcapng, one interface per (link,
 * interface of its capture), and tshark's answers are split back per link
 * by `frame.interface_id`. tshark costs about half a second of CPU per start,
 * whatever the capture's size.
 *
 * tshark tracks a TCP connection by its addresses and ports, not by the
 * interface: links are put in one file only when no connection (flow, either
 * direction) they name appears on two of them, so every TCP stream of the
 * merged file is one link's and is dissected as in that link's own file.
 * Each link's packets keep their order (concatenated, not interleaved), so
 * what tshark reports per stream comes in the same order as before.
 */
import { open } from 'node:fs/promises';
import { CaptureFileReader, PcapngWriter } from '@imslab/capture';

/** A link whose capture tshark should read, with the flows it names (`tcp a:p > b:q`). */
export interface LinkCaptureFile {
  link: string;
  file: string;
  flows: readonly string[];
}

/** Where the packets of an interface of the merged file came from. */
export interface MergedInterface {
  link: string;
  /** `frame.interface_id` tshark gives in the link's own file: none for classic pcap. */
  interfaceId: number | undefined;
}

/** `tcp a > b` and `tcp b > a` are one connection. */
function connectionKey(flow: string): string {
  const sp = flow.indexOf(' ');
  const proto = sp < 0 ? '' : flow.slice(0, sp);
  const ends = flow.slice(sp + 1).split(' > ').sort();
  return `${proto} ${ends.join(' ')}`;
}

const PCAP_US = new Set([0xa1b2c3d4, 0xd4c3b2a1]);
const PCAPNG = 0x0a0d0d0a;

/**
 * Whether a capture can be copied into the merged file without changing
 * what tshark reads in it: classic pcap with microsecond timestamps, or
 * pcapng (microsecond timestamps, the default and what @imslab/capture
 * reads). Nanosecond pcap and unknown files keep their own tshark run.
 */
async function mergeable(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'r');
    try {
      const b = Buffer.alloc(4);
      const { bytesRead } = await fh.read(b, 0, 4, 0);
      if (bytesRead < 4) return false;
      const m = b.readUInt32LE(0);
      return PCAP_US.has(m) || m === PCAPNG;
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/**
 * Splits `links` into groups tshark can read together: in a group no
 * connection is on two links. A link whose file cannot be merged is a group
 * of its own. Links keep their order within a group.
 */
export async function tsharkGroups<T extends LinkCaptureFile>(links: readonly T[]): Promise<T[][]> {
  const groups: Array<{ items: T[]; conns: Set<string> }> = [];
  const alone: T[][] = [];
  for (const l of links) {
    if (!(await mergeable(l.file))) {
      alone.push([l]);
      continue;
    }
    const conns = new Set(l.flows.map(connectionKey));
    const g = groups.find((x) => ![...conns].some((c) => x.conns.has(c)));
    if (g) {
      g.items.push(l);
      for (const c of conns) g.conns.add(c);
    } else groups.push({ items: [l], conns });
  }
  return [...groups.map((g) => g.items), ...alone];
}

/**
 * Writes the links' captures one after the other into `out` (pcapng), an
 * interface per link and original interface and link type, named after the
 * link; returns, by interface id of `out`, where its packets came from.
 * Original lengths are kept and nothing is cut.
 * @throws when a capture cannot be read or `out` written
 */
export async function concatLinkCaptures(links: ReadonlyArray<{ link: string; file: string }>, out: string): Promise<MergedInterface[]> {
  const w = new PcapngWriter(out, { userAppl: '@imslab/analysis (links for one tshark run)' });
  const interfaces: MergedInterface[] = [];
  try {
    for (const l of links) {
      const reader = await CaptureFileReader.open(l.file);
      try {
        const ids = new Map<string, number>();
        while (await reader.refill()) {
          for (let p = reader.next(); p !== null; p = reader.next()) {
            const key = `${p.interfaceId}/${p.linkType}`;
            let id = ids.get(key);
            if (id === undefined) {
              id = w.addInterface(l.link, p.linkType, 0);
              ids.set(key, id);
              interfaces[id] = { link: l.link, interfaceId: reader.container === 'pcapng' ? p.interfaceId : undefined };
            }
            w.write(id, p.timestampUs, p.data, p.originalLength);
          }
        }
      } finally {
        await reader.close().catch(() => undefined);
      }
    }
    await w.close();
    return interfaces;
  } finally {
    await w.close().catch(() => undefined);
  }
}

/** TCP ports of flows (`tcp a:p > b:q`), and 5061 (SIP over TLS): what tshark is told to decode as TLS. */
export function tlsDecodePorts(flows: readonly string[], tcpOnly: boolean): number[] {
  const ports = new Set<number>([5061]);
  for (const f of flows) {
    if (tcpOnly && !f.startsWith('tcp ')) continue;
    for (const m of f.matchAll(/:(\d+)(?= |$)/g)) ports.add(Number(m[1]));
  }
  return [...ports].sort((x, y) => x - y);
}

/**
 * Whether a TCP connection between ports `a` and `b` on a link is dissected
 * in the merged file as in the link's own: it is unless one of its ports is
 * decoded as TLS only for another link (`linkPorts` the link's own decode-as
 * ports, `allPorts` the merged run's).
 */
export function sameDecodeAs(a: number | undefined, b: number | undefined, linkPorts: ReadonlySet<number>, allPorts: ReadonlySet<number>): boolean {
  const ps = [a, b].filter((p): p is number => p !== undefined);
  return ps.some((p) => linkPorts.has(p)) || !ps.some((p) => allPorts.has(p));
}
