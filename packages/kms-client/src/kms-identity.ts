/**
 * Identity conventions shared by the KMS and its clients (the UE). The MIKEY
 * MAC of every Ticket Request / Resolve message covers the ID data of the
 * requester and of the KMS (RFC 6043 sec. 5.5), so both ends must name the
 * KMS and the PSK in exactly the same way. These helpers return the strings;
 * wrap them with `@imslab/mikey`'s `uriIdentity` / `naiIdentity`.
 *
 * - IDRi / IDRr: the user's SIP URI (`sip:bob@ims.test`), a URI identity;
 * - IDRpsk: the device's name as an NAI (`bob-1@ims.test`), which selects the
 *   device's own pre-shared key (RFC 6043 sec. 4.1.1 / 4.3.1: "IDRpsk ... MAY be
 *   used to identify the pre-shared key");
 * - IDRkms: the KMS's HTTPS origin as a URI identity (`https://127.0.2.40:8443`),
 *   the URL every client is already configured with.
 */

/**
 * The IDRkms URI of the KMS at `url`: scheme, host and port only, no path or
 * trailing slash (`https://127.0.2.40:8443/` → `https://127.0.2.40:8443`). The
 * port is always written, even 443, so both ends spell it the same way.
 */
export function kmsIdentityUri(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.protocol}//${u.hostname}:${port}`;
}

/** The IDRpsk NAI of a device: `<device name>@<domain>` (e.g. `bob-1@ims.test`). */
export function devicePskId(deviceName: string, domain: string): string {
  return `${deviceName}@${domain}`;
}
