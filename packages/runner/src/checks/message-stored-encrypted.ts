import { z } from 'zod';
import { defineCheck } from './check.ts';

export const messageStoredEncrypted = defineCheck({
  key: 'messageStoredEncrypted',
  basis: 'packets',
  doc: 'The named server elements keep the message at rest as ciphertext: a file of their store is byte for byte a CMS of this message seen on a link (deferred delivery of messages, TR 33.828 4.3), and the message\'s marker is in none of their files.',
  schema: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  run(want, ctx) {
    const a = ctx.messages;
    if (!a) return ctx.mismatch('no evidence: no message analysis (the scenario sent no message, or its captures are missing)');
    const r = a.messages.find((m) => m.alias === ctx.alias);
    if (!r) return ctx.mismatch(`no evidence: the message analysis has no report for ${ctx.alias}`);
    for (const element of typeof want === 'string' ? [want] : want) {
      const atRest = (r.cmsAtRest ?? []).filter((d) => d.element === element);
      const plain = r.stores.filter((s) => s.element === element);
      for (const d of atRest) ctx.saw(`${element} keeps ${ctx.alias} as its CMS at rest (${d.file}, sha256:${d.sha256.slice(0, 12)})`);
      if (atRest.length === 0) ctx.mismatch(`no file of ${element}'s store is a CMS of ${ctx.alias}: it did not keep the message, or not as it arrived`);
      if (plain.length) ctx.mismatch(`${element} holds ${ctx.alias} in plaintext: ${plain.map((s) => s.file).join(', ')}`);
    }
  },
});
