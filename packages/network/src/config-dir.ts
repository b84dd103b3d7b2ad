import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ElementPaths, KmsSecrets, PkiFiles, PlannedElement } from '@imslab/topology';
import { CONTAINER_PATHS } from './docker-layout.ts';
import { renderElement } from './elements.ts';

/**
 * Writes one element's configuration into `configDir` on the host, as the
 * container sees it at /etc/imslab: the rendered files, `argv` (the start
 * command, one argument per line, for docker compose), and `pki/` holding
 * only the CA certificate and the element's own certificate and key (never
 * the CA key). Returns the start command.
 */
export function writeContainerConfig(e: PlannedElement, configDir: string, pki: PkiFiles, kmsSecrets: KmsSecrets): string[] {
  const paths: ElementPaths = { ...CONTAINER_PATHS, kmsSecrets };
  const r = renderElement(e, paths);
  const files: Record<string, string> = { ...r.files, argv: r.command.join('\n') + '\n' };
  const pkiFiles: Record<string, string> = { 'ca.pem': pki.caFile };
  if (existsSync(pki.certFile(e.name)) && existsSync(pki.keyFile(e.name))) {
    pkiFiles[`${e.name}.pem`] = pki.certFile(e.name);
    pkiFiles[`${e.name}.key`] = pki.keyFile(e.name);
  }
  // Files are replaced in place, never the directories: a running container
  // keeps its bind mount of this directory.
  mkdirSync(join(configDir, 'pki'), { recursive: true });
  removeOthers(configDir, new Set([...Object.keys(files), 'pki']));
  removeOthers(join(configDir, 'pki'), new Set(Object.keys(pkiFiles)));
  for (const [file, content] of Object.entries(files)) writeFileSync(join(configDir, file), content);
  for (const [file, from] of Object.entries(pkiFiles)) copyFileSync(from, join(configDir, 'pki', file));
  return r.command;
}

function removeOthers(dir: string, keep: Set<string>): void {
  for (const f of readdirSync(dir)) if (!keep.has(f)) rmSync(join(dir, f), { recursive: true, force: true });
}
