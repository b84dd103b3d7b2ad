import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const ADDR = '127.0.5.31';

function run(configFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const out = { stderr: '' };
  child.stderr.on('data', (d: Buffer) => void (out.stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exit };
}

async function runToExit(configFile: string): Promise<{ code: number | null; stderr: string }> {
  const r = run(configFile);
  const code = await r.exit;
  return { code, stderr: r.out.stderr };
}

function config(dir: string, patch: Record<string, unknown> = {}): string {
  const file = join(dir, 'ue.json');
  writeFileSync(file, JSON.stringify({
    name: 'carol', user: 'carol', impu: 'sip:carol@ims.test', password: 'x', address: ADDR, sipPort: 5060, controlPort: 8002, transport: 'udp',
    pcscf: { host: '127.0.5.32' }, media: { portMin: 42000, portMax: 42010 }, runDir: dir, ...patch,
  }));
  return file;
}

describe('UE process', () => {
  it('exits 2 naming the file and the bad field, one line per problem', async () => {
    const file = config(tempDir(), { transport: 'sctp' });
    const r = await runToExit(file);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['ue: bad configuration:', `${file}: transport: Invalid option: expected one of "udp"|"tcp"|"tls"`]);
  });

  it('exits 1 with the one-line start-up failure when the SIP port is in use', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(5060, ADDR, () => r()));
    try {
      const r = await runToExit(config(tempDir()));
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ue carol: start-up failed: /);
      expect(lines[0]).toContain(`${ADDR}:5060/udp is in use (another imslab run? run 'imslab down')`);
    } finally {
      blocker.close();
    }
  });

  it('starts, answers /health, and exits 0 on SIGTERM', async () => {
    const r = run(config(tempDir()));
    const end = Date.now() + 10_000;
    while (!r.out.stderr.includes('listening on') && Date.now() < end) await new Promise((x) => setTimeout(x, 50));
    const health = await (await fetch(`http://${ADDR}:8002/health`)).json();
    expect(health).toMatchObject({ ok: true, name: 'carol', registered: false });
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });
});
