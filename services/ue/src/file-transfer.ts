import { createHash } from 'node:crypto';
import { sha1Colon, type FileSelector } from '@imslab/msrp';

/**
 * RFC 5547 file transfer (TR 33.828 4.1.5 and 4.3: a file or a picture sent
 * in an MSRP session): the file a test sends and its file-selector. The file
 * is made, not read from disk: its first line is the message text with the
 * marker (so the captures and stores can be searched for it, as for any
 * message), the rest a deterministic filler up to the asked size (a SHA-256
 * chain of the text: the same spec gives the same bytes, no two files look
 * alike).
 */
export interface FileSpec {
  name: string;
  /** Media type, e.g. image/png. */
  type: string;
  size: number;
}

/** The largest file a test sends (the MSRP reassembly and CMS limits are far above). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

export function makeFile(spec: FileSpec, text: string): Buffer {
  const head = Buffer.from(`${text}\n`, 'utf8');
  const out = Buffer.alloc(Math.max(spec.size, head.length));
  head.copy(out);
  let block = createHash('sha256').update(head).digest();
  for (let at = head.length; at < out.length; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** a=file-selector of the offer (RFC 5547 sec. 6): name, type, size and the SHA-1 of the bytes. */
export function fileSelectorOf(spec: FileSpec, bytes: Buffer): FileSelector {
  return { name: spec.name, type: spec.type, size: bytes.length, sha1: sha1Colon(createHash('sha1').update(bytes).digest('hex')) };
}

/** What a receiver checks of a received file against the offer's file-selector. */
export interface ReceivedFile {
  name?: string;
  type?: string;
  size: number;
  /** The offer's size and SHA-1 match the bytes received. */
  matchesSelector: boolean;
}

export function checkFile(selector: FileSelector, bytes: Buffer): ReceivedFile {
  const sha1 = sha1Colon(createHash('sha1').update(bytes).digest('hex'));
  const sizeOk = selector.size === undefined || selector.size === bytes.length;
  const hashOk = selector.sha1 === undefined || selector.sha1.toUpperCase() === sha1;
  return { ...(selector.name ? { name: selector.name } : {}), ...(selector.type ? { type: selector.type } : {}), size: bytes.length, matchesSelector: sizeOk && hashOk };
}
