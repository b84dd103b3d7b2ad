/**
 * Common header (HDR), RFC 3830 sec. 6.1, with the CS ID maps: SRTP-ID
 * (RFC 3830 sec. 6.1.1), Empty map (RFC 4563 sec. 4) and GENERIC-ID
 * (RFC 6043 sec. 6.1.1).
 *
 *   version(8) | data type(8) | next payload(8) | V(1) PRF func(7) |
 *   CSB ID(32) | #CS(8) | CS ID map type(8) | CS ID map info
 */
import { Reader, Writer, checkBytes } from './bytes.ts';
import { CsIdMapType, MIKEY_VERSION } from './codes.ts';
import { MikeyEncodeError, MikeyUnsupportedError } from './errors.ts';

/** One SRTP-ID map entry: Policy_no(8) | SSRC(32) | ROC(32) (RFC 3830 sec. 6.1.1). */
export interface SrtpIdEntry {
  policyNo: number;
  ssrc: number;
  roc: number;
}

/**
 * One GENERIC-ID map entry (RFC 6043 sec. 6.1.1): CS ID(8) | Prot type(8) |
 * S(1) #P(7) | Ps | Session Data Length(16) | Session Data | SPI Length(8) | SPI.
 */
export interface GenericIdEntry {
  csId: number;
  protType: number;
  /** S flag: for SRTP, the Session Data carries ROC and SEQ too. */
  s: boolean;
  /** Policy_no of each SP payload that applies (#P of them). */
  policies: number[];
  /** Protocol-specific session data (for SRTP see {@link encodeSrtpSessionData}). */
  sessionData: Uint8Array;
  /** Security parameter index (e.g. the MKI), may be empty. */
  spi: Uint8Array;
}

/** CS ID map with its type; #CS is derived from the entries except for the Empty map. */
export type CsIdMap =
  | { type: 'srtp-id'; entries: SrtpIdEntry[] }
  | { type: 'empty'; nCs: number }
  | { type: 'generic-id'; entries: GenericIdEntry[] };

/** Decoded HDR. The next-payload field is derived from the message's first payload. */
export interface MikeyHeader {
  /** Always 1 (RFC 3830 sec. 6.1). */
  version: number;
  dataType: number;
  /** V flag: a verification (response) message is expected. */
  v: boolean;
  /** PRF func (7 bits): 0 MIKEY-1, 1 PRF-HMAC-SHA-256. */
  prf: number;
  /** Crypto Session Bundle ID (32 bits). */
  csbId: number;
  csIdMap: CsIdMap;
}

/** Fixed part of HDR in octets. */
export const HDR_FIXED_LENGTH = 10;

/** Decodes HDR; returns it with the next-payload code and the offset of that octet. */
export function decodeHeader(r: Reader): { header: MikeyHeader; next: number; nextAt: number } {
  r.payloadType = -1;
  const vAt = r.offset;
  const version = r.u8('version');
  if (version !== MIKEY_VERSION) throw new MikeyUnsupportedError({ offset: vAt, expected: 'MIKEY version 1', payloadType: -1, found: String(version) });
  const dataType = r.u8('data type');
  const nextAt = r.offset;
  const next = r.u8('next payload');
  const vp = r.u8('V / PRF func');
  const csbId = r.u32('CSB ID');
  const nCs = r.u8('#CS');
  const mapAt = r.offset;
  const mapType = r.u8('CS ID map type');
  let csIdMap: CsIdMap;
  switch (mapType) {
    case CsIdMapType.SRTP_ID: {
      const entries: SrtpIdEntry[] = [];
      for (let i = 0; i < nCs; i++) {
        entries.push({ policyNo: r.u8(`SRTP-ID[${i}] Policy_no`), ssrc: r.u32(`SRTP-ID[${i}] SSRC`), roc: r.u32(`SRTP-ID[${i}] ROC`) });
      }
      csIdMap = { type: 'srtp-id', entries };
      break;
    }
    case CsIdMapType.EMPTY:
      csIdMap = { type: 'empty', nCs };
      break;
    case CsIdMapType.GENERIC_ID: {
      const entries: GenericIdEntry[] = [];
      for (let i = 0; i < nCs; i++) {
        const csId = r.u8(`GENERIC-ID[${i}] CS ID`);
        const protType = r.u8(`GENERIC-ID[${i}] Prot type`);
        const sp = r.u8(`GENERIC-ID[${i}] S / #P`);
        const policies: number[] = [];
        for (let j = 0; j < (sp & 0x7f); j++) policies.push(r.u8(`GENERIC-ID[${i}] Policy_no`));
        const sdl = r.u16(`GENERIC-ID[${i}] Session Data Length`);
        const sessionData = r.bytes(sdl, `GENERIC-ID[${i}] Session Data`);
        const spil = r.u8(`GENERIC-ID[${i}] SPI Length`);
        entries.push({ csId, protType, s: (sp & 0x80) !== 0, policies, sessionData, spi: r.bytes(spil, `GENERIC-ID[${i}] SPI`) });
      }
      csIdMap = { type: 'generic-id', entries };
      break;
    }
    default:
      throw new MikeyUnsupportedError({ offset: mapAt, expected: 'CS ID map type 0 (SRTP-ID), 1 (Empty map) or 2 (GENERIC-ID)', payloadType: -1, found: String(mapType) });
  }
  r.payloadType = undefined;
  return { header: { version, dataType, v: (vp & 0x80) !== 0, prf: vp & 0x7f, csbId, csIdMap }, next, nextAt };
}

/** Writes HDR with `next` as its next-payload field. */
export function encodeHeader(w: Writer, h: MikeyHeader, next: number): void {
  if (h.version !== MIKEY_VERSION) throw new MikeyEncodeError('HDR.version', `only version 1 exists, got ${h.version}`);
  if (!Number.isInteger(h.prf) || h.prf < 0 || h.prf > 0x7f) throw new MikeyEncodeError('HDR.prf', 'must fit in 7 bits');
  w.u8(h.version, 'HDR.version').u8(h.dataType, 'HDR.dataType').u8(next, 'HDR next payload');
  w.u8((h.v ? 0x80 : 0) | h.prf, 'HDR V/PRF').u32(h.csbId, 'HDR.csbId');
  const m = h.csIdMap;
  switch (m.type) {
    case 'srtp-id':
      w.u8(m.entries.length, 'HDR #CS').u8(CsIdMapType.SRTP_ID, 'map type');
      m.entries.forEach((e, i) => w.u8(e.policyNo, `SRTP-ID[${i}].policyNo`).u32(e.ssrc, `SRTP-ID[${i}].ssrc`).u32(e.roc, `SRTP-ID[${i}].roc`));
      return;
    case 'empty':
      w.u8(m.nCs, 'HDR #CS').u8(CsIdMapType.EMPTY, 'map type');
      return;
    case 'generic-id':
      w.u8(m.entries.length, 'HDR #CS').u8(CsIdMapType.GENERIC_ID, 'map type');
      m.entries.forEach((e, i) => {
        const f = `GENERIC-ID[${i}]`;
        if (e.policies.length > 0x7f) throw new MikeyEncodeError(`${f}.policies`, 'at most 127 policies');
        checkBytes(e.sessionData, `${f}.sessionData`, 0xffff);
        checkBytes(e.spi, `${f}.spi`, 0xff);
        w.u8(e.csId, `${f}.csId`).u8(e.protType, `${f}.protType`).u8((e.s ? 0x80 : 0) | e.policies.length, `${f} S/#P`);
        e.policies.forEach((p, j) => w.u8(p, `${f}.policies[${j}]`));
        w.u16(e.sessionData.length, `${f} Session Data Length`).bytes(e.sessionData).u8(e.spi.length, `${f} SPI Length`).bytes(e.spi);
      });
      return;
    default:
      throw new MikeyEncodeError('HDR.csIdMap', `unknown map type ${String((m as { type: unknown }).type)}`);
  }
}

/** SRTP Session Data of a GENERIC-ID entry (RFC 6043 sec. 6.1.1): SSRC(32) [ROC(32) SEQ(16) when S = 1]. */
export interface SrtpSessionData {
  ssrc: number;
  roc?: number;
  seq?: number;
}

/** Encodes SRTP Session Data; ROC and SEQ are written together (the S flag) or not at all. */
export function encodeSrtpSessionData(d: SrtpSessionData): Uint8Array {
  const w = new Writer().u32(d.ssrc, 'SSRC');
  if ((d.roc === undefined) !== (d.seq === undefined)) throw new MikeyEncodeError('SRTP session data', 'ROC and SEQ go together');
  if (d.roc !== undefined && d.seq !== undefined) w.u32(d.roc, 'ROC').u16(d.seq, 'SEQ');
  return w.finish();
}

/** Decodes SRTP Session Data (4 or 10 octets). */
export function decodeSrtpSessionData(b: Uint8Array, base = 0): SrtpSessionData {
  const r = new Reader(b, base);
  const ssrc = r.u32('SSRC');
  if (b.length === 4) return { ssrc };
  const roc = r.u32('ROC');
  const seq = r.u16('SEQ');
  if (r.remaining !== 0) throw new MikeyUnsupportedError({ offset: r.offset, expected: 'SRTP session data of 4 or 10 octets', found: `${b.length} octets` });
  return { ssrc, roc, seq };
}

/** Number of crypto sessions (#CS) the header announces. */
export function csCount(h: MikeyHeader): number {
  return h.csIdMap.type === 'empty' ? h.csIdMap.nCs : h.csIdMap.entries.length;
}
