import { z } from 'zod';
import { callMarker, defineCheck, type CheckContext } from './check.ts';
import { callerView } from './views.ts';

/**
 * Where the caller's probe went, from the captures: flows leaving the PoC
 * server with it, flows delivering it to a UE other than the caller, and the
 * server endpoints it reached (its leg at the server).
 */
function forwardedFlows(ctx: CheckContext, serverAddress: string): { fromServer: string[]; toOthers: string[]; legs: Set<string> } {
  const marker = callMarker(ctx.call, 'orig');
  const ues = new Map(ctx.plan.elements.filter((e) => e.kind === 'ue' && e.name !== ctx.call.from && 'address' in e).map((e) => [String((e as { address: string }).address), e.name]));
  const fromServer: string[] = [];
  const toOthers: string[] = [];
  const legs = new Set<string>();
  for (const l of ctx.analysis.links) {
    for (const f of l.media) {
      const m = f.markers[marker];
      if (!m) continue;
      const n = m.plaintext + Object.values(m.srtp).reduce((a, b) => a + b, 0);
      if (f.src.startsWith(`${serverAddress}:`)) fromServer.push(`${l.link} ${f.flow} (${n} packets)`);
      if (f.dst.startsWith(`${serverAddress}:`)) legs.add(f.dst);
      const to = ues.get(f.dst.replace(/:\d+$/, ''));
      if (to) toOthers.push(`${l.link} ${f.flow} to ${to} (${n} packets)`);
    }
  }
  return { fromServer, toOthers, legs };
}

/** The mode of the PoC group the call joined (its Request-URI user, as the caller reports the call), if the server has it. */
function groupMode(ctx: CheckContext, server: object): string | undefined {
  const target = callerView(ctx)?.remoteClaimedIdentity ?? '';
  const user = /^<?sips?:([^@;>]+)@/.exec(target)?.[1];
  const groups = 'groups' in server ? (server.groups as Array<{ user: string; mode: string }>) : [];
  return groups.find((g) => g.user === user)?.mode;
}

/**
 * The byte-level side of `forwarded`: the server's replication evidence
 * (core capture) for the caller's leg. Forwarded: its packets left the
 * server unchanged, and the server sent nothing that did not reach it.
 * Not forwarded: none of its packets' bytes left the server.
 */
function checkReplication(ctx: CheckContext, want: boolean, legs: Set<string>): void {
  const r = ctx.evidence('poc-replication');
  if (!r) return ctx.mismatch('no evidence: the PoC server\'s replication report (core capture) was not collected');
  const mine = r.legs.filter((l) => legs.has(l.at));
  if (mine.length === 0) return ctx.mismatch(`no evidence: no packet of ${ctx.call.from}'s probe reached the PoC server on the core link`);
  const packets = mine.reduce((a, l) => a + l.packets, 0);
  const out = Object.entries(Object.assign({}, ...mine.map((l) => l.forwardedTo)) as Record<string, number>);
  const where = out.map(([to, n]) => `${to} ${n}`).join(', ');
  if (r.sentIdentical !== r.sent) ctx.mismatch(`the PoC server sent ${r.sent - r.sentIdentical} of ${r.sent} RTP packets that never reached it (changed or re-encrypted)`);
  if (want && out.length === 0) ctx.mismatch(`none of ${ctx.call.from}'s ${packets} packets left the PoC server byte-identical`);
  else if (!want && out.length > 0) ctx.mismatch(`${ctx.call.from}'s packets left the PoC server: ${where}`);
  else if (want) ctx.saw(`core: ${ctx.call.from}'s ${packets} packets reached the PoC server at ${[...legs].join(', ')} and left it byte-identical to ${out.length} member leg(s) (${where}); all ${r.sent} packets it sent are packets it received`);
  else ctx.saw(`core: ${ctx.call.from}'s ${packets} packets reached the PoC server at ${[...legs].join(', ')}; not one of them left it`);
}

/**
 * Whether a PoC member's probe was forwarded by the PoC server (TR 33.828
 * 4.2: only the floor holder's bursts are), from the captures: flows of its
 * probe leaving the server or reaching another UE, and byte for byte on the
 * core link (the server's replication evidence).
 */
export const pocForwarded = defineCheck({
  key: 'pocForwarded',
  basis: 'packets',
  doc: 'Whether the PoC server forwarded the caller\'s probe to the other members (true) or dropped it (false), from the captures: flows leaving the server or reaching another UE, and its packets leaving the server byte-identical (core capture; every packet the server sent must be one it received).',
  schema: z.boolean(),
  run(want, ctx) {
    const server = ctx.plan.elements.find((e) => e.kind === 'poc');
    if (!server || !('address' in server)) return ctx.mismatch('no evidence: this network has no PoC server (network.servers: [poc])');
    const seen = forwardedFlows(ctx, String(server.address));
    const forwarded = seen.fromServer.length > 0 || seen.toOthers.length > 0;
    const where = [...seen.fromServer, ...seen.toOthers].join(', ');
    if (forwarded !== want) ctx.mismatch(want ? `${ctx.call.from}'s probe never left the PoC server toward another member` : `${ctx.call.from}'s probe was forwarded: ${where}`);
    else ctx.saw(forwarded ? `${ctx.call.from}'s probe left the PoC server: ${where}` : `${ctx.call.from}'s probe left no PoC server flow and reached no other UE`);
    if (groupMode(ctx, server) === 'e2m2e') {
      // The server decrypts and re-encrypts per leg: its packets out are not the packets in; the flows above are the evidence.
      if (want) ctx.saw(`${ctx.call.from}'s group is e2m2e: the PoC server re-encrypts per member, so its packets are not compared byte for byte`);
      return;
    }
    if (want || seen.legs.size > 0) checkReplication(ctx, want, seen.legs);
  },
});
