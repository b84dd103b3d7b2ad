import { createSocket } from 'node:dgram';
import { get as httpGet } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * Readiness probes, the same on every target: our elements answer HTTP
 * `/health`, Kamailio answers SIP OPTIONS, rtpengine answers an ng `ping`.
 * Each probe resolves true/false and never throws.
 */
/**
 * How long one readiness probe waits for its answer. Short on purpose: a
 * probe sent before the element has bound its socket is lost (UDP), and
 * waiting out a long timeout there delays every start-up; `waitUntil` probes
 * again anyway.
 */
export const PROBE_TIMEOUT_MS = 250;

/**
 * GET `url` answers 2xx. node:http rather than fetch: a probe is polled every
 * 50 ms while an element starts, and undici's fetch cost the runner several
 * times more per refused connection.
 */
export function httpHealthy(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let req: ReturnType<typeof httpGet>;
    try {
      req = httpGet(url, { timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
      });
    } catch {
      resolve(false);
      return;
    }
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

/** SIP OPTIONS over UDP with `rport` (Kamailio otherwise answers the wrong port). */
export function sipOptionsOk(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const branch = 'z9hG4bK' + randomBytes(8).toString('hex');
    const callId = randomBytes(8).toString('hex') + '@imslab-probe';
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('message', (m) => finish(/^SIP\/2\.0 200 /.test(m.toString('latin1', 0, 16))));
    sock.bind(0, () => {
      const { port: lport, address } = sock.address();
      const msg = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${address}:${lport};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@imslab.invalid>;tag=${randomBytes(4).toString('hex')}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '', '',
      ].join('\r\n');
      sock.send(msg, port, host, (err) => { if (err) finish(false); });
    });
  });
}

/**
 * ng `ping` -> `pong` (rtpengine's control protocol: a cookie, then a
 * bencoded dictionary). Sent on a socket of its own per probe, so a late
 * answer to a probe that already gave up lands nowhere (a shared client
 * would take it for a malformed reply).
 */
export function ngPingOk(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const cookie = randomBytes(6).toString('hex');
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('message', (m) => finish(m.toString('latin1').startsWith(`${cookie} `) && m.includes('d6:result4:ponge')));
    sock.send(`${cookie} d7:command4:pinge`, port, host, (err) => { if (err) finish(false); });
  });
}

/**
 * Polls a readiness probe until it passes, the element dies, or the deadline
 * passes. Polling a health check is how readiness is observed; nothing here
 * sleeps in place of a check.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; dead?: () => string | null },
): Promise<'ready' | 'timeout' | string> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const dead = opts.dead?.();
    if (dead) return dead;
    if (await probe()) return 'ready';
    if (Date.now() >= deadline) return 'timeout';
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
