/**
 * Floor control inside whole UDP payloads: a compound RTCP packet (RFC 3550
 * sec. 6.1; an APP `MCPT` after an SR or RR), several floor control
 * messages in one datagram (TS 24.380 clause 8.1.1 allows it), and the
 * analyser's question "is floor control readable in the clear here?".
 */
import { isRtcpPacketType, RTCP_PACKET_TYPE } from '@imslab/rtp';
import { FloorDecodeError } from './errors.ts';
import { APP_HEADER_LENGTH, decodeFloorMessage, isMcptName, type FloorMessage } from './message.ts';

/** Outcome of decoding a datagram: its floor control messages and the types of the other RTCP packets in it. */
export type FloorPacketResult = { ok: true; messages: FloorMessage[]; otherPacketTypes: number[] } | { ok: false; error: FloorDecodeError };

function fail(code: FloorDecodeError['code'], offset: number, detail: string): FloorPacketResult {
  return { ok: false, error: new FloorDecodeError(code, offset, detail) };
}

/**
 * Decodes a (compound) RTCP datagram and returns every APP `MCPT` message in
 * it; other RTCP packets (SR, RR, SDES, other APP names ...) are skipped by
 * their length. The packets must tile the datagram exactly; RFC 3550
 * padding is accepted on the last packet only (sec. 6.4.1), but never on a
 * floor control packet (TS 24.380 clause 8.1.2). Never throws.
 */
export function decodeFloorControlPacket(datagram: Uint8Array): FloorPacketResult {
  const messages: FloorMessage[] = [];
  const otherPacketTypes: number[] = [];
  const end = datagram.length;
  if (end < 4) return fail('too-short', 0, `an RTCP packet has at least a 4-octet header, found ${end} octets`);
  let o = 0;
  while (o < end) {
    if (end - o < 4) return fail('bad-length', o, `${end - o} octets after the last RTCP packet do not make a header`);
    const b0 = datagram[o]!;
    const pt = datagram[o + 1]!;
    if (b0 >> 6 !== 2 || !isRtcpPacketType(pt)) return fail('not-rtcp', o, `expected an RTCP header (version 2, packet type 192..223), found version ${b0 >> 6}, type ${pt}`);
    const size = (((datagram[o + 2]! << 8) | datagram[o + 3]!) + 1) * 4;
    if (o + size > end) return fail('bad-length', o + 2, `RTCP packet of ${size} octets overruns the datagram (${end - o} remain)`);
    const last = o + size === end;
    if (b0 & 0x20) {
      // RFC 3550 sec. 6.4.1: only the last packet of a compound may be padded; its last octet counts the padding octets.
      if (!last) return fail('bad-padding', o, 'padding bit set on an RTCP packet that is not the last of the compound (RFC 3550 sec. 6.4.1)');
      const count = datagram[end - 1]!;
      if (count === 0 || count > size - 4) return fail('bad-padding', end - 1, `padding count ${count} is impossible for a ${size}-octet packet`);
    }
    if (pt === RTCP_PACKET_TYPE.APP && size >= APP_HEADER_LENGTH && isMcptName(datagram, o + 8)) {
      const r = decodeFloorMessage(datagram, o, o + size);
      if (!r.ok) return { ok: false, error: r.error };
      messages.push(r.message);
    } else {
      otherPacketTypes.push(pt);
    }
    o += size;
  }
  return { ok: true, messages, otherPacketTypes };
}

/** Floor control an observer can read in a datagram, as found by {@link findClearFloorControl}. */
export interface ClearFloorControl {
  /** The floor control messages readable without any key. */
  messages: FloorMessage[];
  /**
   * Octets after the last RTCP packet: 0 for plain RTCP; the SRTCP trailer
   * (E-flag and index, MKI, tag) when the datagram is SRTCP sent with E=0
   * (RFC 3711 sec. 3.4), which authenticates but leaves the payload clear.
   */
  trailingOctets: number;
}

/**
 * Tells whether a UDP payload carries floor control readable in the clear:
 * plain RTCP APP `MCPT`, alone or in a compound, or SRTCP with encryption
 * off. Walks RTCP packets by their length fields until something that is
 * not RTCP (such as the SRTCP trailer); returns undefined when no floor
 * control message decodes. With SRTCP encryption on, the APP name and the
 * fields are ciphertext (only the first 8 octets, header and SSRC, are
 * clear: RFC 3711 sec. 3.4), so nothing is found. Never throws.
 */
export function findClearFloorControl(udpPayload: Uint8Array): ClearFloorControl | undefined {
  const messages: FloorMessage[] = [];
  const end = udpPayload.length;
  let o = 0;
  while (end - o >= 4) {
    const b0 = udpPayload[o]!;
    const pt = udpPayload[o + 1]!;
    if (b0 >> 6 !== 2 || !isRtcpPacketType(pt)) break;
    const size = (((udpPayload[o + 2]! << 8) | udpPayload[o + 3]!) + 1) * 4;
    if (o + size > end) break;
    if (pt === RTCP_PACKET_TYPE.APP && size >= APP_HEADER_LENGTH && isMcptName(udpPayload, o + 8)) {
      const r = decodeFloorMessage(udpPayload, o, o + size);
      if (r.ok) messages.push(r.message);
    }
    o += size;
  }
  return messages.length > 0 ? { messages, trailingOctets: end - o } : undefined;
}
