/**
 * One `a=` attribute as RFC 4566 sec. 5.13 writes it: `a=<attribute>` (a
 * flag) or `a=<attribute>:<value>`.
 */

/** An attribute at session or media level. `value` is '' for a flag such as `a=rtcp-mux`. */
export interface SdpAttribute {
  name: string;
  value: string;
}

/**
 * Splits attribute text into name and value: accepts `a=name:value`,
 * `name:value` (as tshark's `sdp.media_attr` prints it) and a bare `name`.
 */
export function splitAttribute(text: string): SdpAttribute {
  const t = text.startsWith('a=') ? text.slice(2) : text;
  const colon = t.indexOf(':');
  return colon < 0 ? { name: t, value: '' } : { name: t.slice(0, colon), value: t.slice(colon + 1) };
}

/** `name:value`, or `name` for a flag: the attribute text after `a=`. */
export function formatAttribute(a: SdpAttribute): string {
  return a.value === '' ? a.name : `${a.name}:${a.value}`;
}
