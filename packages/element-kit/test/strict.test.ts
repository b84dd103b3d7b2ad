import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FileError, checkStrict, closest, parseYamlStrict, strictObject } from '../src/index.ts';

const Schema = strictObject({
  name: z.string(),
  items: z.array(strictObject({ kind: z.enum(['a', 'b']), size: z.number().int().optional() }, 'an item')),
}, 'a thing');

function problems(text: string) {
  try {
    parseYamlStrict(Schema, text, 'f.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(FileError);
    return (e as FileError).message.split('\n');
  }
  throw new Error('expected a FileError');
}

describe('strict files', () => {
  it('reads what the schema allows', () => {
    expect(parseYamlStrict(Schema, 'name: x\nitems:\n  - { kind: a, size: 3 }\n', 'f.yaml')).toEqual({ name: 'x', items: [{ kind: 'a', size: 3 }] });
  });

  it('refuses an unknown key at its line and column, says what is allowed and what was meant', () => {
    expect(problems('name: x\nitems:\n  - kind: a\n    sise: 3\n')).toEqual([
      'f.yaml:4:5: items[0].sise: unknown key "sise" (did you mean "size"?); an item allows: kind, size',
    ]);
    expect(problems('name: x\nitems: []\nextra: 1\n')[0]).toBe('f.yaml:3:1: extra: unknown key "extra"; a thing allows: name, items');
  });

  it('a flood of unknown keys: one problem per key, each message naming a few and counting the rest (it grew as N squared)', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}${'x'.repeat(200)}`);
    const p = problems(`name: x\nitems: []\n${keys.map((k) => `${k}: 1`).join('\n')}\n`);
    expect(p).toHaveLength(3000);
    expect(p[0]).toMatch(/^f\.yaml:3:1: k0x+: unknown keys "k0x+", "k1x+", "k2x+", "k3x+", "k4x+" and 2995 more; a thing allows: name, items$/);
    expect(Math.max(...p.map((l) => l.length))).toBeLessThan(1200);
  });

  it('refuses bad values at the value, with what was found and what is allowed', () => {
    const p = problems('name: x\nitems:\n  - kind: c\n  - kind: a\n    size: 1.5\n');
    expect(p[0]).toMatch(/^f\.yaml:3:11: items\[0\]\.kind: Invalid option: expected one of "a"\|"b"$/);
    expect(p[1]).toMatch(/^f\.yaml:5:11: items\[1\]\.size: .*expected int/);
  });

  it('names YAML syntax errors and duplicate keys with their position', () => {
    expect(problems('name: x\nname: y\nitems: []\n')[0]).toMatch(/^f\.yaml:2:1: not valid YAML: Map keys must be unique/);
    expect(problems('name: [x\n')[0]).toMatch(/^f\.yaml:\d+:\d+: not valid YAML/);
  });

  it('checks objects built in memory (a rendered configuration) by path', () => {
    expect(() => checkStrict(Schema, { name: 1, items: [] }, 'x.json')).toThrow('x.json: name: Invalid input: expected string, received number');
  });

  it('suggests only a near and unique word', () => {
    expect(closest('kmsResolvd', ['kmsResolved', 'kmsRefused'])).toBe('kmsResolved');
    expect(closest('zzz', ['kmsResolved'])).toBeNull();
  });
});
