import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, resolve } from 'node:path';
import { Script } from 'node:vm';

/**
 * Starts one of our service bundles (CommonJS) with V8's code cache:
 * `node cached-start.mjs <service>.cjs [args...]`; the service sees
 * `process.argv` as if it had been started directly.
 *
 * Why: compiling the bundle was most of an element's start-up (a UE: about
 * 0.1-0.2 s of 0.3 s of CPU), and a scenario starts several, up to three
 * networks at once on two cores. Node 20 has no compile cache of its own
 * (module.enableCompileCache came with Node 22), so the cache is V8's
 * cachedData, kept beside the bundle (`<bundle>.<digest>.v8cache`). The first process
 * without a usable cache writes one, two seconds in or at its exit (so that
 * the functions start-up compiled are in it), atomically; V8 itself rejects a cache made
 * for another source or another V8 (`cachedDataRejected`), which is then
 * replaced.
 */
const file = resolve(process.argv[2] ?? '');
process.argv.splice(1, 1);
const source = readFileSync(file, 'utf8');
// Named by the source's digest: V8 checks a cache against the source's length only, not its bytes.
const cacheFile = `${file}.${createHash('sha1').update(source).digest('hex').slice(0, 16)}.v8cache`;
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache yet: this process makes it
}
const script = new Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
if (!cachedData || script.cachedDataRejected) {
  let saved = false;
  const save = () => {
    if (saved) return;
    saved = true;
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      rmSync(tmp, { force: true });
    }
  };
  // Two seconds in, or at exit if sooner: most elements (UEs, the KMS) live
  // for less than two seconds in a scenario, and a timer alone never wrote
  // their cache (measured: no ue or kms cache after a whole run).
  setTimeout(save, 2000).unref();
  process.on('exit', save);
}
const mod = new Module(file);
mod.filename = file;
(mod as unknown as { paths: string[] }).paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
