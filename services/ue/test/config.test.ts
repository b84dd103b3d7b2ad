import { describe, expect, it } from 'vitest';
import { FileError } from '@imslab/element-kit';
import { parseConfig } from '../src/index.ts';

const valid = {
  name: 'alice', user: 'alice', impu: 'sip:alice@ims.test', impi: 'alice@ims.test', password: 'secret', realm: 'ims.test', displayName: 'Alice',
  address: '127.0.1.100', sipPort: 5060, sipTlsPort: 5061, controlPort: 8000, transport: 'tls',
  pcscf: { host: '127.0.1.10', udpPort: 5060, tcpPort: 5060, tlsPort: 5061 },
  tls: { caFile: '/ca.pem', certFile: '/alice.pem', keyFile: '/alice.key' },
  media: { portMin: 40000, portMax: 40098 }, e2aeCapable: true, defaultSecurity: 'none', autoAnswer: true, answerDelayMs: 0, runDir: '/tmp/run',
};

function errorOf(patch: Record<string, unknown> | unknown[]): FileError {
  try {
    parseConfig(Array.isArray(patch) ? patch : { ...valid, ...patch });
  } catch (e) {
    if (e instanceof FileError) return e;
    throw e;
  }
  throw new Error('expected a FileError');
}

describe('config validation', () => {
  it('accepts the runner format and fills defaults', () => {
    const c = parseConfig(valid);
    expect(c).toMatchObject({ name: 'alice', transport: 'tls', e2aeCapable: true, autoRegister: false });
    const minimal = parseConfig({ ...valid, impi: undefined, realm: undefined, transport: 'udp', tls: undefined, sipTlsPort: undefined, e2aeCapable: undefined, defaultSecurity: undefined, autoAnswer: undefined, answerDelayMs: undefined });
    expect(minimal).toMatchObject({ impi: 'alice@ims.test', realm: 'ims.test', e2aeCapable: false, defaultSecurity: 'none', autoAnswer: true, answerDelayMs: 0 });
  });

  it.each([
    [{ name: undefined }, 'name', /expected string, received undefined/],
    [{ name: 'a/b' }, 'name', /letters/],
    [{ impu: 'alice' }, 'impu', /SIP URI/],
    [{ address: 'localhost' }, 'address', /IPv4/],
    [{ sipPort: 70000 }, 'sipPort', /<=65535/],
    [{ controlPort: '8000' }, 'controlPort', /expected number, received string/],
    [{ transport: 'sctp' }, 'transport', /"udp"\|"tcp"\|"tls"/],
    [{ pcscf: { host: 'pcscf' } }, 'pcscf.host', /IPv4/],
    [{ pcscf: 'x' }, 'pcscf', /expected object/],
    [{ pcscf: { host: '127.0.1.10', udpport: 5060 } }, 'pcscf.udpport', /^unknown key "udpport"; pcscf allows: host, udpPort, tcpPort, tlsPort$/],
    [{ tls: undefined }, 'tls', /required when transport is "tls"/],
    [{ media: { portMin: 40000, portMax: 40000 } }, 'media.portMax', /portMin \+ 1/],
    [{ defaultSecurity: 'srtp' }, 'defaultSecurity', /"none"\|"e2ae"\|"sdes-e2e"/],
    [{ e2aeCapable: 'yes' }, 'e2aeCapable', /expected boolean/],
    [{ answerDelayMs: -1 }, 'answerDelayMs', />=0/],
    [{ runDir: '' }, 'runDir', /non-empty/],
    [{ sipport: 5060 }, 'sipport', /unknown key "sipport" \(did you mean "sipPort"\?\); the UE configuration allows: /],
  ])('rejects %j naming the field', (patch, field, msg) => {
    const e = errorOf(patch);
    expect(e.problems).toEqual([{ path: field, message: expect.stringMatching(msg) }]);
    // One line per problem: `<what>: <path>: <message>`.
    expect(e.message).toBe(`UE configuration: ${field}: ${e.problems[0]!.message}`);
  });

  it('names every missing field of an object, one line each', () => {
    const e = errorOf({ tls: { caFile: '/ca' } });
    expect(e.problems.map((p) => p.path)).toEqual(['tls.certFile', 'tls.keyFile']);
    expect(e.message.split('\n')).toEqual(['UE configuration: tls.certFile: Invalid input: expected string, received undefined', 'UE configuration: tls.keyFile: Invalid input: expected string, received undefined']);
  });

  it('rejects a non-object', () => {
    expect(errorOf([]).problems).toEqual([{ path: '', message: expect.stringMatching(/expected object, received array/) }]);
  });
});
