/**
 * Attack substitute-sdes (issue 13: a rogue P-CSCF reading SDES media) rests
 * on two things rtpengine 10.5 does, which this test pins against the real
 * rtpengine, driven with route[SUBSTITUTE_SDES]'s own flags from
 * services/pcscf/kamailio.cfg and with the UEs' own SDES negotiation
 * (services/ue/src/media-security.ts):
 * - without `passthrough`, its offer copies the caller's crypto line first
 *   (the caller's key: SRTP passthrough), then adds suites of its own with
 *   fresh keys; removing that first line (the cfg's subst_body) leaves the
 *   callee only keys of the IMS-AGW;
 * - answered with one of them, it answers the caller with a fresh key of
 *   its own, and decrypts and re-encrypts both ways.
 * Both UEs complete an e2e SDES negotiation; neither key crosses the AGW.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import rtpengine from 'rtpengine-client';
import { SrtpContext } from '@imslab/srtp';
import { cfgCalls, ngFlags, parseSdp, party, rtpPacket, rtpengineMissing, sleep, startRtpengine, type CfgCall, type Party, type RunningRtpengine } from '../../ims-agw/test/rtpengine-harness.ts';
import { answerOffer, completeOffer, contextOptions, createOffer, type SrtpKey } from '../../ue/src/media-security.ts';
import { buildSdp, parseRemoteSdp } from '../../ue/src/sdp.ts';

const MISSING = rtpengineMissing();
if (MISSING) console.warn(`services/pcscf/test/substitute-sdes-rtpengine.test.ts skipped: ${MISSING}`);

// Addresses of this test only (127.0.16.x); the AGW's access and core sides, alice on access, bob in the core.
const ACCESS = '127.0.16.1';
const CORE = '127.0.16.2';
const ALICE = '127.0.16.10';
const BOB = '127.0.16.20';
const NG_PORT = 2224;
const CFG = readFileSync(fileURLToPath(new URL('../kamailio.cfg', import.meta.url)), 'utf8');
/** route[SUBSTITUTE_SDES]'s edit of rtpengine's offer: the first a=crypto line removed (no `g`: one line). */
const STRIP = 'subst_body("/a=crypto:[^\\r\\n]*\\r\\n//");';

function only(calls: CfgCall[], what: string, test: (c: CfgCall) => boolean): CfgCall {
  const hits = calls.filter(test);
  expect(hits, `${what} in services/pcscf/kamailio.cfg`).toHaveLength(1);
  return hits[0]!;
}

const ctx = (k: SrtpKey) => new SrtpContext(contextOptions(k));

describe.skipIf(MISSING !== null)('substitute-sdes against the real rtpengine', () => {
  let agw: RunningRtpengine | undefined;
  const client = new rtpengine.Client({ timeout: 2000 });
  const parties: Party[] = [];

  beforeAll(async () => {
    agw = await startRtpengine({ interfaces: [['access', ACCESS], ['core', CORE]], ngAddress: CORE, ngPort: NG_PORT, portMin: 50300, portMax: 50399 });
  }, 20_000);
  afterAll(async () => {
    client.close();
    for (const p of parties) p.close();
    await agw?.stop();
  });

  const calls = MISSING ? [] : cfgCalls('pcscf');
  const offerCfg = () => only(calls, 'the SUBSTITUTE_SDES offer', (c) => c.op === 'offer' && c.suffix === '-mo' && c.flags.includes('direction=access direction=core') && c.flags.includes('DTLS=off') && !/passthrough|RTP\/AVP/.test(c.flags));
  const answerCfg = () => only(calls, 'the substitute answer from the core', (c) => c.op === 'answer' && c.flags.includes('direction=core direction=access') && !/passthrough|RTP\/SAVP/.test(c.flags));

  /** alice's sdes-e2e offer through the AGW, `edit` applied to rtpengine's offer, bob's answer back: both ends' outcomes. */
  async function negotiate(callId: string, edit: (sdp: string) => string) {
    const a = await party(ALICE, 40100 + parties.length * 2);
    const b = await party(BOB, 40100 + parties.length * 2 + 2);
    parties.push(a, b);
    const offer = createOffer('sdes-e2e', { e2aeConfirmed: false });
    if (!offer.ok) throw new Error(offer.reason);
    const o = await client.offer(NG_PORT, CORE, { ...ngFlags(offerCfg().flags, ALICE), 'call-id': callId, 'from-tag': 'a', sdp: buildSdp({ address: ALICE, port: a.port, sessionId: 1, sessionVersion: 1, security: offer.offer.lines }) });
    expect(o.result, String(o['error-reason'])).toBe('ok');
    const toBob = edit(String(o.sdp));
    const bobRead = parseRemoteSdp(toBob);
    if (!bobRead.ok) throw new Error(bobRead.reason);
    const bob = answerOffer(bobRead.sdp.security, 'sdes-e2e');
    if (!bob.ok) throw new Error(bob.reason);
    const r = await client.answer(NG_PORT, CORE, { ...ngFlags(answerCfg().flags, BOB), 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: buildSdp({ address: BOB, port: b.port, sessionId: 2, sessionVersion: 1, security: bob.lines }) });
    expect(r.result, String(r['error-reason'])).toBe('ok');
    const aliceRead = parseRemoteSdp(String(r.sdp));
    if (!aliceRead.ok) throw new Error(aliceRead.reason);
    const alice = completeOffer(offer.offer, aliceRead.sdp.security);
    if (!alice.ok) throw new Error(alice.reason);
    return { a, b, alice: alice.outcome, bob: bob.outcome, toBob: parseSdp(toBob), toAlice: parseSdp(String(r.sdp)) };
  }

  it('the cfg removes the first crypto line of rtpengine\'s offer', () => {
    expect(CFG).toMatch(new RegExp(`route\\[SUBSTITUTE_SDES\\] \\{[\\s\\S]*?${STRIP.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  it('as a relay (no edit): rtpengine offers bob alice\'s own key first, bob takes it: no substitution', async () => {
    const n = await negotiate('subst-control', (s) => s);
    expect(n.bob.rx!.keySaltBase64).toBe(n.alice.tx!.keySaltBase64);
  });

  it('with the first line removed: both UEs complete e2e SDES, neither key crosses the AGW, and it re-encrypts both ways', async () => {
    const n = await negotiate('subst-attack', (s) => s.replace(/a=crypto:[^\r\n]*\r\n/, ''));
    expect(n.alice.achieved).toBe('e2e');
    expect(n.bob.achieved).toBe('e2e');
    // bob receives under a key of the AGW, alice under another: neither is the other UE's send key.
    expect(n.toBob.crypto.map((c) => c.key)).not.toContain(n.alice.tx!.keySaltBase64);
    expect(n.toAlice.crypto.map((c) => c.key)).not.toContain(n.bob.tx!.keySaltBase64);
    const [aTx, bTx] = [ctx(n.alice.tx!), ctx(n.bob.tx!)];
    for (let i = 0; i < 10; i++) {
      n.a.send(aTx.protectRtp(rtpPacket(100 + i, 0xa11ce, 0xa5)), n.toAlice);
      n.b.send(bTx.protectRtp(rtpPacket(200 + i, 0xb0b, 0x5a)), n.toBob);
      await sleep(20);
    }
    await sleep(300);
    const [bRx, aRx, bobTxAsRx, aliceTxAsRx] = [ctx(n.bob.rx!), ctx(n.alice.rx!), ctx(n.bob.tx!), ctx(n.alice.tx!)];
    expect(n.b.got.length).toBe(10);
    expect(n.a.got.length).toBe(10);
    expect(n.b.got.filter((p) => bRx.unprotectRtp(p).ok)).toHaveLength(10);
    expect(n.a.got.filter((p) => aRx.unprotectRtp(p).ok)).toHaveLength(10);
    // Not the sender's packets passed on: they do not verify under the sender's key.
    expect(n.b.got.filter((p) => aliceTxAsRx.unprotectRtp(p).ok)).toHaveLength(0);
    expect(n.a.got.filter((p) => bobTxAsRx.unprotectRtp(p).ok)).toHaveLength(0);
  });
});
