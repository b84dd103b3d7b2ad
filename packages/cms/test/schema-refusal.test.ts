/**
 * fromSchema, where pkijs reads a structure: pkijs's own schema mismatch is
 * passed on as it says it; when pkijs's code itself throws on a malformed
 * structure (the 1,000,000-input bench hit a TypeError "undefined is not
 * iterable" in RecipientEncryptedKeys), the refusal says what was being read
 * in words about the bytes, with the library's error kept as the cause.
 */
import { describe, expect, it } from 'vitest';
import { CmsFormatError } from '../src/index.ts';
import { fromSchema } from '../src/content-info.ts';

function refusalOf(make: () => unknown): CmsFormatError {
  try {
    fromSchema(make, 'RecipientEncryptedKeys');
  } catch (e) {
    return e as CmsFormatError;
  }
  throw new Error('fromSchema did not refuse');
}

describe('fromSchema refusals', () => {
  it('a library crash on malformed input is a malformed refusal in words, its cause kept', () => {
    const crash = new TypeError('undefined is not iterable (cannot read property Symbol(Symbol.iterator))');
    const e = refusalOf(() => { throw crash; });
    expect(e).toBeInstanceOf(CmsFormatError);
    expect(e.code).toBe('malformed');
    expect(e.message).toMatch(/^RecipientEncryptedKeys does not match its ASN\.1 definition: its fields are not where/);
    expect(e.message).not.toMatch(/is not iterable|Cannot read/);
    expect(e.cause).toBe(crash);
  });

  it('a schema mismatch pkijs explains is passed on as it says it', () => {
    const e = refusalOf(() => { throw new Error('Object\'s schema was not verified against input data for RecipientEncryptedKeys'); });
    expect(e.message).toMatch(/definition: Object's schema was not verified/);
  });
});
