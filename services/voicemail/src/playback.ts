import { createHash } from 'node:crypto';
import { bindRtp, buildAnswer, closeQuietly, type SipLogger, type OfferedMedia, type UasCall } from '@imslab/app-server';
import type { VoicemailConfig } from './config.ts';
import type { MessageMeta, StoredPacket } from './store.ts';

/** Pause after the last packet before the voicemail hangs up. */
const END_OF_MESSAGE_MS = 500;

/** One retrieval, as the control API reports it. */
export interface PlaybackRecord {
  callId: string;
  messageId: string;
  mailbox: string;
  by: string;
  packetsSent: number;
  bytesSent: number;
  /** SHA-256 over the payloads sent, in order: equal to the stored message's digest when nothing changed. */
  sentDigest: string;
  storedDigest: string;
  finished: boolean;
  /** Set only by a compromised voicemail (config `attack`): what it played instead. */
  attack?: string;
}

/** SHA-256 over payloads in order, each prefixed by its length (so boundaries count). */
export function payloadDigest(packets: readonly StoredPacket[] | readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const p of packets) {
    const d = Buffer.isBuffer(p) ? p : p.data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(d.length);
    h.update(len).update(d);
  }
  return h.digest('hex');
}

/**
 * Plays a stored message back: the stored packets, byte for byte, with
 * their original spacing, from when the ACK arrives. Nothing is decrypted
 * or re-encrypted: an SRTP message goes out as the ciphertext that came
 * in, with the depositor's TRANSFER_INIT in the answer so that the
 * retriever can resolve the key at the KMS, if the KMS lets it.
 */
export async function playback(call: UasCall, meta: MessageMeta, packets: StoredPacket[], offer: OfferedMedia, cfg: VoicemailConfig, log: SipLogger, record: (r: PlaybackRecord) => void, hangUp: () => void): Promise<void> {
  const want = meta.protection === 'srtp' ? 'RTP/SAVP' : 'RTP/AVP';
  if (offer.profile !== want) {
    return call.reject(488, `Not Acceptable Here (the message is stored ${meta.protection === 'srtp' ? 'end-to-end protected: retrieve it with RTP/SAVP (security stored-e2e)' : 'unprotected: retrieve it with RTP/AVP'})`);
  }
  const { socket, port } = await bindRtp(cfg.address, cfg.rtpPortMin, cfg.rtpPortMax);
  if (call.state !== 'offered') {
    // Cancelled while the message was read: nothing to play.
    closeQuietly(socket);
    return;
  }
  const r: PlaybackRecord = { callId: call.callId, messageId: meta.id, mailbox: meta.mailbox, by: call.caller, packetsSent: 0, bytesSent: 0, sentDigest: '', storedDigest: payloadDigest(packets), finished: false };
  const sent = createHash('sha256');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    if (r.finished) return;
    r.finished = true;
    r.sentDigest = sent.digest('hex');
    record(r);
    log.info(`played message ${meta.id} to ${call.caller}: ${r.packetsSent}/${packets.length} packets, ${r.bytesSent} bytes${r.sentDigest === r.storedDigest ? ', byte-identical to the stored message' : ''}`);
  };
  call.onEnded(() => {
    if (timer) clearTimeout(timer);
    closeQuietly(socket);
    finish();
  });
  call.onConfirmed(() => {
    const t0 = performance.now();
    const first = packets[0]?.atUs ?? 0;
    let i = 0;
    const next = () => {
      if (call.state === 'ended') return;
      // Send every packet that is due: the schedule follows the stored arrival times.
      while (i < packets.length && (packets[i]!.atUs - first) / 1000 <= performance.now() - t0) {
        const p = packets[i++]!;
        const len = Buffer.alloc(4);
        len.writeUInt32BE(p.data.length);
        sent.update(len).update(p.data);
        socket.send(p.data, offer.port, offer.address);
        r.packetsSent++;
        r.bytesSent += p.data.length;
      }
      if (i >= packets.length) {
        finish();
        // End of the message: hang up, as a voicemail does (after a short tail for the last packets in flight).
        timer = setTimeout(hangUp, END_OF_MESSAGE_MS);
        return;
      }
      timer = setTimeout(next, Math.max(0, (packets[i]!.atUs - first) / 1000 - (performance.now() - t0)));
    };
    next();
  });
  const keyMgmt = meta.protection === 'srtp' && meta.keyMgmt ? [meta.keyMgmt] : [];
  call.answer(buildAnswer({ address: cfg.address, port, profile: want, direction: 'sendonly', keyMgmt }));
  log.info(`retrieval of message ${meta.id} (from ${meta.from}, ${meta.packets} packets, ${meta.protection}) by ${call.caller}`);
}
