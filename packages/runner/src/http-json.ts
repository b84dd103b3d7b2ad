import { Agent, request } from 'node:http';

/**
 * HTTP for the elements' control APIs, on node:http with connections kept
 * alive. The runner polls every UE's call status while steps wait, up to
 * three networks at once; with fetch (undici) that polling was among the
 * runner's largest costs, a new connection and its abort machinery each time.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export interface HttpAnswer {
  status: number;
  text: string;
}

/** One request; rejects with the transport's error (refused, reset, timed out), never on an HTTP status. */
export function httpJson(method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, {
      method, agent, timeout: timeoutMs,
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
