/**
 * `npm run bench`: the project's speed figures, each measured in this run.
 * - local target: up -> every element healthy; one e2ae scenario's wall time;
 *   `imslab run all` (every scenario on a fresh network, 3 side by side), median
 *   of 3, against one sequential run as the reference
 * - docker target (images built): up -> every element healthy
 * - SRTP protect+unprotect vs libsrtp2 (ratio), capture analysis vs tshark (ratio)
 * - voicemail deposit/retrieval of a 60 s message; largest clean e2e and e2m2e conference
 * Sections whose prerequisites are missing print why and are skipped.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { planNetwork } from '@imslab/network';
import { LocalTarget, UeClient, loadAllScenarios, makeTarget, newRunDir, runScenarios, selectScenarios, type Target } from '@imslab/runner';
import { loadSubscribers, REPO_ROOT } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';

const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
const only = process.argv.slice(2);
const want = (s: string) => only.length === 0 || only.includes(s);

async function timeUp(target: Target, label: string, runs: number): Promise<void> {
  const plan = planNetwork(subs, target.name);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = join(newRunDir(), `bench-up-${i}`);
    const t0 = performance.now();
    try {
      await target.up(plan, { dir });
      times.push(performance.now() - t0);
    } finally {
      await target.down();
    }
  }
  times.sort((a, b) => a - b);
  console.log(`${label}: up -> all healthy, median of ${runs}: ${(times[Math.floor(runs / 2)]! / 1000).toFixed(2)} s (min ${(times[0]! / 1000).toFixed(2)} s)`);
}

/**
 * Call set-up time (INVITE sent -> call confirmed at the caller, from the
 * caller UE's own timestamps) for unprotected, SDES and MIKEY-TICKET calls on
 * the local network, each measured in this run; MIKEY adds the KMS round
 * trips (ticket request at the caller, resolve at the callee).
 */
async function callSetup(calls = 8): Promise<void> {
  const target = new LocalTarget();
  const plan = planNetwork(subs, 'local', { servers: ['kms'] });
  try {
    await target.up(plan, { dir: join(newRunDir(), 'bench-setup') });
    const alice = new UeClient('alice', target.controlUrl('alice'));
    const bob = new UeClient('bob-1', target.controlUrl('bob-1'));
    await alice.register();
    await bob.register();
    const median: Record<string, number> = {};
    for (const security of ['none', 'sdes-e2e', 'e2e']) {
      const times: number[] = [];
      for (let i = 0; i < calls; i++) {
        const { callId } = await alice.call('sip:bob@ims.test', security);
        let s: CallStatus | undefined;
        for (let n = 0; n < 400; n++) {
          s = (await alice.calls()).find((c) => c.callId === callId);
          if (s && s.state !== 'calling' && s.state !== 'ringing' && s.state !== 'early') break;
          await new Promise((r) => setTimeout(r, 10));
        }
        if (s?.state !== 'confirmed' || !s.answeredAt) throw new Error(`${security} call did not confirm: ${s?.failure?.reason ?? s?.state}`);
        times.push(Date.parse(s.answeredAt) - Date.parse(s.startedAt ?? s.answeredAt));
        await alice.hangup(callId);
      }
      times.sort((a, b) => a - b);
      median[security] = times[Math.floor(times.length / 2)]!;
    }
    console.log(`call set-up (median of ${calls}): none ${median.none} ms, SDES ${median['sdes-e2e']} ms, MIKEY-TICKET ${median.e2e} ms (${(median.e2e! / median['sdes-e2e']!).toFixed(2)}x SDES)`);
  } finally {
    await target.down();
  }
}

/** `imslab run all` on the local target: median of 3 runs 3 side by side, against one sequential run (the reference). */
async function runAll(): Promise<void> {
  const all = loadAllScenarios();
  const timed = async (jobs: number) => {
    const t0 = performance.now();
    const { results } = await runScenarios(async () => new LocalTarget(), all, { jobs });
    const failed = results.filter((r) => !r.pass).map((r) => r.scenario);
    return { s: (performance.now() - t0) / 1000, failed };
  };
  const reference = await timed(1);
  const runs = [await timed(3), await timed(3), await timed(3)];
  const times = runs.map((r) => r.s).sort((a, b) => a - b);
  const failed = [...new Set([...reference.failed, ...runs.flatMap((r) => r.failed)])];
  console.log(`run all (${all.length} scenarios, local): 3 side by side median of 3 ${times[1]!.toFixed(1)} s (${times.map((t) => t.toFixed(1)).join(', ')}); one at a time ${reference.s.toFixed(1)} s; ${(reference.s / times[1]!).toFixed(2)}x faster; ${failed.length ? `FAILED: ${failed.join(', ')}` : 'every verdict as expected'}`);
}

async function main(): Promise<void> {
  if (want('local')) {
    await timeUp(new LocalTarget(), 'local target', 3);
    const t0 = performance.now();
    const { results } = await runScenarios(async () => new LocalTarget(), selectScenarios(['access-edge-protection']));
    console.log(`local target: access-edge-protection wall time ${((performance.now() - t0) / 1000).toFixed(2)} s (${results[0]?.pass ? 'pass' : 'FAIL'})`);
  }
  if (want('run-all')) await runAll();
  if (want('docker')) {
    try {
      const docker = await makeTarget('docker');
      await docker.checkPrerequisites();
      await timeUp(docker, 'docker target (images built)', 3);
    } catch (e) {
      console.log(`docker target: skipped (${(e as Error).message})`);
    }
  }
  if (want('srtp')) {
    // In a process of its own: measured here, loading unrelated CommonJS
    // packages (yaml, node-forge) into the same process slowed the SRTP loop
    // by ~20-40 % while libsrtp2 (a separate process) was unaffected.
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/srtp/bench/srtp-bench.ts')], { cwd: REPO_ROOT, encoding: 'utf8' });
    const num = (label: string) => Number(new RegExp(`${label}:\\s*([\\d,]+)`).exec(out)?.[1]?.replace(/,/g, '') ?? NaN);
    const ours = num('@imslab/srtp');
    const libsrtp = num('libsrtp2');
    console.log(`srtp: ours ${ours} pairs/s, libsrtp2 ${libsrtp} pairs/s, ratio ${(ours / libsrtp).toFixed(2)}x`);
  }
  if (want('capture')) {
    const { runCaptureBench } = await import('../packages/capture/bench/capture-bench.ts');
    const r = await runCaptureBench();
    console.log(`capture: ours ${Math.round(r.oursPps)} packets/s, tshark ${Math.round(r.tsharkPps)} packets/s, ratio ${r.ratio.toFixed(1)}x, peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  }
  if (want('analysis')) {
    // Every packet accounted for (every tag verified), on several shapes of capture, against tshark's field extraction of the same file.
    const { runAnalysisBench, formatAnalysisBench } = await import('../packages/analysis/bench/analysis-bench.ts');
    for (const r of await runAnalysisBench()) console.log(formatAnalysisBench(r));
  }
  if (want('report')) {
    // report.html for the newest full run under runs/ (a copy of it), or a synthetic 27-scenario run when there is none.
    const { runReportBench } = await import('@imslab/report');
    const r = await runReportBench().catch(() => runReportBench({ synthetic: true }));
    console.log(`report: ${r.scenarios} scenarios (${r.source}): first ${Math.round(r.firstMs)} ms, median ${Math.round(r.medianMs)} ms, ${(r.bytes / 1024).toFixed(0)} KiB; target < ${r.targetMs} ms: ${r.ok ? 'met' : 'NOT MET'}`);
  }
  if (want('mikey')) {
    try {
      const { runMikeyBench } = (await import('../packages/mikey/bench/mikey-bench.ts' as string)) as { runMikeyBench: () => Promise<{ ticketExchangesPerSecond: number }> };
      const r = await runMikeyBench();
      console.log(`mikey-ticket: ${Math.round(r.ticketExchangesPerSecond)} REQUEST+TRANSFER+RESOLVE exchanges/s in process`);
    } catch (e) {
      console.log(`mikey-ticket: skipped (${(e as Error).message})`);
    }
  }
  if (want('setup')) await callSetup();
  if (want('kms')) {
    const { runKmsBench } = await import('../services/kms/bench/kms-bench.ts');
    const r = await runKmsBench();
    console.log(`kms: ${Math.round(r.roundTripsPerSecond)} ticket request+resolve round trips/s over HTTPS (keep-alive)`);
  }
  if (want('voicemail')) {
    const { runVoicemailBench } = await import('../services/voicemail/bench/voicemail-bench.ts');
    const r = await runVoicemailBench();
    console.log(`voicemail: ${r.seconds} s message: deposit ${(r.depositWallMs / 1000).toFixed(2)} s, stored ${r.storedBytes} bytes = ${Math.round(r.storedBytesPerAudioSecond)} bytes per audio second (${r.storeOverheadRatio.toFixed(3)}x the SRTP on the wire); retrieval: first packet after ${r.retrievalFirstPacketMs.toFixed(0)} ms, playback ${(r.playbackMs / 1000).toFixed(2)} s (${r.pacingRatio.toFixed(4)}x the deposit), gap deviation p50 ${r.gapDeviationP50Ms.toFixed(2)} / p99 ${r.gapDeviationP99Ms.toFixed(2)} ms, ${r.receivedPackets}/${r.wirePackets} packets, ${r.identical ? 'byte-identical' : 'NOT identical'}`);
  }
  if (want('conference')) {
    const { runConferenceBench } = await import('../services/conference/bench/conference-bench.ts');
    const r = await runConferenceBench();
    for (const mode of ['e2e', 'e2m2e'] as const) {
      const m = r[mode];
      console.log(`conference ${mode}: largest conference with no loss and no authentication failure: ${m.maxCleanMembers} members (limited by ${m.limitedBy}: ${m.limitNote})`);
    }
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exitCode = 1;
});
