import { spawn, type ChildProcess } from 'node:child_process';
import { stateFile } from './state.ts';

/**
 * A run that dies takes its elements down with it. Each network started by
 * the runner gets a reaper: a small detached Node process whose stdin is a
 * pipe from the runner. When the runner goes away by any means (a crash,
 * SIGKILL), the pipe closes and the reaper kills the process groups named in
 * the network's state file (only processes whose command line names the
 * network's directory), removes its iptables chain (a fault) and its Docker containers, networks and
 * volumes by label; then it deletes the state file. When the runner took the
 * network down itself, it says so first and the reaper just exits.
 */
const REAPER = String.raw`
const fs = require('fs'), http = require('http');
const file = process.argv[1];
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
let said = '', done = false;
const finish = () => { if (done) return; done = true; if (said.includes('released')) process.exit(0); reap().finally(() => process.exit(0)); };
process.stdin.on('data', (d) => { said += d; });
process.stdin.on('end', finish); process.stdin.on('close', finish); process.stdin.on('error', finish);
const ours = (pid, dir) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(dir); } catch { return false; } };
const api = (method, path) => new Promise((resolve) => {
  const req = http.request({ socketPath: process.env.IMSLAB_DOCKER_SOCKET || '/var/run/docker.sock', method, path, timeout: 5000 }, (res) => {
    let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => { try { resolve(JSON.parse(body)); } catch { resolve(null); } });
  });
  req.on('error', () => resolve(null)); req.on('timeout', () => { req.destroy(); resolve(null); }); req.end();
});
async function reap() {
  let s; try { s = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return; }
  for (const g of s.pgids || []) if (ours(g, s.dir)) { try { process.kill(-g, 'SIGKILL'); } catch {} }
  if (s.cutChain) for (const a of [['-D', 'OUTPUT', '-j', s.cutChain], ['-F', s.cutChain], ['-X', s.cutChain]]) { try { require('child_process').execFileSync('iptables', ['-w', ...a], { stdio: 'ignore' }); } catch {} }
  if (s.dockerRun) {
    const f = encodeURIComponent(JSON.stringify({ label: ['imslab.run=' + s.dockerRun] }));
    for (const c of (await api('GET', '/containers/json?all=1&filters=' + f)) || []) await api('DELETE', '/containers/' + c.Id + '?force=1&v=1');
    for (const n of (await api('GET', '/networks?filters=' + f)) || []) await api('DELETE', '/networks/' + n.Id);
    const v = await api('GET', '/volumes?filters=' + f);
    for (const x of (v && v.Volumes) || []) await api('DELETE', '/volumes/' + x.Name + '?force=1');
  }
  try { fs.rmSync(file); } catch {}
}
`;

export interface Reaper {
  /** The runner took the network down itself: the reaper exits without reaping. */
  release(): void;
  process: ChildProcess;
}

export function startReaper(stateId: string): Reaper {
  const child = spawn(process.execPath, ['-e', REAPER, stateFile(stateId)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.on('error', () => { /* the reaper is gone: nothing to tell it */ });
  // Neither the child nor its pipe keeps the runner alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let released = false;
  return {
    process: child,
    release() {
      if (released) return;
      released = true;
      child.stdin!.end('released\n');
    },
  };
}
