import { SipParseError } from './errors.ts';
import { parseCSeq, type SipMessage } from './message.ts';
import { parseNameAddr } from './name-addr.ts';
import { isValidUri } from './uri.ts';
import { parseVia, viaBranch } from './via.ts';
import { BRANCH_COOKIE } from './ids.ts';

/**
 * Checks what RFC 3261 sec. 8.1.1 makes mandatory: To, From, Call-ID, CSeq,
 * Via (and Max-Forwards in requests from RFC 3261 clients), that each parses, that the CSeq method
 * matches the request method (sec. 8.2.2 relies on it), and that the
 * Request-URI and every Contact parse. Returns null when valid.
 */
export function validateMessage(m: SipMessage): SipParseError | null {
  const h = m.headers;
  for (const name of ['To', 'From', 'Call-ID', 'CSeq']) {
    const count = h.countLines(name);
    if (count === 0) return new SipParseError(`missing mandatory header ${name}`);
    if (count > 1) return new SipParseError(`header ${name} appears ${count} times`);
  }
  const vias = h.getAll('Via');
  if (vias.length === 0) return new SipParseError('missing mandatory header Via');
  for (const v of vias) if (!parseVia(v)) return new SipParseError(`malformed Via: ${JSON.stringify(v.slice(0, 80))}`);
  for (const name of ['To', 'From']) {
    if (!parseNameAddr(h.get(name)!)) return new SipParseError(`malformed ${name}: ${JSON.stringify(h.get(name)!.slice(0, 80))}`);
  }
  const callId = h.get('Call-ID')!;
  if (!/^\S+$/.test(callId)) return new SipParseError('malformed Call-ID (empty or contains whitespace)');
  const cseq = parseCSeq(h.get('CSeq')!);
  if (!cseq) return new SipParseError(`malformed CSeq: ${JSON.stringify(h.get('CSeq')!.slice(0, 40))}`);
  if (m.kind === 'request') {
    if (!isValidUri(m.uri)) return new SipParseError(`malformed Request-URI: ${JSON.stringify(m.uri.slice(0, 80))}`);
    if (cseq.method !== m.method) return new SipParseError(`CSeq method ${cseq.method} does not match request method ${m.method}`);
    const mf = h.get('Max-Forwards');
    // sec. 8.1.1.6 binds RFC 3261 clients (a z9hG4bK branch, sec. 8.1.1.7); an RFC 2543
    // client never sent Max-Forwards, and RFC 4475 3.4.1 has such requests accepted.
    if (mf === undefined) {
      if (viaBranch(parseVia(vias[0]!)!)?.startsWith(BRANCH_COOKIE)) return new SipParseError('missing mandatory header Max-Forwards');
    } else if (!/^\d{1,10}$/.test(mf) || Number(mf) > 255) return new SipParseError(`malformed Max-Forwards: ${JSON.stringify(mf.slice(0, 20))}`);
  }
  for (const c of h.getAll('Contact')) {
    if (c === '*') continue;
    if (!parseNameAddr(c)) return new SipParseError(`malformed Contact: ${JSON.stringify(c.slice(0, 80))}`);
  }
  const exp = h.get('Expires');
  if (exp !== undefined && !/^\d{1,10}$/.test(exp)) return new SipParseError(`malformed Expires: ${JSON.stringify(exp.slice(0, 20))}`);
  return null;
}
