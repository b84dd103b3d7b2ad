import { describe, expect, it } from 'vitest';
import type { Analysis, MessageAnalysis, MessageReport } from '@imslab/analysis';
import { planNetwork } from '@imslab/network';
import { REPO_ROOT, loadSubscribers } from '@imslab/topology';
import { checkCall } from '../src/expect.ts';
import type { CallRecord } from '../src/checks/index.ts';

/**
 * messageStoredEncrypted against message analyses made by hand: the store
 * must hold the message's CMS byte for byte and never its marker; missing
 * evidence fails.
 */
const call: CallRecord = { alias: 'm1', callId: 'msg@127.0.1.100', from: 'alice' };
const subs = loadSubscribers(`${REPO_ROOT}/config/subscribers.yaml`);
const plan = planNetwork(subs, 'local', { servers: ['im'] });
const analysis: Analysis = { links: [], calls: [{ alias: 'm1', callId: call.callId, verdict: 'no-media', paths: [], evidence: [], conditions: [] }], keys: [], problems: [], tls: {}, keyExposure: [], stores: [] };
const SHA = 'ab'.repeat(32);

function report(extra: Partial<MessageReport>): MessageAnalysis {
  return { messages: [{ marker: 'IMSLABx', alias: 'm1', verdict: 'e2e', links: {}, servers: [], readBy: [], stores: [], reasons: [], ...extra }], links: [], problems: [] };
}

async function judge(want: unknown, messages: MessageAnalysis | null): Promise<string[]> {
  const o = await checkCall('m1', { verdict: 'no-media', messageStoredEncrypted: want }, {
    calls: new Map([['m1', call]]), analysis, ueCalls: {}, captures: {}, plan, messages,
    evidence: () => undefined,
  } as never);
  return o.mismatches.filter((m) => !/verdict|mediaIntegrity|ueCounters/.test(m));
}

describe('messageStoredEncrypted', () => {
  it('passes when a store file is the CMS and no file holds the marker', async () => {
    expect(await judge('im', report({ cmsAtRest: [{ element: 'im', file: 'logs/im-store/x.body', sha256: SHA }] }))).toEqual([]);
  });
  it('fails when the store holds nothing of the message', async () => {
    expect((await judge('im', report({}))).join()).toMatch(/no file of im's store is a CMS of m1/);
  });
  it('fails when the store holds the marker in plaintext, even beside the CMS', async () => {
    const r = report({ cmsAtRest: [{ element: 'im', file: 'logs/im-store/x.body', sha256: SHA }], stores: [{ element: 'im', file: 'logs/im.log' }] });
    expect((await judge('im', r)).join()).toMatch(/im holds m1 in plaintext: logs\/im.log/);
  });
  it('fails with no message analysis at all', async () => {
    expect((await judge(['im'], null)).join()).toMatch(/no evidence/);
  });
});
