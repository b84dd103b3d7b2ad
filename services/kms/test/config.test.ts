/**
 * Config validation (every field named on failure, unknown keys refused) and
 * the process entry as the runner starts it: the esbuild bundle of
 * src/main.ts under node, exit 2 for a bad config, 1 for a port in use, 0
 * after SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileError } from '@imslab/element-kit';
import { elementByName, planNetwork, renderElement } from '@imslab/network';
import { REPO_ROOT, ensureKmsSecrets, loadSubscribers } from '@imslab/topology';
import { SubscriberDirectory, parseKmsConfig, readTlsMaterial } from '../src/index.ts';
import { rawConfig, testDevices, testPki } from './helpers.ts';

const pki = testPki(['127.0.6.12', '127.0.6.13']);
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
const good = () => rawConfig('127.0.6.12', pki.dir, pki, testDevices()) as Record<string, unknown> & { users: Array<Record<string, unknown>>; tls: Record<string, unknown> };

/** The FileError a mutated good config is refused with. */
function refusalOf(mutate: (c: ReturnType<typeof good>) => void): FileError {
  const c = good();
  mutate(c);
  try {
    parseKmsConfig(JSON.parse(JSON.stringify(c)));
  } catch (e) {
    expect(e).toBeInstanceOf(FileError);
    return e as FileError;
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

  it('accepts the config the KMS element renders from config/subscribers.yaml', () => {
    const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
    const plan = planNetwork(subs, 'local', { servers: ['kms'], forwarding: { bob: { noAnswer: { to: 'sip:carol@ims.test', seconds: 4 } } } });
    const e = elementByName(plan, 'kms');
    const devices = subs.subscribers.flatMap((u) => u.devices.map((d) => d.name));
    const secretsDir = mkdtempSync(join(tmpdir(), 'imslab-kms-secrets-'));
    const kmsSecrets = ensureKmsSecrets(secretsDir, devices);
    rmSync(secretsDir, { recursive: true, force: true });
    const rendered = renderElement(e, { configDir: '/c', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (x) => x, kmsSecrets });
    // Read back as the KMS reads it: the JSON text, through its own schema.
    const c = parseKmsConfig(JSON.parse(rendered.files['kms.json']!));
    expect(c.address).toBe(e.addresses.core);
    const dir = new SubscriberDirectory(c.users, c.domain);
    expect(dir.userByUri('sip:bob@ims.test')!.devices.map((d) => d.nai)).toEqual(['bob-1@ims.test', 'bob-2@ims.test']);
    expect(dir.forwardingPath(dir.userByUri('sip:bob@ims.test')!, dir.userByUri('sip:carol@ims.test')!)).toHaveLength(1);
  });

  it('accepts forwarding: {} (and null) but refuses unknown fields, naming them', () => {
    const c = good();
    c.users[0]!.forwarding = {};
    c.users[1]!.forwarding = null as never;
    const parsed = parseKmsConfig(c);
    expect(parsed.users[0]!.forwarding).toEqual({});
    expect(parsed.users[1]!.forwarding).toEqual({});
    const e = refusalOf((x) => Object.assign(x, { extra: 1 }));
    expect(e.problems).toEqual([{ path: 'extra', message: expect.stringMatching(/^unknown key "extra"; the KMS configuration allows: name, address, /) }]);
    expect(refusalOf((x) => Object.assign(x.tls, { keyfile: '/k' })).problems.map((p) => p.path)).toEqual(['tls.keyfile']);
  });

  // The bad field is the first problem named; a user's mistake may also leave groups naming a user no longer there.
  it.each([
    ['name', /letters, digits/, (c: ReturnType<typeof good>) => (c.name = 'a b')],
    ['address', /must be an IP address/, (c: ReturnType<typeof good>) => (c.address = 'kms.local')],
    ['httpsPort', /<=65535/, (c: ReturnType<typeof good>) => (c.httpsPort = 70000)],
    ['controlPort', /must differ from httpsPort \(8443\)/, (c: ReturnType<typeof good>) => (c.controlPort = c.httpsPort)],
    ['domain', /expected string, received undefined/, (c: ReturnType<typeof good>) => delete c.domain],
    ['tls', /expected object/, (c: ReturnType<typeof good>) => (c.tls = 'x' as never)],
    ['tls.keyFile', />=1 characters/, (c: ReturnType<typeof good>) => (c.tls.keyFile = '')],
    ['masterKey', /^is null: no KMS secrets were provisioned/, (c: ReturnType<typeof good>) => (c.masterKey = null)],
    ['masterKey', /must be 64 hex digits/, (c: ReturnType<typeof good>) => (c.masterKey = 'abcd')],
    ['users', /non-empty list of users/, (c: ReturnType<typeof good>) => (c.users = [])],
    ['users[1].uri', /must be a SIP URI/, (c: ReturnType<typeof good>) => (c.users[1]!.uri = 'bob@ims.test')],
    ['users[1].uri', /sip:alice@ims.test is listed twice/, (c: ReturnType<typeof good>) => Object.assign(c.users[1]!, { uri: c.users[0]!.uri, user: 'alice' })],
    ['users[1].user', /"robert" is not the user part of sip:bob@ims.test/, (c: ReturnType<typeof good>) => (c.users[1]!.user = 'robert')],
    ['users[1].forwarding.noAnswer.to', /must be a SIP URI/, (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { noAnswer: { to: 'carol', seconds: 4 } })],
    ['users[1].forwarding.noAnswer.seconds', /expected number, received undefined/, (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { noAnswer: { to: 'sip:carol@ims.test' } })],
    ['users[1].forwarding.always', /unknown key "always"; forwarding allows: unconditional, noAnswer, busy/, (c: ReturnType<typeof good>) => (c.users[1]!.forwarding = { always: 'sip:carol@ims.test' })],
    ['users[1].devices', /non-empty list of \{ name, secret \}/, (c: ReturnType<typeof good>) => (c.users[1]!.devices = [])],
    ['users[1].devices[1].secret', /^is null/, (c: ReturnType<typeof good>) => ((c.users[1]!.devices as Array<Record<string, unknown>>)[1]!.secret = null)],
    ['users[1].devices[0].name', /device alice is listed twice/, (c: ReturnType<typeof good>) => ((c.users[1]!.devices as Array<Record<string, unknown>>)[0]!.name = 'alice')],
    ['users[2].uri', /not in the KMS's domain ims.test/, (c: ReturnType<typeof good>) => (c.users[2]!.uri = 'sip:carol@other.test')],
    ['groups[0].uri', /is a user, not a conference/, (c: ReturnType<typeof good>) => ((c.groups as Array<Record<string, unknown>>)[0]!.uri = 'sip:alice@ims.test')],
    ['groups[0].members[3]', /"sip:zed@ims.test" is not a user of this KMS/, (c: ReturnType<typeof good>) => (c.groups as Array<{ members: string[] }>)[0]!.members.push('sip:zed@ims.test')],
    ['auditLog', /expected string, received number/, (c: ReturnType<typeof good>) => (c.auditLog = 5)],
    ['runDir', /expected string, received undefined/, (c: ReturnType<typeof good>) => delete c.runDir],
  ])('names %s', (field, message, mutate) => {
    const e = refusalOf(mutate);
    expect(e.problems[0]).toEqual({ path: field, message: expect.stringMatching(message) });
    expect(e.message.split('\n')[0]).toBe(`KMS configuration: ${field}: ${e.problems[0]!.message}`);
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
    bundle = join(dir, 'kms.cjs');
    // The options of packages/runner/src/bundle.ts for services (CommonJS, strict, minified with names kept).
    await build({
      entryPoints: [fileURLToPath(new URL('../src/main.ts', import.meta.url))],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      logLevel: 'error',
      banner: { js: '"use strict";' },
    });
  });

  function run(config: unknown, untilLine?: RegExp): Promise<{ code: number | null; stderr: string; file: string }> {
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
      p.on('exit', (code) => resolve({ code, stderr, file }));
    });
  }

  it('bad config → exit 2, a heading line and one line per problem naming file and field', async () => {
    const r = await run({ ...good(), masterKey: 'zz', extra: 1 });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'kms: bad configuration:',
      `${r.file}: masterKey: must be 64 hex digits (a 256-bit key)`,
      expect.stringMatching(new RegExp(`^${r.file}: extra: unknown key "extra"`)),
    ]);
    const notJson = await run('{ nope');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^kms: bad configuration:\n.*kms-.*\.json: not valid JSON: /);
  });

  it('port in use → exit 1 with the one-line start-up failure', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(8443, '127.0.6.13', r));
    try {
      const r = await run({ ...good(), address: '127.0.6.13' });
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^kms kms: start-up failed: /);
      expect(lines[0]).toContain("127.0.6.13:8443/tcp is in use (another imslab run? run 'imslab down')");
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
