import { z } from 'zod';
import { defineCheck } from './check.ts';

export const voicemailStores = defineCheck({
  key: 'voicemailStores',
  basis: 'voicemail store',
  doc: 'What the voicemail\'s message store holds at rest: only ciphertext (no probe marker, no key bytes), or the probe in the clear.',
  schema: z.enum(['ciphertext', 'plaintext']),
  run(want, ctx) {
    const s = ctx.evidence('voicemail-store');
    if (!s) return ctx.mismatch('no evidence: the voicemail\'s store was not collected');
    if (s.messages === 0) return ctx.mismatch('voicemailStores: the voicemail stored no message');
    const what = `voicemail store: ${s.messages} message(s), ${s.bytes} bytes; probe markers at rest: ${s.markers.join(', ') || 'none'}; key bytes at rest: ${s.keys.join(', ') || 'none'}`;
    const got = s.markers.length > 0 || s.keys.length > 0 ? 'plaintext' : 'ciphertext';
    if (got !== want) ctx.mismatch(`${what}; expected ${want}`);
    else ctx.saw(`${what} (${got})`);
  },
});
