import { z } from 'zod';
import { defineCheck } from './check.ts';

export const sipOnAccess = defineCheck({
  key: 'sipOnAccess',
  basis: 'packets',
  doc: 'SIP on the access links must be TLS only (`tls`), or may be anything (`any`).',
  schema: z.enum(['tls', 'any']),
  run(want, ctx) {
    if (want !== 'tls') return;
    const access = ctx.analysis.links.filter((x) => x.link.startsWith('access'));
    if (access.length === 0) ctx.mismatch('no evidence: no access link was captured');
    for (const l of access) {
      if (l.signalling.plaintextSip > 0) ctx.mismatch(`${l.link}: ${l.signalling.plaintextSip} plaintext SIP messages (expected TLS only)`);
      else if (l.signalling.tlsRecords === 0) ctx.mismatch(`${l.link}: no TLS seen (expected SIP over TLS)`);
      else ctx.saw(`${l.link}: SIP over TLS only (${l.signalling.tlsRecords} TLS records, no plaintext SIP)`);
    }
  },
});
