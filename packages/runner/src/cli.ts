#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadSubscribers, planNetwork, TARGETS, uesOf, type TargetName } from '@imslab/topology';
import { downLocal } from './down.ts';
import { inspectRun } from './inspect.ts';
import { verdictTable } from './report.ts';
import { DEFAULT_SUBSCRIBERS, newRunDir, runScenarios } from './run.ts';
import { loadAllScenarios, selectScenarios } from './scenario.ts';
import { makeTarget } from './targets/index.ts';
import { closeProbes } from './probes.ts';
import { join } from 'node:path';

const HELP: Record<string, string> = {
  main: `imslab: an IMS media-security testbed (3GPP TR 33.828 use cases)

usage: imslab <verb> [options]

verbs:
  up        bring up the IMS network and keep it up until Ctrl-C (local) or 'down' (docker)
  run       run scenarios or suites, capture every link, print the verdict table
  inspect   show a finished run: verdicts, per-link flows, capture files
  down      stop everything a run or 'up' left behind
  list      list the scenarios and suites

'imslab <verb> --help' explains each verb.`,
  up: `usage: imslab up [--target local|docker] [--subscribers FILE]

Starts every element of the network (IMS-AGWs, S-CSCF, P-CSCFs, UEs), waits
until each is healthy and prints the addresses and UE control URLs. On the
local target it stays in the foreground; Ctrl-C tears everything down.`,
  run: `usage: imslab run [SCENARIO|SUITE|all ...] [--target local|docker] [--subscribers FILE]

Runs each scenario on a freshly started network, captures every link into
runs/<timestamp>/<scenario>/, analyses the packets and compares the verdict
with the scenario's expectation. Exit code 0 only when every verdict matches.
A suite is a clause folder under scenarios/ (e.g. 4.1.4). Default: all.`,
  inspect: `usage: imslab inspect <RUN|latest>

Prints a finished run's verdict table, every link's flows (plaintext, SRTP
under which key, unknown), and where the captures are for Wireshark.`,
  down: `usage: imslab down [--target local|docker]

Stops the processes (local) or containers and networks (docker) that an
interrupted run or 'imslab up' left behind.`,
  list: `usage: imslab list

Lists every scenario with its TR 33.828 clause and title.`,
};

function progress(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[${t}] ${line}\n`);
}

function targetOf(v: string | undefined): TargetName {
  const t = (v ?? 'local') as TargetName;
  if (!TARGETS.includes(t)) throw new Error(`unknown target "${v}"; targets: ${TARGETS.join(', ')}`);
  return t;
}

async function main(argv: string[]): Promise<number> {
  const verb = argv[0];
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(HELP.main);
    return verb ? 0 : 2;
  }
  if (!HELP[verb] || verb === 'main') {
    console.error(`unknown verb "${verb}"; verbs: up, run, inspect, down, list (imslab --help)`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    options: { target: { type: 'string' }, subscribers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(HELP[verb]);
    return 0;
  }
  switch (verb) {
    case 'list': {
      for (const s of loadAllScenarios()) console.log(`${s.clause.padEnd(6)} ${s.name.padEnd(32)} ${s.title}`);
      return 0;
    }
    case 'run': {
      const scenarios = selectScenarios(positionals);
      const target = await makeTarget(targetOf(values.target));
      const { runDir, results } = await runScenarios(target, scenarios, { subscribers: values.subscribers, progress });
      console.log(verdictTable(results));
      console.log(`\nrun: ${runDir}  (imslab inspect latest; captures: <scenario>/all-links.pcapng)`);
      return results.every((r) => r.pass) ? 0 : 1;
    }
    case 'inspect': {
      if (positionals.length !== 1) {
        console.error(HELP.inspect);
        return 2;
      }
      console.log(inspectRun(positionals[0]!));
      return 0;
    }
    case 'down': {
      const t = targetOf(values.target);
      if (t === 'local') {
        const stopped = downLocal();
        console.log(stopped.length ? `stopped ${stopped.join('; ')}` : 'nothing was running');
      } else {
        const target = await makeTarget(t);
        await target.down();
        console.log('docker network removed');
      }
      return 0;
    }
    case 'up': {
      const t = targetOf(values.target);
      const plan = planNetwork(loadSubscribers(values.subscribers ?? DEFAULT_SUBSCRIBERS), t);
      const target = await makeTarget(t);
      const dir = join(newRunDir(), 'up');
      await target.up(plan, { dir, progress });
      for (const e of plan.elements) console.log(`${e.name.padEnd(10)} ${e.kind.padEnd(8)} ${Object.entries(e.addresses).map(([n, a]) => `${n}=${a}`).join(' ')}`);
      for (const u of uesOf(plan)) console.log(`control ${u.name}: ${target.controlUrl(u.name)}`);
      if (t === 'docker') return 0;
      console.log(`network up; logs in ${dir}; Ctrl-C to stop`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await target.down();
      return 0;
    }
  }
  return 2;
}

main(process.argv.slice(2))
  .then((code) => {
    closeProbes();
    process.exitCode = code;
  })
  .catch((e: Error) => {
    closeProbes();
    console.error(`imslab: ${e.message}`);
    process.exitCode = e.name === 'PrerequisiteError' ? 3 : 1;
  });
