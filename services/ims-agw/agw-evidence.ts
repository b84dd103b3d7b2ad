import rtpengine from 'rtpengine-client';
import { NG_PORT } from '@imslab/topology';

/**
 * What each IMS-AGW says about a call's streams, over its own ng protocol
 * (`query`): per stream the transport protocol and the SRTP suite, if any. It
 * is a cross-check, recorded next to the captures; the verdict itself comes
 * from the packets.
 */
export interface AgwStreamReport {
  agw: string;
  ngCallId: string;
  found: boolean;
  streams: Array<{ tag: string; protocol: string | null; crypto: string | null; local: string | null; packets: number | null }>;
  error?: string;
}

type Json = Record<string, unknown>;

function streamsOf(reply: Json): AgwStreamReport['streams'] {
  const out: AgwStreamReport['streams'] = [];
  const tags = (reply.tags ?? {}) as Record<string, Json>;
  for (const [tag, t] of Object.entries(tags)) {
    for (const m of (t.medias ?? []) as Json[]) {
      const streams = (m.streams ?? []) as Json[];
      const first = streams[0] ?? {};
      const crypto = (first.crypto ?? m.crypto ?? null) as Json | string | null;
      const local = (first['local address'] ?? null) as Json | null;
      const stats = (first.stats ?? {}) as Json;
      out.push({
        tag,
        protocol: (m.protocol as string | undefined) ?? null,
        crypto: crypto === null ? null : typeof crypto === 'string' ? crypto : String((crypto as Json).suite ?? JSON.stringify(crypto)),
        local: local ? `${String(local.address)}:${String(local.port)}` : null,
        packets: typeof stats.packets === 'number' ? stats.packets : null,
      });
    }
  }
  return out;
}

/**
 * One IMS-AGW's report of a call: the P-CSCFs give rtpengine `<Call-ID>-mo`
 * (originating pass) and `-mt` (terminating pass).
 */
export async function queryAgw(agw: string, address: string, callId: string): Promise<AgwStreamReport[]> {
  const client = new rtpengine.Client({ timeout: 1500 });
  try {
    const out: AgwStreamReport[] = [];
    for (const leg of ['mo', 'mt']) {
      const ngCallId = `${callId}-${leg}`;
      try {
        const reply = (await client.query(NG_PORT, address, { 'call-id': ngCallId })) as Json;
        if (reply.result !== 'ok') continue;
        out.push({ agw, ngCallId, found: true, streams: streamsOf(reply) });
      } catch (e) {
        out.push({ agw, ngCallId, found: false, streams: [], error: (e as Error).message });
      }
    }
    return out;
  } finally {
    client.close();
  }
}
