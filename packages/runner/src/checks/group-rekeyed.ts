import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, readCapture } from '@imslab/capture';
import { parseKeyLog, type SrtpKeyLogEntry } from '@imslab/probe';
import { isSrtpProfileName, splitKeySalt, SrtpVerifier } from '@imslab/srtp';
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/** GMK-ID of an MKI (hex GMK-ID || GUK-ID). */
const gmkIdOf = (mki: string): string => `0x${mki.slice(0, 8)}`;
/** What names a key's epoch: its GMK-ID (PoC), or the key itself (a conference's group ticket key). */
const epochOf = (k: SrtpKeyLogEntry): string => (k.mki ? gmkIdOf(k.mki) : `key ${k.keySalt.slice(0, 8)}…`);

function keyLog(ctx: CheckContext, ue: string): SrtpKeyLogEntry[] | undefined {
  const file = ctx.keyDir && join(ctx.keyDir, `${ue}.srtp-keys.jsonl`);
  return file && existsSync(file) ? parseKeyLog(readFileSync(file, 'utf8')).entries : undefined;
}

function verifierOf(k: SrtpKeyLogEntry): SrtpVerifier | null {
  if (!isSrtpProfileName(k.suite)) return null;
  const { masterKey, masterSalt } = splitKeySalt(k.suite, Buffer.from(k.keySalt, 'base64'));
  return new SrtpVerifier(k.suite, masterKey, masterSalt, k.mki ? { mkiLength: k.mki.length / 2 } : {});
}

/**
 * Packets of any link under the talker's new key (those whose tag verifies
 * under it), and how many of them authenticate under any of `keys` (the
 * removed member's): read from the captures, independent of the analyser.
 */
async function tryKeysOn(captures: Record<string, string>, newKey: SrtpKeyLogEntry, keys: SrtpKeyLogEntry[]): Promise<{ packets: number; authentic: number; links: Set<string> }> {
  const verifiers = keys.map(verifierOf).filter((v): v is SrtpVerifier => v !== null);
  const theNew = verifierOf(newKey);
  const out = { packets: 0, authentic: 0, links: new Set<string>() };
  if (!theNew) return out;
  for (const [link, file] of Object.entries(captures)) {
    for await (const pkt of readCapture(file)) {
      const d = decodeFrame(pkt.linkType, pkt.data);
      if (!d || d.protocol !== 'udp' || d.payload.length < 12 || d.payload[0]! >> 6 !== 2) continue;
      // Rollover counter 0 or 1: a probe stream of a scenario stays well inside two.
      if (theNew.authenticatesRtp(d.payload, [0, 1]) < 0) continue;
      out.packets++;
      out.links.add(link);
      if (verifiers.some((v) => v.authenticatesRtp(d.payload, [0, 1]) >= 0)) out.authentic++;
    }
  }
  return out;
}

export const groupRekeyed = defineCheck({
  key: 'groupRekeyed',
  basis: 'key logs and packets',
  doc: 'This call\'s caller re-keyed after `removed` left the group (TR 33.828 4.1.3/4.2): it sent under a new group key afterwards (a new GMK, or a new group ticket key); that key is absent from the removed member\'s key log; the packets under it (found on the links by their tag) do not authenticate under any key the removed member logged; the removed member was refused the new key by the KMS (a re-key on a call it kept, or the group key when it tried to join again).',
  schema: z.strictObject({ removed: z.string().min(1) }),
  async run(want, ctx) {
    const talker = ctx.call.from;
    const mine = keyLog(ctx, talker)?.filter((k) => k.callId === ctx.call.callId && k.dir === 'tx' && k.purpose !== 'floor-control');
    const theirs = keyLog(ctx, want.removed);
    if (!mine || !theirs) return ctx.mismatch(`no evidence: the key log of ${!mine ? talker : want.removed} is missing`);
    const epochs = [...new Set(mine.map(epochOf))];
    if (epochs.length < 2) return ctx.mismatch(`${talker} sent under ${epochs.length} group key(s) (${epochs.join(', ') || 'none'}) on ${ctx.call.alias}: no re-key happened`);
    const last = mine[mine.length - 1]!;
    const name = last.mki ? `GMK ${gmkIdOf(last.mki)} (MKI ${last.mki})` : epochOf(last);
    ctx.saw(`key logs: ${talker} sent under ${epochs.join(' then ')}; after the re-key under ${name}`);
    const leaked = theirs.filter((k) => k.keySalt === last.keySalt || (k.mki && last.mki && gmkIdOf(k.mki) === gmkIdOf(last.mki)));
    if (leaked.length) ctx.mismatch(`${want.removed}'s key log holds ${name}, used after the re-key (${leaked.length} entries)`);
    else ctx.saw(`key logs: ${want.removed} logged ${theirs.length} keys (${[...new Set(theirs.map(epochOf))].join(', ') || 'none'}), not ${name}`);
    const seen = await tryKeysOn(ctx.captures, last, theirs);
    if (seen.packets === 0) ctx.mismatch(`packets: no packet under ${name} on any link: the re-keyed media was not captured`);
    else if (seen.authentic > 0) ctx.mismatch(`packets: ${seen.authentic} of ${seen.packets} packets under ${name} authenticate under a key ${want.removed} holds`);
    else ctx.saw(`packets: ${seen.packets} packets under ${name} on ${[...seen.links].join(', ')}; none authenticates under any of ${want.removed}'s ${theirs.length} keys`);
    // Refused a re-key on a call it kept (PoC), or refused the group key when it tried to join again (conference).
    const views = ctx.ueCalls[want.removed] ?? [];
    const refused = views.find((c) => c.groupKey?.rekeyRefused)?.groupKey?.rekeyRefused ?? views.find((c) => /removed-member|was removed from/.test(c.failure?.reason ?? ''))?.failure?.reason;
    if (!refused) ctx.mismatch(`UE reports: ${want.removed} was never refused the group's new key (it never asked, or the KMS gave it)`);
    else ctx.saw(`UE reports: ${want.removed} refused the new key: ${refused}`);
  },
});
