/**
 * Config validation (every field named on failure) and the process entry
 * as the runner starts it: the esbuild bundle of src/main.ts under node,
 * exit 2 for a bad config, 1 for a port in use, 0 after SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureKmsSecrets, kmsConfig, loadSubscribers, planNetwork, type KmsPlan } from '@imslab/topology';
import { KmsConfigError, SubscriberDirectory, parseKmsConfig, readTlsMaterial } from '../src/index.ts';
import { rawConfig, testDevices, testPki } from './helpers.ts';

const pki = testPki(['127.0.6.12', '127.0.6.13']);
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
const good = () => rawConfig('127.0.6.12', pki.dir, pki, testDevices()) as Record<string, unknown> & { users: Array<Record<string, unknown>>; tls: Record<string, unknown> };

function fieldOf(mutate: (c: ReturnType<typeof good>) => void): string {
  const c = good();
  mutate(c);
  try {
    parseKmsConfig(JSON.parse(JSON.stringify(c)));
  } catch (e) {
    expect(e).toBeInstanceOf(KmsConfigError);
    return (e as KmsConfigError).field;
  }
  throw new Error('config was accepted');
}

describe('parseKmsConfig', () => {
  it('accepts what the topology renders', () => {
    const c = parseKmsConfig(good());
    expect(c.users.map((u) => u.uri)).toEqual(['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test', 'sip:dave@ims.test']);
    expect(c.users[1]!.forwarding).toEqual({ noAnswer: { to: 'sip:carol@ims.test', seconds: 4 } });
    expect(c.masterKey.length).toBe(32);
    expect(readTlsMaterial(c).cert.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('accepts the config packages/topology renders from config/subscribers.yaml', () => {
    const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
    const plan = planNetwork(subs, 'local', { servers: ['kms'], forwarding: { bob: { noAnswer: { to: 'sip:carol@ims.test', seconds: 4 } } } });
    const e = plan.elements.find((x): x is KmsPlan => x.kind === 'kms')!;
    const devices = subs.subscribers.flatMap((u) => u.devices.map((d) => d.name));
    const secretsDir = mkdtempSync(join(tmpdir(), 'imslab-kms-secrets-'));
    const secrets = ensureKmsSecrets(secretsDir, devices);
    rmSync(secretsDir, { recursive: true, force: true });
    const raw = kmsConfig(e, { configDir: '/c', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (x) => x, kmsSecrets: secrets });
    const c = parseKmsConfig(JSON.parse(JSON.stringify(raw)));
    expect(c.address).toBe(e.address);
    const dir = new SubscriberDirectory(c.users, c.domain);
    expect(dir.userByUri('sip:bob@ims.test')!.devices.map((d) => d.nai)).toEqual(['bob-1@ims.test', 'bob-2@ims.test']);
    expect(dir.forwardingPath(dir.userByUri('sip:bob@ims.test')!, dir.userByUri('sip:carol@ims.test')!)).toHaveLength(1);
    // Without provisioned secrets the KMS refuses to start, naming the field.
    expect(() => parseKmsConfig(JSON.parse(JSON.stringify(kmsConfig(e, { configDir: '/c', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (x) => x }))))).toThrow(
      "field 'masterKey': is null",
    );
  });

  it('accepts forwarding: {} and ignores unknown top-level fields', () => {
    const c = good();
    c.users[0]!.forwarding = {};
    (c as Record<string, unknown>).extra = 1;
    expect(parseKmsConfig(c).users[0]!.forwarding).toEqual({});
  });

  it.each([
    ['name', (c: ReturnType<typeof good>) => (c.name = 'a b')],
    ['address', (c: ReturnType<typeof good>) => (c.address = 'kms.local')],
    ['httpsPort', (c: ReturnType<typeof good>) => (c.httpsPort = 70000)],
    ['controlPort', (c: ReturnType<typeof good>) => (c.controlPort = c.httpsPort)],
    ['domain', (c: ReturnType<typeof good>) => delete c.domain],
    ['tls', (c: ReturnType<typeof good>) => (c.tls = 'x' as never)],
    ['tls.keyFile', (c: ReturnType<typeof good>) => (c.tls.keyFile = '')],
    ['masterKey', (c: ReturnType<typeof good>) => (c.masterKey = null)],
    ['masterKey', (c: ReturnType<typeof good>) => (c.masterKey = 'abcd')],
    ['users', (c: ReturnType<typeof good>) => (c.users = [])],
    ['users[1].uri', (c: ReturnType<typeof good>) => (c.users[1]!.uri = 'bob@ims.test')],
    ['users[1].uri', (c: ReturnType<typeof good>) => Object.assign(c.users[1]!, { uri: c.users[0]!.uri, user: 'alice' })],
    ['users[1].user', (c: ReturnType<typeof good>) => (c.users[1]!.user = 'robert')],
    ['users[1].forwarding.noAnswer.to', (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { noAnswer: { to: 'carol', seconds: 4 } })],
    ['users[1].forwarding.noAnswer.seconds', (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { noAnswer: { to: 'sip:carol@ims.test' } })],
    ['users[1].forwarding.always', (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { always: 'sip:carol@ims.test' })],
    ['users[1].devices', (c: ReturnType<typeof good>) => (c.users[1]!.devices = [])],
    ['users[1].devices[1].secret', (c: ReturnType<typeof good>) => ((c.users[1]!.devices as Array<Record<string, unknown>>)[1]!.secret = null)],
    ['users[1].devices[0].name', (c: ReturnType<typeof good>) => ((c.users[1]!.devices as Array<Record<string, unknown>>)[0]!.name = 'alice')],
    ['users[2].uri', (c: ReturnType<typeof good>) => (c.users[2]!.uri = 'sip:carol@other.test')],
    ['auditLog', (c: ReturnType<typeof good>) => (c.auditLog = 5)],
    ['runDir', (c: ReturnType<typeof good>) => delete c.runDir],
  ])('names %s', (field, mutate) => {
    expect(fieldOf(mutate)).toBe(field);
  });

  it('an unreadable TLS file names its field', () => {
    const c = parseKmsConfig({ ...good(), tls: { ...good().tls, certFile: '/nonexistent/kms.pem' } });
    expect(() => readTlsMaterial(c)).toThrow(/field 'tls.certFile': cannot read \/nonexistent\/kms.pem: ENOENT/);
  });
});

describe('main.ts as the runner starts it (esbuild bundle)', () => {
  let bundle = '';
  const dir = mkdtempSync(join(tmpdir(), 'imslab-kms-main-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    bundle = join(dir, 'kms.mjs');
    // Same options as packages/runner/src/bundle.ts.
    await build({
      entryPoints: [fileURLToPath(new URL('../src/main.ts', import.meta.url))],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'error',
      banner: { js: "import { createRequire as __imslabRequire } from 'node:module'; const require = __imslabRequire(import.meta.url);" },
    });
  });

  function run(config: unknown, untilLine?: RegExp): Promise<{ code: number | null; stderr: string }> {
    const file = join(dir, `kms-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [bundle, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let killed = false;
      p.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (!killed && untilLine?.test(stderr)) killed = p.kill('SIGTERM');
      });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('bad config → exit 2 with one line naming the field', async () => {
    const r = await run({ ...good(), masterKey: 'zz' });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^kms: config .*: field 'masterKey': must be 64 hex digits/);
    expect((await run('{ nope')).code).toBe(2);
  });

  it('port in use → exit 1 with the one-line message', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(8443, '127.0.6.13', r));
    try {
      const r = await run({ ...good(), address: '127.0.6.13' });
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd()).toBe("kms: 127.0.6.13:8443/tcp is in use (another imslab run? run 'imslab down')");
    } finally {
      blocker.close();
    }
  });

  it('starts, announces itself, and exits 0 on SIGTERM', async () => {
    const r = await run(good(), /MIKEY-TICKET on https:\/\/127\.0\.6\.12:8443/);
    expect(r.stderr).toContain('control API on http://127.0.6.12:8000');
    expect(r.code).toBe(0);
  });
});
