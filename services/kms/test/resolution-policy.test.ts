/** The resolution decision alone: policies, forwarding chains (3 hops), loops, the initiator. */
import { describe, expect, it } from 'vitest';
import { byteIdentity, naiIdentity, uriIdentity, type ResolutionPolicy } from '@imslab/mikey';
import { SubscriberDirectory, decideResolution, type UserConfig } from '../src/index.ts';

const key = new Uint8Array(32);
const user = (name: string, devices: string[], forwarding: UserConfig['forwarding'] = {}): UserConfig => ({
  uri: `sip:${name}@ims.test`,
  user: name,
  forwarding,
  devices: devices.map((d) => ({ name: d, secret: key })),
});

// bob -(noAnswer)-> carol -(unconditional)-> erin -(busy)-> frank -(unconditional)-> gina; carol also busy-> bob (loop);
// hank forwards to voicemail, which the KMS does not know.
const dir = new SubscriberDirectory(
  [
    user('alice', ['alice']),
    user('bob', ['bob-1', 'bob-2'], { noAnswer: { to: 'sip:carol@ims.test', seconds: 4 } }),
    user('carol', ['carol'], { unconditional: 'sip:erin@ims.test', busy: 'sip:bob@ims.test' }),
    user('erin', ['erin'], { busy: 'sip:frank@ims.test' }),
    user('frank', ['frank'], { unconditional: 'sip:gina@ims.test' }),
    user('gina', ['gina']),
    user('hank', ['hank'], { unconditional: 'sip:voicemail@ims.test', noAnswer: { to: 'sip:alice@ims.test', seconds: 5 } }),
  ],
  'ims.test',
);
const dev = (nai: string) => dir.deviceByPskId(naiIdentity(`${nai}@ims.test`))!;
const alice = uriIdentity('sip:alice@ims.test');
const decide = (responder: string, policy: ResolutionPolicy, resolver: string, initiator = alice) =>
  decideResolution(dir, { initiator, responder: responder.startsWith('sip:') ? uriIdentity(responder) : naiIdentity(responder), policy }, dev(resolver));

describe('decideResolution', () => {
  it('retargeting follows forwarding up to 3 hops, in any rule, and not beyond', () => {
    expect(decide('sip:bob@ims.test', 'retargeting', 'carol')).toEqual({ allowed: true, how: 'forwarded sip:bob@ims.test -(noAnswer)-> sip:carol@ims.test' });
    expect(decide('sip:bob@ims.test', 'retargeting', 'erin')).toMatchObject({ allowed: true });
    expect(decide('sip:bob@ims.test', 'retargeting', 'frank')).toEqual({
      allowed: true,
      how: 'forwarded sip:bob@ims.test -(noAnswer)-> sip:carol@ims.test -(unconditional)-> sip:erin@ims.test -(busy)-> sip:frank@ims.test',
    });
    expect(decide('sip:bob@ims.test', 'retargeting', 'gina')).toMatchObject({ allowed: false, code: 'not-a-forwarding-target' });
    expect(decide('sip:carol@ims.test', 'retargeting', 'bob-2')).toMatchObject({ allowed: true });
    expect(decide('sip:carol@ims.test', 'retargeting', 'gina')).toMatchObject({ allowed: true });
  });

  it('a forward to someone the KMS does not know leads nowhere; the initiator stays refused even when forwarded to', () => {
    expect(decide('sip:hank@ims.test', 'retargeting', 'gina')).toMatchObject({ allowed: false });
    const r = decide('sip:hank@ims.test', 'retargeting', 'alice');
    expect(r).toMatchObject({ allowed: false, code: 'initiator-cannot-resolve' });
  });

  it('any-device-of-user: the user’s devices only, even with forwarding rules', () => {
    expect(decide('sip:bob@ims.test', 'any-device-of-user', 'bob-2')).toMatchObject({ allowed: true });
    expect(decide('bob-1@ims.test', 'any-device-of-user', 'bob-2')).toMatchObject({ allowed: true });
    const r = decide('sip:bob@ims.test', 'any-device-of-user', 'carol');
    expect(r).toEqual({
      allowed: false,
      code: 'not-a-device-of-user',
      reason: 'ticket for sip:bob@ims.test (policy any-device-of-user) not resolvable by sip:carol@ims.test (device carol@ims.test): not a device of sip:bob@ims.test',
    });
  });

  it('designated-device: the one device; a user URI designates nothing', () => {
    expect(decide('bob-2@ims.test', 'designated-device', 'bob-2')).toMatchObject({ allowed: true });
    expect(decide('bob-2@ims.test', 'designated-device', 'bob-1')).toMatchObject({ allowed: false, code: 'not-designated-device' });
    expect(decide('sip:bob@ims.test', 'designated-device', 'bob-1')).toMatchObject({ allowed: false, code: 'not-designated-device' });
  });

  it('an unknown responder, and an initiator given by URI parameters or case, are handled', () => {
    expect(decide('sip:zed@ims.test', 'retargeting', 'bob-1')).toMatchObject({ allowed: false, code: 'unknown-responder' });
    expect(decideResolution(dir, { initiator: uriIdentity('sip:bob@IMS.TEST;gr=urn:uuid:1'), responder: uriIdentity('sip:bob@ims.test'), policy: 'any-device-of-user' }, dev('bob-1'))).toMatchObject({
      allowed: false,
      code: 'initiator-cannot-resolve',
    });
    expect(decideResolution(dir, { initiator: byteIdentity(new Uint8Array([1])), responder: uriIdentity('sip:bob@ims.test'), policy: 'any-device-of-user' }, dev('bob-1'))).toMatchObject({ allowed: true });
  });
});
