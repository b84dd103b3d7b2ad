/**
 * The two example a=key-mgmt messages of RFC 4567 sec. 5.1, decoded field by
 * field as the facts file says, re-encoded to the same octets; and the
 * a=key-mgmt attribute grammar (RFC 4567 sec. 3.1).
 */
import { describe, expect, it } from 'vitest';
import { decodeKeyMgmtAttribute, decodeMessageWithOffsets, encodeKeyMgmtAttribute, encodeMessage, keyMgmtLine, MikeyParseError, MikeySizeError, validateGrammar, type MikeyMessage } from '../src/index.ts';
import { facts, rfc4567Examples, toHex } from './helpers.ts';

type Fact = Record<string, unknown> & { payload: string };

/** Compares one decoded message with the facts' list of payload descriptions. */
function compare(bytes: Uint8Array, m: MikeyMessage, offsets: number[], want: Fact[]): void {
  const [h, ...ps] = want;
  expect(h!.payload).toBe('HDR');
  const hd = m.header;
  expect(hd.version).toBe(h!.version);
  expect(hd.dataType).toBe(h!.data_type);
  expect(bytes[2]).toBe(h!.next_payload);
  expect(hd.v).toBe(h!.V === 1);
  expect(hd.prf).toBe(h!.prf_func);
  expect(hd.csbId.toString(16).padStart(8, '0')).toBe(h!.csb_id);
  expect(hd.csIdMap.type).toBe('srtp-id');
  if (hd.csIdMap.type !== 'srtp-id') return;
  expect(hd.csIdMap.entries.length).toBe(h!.n_cs);
  expect(bytes[9]).toBe(h!.cs_id_map_type);
  expect(hd.csIdMap.entries.map((e) => ({ policy_no: e.policyNo, ssrc: e.ssrc.toString(16).padStart(8, '0'), roc: e.roc }))).toEqual(h!.srtp_ids);
  expect(offsets[0]).toBe(h!.len);
  expect(m.payloads.length).toBe(ps.length);
  ps.forEach((f, i) => {
    const p = m.payloads[i]!;
    expect(offsets[i]).toBe(f.offset);
    expect(bytes[f.offset as number]).toBe(f.next_payload);
    switch (f.payload) {
      case 'T':
        expect(p).toMatchObject({ kind: 'T', tsType: f.ts_type, value: BigInt(`0x${f.ts_value as string}`) });
        break;
      case 'RAND':
        expect(p.kind === 'RAND' && toHex(p.rand)).toBe(f.rand);
        expect(p.kind === 'RAND' && p.rand.length).toBe(f.rand_len);
        break;
      case 'ID':
        expect(p).toMatchObject({ kind: 'ID', idType: f.type });
        expect(p.kind === 'ID' && new TextDecoder().decode(p.data)).toBe(f.data);
        expect(p.kind === 'ID' && p.data.length).toBe(f.len);
        break;
      case 'SP':
        expect(p).toEqual({ kind: 'SP', policyNo: f.policy_no, protType: f.prot_type, params: f.params });
        break;
      case 'KEMAC':
        expect(p.kind).toBe('KEMAC');
        if (p.kind !== 'KEMAC') return;
        expect([p.encrAlg, p.encrData.length, toHex(p.encrData), p.macAlg, toHex(p.mac)]).toEqual([f.encr_alg, f.encr_data_len, f.encr_data, f.mac_alg, f.mac]);
        break;
      case 'V':
        expect(p.kind === 'V' && [p.macAlg, toHex(p.mac)]).toEqual([f.auth_alg, f.ver_data]);
        break;
      default:
        throw new Error(`unexpected fact ${f.payload}`);
    }
  });
}

describe('RFC 4567 sec. 5.1 examples', () => {
  const ex = rfc4567Examples();
  const k = facts.key_mgmt_sdp_rfc4567;
  it('offer: PSK I_MESSAGE HDR, T, RAND, ID, SP, KEMAC (132 octets) as in the facts file', () => {
    expect(ex.offer.length).toBe(132);
    const { message, offsets } = decodeMessageWithOffsets(ex.offer);
    compare(ex.offer, message, offsets, k.example_offer_decoded);
    validateGrammar(message, offsets);
    expect(toHex(encodeMessage(message))).toBe(toHex(ex.offer));
  });
  it('answer: PSK verification message HDR, T, ID, V (71 octets) as in the facts file', () => {
    expect(ex.answer.length).toBe(71);
    const { message, offsets } = decodeMessageWithOffsets(ex.answer);
    compare(ex.answer, message, offsets, k.example_answer_decoded);
    validateGrammar(message, offsets);
    expect(toHex(encodeMessage(message))).toBe(toHex(ex.answer));
  });
  it('a=key-mgmt lines parse and re-encode to the same text', () => {
    for (const line of [ex.offerLine, ex.answerLine]) {
      const a = decodeKeyMgmtAttribute(line);
      expect(keyMgmtLine(a.message)).toBe(line);
      expect(`a=key-mgmt:${encodeKeyMgmtAttribute(a.bytes)}`).toBe(line);
      // Value only, with the optional leading SP, and the field:value form.
      expect(decodeKeyMgmtAttribute(` ${line.slice('a=key-mgmt:'.length)}`).message).toEqual(a.message);
      expect(decodeKeyMgmtAttribute(line.slice(2)).message).toEqual(a.message);
    }
  });
});

describe('a=key-mgmt attribute errors', () => {
  const ex = rfc4567Examples();
  const b64 = ex.offerLine.split(' ')[1]!;
  it('wrong protocol id, missing SP, bad base64 → MikeyParseError with the character offset', () => {
    const e1 = (() => { try { decodeKeyMgmtAttribute(`a=key-mgmt:kerberos ${b64}`); } catch (e) { return e; } })() as MikeyParseError;
    expect(e1).toBeInstanceOf(MikeyParseError);
    expect(e1.offset).toBe(11);
    expect(() => decodeKeyMgmtAttribute('mikey')).toThrow(MikeyParseError);
    const e3 = (() => { try { decodeKeyMgmtAttribute(`mikey ${b64.slice(0, 10)}*${b64.slice(11)}`); } catch (e) { return e; } })() as MikeyParseError;
    expect(e3).toBeInstanceOf(MikeyParseError);
    expect(e3.offset).toBe(6 + 10);
    expect(() => decodeKeyMgmtAttribute(`mikey ${b64.slice(0, -1)}`)).toThrow(MikeyParseError);
    expect(() => decodeKeyMgmtAttribute('mikey ')).toThrow(MikeyParseError);
  });
  it('oversized values are refused before decoding', () => {
    expect(() => decodeKeyMgmtAttribute(`mikey ${'A'.repeat(200_000)}`)).toThrow(MikeySizeError);
    expect(() => decodeKeyMgmtAttribute(`mikey ${b64}`, 100)).toThrow(MikeySizeError);
  });
  it('base64 that is not a MIKEY message → MikeyParseError from the message layer', () => {
    expect(() => decodeKeyMgmtAttribute(`mikey ${Buffer.from('hello world').toString('base64')}`)).toThrow(MikeyParseError);
  });
});
