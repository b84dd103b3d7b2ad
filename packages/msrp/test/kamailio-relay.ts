/**
 * Starts Kamailio as an MSRP relay on a loopback address, with the
 * configuration the msrp-relay element kind renders (services/msrp-relay:
 * kamailio.cfg and tls.cfg, the one source of it) for a relay planned on that
 * address alone, a certificate from a PKI of the test's own, and the test's
 * users; declares it ready only once a TLS connection to it succeeds. stop()
 * kills the process and waits for its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { MSRP_RELAY_PORT, msrpRelay, type MsrpRelayPlan } from '@imslab/msrp-relay/element';
import { ensurePki, type PkiFiles } from '@imslab/topology';

export interface RelayHandle {
  ip: string;
  port: number;
  pki: PkiFiles;
  realm: string;
  /** stderr of Kamailio so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** Returns the Kamailio binary or throws naming the Debian package. */
export function requireKamailio(): string {
  for (const p of ['/usr/sbin/kamailio', '/usr/bin/kamailio']) {
    try {
      accessSync(p, constants.X_OK);
      accessSync('/usr/lib/x86_64-linux-gnu/kamailio/modules/msrp.so', constants.R_OK);
      accessSync('/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so', constants.R_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error('Kamailio with the msrp and tls modules is required: apt-get install kamailio kamailio-tls-modules');
}

function tryTls(ip: string, port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: ip, port, ca }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function startRelay(o: { dir: string; ip: string; users: Record<string, string>; readyTimeoutMs?: number }): Promise<RelayHandle> {
  const bin = requireKamailio();
  const pki = ensurePki(join(o.dir, 'pki'), [{ name: 'msrp-relay', ips: [o.ip] }]);
  const port = MSRP_RELAY_PORT;
  const realm = 'msrp.imslab.test';
  // The element as the planner would make it, on the test's address only (no access networks).
  const e: MsrpRelayPlan = {
    kind: 'msrp-relay', name: 'msrp-relay', addresses: { core: o.ip }, address: o.ip, accessAddresses: [], domain: realm,
    subscribers: Object.entries(o.users).map(([user, password]) => ({ user, password, displayName: user, network: 'access-a', devices: [], forwarding: {} })),
  };
  const configDir = join(o.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const r = msrpRelay.render(e, {
    configDir, pkiDir: pki.dir, runDir: o.dir, nodeCommand: [], serviceEntry: () => '', kmsSecrets: { masterKey: '', devices: {} },
  });
  for (const [f, c] of Object.entries(r.files)) writeFileSync(join(configDir, f), c);
  // The element's command; -Y and -w: Kamailio's runtime and working directories (defaults /run/kamailio and "/",
  // where a crash would leave its core file) in the test's directory.
  const child: ChildProcess = spawn(bin, [...r.command.slice(1), '-Y', o.dir, '-w', o.dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) => child.once('exit', (code) => {
    exited = code;
    r();
  }));
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    }
  };
  const ca = readFileSync(pki.caFile);
  const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`kamailio exited (${exited}) before it was ready:\n${log.slice(-3000)}`);
    if (await tryTls(o.ip, port, ca)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kamailio MSRP relay not reachable on ${o.ip}:${port}:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ip: o.ip, port, pki, realm, log: () => log, stop };
}
