import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, readCapture } from '@imslab/capture';
import { parseKeyLog, type SrtpKeyLogEntry } from '@imslab/probe';
import { isSrtpProfileName, splitKeySalt, SrtpVerifier } from '@imslab/srtp';
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/** GMK-ID of an MKI (hex GMK-ID || GUK-ID). */
const gmkIdOf = (mki: string): string => `0x${mki.slice(0, 8)}`;

function keyLog(ctx: CheckContext, ue: string): SrtpKeyLogEntry[] | undefined {
  const file = ctx.keyDir && join(ctx.keyDir, `${ue}.srtp-keys.jsonl`);
  return file && existsSync(file) ? parseKeyLog(readFileSync(file, 'utf8')).entries : undefined;
}

/**
 * Packets of any link whose SRTP MKI is `mki`, and how many of them
 * authenticate under any of `keys` (the removed member's): read from the
 * captures, independent of the analyser.
 */
async function tryKeysOn(captures: Record<string, string>, mki: Buffer, keys: SrtpKeyLogEntry[]): Promise<{ packets: number; authentic: number; links: Set<string> }> {
  const verifiers = keys.filter((k) => isSrtpProfileName(k.suite)).map((k) => {
    const { masterKey, masterSalt } = splitKeySalt(k.suite as never, Buffer.from(k.keySalt, 'base64'));
    return new SrtpVerifier(k.suite as never, masterKey, masterSalt, k.mki ? { mkiLength: k.mki.length / 2 } : {});
  });
  const out = { packets: 0, authentic: 0, links: new Set<string>() };
  // AES_CM_128_HMAC_SHA1_80: the 10-octet tag follows the MKI.
  const tag = 10;
  for (const [link, file] of Object.entries(captures)) {
    for await (const pkt of readCapture(file)) {
      const d = decodeFrame(pkt.linkType, pkt.data);
      if (!d || d.protocol !== 'udp' || d.payload.length < 12 + mki.length + tag || d.payload[0]! >> 6 !== 2) continue;
      const at = d.payload.length - tag - mki.length;
      if (!d.payload.subarray(at, at + mki.length).equals(mki)) continue;
      out.packets++;
      out.links.add(link);
      if (verifiers.some((v) => v.authenticatesRtp(d.payload, [0]) >= 0)) out.authentic++;
    }
  }
  return out;
}

export const groupRekeyed = defineCheck({
  key: 'groupRekeyed',
  basis: 'key logs and packets',
  doc: 'This call\'s caller re-keyed after `removed` left the group (TR 33.828 4.1.3/4.2): it sent under a key of a new GMK afterwards; that key is absent from the removed member\'s key log; the packets carrying it (found on the links by their MKI) do not authenticate under any key the removed member logged; the removed member\'s re-key was refused by the KMS.',
  schema: z.strictObject({ removed: z.string().min(1) }),
  async run(want, ctx) {
    const talker = ctx.call.from;
    const mine = keyLog(ctx, talker)?.filter((k) => k.callId === ctx.call.callId && k.dir === 'tx' && k.mki);
    const theirs = keyLog(ctx, want.removed);
    if (!mine || !theirs) return ctx.mismatch(`no evidence: the key log of ${!mine ? talker : want.removed} is missing`);
    const epochs = [...new Set(mine.map((k) => gmkIdOf(k.mki!)))];
    if (epochs.length < 2) return ctx.mismatch(`${talker} sent under ${epochs.length} GMK(s) (${epochs.join(', ') || 'none'}) on ${ctx.call.alias}: no re-key happened`);
    const last = mine[mine.length - 1]!;
    ctx.saw(`key logs: ${talker} sent under GMK-IDs ${epochs.join(' then ')}; after the re-key under MKI ${last.mki}`);
    const leaked = theirs.filter((k) => k.keySalt === last.keySalt || (k.mki && gmkIdOf(k.mki) === gmkIdOf(last.mki!)));
    if (leaked.length) ctx.mismatch(`${want.removed}'s key log holds the key (or GMK ${gmkIdOf(last.mki!)}) used after the re-key (${leaked.length} entries)`);
    else ctx.saw(`key logs: ${want.removed} logged ${theirs.length} keys (GMK-IDs ${[...new Set(theirs.flatMap((k) => (k.mki ? [gmkIdOf(k.mki)] : [])))].join(', ') || 'none'}), none of GMK ${gmkIdOf(last.mki!)}`);
    const seen = await tryKeysOn(ctx.captures, Buffer.from(last.mki!, 'hex'), theirs);
    if (seen.packets === 0) ctx.mismatch(`packets: no packet under MKI ${last.mki} on any link: the re-keyed burst was not captured`);
    else if (seen.authentic > 0) ctx.mismatch(`packets: ${seen.authentic} of ${seen.packets} packets under the new GMK authenticate under a key ${want.removed} holds`);
    else ctx.saw(`packets: ${seen.packets} packets under MKI ${last.mki} on ${[...seen.links].join(', ')}; none authenticates under any of ${want.removed}'s ${theirs.length} keys`);
    const refused = (ctx.ueCalls[want.removed] ?? []).find((c) => c.groupKey?.rekeyRefused)?.groupKey?.rekeyRefused;
    if (!refused) ctx.mismatch(`UE reports: ${want.removed} was not refused a re-key (it never asked, or the KMS gave it the new GMK)`);
    else ctx.saw(`UE reports: ${want.removed}'s re-key refused: ${refused}`);
  },
});
