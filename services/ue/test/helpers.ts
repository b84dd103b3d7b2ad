import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, parseConfig, Ue, type CallStatus, type UeConfig } from '../src/index.ts';

export const quietLogger = (name: string, lines: string[] = []) => new Logger(name, (l) => void lines.push(l));

/** A fresh run dir. */
export function tempDir(prefix = 'imslab-ue-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Throwaway self-signed P-256 certificate valid for the given IPs. */
export function makeCert(dir: string, ips: string[]): { caFile: string; certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=test',
    '-addext', `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}`, '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { caFile: certFile, certFile, keyFile };
}

/** Config of a UE at `address` whose "P-CSCF" is another UE (direct UE-to-UE). */
export function ueConfig(name: string, address: string, peer: string, o: Partial<Record<string, unknown>> = {}): UeConfig {
  const runDir = (o['runDir'] as string | undefined) ?? tempDir();
  const raw = {
    name, user: name, impu: `sip:${name}@ims.test`, impi: `${name}@ims.test`, password: 'secret', realm: 'ims.test', displayName: name,
    address, sipPort: 5060, sipTlsPort: 5061, controlPort: 8000, transport: 'udp',
    pcscf: { host: peer, udpPort: 5060, tcpPort: 5060, tlsPort: 5061 },
    media: { portMin: 40000, portMax: 40098 }, e2aeCapable: false, defaultSecurity: 'none', autoAnswer: true, answerDelayMs: 0, runDir,
    ...o,
  };
  writeFileSync(join(runDir, `${name}.json`), JSON.stringify(raw));
  return parseConfig(raw);
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function status(ue: Ue, callId: string): CallStatus | undefined {
  return ue.calls.get(callId)?.toStatus();
}
