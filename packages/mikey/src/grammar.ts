/**
 * Message grammars: which payloads, in which order, each data type carries
 * (RFC 3830 sec. 3.1 and 5.3; RFC 6043 sec. 4.1-4.3 for the PSK variants).
 * `[X]` is optional, `{X}` zero or more; IDR and RANDR items also fix the role.
 */
import { DataType, IdRole, RandRole, SakkeIdRole, dataTypeName } from './codes.ts';
import { MikeyPayloadOrderError } from './errors.ts';
import type { MikeyMessage } from './message.ts';
import type { Payload, PayloadKind } from './payloads/types.ts';

interface Item {
  kind: PayloadKind;
  role?: number;
  min: number;
  max: number;
  label: string;
}

const one = (kind: PayloadKind, label: string = kind, role?: number): Item => ({ kind, role, min: 1, max: 1, label });
const opt = (kind: PayloadKind, label: string = `[${kind}]`, role?: number): Item => ({ kind, role, min: 0, max: 1, label });
const any = (kind: PayloadKind, label: string = `{${kind}}`): Item => ({ kind, min: 0, max: Infinity, label });

/** Grammar per data type (payloads after HDR). */
export const MESSAGE_GRAMMAR: Readonly<Record<number, readonly Item[]>> = {
  // RFC 3830 sec. 3.1: I_MESSAGE = HDR, T, RAND, [IDi], [IDr], {SP}, KEMAC
  [DataType.PSK_INIT]: [one('T'), one('RAND'), { kind: 'ID', min: 0, max: 2, label: '[IDi], [IDr]' }, any('SP'), one('KEMAC')],
  // R_MESSAGE = HDR, T, [IDr], V
  [DataType.PSK_VERIFY]: [one('T'), opt('ID', '[IDr]'), one('V')],
  // RFC 3830 sec. 5.3: HDR, T, {ERR}, [V|SIGN]
  [DataType.ERROR]: [one('T'), any('ERR'), opt('V')],
  // RFC 6043 sec. 4.1.1: HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V
  [DataType.REQUEST_INIT_PSK]: [one('T'), one('RANDR', 'RANDRi', RandRole.INITIATOR), opt('IDR', '[IDRi]', IdRole.INITIATOR), opt('IDR', '[IDRkms]', IdRole.KMS), one('TP'), opt('IDR', '[IDRpsk]', IdRole.PSK), one('V')],
  // RFC 6043 sec. 4.1.2: HDR, T, [IDRkms], TICKET, KEMAC, V
  [DataType.REQUEST_RESP]: [one('T'), opt('IDR', '[IDRkms]', IdRole.KMS), one('TICKET'), one('KEMAC'), one('V')],
  // RFC 6043 sec. 4.2.1: HDR, T, RANDRi, [IDRi], [IDRr], {SP}, TICKET, [KEMAC], V
  [DataType.TRANSFER_INIT]: [one('T'), one('RANDR', 'RANDRi', RandRole.INITIATOR), opt('IDR', '[IDRi]', IdRole.INITIATOR), opt('IDR', '[IDRr]', IdRole.RESPONDER), any('SP'), one('TICKET'), opt('KEMAC'), one('V')],
  // RFC 6043 sec. 4.2.2: HDR, T, [RANDRr], [IDRr], [RANDRkms], {SP}, [KEMAC], V
  [DataType.TRANSFER_RESP]: [one('T'), opt('RANDR', '[RANDRr]', RandRole.RESPONDER), opt('IDR', '[IDRr]', IdRole.RESPONDER), opt('RANDR', '[RANDRkms]', RandRole.KMS), any('SP'), opt('KEMAC'), one('V')],
  // RFC 6043 sec. 4.3.1: HDR, T, RANDRr, [IDRr], [IDRkms], TICKET, [IDRpsk], V
  [DataType.RESOLVE_INIT_PSK]: [one('T'), one('RANDR', 'RANDRr', RandRole.RESPONDER), opt('IDR', '[IDRr]', IdRole.RESPONDER), opt('IDR', '[IDRkms]', IdRole.KMS), one('TICKET'), opt('IDR', '[IDRpsk]', IdRole.PSK), one('V')],
  // RFC 6043 sec. 4.3.2: HDR, T, [IDRkms], KEMAC, [IDRr], [RANDRkms], V
  // RFC 6509 sec. 2.1: HDR, T, RAND, [IDRi], [IDRr], [IDRkmsi], [IDRkmsr], [CERT], {SP}, SAKKE, SIGN
  [DataType.SAKKE]: [one('T'), one('RAND'), opt('IDR', '[IDRi]', IdRole.INITIATOR), opt('IDR', '[IDRr]', IdRole.RESPONDER), opt('IDR', '[IDRkmsi]', SakkeIdRole.KMS_INITIATOR), opt('IDR', '[IDRkmsr]', SakkeIdRole.KMS_RESPONDER), opt('CERT'), any('SP'), one('SAKKE'), one('SIGN')],
  [DataType.RESOLVE_RESP]: [one('T'), opt('IDR', '[IDRkms]', IdRole.KMS), one('KEMAC'), opt('IDR', '[IDRr]', IdRole.RESPONDER), opt('RANDR', '[RANDRkms]', RandRole.KMS), one('V')],
};

function matches(p: Payload, it: Item): boolean {
  if (p.kind !== it.kind) return false;
  if (it.role === undefined) return true;
  return (p.kind === 'IDR' || p.kind === 'RANDR') && p.role === it.role;
}

function describe(p: Payload): string {
  return p.kind === 'IDR' || p.kind === 'RANDR' ? `${p.kind}(role ${p.role})` : p.kind;
}

/**
 * Checks a message against the grammar of its data type; data types without
 * a grammar here pass. Throws {@link MikeyPayloadOrderError} at the first
 * payload out of place.
 *
 * @param offsets payload offsets from decodeMessageWithOffsets (for the error offset)
 */
export function validateGrammar(m: MikeyMessage, offsets?: readonly number[]): void {
  const g = MESSAGE_GRAMMAR[m.header.dataType];
  if (g === undefined) return;
  const name = dataTypeName(m.header.dataType);
  const at = (i: number): number => offsets?.[i] ?? -1;
  let i = 0;
  for (const it of g) {
    let n = 0;
    while (n < it.max && i < m.payloads.length && matches(m.payloads[i]!, it)) {
      n++;
      i++;
    }
    if (n < it.min) {
      const found = i < m.payloads.length ? describe(m.payloads[i]!) : 'end of message';
      // At the end: the last payload, or with none at all the header (offset 0), never -1 when offsets are known.
      const endAt = m.payloads.length ? at(m.payloads.length - 1) : offsets ? 0 : -1;
      throw new MikeyPayloadOrderError({ offset: i < m.payloads.length ? at(i) : endAt, expected: `${it.label} in ${name} (grammar: HDR, ${g.map((x) => x.label).join(', ')})`, found });
    }
  }
  if (i < m.payloads.length) {
    throw new MikeyPayloadOrderError({ offset: at(i), expected: `no further payload in ${name} (grammar: HDR, ${g.map((x) => x.label).join(', ')})`, found: describe(m.payloads[i]!) });
  }
}
