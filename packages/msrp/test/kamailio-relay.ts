/**
 * Starts Kamailio as an MSRP relay (kamailio-msrp-relay.cfg) on a loopback
 * address and a free port, with a certificate from the testbed PKI, and
 * declares it ready only once a TLS connection to it succeeds. stop() kills
 * the process and waits for its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePki, fillTemplate, type PkiFiles } from '@imslab/topology';

const HERE = dirname(fileURLToPath(import.meta.url));

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

/** A port that was free a moment ago on `ip` (the kernel picks it). */
export function freePort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, ip, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
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
  const port = await freePort(o.ip);
  const realm = 'msrp.imslab.test';
  const tlsCfg = join(o.dir, 'tls.cfg');
  writeFileSync(
    tlsCfg,
    [
      '[server:default]', 'method = TLSv1.2+', 'verify_certificate = no', 'require_certificate = no',
      `private_key = ${pki.keyFile('msrp-relay')}`, `certificate = ${pki.certFile('msrp-relay')}`, `ca_list = ${pki.caFile}`, '',
      // The client leg: the relay connecting to itself when both users AUTHed here (see the .cfg).
      '[client:default]', 'method = TLSv1.2+', 'verify_certificate = yes', 'require_certificate = yes', `ca_list = ${pki.caFile}`, '',
    ].join('\n'),
  );
  const credentials = Object.entries(o.users).map(([u, p]) => {
    if (!/^[a-z0-9]+$/.test(u) || !/^[A-Za-z0-9-]+$/.test(p)) throw new Error(`relay user/password must be plain: ${u}`);
    return `\t$sht(cred=>${u}) = "${p}";`;
  });
  const cfg = join(o.dir, 'kamailio-msrp-relay.cfg');
  writeFileSync(
    cfg,
    fillTemplate(readFileSync(join(HERE, 'kamailio-msrp-relay.cfg'), 'utf8'), {
      RELAY_IP: o.ip, RELAY_PORT: String(port), TLS_CFG: tlsCfg, REALM: realm, CREDENTIALS: credentials.join('\n'),
    }, 'msrp relay config'),
  );
  // -w: Kamailio's working directory (default "/"), where a crash would leave its core file.
  const child: ChildProcess = spawn(bin, ['-DD', '-E', '-f', cfg, '-P', join(o.dir, 'kamailio.pid'), '-Y', o.dir, '-w', o.dir, '-m', '64', '-M', '8'], {
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
