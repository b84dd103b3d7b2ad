/**
 * Error message (RFC 3830 sec. 5.1.2 / 6.12): HDR (data type 6), T, {ERR},
 * [V]. Sent back when an initial message is refused; unauthenticated here,
 * since a refused message gives no key to MAC with (RFC 3830 sec. 5.1.2
 * allows an Error message without V). Receivers must treat it as advisory.
 */
import { DataType } from '../codes.ts';
import { MikeyProtocolError, type MikeyError } from '../errors.ts';
import { decodeMessage, encodeMessage, type MikeyMessage } from '../message.ts';
import type { ErrPayload } from '../payloads/types.ts';
import { validateGrammar } from '../grammar.ts';
import { timestampPayload, type BuiltMessage } from './common.ts';

/** Builds an Error message for the refused message's CSB ID (and PRF), one ERR per code. */
export function buildErrorMessage(o: { csbId: number; prf?: number; errors: readonly (number | MikeyError)[]; nowMs?: number }): BuiltMessage {
  const errs: ErrPayload[] = o.errors.map((e) => ({ kind: 'ERR', errorNo: typeof e === 'number' ? e : e.errNo }));
  const message: MikeyMessage = {
    header: { version: 1, dataType: DataType.ERROR, v: false, prf: o.prf ?? 0, csbId: o.csbId, csIdMap: { type: 'empty', nCs: 0 } },
    payloads: [timestampPayload(o.nowMs ?? Date.now()), ...errs],
  };
  return { bytes: encodeMessage(message), message };
}

/** Reads an Error message: its CSB ID and error numbers (grammar checked). */
export function readErrorMessage(bytes: Uint8Array): { csbId: number; errors: number[] } {
  const m = decodeMessage(bytes);
  if (m.header.dataType !== DataType.ERROR) throw new MikeyProtocolError('unexpected-data-type', `not an Error message (data type ${m.header.dataType})`, 11);
  validateGrammar(m);
  return { csbId: m.header.csbId, errors: m.payloads.filter((p): p is ErrPayload => p.kind === 'ERR').map((p) => p.errorNo) };
}
