import { describe, expect, it } from 'vitest';
import { parseMessage } from '@imslab/sip';
import { answerRemoteOffer, intendedResponder, modeOfOffer, prepareOffer } from '../src/negotiation.ts';
import { warningTextOf, warningValue } from '../src/warning.ts';
import { ConfigError, KmsAgent, parseConfig, parseRemoteSdp } from '../src/index.ts';

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
    [{ kms: { url: 'http://127.0.2.40:8443' } }, 'kms.url'],
    [{ kms: { url: 'https://127.0.2.40:8443', secret: 'xyz' } }, 'kms.secret'],
    [{ defaultPolicy: 'anyone' }, 'defaultPolicy'],
    [{ busy: 'no' }, 'busy'],
  ])('rejects %j naming %s', (patch, field) => {
    try {
      parseConfig({ ...base, ...patch });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
    }
  });
});
