import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ON_DEMAND_KINDS, controlUrlOf, listensOf, planNetwork } from '@imslab/network';
import { REPO_ROOT, loadSubscribers, type TargetName } from '@imslab/topology';
import type { ProbeDirection } from '@imslab/probe';
import type { CallRecord } from './checks/index.ts';
import { UsageError } from './errors.ts';
import { acquireSlot } from './slot-lease.ts';
import { RunSession, newRunDir, type ScenarioResult } from './run-session.ts';
import { DEFAULT_SUBSCRIBERS, analyseCaptures } from './run.ts';
import { makeContext, snapshotCalls } from './steps.ts';
import { makeTarget } from './targets/index.ts';

/**
 * `imslab up`: the network in the foreground until Ctrl-C. With --capture
 * every link is captured until then, and the captures are analysed like a
 * run's (the calls judged are those our UEs took part in), so a session with
 * a UA of one's own can be inspected (`imslab inspect latest`).
 */
export async function upVerb(t: TargetName, values: { subscribers?: string; servers?: string; capture?: boolean }): Promise<number> {
  const servers = values.servers ? values.servers.split(',').map((s) => s.trim()).filter(Boolean) : [];
  for (const s of servers) if (!(ON_DEMAND_KINDS as readonly string[]).includes(s)) throw new UsageError(`--servers: unknown server "${s}"; servers: ${ON_DEMAND_KINDS.join(', ')}`);
  const subscribers = values.subscribers ?? DEFAULT_SUBSCRIBERS;
  // The local network takes slot 0 (127.0.x.y, the addresses docs/connect-your-own-ua.md names) unless another run holds it.
  const lease = t === 'local' ? acquireSlot(0) : null;
  const plan = planNetwork(loadSubscribers(subscribers, REPO_ROOT), t, { servers }, lease?.slot ?? 0);
  const target = await makeTarget(t);
  const session = new RunSession(newRunDir(), t, ['up']);
  const dir = join(session.dir, 'up');
  mkdirSync(dir, { recursive: true });
  const progress = (l: string) => process.stderr.write(`${l}\n`);
  session.using(target);
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const started = Date.now();
  await target.up(plan, { dir, progress, attachable: { subscribers, servers } });
  if (values.capture) await target.startCaptures(dir);
  console.log(`network up (${t}${servers.length ? `, servers ${servers.join(', ')}` : ''}); logs in ${dir}`);
  for (const e of plan.elements) {
    const ports = listensOf(e).map((l) => `${l.address}:${l.port}/${l.protocol}`).join(' ');
    console.log(`  ${e.name.padEnd(16)} ${e.kind.padEnd(10)} ${ports}${controlUrlOf(e) ? `  control ${controlUrlOf(e)}` : ''}`);
  }
  console.log(values.capture ? `capturing ${plan.links.map((l) => l.name).join(', ')} (every packet of each link); Ctrl-C to stop, analyse and take the network down` : 'Ctrl-C to take it down');
  const sig = await stopped;
  progress(`imslab up: ${sig}: ${values.capture ? 'stopping the captures, analysing, ' : ''}taking the network down`);
  const ctx = makeContext(plan.elements.filter((e) => e.kind === 'ue').map((e) => ({ name: e.name, url: target.controlUrl(e.name) })), () => {});
  const ueCalls = values.capture ? await snapshotCalls(ctx) : {};
  const captures = values.capture ? (await target.stopCaptures()).files : {};
  await target.collect(dir).catch(() => {});
  await target.down();
  session.done(target);
  const result: ScenarioResult = { scenario: 'up', clause: '-', title: 'imslab up', dir: 'up', status: 'pass', error: null, calls: [], pass: true, durationMs: Date.now() - started };
  if (values.capture) {
    // Every call one of our UEs took part in. Only the directions our UEs sent carry a
    // probe: a UA of one's own sends its own audio, which no marker follows.
    const calls: CallRecord[] = [];
    const judge: Record<string, ProbeDirection[]> = {};
    for (const [ue, cs] of Object.entries(ueCalls)) {
      for (const c of cs) {
        if (c.media.txPackets === 0) continue;
        let rec = calls.find((x) => x.callId === c.callId);
        if (!rec) calls.push((rec = { alias: `call-${calls.length + 1}`, callId: c.callId, from: ue }));
        judge[rec.alias] = [...new Set([...(judge[rec.alias] ?? []), c.direction === 'out' ? 'orig' : 'term'] as ProbeDirection[])];
      }
    }
    const a = await analyseCaptures(dir, plan, captures, calls, judge);
    result.calls = a.calls.map((c) => ({ alias: c.alias, callId: c.callId, expected: '-', observed: c.verdict, pass: true, mismatches: [], evidence: c.evidence, conditions: c.conditions }));
    console.log(`analysed ${Object.keys(captures).length} links, ${calls.length} call(s): imslab inspect latest`);
  }
  session.record(result);
  session.finish();
  return sig === 'SIGINT' ? 0 : 0;
}
