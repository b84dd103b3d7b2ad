import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, validateForwarding, type E2aePolicy, type Forwarding, type ServerKind, type PcscfAttack } from '@imslab/topology';
import { ScenarioError } from './errors.ts';

/** `unknown`: media encrypted under keys no element logged or signalled; never a protection claim. */
export type Verdict = 'e2e' | 'e2ae' | 'none' | 'unknown' | 'no-media' | `e2m2e(${string})`;
export type LinkProtection = 'plaintext' | 'srtp' | 'encrypted-unknown' | 'absent';
export type CallSecurity = 'none' | 'e2ae' | 'sdes-e2e' | 'e2e' | 'e2e-or-e2m2e' | 'stored-e2e' | 'group-e2e';
/** Who may resolve a MIKEY-TICKET (TR 33.828 4.1.1: any answering party, or the designated user and terminal only). */
export type TicketPolicy = 'any-device-of-user' | 'retargeting' | 'designated-device';

/** One action of a scenario; each names the UEs it drives. */
export type Step =
  | { register: string[] }
  | { call: { from: string; to: string; security?: CallSecurity; policy?: TicketPolicy; designatedDevice?: string; as: string } }
  | { 'wait-media': { call: string; packets: number; oneWay?: boolean } }
  /** The caller of `call` received `packets` packets carrying the probe of call `of` (a playback, a conference). */
  | { 'wait-probe': { call: string; of: string | string[]; packets: number } }
  /** The far end hung up `call` (the voicemail at the end of a message). */
  | { 'wait-ended': { call: string } }
  /** Stop an element and start it again (same configuration and storage); waits until it is healthy. */
  | { restart: { element: string } }
  | { 'wait-failure': { call: string } }
  | { secure: { ue: string; call: string; security: CallSecurity } }
  | { hangup: { ue: string; call: string } };

export interface Expectation {
  /** The verdict for the call's media, in both directions (or the one `judge` names). */
  verdict: Verdict;
  /** Judge only the caller's media (`orig`): a call to a store or a conference carries nothing back under its own probe. */
  judge?: 'orig';
  /** The caller of this call received and decrypted the probe of these calls (a playback, conference members). */
  receivedProbeOf?: string[];
  /** The caller of this call never decrypted the probe of these calls. */
  noProbeOf?: string[];
  /** The voicemail played back exactly what it stored: the same SRTP/RTP payloads, byte for byte, in order (core capture). */
  playbackIdentical?: boolean;
  /**
   * After this call's caller hung up (left a conference), no media reached
   * it any more on any link (captures; 200 ms allowed for packets in flight).
   */
  noMediaAfterHangup?: boolean;
  /** What the voicemail's message store holds at rest: only ciphertext (no probe marker, no key) or the probe in the clear. */
  voicemailStores?: 'ciphertext' | 'plaintext';
  /** How the call's media must appear on each link. */
  links?: Record<string, LinkProtection>;
  /** Keys on the access links must differ (e2ae: each UE talks to its own IMS-AGW). */
  distinctAccessKeys?: boolean;
  /** SIP on the access links must be TLS only. */
  sipOnAccess?: 'tls' | 'any';
  /** Whether the keys must be reported as readable by someone in the middle (SDES: the SIP hops). */
  keysExposed?: boolean;
  /** The verdict per phase when security is switched on mid-call, e.g. [none, e2e]. */
  phases?: string[];
  /** The call must fail at the caller, with a reason containing this text. */
  failure?: string;
  /** Exactly these devices resolved the call's ticket at the KMS (from its audit log). */
  kmsResolved?: string[];
  /**
   * Every device that resolved got keys forked for it (RFC 6043 sec. 5.1.4),
   * all different (key fingerprints in the KMS audit log); false: not forked.
   */
  kmsKeysForked?: boolean;
  /** Exactly these devices resolved a stored message's ticket (deferred delivery, /mikey/resolve-deferred). */
  kmsDeferredResolved?: string[];
  /** These devices were refused by the KMS (from its audit log). */
  kmsRefused?: string[];
  /** Both ends show the peer identity as authenticated through the KMS (MIKEY-TICKET). */
  kmsAuthenticated?: boolean;
  /** What the caller's UE must report having negotiated (e2e, e2m2e, ...). */
  callerAchieved?: string;
  /** Devices that must have received none of the call's media (a cancelled fork, a refused party). */
  noMediaAt?: string[];
  /** The device that must have answered the call (forking, forwarding). */
  answeredBy?: string;
  /** The identity each end displays for its peer (P-Asserted-Identity): caller's view, callee's view. */
  displayed?: { atCaller?: string; atCallee?: string };
  /** Both ends received the other's probe intact (from the UEs' counters). */
  probeReceived?: boolean;
}

export interface Scenario {
  name: string;
  clause: string;
  title: string;
  file: string;
  network: {
    policy?: Partial<Record<'pcscf-a' | 'pcscf-b', { e2ae: E2aePolicy }>>;
    forwarding?: Record<string, Forwarding>;
    /** Application servers the scenario needs (e.g. kms). */
    servers?: ServerKind[];
    /** Users whose incoming calls pass through the transcoder. */
    transcode?: string[];
    /** How the IMS-AGWs relay media they do not terminate (topology PlanOverrides.relay). */
    relay?: Partial<Record<'pcscf-a' | 'pcscf-b', 'passthrough' | 'default'>>;
    /** Faults injected at a P-CSCF (a compromised signalling hop). */
    attacks?: Partial<Record<'pcscf-a' | 'pcscf-b', PcscfAttack>>;
    ues?: Record<string, Record<string, unknown>>;
    /** Voicemail settings: who may retrieve a mailbox (default owner). */
    voicemail?: { mailboxAccess?: 'owner' | 'open' };
    /** Conferences the bridge hosts. */
    conferences?: Array<{ user: string; mode: 'e2e' | 'e2m2e'; members: string[] }>;
  };
  steps: Step[];
  /** call alias -> expectation */
  expect: Record<string, Expectation>;
}

export const SCENARIO_DIR = join(REPO_ROOT, 'scenarios');
const STEP_KINDS = ['register', 'call', 'wait-media', 'wait-probe', 'wait-ended', 'wait-failure', 'secure', 'hangup', 'restart'];
const VERDICT = /^(e2e|e2ae|none|unknown|no-media|e2m2e\([a-z0-9+-]+\))$/;

function fail(file: string, msg: string): never {
  throw new ScenarioError(`${relative(REPO_ROOT, file)}: ${msg}`);
}

/** Validates a parsed scenario file; errors name the field and what is expected. */
export function validateScenario(raw: unknown, file: string): Scenario {
  if (typeof raw !== 'object' || raw === null) fail(file, 'expected a mapping with name, clause, title, steps, expect');
  const r = raw as Record<string, unknown>;
  for (const k of ['name', 'clause', 'title']) if (typeof r[k] !== 'string') fail(file, `"${k}" must be a string`);
  if (r.name !== basename(file).replace(/\.ya?ml$/, '')) fail(file, `"name" must equal the file name (${basename(file)})`);
  if (!Array.isArray(r.steps) || r.steps.length === 0) fail(file, '"steps" must be a non-empty list');
  const aliases = new Set<string>();
  r.steps.forEach((s: unknown, i: number) => {
    const keys = typeof s === 'object' && s !== null ? Object.keys(s) : [];
    if (keys.length !== 1 || !STEP_KINDS.includes(keys[0]!)) fail(file, `steps[${i}] must be one of ${STEP_KINDS.join(', ')}`);
    const step = s as Record<string, Record<string, unknown>>;
    if (keys[0] === 'call') {
      const c = step.call!;
      if (typeof c.from !== 'string' || typeof c.to !== 'string' || typeof c.as !== 'string') fail(file, `steps[${i}].call needs from, to and as`);
      aliases.add(c.as);
    }
    const kind = keys[0]!;
    if (kind !== 'register' && kind !== 'call' && kind !== 'restart' && !aliases.has(String(step[kind]?.call))) {
      fail(file, `steps[${i}] refers to call "${String(step[kind]?.call)}" before a call step defines it (as: ...)`);
    }
  });
  if (typeof r.expect !== 'object' || r.expect === null) fail(file, '"expect" must map call aliases to expectations');
  for (const [alias, e] of Object.entries(r.expect as Record<string, unknown>)) {
    if (!aliases.has(alias)) fail(file, `expect.${alias}: no call step defines "${alias}"`);
    const v = (e as Record<string, unknown>)?.verdict;
    if (typeof v !== 'string' || !VERDICT.test(v)) fail(file, `expect.${alias}.verdict must be e2e, e2ae, none, unknown, no-media or e2m2e(<element>)`);
  }
  const network = (r.network ?? {}) as Scenario['network'];
  for (const [user, f] of Object.entries(network.forwarding ?? {})) {
    try {
      validateForwarding(f, `network.forwarding.${user}`);
    } catch (e) {
      fail(file, (e as Error).message);
    }
  }
  return {
    name: r.name as string, clause: r.clause as string, title: r.title as string, file,
    network,
    steps: r.steps as Step[],
    expect: r.expect as Record<string, Expectation>,
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(n) ? [p] : [];
  });
}

/** Every scenario under scenarios/, sorted by clause then name. */
export function loadAllScenarios(dir = SCENARIO_DIR): Scenario[] {
  return walk(dir)
    .map((f) => validateScenario(parse(readFileSync(f, 'utf8')), f))
    .sort((a, b) => a.clause.localeCompare(b.clause) || a.name.localeCompare(b.name));
}

/**
 * Resolves names to scenarios: a scenario name, a clause folder (suite) such as
 * `4.1.4`, or `all`. An unknown name lists the known ones.
 */
export function selectScenarios(names: string[], all = loadAllScenarios()): Scenario[] {
  if (names.length === 0 || names.includes('all')) return all;
  const out: Scenario[] = [];
  for (const n of names) {
    const hit = all.filter((s) => s.name === n || s.clause === n || relative(SCENARIO_DIR, s.file).startsWith(`${n}/`));
    if (hit.length === 0) {
      const suites = [...new Set(all.map((s) => s.clause))].join(', ');
      throw new ScenarioError(`unknown scenario or suite "${n}"; scenarios: ${all.map((s) => s.name).join(', ')}; suites: ${suites}, all`);
    }
    for (const s of hit) if (!out.includes(s)) out.push(s);
  }
  return out;
}
