/**
 * Every code table and constant of test/vectors/mikey_rfc3830_rfc6043_facts.json
 * (copied from shared/vectors; sources: RFC 3830, 4563, 4650, 4738, 4771,
 * 6043, 6509, 7714) against src/codes.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  CertType,
  CsIdMapType,
  DataType,
  DH_VALUE_LENGTH,
  DhGroup,
  EncrAlg,
  ErrorNo,
  GenExtType,
  HASH_LENGTH,
  HashFunc,
  IdRole,
  IdType,
  KdfConst,
  KeyDataType,
  KEY_TYPES_WITH_SALT,
  KvType,
  MAC_LENGTH,
  MacAlg,
  PayloadType,
  PkeCache,
  PrfFunc,
  ProtType,
  RandRole,
  SignType,
  SrtpAuthAlg,
  SrtpEncrAlg,
  SrtpParam,
  TicketType,
  TS_VALUE_LENGTH,
  TsRole,
  TsType,
  noTicketFlags,
} from '../src/index.ts';
import { facts } from './helpers.ts';

/** Keys of a facts table as numbers (ranges like "61440-65534" dropped). */
function keys(table: Record<string, string>): number[] {
  return Object.keys(table)
    .filter((k) => /^\d+$/.test(k))
    .map(Number)
    .sort((a, b) => a - b);
}
const values = (o: Record<string, number>): number[] => [...new Set(Object.values(o))].sort((a, b) => a - b);

/** Each of our names shares a word with the facts' description of its value. */
function namesAgree(ours: Record<string, number>, table: Record<string, string>, aliases: Record<string, string> = {}): void {
  for (const [name, v] of Object.entries(ours)) {
    const desc = (table[String(v)] ?? '').toUpperCase().replace(/[^A-Z0-9]+/g, ' ');
    const tokens = desc.split(' ');
    const words = (aliases[name] ?? name).toUpperCase().split('_');
    expect(words.some((w) => tokens.includes(w) || (w.length > 2 && desc.includes(w))), `${name}=${v} vs "${table[String(v)]}"`).toBe(true);
  }
}

describe('code tables (facts file)', () => {
  it('HDR data types (RFC 3830 6.1, 4650, 4738, 6043 6.1, 6509)', () => {
    expect(values(DataType)).toEqual(keys(facts.data_types));
    namesAgree(DataType, facts.data_types, { PSK_VERIFY: 'PSK', PK_VERIFY: 'PK' });
  });
  it('next payload types (RFC 3830 6.1, RFC 6043 6)', () => {
    expect(values(PayloadType)).toEqual(keys(facts.next_payload_types));
    namesAgree(PayloadType, facts.next_payload_types, { KEY_DATA: 'KEY_DATA', GENERAL_EXT: 'GENERAL_EXT' });
  });
  it('PRF func, CS ID map type', () => {
    expect(values(PrfFunc)).toEqual(keys(facts.prf_func));
    expect(values(CsIdMapType)).toEqual(keys(facts.cs_id_map_type));
    namesAgree(CsIdMapType, facts.cs_id_map_type);
  });
  it('KEMAC encr / MAC algorithms and MAC lengths', () => {
    expect(values(EncrAlg)).toEqual(keys(facts.kemac.encr_alg));
    namesAgree(EncrAlg, facts.kemac.encr_alg);
    expect(values(MacAlg)).toEqual(keys(facts.kemac.mac_alg));
    for (const [k, d] of Object.entries(facts.kemac.mac_alg as Record<string, string>)) {
      const bits = Number(/(\d+) bits/.exec(d)![1]);
      expect(MAC_LENGTH[Number(k)]).toBe(bits / 8);
    }
  });
  it('PKE cache, DH groups and value lengths, SIGN types', () => {
    expect(values(PkeCache)).toEqual(keys(facts.pke.cache));
    expect(values(DhGroup)).toEqual(keys(facts.dh.group));
    for (const [k, d] of Object.entries(facts.dh.group as Record<string, string>)) {
      expect(DH_VALUE_LENGTH[Number(k)]).toBe(Number(/\((\d+)/.exec(d)![1]) / 8);
    }
    expect(values(SignType)).toEqual(keys(facts.sign.s_type));
  });
  it('TS types and lengths, TS roles', () => {
    expect(values(TsType)).toEqual(keys(facts.t.ts_type));
    for (const [k, d] of Object.entries(facts.t.ts_type as Record<string, string>)) {
      expect(TS_VALUE_LENGTH[Number(k)]).toBe(Number(/\((\d+) bits\)/.exec(d)![1]) / 8);
    }
    expect(values(TsRole)).toEqual(keys(facts.tr_6043.ts_role));
  });
  it('ID types, cert types, IDR roles, hash functions', () => {
    expect(values(IdType)).toEqual(keys(facts.id_cert.id_type));
    namesAgree(IdType, facts.id_cert.id_type);
    expect(values(CertType)).toEqual(keys(facts.id_cert.cert_type));
    expect(values(IdRole)).toEqual(keys(facts.idr_6043.id_role));
    namesAgree(IdRole, facts.idr_6043.id_role, { PSK: 'PRE' });
    expect(values(HashFunc)).toEqual(keys(facts.chash.hash_func));
    for (const [k, d] of Object.entries(facts.chash.hash_func as Record<string, string>)) {
      expect(HASH_LENGTH[Number(k)]).toBe(Number(/\((\d+)\)/.exec(d)![1]) / 8);
    }
  });
  it('SP protocol and SRTP parameter types, SRTP algorithm values (incl. AES-GCM 6, RCC 2-4)', () => {
    expect(values(ProtType)).toEqual(keys(facts.sp.prot_type));
    expect(values(SrtpParam)).toEqual(keys(facts.sp.srtp_param_types));
    const encr = facts.sp.srtp_param_types['0'] as string;
    for (const [n, v] of Object.entries(SrtpEncrAlg)) expect(encr).toContain(`${v} ${n === 'NULL' ? 'NULL' : n.replace('_', '-')}`);
    const auth = facts.sp.srtp_param_types['2'] as string;
    for (const v of Object.values(SrtpAuthAlg)) expect(auth).toContain(`${v} `);
  });
  it('RANDR roles, error numbers, key data types, KV types, General Ext types, ticket types', () => {
    expect(values(RandRole)).toEqual(keys(facts.randr_6043.rand_role));
    expect(values(ErrorNo)).toEqual(keys(facts.err.error_no));
    expect(values(KeyDataType)).toEqual(keys(facts.key_data_sub_payload.type));
    for (const [k, d] of Object.entries(facts.key_data_sub_payload.type as Record<string, string>)) expect(KEY_TYPES_WITH_SALT.has(Number(k))).toBe(d.includes('SALT'));
    expect(values(KvType)).toEqual(keys(facts.key_data_sub_payload.kv));
    expect(values(GenExtType)).toEqual(keys(facts.general_ext.type));
    expect(values(TicketType)).toEqual(keys(facts.tp_ticket_6043.ticket_type));
  });
  it('Ticket Policy flags D..O in order', () => {
    expect(Object.keys(noTicketFlags())).toEqual(Object.keys(facts.tp_ticket_6043.flags));
  });
  it('key derivation constants, and that they are consecutive 9-digit chunks of e', () => {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(facts.key_derivation_constants as Record<string, unknown>)) if (k.includes('label')) Object.assign(all, v);
    const ours = Object.values(KdfConst).map((v) => `0x${v.toString(16).toUpperCase().padStart(8, '0')}`).sort();
    expect(ours).toEqual(Object.keys(all).sort());
    expect(KdfConst.TEK).toBe(0x2ad01c64);
    expect(KdfConst.SALT).toBe(0x39a2c14b);
    // e to 110 decimals: sum of 1/k! in fixed point.
    const scale = 10n ** 120n;
    let term = scale;
    let e = 0n;
    for (let k = 1n; term > 0n; k++) {
      e += term;
      term /= k;
    }
    const digits = e.toString().slice(1, 100);
    const order = [KdfConst.TEK, KdfConst.TGK_AUTH, KdfConst.TGK_ENCR, KdfConst.ENCR, KdfConst.AUTH, KdfConst.SALT_KEY, KdfConst.SALT, KdfConst.MPKR_FORK, KdfConst.TGK_FORK, KdfConst.MPKI, KdfConst.MPKR];
    expect(order.map((c) => String(c).padStart(9, '0')).join('')).toBe(digits);
  });
});
