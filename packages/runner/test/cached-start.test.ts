import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../src/bundle.ts';

/**
 * cached-start.ts starts a service bundle with V8's code cache: the service
 * sees its own argv, the cache is written once, and a changed bundle never
 * runs another bundle's cached code (V8 checks a cache against the source's
 * length only: a change of the same length must still take effect).
 */
const dir = mkdtempSync(join(tmpdir(), 'imslab-cached-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const start = ensureBundleSync(fileURLToPath(new URL('../src/launcher/cached-start.ts', import.meta.url)), 'cached-start', dir);
// Stays 2.5 s so that the cache (written 2 s in) is made.
const service = (word: string) => `"use strict";\nfunction say() { return ${JSON.stringify(word)}; }\nprocess.stdout.write(JSON.stringify({ argv: process.argv.slice(1), say: say(), strict: (function () { return this === undefined; })() }));\nsetTimeout(() => {}, 2500);\n`;
const run = (file: string, ...args: string[]) => JSON.parse(execFileSync(process.execPath, [start, file, ...args], { encoding: 'utf8' })) as { argv: string[]; say: string; strict: boolean };
const caches = () => readdirSync(dir).filter((n) => n.endsWith('.v8cache'));

describe('cached-start', () => {
  it('runs the bundle as if started directly, makes a cache, and a same-length change runs the new code', () => {
    const file = join(dir, 'svc.cjs');
    writeFileSync(file, service('alpha'));
    const first = run(file, '--config', 'x.json');
    expect(first).toEqual({ argv: [file, '--config', 'x.json'], say: 'alpha', strict: true });
    expect(caches()).toHaveLength(1);
    expect(run(file).say).toBe('alpha');
    writeFileSync(file, service('omega'));
    expect(run(file).say).toBe('omega');
    expect(caches()).toHaveLength(2);
  }, 20_000);
});
