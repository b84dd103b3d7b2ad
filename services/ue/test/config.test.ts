import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/index.ts';

const valid = {
  name: 'alice', user: 'alice', impu: 'sip:alice@ims.test', impi: 'alice@ims.test', password: 'secret', realm: 'ims.test', displayName: 'Alice',
  address: '127.0.1.100', sipPort: 5060, sipTlsPort: 5061, controlPort: 8000, transport: 'tls',
  pcscf: { host: '127.0.1.10', udpPort: 5060, tcpPort: 5060, tlsPort: 5061 },
  tls: { caFile: '/ca.pem', certFile: '/alice.pem', keyFile: '/alice.key' },
  media: { portMin: 40000, portMax: 40098 }, e2aeCapable: true, defaultSecurity: 'none', autoAnswer: true, answerDelayMs: 0, runDir: '/tmp/run',
};

function errorOf(patch: Record<string, unknown>): ConfigError {
  try {
    parseConfig({ ...valid, ...patch });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config validation', () => {
  it('accepts the runner format and fills defaults', () => {
    const c = parseConfig(valid);
    expect(c).toMatchObject({ name: 'alice', transport: 'tls', e2aeCapable: true, autoRegister: false });
    const minimal = parseConfig({ ...valid, impi: undefined, realm: undefined, transport: 'udp', tls: undefined, sipTlsPort: undefined, e2aeCapable: undefined, defaultSecurity: undefined, autoAnswer: undefined, answerDelayMs: undefined });
    expect(minimal).toMatchObject({ impi: 'alice@ims.test', realm: 'ims.test', e2aeCapable: false, defaultSecurity: 'none', autoAnswer: true, answerDelayMs: 0 });
  });

  it.each([
    [{ name: undefined }, 'name', /missing/],
    [{ name: 'a/b' }, 'name', /letters/],
    [{ impu: 'alice' }, 'impu', /SIP URI/],
    [{ address: 'localhost' }, 'address', /IPv4/],
    [{ sipPort: 70000 }, 'sipPort', /1-65535/],
    [{ controlPort: '8000' }, 'controlPort', /port number/],
    [{ transport: 'sctp' }, 'transport', /"udp", "tcp" or "tls"/],
    [{ pcscf: { host: 'pcscf' } }, 'pcscf.host', /IPv4/],
    [{ pcscf: 'x' }, 'pcscf', /object/],
    [{ tls: undefined }, 'tls', /required when transport is "tls"/],
    [{ tls: { caFile: '/ca' } }, 'tls.certFile', /missing/],
    [{ media: { portMin: 40000, portMax: 40000 } }, 'media.portMax', /portMin \+ 1/],
    [{ defaultSecurity: 'srtp' }, 'defaultSecurity', /"none", "e2ae", "sdes-e2e"/],
    [{ e2aeCapable: 'yes' }, 'e2aeCapable', /true or false/],
    [{ answerDelayMs: -1 }, 'answerDelayMs', />= 0/],
    [{ runDir: '' }, 'runDir', /non-empty/],
  ])('rejects %j naming the field', (patch, field, msg) => {
    const e = errorOf(patch);
    expect(e.field).toBe(field);
    expect(e.message).toContain(`'${field}'`);
    expect(e.message).toMatch(msg);
    expect(e.message).not.toContain('\n');
  });

  it('rejects a non-object', () => {
    expect(() => parseConfig([])).toThrow(ConfigError);
  });
});
