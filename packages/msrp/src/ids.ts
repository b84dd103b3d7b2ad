/** Random identifiers: transaction ids and Message-IDs (ident, RFC 4975 sec. 9) and session ids (sec. 6, 14.1). */
import { randomBytes } from 'node:crypto';
import { MSRP } from './constants.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  // 248 = 4 * 62: rejection-free enough for ids; bias below 1 % is irrelevant here.
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

/** A transaction id: 12 alphanumerics (well inside 4..32, sec. 9). */
export function newTransactionId(): string {
  return alnum(12);
}

/** A Message-ID: unique within the session (sec. 7.1.1). */
export function newMessageId(): string {
  return alnum(16);
}

/** A session id with at least 80 bits of randomness, only unreserved characters (sec. 14.1, sec. 9). */
export function newSessionId(): string {
  return randomBytes(MSRP.sessionIdRandomBytes).toString('base64url');
}
