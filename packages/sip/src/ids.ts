import { randomBytes } from 'node:crypto';

/** The magic cookie that marks an RFC 3261 branch id (sec. 8.1.1.7). */
export const BRANCH_COOKIE = 'z9hG4bK';

/** A new Via branch: the magic cookie plus 96 bits from the CSPRNG, unique across space and time. */
export function newBranch(): string {
  return BRANCH_COOKIE + randomBytes(12).toString('hex');
}

/** A new From/To tag: 64 random bits (sec. 19.3 asks for at least 32). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A new Call-ID, `random@host` (sec. 8.1.1.4). */
export function newCallId(host: string): string {
  return `${randomBytes(12).toString('hex')}@${host}`;
}

/** A new client nonce for digest authentication. */
export function newCnonce(): string {
  return randomBytes(8).toString('hex');
}
