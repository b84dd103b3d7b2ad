import { afterFault } from './after-fault.ts';
import { answeredBy } from './answered-by.ts';
import { callerAchieved } from './caller-achieved.ts';
import type { Check } from './check.ts';
import { displayed } from './displayed.ts';
import { distinctAccessKeys } from './distinct-access-keys.ts';
import { failure } from './failure.ts';
import { floor } from './floor.ts';
import { floorControlInClear } from './floor-control-in-clear.ts';
import { decryptableBy } from './decryptable-by.ts';
import { depositorAuthenticated } from './depositor-authenticated.ts';
import { groupRekeyed } from './group-rekeyed.ts';
import { keysExposed } from './keys-exposed.ts';
import { keysSubstituted } from './keys-substituted.ts';
import { kmsAuthenticated } from './kms-authenticated.ts';
import { kmsDeferredResolved } from './kms-deferred-resolved.ts';
import { kmsKeysForked } from './kms-keys-forked.ts';
import { kmsRefused } from './kms-refused.ts';
import { kmsResolved } from './kms-resolved.ts';
import { links } from './links.ts';
import { mediaIntegrity } from './media-integrity.ts';
import { messageDelivered } from './message-delivered.ts';
import { messageStoredEncrypted } from './message-stored-encrypted.ts';
import { noMediaAfterHangup } from './no-media-after-hangup.ts';
import { noMediaAt } from './no-media-at.ts';
import { phases } from './phases.ts';
import { playbackIdentical } from './playback-identical.ts';
import { messageVerdict } from './message-verdict.ts';
import { pocBox } from './poc-box.ts';
import { pocForwarded } from './poc-forwarded.ts';
import { noProbeOf, probeReceived, receivedProbeOf } from './probes.ts';
import { sipOnAccess } from './sip-on-access.ts';
import { ueCounters } from './ue-counters.ts';
import { verdict } from './verdict.ts';
import { voicemailDeposit } from './voicemail-deposit.ts';
import { voicemailStores } from './voicemail-stores.ts';

/**
 * Every expectation key a scenario may use, one check each, in the order
 * they run. The scenario schema (and scenarios/scenario.schema.json) is
 * built from this list: a key that is not here is refused at load.
 */
export const CHECKS: readonly Check[] = [
  verdict, afterFault, phases, keysExposed, keysSubstituted, links, distinctAccessKeys, sipOnAccess,
  answeredBy, failure, callerAchieved,
  kmsResolved, kmsDeferredResolved, kmsKeysForked, kmsRefused, kmsAuthenticated, depositorAuthenticated,
  noMediaAt, displayed, receivedProbeOf, noProbeOf, probeReceived,
  playbackIdentical, voicemailStores, voicemailDeposit, noMediaAfterHangup, ueCounters, mediaIntegrity, floor, pocForwarded, floorControlInClear, groupRekeyed, decryptableBy, pocBox, messageVerdict, messageDelivered, messageStoredEncrypted,
] as readonly Check[];

export { callMarker, callMarkers, defineCheck, noEvidence, type Check, type CheckContext, type CallRecord, type StreamMedia } from './check.ts';
