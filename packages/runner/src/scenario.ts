import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { closest, FileError, loadYamlStrict, strictObject } from '@imslab/element-kit';
import { NetworkOverridesSchema, type NetworkOverrides } from '@imslab/network';
import { REPO_ROOT } from '@imslab/topology';
import { isAlias, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { z } from 'zod';
import { CHECKS } from './checks/index.ts';
import { ScenarioError } from './errors.ts';
import { STEP_SHAPES, STREAM_STEPS, StepSchema, streamMediaOf, type Step } from './steps.ts';

/**
 * Scenario files: YAML under scenarios/<clause>/, one per behaviour,
 * checked strictly at load. The schema is built from the step list
 * (steps.ts), the network overrides every element kind owns
 * (@imslab/network) and the registered checks (checks/): an unknown key
 * anywhere is refused with its line and column and what is allowed.
 */

/** Scenario `expect.<alias>`: the verdict, how to judge, and any registered check. */
const EXPECTATION_SHAPE = {
  /** Judge only the caller's media (`orig`): a call to a store or a conference carries nothing back under its own probe. */
  judge: z.enum(['orig']).optional().describe('Judge only the caller\'s direction (a call to a store or a conference carries no probe back).'),
  ...Object.fromEntries(CHECKS.map((c) => [c.key, (c.key === 'verdict' ? c.schema : c.schema.optional()).describe(c.doc)])),
};
const ExpectationSchema = strictObject(EXPECTATION_SHAPE, 'an expectation');

/** An expectation: `verdict` and `judge` are read by the runner; every other key belongs to its check. */
export type Expectation = { verdict: string; judge?: 'orig' } & Record<string, unknown>;

const ALIAS = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*(\.(video|text))?$/, 'must be a call alias (letters, digits, - and _), or a call\'s stream: <alias>.video, <alias>.text');

function shape(steps: z.ZodType) {
  return {
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a lower-case name (the file name without .yaml)'),
    clause: z.string().regex(/^\d+(\.\d+)*$/, 'must be a TR 33.828 clause such as 4.1.1'),
    title: z.string().min(1),
    targets: z.array(z.enum(['local', 'docker'])).min(1).optional().describe('The targets whose captures can show what the expectations say (default both); on any other the scenario is skipped, and the file says why.'),
    network: NetworkOverridesSchema.optional().describe('Changes to the network this scenario runs on; each key belongs to an element kind.'),
    steps: z.array(steps).min(1, 'must be a non-empty list'),
    expect: z.record(ALIAS, ExpectationSchema).describe('Per call alias (a call step\'s `as`): the verdict and the checks.'),
    problems: z.array(z.string().min(1)).optional().describe('Problems the analysis is expected to report (each a piece of its text), e.g. a capture cut short on purpose. Any other problem fails the scenario.'),
  };
}

/** Cross-field rules: calls are defined before use, expectations name defined calls, the name is the file's. */
const schemas = new Map<string, ReturnType<typeof buildScenarioSchema>>();

/** The schema for a file of this name, built once per name (building it took about 1 ms per load). */
function scenarioSchema(fileName?: string) {
  const key = fileName ?? '';
  let s = schemas.get(key);
  if (!s) {
    s = buildScenarioSchema(fileName);
    if (schemas.size < 1000) schemas.set(key, s);
  }
  return s;
}

function buildScenarioSchema(fileName?: string) {
  return strictObject(shape(StepSchema), 'a scenario').superRefine((s, ctx) => {
    if (fileName && s.name !== fileName) ctx.addIssue({ code: 'custom', path: ['name'], message: `must equal the file name (${fileName})` });
    const aliases = new Set<string>();
    /** `<as>.video` and `<as>.text` of the call steps: the streams, which whole-call steps refuse. */
    const streamAliases = new Map<string, { call: string; media: string }>();
    (s.steps as Step[]).forEach((step, i) => {
      const [kind, body] = Object.entries(step)[0] as [string, Record<string, unknown>];
      // A pager-mode MESSAGE and an attacker's INVITE are named like a call (its Call-ID is what checks address).
      if (kind === 'call' || kind === 'message' || kind === 'spoof-call') {
        const as = String(body.as);
        if (aliases.has(as)) ctx.addIssue({ code: 'custom', path: ['steps', i, kind, 'as'], message: `${kind} alias "${as}" is used twice` });
        aliases.add(as);
        const streams = kind === 'call' ? streamMediaOf(body.media as string[] | undefined) : [];
        for (const m of streams) {
          aliases.add(`${as}.${m}`);
          streamAliases.set(`${as}.${m}`, { call: as, media: m });
        }
        if (streams.length > 0 && body.security !== 'poc-e2e') {
          ctx.addIssue({ code: 'custom', path: ['steps', i, kind, 'media'], message: `video and text streams need security poc-e2e (one group key protects all of a member's streams), not ${String(body.security ?? 'none')}` });
        }
        return;
      }
      const refs = [body.call, ...(kind === 'wait-probe' ? [body.of].flat() : [])].filter((x) => x !== undefined).map(String);
      for (const r of refs) {
        if (!aliases.has(r)) ctx.addIssue({ code: 'custom', path: ['steps', i, kind], message: `refers to call "${r}" before a call step defines it (as: ...)` });
        const stream = streamAliases.get(r);
        if (stream && !STREAM_STEPS.has(kind)) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, kind, 'call'], message: `${kind} acts on the whole call: name the call "${stream.call}", not its ${stream.media} stream "${r}" (streams are for ${[...STREAM_STEPS].join(', ')} and the expectations)` });
        }
      }
    });
    for (const alias of Object.keys(s.expect)) {
      if (!aliases.has(alias)) {
        const near = closest(alias, [...aliases]);
        ctx.addIssue({ code: 'custom', path: ['expect', alias], message: `no call step defines "${alias}"${near ? ` (did you mean "${near}"?)` : ''}; calls: ${[...aliases].join(', ')}` });
      }
    }
  });
}

export interface Scenario {
  name: string;
  clause: string;
  title: string;
  /** The file, absolute. */
  file: string;
  /** Where it runs: both targets unless the file names some. */
  targets: Array<'local' | 'docker'>;
  network: NetworkOverrides;
  steps: Step[];
  /** call alias -> expectation */
  expect: Record<string, Expectation>;
  /** Analysis problems the scenario expects (pieces of their text); any other fails it. */
  problems: string[];
}

export const SCENARIO_DIR = join(REPO_ROOT, 'scenarios');
export const SCENARIO_SCHEMA_FILE = join(SCENARIO_DIR, 'scenario.schema.json');

/** Reads and checks one scenario file; a FileError gives `file:line:column` for every problem. */
export function loadScenario(file: string): Scenario {
  let s;
  try {
    s = loadYamlStrict(scenarioSchema(basename(file).replace(/\.ya?ml$/, '')), file, REPO_ROOT);
  } catch (e) {
    throw positioned(e, file);
  }
  return { ...s, file, targets: s.targets ?? ['local', 'docker'], network: (s.network ?? {}) as NetworkOverrides, steps: s.steps as Step[], expect: s.expect as Record<string, Expectation>, problems: s.problems ?? [] };
}

/**
 * A bad scenario file is a FileError with a line and column for every
 * problem (issue 13: found by the scenario property tests). The strict
 * loader leaves two gaps, closed here: a document without content (empty,
 * comments only) has no node to point at, so its problem is put at 1:1;
 * resolving aliases throws the yaml library's own ReferenceError (an alias
 * before its anchor, `a: *nope`; an alias bomb, "Excessive alias count"),
 * which becomes a FileError at the offending alias. (A flood of unknown keys
 * once made the message outgrow a string; element-kit's strictObject now
 * names a few keys per message.)
 */
function positioned(e: unknown, file: string): unknown {
  if (e instanceof FileError) {
    if (e.problems.every((p) => p.line !== undefined) || e.problems.some((p) => p.message.startsWith('cannot read it'))) return e;
    return new FileError(e.file, e.problems.map((p) => (p.line === undefined ? { ...p, line: 1, column: 1 } : p)));
  }
  if (!(e instanceof ReferenceError)) return e;
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false });
  const anchors = new Set<string>();
  let first: Node | undefined;
  let unresolved: Node | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      first ??= node;
      if (!anchors.has(node.source)) {
        unresolved = node;
        return visit.BREAK;
      }
    } else if (node && typeof node === 'object' && 'anchor' in node && typeof node.anchor === 'string') anchors.add(node.anchor);
    return undefined;
  });
  const at = (unresolved ?? first)?.range?.[0] ?? 0;
  const { line, col } = lines.linePos(at);
  return new FileError(relative(REPO_ROOT, file), [{ path: '', line, column: col, message: `not valid YAML: ${e.message}` }]);
}

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(n) ? [p] : [];
  });
}

/** Every scenario under scenarios/, sorted by clause then name; the first bad file stops the load. */
export function loadAllScenarios(dir = SCENARIO_DIR): Scenario[] {
  const all = walk(dir).map(loadScenario).sort((a, b) => a.clause.localeCompare(b.clause) || a.name.localeCompare(b.name));
  const seen = new Map<string, string>();
  for (const s of all) {
    const other = seen.get(s.name);
    if (other) throw new ScenarioError(`two scenarios are named ${s.name}: ${relative(REPO_ROOT, other)} and ${relative(REPO_ROOT, s.file)}`);
    seen.set(s.name, s.file);
  }
  return all;
}

/**
 * Resolves names to scenarios: a scenario name, a clause folder (suite) such as
 * `4.1.4`, or `all`. An unknown name lists the known ones.
 */
export function selectScenarios(names: string[], all = loadAllScenarios(), dir = SCENARIO_DIR): Scenario[] {
  if (names.length === 0 || names.includes('all')) return all;
  const out: Scenario[] = [];
  for (const n of names) {
    const hit = all.filter((s) => s.name === n || s.clause === n || relative(dir, s.file).startsWith(`${n}/`));
    if (hit.length === 0) {
      // A suite is a clause or a folder of scenarios/ (faults/ holds scenarios of several clauses).
      const suites = [...new Set([...all.map((s) => s.clause), ...all.map((s) => relative(dir, s.file).split('/')[0]!)])].join(', ');
      const near = closest(n, all.map((s) => s.name));
      throw new ScenarioError(`unknown scenario or suite "${n}"${near ? ` (did you mean ${near}?)` : ''}; scenarios: ${all.map((s) => s.name).join(', ')}; suites: ${suites}, all`);
    }
    for (const s of hit) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * The JSON Schema of scenario files (scenarios/scenario.schema.json), for
 * editors: the same parts as the loader's schema, with the steps as a plain
 * union of their shapes.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const steps = z.union(Object.entries(STEP_SHAPES).map(([k, s]) => strictObject({ [k]: s })) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  const schema = strictObject(shape(steps), 'a scenario');
  return {
    ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
    title: 'imslab scenario',
    description: 'A TR 33.828 use case as imslab runs it: the network, the steps, and per call the verdict and checks. Generated by `imslab schema --write`; do not edit.',
  };
}
