/**
 * Maps everything that can go wrong while processing a MIKEY request to an
 * HTTP refusal: status, short code and a reason a human understands.
 *
 *   400 malformed / not the expected exchange      401 MAC or PSK failure
 *   403 policy refusal, forged ticket              409 replay, stale timestamp
 *   410 expired ticket                             413 too large   415 wrong type
 *   503 replay cache full (the KMS fails closed, RFC 3830 sec. 5.4)
 */
import {
  MikeyAuthError,
  MikeyEncodeError,
  MikeyError,
  MikeyParseError,
  MikeyProtocolError,
  MikeyReplayError,
  MikeyTicketError,
  MikeyTimestampError,
} from '@imslab/mikey';
import { KmsRefusal } from './errors.ts';

/** A refusal, plus whether the error was of a kind the KMS did not anticipate (a bug to look at). */
export interface Refusal {
  status: number;
  code: string;
  reason: string;
  unexpected: boolean;
}

/** Strips the library's prefix ("MIKEY authentication failed (x): ") where the code already says it. */
function tail(e: Error): string {
  return e.message.replace(/^MIKEY [a-z ]+(\([a-z-]+\))?: /, '');
}

/** The refusal for an error thrown while handling a request. */
export function toRefusal(e: unknown): Refusal {
  const r = (status: number, code: string, reason: string, unexpected = false): Refusal => ({ status, code, reason, unexpected });
  if (e instanceof KmsRefusal) return r(e.status, e.code, e.reason);
  if (e instanceof MikeyAuthError) {
    switch (e.reason) {
      case 'mac-mismatch':
        return r(401, 'mac-mismatch', `the message's MAC does not verify with the pre-shared key of the named device: wrong key, or the message was modified in transit (${tail(e)})`);
      case 'unknown-key':
        return r(401, 'unknown-key', `no pre-shared key for the claimed identity (${tail(e)})`);
      case 'ticket-mac-mismatch':
        return r(403, 'ticket-forged', 'the ticket does not verify under the KMS master key: it was forged or modified');
      case 'unsupported-algorithm':
        return r(401, 'unsupported-mac', `the message is not protected by a MAC this KMS accepts (${tail(e)})`);
      default:
        return r(401, e.reason, tail(e));
    }
  }
  if (e instanceof MikeyReplayError) {
    return e.reason === 'cache-full'
      ? r(503, 'replay-cache-full', 'the KMS cannot remember more messages within the replay window; it refuses until older ones expire')
      : r(409, 'replayed', 'this exact message was already received within the replay window (replay refused, RFC 3830 sec. 5.4)');
  }
  if (e instanceof MikeyTimestampError) {
    return r(409, 'stale-timestamp', `the message timestamp is ${Math.round(e.skewMs / 1000)} s off the KMS clock (allowed ±${Math.round(e.windowMs / 1000)} s): an old, replayed message or an unsynchronised clock`);
  }
  if (e instanceof MikeyTicketError) {
    switch (e.reason) {
      case 'expired':
        return r(410, 'ticket-expired', tail(e));
      case 'not-yet-valid':
        return r(403, 'ticket-not-yet-valid', tail(e));
      case 'unknown-key-id':
        return r(403, 'ticket-unknown-key', `the ticket was sealed under a master key this KMS does not have (a forged ticket, or one from another KMS run): ${tail(e)}`);
      case 'resolver-not-allowed':
      case 'policy-mismatch':
        return r(403, e.reason, tail(e));
      default:
        return r(400, e.reason === 'malformed' ? 'malformed-ticket' : e.reason, tail(e));
    }
  }
  if (e instanceof MikeyProtocolError) return r(400, e.reason, tail(e));
  if (e instanceof MikeyParseError) return r(400, 'malformed', e.message);
  if (e instanceof MikeyEncodeError) return r(400, 'unencodable', `the request asks for something the KMS cannot encode: ${e.message}`);
  if (e instanceof MikeyError) return r(400, 'mikey-error', e.message);
  // Not an error the MIKEY code declares: still the request's doing (nothing
  // else runs here), so refuse it, but flag it so it is looked at.
  return r(400, 'unprocessable', `the message could not be processed: ${e instanceof Error ? e.message : String(e)}`, true);
}
