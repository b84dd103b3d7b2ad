import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseMessages, messageStoresIn, type MessageAnalysis } from '@imslab/analysis';
import { addressOwner, type ElementPlan } from '@imslab/network';
import type { NetworkPlan } from '@imslab/topology';
import { messageOf } from './checks/message-delivered.ts';
import type { CallRecord } from './checks/index.ts';

/** The users' S/MIME certificates, as the UEs' configurations list them (their `messaging.directory`). */
function userCertificates(configDir: string): string[] {
  const files = new Set<string>();
  for (const name of existsSync(configDir) ? readdirSync(configDir) : []) {
    const file = join(configDir, name, 'ue.json');
    if (!existsSync(file)) continue;
    try {
      const dir = (JSON.parse(readFileSync(file, 'utf8')) as { messaging?: { directory?: Record<string, string[]> } }).messaging?.directory ?? {};
      for (const list of Object.values(dir)) for (const f of list) files.add(f);
    } catch {
      // an unreadable configuration names no certificate
    }
  }
  return [...files].filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
}

/**
 * The messages of a scenario judged from the captures (TR 33.828 4.3/4.4):
 * where each message's marker was readable, in the clear or only inside TLS
 * (with the UEs' and the KMS's TLS key logs), and the CMS around it; the
 * element stores and logs scanned for the markers. Null when the scenario
 * sent no message.
 */
export async function analyseScenarioMessages(dir: string, plan: NetworkPlan<ElementPlan>, captures: Record<string, string>, calls: CallRecord[]): Promise<MessageAnalysis | null> {
  const sent = calls.flatMap((c) => {
    const m = messageOf(c);
    return m && m.marker ? [{ alias: c.alias, marker: m.marker, callIds: [c.callId], ...(m.msrpMessageId ? { msrpMessageIds: [m.msrpMessageId] } : {}), recipients: m.recipients ?? [m.to] }] : [];
  });
  if (sent.length === 0) return null;
  const keyLogs = ['keys', 'logs'].flatMap((sub) => {
    const d = join(dir, sub);
    return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('tls-keys.log')).map((f) => join(d, f)) : [];
  });
  return analyseMessages({
    captures,
    tlsKeyLogs: keyLogs,
    owner: addressOwner(plan),
    messages: sent,
    userCertificates: userCertificates(join(dir, 'config')),
    stores: messageStoresIn(join(dir, 'logs'), plan.elements.map((e) => ({ name: e.name, kind: e.kind }))),
    storeBase: dir,
  });
}
