/**
 * Per-message facts of SIP seen in the clear (RFC 3261 sec. 7): the start
 * line, Call-ID and CSeq (long or compact header names, sec. 7.3.3), and
 * what its SDP announces (media endpoints, SDES keys: read by sip-sdp.ts).
 * And the same facts from a message tshark read inside TLS.
 */
import { readSipSdp } from '../sip-sdp.ts';
import type { TlsSipMessage } from '../tls-signalling.ts';
import { readCryptoValue, splitAttribute } from '@imslab/sdp';
import type { SipSighting } from './types.ts';

const CALL_ID = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im;
const CSEQ = /^CSeq[ \t]*:[ \t]*\d+[ \t]+([A-Za-z]+)/im;

/** `udp 1.2.3.4:5 > 6.7.8.9:10` (flowKeyString) -> transport and both ends. */
export function splitFlow(flow: string): { transport: string; from: string; to: string } {
  const [transport = '', from = '', , to = ''] = flow.split(' ');
  return { transport, from, to };
}

/** `INVITE`, or `200 (INVITE)` for a response: what the manifest and a ladder call a message. */
export function messageLabel(startLine: string, cseqMethod: string | undefined): string | null {
  const res = /^SIP\/2\.0[ \t]+(\d{3})/.exec(startLine);
  if (res) return `${res[1]} (${cseqMethod ?? '?'})`;
  const req = /^([A-Z]+)[ \t]+\S+[ \t]+SIP\/2\.0/.exec(startLine);
  return req ? req[1]! : null;
}

/** Reads a SIP message seen in the clear on `link`; null when it is not a SIP message with a Call-ID. */
export function plainSighting(link: string, flow: string, message: Buffer, timeUs: number): SipSighting | null {
  const text = message.toString('latin1');
  const startLine = text.slice(0, text.indexOf('\n')).trim();
  const callId = CALL_ID.exec(text)?.[1];
  const label = messageLabel(startLine, CSEQ.exec(text)?.[1]?.toUpperCase());
  if (!callId || !label) return null;
  const { transport, from, to } = splitFlow(flow);
  const sdp = readSipSdp(text);
  return {
    link, from, to, transport: transport === 'tcp' ? 'tcp' : 'udp', clear: true, timeUs, callId, message: label,
    endpoints: sdp.endpoints.map((e) => e.endpoint),
    keys: sdp.sdes.map((k) => ({ suite: k.suite, inline: k.keySalt })),
  };
}

const endpoint = (ip: string, port: number | undefined) => {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
};

/** The same facts from a message tshark read inside TLS (`link` from its capture interface). */
export function tlsSighting(link: string, m: TlsSipMessage): SipSighting | null {
  if (!m.callId) return null;
  const what = m.what.split('\u001f')[0]!;
  const label = /^\d{3}$/.test(what) ? `${what} (${m.cseqMethod ?? '?'})` : what;
  const keys: SipSighting['keys'] = [];
  for (const text of m.mediaAttributes) {
    const a = splitAttribute(text);
    if (a.name !== 'crypto') continue;
    const line = readCryptoValue(a.value);
    for (const k of line.attribute?.keyParams ?? []) keys.push({ suite: line.attribute!.suite, inline: k.keySalt.toString('base64') });
  }
  return {
    link, from: endpoint(m.src, m.srcPort), to: endpoint(m.dst, m.dstPort), transport: 'tls', clear: false, timeUs: m.timeUs ?? 0, callId: m.callId, message: label,
    endpoints: m.mediaEndpoints, keys,
  };
}
