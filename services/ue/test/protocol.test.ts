import { afterEach, describe, expect, it } from 'vitest';
import {
  buildDigestAuthorization, computeDigestResponse, createRequest, createResponse, cseqOf, parseAuthParams, tagOf, toOf, topViaOf,
  type SipRequest,
} from '@imslab/sip';
import { isRequest, isResponse, SipPeer } from '@imslab/sip/test-peer';
import { parseSdp } from '@imslab/sdp';
import { Ue } from '../src/index.ts';
import { quietLogger, status, ueConfig, waitFor } from './helpers.ts';

const UE = '127.0.5.21';
const PEER = '127.0.5.22';
/** The UE's SIP port, and the peer's: it stands in for the P-CSCF the UE is configured with (ueConfig: port 5060). */
const SIP_PORT = 5060;

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(o: Record<string, unknown> = {}) {
  const peer = await SipPeer.open(PEER, SIP_PORT);
  cleanup.push(() => peer.close());
  const ue = await Ue.start(ueConfig('alice', UE, PEER, { controlPort: 8001, e2aeCapable: true, ...o }), { logger: quietLogger('alice') });
  cleanup.push(() => ue.shutdown());
  return { peer, ue };
}

const answerSdp = (port: number) => `v=0\r\no=- 1 1 IN IP4 ${PEER}\r\ns=-\r\nc=IN IP4 ${PEER}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

describe('registration against a scripted P-CSCF/registrar', () => {
  it('answers the 401 with digest on a new branch and CSeq+1, stores Service-Route and Security-Server, routes INVITEs through them', async () => {
    const { peer, ue } = await setup();
    const outcome = ue.registration.register();
    const first = (await waitFor('REGISTER', () => peer.all(isRequest('REGISTER'))[0])) as SipRequest;
    expect(first.uri).toBe('sip:ims.test');
    expect(first.headers.get('Security-Client')).toBe('sdes-srtp;mediasec');
    expect(first.headers.get('Supported')).toBe('path');
    expect(first.headers.get('Contact')).toBe(`<sip:alice@${UE}:5060;transport=udp>;expires=600`);
    expect(first.headers.get('Authorization')).toContain('username="alice@ims.test"');
    await peer.send(createResponse(first, 401, { headers: [['WWW-Authenticate', 'Digest realm="ims.test", nonce="n0nce", qop="auth", algorithm=MD5']] }), UE, SIP_PORT);
    const second = (await waitFor('second REGISTER', () => peer.all(isRequest('REGISTER'))[1])) as SipRequest;
    expect(topViaOf(second).params.get('branch')).not.toBe(topViaOf(first).params.get('branch'));
    expect(cseqOf(second).seq).toBe(cseqOf(first).seq + 1);
    expect(second.headers.get('Call-ID')).toBe(first.headers.get('Call-ID'));
    const auth = parseAuthParams(second.headers.get('Authorization')!.replace(/^Digest\s+/, ''))!;
    expect(auth.get('username')).toBe('alice@ims.test');
    expect(auth.get('response')).toBe(
      computeDigestResponse({ username: 'alice@ims.test', realm: 'ims.test', password: 'secret', nonce: 'n0nce', method: 'REGISTER', uri: 'sip:ims.test', qop: 'auth', nc: auth.get('nc'), cnonce: auth.get('cnonce') }),
    );
    void buildDigestAuthorization;
    await peer.send(
      createResponse(second, 200, {
        headers: [
          ['Contact', `<sip:alice@${UE}:5060;transport=udp>;expires=600`],
          ['Service-Route', '<sip:orig@scscf.ims.test:6060;lr>'],
          ['Security-Server', 'sdes-srtp;mediasec'],
        ],
      }),
      UE,
      SIP_PORT,
    );
    const o = await outcome;
    expect(o).toMatchObject({ ok: true, status: 200, serviceRoute: ['<sip:orig@scscf.ims.test:6060;lr>'], securityServer: 'sdes-srtp;mediasec' });
    expect(ue.registration.e2aeConfirmed).toBe(true);

    const call = ue.calls.placeCall('sip:bob@ims.test', 'e2ae');
    const invite = (await waitFor('INVITE', () => peer.all(isRequest('INVITE'))[0])) as SipRequest;
    expect(invite.headers.getAll('Route')).toEqual([`<sip:${PEER}:5060;transport=udp;lr>`, '<sip:orig@scscf.ims.test:6060;lr>']);
    expect(invite.headers.get('P-Preferred-Identity')).toBe('<sip:alice@ims.test>');
    const body = invite.body.toString();
    expect(body).toMatch(/m=audio \d+ RTP\/SAVP 0/);
    expect(body).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
    expect(body).toContain('a=3ge2ae:requested');
    expect(status(ue, call.callId)!.e2ae).toBe('requested');
    await peer.send(createResponse(invite, 486, { toTag: 'x' }), UE, SIP_PORT);
    await waitFor('failed', () => status(ue, call.callId)?.state === 'failed');
    expect(status(ue, call.callId)!.failure).toEqual({ status: 486, reason: '486 Busy Here' });
    await waitFor('ACK for 486', () => peer.all(isRequest('ACK')).length === 1);
  });

  it('reports a final 403 as a failed outcome', async () => {
    const { peer, ue } = await setup();
    const outcome = ue.registration.register();
    const first = (await waitFor('REGISTER', () => peer.all(isRequest('REGISTER'))[0])) as SipRequest;
    await peer.send(createResponse(first, 403), UE, SIP_PORT);
    expect(await outcome).toEqual({ ok: false, status: 403, reason: '403 Forbidden' });
    expect(ue.registration.registered).toBe(false);
  });
});

describe('INVITE client against a forking peer (sec. 13.2.2.4)', () => {
  it('ACKs both 2xx, BYEs the second fork, re-ACKs a retransmitted 2xx, reports P-Asserted-Identity', async () => {
    const { peer, ue } = await setup();
    const call = ue.calls.placeCall('sip:bob@ims.test', 'none');
    const invite = (await waitFor('INVITE', () => peer.all(isRequest('INVITE'))[0])) as SipRequest;
    await peer.send(createResponse(invite, 180, { toTag: 'fork1', headers: [['Contact', `<sip:bob@${PEER}:5060>`]] }), UE, SIP_PORT);
    const ok1 = createResponse(invite, 200, {
      toTag: 'fork1',
      headers: [['Contact', `<sip:bob@${PEER}:5060>`], ['P-Asserted-Identity', '"Bob" <sip:bob.real@ims.test>'], ['Record-Route', `<sip:${PEER}:5060;lr>`]],
      body: answerSdp(41000),
    });
    await peer.send(ok1, UE, SIP_PORT);
    await waitFor('confirmed', () => status(ue, call.callId)?.state === 'confirmed');
    const s = status(ue, call.callId)!;
    expect(s.remoteAssertedIdentity).toBe('sip:bob.real@ims.test');
    expect(s.remoteIdentity).toBe('sip:bob.real@ims.test');
    expect(s.remoteClaimedIdentity).toBe('sip:bob@ims.test');
    const ok2 = createResponse(invite, 200, { toTag: 'fork2', headers: [['Contact', `<sip:bob2@${PEER}:5060>`]], body: answerSdp(41002) });
    await peer.send(ok2, UE, SIP_PORT);
    const byes = await waitFor('BYE to fork 2', () => peer.all(isRequest('BYE')).length === 1 && peer.all(isRequest('BYE')));
    expect(tagOf(toOf(byes[0]!))).toBe('fork2');
    expect((byes[0] as SipRequest).uri).toBe(`sip:bob2@${PEER}:5060`);
    const acks = peer.all(isRequest('ACK')) as SipRequest[];
    expect(acks.map((a) => tagOf(toOf(a))).sort()).toEqual(['fork1', 'fork2']);
    const ack1 = acks.find((a) => tagOf(toOf(a)) === 'fork1')!;
    expect(ack1.headers.get('CSeq')).toBe('1 ACK');
    expect(ack1.headers.getAll('Route')).toEqual([`<sip:${PEER}:5060;lr>`]);
    await peer.send(ok1, UE, SIP_PORT);
    await waitFor('re-ACK', () => peer.all(isRequest('ACK')).length === 3);
    expect(status(ue, call.callId)!.state).toBe('confirmed');
    const bye2 = byes[0] as SipRequest;
    await peer.send(createResponse(bye2, 200), UE, SIP_PORT);
  });
});

describe('INVITE server 2xx reliability (sec. 13.3.1.4)', () => {
  it('retransmits the 200 with T1 doubling until the ACK arrives, then stops', async () => {
    const { peer, ue } = await setup();
    const invite = createRequest({
      method: 'INVITE', uri: `sip:alice@${UE}:5060`, via: { transport: 'UDP', host: PEER, port: 5060, rport: true },
      from: '<sip:bob@ims.test>;tag=caller', to: '<sip:alice@ims.test>', callId: 'retx-1', cseq: 7,
      contact: `<sip:bob@${PEER}:5060>`, body: answerSdp(41004), headers: [['P-Asserted-Identity', '<sip:bob@ims.test>']],
    });
    await peer.send(invite, UE, SIP_PORT);
    await waitFor('three 200s', () => peer.all(isResponse(200, 'INVITE')).length >= 3, 5000);
    const t = status(ue, 'retx-1')!;
    expect(t.state).toBe('confirmed');
    expect(t.remoteAssertedIdentity).toBe('sip:bob@ims.test');
    const ok = peer.all(isResponse(200, 'INVITE'))[0]!;
    const ack = createRequest({
      method: 'ACK', uri: `sip:alice@${UE}:5060`, via: { transport: 'UDP', host: PEER, port: 5060 },
      from: '<sip:bob@ims.test>;tag=caller', to: ok.headers.get('To')!, callId: 'retx-1', cseq: 7,
    });
    await peer.send(ack, UE, SIP_PORT);
    await new Promise((r) => setTimeout(r, 100));
    const n = peer.all(isResponse(200, 'INVITE')).length;
    await new Promise((r) => setTimeout(r, 2200));
    expect(peer.all(isResponse(200, 'INVITE')).length).toBe(n);
    expect(peer.all(isResponse(100, 'INVITE')).length).toBe(1);
    expect(peer.all(isResponse(180, 'INVITE')).length).toBe(1);
  });

  it('answers an offer of audio, video and MSRP with every stream in the offer\'s order, the two it does not take with port 0 (RFC 3264 sec. 6); refuses an offer whose first stream is not audio', async () => {
    const { peer, ue } = await setup();
    const invite = (callId: string, body: string) => createRequest({
      method: 'INVITE', uri: `sip:alice@${UE}:5060`, via: { transport: 'UDP', host: PEER, port: 5060, rport: true },
      from: '<sip:bob@ims.test>;tag=caller', to: '<sip:alice@ims.test>', callId, cseq: 1, contact: `<sip:bob@${PEER}:5060>`, body,
    });
    const more = 'm=video 41010 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=message 41012 TCP/MSRP *\r\na=path:msrp://127.0.0.1:41012/x;tcp\r\n';
    await peer.send(invite('m-lines-1', answerSdp(41008) + more), UE, SIP_PORT);
    const ok = await waitFor('200', () => peer.all(isResponse(200, 'INVITE'))[0]);
    const media = parseSdp(ok.body.toString('utf8')).media;
    const lines = (sdp: string) => parseSdp(sdp).media.map((m) => `${m.type} ${m.port === 0 ? 0 : 'open'} ${m.protocol} ${m.formats.join(',')}`);
    expect(lines(ok.body.toString('utf8'))).toEqual(['audio open RTP/AVP 0', 'video 0 RTP/AVP 96', 'message 0 TCP/MSRP *']);
    // Our later offer (a re-INVITE switching to SRTP) keeps the rejected streams in place (RFC 3264 sec. 8).
    await peer.send(createRequest({
      method: 'ACK', uri: `sip:alice@${UE}:5060`, via: { transport: 'UDP', host: PEER, port: 5060 },
      from: '<sip:bob@ims.test>;tag=caller', to: ok.headers.get('To')!, callId: 'm-lines-1', cseq: 1,
    }), UE, SIP_PORT);
    await waitFor('confirmed', () => status(ue, 'm-lines-1')?.state === 'confirmed');
    const secured = ue.calls.get('m-lines-1')!.updater.secure('sdes-e2e');
    const reinvite = (await waitFor('re-INVITE', () => peer.all(isRequest('INVITE'))[0])) as SipRequest;
    expect(lines(reinvite.body.toString('utf8'))).toEqual(['audio open RTP/SAVP 0', 'video 0 RTP/AVP 96', 'message 0 TCP/MSRP *']);
    await peer.send(createResponse(reinvite, 488), UE, SIP_PORT);
    await secured;
    await peer.send(invite('m-lines-2', answerSdp(41014).replace('m=audio', more + 'm=audio')), UE, SIP_PORT);
    const refused = await waitFor('488', () => peer.all(isResponse(488, 'INVITE'))[0]);
    expect(refused.headers.get('Warning')).toMatch(/first m= section is video, not the audio stream/);
    // A stream our parser reads but our builder would not write back (protocol RTP_AVP): a 488 saying so, not an INVITE left unanswered.
    await peer.send(invite('m-lines-3', answerSdp(41016) + 'm=video 41018 RTP_AVP 96\r\n'), UE, SIP_PORT);
    const odd = await waitFor('second 488', () => peer.all(isResponse(488, 'INVITE'))[1]);
    expect(odd.headers.get('Call-ID')).toBe('m-lines-3');
    expect(odd.headers.get('Warning')).toMatch(/a stream after the audio cannot be answered with port 0 \(RFC 3264 sec\. 6\)/);
  });

  it('answers unknown methods 501, known unsupported ones 405, BYE without dialog 481', async () => {
    const { peer } = await setup();
    const req = (method: string, callId: string) => createRequest({
      method, uri: `sip:alice@${UE}:5060`, via: { transport: 'UDP', host: PEER, port: 5060, rport: true },
      from: '<sip:bob@ims.test>;tag=x', to: '<sip:alice@ims.test>', callId, cseq: 1,
    });
    await peer.send(req('FOO', 'm1'), UE, SIP_PORT);
    // MESSAGE is pager mode now (messaging.test.ts); SUBSCRIBE stays known but unsupported.
    await peer.send(req('SUBSCRIBE', 'm2'), UE, SIP_PORT);
    const bye = req('BYE', 'm3');
    bye.headers.set('To', '<sip:alice@ims.test>;tag=nope');
    await peer.send(bye, UE, SIP_PORT);
    await waitFor('501', () => peer.all(isResponse(501)).length === 1);
    await waitFor('405', () => peer.all(isResponse(405)).length === 1);
    await waitFor('481', () => peer.all(isResponse(481)).length === 1);
  });
});
