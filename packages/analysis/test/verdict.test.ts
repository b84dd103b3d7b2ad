import { describe, expect, it } from 'vitest';
import { LINKTYPE } from '@imslab/capture';
import { linearToUlaw } from '@imslab/probe';
import { analyse } from '../src/index.ts';
import { ALICE, AGW_A_ACCESS, AGW_A_CORE, AGW_B_ACCESS, AGW_B_ACCESS_2, AGW_B_CORE, AGW_B_CORE_2, BOB, CAROL, CONF, SynthRun, owner, type Hop } from './synth.ts';

const CALL = 'call-under-test@imslab';

/** The three hops alice -> bob crosses, with a key (or null) per link. */
function forward(keys: [string | null, string | null, string | null]): Hop[] {
  return [
    { link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, key: keys[0] },
    { link: 'core', src: AGW_A_CORE, dst: AGW_B_CORE, key: keys[1] },
    { link: 'access-b', src: AGW_B_ACCESS, dst: BOB, key: keys[2] },
  ];
}
function backward(keys: [string | null, string | null, string | null]): Hop[] {
  return [
    { link: 'access-b', src: BOB, dst: AGW_B_ACCESS, key: keys[2] },
    { link: 'core', src: AGW_B_CORE, dst: AGW_A_CORE, key: keys[1] },
    { link: 'access-a', src: AGW_A_ACCESS, dst: ALICE, key: keys[0] },
  ];
}

async function judge(run: SynthRun, directions?: Array<'orig' | 'term'>) {
  const { captures, keyLogs } = await run.finish();
  // The call under test is always CALL; a run made for another call shows none of its media.
  const a = await analyse({ captures, keyLogs, calls: [{ alias: 'c1', callId: CALL, ...(directions ? { directions } : {}) }], owner });
  expect(a.problems).toEqual([]);
  return a.calls[0]!;
}

/** alice's probe into a conference bridge and out to bob and carol through ims-agw-b, one key per hop. */
function conference(keys: { in: string; toBob: string; toCarol: string }): Hop[] {
  return [
    { link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, key: keys.in },
    { link: 'core', src: AGW_A_CORE, dst: CONF, key: keys.in },
    { link: 'core', src: CONF, dst: AGW_B_CORE, key: keys.toBob },
    { link: 'core', src: CONF, dst: AGW_B_CORE_2, key: keys.toCarol },
    { link: 'access-b', src: AGW_B_ACCESS, dst: BOB, key: keys.toBob },
    { link: 'access-b', src: AGW_B_ACCESS_2, dst: CAROL, key: keys.toCarol },
  ];
}

describe('conference paths (one caller, several receivers; the caller direction judged alone)', () => {
  it('one group key from alice through the bridge to bob and carol: e2e, and no missing return path counts', async () => {
    const run = new SynthRun(CALL);
    run.key('group', { owner: 'alice', dir: 'tx' });
    run.media('orig', conference({ in: 'group', toBob: 'group', toCarol: 'group' }));
    expect((await judge(run, ['orig'])).verdict).toBe('e2e');
  });

  it('a mixing bridge with a key per leg: e2m2e(conference); the gateway relaying two legs is not a middle', async () => {
    const run = new SynthRun(CALL);
    run.key('alice', { owner: 'alice', dir: 'tx' });
    run.key('leg-b', { owner: 'bob-1', dir: 'rx' });
    run.key('leg-c', { owner: 'carol', dir: 'rx' });
    run.media('orig', conference({ in: 'alice', toBob: 'leg-b', toCarol: 'leg-c' }));
    const c = await judge(run, ['orig']);
    expect(c.verdict).toBe('e2m2e(conference)');
    expect(c.paths).toHaveLength(1);
  });

  it('judged both ways, the same one-way media is no-media (the default keeps a missing direction visible)', async () => {
    const run = new SynthRun(CALL);
    run.key('group', { owner: 'alice', dir: 'tx' });
    run.media('orig', conference({ in: 'group', toBob: 'group', toCarol: 'group' }));
    expect((await judge(run)).verdict).toBe('no-media');
  });

  it('plaintext one way and nothing the other is none: a missing direction never hides a leak', async () => {
    const run = new SynthRun(CALL);
    run.media('term', backward([null, null, null]));
    const c = await judge(run);
    expect(c.paths.map((p) => p.verdict).sort()).toEqual(['no-media', 'none']);
    expect(c.verdict).toBe('none');
  });
});

describe('verdicts from captures', () => {
  it('plaintext on every link: none, marker found on each', async () => {
    const run = new SynthRun(CALL);
    run.media('orig', forward([null, null, null]));
    run.media('term', backward([null, null, null]));
    const c = await judge(run);
    expect(c.verdict).toBe('none');
    for (const p of c.paths) for (const l of ['access-a', 'core', 'access-b']) expect(p.links[l]!.protection).toBe('plaintext');
  });

  it('SRTP on both access links under different keys, plaintext core: e2ae', async () => {
    const run = new SynthRun(CALL, LINKTYPE.LINUX_SLL);
    run.key('alice', { owner: 'alice', dir: 'tx' });
    run.key('agw-a', { owner: 'alice', dir: 'rx' });
    run.key('bob', { owner: 'bob-1', dir: 'tx' });
    run.key('agw-b', { owner: 'bob-1', dir: 'rx' });
    run.media('orig', forward(['alice', null, 'agw-b']));
    run.media('term', backward(['agw-a', null, 'bob']));
    const c = await judge(run);
    expect(c.verdict).toBe('e2ae');
    const orig = c.paths.find((p) => p.direction === 'orig')!;
    expect(orig.links['access-a']!.keys).toEqual(['alice/tx/call-und']);
    expect(orig.links['access-b']!.keys).toEqual(['bob-1/rx/call-und']);
    expect(orig.links.core!.protection).toBe('plaintext');
  });

  it('SRTP under one key on every link: e2e', async () => {
    const run = new SynthRun(CALL, LINKTYPE.LINUX_SLL2);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    run.key('k2', { owner: 'bob-1', dir: 'tx' });
    run.media('orig', forward(['k1', 'k1', 'k1']));
    run.media('term', backward(['k2', 'k2', 'k2']));
    const c = await judge(run);
    expect(c.verdict).toBe('e2e');
  });

  it('an element that decrypts and re-encrypts under its own keys: e2m2e naming it, never e2e', async () => {
    const run = new SynthRun(CALL);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    run.key('mid', { owner: 'ims-agw-a', dir: 'tx' });
    run.key('k2', { owner: 'bob-1', dir: 'tx' });
    run.key('mid2', { owner: 'ims-agw-a', dir: 'rx' });
    run.media('orig', forward(['k1', 'mid', 'mid']));
    run.media('term', backward(['mid2', 'k2', 'k2']));
    const c = await judge(run);
    expect(c.verdict).toMatch(/^e2m2e\(/);
    expect(c.verdict).toContain('ims-agw-a');
  });

  it('caller and callee behind one IMS-AGW, its core hop out of sight: both hops on one link under different keys are e2m2e at the gateway, never e2e', async () => {
    // carol -> ims-agw-b -> bob, all on access-b (docker: the gateway's core leg stays inside its container).
    const run = new SynthRun(CALL);
    run.key('kc', { owner: 'carol', dir: 'tx' });
    run.key('kb', { owner: 'bob-1', dir: 'rx' });
    run.media('orig', [
      { link: 'access-b', src: CAROL, dst: AGW_B_ACCESS, key: 'kc' },
      { link: 'access-b', src: AGW_B_ACCESS_2, dst: BOB, key: 'kb' },
    ]);
    const c = await judge(run, ['orig']);
    expect(c.verdict).toBe('e2m2e(ims-agw-b)');
    expect(c.evidence.join('\n')).not.toMatch(/re-keyed during the call/);
  });

  it('the marker leaking in the core between SRTP access links: e2ae, never e2e', async () => {
    const run = new SynthRun(CALL, LINKTYPE.NULL);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    run.key('k2', { owner: 'bob-1', dir: 'tx' });
    run.media('orig', forward(['k1', null, 'k1']));
    run.media('term', backward(['k2', null, 'k2']));
    const c = await judge(run);
    expect(c.verdict).toBe('e2ae');
  });

  it('SRTP under a key nobody logged: unknown, never e2e', async () => {
    const run = new SynthRun(CALL);
    run.key('secret');
    run.media('orig', forward(['secret', 'secret', 'secret']));
    run.media('term', backward(['secret', 'secret', 'secret']));
    const c = await judge(run);
    expect(c.verdict).toBe('unknown');
  });

  it('protection on one access link only: none, reported as partial', async () => {
    const run = new SynthRun(CALL);
    run.key('alice', { owner: 'alice', dir: 'tx' });
    run.key('agw-a', { owner: 'alice', dir: 'rx' });
    run.media('orig', forward(['alice', null, null]));
    run.media('term', backward(['agw-a', null, null]));
    const c = await judge(run);
    expect(c.verdict).toBe('none');
    expect(c.evidence.join(' ')).toMatch(/partial: SRTP only on access-a/);
  });

  it('only another call media on the links: no-media for this call', async () => {
    const run = new SynthRun('some-other-call@imslab');
    run.media('orig', forward([null, null, null]));
    const c = await judge(run);
    expect(c.verdict).toBe('no-media');
  });
});

describe('plaintext without the probe marker', () => {
  /** A voice-like G.711 signal: a few harmonics with a slow envelope, mu-law coded. */
  const speech = (i: number) => {
    const out = Buffer.alloc(160);
    for (let n = 0; n < 160; n++) {
      const t = (i * 160 + n) / 8000;
      const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
      const s = env * (3000 * Math.sin(2 * Math.PI * 220 * t) + 1500 * Math.sin(2 * Math.PI * 660 * t) + 700 * Math.sin(2 * Math.PI * 1250 * t));
      out[n] = linearToUlaw(s);
    }
    return out;
  };

  it('real speech in the clear on an access link is recognised as plaintext, so the verdict is none', async () => {
    const run = new SynthRun(CALL);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    // Direction orig: SRTP end to end; direction term: bob's speech leaves in the clear on access-b.
    run.media('orig', forward(['k1', 'k1', 'k1']), 60);
    run.media('term', backward(['k1', 'k1', 'k1']).map((h) => (h.link === 'access-b' ? { ...h, key: null, payload: speech } : h)), 60);
    const { captures, keyLogs } = await run.finish();
    const a = await analyse({ captures, keyLogs, calls: [{ alias: 'c1', callId: CALL }], owner });
    const flow = a.links.find((l) => l.link === 'access-b')!.media.find((f) => f.src === BOB)!;
    expect(flow.plaintextUnmarked).toBe(60);
    expect(flow.unknownEntropy!).toBeLessThan(7.5);
    expect(a.calls[0]!.verdict).toBe('none');
  });

  it('ciphertext under an unknown key is not mistaken for audio', async () => {
    const run = new SynthRun(CALL);
    run.key('secret');
    run.media('orig', forward(['secret', 'secret', 'secret']), 60);
    const { captures, keyLogs } = await run.finish();
    const a = await analyse({ captures, keyLogs, calls: [{ alias: 'c1', callId: CALL }], owner });
    const flow = a.links[0]!.media[0]!;
    expect(flow.plaintextUnmarked).toBe(0);
    expect(flow.unknownEntropy!).toBeGreaterThan(7.9);
  });
});

describe('security switched on mid-call', () => {
  it('plaintext then SRTP for the same markers: verdict none overall, phases none then e2e', async () => {
    const run = new SynthRun(CALL);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    run.key('k2', { owner: 'bob-1', dir: 'tx' });
    run.media('orig', forward([null, null, null]), 20);
    run.media('term', backward([null, null, null]), 20);
    run.media('orig', forward(['k1', 'k1', 'k1']), 20);
    run.media('term', backward(['k2', 'k2', 'k2']), 20);
    const c = await judge(run);
    expect(c.verdict).toBe('none');
    expect(c.phases).toEqual(['none', 'e2e']);
    expect(c.paths[0]!.phases!.map((p) => p.verdict)).toEqual(['none', 'e2e']);
  });
  it('the switch is judged per link: the last plaintext packet may reach a far link after the first SRTP one left the near link', async () => {
    const run = new SynthRun(CALL);
    run.key('k1', { owner: 'alice', dir: 'tx' });
    run.key('k2', { owner: 'bob-1', dir: 'tx' });
    // Two IMS-AGWs on a busy machine: 30 ms per relay, more than the 100 us between packets here.
    const slow = (hops: Hop[]) => hops.map((h, i) => ({ ...h, delayUs: i * 30_000 }));
    run.media('orig', slow(forward([null, null, null])), 20);
    run.media('term', slow(backward([null, null, null])), 20);
    run.media('orig', slow(forward(['k1', 'k1', 'k1'])), 20);
    run.media('term', slow(backward(['k2', 'k2', 'k2'])), 20);
    const c = await judge(run);
    expect(c.phases).toEqual(['none', 'e2e']);
    expect(c.paths.map((p) => p.phases?.map((x) => x.verdict))).toEqual([['none', 'e2e'], ['none', 'e2e']]);
  });
  it('a single phase has no phases', async () => {
    const run = new SynthRun(CALL);
    run.media('orig', forward([null, null, null]));
    run.media('term', backward([null, null, null]));
    expect((await judge(run)).phases).toBeUndefined();
  });
});
