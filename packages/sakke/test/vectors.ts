/** Loads the RFC vectors of test/vectors/*.json (hex with the RFCs' spacing). */
import { readFileSync } from 'node:fs';
import { fromHex } from '../src/index.ts';

function load(name: string): Record<string, string> {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as Record<string, string>;
}

/** RFC 6507 Appendix A. */
export const rfc6507 = load('rfc6507-appendix-a.json');
/** RFC 6508 Appendix A. */
export const rfc6508 = load('rfc6508-appendix-a.json');
/** RFC 6509 Appendix A (parameter set 1). */
export const rfc6509 = load('rfc6509-appendix-a.json');

/** Octets of a vector field. */
export const bytes = (v: string | undefined): Uint8Array => fromHex(v!);
/** Integer of a vector field (hex). */
export const int = (v: string | undefined): bigint => BigInt(`0x${v!.replace(/\s+/g, '')}`);
/** 0x04 || x || y from two vector fields. */
export const point = (x: string | undefined, y: string | undefined): Uint8Array => fromHex(`04${x!}${y!}`);
