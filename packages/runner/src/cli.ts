#!/usr/bin/env node
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KINDS, OVERRIDE_OWNER } from '@imslab/network';
import { TARGETS, type TargetName } from '@imslab/topology';
import { analyseVerb } from './analyse-command.ts';
import { EXIT_CODES, HELP } from './cli-help.ts';
import { composeVerb, certVerb, imageLines, schemaVerb } from './cli-verbs.ts';
import { upVerb } from './up.ts';
import { downLocal } from './down.ts';
import { PrerequisiteError, ScenarioError, UsageError } from './errors.ts';
import { inspectRun, resolveRun } from './inspect.ts';
import { reportLine } from './report-page.ts';
import { junitXml } from './junit.ts';
import { progressLine, verdictTable } from './report.ts';
import { RunSession, newRunDir } from './run-session.ts';
import { DEFAULT_JOBS, runScenarios } from './run.ts';
import { attachedRun } from './targets/attached.ts';
import { SCENARIO_DIR, loadAllScenarios, selectScenarios } from './scenario.ts';
import { makeTarget } from './targets/index.ts';

/** Exit codes (cli-help.ts EXIT_CODES). */
export const EXIT = { ok: 0, mismatch: 1, usage: 2, infrastructure: 4 } as const;

function targetOf(v: string | undefined): TargetName {
  const t = (v ?? 'local') as TargetName;
  if (!TARGETS.includes(t)) throw new UsageError(`unknown target "${v}"; targets: ${TARGETS.join(', ')}`);
  return t;
}

const OPTIONS = {
  target: { type: 'string' }, subscribers: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  attach: { type: 'boolean' }, jobs: { type: 'string' }, json: { type: 'boolean' }, junit: { type: 'string' }, verbose: { type: 'boolean' },
  servers: { type: 'string' }, capture: { type: 'boolean' }, 'no-build': { type: 'boolean' },
  write: { type: 'boolean' }, check: { type: 'boolean' }, ip: { type: 'string', multiple: true }, out: { type: 'string' },
  scenarios: { type: 'string' },
  sslkeylog: { type: 'string', multiple: true }, 'srtp-keys': { type: 'string', multiple: true }, report: { type: 'string' },
} as const;
/** Which options each verb takes (anything else is a usage error). */
const VERB_OPTIONS: Record<string, Array<keyof typeof OPTIONS>> = {
  run: ['target', 'subscribers', 'attach', 'jobs', 'json', 'junit', 'verbose', 'scenarios'],
  list: ['scenarios'], inspect: [], kinds: [],
  analyse: ['sslkeylog', 'srtp-keys', 'json', 'report'],
  up: ['target', 'subscribers', 'servers', 'capture'],
  down: ['target'],
  compose: ['subscribers', 'no-build'],
  schema: ['write', 'check'],
  cert: ['ip', 'out'],
  images: [],
};

async function main(argv: string[]): Promise<number> {
  const verb = argv[0];
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(HELP.main);
    return verb ? EXIT.ok : EXIT.usage;
  }
  if (!VERB_OPTIONS[verb]) throw new UsageError(`unknown verb "${verb}"; verbs: ${Object.keys(VERB_OPTIONS).join(', ')} (imslab --help)`);
  const allowed = VERB_OPTIONS[verb]!;
  const { values, positionals } = parseArgs({ args: argv.slice(1), allowPositionals: true, strict: true, options: Object.fromEntries([...allowed, 'help'].map((k) => [k, OPTIONS[k as keyof typeof OPTIONS]])) as typeof OPTIONS });
  if (values.help) {
    console.log(HELP[verb]);
    return EXIT.ok;
  }
  switch (verb) {
    case 'list':
      for (const s of loadAllScenarios(scenarioDir(values.scenarios))) console.log(`${s.clause.padEnd(6)} ${s.name.padEnd(44)} ${s.title}`);
      return EXIT.ok;
    case 'kinds':
      for (const k of KINDS) {
        const keys = Object.entries(OVERRIDE_OWNER).filter(([, o]) => o === k.kind).map(([key]) => `network.${key}`);
        console.log(`${k.kind.padEnd(11)} ${k.presence.padEnd(9)} ${k.summary}${keys.length ? ` [${keys.join(', ')}]` : ''}`);
      }
      return EXIT.ok;
    case 'run':
      return runVerb(values, positionals);
    case 'inspect':
      if (positionals.length !== 1) throw new UsageError(HELP.inspect!);
      console.log(inspectRun(positionals[0]!));
      console.log(await reportLine(resolveRun(positionals[0]!)));
      return EXIT.ok;
    case 'analyse':
      return analyseVerb(positionals, values);
    case 'down': {
      const t = targetOf(values.target);
      if (t === 'local') {
        const stopped = downLocal({ all: true });
        console.log(stopped.length ? `stopped ${stopped.join('; ')}` : 'nothing was running');
      } else {
        const { downDocker } = await import('./targets/docker-down.ts');
        console.log(await downDocker());
      }
      return EXIT.ok;
    }
    case 'up':
      return upVerb(targetOf(values.target), values);
    case 'compose':
      return composeVerb(values);
    case 'schema':
      return schemaVerb(values);
    case 'cert':
      return certVerb(positionals, values);
    case 'images':
      for (const l of imageLines()) console.log(l);
      return EXIT.ok;
  }
  return EXIT.usage;
}

/** The scenario folder: scenarios/ of the repository, or one of the user's (--scenarios DIR). */
function scenarioDir(v: string | undefined): string {
  const dir = v ? resolve(v) : SCENARIO_DIR;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--scenarios: no folder ${v}`);
  return dir;
}

async function runVerb(values: { target?: string; subscribers?: string; attach?: boolean; jobs?: string; json?: boolean; junit?: string; verbose?: boolean; scenarios?: string }, positionals: string[]): Promise<number> {
  const dir = scenarioDir(values.scenarios);
  const scenarios = selectScenarios(positionals, loadAllScenarios(dir), dir);
  const jobs = values.jobs === undefined ? DEFAULT_JOBS : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 8) throw new UsageError(`--jobs must be a whole number 1..8, got "${values.jobs}"`);
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(line + '\n');
  const width = Math.max(...scenarios.map((s) => s.name.length));
  const session = new RunSession(newRunDir(), values.attach ? 'attached' : targetOf(values.target), scenarios.map((s) => s.name));
  const stopOn = (sig: NodeJS.Signals, code: number) => {
    process.once(sig, () => {
      process.once(sig, () => process.exit(code)); // a second one: leave it to the reapers
      process.stderr.write(`imslab: ${sig}: taking the network(s) down; summary in ${session.dir}\n`);
      process.exitCode = code;
      void session.abort(sig);
    });
  };
  stopOn('SIGINT', 130);
  stopOn('SIGTERM', 143);
  crashGuard = (e) => session.abort(`the runner crashed: ${e.message}`);
  const opts = {
    subscribers: values.subscribers, jobs, session,
    progress: values.verbose ? (l: string) => process.stderr.write(`${l}\n`) : undefined,
    onResult: (r: Parameters<typeof progressLine>[0], n: number, total: number) => say(progressLine(r, n, total, width)),
  };
  const { results, report } = values.attach
    ? await attachedRun(scenarios, opts)
    : await runScenarios(() => makeTarget(targetOf(values.target)), scenarios, opts);
  say('');
  say(verdictTable(results));
  say(`\nrun: ${session.dir}  (imslab inspect latest; captures: <scenario>/all-links.pcapng)`);
  say(report);
  if (values.json) console.log(JSON.stringify(session.summary, null, 2));
  if (values.junit) writeFileSync(values.junit, junitXml(session.summary));
  if (session.aborted) return process.exitCode as number ?? 130;
  if (results.some((r) => r.error?.kind === 'infrastructure')) return EXIT.infrastructure;
  return results.every((r) => r.status === 'pass' || r.status === 'skipped') ? EXIT.ok : EXIT.mismatch;
}

/** What a crash of the runner does besides exiting 4: take the networks down, write the summary. */
let crashGuard: ((e: Error) => Promise<void>) | null = null;
const crash = (e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`imslab: internal error: ${err.stack ?? err.message}\n`);
  void (crashGuard?.(err) ?? Promise.resolve()).finally(() => process.exit(EXIT.infrastructure));
};
// A reader that went away (`imslab run | head`) is no crash: what is written after it is dropped,
// and the run still ends by taking its networks down. (An error handler that writes to a closed
// stderr would otherwise raise a new error on every tick, for ever.)
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((e: Error) => {
    const usage = e instanceof UsageError || e instanceof ScenarioError || e.name === 'FileError' || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`imslab: ${e instanceof PrerequisiteError || usage ? e.message : e.stack ?? e.message}`);
    process.exitCode = usage ? EXIT.usage : EXIT.infrastructure;
  });

export { EXIT_CODES };
