/**
 * pcapng block layout (draft-ietf-opsawg-pcapng, "PCAP Now Generic Capture
 * File Format"). Every block is: type (4), total length (4), body, total
 * length again (4); total length is a multiple of 4. The Section Header
 * Block carries a byte-order magic; every other field of the section uses
 * that order. Encoders here are used by the writer and by fixture scripts
 * (which need the rarer blocks: SPB, OPB, big-endian, several sections).
 */

/** Block type codes (draft sec 10.1). */
export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
/** Obsolete Packet Block (draft appendix, still produced by old tools). */
export const BLOCK_OPB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_EPB = 0x00000006;
/** Decryption Secrets Block (draft sec 4.7): key material that lets a reader decrypt packets of the section. */
export const BLOCK_DSB = 0x0000000a;
/** Section Header Block byte-order magic, as written in the section's order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes used here (draft sec 3.5, 4.1, 4.2). */
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const OPT_SHB_USERAPPL = 4;
export const OPT_IF_NAME = 2;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;

/**
 * DSB Secrets Type codes (draft sec 4.7). Only the TLS key log is written
 * here; its data is NSS Key Log Format text (SSLKEYLOGFILE lines).
 */
export const SECRETS_TYPE_TLS_KEY_LOG = 0x544c534b; // 'TLSK'

/** Blocks longer than this are taken as corruption (Wireshark uses a similar cap); keeps memory bounded. */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
/** Smallest possible block: type, length, trailing length. */
export const MIN_BLOCK_LENGTH = 12;

/** One option: code and raw value (padding is added when encoding). */
export interface PcapngOption {
  code: number;
  value: Buffer;
}

/** Rounds up to the 32-bit boundary every pcapng field ends on. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Encodes an option list with opt_endofopt; empty list → empty buffer (options are optional). */
export function encodeOptions(options: readonly PcapngOption[], le: boolean): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const size = options.reduce((n, o) => n + 4 + pad4(o.value.length), 4);
  const b = Buffer.alloc(size);
  let at = 0;
  for (const o of options) {
    if (le) { b.writeUInt16LE(o.code, at); b.writeUInt16LE(o.value.length, at + 2); }
    else { b.writeUInt16BE(o.code, at); b.writeUInt16BE(o.value.length, at + 2); }
    o.value.copy(b, at + 4);
    at += 4 + pad4(o.value.length);
  }
  return b; // trailing 4 zero bytes are opt_endofopt
}

/** Wraps a body (already a multiple of 4 long) into a block. */
export function encodeBlock(type: number, body: Buffer, le: boolean): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  if (le) { b.writeUInt32LE(type >>> 0, 0); b.writeUInt32LE(total, 4); b.writeUInt32LE(total, total - 4); }
  else { b.writeUInt32BE(type >>> 0, 0); b.writeUInt32BE(total, 4); b.writeUInt32BE(total, total - 4); }
  body.copy(b, 8);
  return b;
}

function padded(data: Buffer): Buffer {
  const b = Buffer.alloc(pad4(data.length));
  data.copy(b);
  return b;
}

/** Section Header Block, version 1.0, section length -1 ("not specified"). */
export function encodeShb(le: boolean, options: readonly PcapngOption[] = []): Buffer {
  const head = Buffer.alloc(16);
  if (le) { head.writeUInt32LE(BYTE_ORDER_MAGIC, 0); head.writeUInt16LE(1, 4); head.writeUInt16LE(0, 6); }
  else { head.writeUInt32BE(BYTE_ORDER_MAGIC, 0); head.writeUInt16BE(1, 4); head.writeUInt16BE(0, 6); }
  head.writeInt32LE(-1, 8); // section length -1: all ones in either order
  head.writeInt32LE(-1, 12);
  return encodeBlock(BLOCK_SHB, Buffer.concat([head, encodeOptions(options, le)]), le);
}

/** Interface Description Block. SnapLen 0 means "no limit" (draft sec 4.2). */
export function encodeIdb(le: boolean, linkType: number, snapLen: number, options: readonly PcapngOption[] = []): Buffer {
  const head = Buffer.alloc(8);
  if (le) { head.writeUInt16LE(linkType, 0); head.writeUInt32LE(snapLen >>> 0, 4); }
  else { head.writeUInt16BE(linkType, 0); head.writeUInt32BE(snapLen >>> 0, 4); }
  return encodeBlock(BLOCK_IDB, Buffer.concat([head, encodeOptions(options, le)]), le);
}

/** Enhanced Packet Block; the timestamp is in units of the interface's if_tsresol. */
export function encodeEpb(le: boolean, interfaceId: number, tsHigh: number, tsLow: number, data: Buffer, originalLength = data.length, options: readonly PcapngOption[] = []): Buffer {
  const head = Buffer.alloc(20);
  const vals = [interfaceId, tsHigh, tsLow, data.length, originalLength];
  vals.forEach((v, i) => (le ? head.writeUInt32LE(v >>> 0, i * 4) : head.writeUInt32BE(v >>> 0, i * 4)));
  return encodeBlock(BLOCK_EPB, Buffer.concat([head, padded(data), encodeOptions(options, le)]), le);
}

/** Simple Packet Block: interface 0, no timestamp, captured length implied by the block length. */
export function encodeSpb(le: boolean, data: Buffer, originalLength = data.length): Buffer {
  const head = Buffer.alloc(4);
  if (le) head.writeUInt32LE(originalLength, 0);
  else head.writeUInt32BE(originalLength, 0);
  return encodeBlock(BLOCK_SPB, Buffer.concat([head, padded(data)]), le);
}

/** Obsolete Packet Block: 16-bit interface id and drops count. */
export function encodeOpb(le: boolean, interfaceId: number, tsHigh: number, tsLow: number, data: Buffer, originalLength = data.length): Buffer {
  const head = Buffer.alloc(20);
  if (le) { head.writeUInt16LE(interfaceId, 0); head.writeUInt16LE(0, 2); }
  else { head.writeUInt16BE(interfaceId, 0); head.writeUInt16BE(0, 2); }
  const vals = [tsHigh, tsLow, data.length, originalLength];
  vals.forEach((v, i) => (le ? head.writeUInt32LE(v >>> 0, 4 + i * 4) : head.writeUInt32BE(v >>> 0, 4 + i * 4)));
  return encodeBlock(BLOCK_OPB, Buffer.concat([head, padded(data)]), le);
}

/**
 * Decryption Secrets Block (draft sec 4.7): Secrets Type, Secrets Length,
 * the secrets padded to 32 bits, options. Readers that do not know the block
 * skip it by its length, as ours does, so adding one never makes a file
 * unreadable.
 */
export function encodeDsb(le: boolean, secretsType: number, secrets: Buffer, options: readonly PcapngOption[] = []): Buffer {
  const head = Buffer.alloc(8);
  if (le) { head.writeUInt32LE(secretsType >>> 0, 0); head.writeUInt32LE(secrets.length, 4); }
  else { head.writeUInt32BE(secretsType >>> 0, 0); head.writeUInt32BE(secrets.length, 4); }
  return encodeBlock(BLOCK_DSB, Buffer.concat([head, padded(secrets), encodeOptions(options, le)]), le);
}

/** UTF-8 string option value. */
export function stringOption(code: number, s: string): PcapngOption {
  return { code, value: Buffer.from(s, 'utf8') };
}
