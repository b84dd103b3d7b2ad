import { loadKeyRing } from './keys.ts';
import { scanLink, type LinkReport } from './link-scan.ts';
import { judgeCall, type AddressOwner, type CallReport } from './verdict.ts';

export interface AnalysisInput {
  /** link name -> capture file */
  captures: Record<string, string>;
  /** SRTP key log files (JSON lines, @imslab/probe format). */
  keyLogs: string[];
  /** The calls to judge: scenario alias and SIP Call-ID. */
  calls: Array<{ alias: string; callId: string }>;
  owner: AddressOwner;
}

export interface Analysis {
  links: LinkReport[];
  calls: CallReport[];
  keys: Array<{ id: string; owner: string; dir: string; suite: string; callId: string }>;
  problems: string[];
}

/** Reads every link's capture once and judges every call from what it found. */
export async function analyse(input: AnalysisInput): Promise<Analysis> {
  const ring = loadKeyRing(input.keyLogs);
  const links: LinkReport[] = [];
  for (const [link, file] of Object.entries(input.captures)) links.push(await scanLink(link, file, ring.keys));
  const problems = [...ring.errors, ...links.filter((l) => l.error).map((l) => `${l.link}: ${l.error}`)];
  return {
    links,
    calls: input.calls.map((c) => judgeCall(c.alias, c.callId, links, input.owner)),
    keys: ring.keys.map((k) => ({ id: k.id, owner: k.entry.owner, dir: k.entry.dir, suite: k.entry.suite, callId: k.entry.callId })),
    problems,
  };
}
