import { spawn } from 'node:child_process';

/**
 * For the stores' crash tests (issue 13: a store killed with SIGKILL
 * mid-write keeps every earlier message and reports the partial one): runs
 * a writer script (TypeScript, through tsx) that prints `done <id>` per
 * finished entry and `torn <id>` once it has written part of the next one
 * and stopped there, then SIGKILLs it. Waiting for the line is the
 * readiness check: the kill always lands mid-write.
 */
export async function killMidWrite(writer: string, args: readonly string[]): Promise<{ done: string[]; torn: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      const parts = (buf += d.toString()).split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (lines.some((l) => l.startsWith('torn '))) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before tearing a write: ${lines.join(' | ')}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
  child.kill('SIGKILL');
  const signal = await exited;
  return { done: lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5)), torn: lines.find((l) => l.startsWith('torn '))!.slice(5), signal };
}
