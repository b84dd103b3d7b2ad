import { z } from 'zod';
import { defineCheck } from './check.ts';
import { auditDevice, resolves } from './views.ts';

export const kmsKeysForked = defineCheck({
  key: 'kmsKeysForked',
  basis: 'KMS audit log',
  doc: 'Every device that resolved got keys forked for it (RFC 6043 sec. 5.1.4), all different (key fingerprints in the KMS audit log); false: not forked.',
  schema: z.boolean(),
  run(want, ctx) {
    const rs = resolves(ctx);
    if (!rs) return;
    const allowed = rs.filter((e) => e.result === 'allowed');
    const forked = allowed.filter((e) => e.forked === true);
    if (want !== (allowed.length > 0 && forked.length === allowed.length)) {
      ctx.mismatch(`KMS audit: ${forked.length} of ${allowed.length} resolves forked keys, expected ${want ? 'all' : 'none'}`);
      return;
    }
    const prints = allowed.map((e) => `${auditDevice(e)} ${e.keyFingerprint ?? '?'}`);
    if (!want) {
      ctx.saw(`KMS audit: keys not forked (${prints.join(', ')})`);
      return;
    }
    const distinct = new Set(allowed.map((e) => e.keyFingerprint));
    if (distinct.size !== allowed.length || distinct.has(undefined)) ctx.mismatch(`KMS audit: forked keys are not distinct per device (${prints.join(', ')})`);
    else ctx.saw(`KMS audit: keys forked per device (RFC 6043 5.1.4), fingerprints ${prints.join(', ')}`);
  },
});
