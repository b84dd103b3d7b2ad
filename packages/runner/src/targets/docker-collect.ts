import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { LABEL_ELEMENT, LABEL_RUN, containerName, demuxLogs } from '@imslab/network';
import { ElementError } from '../errors.ts';
import { engineMessage, isDone } from './docker-engine.ts';

/**
 * Container logs of a run (`imslab.run=<run>`) into `<dir>/logs/<element>.log`;
 * `sinceS` keeps only what was logged from then on (a scenario run against a
 * network that was up before it).
 */
export async function collectLogs(docker: Docker, run: string, dir: string, sinceS?: number): Promise<void> {
  if (!run) return;
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${run}`] } });
  await Promise.all(list.map(async (c) => {
    const element = c.Labels[LABEL_ELEMENT] ?? c.Id.slice(0, 12);
    try {
      const buf = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false, ...(sinceS ? { since: sinceS } : {}) });
      writeFileSync(join(logs, `${element}.log`), demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))));
    } catch (e) {
      if (!isDone(e)) throw e;
    }
  }));
}

/** Copies a directory out of an element's container (a volume's content) into `into`, with the engine's archive API and tar. */
export async function copyOut(docker: Docker, element: string, path: string, into: string): Promise<void> {
  const archive = await docker.getContainer(containerName(element)).getArchive({ path }).catch((err: unknown) => {
    throw new ElementError(element, `cannot read ${path} from its container: ${engineMessage(err)}`);
  });
  mkdirSync(into, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
    tar.stdin.on('error', () => { /* tar exited early: its exit code says why */ });
    tar.on('error', reject);
    tar.on('exit', (code) => (code === 0 ? resolve() : reject(new ElementError(element, `extracting ${path} failed: ${err.trim() || `tar exit ${code}`}`))));
    archive.on('error', (e: Error) => reject(new ElementError(element, `reading ${path} failed: ${e.message}`)));
    archive.pipe(tar.stdin);
  });
}
