/**
 * Issue 13 point 3: the scenario loader turns any bad file into its typed,
 * positioned error. Property tests (fast-check, fixed seeds printed on
 * failure) and a mutation fuzzer seeded from the repository's scenarios
 * (@imslab/fuzz's prng; a failure names seed, iteration and the file text).
 *
 * - generated valid scenarios (block, flow or mixed YAML style, awkward
 *   strings) load to exactly what was written;
 * - a renamed key is a FileError naming the key, whose line:column points
 *   at that key in the text;
 * - a value of the wrong type is a FileError at that value's path, whose
 *   line:column points at the value;
 * - broken YAML, mutated repository scenarios and huge documents (long
 *   lists, long strings, deep nesting, alias bombs) load or give a
 *   FileError whose every problem has a line:column inside the file, within
 *   a time bound per input. Regression cases for the bugs these found: an
 *   alias before its anchor and an alias bomb threw the yaml library's
 *   ReferenceError; an empty or comment-only file gave no position.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileError } from '@imslab/element-kit';
import { prng } from '@imslab/fuzz';
import { SECURITY_MODES } from '@imslab/ue/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadAllScenarios, loadScenario, type Scenario } from '../src/scenario.ts';

/** Per-input bound (ms): a load costs 2-10 ms (the schema is rebuilt per file), so 100 leaves room for GC on a busy 2-core machine. */
const BOUND_MS = 100;
/** Bound for the deliberately huge documents (megabyte strings, thousands of steps, deep nesting). */
const HUGE_BOUND_MS = 3000;

const dir = mkdtempSync(join(tmpdir(), 'imslab-scenario-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, '4.1.1'), { recursive: true });

/** Writes `text` as scenario `name` and loads it: the Scenario, or the FileError (anything else is thrown on). */
function load(text: string, name = 'x'): Scenario | FileError {
  const f = join(dir, '4.1.1', `${name}.yaml`);
  writeFileSync(f, text);
  try {
    return loadScenario(f);
  } catch (e) {
    if (e instanceof FileError) return e;
    throw new Error(`untyped ${String(e)} for:\n${text.slice(0, 2000)}`);
  }
}

function timed<T>(bound: number, f: () => T): { value: T; ms: number } {
  let t0 = performance.now();
  let value = f();
  let ms = performance.now() - t0;
  for (let k = 0; k < 2 && ms >= bound; k++) {
    t0 = performance.now();
    value = f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { value, ms };
}

/**
 * Every problem of `e` has a line and column inside `text` (the line after
 * the last counts: the end of the file), and the first one's column lies on
 * its line. (After the first YAML syntax error the yaml library's recovery
 * can report later columns past the end of their line; the first is exact.)
 */
function positioned(e: FileError, text: string): boolean {
  const lines = text.split('\n');
  const first = e.problems[0];
  return first !== undefined && first.column! <= (lines[first.line! - 1]?.length ?? 0) + 2
    && e.message.startsWith(`${e.file}:${first.line}:${first.column}: `)
    && e.problems.every((p) => p.line !== undefined && p.column !== undefined && p.line >= 1 && p.line <= lines.length + 1 && p.column >= 1);
}

/** The text at line:column (1-based). */
function at(text: string, line: number, column: number): string {
  return (text.split('\n')[line - 1] ?? '').slice(column - 1);
}

// ---------------------------------------------------------------- generated valid scenarios

const ident = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const awkward = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
  fc.constantFrom('true', 'null', '~', '- x', 'a: b', '#c', '"q"', "'", '*a', '&a', '!tag', '0x10', '1e3', '@x', '`x', '{x}', '[x]', ' lead', 'trail ', 'multi\nline'),
);
const VERDICTS = ['e2e', 'e2ae', 'none', 'unknown', 'no-media', 'e2m2e(transcoder)'];

interface Generated {
  doc: Record<string, unknown>;
  aliases: string[];
}

const scenarioArb: fc.Arbitrary<Generated> = fc.record({
  clause: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }).map((a) => a.join('.')),
  title: awkward,
  servers: fc.option(fc.subarray(['kms', 'transcoder'], { minLength: 1 }), { nil: undefined }),
  ues: fc.uniqueArray(ident, { minLength: 1, maxLength: 4 }),
  calls: fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,6}$/), { minLength: 1, maxLength: 4 }),
  security: fc.array(fc.option(fc.constantFrom(...SECURITY_MODES), { nil: undefined }), { minLength: 4, maxLength: 4 }),
  packets: fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 4, maxLength: 4 }),
  verdicts: fc.array(fc.constantFrom(...VERDICTS), { minLength: 4, maxLength: 4 }),
  kms: fc.array(fc.option(fc.array(ident, { maxLength: 3 }), { nil: undefined }), { minLength: 4, maxLength: 4 }),
  problems: fc.option(fc.array(awkward, { minLength: 1, maxLength: 3 }), { nil: undefined }),
}).map((g) => {
  const ue = g.ues[0]!;
  const steps: unknown[] = [{ register: g.ues }];
  g.calls.forEach((as, i) => {
    steps.push({ call: { from: ue, to: `sip:${g.ues[i % g.ues.length]}@ims.test`, ...(g.security[i] ? { security: g.security[i] } : {}), as } });
    steps.push(i % 2 === 0 ? { 'wait-media': { call: as, packets: g.packets[i] } } : { 'wait-failure': { call: as } });
  });
  for (const as of g.calls) steps.push({ hangup: { ue, call: as } });
  const expectations = Object.fromEntries(g.calls.map((as, i) => [as, { verdict: g.verdicts[i], ...(g.kms[i] ? { kmsResolved: g.kms[i] } : {}) }]));
  const doc: Record<string, unknown> = {
    name: 'x', clause: g.clause, title: g.title, ...(g.servers ? { network: { servers: g.servers } } : {}), steps, expect: expectations,
    ...(g.problems ? { problems: g.problems } : {}),
  };
  return { doc, aliases: g.calls };
});
const styleArb = fc.constantFrom('block', 'flow', 'any') as fc.Arbitrary<'block' | 'flow' | 'any'>;
const toYaml = (doc: unknown, style: 'block' | 'flow' | 'any'): string => stringify(doc, { collectionStyle: style, lineWidth: 0 });

describe('generated scenarios', () => {
  it('valid scenarios load to exactly what was written, in every YAML style', () => {
    let loadMs = 0;
    fc.assert(fc.property(scenarioArb, styleArb, ({ doc }, style) => {
      const text = toYaml(doc, style);
      const t0 = performance.now();
      const s = load(text);
      loadMs += performance.now() - t0;
      if (s instanceof FileError) throw new Error(`valid scenario refused: ${s.message}\n${text}`);
      expect({ name: s.name, clause: s.clause, title: s.title, steps: s.steps, expect: s.expect }).toEqual({
        name: doc.name, clause: doc.clause, title: doc.title, steps: doc.steps, expect: doc.expect,
      });
      expect(s.network).toEqual(doc.network ?? {});
      expect(s.problems).toEqual(doc.problems ?? []);
    }), { seed: 0x13_0331, numRuns: 200 });
    console.log(`yaml valid: 200 inputs, ${(loadMs / 200).toFixed(2)} ms per load`);
  });

  it('a renamed key is a FileError naming it, positioned at the key', () => {
    // Keys of strict objects: top level, a call step, a wait-media step, an expectation, an expectation alias.
    const where = fc.constantFrom('top', 'call', 'wait', 'expectation', 'alias');
    fc.assert(fc.property(scenarioArb, styleArb, where, fc.nat(), fc.constantFrom('X', 'z', '_', 'colour'), (g, style, w, pick, suffix) => {
      const { doc, aliases } = structuredClone(g);
      const steps = doc.steps as Array<Record<string, Record<string, unknown>>>;
      const exp = doc.expect as Record<string, Record<string, unknown>>;
      let obj: Record<string, unknown>;
      if (w === 'top') obj = doc;
      else if (w === 'call') obj = steps[1]!.call!;
      else if (w === 'wait') obj = steps[2]!['wait-media']!;
      else if (w === 'expectation') obj = exp[aliases[0]!]!;
      else obj = exp;
      const keys = Object.keys(obj);
      const old = keys[pick % keys.length]!;
      const renamed = suffix === 'colour' ? 'colour' : `${old}${suffix}`;
      // Rebuild with the key renamed in place (same order).
      const fresh = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === old ? renamed : k, v]));
      for (const k of keys) delete obj[k];
      Object.assign(obj, fresh);
      const text = toYaml(doc, style);
      const r = load(text);
      if (!(r instanceof FileError)) throw new Error(`renamed key ${old} -> ${renamed} accepted:\n${text}`);
      expect(positioned(r, text), r.message).toBe(true);
      const p = r.problems.find((q) => q.path === renamed || q.path.endsWith(`.${renamed}`));
      expect(p, `${old} -> ${renamed}: ${r.message}\n${text}`).toBeDefined();
      // At the key; an alias no call defines is reported at its expectation (the value, on the key's line or the next).
      const keyLine = text.split('\n').findIndex((l) => new RegExp(`(^|[{,\\s])["']?${renamed}["']?:`).test(l)) + 1;
      const atKey = at(text, p!.line!, p!.column!).replace(/^["']/, '').startsWith(renamed);
      // (An unknown key inside a step is reported at its value, on the same line: accepted.)
      expect(atKey || p!.line === keyLine || (w === 'alias' && p!.line === keyLine + 1), `${JSON.stringify(p)} key on line ${keyLine}\n${text}`).toBe(true);
    }), { seed: 0x13_0332, numRuns: 300 });
  });

  it('a value of the wrong type is a FileError at its path, positioned at the value', () => {
    const targets = ['name', 'clause', 'title', 'steps', 'expect', 'network.servers', 'call.from', 'call.as', 'call.security', 'wait.packets', 'verdict'] as const;
    fc.assert(fc.property(scenarioArb, styleArb, fc.constantFrom(...targets), fc.constantFrom(12345, 'str-xyz', true, -7), (g, style, t, bad) => {
      const { doc, aliases } = structuredClone(g);
      const steps = doc.steps as Array<Record<string, Record<string, unknown>>>;
      const exp = doc.expect as Record<string, Record<string, unknown>>;
      // Wrong for the field: a string where one is allowed becomes a number, and the other way round.
      const stringField = ['name', 'clause', 'title', 'call.from', 'call.as', 'call.security', 'verdict'].includes(t);
      const value = stringField ? (typeof bad === 'string' ? 12345 : bad) : (typeof bad === 'number' && t !== 'wait.packets' ? bad : t === 'wait.packets' ? 'str-xyz' : bad);
      let path: string;
      if (t === 'call.from' || t === 'call.as' || t === 'call.security') {
        steps[1]!.call![t.slice(5)] = value;
        path = `steps[1].call.${t.slice(5)}`;
      } else if (t === 'wait.packets') {
        steps[2]!['wait-media']!.packets = value;
        path = 'steps[2].wait-media.packets';
      } else if (t === 'verdict') {
        exp[aliases[0]!]!.verdict = value;
        path = `expect.${aliases[0]}.verdict`;
      } else if (t === 'network.servers') {
        doc.network = { servers: value };
        path = 'network.servers';
      } else {
        doc[t] = value;
        path = t;
      }
      const text = toYaml(doc, style);
      const r = load(text);
      if (!(r instanceof FileError)) throw new Error(`${path} = ${String(value)} accepted:\n${text}`);
      expect(positioned(r, text), r.message).toBe(true);
      const p = r.problems.find((q) => q.path === path);
      expect(p, `${path}: ${r.message}\n${text}`).toBeDefined();
      expect(at(text, p!.line!, p!.column!).startsWith(String(value)), `${r.message}\n${text}`).toBe(true);
    }), { seed: 0x13_0333, numRuns: 300 });
  });

  it('broken YAML anywhere in a valid scenario is a FileError with a position inside the file', () => {
    const breakers = ['\t- x', '  [unclosed', '{ a: 1', '"open', "'open", ': no key', '- - -', '? ', '&a', '*missing', 'key: [a, b]]', '%YAML 1.2', '---', '...', '  bad: indent:', '\u0000', '!!binary x', 'a: &a b\nc: *a\nd: *b'];
    let worst = 0;
    fc.assert(fc.property(scenarioArb, styleArb, fc.constantFrom(...breakers), fc.nat(), fc.boolean(), ({ doc }, style, br, line, replace) => {
      const lines = toYaml(doc, style).split('\n');
      const i = line % lines.length;
      lines.splice(i, replace ? 1 : 0, br);
      const text = lines.join('\n');
      const { value: r, ms } = timed(BOUND_MS, () => load(text));
      worst = Math.max(worst, ms);
      if (r instanceof FileError) expect(positioned(r, text), `${JSON.stringify(r.problems)}\n${JSON.stringify(text)}`).toBe(true);
    }), { seed: 0x13_0334, numRuns: 400 });
    console.log(`yaml broken: 400 inputs, worst ${worst.toFixed(3)} ms per input`);
    expect(worst).toBeLessThan(BOUND_MS);
  });
});

// ---------------------------------------------------------------- regressions and huge documents

describe('regressions: every bad file is a positioned FileError', { timeout: 60_000 }, () => {
  it.each([
    ['an alias before its anchor (threw the yaml ReferenceError)', 'name: *nope\n', 1, 7],
    ['an alias bomb (threw "Excessive alias count" as a ReferenceError)', `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`, 2, 8],
    ['an empty file (no position)', '', 1, 1],
    ['a file of comments only (no position)', '# nothing here\n# at all\n', 1, 1],
    // 800 unknown 1000-character keys: each of the 800 problems repeats the list of all keys, and the message (640 MB) threw RangeError.
    ['a flood of long unknown keys (threw RangeError: Invalid string length)', `${Array.from({ length: 800 }, (_, i) => `${'k'.repeat(1000)}${i}: ${i}`).join('\n')}\n`, 1, 1],
  ])('%s', (_what, text, line, column) => {
    const r = load(text);
    expect(r).toBeInstanceOf(FileError);
    expect((r as FileError).problems[0]).toMatchObject({ line, column });
    expect((r as FileError).message).toMatch(new RegExp(`x\\.yaml:${line}:${column}: `));
  });

  it('huge documents load or fail with a positioned FileError within the bound', () => {
    const ok = toYaml({ name: 'x', clause: '4.1.1', title: 't', steps: [{ register: ['alice'] }, { call: { from: 'alice', to: 'sip:b@ims.test', as: 'c1' } }], expect: { c1: { verdict: 'e2e' } } }, 'block');
    const manySteps = ok.replace('expect:', `${'  - wait-media: { call: c1, packets: 5 }\n'.repeat(2000)}expect:`);
    const huge: Array<[string, string, 'load' | 'error']> = [
      ['2,000 steps', manySteps, 'load'],
      ['a 1 MB title', ok.replace('title: t', `title: ${'t'.repeat(1 << 20)}`), 'load'],
      ['30,000 comment lines', `${'# c\n'.repeat(30_000)}${ok}`, 'load'],
      ['20,000 nested flow sequences', `name: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, 'error'],
      ['3,000 nested block maps', Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'), 'error'],
      ['1,000 unknown keys', `${Array.from({ length: 1000 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`, 'error'],
      ['an alias bomb 9 levels deep', Array.from({ length: 9 }, (_, i) => `l${i}: &l${i} [${i === 0 ? 'x,x,x,x,x,x,x,x,x' : Array(9).fill(`*l${i - 1}`).join(',')}]`).join('\n'), 'error'],
      ['a 200,000-character key', `${'k'.repeat(200_000)}: 1\n${ok}`, 'error'],
    ];
    for (const [what, text, want] of huge) {
      const { value: r, ms } = timed(HUGE_BOUND_MS, () => load(text));
      console.log(`yaml huge: ${what}: ${r instanceof FileError ? 'FileError' : 'loaded'} in ${ms.toFixed(1)} ms`);
      expect(ms, what).toBeLessThan(HUGE_BOUND_MS);
      if (want === 'load') expect(r, what).not.toBeInstanceOf(FileError);
      else {
        expect(r, what).toBeInstanceOf(FileError);
        expect(positioned(r as FileError, text), what).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------- mutation fuzzer over the repository's scenarios

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);
const SPECIAL = [':', '-', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '?', '\t', '\n', ' ', '  ', '\r', '\u00a0', '\ufeff', '0', 'null', 'true', '~', '<<: *a'];

/** Character- and line-level damage: special characters, deletions, swapped and duplicated lines, indentation, key typos. */
function mutateYaml(rnd: () => number, text: string): string {
  const lines = text.split('\n');
  const l = int(rnd, lines.length);
  const pos = int(rnd, text.length + 1);
  switch (int(rnd, 8)) {
    case 0: return text.slice(0, pos) + SPECIAL[int(rnd, SPECIAL.length)]! + text.slice(pos);
    case 1: return text.slice(0, pos) + text.slice(pos + 1 + int(rnd, 10));
    case 2: { const m = int(rnd, lines.length); [lines[l], lines[m]] = [lines[m]!, lines[l]!]; return lines.join('\n'); }
    case 3: lines.splice(l, 0, lines[int(rnd, lines.length)]!); return lines.join('\n');
    case 4: lines[l] = rnd() < 0.5 ? ` ${lines[l]}` : lines[l]!.replace(/^ /, ''); return lines.join('\n');
    case 5: lines[l] = lines[l]!.replace(/([A-Za-z]+):/, (_m, k: string) => `${k.slice(0, -1)}:`); return lines.join('\n');
    case 6: return text.slice(0, pos);
    default: lines[l] = lines[l]!.replace(/: .*/, `: ${['12', '[]', '{}', 'yes', '"x"', '-1', '1.5', '~'][int(rnd, 8)]}`); return lines.join('\n');
  }
}

describe('mutated repository scenarios (seeded mutation fuzzer)', { timeout: 60_000 }, () => {
  it('8,800 mutated scenario files: each loads or is a FileError positioned inside the file, within the bound', () => {
    const seed = 0x13_0335;
    const rnd = prng(seed);
    const files = loadAllScenarios().map((s) => ({ name: s.name, text: readFileSync(s.file, 'utf8') }));
    const outcome = { loaded: 0, refused: 0 };
    let worst = 0;
    for (let i = 0; i < 8800; i++) {
      const f = files[i % files.length]!;
      let text = mutateYaml(rnd, f.text);
      for (let k = int(rnd, 3); k > 0; k--) text = mutateYaml(rnd, text);
      let r!: Scenario | FileError;
      try {
        const t = timed(BOUND_MS, () => load(text, f.name));
        r = t.value;
        worst = Math.max(worst, t.ms);
      } catch (e) {
        throw new Error(`seed ${seed} iteration ${i} (${f.name}): ${String(e)}`);
      }
      if (r instanceof FileError) {
        if (!positioned(r, text)) throw new Error(`seed ${seed} iteration ${i} (${f.name}): unpositioned ${r.message}\n${text}`);
        outcome.refused++;
      } else outcome.loaded++;
    }
    console.log(`yaml mutation: 8800 inputs, worst ${worst.toFixed(3)} ms per input, ${JSON.stringify(outcome)}`);
    expect(worst).toBeLessThan(BOUND_MS);
    expect(outcome.loaded).toBeGreaterThan(150);
    expect(outcome.refused).toBeGreaterThan(1500);
  });
});
