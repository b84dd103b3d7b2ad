import { z } from 'zod';
import { defineCheck } from './check.ts';

export const sipOnAccess = defineCheck({
  key: 'sipOnAccess',
  basis: 'packets',
  doc: 'SIP on the access links must be TLS only (`tls`); `no-plaintext`: TLS or none at all (a UE whose TLS was blocked must not fall back to SIP in the clear); `any`: anything.',
  schema: z.enum(['tls', 'no-plaintext', 'any']),
  run(want, ctx) {
    if (want === 'any') return;
    const access = ctx.analysis.links.filter((x) => x.link.startsWith('access'));
    if (access.length === 0) ctx.mismatch('no evidence: no access link was captured');
    for (const l of access) {
      if (l.signalling.plaintextSip > 0) ctx.mismatch(`${l.link}: ${l.signalling.plaintextSip} plaintext SIP messages (expected ${want === 'tls' ? 'TLS only' : 'none in the clear'})`);
      else if (want === 'no-plaintext') ctx.saw(`${l.link}: no SIP in the clear (${l.signalling.tlsRecords} TLS records)`);
      else if (l.signalling.tlsRecords === 0) ctx.mismatch(`${l.link}: no TLS seen (expected SIP over TLS)`);
      else ctx.saw(`${l.link}: SIP over TLS only (${l.signalling.tlsRecords} TLS records, no plaintext SIP)`);
    }
  },
});
