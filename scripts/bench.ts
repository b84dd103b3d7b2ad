/**
 * `npm run bench`: the project's speed figures, each measured in this run.
 * - local target: up -> every element healthy; one e2ae scenario's wall time;
 *   `imslab run all` (every scenario on a fresh network, two per core side by side), median
 *   of 3, against one sequential run as the reference
 * - docker target (images built): up -> every element healthy
 * - SRTP protect+unprotect vs libsrtp2 (ratio), capture analysis vs tshark (ratio)
 * - `imslab analyse` on a 1M-packet capture of SIP calls, the whole command vs tshark's field extraction (ratio)
 * - voicemail deposit/retrieval of a 60 s message; largest clean e2e and e2m2e conference
 * - SAKKE and ECCSI vs libwolfssl (ratio); S/MIME (CMS) sign+encrypt vs plain CPIM; MSRP parsing vs Buffer.indexOf
 * - MSRP (`msrp`): a 10 MB file through the Kamailio relay vs a direct TLS connection (ratio)
 * - parser fuzzing (`fuzz`, only when asked for or in a full run): 1,000,000 mutated inputs per parser, crashes and worst time per input
 * - messaging (`messaging`): MESSAGEs per second and p95 latency through the network, S/MIME vs plain CPIM (ratio)
 * - PoC (`poc`): floor request -> grant at the requesting UE on the local target (p50/p95); largest e2e group replicated cleanly, against a bare UDP relay
 * - load (`load`): concurrent e2ae calls stepped up (and SDES e2e at one size) through the P-CSCFs and IMS-AGWs, every call's
 *   media verified from the captures: lost calls, receivers' authentication failures, set-up rate, CPU and memory per
 *   element, the size where it degrades; REGISTER with digest through the P-CSCF with SIPp, stepped rate, highest clean rate.
 *   IMSLAB_LOAD_SIZES, IMSLAB_LOAD_SDES_SIZES, IMSLAB_LOAD_HOLD_S, IMSLAB_LOAD_CALLS_PER_UE, IMSLAB_LOAD_REGISTER_RATES and
 *   IMSLAB_LOAD_REGISTER_S shrink it for a quick look (defaults: 50,100,200,500 / 100 / 5 / 40 / 200,500,1000,1500 / 5)
 * Sections whose prerequisites are missing print why and are skipped.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { planNetwork } from '@imslab/network';
import { DEFAULT_JOBS, LocalTarget, UeClient, loadAllScenarios, makeTarget, newRunDir, runScenarios, selectScenarios, type Target } from '@imslab/runner';
import { loadSubscribers, REPO_ROOT } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import { machineCpu, withProcessAccounting } from './lib/cpu-use.ts';

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

/**
 * `imslab run all` on the local target: median of 3 runs side by side as the CLI runs them by default (two per core),
 * against one sequential run (the reference). Each side-by-side run also gives the machine's busy CPU-seconds: a run that keeps both cores busy cannot end sooner
 * than its CPU-seconds over the cores, whatever the scheduling. The first is run under process accounting (where root
 * and `accton` allow) to say which programs used that CPU.
 */
async function runAll(): Promise<void> {
  const all = loadAllScenarios();
  const timed = async (jobs: number) => {
    const t0 = performance.now();
    const cpu = machineCpu();
    const { results } = await runScenarios(async () => new LocalTarget(), all, { jobs });
    const failed = results.filter((r) => !r.pass).map((r) => r.scenario);
    return { s: (performance.now() - t0) / 1000, failed, ...cpu() };
  };
  const reference = await timed(1);
  const first = await withProcessAccounting(() => timed(DEFAULT_JOBS));
  const runs = [first.result, await timed(DEFAULT_JOBS), await timed(DEFAULT_JOBS)];
  const sorted = [...runs].sort((a, b) => a.s - b.s);
  const median = sorted[1]!;
  const failed = [...new Set([...reference.failed, ...runs.flatMap((r) => r.failed)])];
  const cores = availableParallelism();
  console.log(`run all (${all.length} scenarios, local): ${DEFAULT_JOBS} side by side median of 3 ${median.s.toFixed(1)} s (${sorted.map((t) => t.s.toFixed(1)).join(', ')}); one at a time ${reference.s.toFixed(1)} s; ${(reference.s / median.s).toFixed(2)}x faster; ${failed.length ? `FAILED: ${failed.join(', ')}` : 'every verdict as expected'}`);
  console.log(`  CPU: ${runs.map((r) => `${r.cpuSeconds.toFixed(0)} CPU-s (${(100 * r.busyFraction).toFixed(0)} % of ${cores} cores busy)`).join(', ')}; one at a time ${reference.cpuSeconds.toFixed(0)} CPU-s; ` +
    `floor on ${cores} cores at 100 %: ${(median.cpuSeconds / cores).toFixed(0)} s, ${(median.cpuSeconds / all.length).toFixed(2)} CPU-s per scenario`);
  if (typeof first.split === 'string') console.log(`  CPU per program: not measured (${first.split})`);
  else console.log(`  CPU per program (first side-by-side run, processes that ended in it): ${first.split.filter((c) => c.cpuSeconds >= 0.5).map((c) => `${c.command} ${c.cpuSeconds.toFixed(1)} s (${c.processes})`).join(', ')}`);
}

/**
 * `imslab analyse` as a person runs it (the whole command: start-up, every
 * file pass, the calls followed and judged, JSON written) on a 1M-packet
 * capture of third-party-style calls: 20 SDES-SRTP calls (INVITE and 200 with
 * a=crypto in plain SIP on port 15060, then SRTP both ways), against
 * `tshark -r FILE -T fields` extracting the same facts (SIP Call-ID, RTP
 * SSRC and sequence number) from the same file, in the same run.
 */
async function analyseCommand(packets = 1_000_000): Promise<void> {
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawn } = await import('node:child_process');
  const { buildUdpFrame, LINKTYPE, PcapWriter } = await import('@imslab/capture');
  const { buildRtp } = await import('@imslab/rtp');
  const { generateKeySalt, splitKeySalt, SrtpContext } = await import('@imslab/srtp');
  const dir = mkdtempSync(join(tmpdir(), 'imslab-analyse-bench-'));
  try {
    const file = join(dir, 'calls.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    const calls = 20;
    const T0 = 1_700_000_000_000_000;
    const ua = (c: number, side: 0 | 1) => `10.${side}.${c}.10`;
    const sip = (c: number, answer: boolean, key: string) => {
      const [from, port] = answer ? [ua(c, 1), 43000 + 2 * c] : [ua(c, 0), 41000 + 2 * c];
      const sdp = ['v=0', `o=- ${c} 1 IN IP4 ${from}`, 's=-', `c=IN IP4 ${from}`, 't=0 0', `m=audio ${port} RTP/SAVP 0`, `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`, ''].join('\r\n');
      const start = answer ? 'SIP/2.0 200 OK' : `INVITE sip:b${c}@${ua(c, 1)}:15060 SIP/2.0`;
      return Buffer.from([start, `Via: SIP/2.0/UDP ${ua(c, 0)}:15060;branch=z9hG4bK${c}`, `Call-ID: bench-call-${c}`, 'CSeq: 1 INVITE', 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp].join('\r\n'));
    };
    const keys = Array.from({ length: 2 * calls }, () => generateKeySalt('AES_CM_128_HMAC_SHA1_80'));
    const ctx = keys.map((k) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', k) }));
    let i = 0;
    for (let c = 0; c < calls; c++) {
      w.write(T0 + i++, buildUdpFrame(LINKTYPE.ETHERNET, ua(c, 0), 15060, ua(c, 1), 15060, sip(c, false, keys[2 * c]!.toString('base64'))));
      w.write(T0 + i++, buildUdpFrame(LINKTYPE.ETHERNET, ua(c, 1), 15060, ua(c, 0), 15060, sip(c, true, keys[2 * c + 1]!.toString('base64'))));
    }
    const payload = Buffer.alloc(160, 0xd5);
    for (let n = 0; i < packets; n++) {
      for (let f = 0; f < 2 * calls && i < packets; f++, i++) {
        const c = f >> 1;
        const back = (f & 1) === 1;
        const rtp = buildRtp({ payloadType: 0, sequence: n & 0xffff, timestamp: n * 160, ssrc: 0x5000 + f }, payload);
        const [src, sp, dst, dp] = back ? [ua(c, 1), 43000 + 2 * c, ua(c, 0), 41000 + 2 * c] : [ua(c, 0), 41000 + 2 * c, ua(c, 1), 43000 + 2 * c];
        w.write(T0 + i * 20, buildUdpFrame(LINKTYPE.ETHERNET, src, sp, dst, dp, ctx[f]!.protectRtp(rtp)));
      }
    }
    await w.close();
    const timed = (cmd: string, args: string[]) => new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`${cmd} exited ${code}`))));
    });
    const ours = await timed(join(REPO_ROOT, 'bin', 'imslab'), ['analyse', file, '--json']);
    const tshark = await timed('tshark', ['-r', file, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'rtp.ssrc', '-e', 'rtp.seq']);
    console.log(`analyse command: imslab analyse ${packets} packets (${(statSync(file).size / 2 ** 20).toFixed(0)} MB, ${calls} SDES-SRTP calls) ${ours.toFixed(2)} s, tshark -T fields ${tshark.toFixed(2)} s: ${(tshark / ours).toFixed(1)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `load`: call load (e2ae stepped up, SDES e2e at one size), then REGISTER load; each on its own network. */
async function load(): Promise<void> {
  const list = (name: string, dflt: string) => (process.env[name] ?? dflt).split(',').map(Number).filter((n) => n > 0);
  const holdS = Number(process.env.IMSLAB_LOAD_HOLD_S ?? 5);
  const callsPerUe = Number(process.env.IMSLAB_LOAD_CALLS_PER_UE ?? 40);
  const { runCallLoadBench, formatCallLoadBench, formatCallStep } = await import('../services/ue/bench/call-load-bench.ts');
  // Captures in batches (no --immediate-mode; packages/runner/src/tcpdump.ts):
  // per-packet wake-ups cost tcpdump 22 % of a core at 150 calls and it then
  // dropped 0.7 % of the packets; batched, 5 % and none (2026-12-03).
  process.env.IMSLAB_CAPTURE_BATCHED ??= '1';
  for (const [security, sizes] of [['e2ae', list('IMSLAB_LOAD_SIZES', '50,100,200,500')], ['sdes-e2e', list('IMSLAB_LOAD_SDES_SIZES', '100')]] as const) {
    if (sizes.length === 0) continue;
    try {
      // Each step printed as it ends: a large step takes minutes.
      console.log(`call load ${security}: steps of ${sizes.join(', ')} calls, held ${holdS} s, up to ${callsPerUe} per UE`);
      const r = await runCallLoadBench({ security, sizes, holdS, callsPerUe, onStep: (s) => console.log(formatCallStep(s)) });
      console.log(formatCallLoadBench(r, { steps: false }));
    } catch (e) {
      console.log(`call load ${security}: failed (${(e as Error).message})`);
    }
  }
  const { runRegisterLoadBench, formatRegisterLoadBench } = await import('../services/pcscf/bench/register-load-bench.ts');
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
  } catch (e) {
    // sipp -v exits 99 after printing its version; only a missing binary is an error here.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.log('register load: skipped (no sipp: apt-get install sip-tester, or scripts/setup.sh)');
      return;
    }
  }
  try {
    console.log(formatRegisterLoadBench(await runRegisterLoadBench({ rates: list('IMSLAB_LOAD_REGISTER_RATES', '200,500,1000,1500'), seconds: Number(process.env.IMSLAB_LOAD_REGISTER_S ?? 5) })));
  } catch (e) {
    console.log(`register load: failed (${(e as Error).message})`);
  }
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
  if (want('analyse-command')) {
    try {
      await analyseCommand();
    } catch (e) {
      console.log(`analyse command: skipped (${(e as Error).message})`);
    }
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
  if (want('sakke')) {
    try {
      const { runSakkeBench, formatSakkeBench } = await import('../packages/sakke/bench/sakke-bench.ts');
      console.log(formatSakkeBench(runSakkeBench()));
    } catch (e) {
      console.log(`sakke: skipped (${(e as Error).message})`);
    }
  }
  if (want('cms')) {
    const { runCmsBench, formatCmsBench } = await import('../packages/cms/bench/cms-bench.ts');
    console.log(formatCmsBench(await runCmsBench()));
  }
  if (want('msrp')) {
    const { runMsrpBench, formatMsrpBench } = await import('../packages/msrp/bench/msrp-bench.ts');
    console.log(formatMsrpBench(await runMsrpBench()));
    try {
      const { runRelayThroughputBench, formatRelayThroughput } = await import('../packages/msrp/bench/relay-throughput-bench.ts');
      console.log(formatRelayThroughput(await runRelayThroughputBench()));
    } catch (e) {
      console.log(`msrp-relay: skipped (${(e as Error).message})`);
    }
  }
  if (want('messaging')) {
    const { runMessagingBench, formatMessagingBench } = await import('../services/ue/bench/messaging-bench.ts');
    console.log(formatMessagingBench(await runMessagingBench()));
  }
  if (want('fuzz')) {
    // 1,000,000 inputs per parser (issue 13); IMSLAB_FUZZ_INPUTS lowers it for a quick look. Long: about 85 minutes on 2 cores (25 parsers).
    const n = Number(process.env.IMSLAB_FUZZ_INPUTS ?? 1_000_000);
    const { runParserFuzzBench, formatParserFuzzBench } = await import('../packages/fuzz/bench/parsers-bench-sip-sdp-mikey.ts');
    console.log(formatParserFuzzBench(await runParserFuzzBench(n)));
    const { runMediaFuzzBench, formatMediaFuzzBench } = await import('../packages/fuzz/bench/parsers-bench-media-capture-yaml.ts');
    console.log(formatMediaFuzzBench(await runMediaFuzzBench(n)));
    const { runMessagingFuzzBench, formatMessagingFuzzBench } = await import('../packages/fuzz/bench/parsers-bench-messaging-floor.ts');
    console.log(formatMessagingFuzzBench(await runMessagingFuzzBench(n)));
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
  if (want('load')) await load();
  if (want('poc')) {
    const { formatFloorGrant, formatGroupRun, formatGroupRunHeader, formatGroupSize, killPocServers, runFloorGrantBench, runGroupSizeBench } = await import('../services/poc/bench/poc-bench.ts');
    // Floor control is the same in both groups (SRTCP under each member's client-server key); team is e2e (group key from the KMS), ops e2m2e.
    for (const group of ['team', 'ops'] as const) {
      try {
        console.log(formatFloorGrant(await runFloorGrantBench({ group, requests: 100 })));
      } catch (e) {
        console.log(`poc floor (group ${group}): skipped (${(e as Error).message})`);
      }
    }
    try {
      console.log(formatGroupRunHeader());
      console.log(formatGroupSize(await runGroupSizeBench({ onRun: (r) => console.log(formatGroupRun(r)) })));
    } finally {
      killPocServers();
    }
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exitCode = 1;
});
