import { join } from 'node:path';
import { z } from 'zod';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { fillTemplate, serviceFile, type ElementPaths, type ImageSpec } from '@imslab/topology';

/** The one image every Kamailio element runs (services/kamailio/Dockerfile). */
export const KAMAILIO_IMAGE: ImageSpec = { name: 'kamailio', dockerfile: 'services/kamailio/Dockerfile' };

/**
 * The Kamailio start command: foreground with children (-DD), log to stderr
 * (-E), which the runner keeps. Shared memory (-m, MB) holds every
 * transaction until its wait timer ends (5 s after the final reply): at
 * 1000 REGISTER/s with digest (two transactions each) 64 MB ran out ("could
 * not allocate shared memory", 500 to a third of the registrations, the load
 * bench). The pool is mapped, not touched: an idle element's memory does not
 * grow with it.
 */
export function kamailioCommand(name: string, p: ElementPaths): string[] {
  return ['kamailio', '-DD', '-E', '-f', join(p.configDir, 'kamailio.cfg'), '-P', join(p.runDir, `${name}.pid`), '-m', '256', '-M', '8'];
}

/** The values of a Kamailio element's tls.cfg template: its testbed-CA certificate and key, and the CA. */
export const KamailioTlsValues = strictObject({ KEY_FILE: z.string().min(1), CERT_FILE: z.string().min(1), CA_FILE: z.string().min(1) }, 'Kamailio TLS values');

/** Fills `services/<service>/tls.cfg` for element `name` from the PKI directory. */
export function kamailioTlsCfg(service: string, name: string, p: ElementPaths): string {
  const values = checkStrict(KamailioTlsValues, {
    KEY_FILE: join(p.pkiDir, `${name}.key`), CERT_FILE: join(p.pkiDir, `${name}.pem`), CA_FILE: join(p.pkiDir, 'ca.pem'),
  }, `${name} tls.cfg values`);
  return fillTemplate(serviceFile(service, 'tls.cfg'), values, `${name} tls.cfg`);
}

/** A Kamailio string literal. */
export function kamailioString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Template values that are addresses: IPv4 dotted quads, nothing a config could be injected through. */
export const ipValue = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'must be an IPv4 address');
/** Template values that are names of elements or links. */
export const nameValue = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case name');

/**
 * rtpengine 10.5 offers a dozen SDES suites unless told not to; e2ae toward a
 * UE uses the mandatory AES_CM_128_HMAC_SHA1_80 only (there is no SDES-only- in 10.5).
 */
export const SDES_ONLY_80 = [
  'AES_CM_128_HMAC_SHA1_32', 'AES_192_CM_HMAC_SHA1_80', 'AES_192_CM_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32', 'AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'F8_128_HMAC_SHA1_80', 'F8_128_HMAC_SHA1_32',
  'NULL_HMAC_SHA1_80', 'NULL_HMAC_SHA1_32',
].map((s) => `SDES-no-${s}`).join(' ');
