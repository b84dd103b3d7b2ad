import { describe, expect, it } from 'vitest';
import { parseMessage } from '@imslab/sip';
import { randomBytes } from 'node:crypto';
import {
  buildRequestInit, buildRequestResp, buildTransferInit, deriveSrtpFromTicketTgk, KmsTicketCodec, prfHash, ReplayCache, uriIdentity, verifyRequestInit, verifyRequestResp,
} from '@imslab/mikey';
import { answerRemoteOffer, finishOffer, finishStoredOffer, intendedResponder, modeOfOffer, prepareOffer, type LocalOffer } from '../src/negotiation.ts';
import { groupSrtpKey } from '../src/mikey-ticket.ts';
import { warningTextOf, warningValue } from '../src/warning.ts';
import { FileError } from '@imslab/element-kit';
import { KmsAgent, parseConfig, parseRemoteSdp } from '../src/index.ts';

const env = { kms: undefined, e2aeConfirmed: false };
const sdp = (extra: string[], sessionExtra: string[] = []) =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.9', 's=-', ...sessionExtra, 'c=IN IP4 127.0.0.9', 't=0 0', 'm=audio 40000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', ...extra, ''].join('\r\n');

describe('MIKEY in SDP and the mode-level negotiation', () => {
  it('reads a=key-mgmt at media level first, then session level (RFC 4567 sec. 3.1); other attributes stay apart', () => {
    const r = parseRemoteSdp(sdp(['a=key-mgmt:mikey AQID', 'a=3ge2ae:requested'], ['a=key-mgmt:mikey BAUG']));
    if (!r.ok) throw new Error(r.reason);
    expect(r.sdp.security.keyMgmt).toEqual(['mikey AQID', 'mikey BAUG']);
    expect(r.sdp.security.attributes).toEqual(['3ge2ae:requested']);
  });

  it('a bad a=key-mgmt:mikey is a 488 with a reason, never a throw', async () => {
    for (const value of ['mikey !!!', 'mikey AAAA', 'mikey ' + Buffer.alloc(40, 1).toString('base64')]) {
      const a = await answerRemoteOffer(env, { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [value] }, 'none');
      expect(a).toMatchObject({ ok: false, status: 488 });
      expect(!a.ok && a.reason).toMatch(/^unusable a=key-mgmt:mikey: /);
    }
    // A well-formed offer reaching a UE without KMS.
    const other = await answerRemoteOffer(env, { profile: 'RTP/AVP', crypto: [], attributes: [], keyMgmt: ['mikey AAAA'] }, 'none');
    expect(other.ok && other.outcome.achieved).toBe('none');
  });

  it('e2e needs a KMS and, for designated-device, the device', async () => {
    expect(await prepareOffer(env, { mode: 'e2e', target: 'sip:bob@ims.test', policy: 'retargeting', ssrc: 1 })).toEqual({ ok: false, reason: 'e2e requested but this UE has no KMS configured (config "kms")' });
    expect(intendedResponder({ target: 'sip:bob@ims.test', policy: 'designated-device' })).toMatchObject({ ok: false });
    const dev = intendedResponder({ target: '<sip:bob@ims.test>', policy: 'designated-device', designatedDevice: 'bob-2' });
    expect('data' in dev && Buffer.from(dev.data).toString()).toBe('bob-2@ims.test');
    const user = intendedResponder({ target: '<sip:bob@ims.test>', policy: 'any-device-of-user' });
    expect('data' in user && Buffer.from(user.data).toString()).toBe('sip:bob@ims.test');
  });

  it('a device without a KMS secret fails e2e with a clear reason and never talks to the KMS', async () => {
    const cfg = parseConfig({
      name: 'alice', user: 'alice', impu: 'sip:alice@ims.test', address: '127.0.1.100', sipPort: 5060, controlPort: 8000, pcscf: { host: '127.0.1.10' },
      media: { portMin: 40000, portMax: 40098 }, runDir: '/tmp/run', kms: { url: 'https://127.0.2.40:8443', identity: 'sip:alice@ims.test', secret: null },
    });
    let used = 0;
    const kms = KmsAgent.forConfig(cfg, '/dev/null', () => {
      used++;
      throw new Error('not expected');
    });
    const o = await prepareOffer({ kms, e2aeConfirmed: false }, { mode: 'e2e', target: 'sip:bob@ims.test', policy: 'any-device-of-user', ssrc: 1 });
    expect(o).toEqual({ ok: false, reason: 'no MIKEY-TICKET key management: this device has no pre-shared key with the KMS (kms.secret is null)' });
    expect(used).toBe(0);
  });

  it('names the setting an offer expresses', () => {
    expect(modeOfOffer({ profile: 'RTP/AVP', crypto: [], attributes: [] })).toBe('none');
    expect(modeOfOffer({ profile: 'RTP/SAVP', crypto: ['1 X inline:a'], attributes: ['3ge2ae:requested'] })).toBe('e2ae');
    expect(modeOfOffer({ profile: 'RTP/SAVP', crypto: ['1 X inline:a'], attributes: [] })).toBe('sdes-e2e');
    expect(modeOfOffer({ profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: ['mikey AA=='] })).toBe('e2e');
    expect(modeOfOffer({ profile: 'RTP/SAVP', crypto: ['1 X inline:a'], attributes: [], keyMgmt: ['mikey AA=='] })).toBe('e2e-or-e2m2e');
  });

  it('Warning text survives quotes and backslashes (RFC 3261 sec. 20.43, 25.1)', () => {
    const v = warningValue('127.0.0.1', 'KMS refused: ticket "x\\y"\r\nexpired');
    expect(v).toBe('399 127.0.0.1 "KMS refused: ticket \\"x\\\\y\\" expired"');
    const res = parseMessage(`SIP/2.0 488 Not Acceptable Here\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nWarning: ${v}\r\nContent-Length: 0\r\n\r\n`);
    if (!res.ok || res.message.kind !== 'response') throw new Error('parse');
    expect(warningTextOf(res.message)).toBe('KMS refused: ticket "x\\y" expired');
  });
});

describe('config: kms, defaultPolicy, busy', () => {
  const base = {
    name: 'alice', user: 'alice', impu: 'sip:alice@ims.test', address: '127.0.1.100', sipPort: 5060, controlPort: 8000,
    pcscf: { host: '127.0.1.10' }, media: { portMin: 40000, portMax: 40098 }, runDir: '/tmp/run',
  };
  it('reads the topology format and fills defaults', () => {
    const c = parseConfig({ ...base, kms: { url: 'https://127.0.2.40:8443', identity: 'sip:alice@ims.test', secret: 'ab'.repeat(32) } });
    expect(c.kms).toMatchObject({ url: 'https://127.0.2.40:8443', identity: 'sip:alice@ims.test', kmsIdentity: 'https://127.0.2.40:8443', timeoutMs: 5000 });
    expect(c.kms!.secret).toHaveLength(32);
    expect(c).toMatchObject({ defaultPolicy: 'any-device-of-user', busy: false });
    expect(parseConfig({ ...base, kms: { url: 'https://127.0.2.40:8443', identity: 'sip:alice@ims.test', secret: null } }).kms!.secret).toBeNull();
    expect(parseConfig({ ...base, defaultSecurity: 'e2e-or-e2m2e', defaultPolicy: 'retargeting', busy: true })).toMatchObject({ defaultSecurity: 'e2e-or-e2m2e', defaultPolicy: 'retargeting', busy: true, kms: undefined });
  });
  it.each([
    [{ kms: { url: 'http://127.0.2.40:8443' } }, 'kms.url', /https:\/\//],
    [{ kms: { url: 'https://127.0.2.40:8443', secret: 'xyz' } }, 'kms.secret', /null or hex/],
    [{ kms: { url: 'https://127.0.2.40:8443', psk: 'ab'.repeat(32) } }, 'kms.psk', /^unknown key "psk"; kms allows: url, identity, secret, kmsIdentity, timeoutMs$/],
    [{ defaultPolicy: 'anyone' }, 'defaultPolicy', /"designated-device"\|"any-device-of-user"\|"retargeting"/],
    [{ busy: 'no' }, 'busy', /expected boolean/],
  ])('rejects %j naming %s', (patch, field, message) => {
    try {
      parseConfig({ ...base, ...patch });
      throw new Error('expected a FileError');
    } catch (e) {
      expect(e).toBeInstanceOf(FileError);
      expect((e as FileError).problems).toEqual([{ path: field, message: expect.stringMatching(message) }]);
    }
  });
});

describe('deferred delivery, stored messages and group keys (TR 33.828 4.1.2, 4.1.3)', () => {
  const kmsId = uriIdentity('sip:kms@ims.test');
  const alice = uriIdentity('sip:alice@ims.test');
  const codec = new KmsTicketCodec({ masterKeys: { 1: randomBytes(32) }, currentKeyId: 1 });
  const psk = randomBytes(32);
  function ticket(policy: 'any-device-of-user' | 'group', responder = uriIdentity('sip:bob@ims.test'), tgk?: Uint8Array) {
    const init = buildRequestInit({ initiator: alice, kms: kmsId, psk, responders: [responder], policy });
    const v = verifyRequestInit(init.bytes, { kms: kmsId, lookupPsk: () => ({ psk, identity: alice }), replayCache: new ReplayCache() });
    return verifyRequestResp(buildRequestResp(v, { codec, kms: kmsId, ...(tgk ? { tgk } : {}) }).bytes, init.state);
  }
  function mikeyOffer(): LocalOffer {
    const init = buildTransferInit({ request: ticket('any-device-of-user'), sessions: [{ csId: 1, ssrc: 7 }, { csId: 2, ssrc: 0 }] });
    return { mode: 'e2e', lines: { profile: 'RTP/SAVP', crypto: [], attributes: [] }, mikey: { keyMgmt: 'x', state: init.state, policy: 'any-device-of-user' } };
  }

  it('a recvonly answer without TRANSFER_RESP is a store: media keyed for the intended responder only (TGK + RANDRi)', () => {
    const offer = mikeyOffer();
    const st = offer.mikey!.state;
    // RFC 6043 sec. 5.1.3 with RANDRi (flag H) and no RANDRr: what the intended responder derives later.
    const cs1 = deriveSrtpFromTicketTgk(st.tgk, { csId: 1, randRi: st.randRi, hash: prfHash(st.ticket.prf) });
    const r = finishOffer(offer, { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [], direction: 'recvonly' });
    if (!r.ok) throw new Error(r.reason);
    expect(r.outcome).toMatchObject({ achieved: 'e2e', deferred: true, keyManagement: 'mikey-ticket' });
    expect(r.outcome.kmsAuthenticatedPeer).toBeUndefined();
    expect(r.outcome.warning).toContain('deferred delivery, media keyed for sip:bob@ims.test only');
    expect(r.outcome.tx!.keySaltBase64).toBe(Buffer.concat([cs1.masterKey, cs1.masterSalt]).toString('base64'));
  });

  it('a sendrecv answer without TRANSFER_RESP stays a failure (e2e was required; nobody keyed it)', () => {
    const r = finishOffer(mikeyOffer(), { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [], direction: 'sendrecv' });
    expect(r).toEqual({ ok: false, reason: 'end-to-end security required but the answer has no a=key-mgmt:mikey' });
  });

  it('stored-e2e: receive-only offer; an answer without the stored a=key-mgmt or over RTP/AVP is refused with why', async () => {
    const o = await prepareOffer(env, { mode: 'stored-e2e', target: 'sip:voicemail@ims.test', policy: 'any-device-of-user', ssrc: 1 });
    expect(o.ok && o.offer.lines).toMatchObject({ profile: 'RTP/SAVP', crypto: [], direction: 'recvonly' });
    expect(await finishStoredOffer(env, { profile: 'RTP/AVP', crypto: [], attributes: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('not end-to-end protected') });
    expect(await finishStoredOffer(env, { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('without the stored a=key-mgmt:mikey') });
    expect(await finishStoredOffer(env, { profile: 'RTP/SAVP', crypto: [], attributes: [], keyMgmt: ['mikey AAAA'] })).toMatchObject({ ok: false, reason: expect.stringContaining("stored message's a=key-mgmt is unusable") });
  });

  it('group-e2e: needs a KMS; the answer must not carry a key of the bridge', async () => {
    expect(await prepareOffer(env, { mode: 'group-e2e', target: 'sip:conf-team@ims.test', policy: 'any-device-of-user', ssrc: 1 })).toEqual({ ok: false, reason: 'group-e2e requested but this UE has no KMS configured (config "kms")' });
    const group = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, attribute: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: [], sessionParams: [] }, keySaltBase64: 'x', keyMgmt: 'mikey-ticket' as const };
    const offer: LocalOffer = { mode: 'group-e2e', lines: { profile: 'RTP/SAVP', crypto: [], attributes: [] }, group };
    const ok = finishOffer(offer, { profile: 'RTP/SAVP', crypto: [], attributes: [] });
    expect(ok.ok && [ok.outcome.tx, ok.outcome.rx, ok.outcome.achieved]).toEqual([group, group, 'e2e']);
    expect(finishOffer(offer, { profile: 'RTP/SAVP', crypto: ['1 AES_CM_128_HMAC_SHA1_80 inline:AAAA'], attributes: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('it would decrypt') });
  });

  it('every member derives the same group SRTP key from the group TGK', async () => {
    const tgk = randomBytes(32);
    const conf = uriIdentity('sip:conf-team@ims.test');
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const fake = { requestTicket: async () => ticket('group', conf, tgk) } as unknown as KmsAgent;
      keys.push((await groupSrtpKey(fake, conf)).keySaltBase64);
    }
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toHaveLength(40);
  });
});
