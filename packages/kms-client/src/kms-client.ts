/**
 * HTTPS client of the imslab KMS. TS 33.328 carries the MIKEY-TICKET Ticket
 * Request and Ticket Resolve exchanges (RFC 6043 sec. 4.1, 4.3) over HTTP
 * between the UE and the KMS; this client posts the MIKEY octets as
 * `application/mikey` and returns the response octets. It does no MIKEY
 * processing itself: building and verifying the messages is
 * `@imslab/mikey`'s job.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { Agent, request, type RequestOptions } from 'node:https';
import { KmsClientOptionsError, KmsError } from './errors.ts';

/** Options of {@link KmsClient}. */
export interface KmsClientOptions {
  /** Base URL of the KMS, e.g. `https://127.0.2.40:8443`. */
  url: string;
  /** PEM file of the CA that signed the KMS certificate (the testbed CA). */
  caFile?: string;
  /** The CA certificate(s) as PEM; used instead of `caFile`. Without either, the system trust store applies. */
  ca?: string | Buffer;
  /** Source address of the connections (the UE's own address on its network). */
  localAddress?: string;
  /** Whole-request deadline in ms (connect, TLS handshake, response); default 3000. */
  timeoutMs?: number;
  /** Append every TLS secret to this file (SSLKEYLOGFILE format) so captures of the KMS link can be decrypted. */
  keylogFile?: string;
}

/** Content type of MIKEY messages (RFC 3830 sec. 10 registers application/mikey). */
export const MIKEY_CONTENT_TYPE = 'application/mikey';
/** Default deadline of one request. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** Largest response body read (a MIKEY message is at most 64 KiB, RFC 3830's length fields). */
const MAX_RESPONSE = 64 * 1024;

const TRANSPORT_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the KMS running? is this scenario started with the kms server?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by the KMS',
  EADDRNOTAVAIL: 'local address not available',
  EPIPE: 'connection closed by the KMS',
};

/**
 * Talks to one KMS over HTTPS with a keep-alive agent. The server
 * certificate is verified against the configured CA and the host of `url`:
 * for an IP the certificate must carry it as an IP subjectAltName (testbed
 * certificates do). No SNI is sent for an IP address (RFC 6066 sec. 3 allows
 * host names only), but the identity check still uses the IP.
 */
export class KmsClient {
  /** Base URL without a trailing slash. */
  readonly url: string;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private readonly keylog: WriteStream | undefined;
  private readonly localAddress: string | undefined;
  private closed = false;

  constructor(opts: KmsClientOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new KmsClientOptionsError('url', `not a URL: ${JSON.stringify(opts.url)} (expected https://<address>:<port>)`);
    }
    if (u.protocol !== 'https:') throw new KmsClientOptionsError('url', `must be an https:// URL, got ${JSON.stringify(opts.url)}`);
    if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new KmsClientOptionsError('url', `must be the KMS origin without a path, got ${JSON.stringify(opts.url)}`);
    this.url = `https://${u.host}`;
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port ? Number(u.port) : 443;
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new KmsClientOptionsError('timeoutMs', `must be a positive number of ms, got ${timeout}`);
    this.timeoutMs = timeout;
    let ca = opts.ca;
    if (ca === undefined && opts.caFile !== undefined) {
      try {
        ca = readFileSync(opts.caFile);
      } catch (e) {
        throw new KmsClientOptionsError('caFile', `cannot read ${opts.caFile}: ${(e as Error).message}`);
      }
    }
    this.agent = new Agent({ keepAlive: true, maxSockets: 8, minVersion: 'TLSv1.2', ...(ca !== undefined ? { ca } : {}) });
    if (opts.keylogFile !== undefined) {
      const stream = createWriteStream(opts.keylogFile, { flags: 'a' });
      // A key log that cannot be written must not break key management: report once and go on.
      stream.on('error', (e) => process.emitWarning(`KMS client key log ${opts.keylogFile}: ${e.message}`));
      this.keylog = stream;
      this.agent.on('keylog', (line: Buffer) => stream.write(line));
    }
    this.localAddress = opts.localAddress;
  }

  /** POST /mikey/request (RFC 6043 sec. 4.1): sends REQUEST_INIT, resolves with REQUEST_RESP; rejects with {@link KmsError}. */
  request(requestInit: Uint8Array): Promise<Uint8Array> {
    return this.post('/mikey/request', requestInit);
  }

  /** POST /mikey/resolve (RFC 6043 sec. 4.3): sends RESOLVE_INIT, resolves with RESOLVE_RESP; rejects with {@link KmsError}. */
  resolve(resolveInit: Uint8Array, o: { deferred?: boolean } = {}): Promise<Uint8Array> {
    // Deferred delivery (a stored message): the KMS allows only the intended user's devices and does not fork keys.
    return this.post(o.deferred ? '/mikey/resolve-deferred' : '/mikey/resolve', resolveInit);
  }

  /** POST /sakke/keys: a REQUEST_INIT_PSK naming ourselves authenticates the device; resolves with the JSON key provision (TrK-wrapped secrets). */
  sakkeKeys(requestInit: Uint8Array): Promise<Uint8Array> {
    return this.post('/sakke/keys', requestInit, 'application/json');
  }

  /** POST /gms/gmk: a REQUEST_INIT_PSK naming the group (policy group); resolves with the group management server's MIKEY-SAKKE I_MESSAGE. */
  groupMasterKey(requestInit: Uint8Array): Promise<Uint8Array> {
    return this.post('/gms/gmk', requestInit);
  }

  /** Closes the kept-alive connections and the key log; later calls reject with code `closed`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    this.keylog?.end();
  }

  private post(path: string, body: Uint8Array, expect: string = MIKEY_CONTENT_TYPE): Promise<Uint8Array> {
    const where = `${this.url}${path}`;
    if (this.closed) return Promise.reject(new KmsError(null, 'closed', 'the client was closed', where));
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const finish = (err: KmsError | null, value?: Uint8Array) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => {
        finish(new KmsError(null, 'timeout', `no answer within ${this.timeoutMs} ms`, where));
        current?.destroy();
      }, this.timeoutMs);
      let current: ClientRequest | undefined;
      const attempt = (retry: boolean) => {
        const o: RequestOptions = {
          host: this.host,
          port: this.port,
          method: 'POST',
          path,
          agent: this.agent,
          headers: { 'content-type': MIKEY_CONTENT_TYPE, accept: `${MIKEY_CONTENT_TYPE}, application/json`, 'content-length': body.length },
        };
        if (this.localAddress !== undefined) o.localAddress = this.localAddress;
        let answered = false;
        const req = request(o, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE) {
              finish(new KmsError(res.statusCode ?? null, 'bad-response', `response larger than ${MAX_RESPONSE} bytes`, where));
              req.destroy();
            } else chunks.push(c);
          });
          res.on('error', (e) => finish(transportError(e, where)));
          res.on('close', () => finish(new KmsError(null, 'unreachable', 'the connection closed before the answer was complete', where)));
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
            if (status === 200) {
              if (type !== expect) return finish(new KmsError(status, 'bad-response', `200 with content type ${JSON.stringify(type)} instead of ${expect}`, where));
              return finish(null, new Uint8Array(data.buffer, data.byteOffset, data.length));
            }
            finish(refusal(status, type, data, where));
          });
        });
        current = req;
        req.on('error', (e: Error & { code?: string }) => {
          // A kept-alive socket the KMS closed while idle fails at once, before the KMS saw the
          // request (Node's documented keep-alive race): send it once more on a fresh socket.
          if (retry && !answered && !settled && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return attempt(false);
          finish(transportError(e, where));
        });
        req.end(body);
      };
      attempt(true);
    });
  }
}

/** A non-200 answer: the KMS's JSON `{ error, code }`, or whatever else came back. */
function refusal(status: number, type: string, data: Buffer, where: string): KmsError {
  if (type === 'application/json') {
    try {
      const j = JSON.parse(data.toString('utf8')) as { error?: unknown; code?: unknown };
      if (typeof j.error === 'string') return new KmsError(status, typeof j.code === 'string' ? j.code : `http-${status}`, j.error, where);
    } catch {
      // fall through: not the KMS's JSON
    }
  }
  const text = data.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  return new KmsError(status, `http-${status}`, text || `HTTP ${status} without a body`, where);
}

/** A failure before any HTTP answer: status null, with a reason naming the cause. */
function transportError(e: Error & { code?: string }, where: string): KmsError {
  const code = e.code ?? '';
  if (TRANSPORT_CODES[code]) return new KmsError(null, 'unreachable', `${code}: ${TRANSPORT_CODES[code]}`, where);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new KmsError(null, 'tls', `TLS failure (${code}): ${e.message} (the KMS certificate does not name the address in the URL)`, where);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|HOSTNAME|IP_ADDRESS/i.test(code) || /certificate|altnames/i.test(e.message)) {
    return new KmsError(null, 'tls', `TLS failure (${code || 'handshake'}): ${e.message} (is caFile the testbed CA that signed the KMS certificate?)`, where);
  }
  return new KmsError(null, 'unreachable', `${code ? `${code}: ` : ''}${e.message}`, where);
}
