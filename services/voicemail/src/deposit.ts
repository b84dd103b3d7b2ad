import { bindRtp, buildAnswer, closeQuietly, type OfferedMedia, type UasCall } from '@imslab/app-server';
import { demuxRtpRtcp } from '@imslab/rtp';
import { isMikeyKeyMgmt } from '@imslab/sdp';
import { StoreError, type VoicemailStore } from './store.ts';
import type { VoicemailConfig } from './config.ts';
import type { SipLogger } from '@imslab/app-server';

/** The a=key-mgmt:mikey value of an offer, if any (RFC 4567 sec. 3.1; media level first). */
export function mikeyOf(offer: OfferedMedia): string | null {
  return offer.keyMgmt.find(isMikeyKeyMgmt) ?? null;
}

/**
 * Deposit (TR 33.828 4.1.2): a call forwarded here for `mailbox`. The
 * media is stored exactly as it arrives. With MIKEY-TICKET the offer's
 * TRANSFER_INIT is stored with it and never resolved: the voicemail holds
 * ciphertext and a ticket it cannot open. SDES is refused, because its key
 * would be handed to the voicemail in the SDP.
 */
export async function deposit(call: UasCall, mailbox: string, offer: OfferedMedia, cfg: VoicemailConfig, store: VoicemailStore, log: SipLogger): Promise<void> {
  const mikey = mikeyOf(offer);
  let protection: 'srtp' | 'rtp';
  if (offer.profile === 'RTP/AVP') protection = 'rtp';
  else if (offer.profile === 'RTP/SAVP' && mikey) protection = 'srtp';
  else if (offer.crypto.length > 0) {
    return call.reject(488, 'Not Acceptable Here (SDES would hand the voicemail the media key: deposit end-to-end with MIKEY-TICKET, or unprotected)');
  } else return call.reject(488, `Not Acceptable Here (${offer.profile} without MIKEY-TICKET key management)`);
  const { socket, port } = await bindRtp(cfg.address, cfg.rtpPortMin, cfg.rtpPortMax);
  if (call.state !== 'offered') {
    closeQuietly(socket);
    return;
  }
  // recvonly and no key lines: the caller keys its media for deferred delivery to the intended user.
  const answer = buildAnswer({ address: cfg.address, port, profile: offer.profile, direction: 'recvonly' });
  let rec;
  try {
    rec = store.begin({ mailbox, from: call.caller, callId: call.callId, sdpOffer: call.offerSdp, sdpAnswer: answer, keyMgmt: mikey, protection });
  } catch (e) {
    closeQuietly(socket);
    if (e instanceof StoreError && e.code === 'mailbox-full') return call.reject(486, `Busy Here (mailbox ${mailbox} is full)`);
    if (e instanceof StoreError) return call.reject(507, `Insufficient Storage (${e.message.slice(0, 80)})`);
    throw e;
  }
  let warned = false;
  socket.on('message', (data) => {
    // RTCP on the RTP port (rtcp-mux, RFC 5761 sec. 4) is not part of the message.
    if (demuxRtpRtcp(data) === 'rtcp') return;
    if (!rec.append({ atUs: Math.round((performance.timeOrigin + performance.now()) * 1000), data }) && !warned && rec.stopped) {
      warned = true;
      log.warn(`message ${rec.id}: recording stopped, earlier packets kept: ${rec.stopped}`);
    }
  });
  call.onEnded((why) => {
    closeQuietly(socket);
    const meta = rec.finish();
    log.info(`message ${meta.id} for ${mailbox} from ${meta.from} (${why}): ${meta.packets} packets, ${meta.bytes} bytes, ${meta.protection}, ${meta.state}${meta.note ? ` (${meta.note})` : ''}`);
  });
  call.answer(answer);
  log.info(`deposit for ${mailbox} from ${call.caller} (call ${call.callId}, diverted from ${call.divertedFrom}), ${protection === 'srtp' ? 'SRTP kept as ciphertext, ticket stored unresolved' : 'unprotected RTP'}`);
}
