import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { build, buildSync, type BuildOptions } from 'esbuild';
import { REPO_ROOT } from '@imslab/topology';

/**
 * Our services run as one esbuild bundle each (the docker images carry the
 * same code), which starts in a fraction of the time a TypeScript loader
 * needs. Rebuilt only when a source file is newer than the bundle.
 *
 * Start-up is most of what an element costs a scenario (four UEs start at
 * once on two cores), so the bundle is minified (whitespace and syntax; names
 * are kept for stack traces) and its source map is a file of its own beside
 * it: with the map inline, Node parsed 6 MB more per start (UE start-up
 * 0.50 s of CPU with the inline map, 0.30 s without, measured 2026-12-02).
 */
export const BUNDLE_DIR = join(REPO_ROOT, '.imslab', 'build');

function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      if (n === 'node_modules') continue;
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (n.endsWith('.ts') || n === 'package.json') newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

function options(entry: string, outfile: string, format: 'esm' | 'cjs' = 'esm'): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    logLevel: 'error',
    banner: {
      js: format === 'esm'
        // CommonJS dependencies (sdp-transform) call require(): give the bundle one.
        ? "import { createRequire as __imslabRequire } from 'node:module'; const require = __imslabRequire(import.meta.url);"
        // Our modules are ES modules, strict; so stays the bundle.
        : '"use strict";',
    },
  };
}

/** Whether `out` is at least as new as every source it is made from. */
function fresh(out: string, sources: string[]): boolean {
  return existsSync(out) && existsSync(`${out}.map`) && statSync(out).mtimeMs >= newestSource(sources);
}

/**
 * Writes the bundle into a directory of this process's own, then renames it
 * (and its map) into place: several runs, or several jobs of one run, may
 * build at once, and none may start a half-written file. The file keeps its
 * final name, which its sourceMappingURL comment names.
 */
function staging(out: string): { tmp: string; commit(): void; clean(): void } {
  const dir = join(dirname(out), `.staging-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const tmp = join(dir, basename(out));
  return {
    tmp,
    commit() {
      // The map first: a reader that sees the new bundle finds its map.
      renameSync(`${tmp}.map`, `${out}.map`);
      renameSync(tmp, out);
    },
    clean: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const building = new Map<string, Promise<string>>();

/**
 * Returns the path of `services/<service>/src/main.ts` bundled for Node 20:
 * CommonJS, so that cached-start.ts can start it with V8's code cache
 * (vm.Script takes cachedData; ES modules take none on Node 20).
 */
export function ensureServiceBundle(service: string, outDir = BUNDLE_DIR): Promise<string> {
  const out = join(outDir, `${service}.cjs`);
  const sources = [join(REPO_ROOT, 'services', service), join(REPO_ROOT, 'packages')];
  const key = out;
  const ongoing = building.get(key);
  if (ongoing) return ongoing;
  const p = (async () => {
    if (fresh(out, sources)) return out;
    mkdirSync(outDir, { recursive: true });
    const s = staging(out);
    try {
      await build(options(join(REPO_ROOT, 'services', service, 'src', 'main.ts'), s.tmp, 'cjs'));
      s.commit();
      // Code caches of earlier builds (cached-start.ts names them by the bundle's digest) are of no use now.
      for (const n of readdirSync(outDir)) if (n.startsWith(`${service}.cjs.`) && n.endsWith('.v8cache')) rmSync(join(outDir, n), { force: true });
    } finally {
      s.clean();
    }
    return out;
  })().finally(() => building.delete(key));
  building.set(key, p);
  return p;
}

/** Bundles one entry file of the runner's own (a helper process), synchronously; `name` names the bundle. */
export function ensureBundleSync(entry: string, name: string, outDir = BUNDLE_DIR): string {
  const out = join(outDir, `${name}.mjs`);
  if (fresh(out, [dirname(entry)])) return out;
  mkdirSync(outDir, { recursive: true });
  const s = staging(out);
  try {
    buildSync(options(entry, s.tmp));
    s.commit();
  } finally {
    s.clean();
  }
  return out;
}
