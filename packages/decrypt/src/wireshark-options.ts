import type { DecryptedStream } from './decrypt-capture.ts';

/**
 * The Wireshark/tshark options under which decrypted.pcapng shows its media
 * as RTP and RTCP.
 *
 * Why options at all: the file keeps the signalling as captured (evidence),
 * and its SDP says RTP/SAVP with a=crypto. Wireshark's SDP dissector then sets
 * up an SRTP conversation for each announced port, and the RTP dissector
 * shows every packet on it as "SRTP Encrypted Payload" with its last octets
 * taken for an authentication tag, although the file holds the plaintext;
 * whether a packet falls in such a conversation depends on which SDP was read
 * first, so the same packet can show as RTP on one link and SRTP on another.
 * Turning off `sdp.establish_conversation` and decoding the decrypted
 * streams' ports as RTP (and RTCP) gives the plaintext view on every link.
 */
export function wiresharkMediaOptions(streams: readonly Pick<DecryptedStream, 'kind' | 'src' | 'dst'>[]): string[] {
  const rtp = new Set<number>();
  const rtcp = new Set<number>();
  for (const s of streams) for (const end of [s.src, s.dst]) (s.kind === 'rtp' ? rtp : rtcp).add(portOf(end));
  for (const p of rtp) rtcp.delete(p); // rtcp-mux: the RTP dissector's port decides
  const opts = ['-o', 'sdp.establish_conversation:FALSE'];
  for (const p of [...rtp].sort((a, b) => a - b)) opts.push('-d', `udp.port==${p},rtp`);
  for (const p of [...rtcp].sort((a, b) => a - b)) opts.push('-d', `udp.port==${p},rtcp`);
  return opts;
}

/** The port of `address:port` or `[v6]:port`. */
function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}
