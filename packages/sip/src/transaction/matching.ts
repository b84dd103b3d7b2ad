import { BRANCH_COOKIE } from '../ids.ts';
import { callIdOf, cseqOf, fromOf, topViaOf, type SipMessage, type SipRequest } from '../message.ts';
import { tagOf } from '../name-addr.ts';
import { viaBranch, viaSentBy } from '../via.ts';

/**
 * Key of a client transaction, also computed on responses (sec. 17.1.3):
 * "the response matches a client transaction ... If the response has the same
 * value of the branch parameter in the top Via header field as the branch
 * parameter in the top Via header field of the request that created the
 * transaction [and] if the method parameter in the CSeq header field matches
 * the method of the request that created the transaction." The method is needed
 * because a CANCEL shares the branch of the request it cancels.
 */
export function clientTransactionKey(m: SipMessage): string {
  const branch = viaBranch(topViaOf(m)) ?? '';
  return `${branch}|${cseqOf(m).method}`;
}

/**
 * Key of a server transaction, computed on requests (sec. 17.2.3). With the
 * magic cookie: branch + sent-by + method, where an ACK matches the INVITE
 * ("the method of the request matches the one that created the transaction,
 * except for ACK, where the method of the request that created the transaction
 * is INVITE"). Without it (RFC 2543 peers): Request-URI, From tag, Call-ID,
 * CSeq number and top Via, which approximates the older rules.
 */
export function serverTransactionKey(req: SipRequest, methodOverride?: string): string {
  const via = topViaOf(req);
  const method = methodOverride ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const branch = viaBranch(via);
  if (branch && branch.startsWith(BRANCH_COOKIE)) return `${branch}|${viaSentBy(via)}|${method}`;
  return `2543|${req.uri}|${tagOf(fromOf(req)) ?? ''}|${callIdOf(req)}|${cseqOf(req).seq}|${viaSentBy(via)}|${branch ?? ''}|${method}`;
}

/**
 * Key of the INVITE server transaction a CANCEL refers to (sec. 9.2: "the
 * CANCEL ... matches the transaction it cancels" by the same rules with method
 * INVITE). The To tag is ignored on purpose, as a CANCEL carries none.
 */
export function cancelTargetKey(cancel: SipRequest): string {
  return serverTransactionKey(cancel, 'INVITE');
}
