import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '@imslab/topology';

/**
 * Our services run as one esbuild bundle each: the same file the docker
 * images carry, and it starts in a fraction of the time a TypeScript loader
 * needs (four UEs start at once on two cores). Rebuilt only when a source
 * file is newer than the bundle.
 */
export const BUNDLE_DIR = join(REPO_ROOT, '.imslab', 'build');

function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (n.endsWith('.ts') || n === 'package.json') newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

/** Returns the path of `services/<service>/src/main.ts` bundled to ESM for Node 20. */
export async function ensureServiceBundle(service: string, outDir = BUNDLE_DIR): Promise<string> {
  const out = join(outDir, `${service}.mjs`);
  const sources = [join(REPO_ROOT, 'services', service), join(REPO_ROOT, 'packages')];
  if (existsSync(out) && statSync(out).mtimeMs >= newestSource(sources)) return out;
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(REPO_ROOT, 'services', service, 'src', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'error',
    // CommonJS dependencies (sdp-transform) call require(): give the bundle one.
    banner: { js: "import { createRequire as __imslabRequire } from 'node:module'; const require = __imslabRequire(import.meta.url);" },
  });
  return out;
}
