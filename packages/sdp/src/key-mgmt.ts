/**
 * `a=key-mgmt` (RFC 4567 sec. 3.1) values:
 *   key-mgmt-att-value = 0*1SP prtcl-id SP keymgmt-data
 * The protocol identifier is read here; MIKEY data is decoded by
 * @imslab/mikey's codec.
 */
import { decodeKeyMgmtAttribute, MIKEY_KMPID, type KeyMgmtAttribute } from '@imslab/mikey';
import { SdpAttributeError } from './errors.ts';

const VALUE = /^ ?([^ ]+) (.+)$/;

/** The prtcl-id of an a=key-mgmt value (e.g. `mikey`), or null when the value does not have the RFC 4567 sec. 3.1 form. */
export function keyMgmtProtocol(value: string): string | null {
  return VALUE.exec(value)?.[1] ?? null;
}

/** True for an a=key-mgmt value carrying MIKEY (prtcl-id `mikey`, RFC 4567 sec. 3.1). */
export function isMikeyKeyMgmt(value: string): boolean {
  return keyMgmtProtocol(value) === MIKEY_KMPID;
}

/**
 * The MIKEY message of an a=key-mgmt value, decoded by @imslab/mikey.
 * @throws SdpAttributeError saying what is wrong (the MIKEY codec's error is the cause)
 */
export function decodeMikeyKeyMgmt(value: string): KeyMgmtAttribute {
  const protocol = keyMgmtProtocol(value);
  if (protocol !== MIKEY_KMPID) {
    throw new SdpAttributeError('key-mgmt', value, protocol === null ? 'expected "<prtcl-id> <keymgmt-data>" (RFC 4567 sec. 3.1)' : `prtcl-id is "${protocol}", not "${MIKEY_KMPID}"`);
  }
  try {
    return decodeKeyMgmtAttribute(value);
  } catch (e) {
    throw new SdpAttributeError('key-mgmt', value, `MIKEY data unreadable: ${(e as Error).message}`, e);
  }
}
