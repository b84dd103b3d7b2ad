import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';

/**
 * Strict files: every file imslab reads (scenarios, subscribers.yaml, the
 * configuration rendered for an element) is checked against a zod schema.
 * Unknown keys and bad values are refused with where they are
 * (`file:line:column` for YAML), what was found and what is allowed.
 */

/** One thing wrong in a file, with where it is. */
export interface FileProblem {
  /** Dotted path inside the document (`expect.c1.kmsResolvd`). */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export class FileError extends Error {
  override name = 'FileError';
  constructor(readonly file: string, readonly problems: FileProblem[]) {
    super(problems.map((p) => `${file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
  }
}

/** Unknown keys named in one message; the rest are counted. */
const MAX_KEYS_NAMED = 5;

/**
 * A strict object: an unknown key is an error naming the keys allowed, with
 * a suggestion when the key is one typo away from an allowed one.
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S, what?: string) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      // At most a few keys named: the message is repeated once per unknown key (one problem each), so a
      // flood of keys named in full grew as N squared (2,000 keys: a 34 MB message; more: a RangeError).
      const shown = iss.keys.slice(0, MAX_KEYS_NAMED);
      const more = iss.keys.length - shown.length;
      const near = shown.map((k) => closest(k, allowed)).filter((x): x is string => x !== null);
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${shown.map((k) => `"${k.slice(0, 80)}"`).join(', ')}${more > 0 ? ` and ${more} more` : ''}${near.length ? ` (did you mean "${near.join('", "')}"?)` : ''}; ${what ? `${what} allows` : 'allowed'}: ${allowed.join(', ')}`;
    },
  });
}

/** The allowed word at edit distance 1 or 2 from `word`, if exactly one is. */
export function closest(word: string, allowed: readonly string[]): string | null {
  const near = allowed.filter((a) => distance(word.toLowerCase(), a.toLowerCase()) <= 2);
  return near.length === 1 ? near[0]! : null;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** Zod's issues as problems; `locate` maps a path (and an unknown key) to a line and column. */
function problemsOf(error: z.ZodError, locate?: (path: PropertyKey[], key?: string) => { line: number; column: number } | undefined): FileProblem[] {
  const out: FileProblem[] = [];
  for (const iss of error.issues) {
    const path = iss.path as PropertyKey[];
    if (iss.code === 'unrecognized_keys') {
      // One problem per key, each at the key itself.
      for (const key of iss.keys) out.push({ path: pathText([...path, key]), ...locate?.(path, key), message: iss.message });
      continue;
    }
    if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      // The branch that got furthest says most; zod lists them all.
      const best = [...iss.errors].sort((a, b) => deepest(b) - deepest(a))[0]!;
      out.push(...problemsOf(new z.ZodError(best.map((i) => ({ ...i, path: [...path, ...i.path] }))), locate));
      continue;
    }
    out.push({ path: pathText(path), ...locate?.(path), message: iss.message });
  }
  return out;
}

function deepest(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 1)));
}

/** Where a path points in a YAML document (the key of an unknown key, else the value). */
function locator(doc: Document, lines: LineCounter) {
  return (path: PropertyKey[], key?: string) => {
    let node: unknown = doc.contents;
    let at: number | undefined = (node as Node | null)?.range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        at = (pair.key as Node).range?.[0] ?? at;
        node = pair.value;
        at = (node as Node | null)?.range?.[0] ?? at;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        at = (node as Node | null)?.range?.[0] ?? at;
      } else break;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      at = (pair?.key as Node | undefined)?.range?.[0] ?? at;
    }
    if (at === undefined) return undefined;
    const { line, col } = lines.linePos(at);
    return { line, column: col };
  };
}

/** Parses YAML text and checks it; errors carry `file:line:column`. */
export function parseYamlStrict<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new FileError(file, doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
      return { path: '', line: pos.line, column: pos.col, message: `not valid YAML: ${e.message.split('\n')[0]}` };
    }));
  }
  const r = schema.safeParse(doc.toJS());
  if (!r.success) throw new FileError(file, problemsOf(r.error, locator(doc, lines)));
  return r.data;
}

/** Reads and checks a YAML file; the error names the file relative to `base` (the repository). */
export function loadYamlStrict<S extends z.ZodType>(schema: S, file: string, base?: string): z.output<S> {
  const shown = base ? relative(base, file) : file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FileError(shown, [{ path: '', message: `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }]);
  }
  return parseYamlStrict(schema, text, shown);
}

/** Checks a value built in memory (a rendered configuration) or read from JSON; errors name `what`. */
export function checkStrict<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new FileError(what, problemsOf(r.error));
  return r.data;
}

/** Reads and checks a JSON file (an element's rendered configuration, read by the element). */
export function loadJsonStrict<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FileError(file, [{ path: '', message: e instanceof SyntaxError ? `not valid JSON: ${e.message}` : `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }]);
  }
  return checkStrict(schema, raw, file);
}
