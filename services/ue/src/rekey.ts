/**
 * Re-keying a group call after the group's membership changed (TR 33.828
 * 4.1.3, 4.2): the member fetches the group's key for the new epoch and sends
 * under it; packets under keys it already holds stay readable (talkers switch
 * one by one). A PoC member asks the group management server for the current
 * GMK (MIKEY-SAKKE); a conference member asks the KMS for a new group ticket.
 * A removed member is refused by the KMS and keeps only the keys it had.
 */
import { uriIdentity } from '@imslab/mikey';
import type { Call } from './call.ts';
import type { KmsAgent } from './kms-agent.ts';
import { KmsFailure } from './kms-agent.ts';
import { groupSrtpKey } from './mikey-ticket.ts';
import { gmsOf } from './negotiation.ts';

/** What a re-key request did. */
export interface RekeyResult {
  /** true: we now send under a new key; false: the key was current already (or is only received so far). */
  changed: boolean;
  /** The new key is accepted on receive; we do not send under it yet (activate: false). */
  pending?: boolean;
  /** poc-e2e: the GMK-ID we send under and every one held. */
  gmkId?: string;
  held?: string[];
}

/** Thrown when the call has nothing to re-key (HTTP 409 at the control API). */
export class NotRekeyable extends Error {}

/**
 * Fetches the group's current key for `call` and switches to it; throws
 * KmsFailure on refusal. `activate: false` is the first phase of a rollover
 * without loss: the new key is accepted on receive at once, and sent under
 * only on a second call with `activate` (after every member has it). A group
 * keyed with an MKI (PoC) needs no such phase, but allows it.
 */
export async function rekeyGroupCall(call: Call, kms: KmsAgent | undefined, activate = true): Promise<RekeyResult> {
  const o = call.outcome;
  if (!kms) throw new NotRekeyable('this UE has no KMS configured');
  if (call.ended || !o || !call.media) throw new NotRekeyable(`call ${call.callId} is ${call.state}: nothing to re-key`);
  const group = call.remoteClaimed.replace(/^<|>$/g, '');
  if (o.gmk) {
    const before = o.gmk.currentGmkId;
    if (!(activate && o.gmk.activatePending())) {
      try {
        o.gmk.add(await kms.groupMasterKey(uriIdentity(group), gmsOf(group)), activate);
      } catch (e) {
        call.rekeyRefused = e instanceof KmsFailure ? e.message : (e as Error).message;
        throw e;
      }
      call.media.rxKeysChanged();
    }
    if (!activate) return { changed: false, pending: true, gmkId: hexId(before), held: o.gmk.heldIds() };
    if (o.gmk.currentGmkId === before) return { changed: false, gmkId: hexId(before), held: o.gmk.heldIds() };
    const tx = o.gmk.txKey();
    o.tx = tx;
    call.switchTxKey(tx);
    return { changed: true, gmkId: hexId(o.gmk.currentGmkId), held: o.gmk.heldIds() };
  }
  if (o.keyManagement === 'mikey-ticket' && call.securityRequested === 'group-e2e' && o.tx) {
    let key = activate ? call.pendingGroupKey : undefined;
    if (!key) {
      try {
        key = await groupSrtpKey(kms, uriIdentity(group));
      } catch (e) {
        call.rekeyRefused = e instanceof KmsFailure ? e.message : (e as Error).message;
        throw e;
      }
    }
    if (key.keySaltBase64 === o.tx.keySaltBase64) return { changed: false };
    call.acceptGroupKey(key);
    if (!activate) return { changed: false, pending: true };
    o.tx = key;
    o.rx = key;
    call.switchGroupKey(key);
    return { changed: true };
  }
  throw new NotRekeyable(`call ${call.callId} is not a group call keyed by the KMS (security ${call.securityRequested}): only poc-e2e and group-e2e calls re-key`);
}

function hexId(id: number | undefined): string | undefined {
  return id === undefined ? undefined : `0x${id.toString(16).padStart(8, '0')}`;
}
