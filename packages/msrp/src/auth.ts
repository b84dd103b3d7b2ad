/**
 * AUTH to an MSRP relay (RFC 4976 sec. 5): the client sends AUTH to the
 * relay's URI, answers the 401's Digest challenge (WWW-Authenticate, HTTP
 * Digest with method "AUTH" and the relay URI as digest-uri, sec. 5.1), and
 * gets a 200 with Use-Path (the relay URIs to put in its a=path) and
 * Expires. A 423 carries Min-Expires or Max-Expires; one retry honours it.
 */
import { buildDigestAuthorization, parseDigestChallenge } from '@imslab/sip';
import { buildAuth } from './build.ts';
import { MSRP_STATUS } from './constants.ts';
import { MsrpConnectionError, MsrpResponseError } from './errors.ts';
import { getHeader } from './frame.ts';
import { H, parseSeconds } from './headers.ts';
import type { MsrpConnection } from './connection.ts';
import { formatMsrpUri, type MsrpUri } from './uri.ts';

export interface AuthOptions {
  relayUri: MsrpUri;
  localUri: MsrpUri;
  credentials: { username: string; password: string };
  /** Asked lifetime in seconds; no Expires header when absent (the relay picks). */
  expires?: number;
  timeoutMs?: number;
}

export interface AuthResult {
  /** The relay URIs to prepend to our a=path (RFC 4976 sec. 5.1, 6.1). */
  usePath: MsrpUri[];
  expires: number | undefined;
  /** Requests it took (2 with a challenge). */
  requests: number;
}

export async function authenticate(conn: MsrpConnection, o: AuthOptions): Promise<AuthResult> {
  let authorization: string | undefined;
  let expires = o.expires;
  let nonceCount = 0;
  let retried423 = false;
  for (let requests = 1; requests <= 4; requests++) {
    const req = buildAuth({ relayUri: o.relayUri, localUri: o.localUri, authorization, expires });
    const { response, info } = await conn.transact(req, o.timeoutMs);
    if (response.status === 200) {
      if (!info?.usePath?.length) throw new MsrpConnectionError('auth-failed', 'relay accepted AUTH without a Use-Path (RFC 4976 sec. 5.1)');
      return { usePath: info.usePath, expires: info.expires, requests };
    }
    if (response.status === 401 && authorization === undefined) {
      const challengeText = getHeader(response, H.wwwAuthenticate);
      if (challengeText === undefined) throw new MsrpConnectionError('auth-failed', '401 without WWW-Authenticate (RFC 4976 sec. 5.1)');
      const ch = parseDigestChallenge(challengeText);
      if (!ch.ok) throw new MsrpConnectionError('auth-failed', `bad challenge: ${ch.error.message}`);
      const a = buildDigestAuthorization(ch.challenge, o.credentials, { method: 'AUTH', uri: formatMsrpUri(o.relayUri) }, ++nonceCount);
      if (!a.ok) throw new MsrpConnectionError('auth-failed', a.error.message);
      authorization = a.value;
      continue;
    }
    if (response.status === 423 && !retried423) {
      // RFC 4976 sec. 5.1: retry within the bounds the relay gave.
      retried423 = true;
      const min = getHeader(response, H.minExpires);
      const max = getHeader(response, H.maxExpires);
      const bound = min ?? max;
      const v = bound === undefined ? undefined : parseSeconds(min ? H.minExpires : H.maxExpires, bound);
      expires = v?.ok ? v.value : undefined;
      continue;
    }
    if (response.status === 401) throw new MsrpConnectionError('auth-failed', `relay refused our credentials (401 ${response.comment ?? MSRP_STATUS[401]})`);
    throw new MsrpResponseError(response.status, response.comment, 'AUTH', response.transactionId);
  }
  throw new MsrpConnectionError('auth-failed', 'AUTH did not succeed within 4 requests');
}
