/**
 * Interface Description Block parsing (draft-ietf-opsawg-pcapng sec 4.2):
 * link type, snap length and the options that change how packets of the
 * interface are read: if_name (2), if_tsresol (9), if_tsoffset (14).
 */
import { OPT_ENDOFOPT, OPT_IF_NAME, OPT_IF_TSOFFSET, OPT_IF_TSRESOL, pad4 } from './pcapng-format.ts';
import { makeTsConverter, type TsConverter } from './timestamps.ts';

/** What the reader keeps about one pcapng interface. */
export interface PcapngInterface {
  linkType: number;
  /** 0 = no limit. */
  snapLen: number;
  name: string | undefined;
  ts: TsConverter;
}

/**
 * Parses the IDB at `at` (total length `len`, already bounds-checked).
 * Returns a message instead of throwing so the caller can attach the offset.
 */
export function parseInterfaceBlock(buf: Buffer, at: number, len: number, le: boolean): PcapngInterface | string {
  if (len < 20) return 'interface description block too short';
  const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const linkType = u16(at + 8);
  const snapLen = le ? buf.readUInt32LE(at + 12) : buf.readUInt32BE(at + 12);
  let name: string | undefined;
  let tsresol: number | undefined;
  let tsoffset = 0;
  const end = at + len - 4;
  let o = at + 16;
  while (o + 4 <= end) {
    const code = u16(o);
    const optLen = u16(o + 2);
    if (code === OPT_ENDOFOPT) break;
    const v = o + 4;
    if (v + optLen > end) return `option ${code} overruns the interface description block`;
    if (code === OPT_IF_NAME) {
      // UTF-8, not zero-terminated per the draft; some writers add a NUL anyway.
      name = buf.toString('utf8', v, v + optLen).replace(/\0+$/, '');
    } else if (code === OPT_IF_TSRESOL && optLen >= 1) {
      tsresol = buf[v];
    } else if (code === OPT_IF_TSOFFSET && optLen >= 8) {
      // int64 seconds; safe as a double for any sane offset.
      tsoffset = Number(le ? buf.readBigInt64LE(v) : buf.readBigInt64BE(v));
    }
    o = v + pad4(optLen);
  }
  return { linkType, snapLen, name, ts: makeTsConverter(tsresol, tsoffset) };
}
