/**
 * Checks of a call's evidence beyond the verdict (expect.ts runs them): the
 * KMS's forked keys, which probes a UE decrypted, the voicemail's playback
 * and its store at rest.
 */
import { markerFor as markerOf } from '@imslab/probe';
import type { CallOutcome, KmsAuditEntry } from './expect.ts';
import type { StoreAndForward, StoreAtRest } from './playback-evidence.ts';
import type { Expectation } from './scenario.ts';
import type { CallRecord } from './steps.ts';
import type { UeCallStatus } from './ue-client.ts';

/** Key forking from the KMS audit: each allowed resolve forked (or not), and no two devices got the same keys. */
export function checkForkedKeys(want: boolean, allowed: KmsAuditEntry[], device: (e: KmsAuditEntry) => string, out: CallOutcome): void {
  const forked = allowed.filter((e) => e.forked === true);
  if (want !== (allowed.length > 0 && forked.length === allowed.length)) {
    out.mismatches.push(`KMS audit: ${forked.length} of ${allowed.length} resolves forked keys, expected ${want ? 'all' : 'none'}`);
    return;
  }
  const prints = allowed.map((e) => `${device(e)} ${e.keyFingerprint ?? '?'}`);
  if (!want) {
    out.evidence.push(`KMS audit: keys not forked (${prints.join(', ')})`);
    return;
  }
  const distinct = new Set(allowed.map((e) => e.keyFingerprint));
  if (distinct.size !== allowed.length || distinct.has(undefined)) out.mismatches.push(`KMS audit: forked keys are not distinct per device (${prints.join(', ')})`);
  else out.evidence.push(`KMS audit: keys forked per device (RFC 6043 5.1.4), fingerprints ${prints.join(', ')}`);
}

/** receivedProbeOf / noProbeOf: which calls' probes the caller of this call decrypted (UE counters). */
export function checkProbes(exp: Expectation, call: CallRecord, ueCalls: Record<string, UeCallStatus[]>, calls: ReadonlyMap<string, CallRecord> | undefined, out: CallOutcome): void {
  if (!exp.receivedProbeOf && !exp.noProbeOf) return;
  const mine = ueCalls[call.from]?.find((c) => c.callId === call.callId);
  const seen = mine?.media.rxMarkersSeen ?? [];
  const probeOf = (alias: string): string | null => {
    const c = calls?.get(alias);
    return c ? markerOf(c.callId, 'orig') : null;
  };
  for (const alias of exp.receivedProbeOf ?? []) {
    const m = probeOf(alias);
    if (!m) out.mismatches.push(`receivedProbeOf: no call ${alias}`);
    else if (!seen.includes(m)) out.mismatches.push(`${call.from} did not decrypt the probe of ${alias} (${m}); it saw ${seen.join(', ') || 'no probe'}`);
    else if ((mine?.media.rxAuthFailed ?? 0) > 0) out.mismatches.push(`${call.from}: ${mine!.media.rxAuthFailed} SRTP authentication failures`);
    else out.evidence.push(`${call.from} decrypted the probe of ${alias} (${m}), ${mine!.media.rxPackets} packets, no authentication failure`);
  }
  for (const alias of exp.noProbeOf ?? []) {
    const m = probeOf(alias);
    if (m && seen.includes(m)) out.mismatches.push(`${call.from} decrypted the probe of ${alias}, expected it could not`);
    else out.evidence.push(`${call.from} never decrypted the probe of ${alias}${mine ? ` (${mine.media.rxPackets} packets accepted, ${mine.media.rxAuthFailed} failed authentication)` : ''}`);
  }
}

/** playbackIdentical: the store-and-forward element sent back exactly what reached it (core capture). */
export function checkPlayback(want: boolean, s: StoreAndForward | null, out: CallOutcome): void {
  if (!s) {
    out.mismatches.push('playbackIdentical: no voicemail on this network, or no core capture');
    return;
  }
  const what = `${s.element}: ${s.received.packets} packets in, playbacks ${s.playbacks.map((p) => `${p.to} ${p.packets}${p.complete ? ' (complete)' : p.prefix ? ' (cut short, a prefix)' : ' (DIFFERENT)'}`).join(', ') || 'none'}`;
  if (s.identical !== want) out.mismatches.push(`playback ${s.identical ? 'identical' : 'not identical'} to the deposit, expected ${want ? 'identical' : 'a difference'} (${what})`);
  else out.evidence.push(`core capture: ${what}; payload digest ${s.received.digest.slice(0, 16)}`);
}

/** voicemailStores: ciphertext = messages stored, no probe marker and no key bytes in them; plaintext = the probe readable at rest. */
export function checkStoreAtRest(want: 'ciphertext' | 'plaintext', s: StoreAtRest | null, out: CallOutcome): void {
  if (!s || s.messages === 0) {
    out.mismatches.push('voicemailStores: the voicemail stored no message');
    return;
  }
  const what = `voicemail store: ${s.messages} message(s), ${s.bytes} bytes; probe markers at rest: ${s.markers.join(', ') || 'none'}; key bytes at rest: ${s.keys.join(', ') || 'none'}`;
  const got = s.markers.length > 0 || s.keys.length > 0 ? 'plaintext' : 'ciphertext';
  if (got !== want) out.mismatches.push(`${what}; expected ${want}`);
  else out.evidence.push(`${what} (${got})`);
}
