import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * baresip (Debian `baresip-core`, 1.0.0) as a UA of one's own attached to the
 * testbed: its configuration for the P-CSCF, the process, and its control
 * over the `ctrl_tcp` module (netstring-framed JSON commands, responses and
 * events). docs/connect-your-own-ua.md shows the same configuration.
 */

export const BARESIP = 'baresip';
export const BARESIP_MODULES = '/usr/lib/baresip/modules';

/** The baresip binary's path, or null when it is not installed (`apt-get install baresip-core`). */
export function baresipBinary(): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${BARESIP}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

let setprivPresent: boolean | undefined;
function baresipSetpriv(): boolean {
  setprivPresent ??= spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).status === 0;
  return setprivPresent;
}

export interface BaresipAccount {
  /** User part of the IMPU, e.g. `dave` (sip:dave@<domain>). */
  user: string;
  domain: string;
  password: string;
  displayName?: string;
  /** The UA's own address on the access network, e.g. 127.0.1.150 (SIP, RTP and the control socket bind to it). */
  address: string;
  /** The P-CSCF's access address; the UA reaches it over TLS on 5061. */
  pcscf: string;
  /** Certificate and key (PEM) from the testbed CA naming `address`, and the CA (imslab cert / issueCertificate). */
  certFile: string;
  keyFile: string;
  caFile: string;
  /** Incoming calls: `auto` answers at once (default `manual`). */
  answerMode?: 'auto' | 'manual';
  /** Where the ctrl_tcp control socket listens (`ip:port`; default `<address>:4444`). An address on no link keeps the control traffic out of the captures. */
  ctrl?: string;
  /** The microphone: a WAV file (8 kHz mono 16-bit PCM; writeToneWav makes one) that aufile plays. */
  audioFile: string;
}

/** The `config` file: TLS listener on <address>:5061, SDES-SRTP, PCMU, a sine as the microphone, no sound card. */
export function baresipConfig(a: BaresipAccount, certWithKey: string): string {
  return [
    '# baresip for imslab: written by test/interop/baresip.ts',
    'poll_method\t\tepoll',
    // TLS listens on the port after this one: 5060 (UDP/TCP) gives TLS on 5061.
    `sip_listen\t\t${a.address}:5060`,
    `sip_certificate\t\t${certWithKey}`,
    `sip_cafile\t\t${a.caFile}`,
    // Media and SDP on the UA's own address (an interface name or an address).
    `net_interface\t\t${a.address}`,
    'call_local_timeout\t120',
    'call_max_calls\t\t4',
    // Headless: the microphone is a WAV file, the speaker a bridge nobody listens to.
    `audio_source\t\taufile,${a.audioFile}`,
    'audio_player\t\taubridge,imslab',
    'audio_alert\t\taubridge,imslab',
    'audio_level\t\tno',
    'rtp_ports\t\t42000-42098',
    'rtcp_mux\t\tno',
    'rtp_stats\t\tno',
    'statmode_default\toff',
    `module_path\t\t${BARESIP_MODULES}`,
    'module\t\t\tg711.so',
    'module\t\t\taufile.so',
    'module\t\t\taubridge.so',
    'module\t\t\tsrtp.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    'module_app\t\tctrl_tcp.so',
    `ctrl_tcp_listen\t\t${a.ctrl ?? `${a.address}:4444`}`,
    '',
  ].join('\n');
}

/** The `accounts` line: register over TLS through the P-CSCF, SDES-SRTP mandatory, PCMU. */
export function baresipAccountLine(a: BaresipAccount): string {
  const params = [
    `auth_user=${a.user}@${a.domain}`,
    `auth_pass=${a.password}`,
    `outbound="sip:${a.pcscf}:5061;transport=tls"`,
    'mediaenc=srtp-mand',
    'audio_codecs=PCMU',
    `answermode=${a.answerMode ?? 'manual'}`,
    'regint=600',
  ];
  return `"${a.displayName ?? a.user}" <sip:${a.user}@${a.domain};transport=tls>;${params.join(';')}\n`;
}

/** Writes baresip's home directory (`-f DIR`): config, accounts, and the certificate with its key in one PEM. */
export function writeBaresipHome(dir: string, a: BaresipAccount): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certWithKey = join(dir, 'sip-cert.pem');
  writeFileSync(certWithKey, readFileSync(a.certFile, 'utf8') + readFileSync(a.keyFile, 'utf8'), { mode: 0o600 });
  writeFileSync(join(dir, 'config'), baresipConfig(a, certWithKey));
  writeFileSync(join(dir, 'accounts'), baresipAccountLine(a));
  // baresip writes a contacts file template when there is none; an empty one keeps it quiet.
  writeFileSync(join(dir, 'contacts'), '');
  return dir;
}

/**
 * A WAV file with a steady tone (8 kHz, mono, 16-bit PCM), long enough for a
 * call: baresip's microphone when there is no sound card. (Debian's
 * baresip 1.0 `ausine` needs 48 kHz stereo and fails to start on a mono
 * PCMU call; `aufile` reads the file's own format and resamples.)
 */
export function writeToneWav(path: string, seconds = 120, hz = 440): string {
  const rate = 8000;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
  return path;
}

/** One ctrl_tcp event (`{"event":true,"type":"CALL_ESTABLISHED",...}`). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
}

/** Splits netstrings (`<len>:<bytes>,`) off a buffer; returns the payloads and what is left. */
export function parseNetstrings(buf: Buffer): { items: string[]; rest: Buffer } {
  const items: string[] = [];
  let off = 0;
  for (;;) {
    const colon = buf.indexOf(0x3a, off);
    if (colon < 0) break;
    const len = Number(buf.toString('latin1', off, colon));
    if (!Number.isInteger(len) || len < 0) throw new Error(`ctrl_tcp: bad netstring length "${buf.toString('latin1', off, colon).slice(0, 20)}"`);
    if (buf.length < colon + 1 + len + 1) break;
    if (buf[colon + 1 + len] !== 0x2c) throw new Error('ctrl_tcp: netstring without its trailing ","');
    items.push(buf.toString('utf8', colon + 1, colon + 1 + len));
    off = colon + 1 + len + 1;
  }
  return { items, rest: buf.subarray(off) };
}

export function netstring(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
}

/**
 * A running baresip: started with its home directory, its output in a log
 * file, controlled and observed over ctrl_tcp. `stop()` ends it (SIGTERM,
 * then SIGKILL after 3 s) and is safe to call twice.
 */
export class Baresip {
  readonly events: BaresipEvent[] = [];
  private child: ChildProcess | null = null;
  private sock: Socket | null = null;
  private pending = new Map<string, (r: { ok: boolean; data: string }) => void>();
  private waiters: Array<() => void> = [];
  private exitedWith: string | null = null;
  private tokens = 0;

  private readonly killOnExit = () => {
    if (this.child && !this.exitedWith) this.child.kill('SIGKILL');
  };

  /** `ctrl` is where its ctrl_tcp listens (`ip:port`, the config's `ctrl_tcp_listen`). */
  constructor(readonly home: string, readonly ctrl: string, readonly logFile: string) {}

  get exited(): string | null {
    return this.exitedWith;
  }

  /** Starts baresip and connects to its control socket; resolves once connected. */
  async start(timeoutMs = 10_000): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // -v: verbose; -s: SIP trace (every message in and out, in the clear, in the log).
    const argv = [BARESIP, '-f', this.home, '-v', '-s'];
    // setpriv --pdeathsig: the kernel kills baresip if this process dies, even by SIGKILL.
    const [cmd, ...args] = baresipSetpriv() ? ['setpriv', '--pdeathsig', 'KILL', ...argv] : argv;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.home });
    this.child = child;
    // Never outlive the process that started it (a test runner that exits without stop()).
    process.once('exit', this.killOnExit);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', (code, sig) => {
      process.off('exit', this.killOnExit);
      this.exitedWith = sig ?? `exit ${code}`;
      this.wake();
    });
    child.once('close', () => log.end());
    child.once('error', (e) => {
      this.exitedWith = `could not start: ${e.message}`;
      this.wake();
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitedWith) throw new Error(`baresip exited during start-up (${this.exitedWith}); see ${this.logFile}`);
      try {
        this.sock = await this.connectCtrl();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`baresip's ctrl_tcp on ${this.ctrl} not reachable after ${timeoutMs} ms: ${(e as Error).message}; see ${this.logFile}`);
        await new Promise((r) => setTimeout(r, 100)); // poll the control socket until baresip listens
      }
    }
  }

  private connectCtrl(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const i = this.ctrl.lastIndexOf(':');
      const s = connect({ host: this.ctrl.slice(0, i), port: Number(this.ctrl.slice(i + 1)) });
      let buf: Buffer = Buffer.alloc(0);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', () => {});
        resolve(s);
      });
      s.once('error', reject);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        const { items, rest } = parseNetstrings(buf);
        buf = rest;
        for (const item of items) this.onMessage(item);
      });
    });
  }

  private onMessage(text: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (m['event'] === true) {
      this.events.push(m as unknown as BaresipEvent);
      this.wake();
    } else if (m['response'] === true) {
      const token = String(m['token'] ?? '');
      this.pending.get(token)?.({ ok: m['ok'] === true, data: String(m['data'] ?? '') });
      this.pending.delete(token);
    }
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Sends a command (e.g. `dial`, `hangup`, `accept`, `reginfo`) and returns baresip's response. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<{ ok: boolean; data: string }> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new Error('baresip is not running'));
    const token = `t${++this.tokens}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no response to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      sock.write(netstring(JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token })));
    });
  }

  /** Waits for an event (already received or to come) matching `pred`; fails on timeout or if baresip exits. */
  async waitForEvent(pred: (e: BaresipEvent) => boolean, what: string, timeoutMs = 15_000): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (this.exitedWith) throw new Error(`baresip exited (${this.exitedWith}) while waiting for ${what}; see ${this.logFile}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`baresip: no ${what} within ${timeoutMs} ms; events: ${this.events.map((e) => e.type).join(', ') || 'none'}; see ${this.logFile}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Polls `reginfo` until the account is registered (baresip registers as it
   * starts, before a control connection can hear the REGISTER_OK event).
   */
  async waitRegistered(aor: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (this.exitedWith) throw new Error(`baresip exited (${this.exitedWith}) before registering; see ${this.logFile}`);
      // eslint-disable-next-line no-control-regex
      last = (await this.command('reginfo')).data.replace(/\u001b\[[0-9;]*m/g, '');
      const line = last.split('\n').find((l) => l.includes(aor));
      if (line && /\sOK\s/.test(line)) return line.trim();
      if (Date.now() > deadline) throw new Error(`baresip: ${aor} not registered after ${timeoutMs} ms: ${last.trim() || 'no reginfo'}; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100)); // poll baresip's registration state
    }
  }

  async stop(): Promise<void> {
    this.sock?.destroy();
    this.sock = null;
    const c = this.child;
    if (!c || this.exitedWith) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}
