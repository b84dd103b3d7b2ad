/**
 * @imslab/runner: the scenario runner behind the imslab CLI, as a library.
 * Scripts, benchmarks and tests import it from here.
 */
export { runScenario, runScenarios, analyseCaptures, DEFAULT_JOBS, DEFAULT_SUBSCRIBERS, type RunOptions } from './run.ts';
export { RunSession, newRunDir, type RunSummary, type ScenarioResult, type RunError } from './run-session.ts';
export { loadAllScenarios, loadScenario, selectScenarios, scenarioJsonSchema, SCENARIO_DIR, SCENARIO_SCHEMA_FILE, type Scenario, type Expectation } from './scenario.ts';
export { STEP_KINDS, type Step } from './steps.ts';
export { CHECKS, defineCheck, type Check, type CheckContext, type CallRecord } from './checks/index.ts';
export { checkCall, type CallOutcome } from './expect.ts';
export { makeTarget } from './targets/index.ts';
export { LocalTarget, PKI_DIR, probeFor } from './targets/local.ts';
export type { Target, UpOptions, CaptureSet } from './targets/target.ts';
export { attachedRun } from './targets/attached.ts';
export { inspectRun, readSummary, resolveRun } from './inspect.ts';
export { junitXml } from './junit.ts';
export { progressLine, verdictTable } from './report.ts';
export { readStates, STATE_DIR } from './state.ts';
export { acquireSlot, LOCAL_SLOTS, type SlotLease } from './slot-lease.ts';
export { captureLosses } from './tcpdump.ts';
export { downLocal } from './down.ts';
export { ElementError, PrerequisiteError, ScenarioError, StepError, UsageError } from './errors.ts';
export { composeFileText, composePlan, imageLines, COMPOSE_FILE } from './cli-verbs.ts';
export { ensureServiceBundle } from './bundle.ts';
export { UeClient } from './ue-client.ts';
