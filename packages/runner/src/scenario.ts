import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { closest, loadYamlStrict, strictObject } from '@imslab/element-kit';
import { NetworkOverridesSchema, type NetworkOverrides } from '@imslab/network';
import { REPO_ROOT } from '@imslab/topology';
import { z } from 'zod';
import { CHECKS } from './checks/index.ts';
import { ScenarioError } from './errors.ts';
import { STEP_SHAPES, StepSchema, type Step } from './steps.ts';

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

const ALIAS = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must be a call alias (letters, digits, - and _)');

function shape(steps: z.ZodType) {
  return {
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a lower-case name (the file name without .yaml)'),
    clause: z.string().regex(/^\d+(\.\d+)*$/, 'must be a TR 33.828 clause such as 4.1.1'),
    title: z.string().min(1),
    network: NetworkOverridesSchema.optional().describe('Changes to the network this scenario runs on; each key belongs to an element kind.'),
    steps: z.array(steps).min(1, 'must be a non-empty list'),
    expect: z.record(ALIAS, ExpectationSchema).describe('Per call alias (a call step\'s `as`): the verdict and the checks.'),
    problems: z.array(z.string().min(1)).optional().describe('Problems the analysis is expected to report (each a piece of its text), e.g. a capture cut short on purpose. Any other problem fails the scenario.'),
  };
}

/** Cross-field rules: calls are defined before use, expectations name defined calls, the name is the file's. */
function scenarioSchema(fileName?: string) {
  return strictObject(shape(StepSchema), 'a scenario').superRefine((s, ctx) => {
    if (fileName && s.name !== fileName) ctx.addIssue({ code: 'custom', path: ['name'], message: `must equal the file name (${fileName})` });
    const aliases = new Set<string>();
    (s.steps as Step[]).forEach((step, i) => {
      const [kind, body] = Object.entries(step)[0] as [string, Record<string, unknown>];
      // A pager-mode MESSAGE is named like a call (its Call-ID is what checks address).
      if (kind === 'call' || kind === 'message') {
        const as = String(body.as);
        if (aliases.has(as)) ctx.addIssue({ code: 'custom', path: ['steps', i, kind, 'as'], message: `${kind} alias "${as}" is used twice` });
        aliases.add(as);
        return;
      }
      const refs = [body.call, ...(kind === 'wait-probe' ? [body.of].flat() : [])].filter((x) => x !== undefined).map(String);
      for (const r of refs) {
        if (!aliases.has(r)) ctx.addIssue({ code: 'custom', path: ['steps', i, kind], message: `refers to call "${r}" before a call step defines it (as: ...)` });
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
  const s = loadYamlStrict(scenarioSchema(basename(file).replace(/\.ya?ml$/, '')), file, REPO_ROOT);
  return { ...s, file, network: (s.network ?? {}) as NetworkOverrides, steps: s.steps as Step[], expect: s.expect as Record<string, Expectation>, problems: s.problems ?? [] };
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
      const suites = [...new Set(all.map((s) => s.clause))].join(', ');
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
