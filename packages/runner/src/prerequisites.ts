import { execFileSync } from 'node:child_process';
import { PrerequisiteError } from './errors.ts';

/** The Debian package that provides each program the targets run. */
export const PROGRAM_PACKAGES: Record<string, string> = {
  kamailio: 'kamailio kamailio-tls-modules',
  rtpengine: 'rtpengine-daemon',
  tcpdump: 'tcpdump',
  tshark: 'tshark',
  dockerd: 'docker.io',
  'docker-compose': 'docker-compose',
  debootstrap: 'debootstrap',
};

/** Programs found once stay found for the life of the process (every scenario's up() asks again). */
const found = new Set<string>();

export function hasProgram(name: string): boolean {
  if (found.has(name)) return true;
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    found.add(name);
    return true;
  } catch {
    return false;
  }
}

/** Throws one line naming every missing program and the apt-get command that installs it. */
export function requirePrograms(names: string[]): void {
  const missing = names.filter((n) => !hasProgram(n));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => PROGRAM_PACKAGES[m] ?? m))].join(' ');
  throw new PrerequisiteError(`missing ${missing.join(', ')}: run 'scripts/setup.sh' or 'apt-get install -y ${pkgs}'`);
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PrerequisiteError(`${what} needs root (packet capture and binding ports): run as root or with sudo`);
  }
}
