import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TopologyError } from './errors.ts';

/** Repository root, found from this file (packages/topology/src). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Reads a file of an element kind's folder (`services/<kind>/<file>`), e.g. a Kamailio template. */
export function serviceFile(service: string, file: string): string {
  return readFileSync(join(REPO_ROOT, 'services', service, file), 'utf8');
}

/**
 * Fills `{{NAME}}` placeholders; a placeholder without a value, and a value
 * without a placeholder, are errors: nothing is left unfilled in a config,
 * and no typed value is silently unused.
 */
export function fillTemplate(template: string, values: Record<string, string>, what: string): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new TopologyError(`template placeholder {{${key}}} has no value`, what);
    used.add(key);
    return v;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new TopologyError(`values without a placeholder in the template: ${unused.join(', ')}`, what);
  return out;
}
