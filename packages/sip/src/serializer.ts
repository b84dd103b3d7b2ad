import type { SipMessage } from './message.ts';

/**
 * Serialises a message (RFC 3261 sec. 7): start line, headers in order with
 * their canonical names, a Content-Length that always matches the body
 * (sec. 20.14 makes it mandatory on streams; we always send it), empty line,
 * body.
 */
export function serializeMessage(m: SipMessage): Buffer {
  const start = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`;
  let head = start + '\r\n';
  for (const h of m.headers.entries()) {
    if (h.name.toLowerCase() === 'content-length') continue;
    head += `${h.name}: ${h.value}\r\n`;
  }
  head += `Content-Length: ${m.body.length}\r\n\r\n`;
  return m.body.length ? Buffer.concat([Buffer.from(head, 'utf8'), m.body]) : Buffer.from(head, 'utf8');
}
