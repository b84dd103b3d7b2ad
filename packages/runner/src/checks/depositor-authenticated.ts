import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_DIR } from '@imslab/voicemail/contract';
import { z } from 'zod';
import { defineCheck } from './check.ts';
import { impuOf } from './kms-authenticated.ts';
import { storedMessages } from './voicemail-deposit.ts';

/**
 * A retrieval of a stored e2e message: who deposited what was played, as
 * the retriever's UE learned it from the KMS (the TRANSFER_INIT's signed
 * initiator, resolved for deferred delivery), not as the voicemail says.
 * A compromised voicemail may play another message in place of the one
 * asked for (attack swap-message); this is what tells. The evidence adds
 * what the store claims for the asked-for message (the oldest of the
 * mailbox) and any attack the voicemail logged.
 */
export const depositorAuthenticated = defineCheck({
  key: 'depositorAuthenticated',
  basis: 'UE reports',
  doc: 'Retrieval of a stored e2e message: the retriever\'s UE shows the depositor the KMS authenticated (the stored TRANSFER_INIT\'s initiator), and it is this UE\'s user, whatever the voicemail\'s store claims.',
  schema: z.string().min(1),
  run(want, ctx) {
    const retriever = ctx.call.from;
    const mine = (ctx.ueCalls[retriever] ?? []).find((c) => c.callId === ctx.call.callId);
    if (!mine) return ctx.mismatch(`no evidence: ${retriever} reports no call ${ctx.call.callId}`);
    const expected = impuOf(ctx, want);
    if (expected === null) return ctx.mismatch(`no evidence: ${want} is not a UE of this network, its identity is unknown`);
    const got = mine.kmsAuthenticatedPeer;
    if (!got) ctx.mismatch(`${retriever}: no KMS-authenticated depositor (${mine.failure?.reason ?? mine.state})`);
    else if (got !== expected) ctx.mismatch(`${retriever}: the KMS authenticated ${got} as the depositor, expected ${expected} (${want})`);
    else ctx.saw(`${retriever}: the KMS authenticated the depositor of what was played as ${got}`);
    const root = ctx.dir && join(ctx.dir, 'logs', STORE_DIR);
    const user = impuOf(ctx, retriever)?.replace(/^sip:|@.*$/g, '');
    if (root && user && existsSync(root)) {
      const oldest = storedMessages(root).metas.filter((m) => m.mailbox === user).sort((a, b) => a.id.localeCompare(b.id))[0];
      if (oldest) ctx.saw(`voicemail store: it names the oldest message of mailbox ${user} (${oldest.id}) as from ${oldest.from}`);
    }
    const log = ctx.dir && join(ctx.dir, 'logs', 'voicemail.log');
    const attacks = log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('ATTACK')) : [];
    for (const l of attacks) ctx.saw(`voicemail log: ${l.trim().slice(0, 240)}`);
  },
});
